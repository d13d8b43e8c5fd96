"""The ``globaltrack`` command line.

Each subcommand is a module in ``globaltrack.harness.commands`` that registers itself::

    @register_command("evaluate", help="score result files against a benchmark's annotations")
    class Evaluate:
        @staticmethod
        def add_arguments(parser): ...      # use add_common_options(parser, ...) for the shared flags
        @staticmethod
        def run(args) -> int: ...           # exit status; raise UserError for user mistakes

Command modules import nothing heavy at module level, so ``globaltrack --help`` and ``evaluate`` start fast.
User errors print one line (file, line, problem) and exit 2; ``--debug`` shows the traceback. Python warnings
raised while a command runs (a partial dataset, a weights file loaded the unsafe way) print as one plain line,
``globaltrack COMMAND: warning: MESSAGE``, not Python's file-and-source-line format.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from globaltrack import __version__
from globaltrack.errors import UserError
from globaltrack.registry import Registry

COMMANDS = Registry("command", "globaltrack.harness.commands")
register_command = COMMANDS.register


def add_common_options(parser: argparse.ArgumentParser, *, benchmark=True, root=True, results=True, reports=False,
                       jobs=False, sequences=False, trackers=False) -> None:
    """The options every command spells the same way."""
    if benchmark:
        parser.add_argument("--benchmark", "-b", help="benchmark name (see `globaltrack benchmarks`)")
        parser.add_argument("--split", help="benchmark split (default: the benchmark's official test split)")
    if root:
        parser.add_argument("--root", help="dataset folder, laid out as the benchmark distributes it")
    if results:
        parser.add_argument("--results", default="results", help="results folder (default: ./results)")
    if reports:
        parser.add_argument("--reports", default="reports", help="reports folder (default: ./reports)")
    if jobs:
        parser.add_argument("--jobs", "-j", type=int, default=1, help="parallel worker processes (default 1)")
    if sequences:
        parser.add_argument("--sequences", help="comma-separated sequence names to restrict to")
    if trackers:
        parser.add_argument("--tracker", "-t", action="append", dest="trackers", metavar="NAME",
                            help="tracker name (repeatable, or comma-separated)")


def split_list(values) -> list[str]:
    """Accept ``a,b`` and repeated flags alike."""
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in str(v).split(",") if x.strip()]
    return out


def parse_options(pairs) -> dict[str, str]:
    """``--opt key=value`` pairs to a dict."""
    opts: dict[str, str] = {}
    for p in pairs or []:
        if "=" not in p:
            raise UserError(f"--opt expects KEY=VALUE, got '{p}'")
        k, v = p.split("=", 1)
        opts[k.strip()] = v.strip()
    return opts


def _plain_warning_printer(command: str):
    """A `warnings.showwarning` that prints one line; library warnings (a deprecation inside numpy) included,
    since a user can act on neither the file nor the source line Python's format shows."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())        # one line, whatever the message holds
        print(f"globaltrack {command}: warning: {text}", file=file or sys.stderr)
    return show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="globaltrack",
        description="Long-term single-object tracking: run trackers on benchmarks, score them as the official "
                    "toolkits do, report, export, train GlobalTrack.")
    parser.add_argument("--version", action="version", version=f"globaltrack {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in COMMANDS.entries():
        cmd = entry.factory
        p = sub.add_parser(entry.name, help=entry.description, description=entry.description)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _plain_warning_printer(args.command)
            return int(args._run(args) or 0)
    except UserError as err:
        if getattr(args, "debug", False):
            raise
        print(f"globaltrack {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:       # `globaltrack evaluate ... | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
