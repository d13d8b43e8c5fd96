"""The two query-guided modulators: the only modules GlobalTrack adds to Faster R-CNN.

Both follow ``modules/modulators.py`` of huanglianghua/GlobalTrack (spec 1.4, 1.8). Parameter names are the
official ones, so their checkpoint tensors load unchanged.
"""
from __future__ import annotations

import torch
from torch import nn


def _normal_init(module: nn.Conv2d, std: float = 0.01) -> None:
    """mmcv ``normal_init(std=0.01)`` with zero bias, as the official ``init_weights``."""
    nn.init.normal_(module.weight, 0.0, std)
    nn.init.zeros_(module.bias)


class QueryGuidedRPNModulator(nn.Module):
    """QG-RPN: per FPN level, ``proj_out[l](proj_modulator[l](z_roi) * P_l)``.

    ``proj_modulator[l]`` is a k x k conv (k = RoI size, 7) without padding, turning the query's 7x7 RoI feature
    into a 1x1xC kernel (the paper's f_z); the product with the search map is channel-wise (a depthwise 1x1
    correlation); ``proj_out[l]`` is a 1x1 conv (f_out).

    Paper vs code: the paper writes ``f_out(f_x(x) * f_z(z))`` with a 3x3 conv f_x on the search features; the
    released code and checkpoint have no f_x (and no activation or normalisation), so neither does this module.
    """

    def __init__(self, channels: int = 256, num_levels: int = 5, roi_size: int = 7):
        super().__init__()
        self.proj_modulator = nn.ModuleList(nn.Conv2d(channels, channels, roi_size) for _ in range(num_levels))
        self.proj_out = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in range(num_levels))
        for m in list(self.proj_modulator) + list(self.proj_out):
            _normal_init(m)

    def kernels(self, z_roi: torch.Tensor) -> list[torch.Tensor]:
        """(Q, C, k, k) query RoI features -> one (Q, C, 1, 1) kernel per level. Computed once per query."""
        return [proj(z_roi) for proj in self.proj_modulator]

    def forward(self, features: list[torch.Tensor], kernels: list[torch.Tensor]) -> list[torch.Tensor]:
        """Modulate (N, C, H, W) search maps with (N or 1, C, 1, 1) kernels, level by level."""
        return [out(k * x) for out, k, x in zip(self.proj_out, kernels, features)]


class QueryGuidedRCNNModulator(nn.Module):
    """QG-RCNN: ``proj_out(proj_x(x_roi) * proj_z(z_roi))``; 3x3, 3x3 and 1x1 convs, no activation (spec 1.8).

    ``x_roi`` are the proposals' RoI features from the *un-modulated* search FPN; ``proj_z(z_roi)`` is computed once
    per query (``query``) and broadcast over the proposals.
    """

    def __init__(self, channels: int = 256):
        super().__init__()
        self.proj_z = nn.Conv2d(channels, channels, 3, padding=1)
        self.proj_x = nn.Conv2d(channels, channels, 3, padding=1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        for m in (self.proj_z, self.proj_x, self.proj_out):
            _normal_init(m)

    def query(self, z_roi: torch.Tensor) -> torch.Tensor:
        return self.proj_z(z_roi)

    def forward(self, x_roi: torch.Tensor, z_proj: torch.Tensor) -> torch.Tensor:
        """(R, C, k, k) RoI features, (R or 1, C, k, k) projected query -> (R, C, k, k)."""
        return self.proj_out(self.proj_x(x_roi) * z_proj)
