"""Choosing GlobalTrack's presence threshold on training-side real data (never on the test sequences).

The tracker says "present" when its top-1 QG-RCNN score reaches the threshold. On still images held out from
training (coco128 val2017) we collect that top-1 score twice per query instance: with the search image holding the
instance (the same photograph, augmented: ``image_recall.recall_pairs``) and with a search image that does not hold
it (another photograph of the set, whose objects are other instances -- possibly of the same class, as a tracker
meets after its target left the view). The threshold maximises balanced accuracy (mean of the present and the
absent hit rates); ties take the lowest such score.
"""
from __future__ import annotations

import numpy as np


def presence_scores(tracker, pairs, seed: int = 0):
    """(scores when present, scores when absent): the score the tracker reports for a frame (``update``'s, what
    the threshold is applied to: the top-1 QG-RCNN score, 0 without detections), one of each per query."""
    rng = np.random.default_rng(seed)
    present, absent = [], []
    for i, (q_img, q_box, s_img, _) in enumerate(pairs):
        tracker.init(q_img, q_box)
        present.append(float(tracker.update(s_img).score))
        # a different photograph: the query's instance is not in it (pairs of one image are consecutive)
        others = [j for j in range(len(pairs)) if pairs[j][0] is not q_img]
        other = pairs[others[int(rng.integers(len(others)))]][2]
        absent.append(float(tracker.update(other).score))
    return np.asarray(present), np.asarray(absent)


def choose_threshold(present: np.ndarray, absent: np.ndarray) -> tuple[float, float]:
    """(threshold, balanced accuracy) maximising (TPR + TNR) / 2 over the observed scores."""
    candidates = np.unique(np.concatenate([present, absent, [1.01]]))
    best_t, best_acc = 1.01, 0.5
    for t in candidates:
        acc = 0.5 * (np.mean(present >= t) + np.mean(absent < t))
        if acc > best_acc + 1e-12:
            best_t, best_acc = float(t), float(acc)
    return best_t, best_acc


__all__ = ["presence_scores", "choose_threshold"]
