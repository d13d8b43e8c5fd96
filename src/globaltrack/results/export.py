"""Export results as benchmark-server submissions, validated before anything is written.

``export_submission("trackingnet", store, ["globaltrack"], "out.zip", root=DATASET)`` reads
``<results>/<benchmark>/<run>/<seq>.txt`` (and the ``.frames.csv`` sidecar for scores, presence and times), asks the
benchmark's server module (`globaltrack.results.servers`: TrackingNet, GOT-10k, OxUvA, LaSOT, TLP ...) to build the
files it accepts, validates them with the same module, and writes a zip (or a folder where the server takes one).
"""
from __future__ import annotations

from pathlib import Path

from globaltrack._io import atomic_write_bytes
from globaltrack.errors import UserError
from globaltrack.results.servers import get_server
from globaltrack.results.servers._common import ExpectedSequence
from globaltrack.results.store import ResultStore
from globaltrack.results.validate import expected_from_sequences, expected_sequences, validate_files, zip_bytes


class SubmissionError(UserError):
    """The export would not pass validation; ``problems`` lists every line."""

    def __init__(self, problems: list[str], path=None):
        self.problems = problems
        shown = "\n  ".join(problems[:30]) + (f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else "")
        super().__init__(f"submission not written, {len(problems)} problems:\n  {shown}", path)


def build_submission(benchmark: str, store: ResultStore, trackers: list[str] | str,
                     expected: dict[str, ExpectedSequence], *, results_benchmark: str | None = None
                     ) -> dict[str, bytes]:
    """The submission's files in memory (``{member: bytes}``), not yet validated."""
    server = get_server(benchmark)
    runs = [trackers] if isinstance(trackers, str) else list(trackers)
    if not runs:
        raise UserError("no tracker given to export")
    if len(runs) > 1 and not server.repeated_runs:
        raise UserError(f"{server.name} takes one tracker per submission (repeated runs are a GOT-10k feature)")
    src = results_benchmark or benchmark
    for t in runs:
        if not store.tracker_dir(src, t).is_dir():
            raise UserError(f"no results for tracker '{t}'", store.tracker_dir(src, t))
    return server.build(store, src, runs, expected)


def export_submission(benchmark: str, store: ResultStore | str | Path, trackers: list[str] | str, out_path,
                      *, root=None, split: str | None = None, sequences=None,
                      results_benchmark: str | None = None) -> Path:
    """Build, validate and write a submission. ``out_path`` ending in ``.zip`` gives a zip (required by the servers
    that take zips); otherwise a folder of files. Raises `SubmissionError` listing every problem, writing nothing,
    when validation fails."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    server = get_server(benchmark)
    if sequences is not None:
        expected = expected_from_sequences(sequences)
    elif root is not None:
        expected = expected_sequences(benchmark, root, split)
    else:
        raise UserError(f"exporting {server.name} needs the dataset (--root) to know its sequences and frame counts")
    files = build_submission(benchmark, store, trackers, expected, results_benchmark=results_benchmark)
    problems = validate_files(files, benchmark, expected)
    out = Path(out_path)
    if problems:
        raise SubmissionError(problems, out)
    if out.suffix.lower() == ".zip":
        atomic_write_bytes(out, zip_bytes(files))
    elif server.zip_only:
        raise UserError(f"{server.name} submissions are zips; give an output path ending in .zip", out)
    else:
        for name, data in files.items():
            atomic_write_bytes(out / name, data)
    return out
