"""What the submission servers share: the expected sequences, problem lines, row checks, the base class."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

MAX_ROW_PROBLEMS = 10   # per file; the rest are summarised in one line


@dataclass
class ExpectedSequence:
    """What the dataset says a submission must hold for one sequence (or OxUvA task)."""

    name: str
    frames: int | None = None                 # rows required (None: unknown, not checked)
    frame_numbers: list[int] | None = None    # OxUvA: frame numbers of the sequence's images, init frame first
    video: str | None = None                  # OxUvA
    object: str | None = None
    init_frame: int | None = None
    last_frame: int | None = None
    image_size: tuple[int, int] | None = None  # (width, height), OxUvA normalisation

    @property
    def submission_name(self) -> str:
        """The file stem the server expects: OxUvA's ``<video>_<object>``, else the sequence name."""
        if self.video is not None and self.object is not None:
            return f"{self.video}_{self.object}"
        return self.name


class Problems:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, seq: str, where: str, msg: str) -> None:
        self.lines.append(f"{seq}: {where}: {msg}" if where else f"{seq}: {msg}")


def text_of(data: bytes, seq: str, member: str, problems: Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add(seq, member, "not UTF-8 text")
        return None


def check_rows(seq: str, member: str, text: str, ncols: int, parse_row, problems: Problems) -> int:
    """Run ``parse_row(fields, row)`` (returning problem strings) on every line; return the number of rows."""
    rows = 0
    local: list[str] = []
    for i, line in enumerate(text.splitlines(), 1):
        rows += 1
        if not line.strip():
            local.append(f"row {i}: empty line")
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != ncols:
            if len(fields) == 1 and len(line.split()) == ncols:
                local.append(f"row {i}: values separated by whitespace; the server needs commas")
            else:
                local.append(f"row {i}: expected {ncols} comma-separated values, found {len(fields)}")
            continue
        local += [f"row {i}: {m}" for m in parse_row(fields, i)]
    for m in local[:MAX_ROW_PROBLEMS]:
        problems.add(seq, member, m)
    if len(local) > MAX_ROW_PROBLEMS:
        problems.add(seq, member, f"... and {len(local) - MAX_ROW_PROBLEMS} more row problems")
    return rows


def parse_box(fields: list[str], row: int) -> list[str]:
    try:
        x, y, w, h = (float(f) for f in fields)
    except ValueError:
        if row == 1:
            return [f"non-numeric value in '{','.join(fields)}' (a header row? there must be none)"]
        return [f"non-numeric value in '{','.join(fields)}'"]
    out = []
    if any(math.isnan(v) for v in (x, y, w, h)):
        out.append("NaN value")
    elif any(math.isinf(v) for v in (x, y, w, h)):
        out.append("infinite value")
    elif w < 0 or h < 0:
        out.append(f"negative size (w={fields[2]}, h={fields[3]})")
    return out


def check_box_file(seq: str, member: str, data: bytes, exp: ExpectedSequence | None, problems: Problems) -> None:
    text = text_of(data, seq, member, problems)
    if text is None:
        return
    rows = check_rows(seq, member, text, 4, parse_box, problems)
    if exp is not None and exp.frames is not None and rows != exp.frames:
        problems.add(seq, member, f"{rows} rows, expected {exp.frames} (one per frame)")


def split_root(members: list[str], allow_one_folder: bool, problems: Problems, what: str) -> dict[str, str]:
    """Map member -> path relative to the submission root (the zip root or its single top folder)."""
    tops = {m.split("/", 1)[0] for m in members if "/" in m}
    if allow_one_folder and members and len(tops) == 1 and all("/" in m for m in members):
        top = tops.pop() + "/"
        return {m: m[len(top):] for m in members}
    out = {}
    for m in members:
        if "/" in m:
            problems.add(m.split("/")[-1].rsplit(".", 1)[0], m,
                         f"inside a folder; {what} must be at the zip root"
                         + (" or all under one folder" if allow_one_folder else ""))
        # Checked under its file name all the same, so one run reports every problem.
        out[m] = m.rsplit("/", 1)[-1]
    return out


def box_rows(boxes: np.ndarray, fmt: str) -> bytes:
    return "".join(",".join(fmt % v for v in row) + "\n" for row in np.asarray(boxes, float).reshape(-1, 4)).encode()


def where(root, member: str):
    """What an error names: the member, or the file under ``root`` when the files were read from a folder."""
    return member if root is None else Path(root) / member


class SubmissionServer:
    """The contract. ``name``, ``split`` (what the server scores) and ``official_count`` come from
    `register_server`; ``box_format`` is the printf format of a box value; ``zip_only``: the server takes zips."""

    name = ""
    split = "test"
    official_count: int | None = None
    box_format = "%.4f"
    zip_only = True
    repeated_runs = False          # several trackers = repeated runs of one submission (GOT-10k)

    def build(self, store, benchmark: str, runs: list[str], expected: dict[str, ExpectedSequence]) -> dict[str, bytes]:
        raise NotImplementedError

    def validate(self, files: dict[str, bytes], expected: dict[str, ExpectedSequence] | None,
                 problems: Problems) -> None:
        raise NotImplementedError

    def read(self, files: dict[str, bytes], root=None) -> dict:
        """``{sequence: RawResult}`` from a submission's files (the inverse of `build`), in member order; errors
        name ``root / member`` (``root``: the folder the files were read from, for `globaltrack import`)."""
        raise NotImplementedError

    def check_names(self, found: set[str], expected: dict[str, ExpectedSequence] | None, problems: Problems) -> None:
        if expected is None:
            if self.official_count is not None and len(found) != self.official_count:
                problems.add("submission", "", f"{len(found)} sequences; the official {self.split} split has "
                                               f"{self.official_count}")
            return
        for name in sorted(set(expected) - found):
            problems.add(name, "", "missing from the submission")
        for name in sorted(found - set(expected)):
            problems.add(name, "", f"not a sequence of the {self.name} {self.split} split")


def flat_members(files, problems, suffix: str, pattern: str, one_folder_ok: bool) -> dict[str, str]:
    """``{name: member}`` of a submission made of one ``<name><suffix>`` file per sequence (at the zip root, or under
    one folder where ``one_folder_ok``); a nested, foreign or duplicated file becomes a problem naming it."""
    rel = split_root(sorted(files), one_folder_ok, problems, f"the {pattern} files")
    found: dict[str, str] = {}
    for member, r in rel.items():
        if "/" in r:
            problems.add(PurePosixPath(r).stem, member, f"nested folder; expected {pattern} files only")
            continue
        if not r.endswith(suffix):
            problems.add(PurePosixPath(r).stem, member, f"unexpected file (expected {pattern})")
            continue
        name = r[: -len(suffix)]
        if name in found:
            problems.add(name, member, f"duplicate of {found[name]}")
            continue
        found[name] = member
    return found


class BoxFileServer(SubmissionServer):
    """``<sequence>.txt`` per sequence, ``x,y,w,h`` rows (LaSOT, TLP, TrackingNet): at the zip root, or under one
    folder where ``one_folder_ok``."""

    one_folder_ok = True
    zip_only = False

    def build(self, store, benchmark, runs, expected):
        from globaltrack.results.store import read_if_present

        files = {}
        for name in expected:
            res = read_if_present(store, benchmark, runs[0], name)
            if res is not None:
                files[f"{name}.txt"] = box_rows(res.boxes, self.box_format)
        return files

    def members(self, files, problems) -> dict[str, str]:
        """``{sequence: member}`` of the well-placed ``<sequence>.txt`` files; the others become problems."""
        return flat_members(files, problems, ".txt", "<sequence>.txt", self.one_folder_ok)

    def validate(self, files, expected, problems):
        found = self.members(files, problems)
        self.check_names(set(found), expected, problems)
        for name, member in sorted(found.items()):
            check_box_file(name, member, files[member], (expected or {}).get(name), problems)

    def read(self, files, root=None):
        from globaltrack.results.formats import RawResult
        from globaltrack.textio import parse_box_bytes

        # ``<seq>_time.txt`` / ``<seq>_scores.txt`` beside the boxes (pysot, pytracking folders) are not sequences
        return {name: RawResult(name, parse_box_bytes(files[member], where(root, member)))
                for name, member in self.members(files, Problems()).items()
                if not name.endswith(("_time", "_scores"))}

