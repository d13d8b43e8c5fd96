"""Long-term measures: OxUvA TPR/TNR/GM/MaxGM (oxuva/long-term-tracking-benchmark python/oxuva/assess.py) and
VOT-LT tracking precision/recall/F (votchallenge/toolkit vot/analysis/longterm.py; pysot-toolkit f1_benchmark.py).
Spec/metrics.md sections 5, 7.1 and 8.
"""
from __future__ import annotations

import math

import numpy as np

from globaltrack.metrics.ope import SequenceScore, overlaps, rule_note
from globaltrack.metrics.protocols import Protocol

# -- OxUvA -------------------------------------------------------------------------------------------------------------


def oxuva_outcomes(gt_present, pred_present, ious, iou_threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Per-label outcome masks: TP (GT present, predicted present, IoU >= tau), FN, TN, FP."""
    gp = np.asarray(gt_present, bool)
    pp = np.asarray(pred_present, bool)
    with np.errstate(invalid="ignore"):
        hit = np.asarray(ious, float) >= iou_threshold
    return {"TP": gp & pp & hit, "FN": gp & ~(pp & hit), "TN": ~gp & ~pp, "FP": ~gp & pp}


def max_geometric_mean_line(x1: float, y1: float, x2: float, y2: float) -> float:
    """max over p in [0,1] of sqrt(x(p) y(p)) on the segment (x1,y1)-(x2,y2) (oxuva ``util.py``): evaluated at the
    end points and at the stationary point of the quadratic when it is concave and inside (0, 1)."""
    a = (x2 - x1) * (y2 - y1)
    b = x1 * (y2 - y1) + y1 * (x2 - x1)
    c = x1 * y1
    cands = [c, a + b + c]
    if a < 0:
        p = -b / (2 * a)
        if 0 < p < 1:
            cands.append(a * p * p + b * p + c)
    return math.sqrt(max(0.0, max(cands)))


def oxuva_metrics(tp: float, fn: float, tn: float, fp: float) -> dict[str, float]:
    """Dataset-level TPR, TNR, GM = sqrt(TPR*TNR), MaxGM = max_geometric_mean_line(TNR, TPR, 1, 0)."""
    tpr = tp / (tp + fn) if tp + fn else float("nan")
    tnr = tn / (tn + fp) if tn + fp else float("nan")
    gm = math.sqrt(tpr * tnr) if not (math.isnan(tpr) or math.isnan(tnr)) else float("nan")
    mgm = max_geometric_mean_line(tnr, tpr, 1.0, 0.0) if not math.isnan(gm) else float("nan")
    return {"tpr": tpr, "tnr": tnr, "gm": gm, "max_gm": mgm}


def time_bucket(t, size: int = 900) -> np.ndarray:
    """OxUvA time bucket of frame offset t from the init frame: ceil(t / 900), bucket i covers (900(i-1), 900i]."""
    return np.ceil(np.asarray(t, float) / size).astype(int)


def interval_totals(bucket_counts: dict[int, np.ndarray], start: float, end: float, size: int = 900) -> np.ndarray:
    """Totals (TP, FN, TN, FP) over frames with start < t <= end; whole buckets only (raises on straddling)."""
    if start % size or (not math.isinf(end) and end % size):
        raise ValueError(f"interval ({start}, {end}] straddles a {size}-frame bucket boundary")
    lo = int(start // size) + 1
    hi = math.inf if math.isinf(end) else int(end // size)
    out = np.zeros(4)
    for b, c in bucket_counts.items():
        if lo <= b <= hi:
            out += c
    return out


def oxuva_sequence(protocol: Protocol, seq, boxes, present, scores, path="<result>") -> SequenceScore:
    """Per-task label outcomes. Labels: ``metadata['label_frames']`` (absolute frame numbers, made relative with
    ``metadata['init_frame']``; the OxUvA adapter's convention) or every frame with a finite GT or an absent flag,
    minus frame 0 (the init frame is not a label). The prediction for a label is the latest one at or before it
    (OxUvA's time alignment). IoU is taken inside the image (the unit square in normalised units)."""
    gt, absent, md = seq.ground_truth, seq.absent, seq.metadata
    n = len(gt)
    if md.get("label_frames") is not None:
        labels = np.asarray(md["label_frames"], int) - int(md.get("init_frame", 0))
    else:
        labels = np.flatnonzero(np.isfinite(gt).all(axis=1) | absent)
    labels = labels[(labels > 0) & (labels < n)]
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    notes = []
    if present is None:
        present = np.ones(len(boxes), bool)
        notes.append("no presence sidecar: every prediction taken as present")
    present = np.asarray(present, bool)
    scores = np.ones(len(boxes)) if scores is None else np.asarray(scores, float)
    if len(boxes) == 0:
        idx = None
    else:
        idx = np.minimum(labels, len(boxes) - 1)
        if len(boxes) < n and len(labels) and labels.max() >= len(boxes):
            notes.append(f"result has {len(boxes)} rows: later labels use the last prediction (OxUvA alignment)")
    size = md.get("image_size")
    if md.get("box_units") == "normalized":
        size = (1.0, 1.0)
    if size is None:
        notes.append("no image size: IoU not clipped to the image")
    gt_present = ~absent[labels]
    if idx is None:
        pp, sc, ious = np.zeros(len(labels), bool), np.zeros(len(labels)), np.zeros(len(labels))
    else:
        pp, sc = present[idx], scores[idx]
        ious = overlaps(protocol, boxes[idx], gt[labels], None if size is None else size[:2])
    out = oxuva_outcomes(gt_present, pp, ious, protocol.iou_threshold)
    t = labels - 0  # frames since the init frame (the sequence starts at the init frame)
    arr = {k: v for k, v in out.items()}
    arr.update({"t": t, "score": sc, "pred_present": pp, "gt_present": gt_present})
    s = SequenceScore(seq.name, denominator=len(labels), arrays=arr, notes=notes,
                      info={"video": md.get("video", seq.name.split("_")[0])})
    return s


def oxuva_combine(protocol: Protocol, scores: list[SequenceScore]):
    used = [s for s in scores if not s.excluded]
    tot = {k: float(sum(int(s.arrays[k].sum()) for s in used)) for k in ("TP", "FN", "TN", "FP")}
    res = oxuva_metrics(tot["TP"], tot["FN"], tot["TN"], tot["FP"])
    curves = {}
    # Per time bucket totals -> TPR over (0, 900 i] (the OxUvA "TPR vs time" plot uses cumulative intervals).
    buckets: dict[int, np.ndarray] = {}
    for s in used:
        b = time_bucket(s.arrays["t"], protocol.time_bucket)
        for i in np.unique(b):
            m = b == i
            buckets.setdefault(int(i), np.zeros(4))
            buckets[int(i)] += [s.arrays[k][m].sum() for k in ("TP", "FN", "TN", "FP")]
    if buckets:
        ends = np.array(sorted(buckets)) * protocol.time_bucket
        tprs = []
        for e in ends:
            tp, fn, _, _ = interval_totals(buckets, 0, e, protocol.time_bucket)
            tprs.append(tp / (tp + fn) if tp + fn else np.nan)
        curves["tpr_time"] = (ends.astype(float), np.asarray(tprs))
    if protocol.bootstrap_trials:
        res.update(oxuva_bootstrap(used, protocol.bootstrap_trials))
    return {k: v for k, v in res.items() if k in protocol.metrics or "_" in k and k.split("_")[-1] in
            ("mean", "var")}, curves, []


def oxuva_bootstrap(scores: list[SequenceScore], trials: int = 100, base_seed: int = 0) -> dict[str, float]:
    """Resample *videos* with replacement (RandomState(base_seed + i)) and report mean and variance of each metric
    (oxuva ``assess.py`` ``--bootstrap_trials``)."""
    videos = sorted({s.info.get("video", s.name) for s in scores})
    by_video = {v: np.zeros(4) for v in videos}
    for s in scores:
        by_video[s.info.get("video", s.name)] += [s.arrays[k].sum() for k in ("TP", "FN", "TN", "FP")]
    vals: dict[str, list[float]] = {"tpr": [], "tnr": [], "gm": [], "max_gm": []}
    for i in range(trials):
        rs = np.random.RandomState(base_seed + i)
        pick = rs.choice(len(videos), len(videos), replace=True)
        c = sum((by_video[videos[j]] for j in pick), np.zeros(4))
        m = oxuva_metrics(*c)
        for k in vals:
            vals[k].append(m[k])
    out = {}
    for k, v in vals.items():
        out[f"{k}_mean"] = float(np.nanmean(v))
        out[f"{k}_var"] = float(np.nanvar(v))
    return out


# -- VOT-LT --------------------------------------------------------------------------------------------------------


def vot_thresholds(scores, resolution: int = 100) -> np.ndarray:
    """VOT ``determine_thresholds``: NaN dropped, sorted descending; if n > resolution-2, delta = floor(n/(res-2))
    and the indices round(linspace(delta, n - delta, res-2)) (numpy rounding); +inf first, -inf last."""
    s = np.asarray(scores, float)
    s = np.sort(s[~np.isnan(s)])[::-1]
    k = resolution - 2
    if len(s) > k:
        delta = int(np.floor(len(s) / k))
        idx = np.round(np.linspace(delta, len(s) - delta, k)).astype(int)
        s = s[idx]
    return np.concatenate([[np.inf], s, [-np.inf]])


def pysot_thresholds(scores, resolution: int = 100) -> np.ndarray:
    """pysot ``determine_thresholds``: ascending sort without NaN, delta = floor(n/98), indices
    floor(linspace(delta-1, n-delta, 98) + 0.5), -inf and +inf at the ends, then reversed."""
    s = np.asarray(scores, float)
    s = np.sort(s[~np.isnan(s)])
    k = resolution - 2
    delta = int(np.floor(len(s) / k))
    if delta == 0:      # fewer scores than thresholds: pysot would index out of range; use every score
        th = np.concatenate([[-np.inf], s, [np.inf]])
        return th[::-1]
    idx = np.floor(np.linspace(delta - 1, len(s) - delta, k) + 0.5).astype(int)
    th = np.concatenate([[-np.inf], s[idx], [np.inf]])
    return th[::-1]


def pr_curve(overlaps_, confidence, n_visible: int, thresholds, gt_zero_at_neg_inf: bool = False):
    """Tracking precision and recall per threshold: subset = confidence >= tau (pysot: > 0 at -inf); empty subset:
    P = 1, R = 0; else P = mean overlap, R = sum / n_visible."""
    o = np.asarray(overlaps_, float)
    c = np.asarray(confidence, float)
    P, R = np.empty(len(thresholds)), np.empty(len(thresholds))
    for i, t in enumerate(thresholds):
        m = (c > 0) if (gt_zero_at_neg_inf and np.isneginf(t)) else (c >= t)
        if not m.any():
            P[i], R[i] = 1.0, 0.0
        else:
            P[i] = o[m].mean()
            R[i] = o[m].sum() / n_visible if n_visible else 0.0
    return P, R


def f_score(P, R, beta: float = 1.0):
    P, R = np.asarray(P, float), np.asarray(R, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = (1 + beta ** 2) * P * R / (beta ** 2 * P + R)
    return np.nan_to_num(F, nan=0.0)


def votlt_sequence(protocol: Protocol, seq, boxes, scores, path="<result>") -> SequenceScore:
    """Per-frame overlaps and confidences. Frame 0 (initialisation) has overlap 0 and confidence 0 (VOT stores the
    special code 1 there; pysot replaces the confidence by NaN, then 0). GT frames that are NaN or absent are not
    visible; a prediction there has overlap 0."""
    gt, absent, md = seq.ground_truth, seq.absent, seq.metadata
    n = len(gt)
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    notes = []
    if len(boxes) < n:
        notes.append(rule_note("missing_rows_empty", n - len(boxes),
                               f"{n - len(boxes)} missing result rows scored as empty predictions"))
        boxes = np.concatenate([boxes, np.full((n - len(boxes), 4), np.nan)])
    boxes = boxes[:n]
    conf = np.ones(n) if scores is None else np.asarray(scores, float)[:n]
    if scores is None:
        notes.append("no confidence sidecar: every confidence is 1")
    if len(conf) < n:
        conf = np.concatenate([conf, np.zeros(n - len(conf))])
    visible = np.isfinite(gt).all(axis=1) & ~absent
    size = md.get("image_size")
    o = overlaps(protocol, boxes, np.where(visible[:, None], gt, np.nan), None if size is None else size[:2])
    o = np.where(visible, np.nan_to_num(o, nan=0.0), 0.0)
    o[0] = 0.0
    conf = conf.copy()
    conf[0] = 0.0
    return SequenceScore(seq.name, denominator=n, arrays={"overlaps": o, "confidence": conf},
                         sums={"n_visible": float(visible.sum())}, notes=notes)


def _votlt_curves(protocol: Protocol, used: list[SequenceScore]):
    """The thresholds (from every sequence's confidences pooled, VOT's or pysot's rule) and each sequence's
    precision / recall curve over them."""
    allconf = np.concatenate([s.arrays["confidence"] for s in used]) if used else np.zeros(0)
    pysot = protocol.lt_thresholds == "pysot"
    th = pysot_thresholds(allconf, protocol.lt_resolution) if pysot else \
        vot_thresholds(allconf, protocol.lt_resolution)
    curves = [pr_curve(s.arrays["overlaps"], s.arrays["confidence"], int(s.sums["n_visible"]), th,
                       gt_zero_at_neg_inf=pysot) for s in used]
    return th, curves


def votlt_combine(protocol: Protocol, scores: list[SequenceScore]):
    th, curves = _votlt_curves(protocol, [s for s in scores if not s.excluded])
    P, R = np.mean([c[0] for c in curves], axis=0), np.mean([c[1] for c in curves], axis=0)
    F = f_score(P, R)
    i = int(np.argmax(F))
    res = {"f_score": float(F[i]), "lt_precision": float(P[i]), "lt_recall": float(R[i])}
    return res, {"pr": (R, P), "f_score": (th, F)}, []


def votlt_per_sequence(protocol: Protocol, scores: list[SequenceScore]) -> dict[str, dict[str, float]]:
    """Each sequence's precision, recall and F at the tracker's F-maximising threshold (the thresholds and the
    operating point of `votlt_combine`), so that the per-sequence values explain the overall F."""
    used = [s for s in scores if not s.excluded]
    if not used:
        return {}
    _, curves = _votlt_curves(protocol, used)
    i = int(np.argmax(f_score(np.mean([c[0] for c in curves], axis=0), np.mean([c[1] for c in curves], axis=0))))
    out = {}
    for s, (P, R) in zip(used, curves):
        out[s.name] = {"n_frames": float(s.denominator), "f_score": float(f_score(P[i:i + 1], R[i:i + 1])[0]),
                       "lt_precision": float(P[i]), "lt_recall": float(R[i])}
    return out


# -- pytracking pooled precision / recall / F1 ----------------------------------------------------------------------


def pooled_f1(overlaps_, scores, n_valid: int):
    """pytracking ``extract_results_prec_rec_f1`` on pooled frames: sort by score (descending, stable), S_k = the
    sum of the top-k overlaps, recall_k = S_k / n_valid, precision_k = S_k / k, the point (0, 1) prepended;
    F1 = 2PR / (P + R) with NaN -> 0, maximised over k (every frame is its own threshold)."""
    o = np.asarray(overlaps_, float)
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    s = np.cumsum(o[order])
    k = np.arange(1, len(o) + 1)
    R = np.concatenate([[0.0], s / n_valid if n_valid else np.zeros(len(o))])
    P = np.concatenate([[1.0], s / k])
    F = f_score(P, R)
    return P, R, F


def pooled_sequence(protocol: Protocol, seq, boxes, scores, path="<result>") -> SequenceScore:
    """Per-sequence part of pytracking's pooled F1: its prediction rules (align with frame 0 as is: only the first
    frame of the *first* sequence is set to the GT, in the combine step), +1-pixel IoU, 0 on invalid frames."""
    from dataclasses import replace

    from globaltrack.metrics.ope import _valid_gt, align

    gt = seq.ground_truth
    pred, gt, visible, notes, _ = align(replace(protocol, first_frame="as_is"), gt, ~seq.absent, boxes, seq.metadata,
                                        path)
    valid = _valid_gt(gt, protocol.valid_gt) & visible
    o = np.where(valid, np.nan_to_num(overlaps(protocol, pred, gt), nan=0.0), 0.0)
    n = len(gt)
    if scores is None:
        conf = np.ones(n)
        notes.append("no presence scores: every score is 1 (pytracking's default)")
    else:
        conf = np.asarray(scores, float)[:n]
        conf = np.concatenate([conf, np.ones(n - len(conf))]) if len(conf) < n else conf
    return SequenceScore(seq.name, denominator=n, arrays={"overlaps": o, "confidence": conf, "valid": valid},
                         sums={"n_valid": float(valid.sum())}, notes=notes)


def pooled_combine(protocol: Protocol, scores: list[SequenceScore]):
    used = [s for s in scores if not s.excluded and s.denominator > 0]
    if not used:
        return {m: float("nan") for m in protocol.metrics}, {}, ["no sequence could be scored"]
    o = np.concatenate([s.arrays["overlaps"] for s in used])
    c = np.concatenate([s.arrays["confidence"] for s in used])
    if used[0].arrays["valid"][0]:
        o[0] = 1.0            # calc_seq_err_robust on the concatenation sets frame 0 (of the first sequence) to GT
    P, R, F = pooled_f1(o, c, int(sum(s.sums["n_valid"] for s in used)))
    i = int(np.argmax(F))
    return ({"f_score": float(F[i]), "lt_precision": float(P[i]), "lt_recall": float(R[i])},
            {"pr": (R, P)}, [])
