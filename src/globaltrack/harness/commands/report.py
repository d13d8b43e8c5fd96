"""`globaltrack report`: evaluate every tracker of a benchmark and write one self-contained HTML file."""
from globaltrack.harness.cli import add_common_options, register_command
from globaltrack.harness.commands._scoring import add_scoring_options


@register_command("report", description="evaluate a benchmark's results and write a self-contained HTML report")
class Report:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, reports=True, trackers=True)
        add_scoring_options(parser)
        parser.add_argument("--out", help="output file (default: <reports>/<benchmark>.html)")
        parser.add_argument("--title", default=None, help="page title")
        parser.add_argument("--evidence", help='JSON file {"tables": ..., "notes": [...], "figures": {...}} to '
                                               "render as its own section")

    @staticmethod
    def run(args):
        import json
        from pathlib import Path

        from globaltrack.errors import UserError
        from globaltrack.reports.html import write_report
        from globaltrack.harness.commands._scoring import evaluate_from_args

        evidence = None
        if args.evidence:
            try:
                evidence = json.loads(Path(args.evidence).read_text())
            except (OSError, ValueError) as err:
                raise UserError(f"cannot read evidence JSON ({err})", args.evidence) from None
        ev, _, _ = evaluate_from_args(args)
        out = Path(args.out) if args.out else Path(args.reports) / f"{ev.benchmark}.html"
        write_report([ev], out, results_root=args.results, title=args.title or f"globaltrack report: {ev.benchmark}",
                     evidence=evidence)
        print(out)
        return 0
