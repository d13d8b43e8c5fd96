"""`globaltrack check`: validate a dataset folder against its benchmark's official layout and sequence list."""
from globaltrack.harness.cli import add_common_options, parse_options, register_command, split_list
from globaltrack.harness.progress import plural


@register_command("check", description="validate a dataset folder: sequences found/missing, frames vs annotation "
                                       "rows, malformed files, missing or corrupt frames (exit 1 on problems)")
class Check:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, benchmark=True, root=True, results=False, sequences=True)
        parser.add_argument("--annos", help="annotation folder read instead of the dataset's own files (LaSOT toolkit "
                                            "annos/, OTB anno_TB100/)")
        parser.add_argument("--frames", nargs="?", const="headers", choices=("headers", "decode"),
                            help="also open every frame file: 'headers' (default) reads each header and checks that a "
                                 "JPEG is complete; 'decode' decodes every frame (slow)")
        parser.add_argument("--opt", "-o", action="append", metavar="KEY=VALUE",
                            help="benchmark option, e.g. json=OTB2015.json (repeatable)")
        parser.add_argument("--quiet", "-q", action="store_true", help="print only problems and the summary")

    @staticmethod
    def run(args) -> int:
        from globaltrack.benchmarks import get_benchmark
        from globaltrack.errors import UserError

        if not args.benchmark:
            raise UserError("--benchmark is required")
        opts = parse_options(args.opt)
        if args.annos:
            opts["annos"] = args.annos
        if not args.root and not opts:
            raise UserError("--root is required (the dataset folder)")
        names = split_list([args.sequences]) if args.sequences else None
        bench = get_benchmark(args.benchmark, args.root, split=args.split, **opts)
        unreadable: list[str] = []
        if hasattr(bench, "inspect"):
            rep = bench.inspect(names=names, frames=args.frames)
            found, missing, problems, notes = rep.found, rep.missing, rep.problems, rep.notes
            unreadable, total = rep.unreadable, rep.total
        else:  # adapters outside this package only promise check() and load_selected()
            from globaltrack.benchmarks._common import verify_frames

            problems = [] if names else bench.check()
            seqs = bench.load_selected(names, errors="collect")
            unreadable = [s.name for s in seqs if s.load_error]
            problems += [f"{s.name}: {s.load_error}" for s in seqs if s.load_error]
            seqs = [s for s in seqs if not s.load_error]
            found = [(s.name, len(s.frames), len(s.ground_truth)) for s in seqs]
            if args.frames:
                for s in seqs:
                    problems += [f"{s.name}: {p}" for p in verify_frames(s.frames, decode=args.frames == "decode")]
            missing, notes, total = [], [], len(found) + len(unreadable)
        where = args.root or opts.get("annos") or opts.get("json")
        print(f"{bench.name} split '{bench.split}' at {where}")
        if not args.quiet:
            for name, images, rows in found:
                flag = "" if images in (0, rows) or rows == 1 else "   <- differs"
                img = "no images (annotation only)" if images == 0 else f"{images} frames"
                print(f"  {name:32s} {img:>28s}  {rows:6d} annotation rows{flag}")
            for note in notes:
                print(f"  note: {note}")
        if missing:
            print(f"missing ({len(missing)}): {', '.join(missing)}")
        for p in problems:
            print(f"problem: {p}")
        what = "selected" if names else "official"
        parts = [f"{len(found)} of {plural(total, what + ' sequence')} found"]
        if unreadable:
            parts.append(f"{len(unreadable)} unreadable")
        parts.append(f"{len(missing)} missing")
        checked = {"headers": ", every frame's header checked", "decode": ", every frame decoded"}.get(args.frames, "")
        print(", ".join(parts) + f"; {plural(len(problems), 'problem')}{checked}")
        return 1 if problems else 0
