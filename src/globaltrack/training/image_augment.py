"""Scale and crop augmentation for still-image pairs (the paper's COCO recipe: the same image as query and search,
each augmented independently).

The model resizes every image to its fixed scale, so a plain rescale changes nothing; what changes an object's
size and place in the network's input is the *window*: ``random_window`` crops a part of the image (zoom in) or
places it on a larger mean-grey canvas (zoom out), with an independent window for query and search. An instance
stays a training instance only when at least ``min_visible`` of its box survives in *both* images and its box
stays at least ``min_size`` pixels, because instance k of the query must be instance k of the search image.
"""
from __future__ import annotations

import numpy as np

from globaltrack.training.pairs import Pair, augment

FILL = (124, 116, 104)  # ImageNet mean colour, as zero after normalisation


def _window(shape, rng: np.random.Generator, zoom: tuple[float, float], jitter: float):
    """A window (x0, y0, w, h) in image coordinates; may extend outside the image (zoom out)."""
    h, w = shape[:2]
    f = float(np.exp(rng.uniform(np.log(zoom[0]), np.log(zoom[1]))))  # side factor, log-uniform
    aspect = float(np.exp(rng.uniform(-jitter, jitter)))
    ww, wh = w * f * aspect, h * f / aspect
    x0 = rng.uniform(min(0.0, w - ww), max(0.0, w - ww))
    y0 = rng.uniform(min(0.0, h - wh), max(0.0, h - wh))
    return x0, y0, ww, wh


def _apply_window(img: np.ndarray, boxes: np.ndarray, win):
    """Cut (or pad to) the window; boxes (inclusive x1y1x2y2) shifted and clipped. Returns image, boxes, kept
    area fraction per box."""
    x0, y0, ww, wh = win
    h, w = img.shape[:2]
    X0, Y0 = int(round(x0)), int(round(y0))
    W, H = max(int(round(ww)), 16), max(int(round(wh)), 16)
    out = np.empty((H, W, 3), dtype=np.uint8)
    out[:] = np.asarray(FILL, dtype=np.uint8)
    sx0, sy0 = max(X0, 0), max(Y0, 0)
    sx1, sy1 = min(X0 + W, w), min(Y0 + H, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - Y0:sy1 - Y0, sx0 - X0:sx1 - X0] = img[sy0:sy1, sx0:sx1]
    b = boxes.astype(np.float64).copy()
    area = np.maximum(b[:, 2] - b[:, 0] + 1, 0) * np.maximum(b[:, 3] - b[:, 1] + 1, 0)
    b[:, 0::2] -= X0
    b[:, 1::2] -= Y0
    b[:, 0::2] = np.clip(b[:, 0::2], 0, W - 1)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, H - 1)
    kept = np.maximum(b[:, 2] - b[:, 0] + 1, 0) * np.maximum(b[:, 3] - b[:, 1] + 1, 0)
    frac = np.where(area > 0, kept / np.maximum(area, 1e-9), 0.0)
    return out, b.astype(np.float32), frac, np.minimum(b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1)


def scale_crop(pair: Pair, rng: np.random.Generator, zoom=(0.5, 1.5), jitter: float = 0.15,
               min_visible: float = 0.6, min_size: float = 8.0, tries: int = 10) -> Pair:
    """Independent random windows for query and search (see the module docstring); the pair unchanged when no
    window in ``tries`` keeps an instance."""
    for _ in range(tries):
        q, qb, qf, qs = _apply_window(pair.query_image, pair.query_boxes,
                                      _window(pair.query_image.shape, rng, zoom, jitter))
        s, sb, sf, ss = _apply_window(pair.search_image, pair.search_boxes,
                                      _window(pair.search_image.shape, rng, zoom, jitter))
        keep = (qf >= min_visible) & (sf >= min_visible) & (qs >= min_size) & (ss >= min_size)
        if keep.any():
            return Pair(q, qb[keep], s, sb[keep], pair.source)
    return pair


def augment_image_pair(pair: Pair, rng: np.random.Generator, photometric: bool = True, zoom=(0.5, 1.5)) -> Pair:
    """Windows (scale, crop), then the official flips, channel swap and photometric jitter (``pairs.augment``)."""
    return augment(scale_crop(pair, rng, zoom=zoom), rng, photometric=photometric)


__all__ = ["scale_crop", "augment_image_pair"]
