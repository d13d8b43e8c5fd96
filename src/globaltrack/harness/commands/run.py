"""`globaltrack run`: run trackers over a benchmark and write result files (resumable, parallel)."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from globaltrack.errors import UserError
from globaltrack.harness.cli import add_common_options, parse_options, register_command, split_list

EPILOG = """\
examples:
  # try it without downloading anything: write the synthetic benchmark, run two trackers on it
  globaltrack synth --out data/synthetic && globaltrack run -b synthetic --root data/synthetic -t kcf,static

  # GlobalTrack and KCF on LaSOT's test split, 4 worker processes, results in ./results/lasot/<tracker>/
  globaltrack run -b lasot --root /data/LaSOT -t globaltrack -t kcf -j 4

  # options for every tracker listed (--opt), or for one tracker (NAME:KEY=VALUE,KEY2=VALUE)
  globaltrack run -b otb2015 --root /data/OTB100 -t globaltrack:batch=8,threshold=0.5 -t oracle:noise=0.1

  # option variants of one tracker, each stored under its own name (results/otb2015/oracle-0.1/ ...)
  globaltrack run -b otb2015 --root /data/OTB100 -t oracle:noise=0.1,name=oracle-0.1 -t oracle:noise=0.2,name=oracle-0.2

  # two sequences only; rerun them even if their results are current
  globaltrack run -b lasot --root /data/LaSOT -t kcf --sequences airplane-1,bird-2 --force

  # GlobalTrack r50 on two GPUs: one worker each, longest sequences first, bf16, 8 frames per forward pass
  globaltrack run -b lasot --root /data/LaSOT -t globaltrack --opt config=r50_fpn --opt weights=r50.pth --gpus 2

  # on a Dask cluster (workers must see the dataset's paths; results are written here)
  globaltrack run -b lasot --root /data/LaSOT -t kcf --backend dask --scheduler tcp://10.0.0.5:8786

A rerun skips sequences whose results exist and were produced with the same tracker options, package version and
annotations, so an interrupted run continues where it stopped. A sequence fails alone (a malformed annotation, a
missing or corrupt frame, a tracker that raises) and the run goes on: failures are listed with their file and line
in <results>/<benchmark>/<tracker>/manifest.json and make the exit status 1; user errors (unknown tracker, bad
option, missing or corrupt weights) stop the run before it starts and exit with 2.
See `globaltrack trackers` and `globaltrack benchmarks` for the names.
"""


def parse_tracker_specs(values, common: dict[str, str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """``-t a,b -t c:k=v,k2=v2`` -> ``[("a", {}), ("b", {}), ("c", {"k": "v", "k2": "v2"})]``.

    Items are comma-separated; ``NAME:KEY=VALUE`` starts a tracker with an option, and a following ``KEY=VALUE``
    item (with no ``:``) adds another option to that tracker. ``common`` options (``--opt``) apply to every tracker,
    per-tracker options override them.
    """
    specs: list[tuple[str, dict[str, str]]] = []
    for value in values or []:
        last_had_opts = False
        for item in str(value).split(","):
            item = item.strip()
            if not item:
                continue
            if ":" in item:
                name, opt = item.split(":", 1)
                specs.append((name.strip(), {}))
                if opt.strip():
                    specs[-1][1].update(parse_options([opt]))
                last_had_opts = True
            elif "=" in item:
                if not specs or not last_had_opts:
                    raise UserError(f"--tracker: option '{item}' does not follow a NAME:KEY=VALUE item "
                                    f"(write NAME:{item})")
                specs[-1][1].update(parse_options([item]))
            else:
                specs.append((item, {}))
                last_had_opts = False
    common = common or {}
    return [(name, {**common, **opts}) for name, opts in specs]


@register_command("run", description="run trackers over a benchmark's sequences and write result files")
class Run:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = EPILOG
        add_common_options(parser, jobs=True, sequences=True, trackers=True)
        parser.add_argument("--opt", "-o", action="append", metavar="KEY=VALUE",
                            help="tracker option for every listed tracker (repeatable)")
        parser.add_argument("--name", help="store the run under this name (one tracker; default: the tracker's "
                                           "name; per tracker: -t NAME:KEY=VALUE,name=RUN)")
        parser.add_argument("--force", action="store_true",
                            help="rerun sequences whose results are current; replace a run of other options")
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or per-failure lines")
        parser.add_argument("--backend", choices=("loky", "threading", "dask"), default="loky",
                            help="loky: worker processes here (default); threading: worker threads; "
                                 "dask: a Dask cluster given by --scheduler")
        parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler address (--backend dask)")
        parser.add_argument("--devices", metavar="cuda:0,cuda:1",
                            help="one worker per device, longest sequences first; GPU defaults dtype=bfloat16, "
                                 "batch=8 (with --backend dask: each worker uses its own machine's GPU)")
        parser.add_argument("--gpus", type=int, metavar="N", help="shorthand for --devices cuda:0,...,cuda:N-1")

    @staticmethod
    def run(args) -> int:
        from globaltrack.benchmarks import load_sequences
        from globaltrack.harness.runner import run_trackers
        from globaltrack.results.store import ResultStore

        if not args.benchmark:
            raise UserError("--benchmark is required (see `globaltrack benchmarks`)")
        if not args.root:
            raise UserError("--root is required: the dataset folder")
        root = Path(args.root)
        if not root.is_dir():
            raise UserError("dataset folder does not exist", root)
        trackers = parse_tracker_specs(args.trackers, parse_options(args.opt))
        if not trackers:
            raise UserError("--tracker is required (see `globaltrack trackers`)")
        if args.name:
            if len(trackers) > 1:
                raise UserError("--name names one run; give each tracker its own: -t NAME:name=RUN")
            trackers[0][1]["name"] = args.name
        if args.scheduler and args.backend != "dask":
            raise UserError("--scheduler needs --backend dask")
        from globaltrack.harness.devices import check_devices_available, device_options, parse_device_list

        devices = parse_device_list(args.devices, args.gpus)
        if devices:
            trackers = [(name, device_options(devices, opts)) for name, opts in trackers]
            if args.backend == "dask":
                devices = None  # every Dask task asks for device=cuda: its worker's own GPU
            else:
                check_devices_available(devices)
        names = split_list([args.sequences]) if args.sequences else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # errors="collect": a sequence with a malformed file becomes this run's failure, not the run's end
            sequences = load_sequences(args.benchmark, root, split=args.split, names=names, errors="collect")
        for w in caught:  # adapters warn about partial datasets: one plain line each, not Python's warning format
            print(f"globaltrack run: warning: {w.message}", file=sys.stderr)
        from globaltrack.benchmarks import BENCHMARKS

        benchmark = BENCHMARKS.get(args.benchmark).name  # the canonical name, not an alias, names the folder
        summary = run_trackers(trackers, sequences, benchmark, ResultStore(args.results), jobs=args.jobs,
                               backend=args.backend, scheduler=args.scheduler, force=args.force, quiet=args.quiet,
                               devices=devices)
        for line in summary.lines():
            print(line)
        return 0 if summary.ok else 1
