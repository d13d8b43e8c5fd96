"""Anchors as mmdetection v1 makes them (spec 1.3), not as torchvision does.

mmdet v1 (``mmdet/core/anchor/anchor_generator.py``): a base anchor of size ``stride`` centred at
``((s-1)/2, (s-1)/2)``, widths ``s*scale/sqrt(r)``, heights ``s*scale*sqrt(r)`` (ratio r = h/w), corners
``c -/+ (size-1)/2`` rounded; shifted by ``arange(W)*stride`` on a fixed stride per level, laid out (H, W, A).
torchvision centres its cell anchors on 0 and derives the stride from the padded size (61 instead of 64 for P6 of an
800-px image), so we supply both the cell anchors and the strides ourselves.
"""
from __future__ import annotations

import torch


def base_anchors(stride: int, scales=(8.0,), ratios=(0.5, 1.0, 2.0)) -> torch.Tensor:
    """The (A, 4) cell anchors of one level, ordered ratio-major as mmdet v1 (``ws[:, None] * scales``)."""
    base = float(stride)
    ctr = 0.5 * (base - 1)
    ratios_t = torch.tensor(ratios, dtype=torch.float32)
    scales_t = torch.tensor(scales, dtype=torch.float32)
    h_ratios = torch.sqrt(ratios_t)
    w_ratios = 1.0 / h_ratios
    ws = (base * w_ratios[:, None] * scales_t[None, :]).reshape(-1)
    hs = (base * h_ratios[:, None] * scales_t[None, :]).reshape(-1)
    anchors = torch.stack([ctr - 0.5 * (ws - 1), ctr - 0.5 * (hs - 1), ctr + 0.5 * (ws - 1), ctr + 0.5 * (hs - 1)],
                          dim=-1)
    return anchors.round()


def grid_anchors(cell: torch.Tensor, height: int, width: int, stride: int) -> torch.Tensor:
    """All anchors of a (height, width) feature map, (H*W*A, 4), in the (H, W, A) order of the RPN head outputs."""
    device = cell.device
    shift_x = torch.arange(width, device=device, dtype=torch.float32) * stride
    shift_y = torch.arange(height, device=device, dtype=torch.float32) * stride
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    shifts = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.reshape(-1), yy.reshape(-1)], dim=-1)
    return (shifts[:, None, :] + cell[None, :, :]).reshape(-1, 4)


class AnchorGenerator:
    """Cell anchors per level, cached grids per feature-map size."""

    def __init__(self, strides=(4, 8, 16, 32, 64), scales=(8.0,), ratios=(0.5, 1.0, 2.0)):
        self.strides = tuple(int(s) for s in strides)
        self.cells = [base_anchors(s, scales, ratios) for s in self.strides]
        self.num_anchors = len(scales) * len(ratios)
        self._cache: dict = {}

    def __call__(self, sizes: list[tuple[int, int]], device) -> list[torch.Tensor]:
        """One (H*W*A, 4) tensor per level for feature maps of the given (H, W) sizes."""
        out = []
        for level, (h, w) in enumerate(sizes):
            key = (level, int(h), int(w), str(device))
            if key not in self._cache:
                if len(self._cache) > 256:  # frame sizes vary across sequences; keep the cache bounded
                    self._cache.clear()
                self._cache[key] = grid_anchors(self.cells[level].to(device), int(h), int(w), self.strides[level])
            out.append(self._cache[key])
        return out
