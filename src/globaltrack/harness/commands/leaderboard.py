"""`globaltrack leaderboard`: rank every tracker in the results folder (ours and imported); CSV, Markdown, LaTeX."""
from globaltrack.harness.cli import add_common_options, register_command
from globaltrack.harness.commands._scoring import add_scoring_options


@register_command("leaderboard", description="print the ranking of every tracker on a benchmark and write "
                                             "CSV/Markdown/LaTeX tables")
class Leaderboard:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, reports=True, trackers=True)
        add_scoring_options(parser)

    @staticmethod
    def run(args):
        from globaltrack.harness.commands._scoring import evaluate_from_args
        from globaltrack.scoring.leaderboard import build_leaderboard, to_text, write_leaderboard

        ev, _, _ = evaluate_from_args(args)
        print(to_text(build_leaderboard(ev)), end="")
        for path in write_leaderboard(ev, args.reports).values():
            print(path)
        return 0
