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

    def load_selected(self, names: list[str] | None = None, errors: str = "raise") -> list[Sequence]:
        """The sequences called ``names`` (official names or aliases; all when None).

        ``errors="collect"`` turns a sequence whose files are malformed into a `Sequence.unreadable` placeholder
        instead of raising, so that one bad file costs that sequence only. Adapters that read sequences one by one
        override this to read only the selected ones; this fallback reads everything and filters.
        """
        seqs = self.load()
        if not names:
            return seqs
        from globaltrack.benchmarks._common import unknown_names_message
        from globaltrack.errors import UserError

        by = {s.name: s for s in seqs}
        for s in seqs:
            for a in s.metadata.get("aliases", ()):
                by.setdefault(a, s)
        missing = [n for n in names if n not in by]
        if missing:
            raise UserError(unknown_names_message(missing, f"{self.name} split '{self.split}'"))
        return [by[n] for n in names]

    def check(self) -> list[str]:
        """Validate the dataset folder; return a list of problem lines (empty when fine)."""
        return []


def get_benchmark(name: str, root, split: str | None = None, **options: Any) -> Benchmark:
    entry = BENCHMARKS.get(name)
    bench = entry.factory(root, split=split, **options)
    bench.name = entry.name
    return bench


def load_sequences(name: str, root, split: str | None = None, names: list[str] | None = None,
                   errors: str = "raise", **options: Any) -> list[Sequence]:
    """Load a benchmark's sequences, optionally restricted to ``names`` (official names or aliases).

    Only the selected sequences are read, so a malformed file elsewhere under ``root`` does not matter.
    ``errors="collect"`` returns a sequence whose files are malformed as a `Sequence.unreadable` placeholder
    (``seq.load_error`` is the one-line reason) instead of raising; the runner records it as a failure.
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    return get_benchmark(name, root, split=split, **options).load_selected(names or None, errors)


__all__ = ["BENCHMARKS", "Benchmark", "register_benchmark", "get_benchmark", "load_sequences", "Sequence"]
