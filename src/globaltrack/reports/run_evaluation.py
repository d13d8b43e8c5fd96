"""What the report / plot / leaderboard commands share: load a benchmark, score every tracker in the results folder.

Kept here (not in the command modules) so the three commands evaluate the same way.
"""
from __future__ import annotations

from globaltrack.errors import UserError


def canonical_benchmark(name: str | None) -> str:
    if not name:
        raise UserError("--benchmark is required")
    from globaltrack.benchmarks import BENCHMARKS

    return BENCHMARKS.get(name).name


def evaluate_from_args(args, *, allow_missing: bool = True):
    """``(evaluation, sequences, store)`` for ``--benchmark --root [--split] [--protocol] --results [--tracker]
    [--sequences]``. Missing results are allowed by default: reports show them as warnings."""
    from globaltrack.benchmarks import load_sequences
    from globaltrack.harness.cli import split_list
    from globaltrack.metrics.evaluate import evaluate
    from globaltrack.results.store import ResultStore

    benchmark = canonical_benchmark(args.benchmark)
    if not getattr(args, "root", None):
        raise UserError("--root (the dataset folder) is required")
    names = split_list([args.sequences]) if getattr(args, "sequences", None) else None
    sequences = load_sequences(benchmark, args.root, split=getattr(args, "split", None), names=names)
    store = ResultStore(args.results)
    trackers = split_list(getattr(args, "trackers", None)) or store.trackers(benchmark)
    if not trackers:
        raise UserError(f"no tracker results for {benchmark}", store.root / benchmark)
    ev = evaluate(sequences, store, benchmark, trackers, protocol=getattr(args, "protocol", None),
                  allow_missing=allow_missing)
    return ev, sequences, store
