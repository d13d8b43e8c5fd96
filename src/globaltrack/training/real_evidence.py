"""Evidence on real data for a trained lite0_fpn model: AR@1/AR@10 of QG-RPN and QG-RCNN on coco128 val2017
(query = one instance, search = the same photograph augmented; paper Tables 1-2) and the presence threshold chosen
there (``presence.py``); optionally stores the threshold in the weights file's config.

    python -m globaltrack.training.real_evidence WEIGHTS [--out evidence.json] [--store-threshold]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

VAL = ("coco128", "val2017")


def compute(weights, data_root="../shared/data/train", max_queries: int = 3, threads: int = 1) -> dict:
    import torch

    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker
    from globaltrack.training.detection_sets import load_yolo
    from globaltrack.training.image_recall import image_recall, recall_pairs
    from globaltrack.training.presence import choose_threshold, presence_scores

    torch.set_num_threads(threads)
    items = load_yolo(Path(data_root) / VAL[0], VAL[1])
    pairs = recall_pairs(items, max_queries=max_queries)
    tracker = GlobalTrackTracker(weights=str(weights))
    out = {"data": f"{VAL[0]} {VAL[1]}: {len(items)} photographs, {len(pairs)} queries (<= {max_queries} per "
                   "image), search = the same photograph in a random window (0.7-1.3x) and flipped with p=0.5",
           "weights": Path(weights).name,
           "QG-RPN": image_recall(tracker, pairs, "rpn"), "QG-RCNN": image_recall(tracker, pairs, "rcnn")}
    present, absent = presence_scores(tracker, pairs)
    t, acc = choose_threshold(present, absent)
    out["presence"] = {"threshold": round(t, 4), "balanced_accuracy": round(acc, 4),
                       "median_score_present": round(float(sorted(present)[len(present) // 2]), 4),
                       "median_score_absent": round(float(sorted(absent)[len(absent) // 2]), 4),
                       "how": "top-1 QG-RCNN score with the query's photograph as search (present) and with "
                              "another photograph of the set (absent); threshold maximising balanced accuracy"}
    return out


def store_threshold(weights, threshold: float) -> None:
    """Write ``presence_threshold`` into the weights file's stored config (atomically)."""
    import io

    import torch

    from globaltrack._io import atomic_write_bytes
    from globaltrack.trackers.globaltrack.checkpoint import safe_load

    ck = safe_load(weights)
    ck["config"] = {**ck["config"], "presence_threshold": float(threshold)}
    buf = io.BytesIO()
    torch.save(ck, buf)
    atomic_write_bytes(Path(weights), buf.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="real-data evidence for a lite0_fpn model")
    ap.add_argument("weights")
    ap.add_argument("--out")
    ap.add_argument("--data-root", default="../shared/data/train")
    ap.add_argument("--store-threshold", action="store_true")
    args = ap.parse_args(argv)
    ev = compute(args.weights, args.data_root)
    print(json.dumps(ev, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(ev, indent=1))
    if args.store_threshold:
        store_threshold(args.weights, ev["presence"]["threshold"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
