"""Check a benchmark-server submission (a zip or a folder) before it is uploaded.

Formats (shared/spec/metrics.md):
- TrackingNet (§4, TrackingNet-devkit ``metrics.py``): a flat zip of ``<video>.txt``, one ``x,y,w,h`` row per frame,
  commas, no header. The devkit matches each GT file to the *unique* member whose path contains ``<video>.txt``; a
  missing or ambiguous match scores as an all-zero prediction, a short file as NaN (failure) rows.
- GOT-10k test (§1.3, got10k ``experiments/got10k.py``): ``<seq>/<seq>_001.txt`` (``_002``, ``_003`` for repeated
  runs) with comma-separated rows (got10k #21: space-separated files fail without a message) and ``<seq>_time.txt``
  (one comma-separated column per run, one row per frame); the sequence folders at the zip root (got10k #3).
- OxUvA (§5.1, oxuva ``io_pred.py``; §2.4 pytracking): ``<video>_<object>.csv`` per task, no header, columns
  ``video,object,frame_num,present,score,xmin,xmax,ymin,ymax`` normalised to [0, 1], the init frame omitted; the CSVs
  at the zip root or under one folder.
- LaSOT (§3, ``calc_seq_err_robust.m`` reads ``<seq>.txt`` with dlmread) and TLP: ``<seq>.txt`` per sequence,
  ``x,y,w,h`` rows, one per frame; at the root or under one folder (the LaSOT toolkit's
  ``<tracker>_tracking_result/``).

Every problem is one line naming the sequence, the file and the row.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from globaltrack.errors import UserError

MAX_ROW_PROBLEMS = 10   # per file; the rest are summarised in one line

OXUVA_COLUMNS = ("video", "object", "frame_num", "present", "score", "xmin", "xmax", "ymin", "ymax")
OXUVA_TRUE = {"t", "true", "y", "yes", "1"}     # oxuva io_pred._parse_bool
OXUVA_FALSE = {"f", "false", "n", "no", "0"}


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


@dataclass(frozen=True)
class SubmissionFormat:
    name: str
    split: str                     # the split the benchmark server scores
    official_count: int | None     # sequences in that split, checked when no dataset is given
    layout: str                    # "flat" | "folder_ok" | "got10k" | "oxuva"
    box_format: str = "%.4f"
    aliases: tuple[str, ...] = field(default=())


FORMATS = {f.name: f for f in (
    SubmissionFormat("trackingnet", "test", 511, "flat", "%.2f"),
    SubmissionFormat("got10k", "test", 180, "got10k", "%.3f", aliases=("got-10k",)),
    SubmissionFormat("oxuva", "test", 166, "oxuva", "%.6f"),
    SubmissionFormat("lasot", "test", 280, "folder_ok", "%.4f"),
    SubmissionFormat("tlp", "test", 50, "folder_ok", "%.4f"),
    # The synthetic benchmark is laid out like LaSOT; exported as LaSOT would be (no official count).
    SubmissionFormat("synthetic", "test", None, "folder_ok", "%.4f"),
)}


def get_format(benchmark: str) -> SubmissionFormat:
    key = benchmark.lower()
    for f in FORMATS.values():
        if key == f.name or key in f.aliases:
            return f
    raise UserError(f"no submission format for benchmark '{benchmark}'; known: {', '.join(FORMATS)}")


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

    split = split or get_format(benchmark).split
    return expected_from_sequences(load_sequences(benchmark, root, split=split, annotations_only=True))


# -- checks -------------------------------------------------------------------------------------------------------
class _Problems:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, seq: str, where: str, msg: str) -> None:
        self.lines.append(f"{seq}: {where}: {msg}" if where else f"{seq}: {msg}")


def _text(data: bytes, seq: str, member: str, problems: _Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add(seq, member, "not UTF-8 text")
        return None


def _check_rows(seq: str, member: str, text: str, ncols: int, parse_row, problems: _Problems) -> int:
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


def _parse_box(fields: list[str], row: int) -> list[str]:
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


def _check_box_file(seq: str, member: str, data: bytes, exp: ExpectedSequence | None, problems: _Problems) -> None:
    text = _text(data, seq, member, problems)
    if text is None:
        return
    rows = _check_rows(seq, member, text, 4, _parse_box, problems)
    if exp is not None and exp.frames is not None and rows != exp.frames:
        problems.add(seq, member, f"{rows} rows, expected {exp.frames} (one per frame)")


def _check_names(found: set[str], expected: dict[str, ExpectedSequence] | None, fmt: SubmissionFormat,
                 problems: _Problems) -> None:
    if expected is None:
        if fmt.official_count is not None and len(found) != fmt.official_count:
            problems.add("submission", "", f"{len(found)} sequences; the official {fmt.split} split has "
                                           f"{fmt.official_count}")
        return
    for name in sorted(set(expected) - found):
        problems.add(name, "", "missing from the submission")
    for name in sorted(found - set(expected)):
        problems.add(name, "", f"not a sequence of the {fmt.name} {fmt.split} split")


def _split_root(members: list[str], allow_one_folder: bool, problems: _Problems, what: str) -> dict[str, str]:
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


def _validate_boxes(files, fmt, expected, problems):
    rel = _split_root(sorted(files), fmt.layout == "folder_ok", problems, "the <sequence>.txt files")
    found: dict[str, str] = {}
    for member, r in rel.items():
        if "/" in r:
            problems.add(PurePosixPath(r).stem, member, "nested folder; expected <sequence>.txt files only")
            continue
        if not r.endswith(".txt"):
            problems.add(PurePosixPath(r).stem, member, "unexpected file (expected <sequence>.txt)")
            continue
        if r[:-4] in found:
            problems.add(r[:-4], member, f"duplicate of {found[r[:-4]]}")
            continue
        found[r[:-4]] = member
    _check_names(set(found), expected, fmt, problems)
    if fmt.name == "trackingnet":
        # The devkit pairs a GT file with the unique member whose path contains "<video>.txt".
        for name in sorted(found):
            hits = [m for m in files if f"{name}.txt" in m]
            if len(hits) > 1:
                problems.add(name, "", f"ambiguous: {len(hits)} files contain '{name}.txt' ({', '.join(hits)}); "
                                       "the devkit would score it as missing")
    for name, member in sorted(found.items()):
        _check_box_file(name, member, files[member], (expected or {}).get(name), problems)


_GOT_BOX = re.compile(r"^(?P<seq>[^/]+)/(?P=seq)_(?P<run>\d{3})\.txt$")
_GOT_TIME = re.compile(r"^(?P<seq>[^/]+)/(?P=seq)_time\.txt$")


def _validate_got10k(files, fmt, expected, problems):
    members = sorted(files)
    if members and all(m.count("/") >= 2 for m in members):
        top = {m.split("/", 1)[0] for m in members}
        problems.add("submission", "zip root", f"the sequence folders are inside {', '.join(sorted(top))}/; zip "
                                               "the contents of the tracker folder, not the folder (got10k #3)")
        if len(top) == 1:
            prefix = top.pop() + "/"
            files = {m[len(prefix):]: v for m, v in files.items()}
            members = sorted(files)
    runs: dict[str, dict[int, str]] = {}
    times: dict[str, str] = {}
    for m in members:
        if (mt := _GOT_BOX.match(m)):
            runs.setdefault(mt["seq"], {})[int(mt["run"])] = m
        elif (mt := _GOT_TIME.match(m)):
            times[mt["seq"]] = m
        else:
            seq = m.split("/", 1)[0] if "/" in m else PurePosixPath(m).stem
            problems.add(seq, m, "unexpected file (expected <seq>/<seq>_001.txt and <seq>/<seq>_time.txt)")
    _check_names(set(runs) | set(times), expected, fmt, problems)
    counts = {len(r) for r in runs.values()}
    if len(counts) > 1:
        problems.add("submission", "", f"sequences have different numbers of runs ({sorted(counts)})")
    for seq in sorted(set(runs) | set(times)):
        exp = (expected or {}).get(seq)
        seq_runs = runs.get(seq, {})
        if not seq_runs:
            problems.add(seq, "", f"no result file {seq}/{seq}_001.txt")
        elif sorted(seq_runs) != list(range(1, len(seq_runs) + 1)):
            problems.add(seq, "", f"runs must be numbered _001.._{len(seq_runs):03d}, found "
                                  f"{', '.join(f'_{r:03d}' for r in sorted(seq_runs))}")
        n_rows = set()
        for r in sorted(seq_runs):
            text = _text(files[seq_runs[r]], seq, seq_runs[r], problems)
            if text is None:
                continue
            n = _check_rows(seq, seq_runs[r], text, 4, _parse_box, problems)
            n_rows.add(n)
            if exp is not None and exp.frames is not None and n != exp.frames:
                problems.add(seq, seq_runs[r], f"{n} rows, expected {exp.frames} (one per frame)")
        if seq not in times:
            problems.add(seq, "", f"no time file {seq}/{seq}_time.txt")
            continue
        member = times[seq]
        text = _text(files[member], seq, member, problems)
        if text is None:
            continue
        ncols = max(1, len(seq_runs))

        def parse_time(fields, row):
            try:
                vals = [float(f) for f in fields]
            except ValueError:
                return ["non-numeric time"]
            if any(not math.isfinite(v) for v in vals):
                return ["NaN or infinite time (no per-frame time was recorded)"]
            return ["negative time"] if any(v < 0 for v in vals) else []

        first = text.splitlines()[0] if text.strip() else ""
        cols = len(first.split(",")) if first else ncols
        if cols not in (1, ncols):
            problems.add(seq, member, f"{cols} columns; expected one per run ({ncols})")
            ncols = cols
        elif cols == 1:
            ncols = 1
        n = _check_rows(seq, member, text, ncols, parse_time, problems)
        want = exp.frames if exp is not None and exp.frames is not None else (n_rows.pop() if len(n_rows) == 1
                                                                                else None)
        if want is not None and n != want:
            problems.add(seq, member, f"{n} rows, expected {want} (one time per frame)")


def _validate_oxuva(files, fmt, expected, problems):
    if expected is not None:   # adapters may name a task differently; the file is <video>_<object>.csv
        expected = {e.submission_name: e for e in expected.values()}
    rel = _split_root(sorted(files), True, problems, "the <video>_<object>.csv files")
    found: dict[str, str] = {}
    for member, r in rel.items():
        if "/" in r or not r.endswith(".csv"):
            problems.add(PurePosixPath(r).stem, member, "unexpected file (expected <video>_<object>.csv)")
            continue
        if r[:-4] in found:
            problems.add(r[:-4], member, f"duplicate of {found[r[:-4]]}")
            continue
        found[r[:-4]] = member
    _check_names(set(found), expected, fmt, problems)
    for name, member in sorted(found.items()):
        exp = (expected or {}).get(name)
        text = _text(files[member], name, member, problems)
        if text is None:
            continue
        first = text.splitlines()[0].split(",") if text.strip() else []
        if first and first[0].strip().lower() in ("video", "video_id"):
            problems.add(name, member, "row 1: header row; write none (the README's video_id/object_id header "
                                       "makes the official reader fail)")
            text = "\n".join(text.splitlines()[1:])
        frames_seen: list[int] = []

        def parse(fields, row, exp=exp, frames_seen=frames_seen):
            out = []
            if exp is not None and exp.video is not None and fields[0] != str(exp.video):
                out.append(f"video '{fields[0]}', expected '{exp.video}'")
            if exp is not None and exp.object is not None and fields[1] != str(exp.object):
                out.append(f"object '{fields[1]}', expected '{exp.object}'")
            try:
                frame = int(fields[2])
            except ValueError:
                return out + [f"frame_num '{fields[2]}' is not an integer"]
            if frames_seen and frame <= frames_seen[-1]:
                out.append(f"frame_num {frame} not after the previous row's {frames_seen[-1]}")
            frames_seen.append(frame)
            if exp is not None and exp.init_frame is not None and frame <= int(exp.init_frame):
                out.append(f"frame_num {frame}: the init frame ({exp.init_frame}) and earlier must be omitted")
            if exp is not None and exp.last_frame is not None and frame > int(exp.last_frame):
                out.append(f"frame_num {frame} after the task's last frame {exp.last_frame}")
            flag = fields[3].strip().lower()
            if flag not in OXUVA_TRUE | OXUVA_FALSE:
                return out + [f"present '{fields[3]}' is not true/false"]
            try:
                score, xmin, xmax, ymin, ymax = (float(f) for f in fields[4:])
            except ValueError:
                return out + ["non-numeric score or coordinate"]
            if flag in OXUVA_TRUE:
                if math.isnan(score):
                    out.append("NaN score on a present prediction (the post-hoc curve raises)")
                coords = (xmin, xmax, ymin, ymax)
                if any(not math.isfinite(v) for v in coords):
                    out.append("NaN or infinite coordinate")
                elif any(v < 0 or v > 1 for v in coords):
                    out.append("coordinate outside [0, 1] (normalise by the image size and clip)")
                elif xmax < xmin or ymax < ymin:
                    out.append(f"negative size (xmin {fields[5]} > xmax {fields[6]} or ymin > ymax)")
            return out

        rows = _check_rows(name, member, text, len(OXUVA_COLUMNS), parse, problems)
        if exp is not None and exp.frames is not None and rows != exp.frames - 1:
            problems.add(name, member, f"{rows} rows, expected {exp.frames - 1} (every frame after the init frame)")


def validate_files(files: dict[str, bytes], benchmark: str,
                   expected: dict[str, ExpectedSequence] | None = None) -> list[str]:
    """Problems of a submission held in memory (``{member path: bytes}``); empty when it is fine."""
    fmt = get_format(benchmark)
    problems = _Problems()
    if not files:
        problems.add("submission", "", "empty (no files)")
        return problems.lines
    if fmt.layout == "got10k":
        _validate_got10k(files, fmt, expected, problems)
    elif fmt.layout == "oxuva":
        _validate_oxuva(files, fmt, expected, problems)
    else:
        _validate_boxes(files, fmt, expected, problems)
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
