"""Not official (``ModelConfig.test_target_fit``): a per-sequence correction of QG-RCNN's class logit, fitted on the
first frame at ``init``.

Why: the failures on real video are jumps to a similar object (a second jogger) that the query-guided head, trained
on still photographs, scores as high as the target. The first frame itself says which boxes are the target and which
are not: the target (jittered) against the detector's other detections and random target-sized boxes. A linear
correction ``fc7 . dw + db`` of the class logit, fitted there by L2-regularised logistic regression (the head's own
logit as the offset, so ``dw = 0`` is the plain head), re-scores every frame's top detections (``heads.correct``).
Like DiMP's or MDNet's first-frame training of a classifier, but the first frame only: no use of earlier frames, and
every frame is still searched whole and independently.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from globaltrack.trackers.globaltrack.ops import box_iou_v1

POSITIVES = 32  # jittered copies of the target box (the box itself included), kept where IoU >= POSITIVE_IOU
POSITIVE_IOU = 0.7
NEGATIVE_IOU = 0.3  # negatives overlap the target by less
NEGATIVE_DETECTIONS = 50  # the first frame's best detections under the target query
NEGATIVE_RANDOM = 64  # random boxes of 0.7-1.4x the target's size anywhere in the frame
JITTER_SHIFT = 0.1  # of the target's width / height
JITTER_SCALE = (0.9, 1.1)
RANDOM_SCALE = (0.7, 1.4)
LBFGS_ITERATIONS = 50


def first_frame_samples(target: np.ndarray, image_hw, detections: torch.Tensor, seed: int = 0):
    """Training boxes of the first frame in network coordinates: (positives (P, 4), negatives (N, 4)) inclusive
    xyxy float32. ``target``: the target's xyxy; ``image_hw``: the resized frame's (h, w); ``detections``: the
    frame's ranked detections (xyxy), the best ``NEGATIVE_DETECTIONS`` of which are negatives when away from the
    target. Seeded: a sequence gets the same samples every run."""
    rng = np.random.default_rng(seed)
    target = np.asarray(target, dtype=np.float64).reshape(4)
    tw, th = target[2] - target[0], target[3] - target[1]
    cx, cy = (target[0] + target[2]) / 2, (target[1] + target[3]) / 2
    pos = [target]
    for _ in range(POSITIVES - 1):
        dx, dy = rng.uniform(-JITTER_SHIFT, JITTER_SHIFT, 2) * (tw, th)
        sw, sh = rng.uniform(*JITTER_SCALE, 2)
        pos.append([cx + dx - tw * sw / 2, cy + dy - th * sh / 2, cx + dx + tw * sw / 2, cy + dy + th * sh / 2])
    h, w = image_hw
    rand = []
    for _ in range(NEGATIVE_RANDOM):
        s = rng.uniform(*RANDOM_SCALE)
        bw, bh = tw * s, th * s
        x0, y0 = rng.uniform(0, max(w - bw, 1)), rng.uniform(0, max(h - bh, 1))
        rand.append([x0, y0, x0 + bw, y0 + bh])
    t = torch.as_tensor(target[None], dtype=torch.float32)
    pos = torch.as_tensor(np.array(pos), dtype=torch.float32)
    neg = torch.cat([detections[:NEGATIVE_DETECTIONS].float().cpu(),
                     torch.as_tensor(np.array(rand), dtype=torch.float32)])
    return pos[box_iou_v1(pos, t)[:, 0] >= POSITIVE_IOU], neg[box_iou_v1(neg, t)[:, 0] < NEGATIVE_IOU]


def fit_logit_correction(features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, l2: float):
    """``(dw, db)`` minimising the class-balanced logistic loss of ``logits + features @ dw + db`` against
    ``labels`` (1 / 0) plus ``l2 / 2 * |dw|^2`` (positives and negatives weigh one half each, so ``l2`` means the
    same whatever the counts). L-BFGS from zero: deterministic."""
    features, logits, labels = features.detach().float(), logits.detach().float(), labels.float()
    n_pos = labels.sum().clamp(min=1)
    n_neg = (1 - labels).sum().clamp(min=1)
    weights = torch.where(labels > 0, 0.5 / n_pos, 0.5 / n_neg)
    dw = torch.zeros(features.shape[1], requires_grad=True)
    db = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([dw, db], max_iter=LBFGS_ITERATIONS, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = logits + features @ dw + db
        loss = (weights * F.binary_cross_entropy_with_logits(z, labels, reduction="none")).sum() + 0.5 * l2 * (dw @ dw)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return dw.detach(), db.detach()


__all__ = ["first_frame_samples", "fit_logit_correction"]
