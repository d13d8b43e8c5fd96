"""AR@k on still images, the paper's Tables 1-2 protocol: the query is one instance of an image, the search image is
the same image augmented (a random window -- crop or zoom out -- and a horizontal flip), and the candidates are
the top-k QG-RPN proposals, QG-RCNN detections, or plain-RPN proposals (a detector without the query). AR@k is
mmdetection's average recall over IoU 0.50:0.95 (``metrics.recall.average_recall``).

Search images are a pure function of (seed, image index), so every model is scored on the same pairs.
"""
from __future__ import annotations

import numpy as np

from globaltrack.training.image_augment import _apply_window, _window
from globaltrack.training.pairs import hflip, xywh_to_x1y1x2y2


def recall_pairs(items, max_queries: int = 5, seed: int = 0, zoom=(0.7, 1.3), min_size: float = 8.0):
    """(query image, query box xywh, search image, search box xywh) tuples: per image up to ``max_queries``
    instances (drawn at random) that keep >= 60% of their box and >= ``min_size`` px in the search window."""
    from globaltrack.sequence import read_image

    out = []
    for idx, item in enumerate(items):
        rng = np.random.default_rng([seed, idx])
        boxes = np.asarray(item["boxes"], dtype=np.float64).reshape(-1, 4)
        ok = (boxes[:, 2] >= min_size) & (boxes[:, 3] >= min_size)
        if not ok.any():
            continue
        img = read_image(item["path"])
        xyxy = xywh_to_x1y1x2y2(boxes)
        search, sb, frac, side = _apply_window(img, xyxy, _window(img.shape, rng, zoom, 0.1))
        if rng.random() < 0.5:
            search, sb = hflip(search, sb)
        cand = np.flatnonzero(ok & (frac >= 0.6) & (side >= min_size))
        if len(cand) > max_queries:
            cand = np.sort(rng.choice(cand, max_queries, replace=False))
        for j in cand:
            s = sb[j]
            out.append((img, boxes[j], search, np.array([s[0], s[1], s[2] - s[0] + 1, s[3] - s[1] + 1])))
    return out


def image_recall(tracker, pairs, source: str = "rcnn", ks=(1, 10)) -> dict[str, float]:
    """AR@k of one tracker (a ``GlobalTrackTracker``) with candidates from ``source`` ("rcnn" or "rpn")."""
    from globaltrack.metrics.recall import average_recall

    cands, gts = [], []
    for q_img, q_box, s_img, s_box in pairs:
        tracker.init(q_img, q_box)
        boxes, scores = tracker.candidates(s_img, max(ks), source=source)
        cands.append(np.concatenate([boxes, scores[:, None]], axis=1) if len(boxes) else np.zeros((0, 5)))
        gts.append(s_box)
    ar = average_recall(cands, np.array(gts), ks=ks)
    return {**{f"AR@{k}": round(ar[k], 4) for k in ks}, "queries": len(gts)}


__all__ = ["recall_pairs", "image_recall"]
