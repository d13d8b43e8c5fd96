"""Threshold grids with the exact floats each official toolkit uses (spec/metrics.md section 0.4).

The grids are *not* interchangeable: an IoU exactly equal to k/20 (common with integer boxes, e.g. 13/20) passes
"IoU > thr" only where the toolkit's float for k/20 lies below k/20. Keep each toolkit's own grid.
"""
from __future__ import annotations

import numpy as np


def matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """Emulate MATLAB's colon operator ``start:step:stop`` (the LaSOT/OTB toolkits' ``0:0.05:1``).

    MATLAB builds the vector symmetrically: the first half as ``start + k*step`` and the second half as
    ``stop' - (n-k)*step`` with ``stop' = start + n*step``, so the values differ from numpy's ``arange``.
    (At 0:0.05:1 only k = 13 lies below k/20: 0.6499999999999999.)
    """
    tol = 3 * np.finfo(float).eps * max(abs(start), abs(stop)) / abs(step)
    n = int(np.floor((stop - start) / step + tol))
    k = np.arange(n + 1)
    half = n // 2
    out = np.empty(n + 1)
    out[: half + 1] = start + k[: half + 1] * step
    out[half + 1:] = (start + n * step) - (n - k[half + 1:]) * step
    return out


# Success (IoU) grids, 21 points.
SUCCESS_21_NUMPY = np.linspace(0.0, 1.0, 21)           # got10k linspace, pysot arange(0,1.05,0.05) (identical floats)
SUCCESS_21_MATLAB = matlab_colon(0.0, 0.05, 1.0)        # LaSOT / OTB MATLAB toolkits
# pytracking: torch.arange(0.0, 1.05, 0.05, dtype=torch.float64) as torch 2.x computes it (checked against torch in
# tests/metrics/test_grids.py); above k/20 at k = 3, 6, 7, 12, 13, 14, 15, 17, 19.
SUCCESS_21_TORCH = np.array([
    0.0, 0.05, 0.1, 0.15000000000000002, 0.2, 0.25, 0.30000000000000004, 0.35000000000000003, 0.4, 0.45, 0.5,
    0.55, 0.6000000000000001, 0.6500000000000001, 0.7000000000000001, 0.7500000000000001, 0.8,
    0.8500000000000001, 0.9, 0.9500000000000001, 1.0])
SUCCESS_101 = np.linspace(0.0, 1.0, 101)                # got10k GOT-10k succ_curve, neuron OTB/TLP
SUCCESS_100_VOT = np.linspace(0.0, 1.0, 100)            # VOT SuccessPlot

# Centre-error grids (pixels).
PRECISION_51 = np.arange(0, 51).astype(np.float64)      # 0..50 px, every toolkit but TrackingNet
PRECISION_21_TRACKINGNET = np.linspace(0.0, 50.0, 21)   # 0, 2.5, ..., 50 (index 8 = 20 px)

# Normalised centre-error grids.
NORM_PRECISION_51 = np.arange(0, 51) / 100.0            # pytracking / pysot / MATLAB (0:50)/100: correctly rounded
NORM_PRECISION_51_GOT10K = np.linspace(0.0, 0.5, 51)    # got10k master: above k/100 at k = 35, 41, 47
NORM_PRECISION_21_TRACKINGNET = np.linspace(0.0, 0.5, 21)

GRIDS = {
    "success21_numpy": SUCCESS_21_NUMPY,
    "success21_matlab": SUCCESS_21_MATLAB,
    "success21_torch": SUCCESS_21_TORCH,
    "success101": SUCCESS_101,
    "success100_vot": SUCCESS_100_VOT,
    "precision51": PRECISION_51,
    "precision21_trackingnet": PRECISION_21_TRACKINGNET,
    "norm51": NORM_PRECISION_51,
    "norm51_got10k": NORM_PRECISION_51_GOT10K,
    "norm21_trackingnet": NORM_PRECISION_21_TRACKINGNET,
}


def grid(name: str) -> np.ndarray:
    return GRIDS[name]
