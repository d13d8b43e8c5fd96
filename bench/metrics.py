"""Benchmark: evaluate 10 synthetic trackers on the LaSOT test set (280 sequences, 685,360 frames each).

Builds the workload from ../shared/data/annotations/lasot (the official toolkit's annos): 10 trackers = the GT
jittered (N(0, 0.15 size) position, N(0, 0.1 size) size), written with the got10k toolkit's ``%.3f`` comma format in
a temporary results folder. Then, side by side in one run:

- ours, cold: `globaltrack.scoring.evaluate.evaluate` under the ``lasot`` protocol (files parsed, AUC, precision and
  normalised precision with their curves), cache emptied first;
- ours, warm: the same call again (nothing changed: the content-keyed cache under <results>/.cache answers);
- got10k: the got10k package's functions on the same input: files read with ``np.loadtxt``, ``rect_iou``,
  ``center_error``, the per-sequence curves of ``ExperimentOTB._calc_curves`` (plus a normalised-precision curve
  the same way), averaged over sequences.

Usage: python bench/metrics.py [--trackers 10] [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ANNOS = REPO.parent / "shared" / "data" / "annotations" / "lasot"


def build(results: Path, sequences, n_trackers: int) -> None:
    for t in range(n_trackers):
        rng = np.random.default_rng(t)
        d = results / "lasot" / f"T{t:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for s in sequences:
            gt = s.ground_truth
            wh = np.maximum(gt[:, 2:], 1)
            b = gt.copy()
            b[:, :2] += rng.normal(0, 0.15, (len(gt), 2)) * wh
            b[:, 2:] *= np.exp(rng.normal(0, 0.1, (len(gt), 2)))
            b[0] = gt[0]
            np.savetxt(d / f"{s.name}.txt", b, fmt="%.3f", delimiter=",")


def got10k_reference(results: Path, sequences, trackers) -> dict:
    from got10k.experiments.otb import ExperimentOTB
    from got10k.utils.metrics import center_error, rect_iou

    exp = ExperimentOTB.__new__(ExperimentOTB)
    exp.nbins_iou, exp.nbins_ce = 21, 51
    out = {}
    thr_n = np.linspace(0, 0.5, 51)
    for t in trackers:
        succ, prec, norm = [], [], []
        for s in sequences:
            boxes = np.loadtxt(results / "lasot" / t / f"{s.name}.txt", delimiter=",")
            anno = s.ground_truth
            boxes[0] = anno[0]
            ious = rect_iou(boxes, anno)
            ces = center_error(boxes, anno)
            c1 = boxes[:, :2] + (boxes[:, 2:] - 1) / 2
            c2 = anno[:, :2] + (anno[:, 2:] - 1) / 2
            nce = np.sqrt(np.sum(((c1 - c2) / np.maximum(1, anno[:, 2:])) ** 2, axis=1))
            sc, pc = exp._calc_curves(ious, ces)
            succ.append(sc)
            prec.append(pc)
            norm.append(np.mean(nce[:, None] <= thr_n[None], axis=0))
        out[t] = {"auc": float(np.mean(np.mean(succ, axis=0))), "precision": float(np.mean(prec, axis=0)[20]),
                  "norm_precision": float(np.mean(np.mean(norm, axis=0)))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trackers", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="build the results here and keep them")
    args = ap.parse_args(argv)
    if not ANNOS.is_dir():
        print(f"missing {ANNOS}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO / "src"))
    from globaltrack.benchmarks import load_sequences
    from globaltrack.scoring.evaluate import evaluate

    t0 = time.perf_counter()
    seqs = load_sequences("lasot", None, "test", None, annos=str(ANNOS))
    t_gt = time.perf_counter() - t0
    frames = sum(len(s.ground_truth) for s in seqs)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gt_bench_"))
    try:
        trackers = [f"T{t:02d}" for t in range(args.trackers)]
        if not (tmp / "lasot" / trackers[-1]).is_dir():
            build(tmp, seqs, args.trackers)
        shutil.rmtree(tmp / ".cache", ignore_errors=True)
        c0 = os.times()
        t0 = time.perf_counter()
        ev = evaluate(seqs, tmp, "lasot", trackers, protocol="lasot", jobs=args.jobs)
        t_cold = time.perf_counter() - t0
        c1 = os.times()
        cpu_cold = (c1.user + c1.system + c1.children_user + c1.children_system) - \
            (c0.user + c0.system + c0.children_user + c0.children_system)
        t0 = time.perf_counter()
        ev2 = evaluate(seqs, tmp, "lasot", trackers, protocol="lasot", jobs=args.jobs)
        t_warm = time.perf_counter() - t0
        assert all(ev.trackers[t].scores == ev2.trackers[t].scores for t in trackers)
        c0 = time.process_time()
        t0 = time.perf_counter()
        ref = got10k_reference(tmp, seqs, trackers)
        t_ref = time.perf_counter() - t0
        cpu_ref = time.process_time() - c0
        ev_g = evaluate(seqs, tmp, "lasot", trackers, protocol="got10k-lasot", jobs=args.jobs)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"workload: {len(trackers)} trackers x {len(seqs)} sequences x {frames} frames "
          f"(ground truth loaded in {t_gt:.2f} s, not counted)")
    print(f"{'':34s}{'wall s':>10s}{'CPU s':>10s}")
    print(f"{f'globaltrack evaluate, cold (jobs={args.jobs})':34s}{t_cold:10.2f}{cpu_cold:10.2f}")
    print(f"{'globaltrack evaluate, unchanged':34s}{t_warm:10.3f}")
    print(f"{'got10k functions (np.loadtxt)':34s}{t_ref:10.2f}{cpu_ref:10.2f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (the machine has {os.cpu_count()} cores)")
    diff = max(abs(ev_g.trackers[t].scores[k] - ref[t][k]) for t in trackers for k in ("auc", "precision",
                                                                                       "norm_precision"))
    print(f"max |got10k-lasot - got10k functions| over trackers and AUC/P/NP: {diff:.2e}")
    t = trackers[0]
    print(f"{t}: lasot protocol " + ", ".join(f"{k} {v:.4f}" for k, v in ev.trackers[t].scores.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
