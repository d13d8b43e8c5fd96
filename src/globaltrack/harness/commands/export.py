"""`globaltrack export`: write a benchmark-server submission, validated before it is written."""
from globaltrack.harness.cli import add_common_options, register_command
from globaltrack.harness.commands._scoring import add_scoring_options


@register_command("export", description="export results as a benchmark-server submission (TrackingNet, GOT-10k, "
                                        "OxUvA zips; LaSOT, TLP files), validated first")
class Export:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, trackers=True)
        add_scoring_options(parser, protocol=False)
        parser.add_argument("--out", required=True, help="output .zip (or a folder for LaSOT/TLP)")
        parser.add_argument("--partial", action="store_true",
                            help="export although some official sequences of the split are not under --root (or "
                                 "left out by --sequences); the server scores the whole split")

    @staticmethod
    def run(args):
        from globaltrack.errors import UserError
        from globaltrack.harness.cli import split_list
        from globaltrack.harness.commands._scoring import load_for_scoring
        from globaltrack.results.export import export_submission
        from globaltrack.results.servers import get_server

        trackers = split_list(args.trackers)
        if not trackers:
            raise UserError("--tracker is required (repeat it for GOT-10k repeated runs: _001, _002, _003)")
        if not args.root and not args.annos:
            raise UserError("exporting needs the dataset or its annotations (--root, or --annos) to know its "
                            "sequences and frame counts")
        fmt = get_server(args.benchmark)
        sset = load_for_scoring(args, split=args.split or fmt.split)
        if not args.partial:
            total = len(sset.sequences) + len(sset.missing)
            if (args.split or fmt.split) == fmt.split and fmt.official_count:
                total = max(total, fmt.official_count)     # TrackingNet lists its videos from the folder itself
            if total > len(sset.sequences) and not sset.selected:
                example = f" (missing e.g. {', '.join(sset.missing[:3])})" if sset.missing else ""
                raise UserError(f"{len(sset.sequences)} of {total} official {sset.benchmark} sequences found; the "
                                f"server scores all {total}{example}. Pass --partial to export the "
                                f"{len(sset.sequences)} anyway")
            if sset.selected:
                raise UserError(f"--sequences selects {len(sset.sequences)} of {total} sequences; the server scores "
                                f"all {total}. Pass --partial to export them anyway")
        out = export_submission(sset.benchmark, args.results, trackers, args.out, sequences=sset.sequences)
        print(f"{out}" + (f" (partial: {len(sset.sequences)} sequences)" if args.partial else ""))
        return 0
