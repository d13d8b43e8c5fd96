"""Shared pieces of the benchmark adapters: flag and attribute readers, frame listing, and the adapter base class.

Numeric tables (``x,y,w,h`` rows, TLP's six columns) are read with `globaltrack.textio`; 0/1 flag files are decoded
straight from their bytes with numpy, and anything unusual goes through the same careful parser, which names the file
and the 1-based line.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from globaltrack.benchmarks import Benchmark
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence
# The one parser of numeric text files is `globaltrack.textio` (results/ reads result files with it too); adapters
# import these names from here.
from globaltrack.textio import parse_table, read_table, read_tables  # noqa: F401

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")



def read_flags(path: str | Path, *, what: str = "flag", expected: int | None = None) -> np.ndarray:
    """Read 0/1 flags written one per line or as one comma-separated line (LaSOT ``full_occlusion.txt``).

    Returns a bool array; values other than 0 and 1 raise, as does a length other than ``expected``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnnotationError(f"{what} file not found", path) from None
    if not data.strip():
        raise AnnotationError(f"empty {what} file", path)
    flags = _flags_fast(data)
    if flags is not None:
        if expected is None or flags.size == expected:
            return flags
    first_line = data.split(b"\n", 1)[0]
    one_line = data.strip().count(b"\n") == 0 and (b"," in first_line or b" " in first_line.strip())
    table = parse_table(data, path, None if one_line else 1, what=what)
    flags = table.reshape(-1)
    bad = np.flatnonzero((flags != 0) & (flags != 1))
    if bad.size:
        line = 1 if one_line else int(bad[0]) + 1
        raise AnnotationError(f"{what} value {flags[bad[0]]:g} is not 0 or 1 (entry {int(bad[0]) + 1})", path, line)
    if expected is not None and flags.size != expected:
        raise AnnotationError(f"{what} file has {flags.size} entries, expected {expected} (one per annotation row)",
                              path)
    return flags.astype(bool)


def _flags_fast(data: bytes) -> np.ndarray | None:
    """``0\\n1\\n...`` or ``0,1,...``: every other byte is the separator; decoded without parsing."""
    b = np.frombuffer(data.rstrip(), dtype=np.uint8)
    if b.size % 2 == 0:
        return None
    seps = b[1::2]
    if seps.size and not ((seps == seps[0]).all() and seps[0] in (10, 44)):
        return None
    vals = b[0::2]
    if not ((vals == 48) | (vals == 49)).all():
        return None
    return vals == 49


def read_attribute_flags(path: str | Path, names: tuple[str, ...], *, what: str = "attribute") -> dict[str, bool]:
    """One line of per-sequence attribute flags (OTB ``anno_TB100/att``, LaSOT ``annos/att``) as ``{name: bool}``.

    Leading/trailing blank lines are ignored: two OTB toolkit files (Bird1, Human5) start with one, and MATLAB's
    ``load`` skips it.
    """
    path = Path(path)
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        raise AnnotationError(f"{what} file not found", path) from None
    flags = parse_table(data, path, None, what=what).reshape(-1)
    if flags.size != len(names):
        raise AnnotationError(f"expected {len(names)} {what} flags, found {flags.size}", path)
    return {a: bool(v) for a, v in zip(names, flags)}


# ------------------------------------------------------------------------------------------------ frames and folders
def require_dir(path: str | Path | None, what: str) -> Path:
    """The folder, or a `UserError` saying which one is missing."""
    if path is None or str(path) == "":
        raise UserError(f"{what}: no folder given (use --root DIR)")
    p = Path(path).expanduser()
    if not p.is_dir():
        raise UserError(f"{what} folder not found" if not p.exists() else f"{what}: not a folder", p)
    return p


def _frame_number(name: str) -> tuple[int, str]:
    stem = name.rsplit(".", 1)[0]
    digits = re.findall(r"\d+", stem)
    return (int(digits[-1]) if digits else -1, name)


def list_images(folder: str | Path, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> list[str]:
    """Image files of a folder sorted by the number in their name (TrackingNet's ``0.jpg, 1.jpg, ... 10.jpg``)."""
    exts = tuple(e.lower() for e in extensions)
    try:
        with os.scandir(folder) as it:
            names = [e.name for e in it if e.name.lower().endswith(exts) and not e.name.startswith(".")]
    except FileNotFoundError:
        return []
    names.sort(key=_frame_number)
    folder = str(folder)
    return [os.path.join(folder, n) for n in names]


def count_images(folder: str | Path, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> int:
    exts = tuple(e.lower() for e in extensions)
    try:
        with os.scandir(folder) as it:
            return sum(1 for e in it if e.name.lower().endswith(exts))
    except FileNotFoundError:
        return 0


def numbered_frames(folder: str | Path, first: int, last: int, digits: int, ext: str = "jpg") -> list[str]:
    """Paths ``<folder>/<n:0{digits}d>.<ext>`` for n = first..last, without touching the disk (frames stay lazy)."""
    folder = str(folder)
    return [os.path.join(folder, f"{n:0{digits}d}.{ext}") for n in range(first, last + 1)]


def missing_files(paths: list[str]) -> list[str]:
    """Which of ``paths`` do not exist; one directory listing per folder instead of a stat per frame."""
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        by_dir.setdefault(os.path.dirname(p), []).append(p)
    out = []
    for d, ps in by_dir.items():
        try:
            present = set(os.listdir(d))
        except (FileNotFoundError, NotADirectoryError):
            present = set()
        out += [p for p in ps if os.path.basename(p) not in present]
    return out


def unknown_names_message(unknown: list[str], where: str) -> str:
    """``Nope is not a sequence of otb2015 split 'test'`` / ``A, B are not sequences of ...``."""
    if len(unknown) == 1:
        return f"--sequences: {unknown[0]} is not a sequence of {where}"
    return f"--sequences: {', '.join(unknown)} are not sequences of {where}"


MAX_LISTED = 10  # problems of one kind listed per sequence before the rest are counted


def frame_problem(path: str, decode: bool = False) -> str | None:
    """Why the frame file ``path`` cannot be used, or None. Without ``decode`` only the header is read (and, for a
    JPEG, the end-of-image marker looked for, which catches a file cut short); with it the whole image is decoded."""
    from PIL import Image

    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return "frame file is missing"
    except OSError as err:
        return f"cannot read frame file ({err.strerror})"
    if size == 0:
        return "frame file is empty (0 bytes)"
    try:
        if decode:
            with Image.open(path) as im:
                im.load()
            return None
        with Image.open(path) as im:
            fmt = im.format
            im.verify()
        if fmt == "JPEG":
            with open(path, "rb") as f:
                f.seek(max(0, size - 1024))
                if b"\xff\xd9" not in f.read():
                    return "JPEG file is cut short (no end-of-image marker)"
    except Exception as err:  # noqa: BLE001 - PIL raises many types for a bad file; each is this frame's problem
        return f"cannot decode frame ({type(err).__name__}: {err})"
    return None


def verify_frames(paths: list[str], decode: bool = False, workers: int = 4) -> list[str]:
    """``"<path>: <problem>"`` for every frame of ``paths`` that is missing, empty or corrupt (see `frame_problem`);
    at most `MAX_LISTED` lines plus one that counts the rest."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = [(p, why) for p, why in zip(paths, pool.map(lambda p: frame_problem(p, decode), paths)) if why]
    out = [f"{p}: {why}" for p, why in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        out.append(f"{len(found) - MAX_LISTED} more of the {len(paths)} frames are unusable (first {MAX_LISTED} "
                   f"listed above)")
    return out


def parse_bool(value, default: bool = False) -> bool:
    """Option values arrive as strings from the CLI (``--opt strict=1``)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on")


def name_variants(name: str) -> set[str]:
    """Spellings other toolkits use for a two-target name: ``Jogging-1`` -> Jogging.1, Jogging_1, jogging-1 ..."""
    out = {name, name.lower()}
    m = re.match(r"^(.*?)[-._](\d+)$", name)
    if m:
        base, k = m.groups()
        for sep in "-._":
            for b in (base, base.lower()):
                out.add(f"{b}{sep}{k}")
    return out


# ------------------------------------------------------------------------------------------------ adapter base
class SequenceMissing(Exception):
    """A sequence of the official list is not on disk (reported by `check`, warned about by `load`)."""


@dataclass
class Inspection:
    """What `globaltrack check` prints: found sequences with frame/row counts, missing ones, and problems."""

    benchmark: str
    root: str
    split: str
    found: list[tuple[str, int, int]] = field(default_factory=list)  # name, images, annotation rows
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # on disk, but a file of it is malformed
    total: int = 0  # sequences looked for (the official list, or the --sequences selection)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _with_common_keys(seq: Sequence) -> Sequence:
    """``path``/``annotation`` are the keys the runner quotes in its messages (as the synthetic benchmark sets them)."""
    md = seq.metadata
    if "annotation_file" in md:
        md.setdefault("annotation", md["annotation_file"])
    where = md.get("sequence_dir", md.get("annotation_file"))
    if where is not None:
        md.setdefault("path", where)
    return seq


class DatasetAdapter(Benchmark):
    """Base of the adapters in this package: official list of names, one reader per sequence, shared checks.

    Subclasses implement `sequence_names` (the official names of the split) and `read_sequence` (raise
    `SequenceMissing` when the sequence is not on disk, `AnnotationError` when a file is malformed).

    ``load`` returns the sequences present; official sequences missing from disk are listed in ``self.missing`` and
    warned about (option ``strict=1`` turns that into an error). ``check``/``inspect`` read every sequence and report
    all problems instead of stopping at the first.
    """

    benchmark_name = "benchmark"
    extra_splits: tuple[str, ...] = ()  # accepted but not listed (TrackingNet's TRAIN_0..TRAIN_11 chunks)
    annotation_only_ok = False  # True where annotations alone (no images) make a valid sequence

    def __init__(self, root=None, split: str | None = None, **options):
        super().__init__(root, split=split, **options)
        if self.split not in self.splits + self.extra_splits:
            raise UserError(f"{self.benchmark_name}: unknown split '{self.split}'; known: {', '.join(self.splits)}")
        self.missing: list[str] = []

    # -- to implement
    def sequence_names(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def read_sequence(self, name: str) -> Sequence:  # pragma: no cover - interface
        raise NotImplementedError

    def prefetch(self, names: list[str]) -> None:
        """Optional bulk read before `read_sequence` is called for ``names`` (see `read_tables`)."""

    def resolve_name(self, requested: str) -> str | None:
        """The official name a user's spelling stands for (adapters with aliases override), None if unknown."""
        return None

    def select(self, requested: list[str]) -> list[str]:
        """Official names for ``requested`` (official names, any letter case, or the adapter's aliases), in the
        order given; names the benchmark does not have are one `UserError` listing them all."""
        official = self.sequence_names()
        index: dict[str, str] = {}
        for n in official:
            index.setdefault(n, n)
            index.setdefault(n.lower(), n)
        out, unknown = [], []
        for r in requested:
            name = index.get(r) or index.get(r.lower()) or self.resolve_name(r)
            if name is None or name not in index:
                unknown.append(r)
            elif name not in out:
                out.append(name)
        if unknown:
            raise UserError(unknown_names_message(unknown, f"{self.benchmark_name} split '{self.split}'"))
        return out

    def frames_not_found(self, problem: str, where) -> list[str]:
        """What a reader does when a sequence's images are missing. Scoring needs the annotations only (option
        ``annotations_only=True``, which evaluate/report/plot/leaderboard/export/validate pass): the sequence is then
        annotation-only (``frames == []``). Running a tracker needs the images: `AnnotationError`."""
        if parse_bool(self.options.get("annotations_only")):
            return []
        raise AnnotationError(problem, where)

    # -- shared behaviour
    def load(self) -> list[Sequence]:
        return self.load_selected(None)

    def load_selected(self, names: list[str] | None = None, errors: str = "raise") -> list[Sequence]:
        """Read the selected sequences (all when ``names`` is None) one by one; see `Benchmark.load_selected`."""
        official = self.sequence_names()
        wanted = self.select(names) if names else official
        self.prefetch(wanted)
        seqs, missing = [], []
        for n in wanted:
            try:
                seqs.append(_with_common_keys(self.read_sequence(n)))
            except SequenceMissing:
                missing.append(n)
            except UserError as err:
                if errors == "raise":
                    raise
                seqs.append(Sequence.unreadable(n, err))
        where = self.root if self.root is not None else getattr(self, "annos", None)
        if names:
            # the user chose these sequences: one that is not on disk is an error, the others missing are not news
            if missing:
                raise UserError(f"{len(missing)} of the {len(wanted)} sequence(s) selected with --sequences "
                                f"{'is' if len(missing) == 1 else 'are'} not under {where}: {', '.join(missing)}")
            return seqs
        self.missing = missing
        if not seqs:
            raise UserError(f"no {self.benchmark_name} sequences of split '{self.split}' found "
                            f"(expected e.g. {', '.join(official[:3])})", where)
        if missing:
            msg = (f"{self.benchmark_name} split '{self.split}': {len(missing)} of {len(official)} official "
                   f"sequences are missing under {where} (e.g. {', '.join(missing[:5])}); scores over the rest are "
                   f"not the official ones")
            if parse_bool(self.options.get("strict")):
                raise UserError(msg)
            warnings.warn(msg, stacklevel=2)
        return seqs

    def inspect(self, names: list[str] | None = None, frames: str | None = None) -> Inspection:
        """Read every sequence (or the ``names`` selected) and report every problem instead of stopping at the first.

        ``frames``: None checks that every frame file exists; ``"headers"`` also opens each one and verifies its
        header (and that a JPEG is not cut short); ``"decode"`` decodes every frame.
        """
        rep = Inspection(self.benchmark_name, str(self.root), self.split)
        if names:
            names = self.select(names)  # a name the benchmark does not have is the user's mistake, not the data's
        else:
            try:
                names = self.sequence_names()
            except UserError as err:
                rep.problems.append(str(err))
                return rep
        rep.total = len(names)
        self.prefetch(names)
        for n in names:
            try:
                seq = self.read_sequence(n)
            except SequenceMissing as err:
                rep.missing.append(n)
                if str(err):
                    rep.problems.append(f"missing sequence {n}: {err}")
                continue
            except UserError as err:
                rep.unreadable.append(n)
                rep.problems.append(f"{n}: {err}")
                continue
            n_images = self._image_count(seq)
            rep.found.append((seq.name, n_images, len(seq.ground_truth)))
            if frames:  # opens every frame file, so it also names the missing ones `check_sequence` would list
                rep.problems += [f"{seq.name}: {p}" for p in verify_frames(seq.frames, decode=frames == "decode")]
            else:
                rep.problems += self.check_sequence(seq)
            rep.notes += [f"{seq.name}: {x}" for x in seq.metadata.get("notes", [])]
        if rep.missing and not any(p.startswith("missing sequence") for p in rep.problems):
            rep.problems.append(f"{len(rep.missing)} of {len(names)} official sequences are missing: "
                                f"{', '.join(rep.missing[:10])}{' ...' if len(rep.missing) > 10 else ''}")
        return rep

    def check(self) -> list[str]:
        return self.inspect().problems

    def _image_count(self, seq: Sequence) -> int:
        if not seq.frames:
            return 0
        return len(seq.frames) - len(missing_files(seq.frames))

    def check_sequence(self, seq: Sequence) -> list[str]:
        """Frames on disk: every listed frame exists (frames come from a pattern, so this is the real test)."""
        if not seq.frames:
            return []
        absent = missing_files(seq.frames)
        out = [f"{seq.name}: {p}: frame file is missing" for p in absent[:MAX_LISTED]]
        if len(absent) > MAX_LISTED:
            out.append(f"{seq.name}: {len(absent) - MAX_LISTED} more of its {len(seq.frames)} frame files are "
                       f"missing (first {MAX_LISTED} listed above)")
        return out


def align_frames(frames: list[str], rows: int, anno_path, *, allow_more: bool = False, notes: list[str] | None = None,
                 rule: str = "") -> list[str]:
    """Match the frame list to the annotation rows.

    Fewer images than rows is an error naming the annotation file. More images than rows is an error too unless
    ``allow_more`` (an official toolkit evaluates only the annotated frames; ``rule`` says which, and it goes into
    ``notes`` so the truncation is never silent).
    """
    if not frames or len(frames) == rows:
        return frames
    if len(frames) < rows:
        gap = _first_gap(frames)
        if gap is not None:
            raise AnnotationError(f"frame file is missing ({len(frames)} images for {rows} annotation rows in "
                                  f"{anno_path})", gap)
        raise AnnotationError(f"fewer images ({len(frames)}) than annotation rows ({rows})", anno_path)
    if not allow_more:
        raise AnnotationError(f"more images ({len(frames)}) than annotation rows ({rows})", anno_path)
    if notes is not None:
        notes.append(f"{len(frames)} images, {rows} annotation rows: using the first {rows} frames"
                     + (f" ({rule})" if rule else ""))
    return frames[:rows]


def _first_gap(frames: list[str]) -> str | None:
    """The first file missing from a numbered run of frame files (``00000069.jpg, 00000071.jpg`` -> ``00000070.jpg``),
    or None when the numbers have no gap."""
    prev = None
    for path in frames:
        name = os.path.basename(path)
        m = re.search(r"(\d+)(\D*)$", name)
        if m is None:
            return None
        number = int(m.group(1))
        if prev is not None and number > prev + 1:
            width = len(m.group(1))
            return os.path.join(os.path.dirname(path), name[:m.start(1)] + f"{prev + 1:0{width}d}" + m.group(2))
        prev = number
    return None
