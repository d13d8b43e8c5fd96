"""Benchmark adapters: each reads one dataset layout exactly as distributed and yields `Sequence` objects.

Register an adapter in its own module::

    @register_benchmark("lasot", description="LaSOT", default_protocol="lasot", splits=("test", "train", "all"))
    class LaSOT(Benchmark): ...

Adapters never know about trackers or metrics.
"""
from __future__ import annotations

from typing import Any

from globaltrack.registry import Registry
from globaltrack.sequence import Sequence

BENCHMARKS = Registry("benchmark", "globaltrack.benchmarks")
register_benchmark = BENCHMARKS.register


class Benchmark:
    """Base adapter. ``load`` returns the sequences of a split; frames are paths, decoded lazily."""

    name: str = "benchmark"
    default_protocol: str = "otb"
    splits: tuple[str, ...] = ("test",)
    default_split: str = "test"

    def __init__(self, root, split: str | None = None, **options: Any):
        self.root = root
        self.split = split or self.default_split
        self.options = options

    def load(self) -> list[Sequence]:  # pragma: no cover - interface
        raise NotImplementedError

    def check(self) -> list[str]:
        """Validate the dataset folder; return a list of problem lines (empty when fine)."""
        return []


def get_benchmark(name: str, root, split: str | None = None, **options: Any) -> Benchmark:
    entry = BENCHMARKS.get(name)
    bench = entry.factory(root, split=split, **options)
    bench.name = entry.name
    return bench


def load_sequences(name: str, root, split: str | None = None, names: list[str] | None = None,
                   **options: Any) -> list[Sequence]:
    """Load a benchmark's sequences, optionally restricted to ``names`` (official names or aliases)."""
    seqs = get_benchmark(name, root, split=split, **options).load()
    if names:
        from globaltrack.errors import UserError

        by = {s.name: s for s in seqs}
        for s in seqs:
            for a in s.metadata.get("aliases", ()):
                by.setdefault(a, s)
        missing = [n for n in names if n not in by]
        if missing:
            raise UserError(f"sequences not in benchmark {name}: {', '.join(missing)}")
        seqs = [by[n] for n in names]
    return seqs


__all__ = ["BENCHMARKS", "Benchmark", "register_benchmark", "get_benchmark", "load_sequences", "Sequence"]
