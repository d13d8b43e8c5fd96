"""Tiny datasets for the harness tests: the synthetic generator's LaSOT layout at 64x48, 30 frames a sequence."""
import shutil

import pytest

from globaltrack.benchmarks import load_sequences


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    from globaltrack.benchmarks.synthetic import generate

    return generate(tmp_path_factory.mktemp("tiny") / "synthetic", seed=3, split="test", sequences=4, frames=30,
                    size=(64, 48))


@pytest.fixture
def tiny_copy(tiny_root, tmp_path):
    """A private copy of the tiny dataset, for tests that damage it."""
    return shutil.copytree(tiny_root, tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_sequences(tiny_root):
    return load_sequences("synthetic", tiny_root, split="test")
