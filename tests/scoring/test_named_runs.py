"""Named runs: option variants of one tracker never overwrite each other, and `evaluate` refuses a folder whose
sequences were made under different settings unless told to mix (one line saying which)."""
from __future__ import annotations

import pytest

from globaltrack.harness.cli import main


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    from globaltrack.benchmarks.synthetic import generate

    return generate(tmp_path_factory.mktemp("named") / "data", seed=3, sequences=3, frames=30, size=(64, 48))


def _names(root):
    from globaltrack.benchmarks import load_sequences

    return [s.name for s in load_sequences("synthetic", root)]


def test_variants_are_named_and_mixed_folders_refused(root, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLOBALTRACK_TEST_TRACKERS", "1")
    res = str(tmp_path / "res")
    common = ["-b", "synthetic", "--root", str(root), "--results", res]
    assert main(["run", *common, "-t", "oracle:noise=0.1", "-q"]) == 0
    # the same tracker with other options would overwrite the first run: refused, one line naming both
    assert main(["run", *common, "-t", "oracle:noise=0.2", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "noise=0.1" in err and "noise=0.2" in err and "name=" in err
    assert main(["run", *common, "-t", "oracle:noise=0.2,name=oracle-0.2", "-q"]) == 0
    assert main(["run", *common, "-t", "oracle", "--opt", "noise=0.3", "--name", "o3", "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "res" / "synthetic").iterdir()) == ["o3", "oracle", "oracle-0.2"]
    capsys.readouterr()
    assert main(["evaluate", *common]) == 0
    table = capsys.readouterr().out
    assert all(n in table for n in ("oracle~", "oracle-0.2~", "o3~"))
    # a --sequences rerun with other options, forced into the folder: evaluate refuses it, naming both settings
    first = _names(root)[0]
    assert main(["run", *common, "-t", "oracle:noise=0.4", "--sequences", first, "--force", "-q"]) == 0
    capsys.readouterr()
    assert main(["evaluate", *common, "-t", "oracle"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "2 by oracle (noise=0.1" in err and f"1 by oracle (noise=0.4; version" in err and first in err
    assert main(["evaluate", *common, "-t", "oracle", "--mixed", "--json", str(tmp_path / "m.json")]) == 0
    assert main(["report", *common, "-t", "oracle", "--reports", str(tmp_path / "rep")]) == 2
    # the summary cached under --mixed does not answer a call without it
    capsys.readouterr()
    assert main(["evaluate", *common, "-t", "oracle"]) == 2
    assert "mixes sequences" in capsys.readouterr().err
