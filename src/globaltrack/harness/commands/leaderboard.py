"""`globaltrack leaderboard`: rank every tracker in the results folder (ours and imported); CSV, Markdown, LaTeX."""
from globaltrack.harness.cli import add_common_options, register_command


@register_command("leaderboard", description="print the ranking of every tracker on a benchmark and write "
                                             "CSV/Markdown/LaTeX tables")
class Leaderboard:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, reports=True, sequences=True, trackers=True)
        parser.add_argument("--protocol", help="scoring protocol (default: the benchmark's official one)")

    @staticmethod
    def run(args):
        from globaltrack.reports.run_evaluation import evaluate_from_args
        from globaltrack.results.leaderboard import build_leaderboard, to_text, write_leaderboard

        ev, _, _ = evaluate_from_args(args)
        print(to_text(build_leaderboard(ev)), end="")
        for path in write_leaderboard(ev, args.reports).values():
            print(path)
        return 0
