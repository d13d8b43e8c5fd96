"""`globaltrack evaluate`: score result files against a benchmark's annotations (no images needed)."""
from __future__ import annotations

from globaltrack.harness.cli import add_common_options, register_command, split_list

_COLUMNS = ("auc", "precision", "norm_precision", "sr50", "ao", "sr75", "tpr", "tnr", "gm", "max_gm", "f_score",
            "lt_precision", "lt_recall", "fps")


def format_table(evaluation) -> str:
    """A plain-text table: one row per tracker (ranked by the protocol's first metric), values on the 0-1 scale."""
    cols = [c for c in _COLUMNS if any(c in t.scores for t in evaluation.trackers.values())]
    cols += sorted({k for t in evaluation.trackers.values() for k in t.scores if k not in cols})
    key = cols[0] if cols else "auc"
    try:
        from globaltrack.metrics.protocols import get_protocol

        primary = get_protocol(evaluation.protocol).primary_metric
        key = primary if primary in cols else key
    except Exception:  # noqa: BLE001 - a custom protocol object not in the registry
        pass
    width = max([len("tracker")] + [len(n) + 2 for n in evaluation.trackers])
    lines = [f"{evaluation.benchmark} / protocol {evaluation.protocol} ({len(evaluation.sequences)} sequences)",
             "tracker".ljust(width) + "".join(c.rjust(15) for c in cols)]
    for name in evaluation.ranking(key):
        t = evaluation.trackers[name]
        mark = ("*" if t.imported else "") + ("~" if t.diagnostic else "")
        row = (name + mark).ljust(width)
        for c in cols:
            v = t.scores.get(c)
            row += ("-" if v is None else (f"{v:.1f}" if c == "fps" else f"{v:.4f}")).rjust(15)
        lines.append(row)
        extra = []
        if t.missing:
            extra.append(f"{len(t.missing)} missing")
        if t.failed:
            extra.append(f"{len(t.failed)} failed")
        n_notes = len(t.notes)
        if n_notes:
            extra.append(f"{n_notes} notes (see --json)")
        if extra:
            lines.append(" " * width + "  " + ", ".join(extra))
    if any(t.imported for t in evaluation.trackers.values()):
        lines.append("* imported results")
    if any(t.diagnostic for t in evaluation.trackers.values()):
        lines.append("~ diagnostic tracker")
    return "\n".join(lines)


@register_command("evaluate", description="score result files against a benchmark's annotations")
class Evaluate:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, sequences=True, trackers=True, jobs=True)
        parser.add_argument("--annos", help="annotation folder, when it differs from --root (e.g. the LaSOT "
                                            "toolkit's annos/)")
        parser.add_argument("--protocol", "-p", help="protocol (default: the benchmark's official one); "
                                                     "see `globaltrack evaluate --list-protocols`")
        parser.add_argument("--json", metavar="FILE", help="write the scores as JSON")
        parser.add_argument("--allow-missing", action="store_true",
                            help="score missing result files as the protocol's toolkit does instead of failing")
        parser.add_argument("--set", action="append", metavar="FIELD=VALUE", dest="protocol_options",
                            help="override a protocol field, e.g. --set bootstrap_trials=100 (OxUvA) or "
                                 "--set iou_threshold=0.7 (repeatable)")
        parser.add_argument("--list-protocols", action="store_true", help="list protocols and exit")

    @staticmethod
    def run(args) -> int:
        from globaltrack.errors import UserError
        from globaltrack.metrics.evaluate import evaluate, write_json
        from globaltrack.metrics.protocols import PROTOCOLS

        if args.list_protocols:
            for e in PROTOCOLS.entries():
                print(f"{e.name:18s} {e.description}")
            return 0
        if not args.benchmark:
            raise UserError("--benchmark is required")
        if not args.root and not args.annos:
            raise UserError("--root (the dataset or annotation folder) is required")
        from globaltrack.benchmarks import load_sequences
        from globaltrack.metrics.evaluate import canonical_benchmark

        opts = {}
        if args.annos:
            opts["annos"] = args.annos
        names = split_list([args.sequences]) if args.sequences else None
        seqs = load_sequences(args.benchmark, args.root, args.split, names, **opts)
        trackers = split_list(args.trackers) or None
        protocol = args.protocol
        if args.protocol_options:
            from globaltrack.harness.cli import parse_options
            from globaltrack.metrics.evaluate import resolve_protocol
            from globaltrack.metrics.protocols import override

            base = resolve_protocol(protocol, canonical_benchmark(args.benchmark), seqs)
            protocol = override(base, parse_options(args.protocol_options))
        # results live under the registered name, as `globaltrack run` writes them
        ev = evaluate(seqs, args.results, canonical_benchmark(args.benchmark), trackers, protocol=protocol,
                      allow_missing=args.allow_missing, jobs=args.jobs)
        print(format_table(ev))
        if args.json:
            write_json(ev, args.json)
        return 0
