"""VOT toolkit (vot-toolkit 0.9.0) workspaces that run our trackers over TraX.

A workspace, as ``vot.workspace.Workspace`` reads it:

- ``config.yaml``: ``stack`` (an integrated stack name such as ``vot2022/longterm``, or a stack file relative to
  the workspace), ``registry`` (tracker registry files, ``./trackers.ini``), ``sequences`` (default ``sequences``);
- ``trackers.ini``: one section per tracker: ``protocol = traxpython`` and ``command``. ``vot/tracker/adapters.py``
  runs a command that is not a bare module name as ``python -c "import sys; <paths> <command>"``, so the command is
  a Python statement calling `globaltrack.interop.trax_server.main` with the tracker name and options;
  ``paths`` (prepended to sys.path and set as PYTHONPATH) names the folder holding the ``globaltrack`` package and
  ``python`` the interpreter globaltrack is installed in;
- ``sequences/``: ``list.txt`` plus one folder per sequence with a ``sequence`` metadata file (``channels.color``,
  ``length``...), ``color/%08d.jpg`` frames and ``groundtruth.txt`` (``vot/dataset/common.py``). A stack without
  a ``dataset`` URL never downloads, so a local stack runs offline.

`setup_workspace` writes all of it; `globaltrack vot-setup` is its command line.
"""
from __future__ import annotations

import configparser
import io
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from globaltrack._io import atomic_write_text
from globaltrack.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VALID_IDENTIFIER = re.compile(r"^[a-zA-Z0-9_-]+$")  # vot.tracker.VALID_IDENTIFIER

#: The local stack: one unsupervised run per sequence (no resets, as VOT-LT), scored with the toolkit's long-term
#: analyses (which read the ``confidence`` our server reports) and the average overlap.
LOCAL_STACK_YAML = """\
title: globaltrack local stack (written by globaltrack vot-setup)
experiments:
  longterm:
    type: unsupervised
    repetitions: 1
    analyses:
      - type: average_tpr
        name: average_tpr
      - type: pr_curve
        name: pr_curve
      - type: f_curve
        name: f_curve
      - type: average_accuracy
        name: accuracy
        burnin: 1
"""


@dataclass
class TrackerEntry:
    identifier: str
    name: str
    options: dict[str, str] = field(default_factory=dict)


def tracker_identifier(name: str) -> str:
    """A VOT identifier (``[a-zA-Z0-9-_]+``) for a tracker name."""
    ident = re.sub(r"[^a-zA-Z0-9_-]", "_", name)
    if not VALID_IDENTIFIER.match(ident):
        raise UserError(f"cannot make a VOT tracker identifier from '{name}'")
    return ident


def trax_command(name: str, options: dict[str, str]) -> str:
    """The Python statement the toolkit runs (``python -c``): start our TraX server for ``name``."""
    argv = [name]
    for key, value in options.items():
        argv += ["--opt", f"{key}={value}"]
    return f"from globaltrack.interop.trax_server import main; sys.exit(main({argv!r}))"


def package_root() -> Path:
    """The folder that holds the ``globaltrack`` package (``src/`` in a checkout)."""
    import globaltrack

    return Path(globaltrack.__file__).resolve().parent.parent


def tracker_section(entry: TrackerEntry, python: str | None = None, timeout: int = 120) -> dict[str, str]:
    from globaltrack.trackers import TRACKERS

    description = TRACKERS.get(entry.name).description
    return {
        "label": entry.identifier,
        "protocol": "traxpython",
        "command": trax_command(entry.name, entry.options),
        "paths": str(package_root()),
        "python": python or sys.executable,
        # seconds the toolkit waits for a reply; GlobalTrack on a CPU needs more than the default 30 on large frames
        "timeout": str(int(timeout)),
        "meta_description": description,
    }


def write_trackers_ini(path: Path, entries: list[TrackerEntry], python: str | None = None) -> None:
    """Add (or replace) our sections, keeping any other tracker the user registered in the file.

    The toolkit reads the file with ``configparser.ConfigParser()`` (``%`` interpolation on), so ``%`` is doubled.
    """
    config = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        config.read(path)
    for entry in entries:
        section = {k: v.replace("%", "%%") for k, v in tracker_section(entry, python).items()}
        if config.has_section(entry.identifier):
            config.remove_section(entry.identifier)
        config[entry.identifier] = section
    buf = io.StringIO()
    config.write(buf)
    atomic_write_text(path, buf.getvalue())


# -- sequences ----------------------------------------------------------------------------------------------------

@dataclass
class VotSequenceSource:
    """A sequence to put in the workspace: ordered frame files and the ground-truth lines in VOT text format."""

    name: str
    frames: list[Path]
    groundtruth: list[str]
    extras: dict[str, list[str]] = field(default_factory=dict)  # per-frame files: NAME.tag / NAME.value lines


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_vot_sequence(folder: Path) -> VotSequenceSource:
    """A sequence folder in a VOT layout: VOT-2013..2019 flat (``00000001.jpg`` beside ``groundtruth.txt``) or
    VOT-2020+ (``color/`` plus ``sequence``); per-frame ``*.tag``/``*.label``/``*.value`` files come along."""
    gt_file = folder / "groundtruth.txt"
    if not gt_file.is_file():
        raise UserError("not a VOT sequence folder (no groundtruth.txt)", path=folder)
    color = folder / "color"
    frames = _images_in(color) if color.is_dir() else _images_in(folder)
    if not frames:
        raise UserError("no image frames found (expected color/*.jpg or *.jpg beside groundtruth.txt)", path=folder)
    groundtruth = [line.strip() for line in gt_file.read_text().splitlines() if line.strip()]
    for i, line in enumerate(groundtruth, 1):
        if line.startswith("m"):  # a mask region (VOT-2020+): the toolkit parses it
            continue
        try:
            [float(v) for v in line.split(",")]
        except ValueError:
            raise UserError(f"malformed region '{line}'", path=gt_file, line=i) from None
    extras = {}
    for f in sorted(folder.iterdir()):
        if f.suffix in (".tag", ".label", ".value") and f.is_file():
            extras[f.name] = f.read_text().splitlines()
    return VotSequenceSource(folder.name, frames, groundtruth, extras)


def find_vot_sequences(path: Path) -> list[VotSequenceSource]:
    """One sequence folder, or a dataset folder (``list.txt`` or every subfolder with a ``groundtruth.txt``)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError("sequences folder not found", path=path)
    if (path / "groundtruth.txt").is_file():
        return [read_vot_sequence(path)]
    if (path / "list.txt").is_file():
        names = [n.strip() for n in (path / "list.txt").read_text().splitlines() if n.strip()]
    else:
        names = sorted(d.name for d in path.iterdir() if (d / "groundtruth.txt").is_file())
    if not names:
        raise UserError("no VOT sequences here (no groundtruth.txt, no list.txt)", path=path)
    return [read_vot_sequence(path / n) for n in names]


def from_sequences(sequences, notes: list[str] | None = None) -> list[VotSequenceSource]:
    """Our `Sequence` objects (any registered benchmark) as VOT sequences: rectangles ``x,y,w,h``; a frame marked
    absent, or with no valid box, is written as ``0`` (the VOT special region "unknown/absent"). A sequence whose
    first frame has no box cannot be initialised by the toolkit: it is skipped and a line added to ``notes``."""
    out = []
    for seq in sequences:
        first = seq.ground_truth[0] if len(seq.ground_truth) else np.full(4, np.nan)
        if seq.absent[0] or not np.all(np.isfinite(first)) or first[2] <= 0 or first[3] <= 0:
            if notes is not None:
                notes.append(f"skipped '{seq.name}': no target box on its first frame (VOT initialises there)")
            continue
        if not seq.frames:
            raise UserError(f"sequence '{seq.name}' has no frame files")
        if len(seq.ground_truth) < len(seq.frames) and len(seq.ground_truth) <= 1:
            raise UserError(f"sequence '{seq.name}' has only its first box (a test split?); VOT analyses need "
                            "ground truth for every frame")
        lines = []
        for box, absent in zip(seq.ground_truth, seq.absent):
            if absent or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
                lines.append("0")
            else:
                lines.append(",".join(f"{float(v):.4f}" for v in box))
        out.append(VotSequenceSource(tracker_identifier(seq.name), [Path(f) for f in seq.frames], lines))
    return out


def _link(src: Path, dst: Path) -> None:
    try:
        os.symlink(src.resolve(), dst)
    except OSError:  # file systems without symlinks: copy
        shutil.copy2(src, dst)


def write_vot_sequence(seq: VotSequenceSource, dest_root: Path, frames: int | None = None) -> str:
    """Write ``dest_root/<name>/`` in the VOT-2020 layout, frames linked (copied where links fail), optionally
    only the first ``frames`` frames. Returns the sequence name."""
    n = len(seq.frames) if frames is None else min(int(frames), len(seq.frames))
    if n < 2:
        raise UserError(f"sequence '{seq.name}' needs at least 2 frames, has {n}")
    if len(seq.groundtruth) < n:
        raise UserError(f"sequence '{seq.name}': {len(seq.groundtruth)} ground-truth lines for {n} frames")
    folder = dest_root / seq.name
    if folder.exists():
        shutil.rmtree(folder)
    color = folder / "color"
    color.mkdir(parents=True)
    suffix = seq.frames[0].suffix.lower()
    if any(f.suffix.lower() != suffix for f in seq.frames[:n]):
        raise UserError(f"sequence '{seq.name}' mixes image formats")
    for i, frame in enumerate(seq.frames[:n], 1):
        _link(frame, color / f"{i:08d}{suffix}")
    atomic_write_text(folder / "groundtruth.txt", "\n".join(seq.groundtruth[:n]) + "\n")
    for fname, lines in seq.extras.items():
        atomic_write_text(folder / fname, "\n".join(lines[:n]) + "\n")
    atomic_write_text(folder / "sequence", f"channels.color=color/%08d{suffix}\nfps=30\nformat=default\n"
                                           f"length={n}\nname={seq.name}\n")
    return seq.name


# -- the workspace ------------------------------------------------------------------------------------------------

def write_config(workspace: Path, stack: str, force: bool = False) -> None:
    config = workspace / "config.yaml"
    text = f"registry:\n- ./trackers.ini\nsequences: sequences\nstack: {stack}\n"
    if config.is_file() and not force:
        current = config.read_text()
        if f"stack: {stack}\n" not in current:
            raise UserError(f"the workspace already uses another stack; pass --force to replace config.yaml "
                            f"(stack: {stack})", path=config)
        if "trackers.ini" not in current:
            raise UserError("the workspace's registry does not list ./trackers.ini; add it or pass --force",
                            path=config)
        return
    atomic_write_text(config, text)


def setup_workspace(workspace: str | Path, trackers: list[TrackerEntry], stack: str = "local",
                    sequences: list[VotSequenceSource] | None = None, frames: int | None = None,
                    python: str | None = None, force: bool = False) -> dict:
    """Write a VOT workspace in ``workspace`` for ``trackers``.

    ``stack="local"``: write ``stack.yaml`` (`LOCAL_STACK_YAML`) and the given ``sequences`` (required) into
    ``sequences/``. Any other value is passed to the toolkit as the stack (an integrated stack such as
    ``vot2022/longterm``, whose dataset the toolkit downloads on first use, or a stack file path).
    """
    from vot.stack import resolve_stack  # fails early, with the toolkit's own resolution, on an unknown stack

    workspace = Path(workspace).resolve()
    if not trackers:
        raise UserError("no trackers given (--trackers NAME,...)")
    workspace.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if stack == "local":
        if not sequences:
            raise UserError("the local stack needs sequences: pass --sequences DIR (VOT layout) or --benchmark")
        atomic_write_text(workspace / "stack.yaml", LOCAL_STACK_YAML)
        stack_ref = "stack.yaml"
        seq_root = workspace / "sequences"
        seq_root.mkdir(exist_ok=True)
        written = [write_vot_sequence(s, seq_root, frames) for s in sequences]
        atomic_write_text(seq_root / "list.txt", "\n".join(written) + "\n")
    else:
        stack_file = resolve_stack(stack, str(workspace))
        if stack_file is None:
            raise UserError(f"unknown VOT stack '{stack}' (an integrated stack name such as vot2022/longterm, "
                            "or a stack file)")
        stack_ref = stack
        if sequences:
            raise UserError("--sequences/--benchmark apply to the local stack only; an integrated stack brings its "
                            "own dataset")
        (workspace / "sequences").mkdir(exist_ok=True)
    (workspace / "results").mkdir(exist_ok=True)
    write_config(workspace, stack_ref, force=force)
    write_trackers_ini(workspace / "trackers.ini", trackers, python)
    return {"workspace": str(workspace), "stack": stack_ref, "sequences": written,
            "trackers": [t.identifier for t in trackers]}
