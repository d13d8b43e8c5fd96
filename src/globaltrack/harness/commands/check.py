"""`globaltrack check`: validate a dataset folder against its benchmark's official layout and sequence list."""
from globaltrack.harness.cli import add_common_options, parse_options, register_command


@register_command("check", description="validate a dataset folder: sequences found/missing, frames vs annotation "
                                       "rows, malformed files (exit 1 on problems)")
class Check:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, benchmark=True, root=True, results=False)
        parser.add_argument("--annos", help="annotation folder read instead of the dataset's own files (LaSOT toolkit "
                                            "annos/, OTB anno_TB100/)")
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
        bench = get_benchmark(args.benchmark, args.root, split=args.split, **opts)
        if hasattr(bench, "inspect"):
            rep = bench.inspect()
            found, missing, problems, notes = rep.found, rep.missing, rep.problems, rep.notes
        else:  # adapters outside this package only promise check()
            problems = bench.check()
            found, missing, notes = [(s.name, len(s.frames), len(s.ground_truth)) for s in bench.load()], [], []
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
        total = len(found) + len(missing)
        print(f"{len(found)} of {total} sequences found, {len(missing)} missing, {len(problems)} problem(s)")
        return 1 if problems else 0
