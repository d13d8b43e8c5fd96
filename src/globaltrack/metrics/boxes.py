"""Per-frame box measures: pure, vectorised numpy over arrays of ``[x, y, w, h]`` rows (spec/metrics.md section 0).

Each function takes (N, 4) float arrays and returns (N,) arrays; NaN in, NaN out (a NaN fails every threshold test),
which is how got10k, pysot and TrackingNet treat invalid predictions.
"""
from __future__ import annotations

import numpy as np


def _as_boxes(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(-1, 4)


def iou(pred, gt, *, inclusive: bool = False, eps: float = 0.0, clip: bool = False) -> np.ndarray:
    """Intersection over union of matching rows.

    - ``inclusive=False``: continuous form (got10k ``rect_iou``, pysot ``overlap_ratio``).
    - ``inclusive=True``: inclusive-pixel form, right edge x+w-1 and intersection +1 (LaSOT/OTB ``calc_rect_int.m``,
      pytracking ``calc_iou_overlap``, TrackingNet); algebraically equal to the continuous form.
    - ``eps``: added to the union (got10k uses machine eps); ``clip``: clip to [0, 1] (got10k, pysot).
    A zero union without eps gives NaN (0/0), which fails every threshold, as in pysot and TrackingNet.
    """
    a, b = _as_boxes(pred), _as_boxes(gt)
    if inclusive:
        iw = np.minimum(a[:, 0] + a[:, 2] - 1, b[:, 0] + b[:, 2] - 1) - np.maximum(a[:, 0], b[:, 0]) + 1
        ih = np.minimum(a[:, 1] + a[:, 3] - 1, b[:, 1] + b[:, 3] - 1) - np.maximum(a[:, 1], b[:, 1]) + 1
    else:
        iw = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
        ih = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / (union + eps)
    if clip:
        out = np.clip(out, 0.0, 1.0)
    return out


def clip_to_image(boxes, width, height) -> np.ndarray:
    """got10k ``rect_iou(bound=...)`` clipping (GOT-10k val): x to [0, W], y to [0, H], then w to [0, W-x] and
    h to [0, H-y] using the clipped x, y. ``width``/``height`` may be scalars or per-row arrays."""
    b = _as_boxes(boxes).copy()
    b[:, 0] = np.clip(b[:, 0], 0, width)
    b[:, 1] = np.clip(b[:, 1], 0, height)
    b[:, 2] = np.clip(b[:, 2], 0, width - b[:, 0])
    b[:, 3] = np.clip(b[:, 3], 0, height - b[:, 1])
    return b


def unit_square_iou(pred, gt, width=1.0, height=1.0) -> np.ndarray:
    """OxUvA ``assess.py`` IoU: both rectangles intersected with the image ([0,1]^2 in normalised coordinates),
    vol = max(0, xmax-xmin) * max(0, ymax-ymin); no guard on a zero union (NaN here, an exception in OxUvA)."""
    a, b = _as_boxes(pred), _as_boxes(gt)

    def corners(r):
        x0 = np.clip(r[:, 0], 0, width)
        y0 = np.clip(r[:, 1], 0, height)
        x1 = np.clip(r[:, 0] + r[:, 2], 0, width)
        y1 = np.clip(r[:, 1] + r[:, 3], 0, height)
        return x0, y0, x1, y1

    ax0, ay0, ax1, ay1 = corners(a)
    bx0, by0, bx1, by1 = corners(b)
    va = np.maximum(0, ax1 - ax0) * np.maximum(0, ay1 - ay0)
    vb = np.maximum(0, bx1 - bx0) * np.maximum(0, by1 - by0)
    inter = np.maximum(0, np.minimum(ax1, bx1) - np.maximum(ax0, bx0)) * \
        np.maximum(0, np.minimum(ay1, by1) - np.maximum(ay0, by0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / (va + vb - inter)


def raster_iou(pred, gt, bounds: tuple[float, float] | None = None) -> np.ndarray:
    """VOT toolkit rectangle overlap (``vot/region/raster.py`` ``calculate_overlap``), vectorised.

    x, y, w, h are rounded (numpy half-to-even); a rectangle covers the pixels [x, x+w-1] x [y, y+h-1]. The union
    bounding box of both rectangles is clipped to [0, W-1] x [0, H-1] when ``bounds=(W, H)``; pixels are counted
    inside it. Toolkit conventions kept: a union box with zero width or height (left >= right or top >= bottom)
    gives 1 (both regions "empty"; also two disjoint 1-pixel-wide boxes in one column); a union box outside the
    bounds gives 0; an empty pixel union gives 0. NaN rows give 0.
    """
    a, b = np.round(_as_boxes(pred)), np.round(_as_boxes(gt))
    nan = np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1)
    a, b = np.nan_to_num(a), np.nan_to_num(b)
    al, at, ar, ab = a[:, 0], a[:, 1], a[:, 0] + a[:, 2] - 1, a[:, 1] + a[:, 3] - 1
    bl, bt, br, bb = b[:, 0], b[:, 1], b[:, 0] + b[:, 2] - 1, b[:, 1] + b[:, 3] - 1
    u0, u1 = np.minimum(al, bl), np.minimum(at, bt)
    u2, u3 = np.maximum(ar, br), np.maximum(ab, bb)
    degenerate = (u0 >= u2) | (u1 >= u3)
    if bounds is not None:
        r0, r1 = np.maximum(0, u0), np.maximum(0, u1)
        r2, r3 = np.minimum(bounds[0] - 1, u2), np.minimum(bounds[1] - 1, u3)
    else:
        r0, r1, r2, r3 = u0, u1, u2, u3
    outside = (r0 >= r2) | (r1 >= r3)

    def extent(l, t, r, btm):
        x0, x1 = np.maximum(l, r0), np.minimum(r, r2)
        y0, y1 = np.maximum(t, r1), np.minimum(btm, r3)
        return x0, x1, y0, y1

    ax0, ax1, ay0, ay1 = extent(al, at, ar, ab)
    bx0, bx1, by0, by1 = extent(bl, bt, br, bb)
    ca = np.maximum(ax1 - ax0 + 1, 0) * np.maximum(ay1 - ay0 + 1, 0)
    cb = np.maximum(bx1 - bx0 + 1, 0) * np.maximum(by1 - by0 + 1, 0)
    iw = np.minimum(ax1, bx1) - np.maximum(ax0, bx0) + 1
    ih = np.minimum(ay1, by1) - np.maximum(ay0, by0) + 1
    inter = np.where((ca > 0) & (cb > 0), np.maximum(iw, 0) * np.maximum(ih, 0), 0)
    union = ca + cb - inter
    out = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    out = np.where(outside, 0.0, out)
    out = np.where(degenerate, 1.0, out)
    return np.where(nan, 0.0, out)


def centers(boxes) -> np.ndarray:
    """Box centre ``(x + (w-1)/2, y + (h-1)/2)`` (got10k, pytracking, pysot, LaSOT/OTB MATLAB)."""
    b = _as_boxes(boxes)
    return b[:, :2] + (b[:, 2:] - 1) / 2


def _norm2(d: np.ndarray) -> np.ndarray:
    """sqrt(dx^2 + dy^2) of (N, 2) rows; the same floats as ``np.sqrt(np.sum(d ** 2, axis=-1))`` (two terms are
    summed in the same order) without the slow short-axis reduction."""
    dx, dy = d[:, 0], d[:, 1]
    return np.sqrt(dx * dx + dy * dy)


def normalized_center_error(pred, gt, mode: str = "gt_wh") -> np.ndarray:
    """Centre error normalised by the ground-truth size (spec section 0.3).

    - ``gt_wh``: both centres divided by the GT (w, h) before subtracting (LaSOT MATLAB, pytracking); no guard
      against w = 0.
    - ``gt_wh_diff``: the centre difference divided by the GT (w, h), ``(cx_gt - cx_pred) / w_gt`` (TrackingNet
      devkit ``metrics.py``). Equal to ``gt_wh`` in exact arithmetic, but not in floats: a distance that lies on a
      threshold (2/10 = 0.2) stays on it here and lands above it there (1.05 - 0.85 = 0.20000000000000007).
    - ``gt_wh_min1``: difference divided by max(1, GT w/h) (got10k master ``normalized_center_error``).
    - ``gt_wh_eps``: both centres divided by GT (w, h) + 1e-16 (pysot, mmtracking).
    """
    p, g = _as_boxes(pred), _as_boxes(gt)
    return normalized_center_error_from_centers(centers(p), centers(g), g[:, 2:], mode)


def normalized_center_error_from_centers(cp: np.ndarray, cg: np.ndarray, wh: np.ndarray, mode: str = "gt_wh"
                                         ) -> np.ndarray:
    """`normalized_center_error` given the centres (N, 2) and the GT sizes (N, 2) already computed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "gt_wh":
            d = cp / wh - cg / wh
        elif mode == "gt_wh_diff":
            d = (cp - cg) / wh
        elif mode == "gt_wh_min1":
            d = (cp - cg) / np.maximum(1.0, wh)
        elif mode == "gt_wh_eps":
            d = cp / (wh + 1e-16) - cg / (wh + 1e-16)
        else:
            raise ValueError(f"unknown normalisation '{mode}'")
    return _norm2(d)
