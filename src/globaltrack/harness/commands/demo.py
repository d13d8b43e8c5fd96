"""`globaltrack demo`: the whole pipeline on the bundled synthetic long-term benchmark, no downloads needed.

Generate the synthetic test split -> run every tracker that works here without external files (GlobalTrack when its
default weights are shipped, the OpenCV baselines, the diagnostics) -> score with the LaSOT protocol -> print the
leaderboard -> write ``reports/demo.html``. A tracker that cannot run here is skipped with its reason; a missing
core piece (evaluation, report) is an error, never papered over.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from globaltrack.harness.cli import add_common_options, register_command, split_list

# Dataset sizes: the full demo is the synthetic test split (seed 0) at the generator's default size; --quick is a
# smoke test of the same pipeline.
FULL = {"sequences": 8, "frames": 300}
QUICK = {"sequences": 3, "frames": 60}
SEED = 0
# Left out of the default demo to keep it under 5 minutes on 2 cores; `--all` (or `-t NAME`) runs them. Both are
# short-term trackers at ~20-40 fps here that add nothing the other OpenCV baselines do not show.
SLOW = {"mil": "slow short-term baseline (~30 fps)", "boosting": "slow short-term baseline (~30 fps)"}
# Trackers without temporal state (they declare track_batch: GlobalTrack) get frames in batches of this size: same
# predictions, several times faster on a CPU.
BATCH = 8

EPILOG = """\
examples:
  globaltrack demo                  # ./results/synthetic/<tracker>/, ./reports/demo.html
  globaltrack demo --quick          # 3 short sequences: checks the installation in under a minute
  globaltrack demo -t kcf -t static --results /tmp/r --reports /tmp/rep

Rerunning reuses finished results (see `globaltrack run --help`); --force recomputes them.
"""


def evidence_path() -> Path:
    from globaltrack.trackers.globaltrack import shipped_weights_dir

    return shipped_weights_dir() / "evidence.json"


def demo_evidence() -> dict | None:
    """The report's evidence section: the default model's evidence on real data (``evidence_lite0_real.json``)
    first; from the synthetic evidence only what real data cannot show here (absences and cuts), labelled as such."""
    from globaltrack.training.evidence import load_evidence
    from globaltrack.training.real_evidence import report_tables

    real_path = evidence_path().with_name("evidence_lite0_real.json")
    out = report_tables(json.loads(real_path.read_text())) if real_path.is_file() else {"tables": {}, "notes": []}
    if evidence_path().is_file():
        synthetic = load_evidence(evidence_path())  # resolves its figure paths, stored relative to the file
        for title, table in (synthetic.get("tables") or {}).items():
            if title.startswith("Long-term"):
                out["tables"][f"Synthetic test split, tiny model: {title}"] = table
        out["notes"] += [f"Synthetic: {n}" for n in synthetic.get("notes") or [] if n.startswith(("Synthetic",
                                                                                                    "Absences"))]
        out["figures"] = {f"Synthetic, tiny model: {c}": p for c, p in (synthetic.get("figures") or {}).items()}
    return out if out["tables"] else None


def demo_trackers(only: list[str] | None = None, say=print, include_slow: bool = False) -> list[tuple[str, dict]]:
    """Registered trackers that can run here with no options: available, and constructible without files.

    Test-only trackers and those registered with ``demo=False`` are left out. Each skipped tracker is printed with
    its reason (``say``).
    """
    from globaltrack.errors import UserError
    from globaltrack.trackers import TRACKERS, supports_batch

    chosen: list[tuple[str, dict]] = []
    entries = [TRACKERS.get(n) for n in only] if only else TRACKERS.entries()
    for entry in entries:
        if not only and (entry.extra.get("test_only") or entry.extra.get("demo") is False):
            continue
        if not only and not include_slow and entry.name in SLOW:
            say(f"skip {entry.name}: {SLOW[entry.name]}; include it with --all or -t {entry.name}")
            continue
        check = entry.extra.get("available")
        ok, why = check() if check is not None else (True, "")
        if not ok:
            say(f"skip {entry.name}: {why}")
            continue
        try:
            # Building one with no options is how we learn a tracker needs files (NanoTrack's ONNX models, a
            # got10k class): its factory says so with a UserError.
            probe = entry.factory()
        except UserError as err:
            say(f"skip {entry.name}: needs options or files ({err})")
            continue
        except Exception as err:  # a tracker broken here must not take the demo down with it
            say(f"skip {entry.name}: cannot be created here ({type(err).__name__}: {err})")
            continue
        chosen.append((entry.name, {"batch": str(BATCH)} if supports_batch(probe) else {}))
    return chosen


@register_command("demo", description="generate the synthetic benchmark, run GlobalTrack and baselines, score, "
                                      "write reports/demo.html")
class Demo:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = EPILOG
        add_common_options(parser, benchmark=False, root=False, reports=True, trackers=True)
        parser.add_argument("--data", help="where the synthetic dataset is written (default: <results>/.demo-data)")
        parser.add_argument("--quick", action="store_true",
                            help=f"{QUICK['sequences']} sequences of {QUICK['frames']} frames instead of "
                                 f"{FULL['sequences']} of {FULL['frames']}")
        parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                            help="parallel worker processes (default: all cores)")
        parser.add_argument("--all", action="store_true", dest="all_trackers",
                            help=f"also run the slow baselines left out by default ({', '.join(SLOW)})")
        parser.add_argument("--force", action="store_true", help="recompute results that are current")
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    @staticmethod
    def run(args) -> int:
        from globaltrack.benchmarks import load_sequences
        from globaltrack.benchmarks.synthetic import generate
        from globaltrack.errors import UserError
        from globaltrack.harness.runner import run_trackers
        from globaltrack.scoring.evaluate import evaluate
        from globaltrack.reports.html import write_report
        from globaltrack.scoring.leaderboard import build_leaderboard, to_text
        from globaltrack.results.store import ResultStore

        started = time.perf_counter()
        size = QUICK if args.quick else FULL
        results = Path(args.results)
        data = Path(args.data) if args.data else results / ".demo-data" / \
            f"synthetic-test-seed{SEED}-{size['sequences']}x{size['frames']}"
        print(f"synthetic benchmark: {size['sequences']} sequences x {size['frames']} frames -> {data}", flush=True)
        generate(data, seed=SEED, split="test", **size)
        sequences = load_sequences("synthetic", data, split="test")

        trackers = demo_trackers(split_list(args.trackers) or None, include_slow=args.all_trackers)
        if not trackers:
            raise UserError("no tracker can run here (see `globaltrack trackers`)")
        print("trackers: " + ", ".join(n for n, _ in trackers), flush=True)
        store = ResultStore(results)
        summary = run_trackers(trackers, sequences, "synthetic", store, jobs=args.jobs, force=args.force,
                               quiet=args.quiet)
        for line in summary.lines():
            print(line)

        evaluation = evaluate(sequences, store, "synthetic", [n for n, _ in trackers], protocol="lasot",
                              allow_missing=True)
        report = write_report([evaluation], Path(args.reports) / "demo.html", results_root=results,
                              title="globaltrack demo: synthetic long-term benchmark", evidence=demo_evidence())
        print()
        print(to_text(build_leaderboard(evaluation)), end="")
        print(f"\nreport: {report}  (demo took {time.perf_counter() - started:.0f} s)")
        return 0 if summary.ok else 1
