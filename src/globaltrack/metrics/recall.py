"""AR@k: average recall of the ground truth among the top-k candidate boxes (mmdetection v1
``mmdet/core/evaluation/recall.py`` ``eval_recalls``, bundled in GlobalTrack; spec/metrics.md section 9).

Candidates are sorted by score (descending) when a score column is given, the top k kept; IoU uses mmdet v1's "+1"
area convention in float32; with one GT per frame the greedy one-to-one assignment reduces to the best IoU among the
top k. Recall at t = fraction of frames with best IoU >= t (pooled over frames); AR@k = mean over t in
arange(0.5, 0.96, 0.05) (0.50..0.95).
"""
from __future__ import annotations

import numpy as np

DEFAULT_KS = (1, 5, 10, 100, 500, 1000)
MMDET_IOU_THRESHOLDS = np.arange(0.5, 0.96, 0.05)


def _best_iou_topk(cands: np.ndarray, gt: np.ndarray, ks) -> np.ndarray:
    """Best IoU of ``gt`` among the first k candidates for each k (candidates already in score order)."""
    if len(cands) == 0:
        return np.zeros(len(ks), np.float32)
    c = cands[:, :4].astype(np.float32)
    g = gt.astype(np.float32)
    # xyxy with x2 = x + w - 1 and areas (x2 - x1 + 1)(y2 - y1 + 1), as mmdet v1 bbox_overlaps
    cx1, cy1 = c[:, 0], c[:, 1]
    cx2, cy2 = c[:, 0] + c[:, 2] - 1, c[:, 1] + c[:, 3] - 1
    gx1, gy1, gx2, gy2 = g[0], g[1], g[0] + g[2] - 1, g[1] + g[3] - 1
    iw = np.maximum(np.minimum(cx2, gx2) - np.maximum(cx1, gx1) + 1, np.float32(0))
    ih = np.maximum(np.minimum(cy2, gy2) - np.maximum(cy1, gy1) + 1, np.float32(0))
    inter = iw * ih
    area_c = (cx2 - cx1 + 1) * (cy2 - cy1 + 1)
    area_g = (gx2 - gx1 + 1) * (gy2 - gy1 + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ious = inter / (area_c + area_g - inter)
    ious = np.nan_to_num(ious, nan=0.0)
    best = np.maximum.accumulate(ious)
    return np.array([best[min(k, len(best)) - 1] for k in ks], dtype=np.float32)


def average_recall(candidate_boxes_per_frame, gt_boxes, ks=DEFAULT_KS, iou_thresholds=MMDET_IOU_THRESHOLDS
                   ) -> dict[int, float]:
    """AR@k for each k: ``candidate_boxes_per_frame`` is a list (one entry per frame) of (M, 4) ``[x, y, w, h]`` or
    (M, 5) ``[x, y, w, h, score]`` arrays; ``gt_boxes`` (N, 4). Frames whose GT is not a finite box with w, h > 0
    (absent target) have no GT to recall and are skipped, as mmdet skips images without GT boxes.
    ``iou_thresholds=[0.5]`` gives recall at IoU 0.5."""
    gt = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    ks = tuple(int(k) for k in ks)
    th = np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64))
    best = []
    for cands, g in zip(candidate_boxes_per_frame, gt):
        if not (np.all(np.isfinite(g)) and g[2] > 0 and g[3] > 0):
            continue
        c = np.asarray(cands, dtype=np.float64).reshape(len(cands) if len(cands) else 0, -1)
        if c.shape[0] and c.shape[1] >= 5:
            c = c[np.argsort(-c[:, 4], kind="stable")]
        best.append(_best_iou_topk(c, g, ks))
    if not best:
        return {k: float("nan") for k in ks}
    b = np.stack(best)                                   # frames x ks
    recall = (b[:, :, None] >= th[None, None, :].astype(np.float32)).mean(axis=0)   # ks x thresholds
    return {k: float(recall[i].mean()) for i, k in enumerate(ks)}


def ar_scores(candidate_boxes_per_frame, gt_boxes, ks=DEFAULT_KS) -> dict[str, float]:
    """Metric keys ``ar@K`` (IoU 0.50:0.95) and ``recall@K`` (IoU 0.5) for an Evaluation."""
    ar = average_recall(candidate_boxes_per_frame, gt_boxes, ks)
    r50 = average_recall(candidate_boxes_per_frame, gt_boxes, ks, [0.5])
    out = {f"ar@{k}": v for k, v in ar.items()}
    out.update({f"recall@{k}": v for k, v in r50.items()})
    return out
