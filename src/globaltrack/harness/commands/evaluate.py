"""`globaltrack evaluate`: score result files against a benchmark's annotations (no images needed)."""
from __future__ import annotations

from globaltrack.harness.cli import add_common_options, register_command
from globaltrack.harness.commands._scoring import add_scoring_options

def format_table(evaluation) -> str:
    """A plain-text table: one row per tracker, ranked as `leaderboard` ranks (`measures.rank`), values on the 0-1
    scale (fps as is)."""
    from globaltrack.scoring import measures
    from globaltrack.scoring.leaderboard import metric_keys, primary_metric, ranked_trackers

    cols = metric_keys(evaluation)
    width = max([len("tracker")] + [len(n) + 2 for n in evaluation.trackers])
    lines = [f"{evaluation.benchmark} / protocol {evaluation.protocol} ({len(evaluation.sequences)} sequences)",
             "tracker".ljust(width) + "".join(c.rjust(15) for c in cols)]
    for name in ranked_trackers(evaluation, primary_metric(evaluation)):
        t = evaluation.trackers[name]
        mark = ("*" if t.imported else "") + ("~" if t.diagnostic else "")
        row = (name + mark).ljust(width)
        for c in cols:
            row += measures.measure(c).format(t.scores.get(c), scaled=False).rjust(15)
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
        add_common_options(parser, trackers=True, jobs=True)
        add_scoring_options(parser)
        parser.add_argument("--json", metavar="FILE", help="write the scores as JSON")
        parser.add_argument("--allow-missing", action="store_true",
                            help="score missing result files as the protocol's toolkit does instead of failing")
        parser.add_argument("--set", action="append", metavar="FIELD=VALUE", dest="protocol_options",
                            help="override a protocol field, e.g. --set bootstrap_trials=100 (OxUvA) or "
                                 "--set iou_threshold=0.7 (repeatable)")
        parser.add_argument("--list-protocols", action="store_true", help="list protocols and exit")

    @staticmethod
    def run(args) -> int:
        from globaltrack.harness.commands._scoring import evaluate_from_args
        from globaltrack.metrics.protocols import PROTOCOLS
        from globaltrack.scoring.evaluate import write_json

        if args.list_protocols:
            for e in PROTOCOLS.entries():
                print(f"{e.name:18s} {e.description}")
            return 0
        ev, _, _ = evaluate_from_args(args, allow_missing=args.allow_missing)
        print(format_table(ev))
        if args.json:
            write_json(ev, args.json)
        return 0
