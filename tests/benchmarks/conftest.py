"""Helpers for the adapter tests: fixtures are built in tmp_path from the real files in ../shared (symlinks or
copies, never committed) or, for datasets not in shared, generated here."""
import io
import os
import warnings
from pathlib import Path

import pytest


def _jpeg(size=(16, 12)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def write_images():
    """``write_images(folder, names, size=None)``: real tiny JPEGs when ``size`` is given, else empty files (the
    adapters only list and count frames; they never decode them while loading)."""

    def make(folder, names, size=None):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = _jpeg(size) if size else b""
        for n in names:
            (folder / n).write_bytes(data)
        return folder

    return make


@pytest.fixture
def link():
    """``link(src, dst)``: symlink a shared file or folder into a fixture tree."""

    def make(src, dst):
        dst = Path(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, dst)
        return dst

    return make


@pytest.fixture
def quiet_missing():
    """Fixtures hold a few sequences of a benchmark: silence the 'official sequences missing' warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*official sequences are missing.*")
        yield
