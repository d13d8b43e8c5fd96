"""The results folder: ``<results>/<benchmark>/<tracker>/``.

- ``<sequence>.txt``: one ``x,y,w,h`` row per frame, comma-separated, full float precision (shortest repr that
  round-trips), the benchmark's raw format.
- ``<sequence>.frames.csv``: the sidecar: header ``frame,score,present,time`` then one row per frame (time in
  seconds of ``update``; frame 0 holds the init time).
- ``<sequence>.key``: the content key the sequence was produced under (resume); a second line holds, as JSON, the
  run's provenance (tracker, options, package version), which `evaluate` compares across the folder's sequences.
- ``manifest.json``: the run manifest (tracker, run name, options, versions, machine, times, failures, speed).

``<tracker>`` is the run's *name*: the tracker's registry name by default, any other name given with
``-t NAME:KEY=VALUE,name=RUN`` or ``--name RUN``, so option variants of one tracker live side by side.
- ``imported.json``: present when the results were imported from published files (reports mark them).

Every file is written atomically.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from globaltrack import __version__
from globaltrack._io import atomic_write_text
from globaltrack.errors import UserError
from globaltrack.results.manifest import read_manifest_json
from globaltrack.textio import parse_numeric_table

SIDECAR_SUFFIX = ".frames.csv"
KEY_SUFFIX = ".key"
MANIFEST = "manifest.json"


_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")


def validate_run_name(name: str) -> str:
    """A run name is a folder name: letters, digits and ``. _ + = @ -``, not starting with a dot."""
    if not _RUN_NAME.match(name) or len(name) > 128:
        raise UserError(f"run name '{name}' is not usable as a folder name (letters, digits, '._+=@-'; no leading "
                        "dot or slash)")
    return name


def run_provenance(tracker: str, options: dict[str, Any], version: str = __version__) -> dict[str, Any]:
    """What a stored sequence was made under: tracker (registry name), options (as strings), package version."""
    return {"tracker": tracker, "options": {str(k): str(v) for k, v in sorted(options.items())}, "version": version}


def describe_provenance(p: dict[str, Any] | None) -> str:
    if p is None:
        return "no record"
    opts = ",".join(f"{k}={v}" for k, v in p.get("options", {}).items()) or "no options"
    return f"{p.get('tracker')} ({opts}; version {p.get('version')})"


def format_boxes(boxes: np.ndarray) -> str:
    """Rows ``x,y,w,h`` with Python's shortest round-trip float repr (no truncation)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in boxes)


def parse_boxes(text: str, path: str | Path = "<string>") -> np.ndarray:
    """Parse x,y,w,h rows separated by commas, tabs or spaces (`globaltrack.textio`). Errors name the file and line."""
    return parse_numeric_table(text.encode(), path, 4)


@dataclass
class SequenceResult:
    boxes: np.ndarray
    scores: np.ndarray | None = None
    present: np.ndarray | None = None
    times: np.ndarray | None = None


class ResultStore:
    def __init__(self, root: str | Path = "results"):
        self.root = Path(root)

    def tracker_dir(self, benchmark: str, tracker: str) -> Path:
        return self.root / benchmark / tracker

    def box_path(self, benchmark: str, tracker: str, sequence: str) -> Path:
        return self.tracker_dir(benchmark, tracker) / f"{sequence}.txt"

    def sidecar_path(self, benchmark: str, tracker: str, sequence: str) -> Path:
        return self.tracker_dir(benchmark, tracker) / f"{sequence}{SIDECAR_SUFFIX}"

    def key_path(self, benchmark: str, tracker: str, sequence: str) -> Path:
        return self.tracker_dir(benchmark, tracker) / f"{sequence}{KEY_SUFFIX}"

    # -- writing -----------------------------------------------------------------------------------------------
    def write(self, benchmark: str, tracker: str, sequence: str, result: SequenceResult, key: str | None = None,
              provenance: dict[str, Any] | None = None):
        """Write boxes, then the sidecar, then the key last: a sequence counts as done only once its key exists.
        ``provenance`` (`run_provenance`) goes into the key file's second line."""
        atomic_write_text(self.box_path(benchmark, tracker, sequence), format_boxes(result.boxes))
        n = len(result.boxes)
        scores = np.ones(n) if result.scores is None else np.asarray(result.scores, float)
        present = np.ones(n, bool) if result.present is None else np.asarray(result.present, bool)
        times = np.full(n, np.nan) if result.times is None else np.asarray(result.times, float)
        lines = ["frame,score,present,time"]
        lines += [f"{i},{repr(float(s))},{int(p)},{repr(float(t))}" for i, (s, p, t) in
                  enumerate(zip(scores, present, times))]
        atomic_write_text(self.sidecar_path(benchmark, tracker, sequence), "\n".join(lines) + "\n")
        if key is not None:
            extra = "" if provenance is None else json.dumps(provenance, sort_keys=True) + "\n"
            atomic_write_text(self.key_path(benchmark, tracker, sequence), key + "\n" + extra)

    def write_manifest(self, benchmark: str, tracker: str, manifest: dict[str, Any]) -> None:
        atomic_write_text(self.tracker_dir(benchmark, tracker) / MANIFEST,
                          json.dumps(manifest, indent=2, sort_keys=True, default=str))

    # -- reading -----------------------------------------------------------------------------------------------
    def trackers(self, benchmark: str) -> list[str]:
        d = self.root / benchmark
        return sorted(p.name for p in d.iterdir() if p.is_dir()) if d.is_dir() else []

    def sequences(self, benchmark: str, tracker: str) -> list[str]:
        d = self.tracker_dir(benchmark, tracker)
        if not d.is_dir():
            return []
        return sorted(p.name[:-4] for p in d.glob("*.txt") if not p.name.startswith("."))

    def read_key(self, benchmark: str, tracker: str, sequence: str) -> str | None:
        p = self.key_path(benchmark, tracker, sequence)
        return p.read_text().split("\n", 1)[0].strip() if p.is_file() else None

    def read_provenance(self, benchmark: str, tracker: str, sequence: str) -> dict[str, Any] | None:
        """The second line of the key file (None: written before named runs, imported, or not finished)."""
        try:
            lines = self.key_path(benchmark, tracker, sequence).read_text().splitlines()
            return json.loads(lines[1]) if len(lines) > 1 else None
        except (OSError, ValueError):
            return None

    def read_boxes(self, benchmark: str, tracker: str, sequence: str) -> np.ndarray:
        p = self.box_path(benchmark, tracker, sequence)
        return parse_boxes(p.read_text(), p)

    def read(self, benchmark: str, tracker: str, sequence: str) -> SequenceResult:
        boxes = self.read_boxes(benchmark, tracker, sequence)
        side = self.sidecar_path(benchmark, tracker, sequence)
        if not side.is_file():
            return SequenceResult(boxes)
        data = np.genfromtxt(side, delimiter=",", skip_header=1, dtype=np.float64).reshape(-1, 4)
        return SequenceResult(boxes, scores=data[:, 1], present=data[:, 2].astype(bool), times=data[:, 3])

    def read_manifest(self, benchmark: str, tracker: str) -> dict[str, Any]:
        """The run's manifest as stored ({} when there is none: imported results); unreadable: a UserError."""
        return read_manifest_json(self.tracker_dir(benchmark, tracker))


def read_if_present(store: ResultStore, benchmark: str, run: str, sequence: str) -> SequenceResult | None:
    """A stored result, or None when the sequence has no box file."""
    if not store.box_path(benchmark, run, sequence).is_file():
        return None
    return store.read(benchmark, run, sequence)


def check_run_folder(store: ResultStore, benchmark: str, name: str, provenance: dict[str, Any]) -> None:
    """Refuse to write a run into a folder that holds a run of another tracker or other options (the earlier run would
    be overwritten, or the folder left mixing the two); `globaltrack run --force` replaces it."""
    old = store.read_manifest(benchmark, name)
    if not old or store.sequences(benchmark, name) == []:
        return
    before = run_provenance(old.get("tracker", name), old.get("options") or {}, old.get("package_version", "?"))
    if before["tracker"] == provenance["tracker"] and before["options"] == provenance["options"]:
        return
    opts = ",".join(f"{k}={v}" for k, v in provenance["options"].items())
    raise UserError(f"run '{name}' already holds {describe_provenance(before)}; this run "
                    f"({describe_provenance(provenance)}) would overwrite it. Name it: "
                    f"-t {provenance['tracker']}:{opts + ',' if opts else ''}name=NEW_NAME (or --force to replace)",
                    store.tracker_dir(benchmark, name))
