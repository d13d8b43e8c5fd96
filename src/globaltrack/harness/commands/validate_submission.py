"""`globaltrack validate-submission FILE`: check a submission zip or folder; one line per problem."""
from globaltrack.harness.cli import register_command


@register_command("validate-submission", description="check a benchmark-server submission (names, row counts, "
                                                     "delimiter, NaN, negative sizes, time files, zip root)")
class ValidateSubmission:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("file", help="submission .zip or folder")
        parser.add_argument("--benchmark", "-b", required=True,
                            help="trackingnet, got10k, oxuva, lasot, tlp (or synthetic)")
        parser.add_argument("--root", help="dataset folder: check sequence names and row counts against it")
        parser.add_argument("--split", help="split the server scores (default: test)")

    @staticmethod
    def run(args):
        from globaltrack.results.validate import validate_submission

        problems = validate_submission(args.file, args.benchmark, root=args.root, split=args.split)
        for line in problems:
            print(line)
        if problems:
            print(f"{args.file}: {len(problems)} problems", flush=True)
            return 1
        print(f"{args.file}: OK" + ("" if args.root else " (structure only; give --root to check row counts)"))
        return 0
