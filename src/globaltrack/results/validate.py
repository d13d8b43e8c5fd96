"""Check a benchmark-server submission (a zip or a folder) before it is uploaded.

Each server's format and its checks live in its own module under `globaltrack.results.servers` (TrackingNet,
GOT-10k, OxUvA, LaSOT, TLP, synthetic); this module reads a submission, works out what the dataset expects, and asks
the server. Every problem is one line naming the sequence, the file and the row.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

from globaltrack.errors import UserError
from globaltrack.results.servers import get_server
from globaltrack.results.servers._common import ExpectedSequence, Problems

__all__ = ["ExpectedSequence", "read_submission", "expected_from_sequences", "expected_sequences",
           "validate_files", "validate_submission", "zip_bytes"]


# -- reading a submission -----------------------------------------------------------------------------------------
def read_submission(path: str | Path) -> dict[str, bytes]:
    """Members of a zip (or files under a folder) by POSIX relative path; macOS metadata and folders skipped."""
    path = Path(path)
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                files[p.relative_to(path).as_posix()] = p.read_bytes()
    elif path.is_file():
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    files[info.filename] = zf.read(info)
        except zipfile.BadZipFile:
            raise UserError("not a zip file", path) from None
    else:
        raise UserError("no such file or folder", path)
    return {k: v for k, v in files.items()
            if not k.startswith("__MACOSX/") and PurePosixPath(k).name not in (".DS_Store", "Thumbs.db")}


# -- the dataset side ---------------------------------------------------------------------------------------------
def _int_stem(path: str) -> int | None:
    m = re.search(r"(\d+)$", PurePosixPath(str(path)).stem)
    return int(m.group(1)) if m else None


def _image_size(meta: dict, frames: list[str]) -> tuple[int, int] | None:
    for key in ("image_size", "size", "resolution"):
        v = meta.get(key)
        if isinstance(v, (tuple, list)) and len(v) == 2:
            return int(v[0]), int(v[1])
    if meta.get("width") and meta.get("height"):
        return int(meta["width"]), int(meta["height"])
    if frames:
        try:
            from PIL import Image

            with Image.open(frames[0]) as im:   # reads the header only
                return im.size
        except OSError:
            return None
    return None


def expected_from_sequences(sequences) -> dict[str, ExpectedSequence]:
    """From `Sequence` objects (a benchmark adapter's output): frame counts and the OxUvA task fields."""
    out = {}
    for s in sequences:
        meta = s.metadata or {}
        numbers = meta.get("frame_numbers") or meta.get("frame_nums")
        if numbers is None and s.frames:
            parsed = [_int_stem(f) for f in s.frames]
            numbers = parsed if all(n is not None for n in parsed) else None
        # rows: one per frame; without images, one per annotation row where the annotation is per frame (a first-
        # box-only annotation, TrackingNet TEST, says nothing of the length)
        rows = len(s.frames) if s.frames else (len(s.ground_truth) if len(s.ground_truth) > 1 else None)
        out[s.name] = ExpectedSequence(
            name=s.name, frames=rows,
            frame_numbers=list(numbers) if numbers is not None else None,
            video=meta.get("video") or meta.get("video_id"), object=meta.get("object") or meta.get("object_id"),
            init_frame=meta.get("init_frame"), last_frame=meta.get("last_frame"),
            image_size=_image_size(meta, s.frames))
    return out


def expected_sequences(benchmark: str, root: str | Path, split: str | None = None) -> dict[str, ExpectedSequence]:
    """The sequences of the split the server scores, from the benchmark adapter (annotations suffice)."""
    from globaltrack.benchmarks import load_sequences

    split = split or get_server(benchmark).split
    return expected_from_sequences(load_sequences(benchmark, root, split=split, annotations_only=True))


def validate_files(files: dict[str, bytes], benchmark: str,
                   expected: dict[str, ExpectedSequence] | None = None) -> list[str]:
    """Problems of a submission held in memory (``{member path: bytes}``); empty when it is fine."""
    server = get_server(benchmark)
    problems = Problems()
    if not files:
        problems.add("submission", "", "empty (no files)")
        return problems.lines
    server.validate(files, expected, problems)
    return problems.lines


def validate_submission(path: str | Path, benchmark: str, *, root: str | Path | None = None,
                        split: str | None = None, sequences=None) -> list[str]:
    """Problems of the submission at ``path`` (zip or folder). With ``root`` (the dataset) or ``sequences``
    (`Sequence` objects) the sequence names and row counts are checked against the dataset; without, only the
    structure, the official sequence count and the values."""
    files = read_submission(path)
    if sequences is not None:
        expected = expected_from_sequences(sequences)
    elif root is not None:
        expected = expected_sequences(benchmark, root, split)
    else:
        expected = None
    return validate_files(files, benchmark, expected)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A deterministic zip (sorted members, fixed timestamps) of ``files``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return buf.getvalue()
