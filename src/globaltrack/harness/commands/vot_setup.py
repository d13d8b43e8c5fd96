"""`globaltrack vot-setup`: write a VOT toolkit workspace whose trackers are ours, served over TraX.

    globaltrack vot-setup --workspace vot_ws --trackers kcf,globaltrack --sequences path/to/vot/bag --frames 40
    cd vot_ws && vot test kcf && vot evaluate kcf && vot analysis kcf

Options: ``--opt KEY=VALUE`` applies to every listed tracker, ``--opt NAME:KEY=VALUE`` to one.
"""
from globaltrack.errors import UserError
from globaltrack.harness.cli import add_common_options, parse_options, register_command, split_list


def tracker_options(names: list[str], pairs) -> dict[str, dict[str, str]]:
    """``--opt KEY=VALUE`` for all trackers; ``--opt NAME:KEY=VALUE`` for tracker NAME only."""
    per = {n: {} for n in names}
    for key, value in parse_options(pairs).items():
        target, sep, opt = key.partition(":")
        if sep:
            if target not in per:
                raise UserError(f"--opt {key}={value}: '{target}' is not among --trackers ({', '.join(names)})")
            per[target][opt] = value
        else:
            for n in names:
                per[n][key] = value
    return per


@register_command("vot-setup", description="write a VOT toolkit workspace (trackers.ini, config.yaml, local stack) "
                                           "that runs our trackers through TraX")
class VotSetup:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--workspace", "-w", required=True, help="workspace folder (created if missing)")
        parser.add_argument("--trackers", "-t", action="append", required=True, metavar="NAME[,NAME...]",
                            help="registered tracker names (see `globaltrack trackers`)")
        parser.add_argument("--opt", action="append", default=[], metavar="[NAME:]KEY=VALUE",
                            help="tracker option; NAME: restricts it to one tracker")
        parser.add_argument("--stack", default="local",
                            help="'local' (default: a one-experiment long-term stack over --sequences), or a VOT "
                                 "integrated stack such as vot2022/longterm (the toolkit downloads its dataset)")
        parser.add_argument("--sequences", help="local stack: a VOT sequence folder or a folder of them")
        add_common_options(parser, benchmark=True, root=True, results=False)
        parser.add_argument("--sequence-names", dest="sequence_names",
                            help="with --benchmark: comma-separated sequence names to export")
        parser.add_argument("--frames", type=int, help="keep only the first N frames of each sequence (quick tests)")
        parser.add_argument("--python", help="interpreter the toolkit starts the tracker with (default: this one)")
        parser.add_argument("--force", action="store_true", help="replace an existing config.yaml")

    @staticmethod
    def run(args):
        from globaltrack.interop.vot import TrackerEntry, find_vot_sequences, from_sequences, setup_workspace, \
            tracker_identifier
        from globaltrack.trackers import TRACKERS, create_tracker

        names = split_list(args.trackers)
        for n in names:
            TRACKERS.get(n)  # unknown names fail here, listing the known ones
        options = tracker_options(names, args.opt)
        for n in names:
            # build each tracker once with its options: a missing weight/ONNX file or a bad option is reported
            # here in one line, not later inside the toolkit's tracker log
            create_tracker(n, **options[n])
        entries = [TrackerEntry(tracker_identifier(n), n, options[n]) for n in names]

        sources = None
        if args.sequences and args.benchmark:
            raise UserError("give either --sequences or --benchmark, not both")
        if args.sequences:
            sources = find_vot_sequences(args.sequences)
        elif args.benchmark:
            from globaltrack.benchmarks import load_sequences

            if not args.root:
                raise UserError("--benchmark needs --root (the dataset folder)")
            seqs = load_sequences(args.benchmark, args.root, split=args.split,
                                  names=split_list([args.sequence_names]) or None)
            notes: list[str] = []
            sources = from_sequences(seqs, notes)
            for note in notes:
                print(f"note: {note}")
            if not sources:
                raise UserError("no sequence left to export (see the notes above)")
        if args.frames is not None and args.frames < 2:
            raise UserError("--frames must be at least 2")

        summary = setup_workspace(args.workspace, entries, stack=args.stack, sequences=sources, frames=args.frames,
                                  python=args.python, force=args.force)
        ws = summary["workspace"]
        print(f"VOT workspace {ws}: stack {summary['stack']}, trackers {', '.join(summary['trackers'])}"
              + (f", {len(summary['sequences'])} sequence(s)" if summary["sequences"] else ""))
        first = summary["trackers"][0]
        print(f"next: cd {ws} && vot test {first} && vot evaluate {first} && vot analysis {first}")
        return 0
