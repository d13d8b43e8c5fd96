"""What the commands that score share (evaluate, report, plot, leaderboard, export, validate-submission, import):
the same options, spelled the same way, and one way to load a benchmark's sequences for scoring.

Scoring needs the annotations only: sequences are loaded with ``annotations_only=True``, so the released layout
without images works through ``--root``, and the official toolkits' annotation folders (LaSOT ``annos/``, OTB
``anno_TB100``) through ``--annos``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from globaltrack.errors import UserError
from globaltrack.harness.cli import split_list


def add_scoring_options(parser, *, protocol: bool = True) -> None:
    """``--annos`` and ``--sequences`` (and ``--protocol``) for a command that reads a benchmark's annotations."""
    parser.add_argument("--annos", help="annotation folder of the official toolkit, instead of or beside --root "
                                        "(LaSOT toolkit annos/, OTB anno_TB100)")
    parser.add_argument("--sequences", help="comma-separated sequence names to restrict to")
    if protocol:
        parser.add_argument("--protocol", "-p", help="scoring protocol (default: the benchmark's official one); "
                                                     "see `globaltrack evaluate --list-protocols`")
        parser.add_argument("--mixed", action="store_true",
                            help="score a run folder whose sequences were made under different options or versions")


@dataclass
class ScoringSet:
    benchmark: str                      # the registered name (the results folder)
    sequences: list                     # `Sequence` objects, annotation-only where the images are absent
    missing: list[str] = field(default_factory=list)   # official sequences of the split not found on disk
    selected: bool = False              # restricted by --sequences


def canonical_benchmark(name: str | None) -> str:
    if not name:
        raise UserError("--benchmark is required")
    from globaltrack.benchmarks import BENCHMARKS

    return BENCHMARKS.get(name).name


def load_for_scoring(args, *, benchmark: str | None = None, split: str | None = None) -> ScoringSet:
    """The sequences named by ``--benchmark --root/--annos [--split] [--sequences]``, images not required. With
    ``--sequences`` only those are read (`Benchmark.load_selected`: official names, aliases, any letter case)."""
    from globaltrack.benchmarks import BENCHMARKS, get_benchmark

    bench = canonical_benchmark(benchmark or getattr(args, "benchmark", None))
    root, annos = getattr(args, "root", None), getattr(args, "annos", None)
    if not root and not annos:
        raise UserError("--root (the dataset or its annotations) or --annos (the toolkit's annotation folder) is "
                        "required")
    options = {"annotations_only": True}
    if annos:
        if "annos" not in inspect.signature(BENCHMARKS.get(bench).factory.__init__).parameters:
            raise UserError(f"{bench} reads its annotations from the dataset layout (--root); it takes no --annos")
        options["annos"] = annos
    adapter = get_benchmark(bench, root, split=split or getattr(args, "split", None), **options)
    names = split_list([args.sequences]) if getattr(args, "sequences", None) else None
    sequences = adapter.load_selected(names)
    return ScoringSet(bench, sequences, list(getattr(adapter, "missing", [])) if not names else [], bool(names))


def evaluate_from_args(args, *, allow_missing: bool = True):
    """``(evaluation, scoring set, store)``: every tracker of the results folder (or ``--tracker``) scored.
    Missing result files are allowed by default: reports and plots show them as warnings."""
    from globaltrack.results.store import ResultStore
    from globaltrack.scoring.evaluate import evaluate

    sset = load_for_scoring(args)
    store = ResultStore(args.results)
    trackers = split_list(getattr(args, "trackers", None)) or store.trackers(sset.benchmark)
    if not trackers:
        raise UserError(f"no tracker results for {sset.benchmark}", store.root / sset.benchmark)
    ev = evaluate(sset.sequences, store, sset.benchmark, trackers, protocol=protocol_from_args(args, sset),
                  allow_missing=allow_missing, jobs=getattr(args, "jobs", 1) or 1,
                  mixed=getattr(args, "mixed", False))
    return ev, sset, store


def protocol_from_args(args, sset: ScoringSet):
    """``--protocol`` with ``--set FIELD=VALUE`` overrides applied (None: the benchmark's official protocol)."""
    protocol = getattr(args, "protocol", None)
    overrides = getattr(args, "protocol_options", None)
    if not overrides:
        return protocol
    from globaltrack.harness.cli import parse_options
    from globaltrack.metrics.protocols import override
    from globaltrack.scoring.evaluate import resolve_protocol

    return override(resolve_protocol(protocol, sset.benchmark, sset.sequences), parse_options(overrides))
