"""Success AUC of GlobalTrack (the default model), CSRT and NanoTrack on the real held-out test sequences.

    python bench/real_sequences.py                       # ../shared/data/sequences, ../shared/data/weights/nanotrack_v2
    python bench/real_sequences.py --out results-real --json real.json

The sequences (../shared/data/SOURCES.md): OTB Couple, Crossing, Jogging-1/-2, VOT bag, TinyTLP CarChase2, read by
the benchmarks' own loaders; every tracker's boxes go to one result store, scored with the ``otb`` rules (OTB MATLAB
toolkit) and with the ``lasot`` rules (LaSOT toolkit), pooled over the six targets. Never train on these.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parents[1]
SEQUENCES = ROOT.parent / "shared" / "data" / "sequences"
NANOTRACK = ROOT.parent / "shared" / "data" / "weights" / "nanotrack_v2"
LAYOUTS = (("otb2015", "otb"), ("vot", "vot"), ("tinytlp", "tlp"))


def load_all(root: Path):
    from globaltrack.benchmarks import load_sequences

    seqs = []
    for bench, folder in LAYOUTS:
        if (root / folder).is_dir():
            seqs += load_sequences(bench, root / folder)
    return seqs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(SEQUENCES))
    ap.add_argument("--out", default="work_dirs/real-sequences")
    ap.add_argument("--trackers", default="globaltrack,csrt,nanotrack")
    ap.add_argument("--opt", action="append", default=[], help="TRACKER:KEY=VALUE for one tracker")
    ap.add_argument("--json", default=None, help="also write the table here")
    args = ap.parse_args(argv)

    from globaltrack.harness.runner import run_trackers
    from globaltrack.scoring.evaluate import evaluate
    from globaltrack.results.store import ResultStore

    seqs = load_all(Path(args.root))
    if not seqs:
        print(f"no sequences under {args.root}")
        return 1
    opts: dict[str, dict] = {"nanotrack": {"models": str(NANOTRACK)}}
    for o in args.opt:
        name, kv = o.split(":", 1)
        k, v = kv.split("=", 1)
        opts.setdefault(name, {})[k] = v
    trackers = [(t, opts.get(t, {})) for t in args.trackers.split(",") if t]
    store = ResultStore(Path(args.out))
    run_trackers(trackers, seqs, "real", store, quiet=True)
    table = {"sequences": [s.name for s in seqs], "frames": sum(len(s) for s in seqs)}
    for protocol in ("otb", "lasot"):
        ev = evaluate(seqs, store, "real", trackers=[t for t, _ in trackers], protocol=protocol)
        table[protocol] = {t: {"auc": round(e.scores.get("auc", float("nan")), 4),
                               "per_sequence": {s: round(v.get("auc", float("nan")), 4)
                                                for s, v in e.per_sequence.items()}}
                           for t, e in ev.trackers.items()}
        print(f"{protocol:>6}: " + "  ".join(f"{t} {table[protocol][t]['auc']:.3f}" for t, _ in trackers))
    for t, _ in trackers:
        print(t, {s: table["otb"][t]["per_sequence"].get(s) for s in table["sequences"]})
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
