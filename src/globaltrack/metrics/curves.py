"""Curves over threshold grids and the scores derived from them (spec/metrics.md sections 0.4 and 10.4-10.6).

Counting itself happens in `ope._segment_counts` (one pass over every frame); these turn the counted curves into
the toolkits' scores.
"""
from __future__ import annotations

import numpy as np


def curve_mean(curve) -> float:
    """The 21-point (or 101-point) mean of a curve: the "AUC" of got10k, pytracking, pysot and MATLAB."""
    return float(np.mean(curve))


def curve_trapz(curve) -> float:
    """TrackingNet devkit: ``np.trapz(curve, x=linspace(0, 1, len(curve)))`` (used for all three of its scores)."""
    c = np.asarray(curve, dtype=np.float64)
    x = np.linspace(0.0, 1.0, c.size)
    return float(np.sum((c[1:] + c[:-1]) * np.diff(x)) / 2.0)


def curve_at(curve, thresholds, value: float) -> float:
    """The curve at the grid point nearest to ``value`` (e.g. 20 px is index 20 of 0..50, index 8 of TrackingNet's
    linspace(0,50,21)); the toolkits index the array, so this picks the same element."""
    i = int(np.argmin(np.abs(np.asarray(thresholds) - value)))
    return float(np.asarray(curve)[i])


def score_curve(curve, thresholds, rule: str) -> float:
    """Apply a score rule: ``mean``, ``trapz`` or ``at:<value>``."""
    if rule == "mean":
        return curve_mean(curve)
    if rule == "trapz":
        return curve_trapz(curve)
    if rule.startswith("at:"):
        return curve_at(curve, thresholds, float(rule[3:]))
    raise ValueError(f"unknown score rule '{rule}'")


def grid_index(thresholds, values, side: str = "left") -> np.ndarray:
    """``np.searchsorted(thresholds, values, side)`` for an evenly spaced grid, by arithmetic plus an exact
    one-step correction against the grid's own floats (about 5x faster than a binary search per value on
    unsorted values). NaN maps to ``len(thresholds)``, as searchsorted does."""
    t = np.asarray(thresholds, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    k = len(t)
    if k < 2:
        return np.searchsorted(t, v, side=side)
    step = (t[-1] - t[0]) / (k - 1)
    x = np.clip((v - t[0]) / step, -1.0, float(k))
    nan = np.isnan(x)
    x[nan] = k
    i = np.floor(x).astype(np.int64) + 1
    np.clip(i, 0, k, out=i)
    pad = np.concatenate([[-np.inf], t, [np.inf]])       # pad[i] = t[i-1], pad[i+1] = t[i]
    if side == "left":      # i = number of thresholds < v
        i -= pad[i] >= v
        i += pad[i + 1] < v
    else:                   # i = number of thresholds <= v
        i -= pad[i] > v
        i += pad[i + 1] <= v
    np.clip(i, 0, k, out=i)                               # +-inf against the +-inf padding
    i[nan] = k
    return i
