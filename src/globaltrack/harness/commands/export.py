"""`globaltrack export`: write a benchmark-server submission, validated before it is written."""
from globaltrack.harness.cli import add_common_options, register_command


@register_command("export", description="export results as a benchmark-server submission (TrackingNet, GOT-10k, "
                                        "OxUvA zips; LaSOT, TLP files), validated first")
class Export:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, trackers=True)
        parser.add_argument("--out", required=True, help="output .zip (or a folder for LaSOT/TLP)")

    @staticmethod
    def run(args):
        from globaltrack.harness.cli import split_list
        from globaltrack.reports.run_evaluation import canonical_benchmark
        from globaltrack.results.export import export_submission
        from globaltrack.errors import UserError

        bench = canonical_benchmark(args.benchmark)
        trackers = split_list(args.trackers)
        if not trackers:
            raise UserError("--tracker is required (repeat it for GOT-10k repeated runs: _001, _002, _003)")
        out = export_submission(bench, args.results, trackers, args.out, root=args.root, split=args.split)
        print(out)
        return 0
