"""`globaltrack validate-submission FILE`: check a submission zip or folder; one line per problem."""
from globaltrack.harness.cli import register_command
from globaltrack.harness.commands._scoring import add_scoring_options


@register_command("validate-submission", description="check a benchmark-server submission (names, row counts, "
                                                     "delimiter, NaN, negative sizes, time files, zip root)")
class ValidateSubmission:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("file", help="submission .zip or folder")
        parser.add_argument("--benchmark", "-b", required=True,
                            help="trackingnet, got10k, oxuva, lasot, tlp (or synthetic)")
        parser.add_argument("--root", help="dataset folder (images not needed): check sequence names and row "
                                           "counts against it")
        parser.add_argument("--split", help="split the server scores (default: test)")
        add_scoring_options(parser, protocol=False)

    @staticmethod
    def run(args):
        from globaltrack.results.servers import get_server
        from globaltrack.results.validate import validate_submission

        sequences = None
        if args.root or args.annos:
            from globaltrack.harness.commands._scoring import load_for_scoring

            sequences = load_for_scoring(args, split=args.split or get_server(args.benchmark).split).sequences
        problems = validate_submission(args.file, args.benchmark, sequences=sequences)
        for line in problems:
            print(line)
        if problems:
            print(f"{args.file}: {len(problems)} problems", flush=True)
            return 1
        print(f"{args.file}: OK" + ("" if sequences is not None else
                                    " (structure only; give --root or --annos to check row counts)"))
        return 0
