"""Export results as benchmark-server submissions, validated before anything is written.

``export_submission("trackingnet", store, ["globaltrack"], "out.zip", root=DATASET)`` reads
``<results>/<benchmark>/<tracker>/<seq>.txt`` (and the ``.frames.csv`` sidecar for scores, presence and times) and
writes the format the server or toolkit reads (see `globaltrack.results.validate` for each format and its source):

- TrackingNet: flat zip of ``<video>.txt``, ``%.2f`` commas (as the devkit's dummy submission and pytracking's
  ``pack_trackingnet_results.py``);
- GOT-10k: zip of ``<seq>/<seq>_00r.txt`` (one per run: several trackers given = repeated runs, ``%.3f`` commas as
  got10k's ``_record``) and ``<seq>/<seq>_time.txt`` (``%.8f``, one comma-separated column per run) holding the
  per-frame times of the sidecar;
- OxUvA: zip of ``<video>_<object>.csv`` per task: no header, init frame omitted, boxes normalised by the image size
  and clipped to [0, 1], ``present`` from the sidecar (pytracking's OxUvA writer, spec §2.4);
- LaSOT, TLP (and the LaSOT-layout synthetic benchmark): ``<seq>.txt`` per sequence, as a zip or a folder.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from globaltrack._io import atomic_write_bytes
from globaltrack.errors import UserError
from globaltrack.results.store import ResultStore, SequenceResult
from globaltrack.results.validate import (ExpectedSequence, SubmissionFormat, expected_from_sequences,
                                          expected_sequences, get_format, validate_files, zip_bytes)


class SubmissionError(UserError):
    """The export would not pass validation; ``problems`` lists every line."""

    def __init__(self, problems: list[str], path=None):
        self.problems = problems
        shown = "\n  ".join(problems[:30]) + (f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else "")
        super().__init__(f"submission not written, {len(problems)} problems:\n  {shown}", path)


def _rows(boxes: np.ndarray, fmt: str) -> bytes:
    return "".join(",".join(fmt % v for v in row) + "\n" for row in np.asarray(boxes, float).reshape(-1, 4)).encode()


def _read(store: ResultStore, benchmark: str, tracker: str, seq: str) -> SequenceResult | None:
    if not store.box_path(benchmark, tracker, seq).is_file():
        return None
    return store.read(benchmark, tracker, seq)


def _box_files(fmt: SubmissionFormat, store, benchmark, tracker, expected) -> dict[str, bytes]:
    files = {}
    for name in expected:
        res = _read(store, benchmark, tracker, name)
        if res is not None:
            files[f"{name}.txt"] = _rows(res.boxes, fmt.box_format)
    return files


def _got10k_files(fmt, store, benchmark, runs, expected) -> dict[str, bytes]:
    files = {}
    for name in expected:
        times = []
        for r, tracker in enumerate(runs, 1):
            res = _read(store, benchmark, tracker, name)
            if res is None:
                continue
            files[f"{name}/{name}_{r:03d}.txt"] = _rows(res.boxes, fmt.box_format)
            times.append(res.times if res.times is not None else np.full(len(res.boxes), np.nan))
        if times:
            n = max(len(t) for t in times)
            cols = np.full((n, len(times)), np.nan)
            for j, t in enumerate(times):
                cols[:len(t), j] = t
            # got10k's _record writes np.savetxt(fmt='%.8f', delimiter=','); NaN (no time recorded) stays 'nan' so
            # validation names the sequence rather than inventing a time.
            files[f"{name}/{name}_time.txt"] = "".join(
                ",".join("nan" if math.isnan(v) else "%.8f" % v for v in row) + "\n" for row in cols).encode()
    return files


def _oxuva_files(fmt, store, benchmark, tracker, expected) -> dict[str, bytes]:
    files = {}
    for name, exp in expected.items():
        res = _read(store, benchmark, tracker, name)
        if res is None:
            continue
        if exp.image_size is None:
            raise UserError(f"{name}: image size unknown (no frames and no width/height in the sequence metadata); "
                            "OxUvA boxes are normalised by it")
        if exp.video is None or exp.object is None:
            raise UserError(f"{name}: the OxUvA video/object ids are unknown (sequence metadata 'video', 'object')")
        width, height = exp.image_size
        n = len(res.boxes)
        numbers = exp.frame_numbers or [int(exp.init_frame or 0) + i for i in range(n)]
        present = np.ones(n, bool) if res.present is None else res.present
        scores = np.ones(n) if res.scores is None else res.scores
        lines = []
        for i in range(1, min(n, len(numbers))):   # the init frame (row 0) is not a prediction
            x, y, w, h = res.boxes[i]
            xmin, xmax = np.clip([x / width, (x + w) / width], 0.0, 1.0)
            ymin, ymax = np.clip([y / height, (y + h) / height], 0.0, 1.0)
            lines.append(f"{exp.video},{exp.object},{int(numbers[i])},{'true' if present[i] else 'false'},"
                         + ",".join(fmt.box_format % v for v in (scores[i], xmin, xmax, ymin, ymax)) + "\n")
        files[f"{exp.submission_name}.csv"] = "".join(lines).encode()
    return files


def build_submission(benchmark: str, store: ResultStore, trackers: list[str] | str,
                     expected: dict[str, ExpectedSequence], *, results_benchmark: str | None = None
                     ) -> dict[str, bytes]:
    """The submission's files in memory (``{member: bytes}``), not yet validated."""
    fmt = get_format(benchmark)
    runs = [trackers] if isinstance(trackers, str) else list(trackers)
    if not runs:
        raise UserError("no tracker given to export")
    if len(runs) > 1 and fmt.layout != "got10k":
        raise UserError(f"{fmt.name} takes one tracker per submission (repeated runs are a GOT-10k feature)")
    src = results_benchmark or benchmark
    for t in runs:
        if not store.tracker_dir(src, t).is_dir():
            raise UserError(f"no results for tracker '{t}'", store.tracker_dir(src, t))
    if fmt.layout == "got10k":
        return _got10k_files(fmt, store, src, runs, expected)
    if fmt.layout == "oxuva":
        return _oxuva_files(fmt, store, src, runs[0], expected)
    return _box_files(fmt, store, src, runs[0], expected)


def export_submission(benchmark: str, store: ResultStore | str | Path, trackers: list[str] | str, out_path,
                      *, root=None, split: str | None = None, sequences=None,
                      results_benchmark: str | None = None) -> Path:
    """Build, validate and write a submission. ``out_path`` ending in ``.zip`` gives a zip (required for
    TrackingNet, GOT-10k and OxUvA); otherwise a folder of files (LaSOT, TLP). Raises `SubmissionError` listing
    every problem, writing nothing, when validation fails."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    fmt = get_format(benchmark)
    if sequences is not None:
        expected = expected_from_sequences(sequences)
    elif root is not None:
        expected = expected_sequences(benchmark, root, split)
    else:
        raise UserError(f"exporting {fmt.name} needs the dataset (--root) to know its sequences and frame counts")
    files = build_submission(benchmark, store, trackers, expected, results_benchmark=results_benchmark)
    problems = validate_files(files, benchmark, expected)
    out = Path(out_path)
    if problems:
        raise SubmissionError(problems, out)
    if out.suffix.lower() == ".zip":
        atomic_write_bytes(out, zip_bytes(files))
    elif fmt.layout in ("got10k", "oxuva", "flat"):
        raise UserError(f"{fmt.name} submissions are zips; give an output path ending in .zip", out)
    else:
        for name, data in files.items():
            atomic_write_bytes(out / name, data)
    return out
