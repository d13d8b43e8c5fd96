"""The frozen first stages of the EfficientNet-Lite0 body as one inference graph, for training on the CPU.

With ``frozen_stages=4`` (``lite0-real``) the stem and blocks 0-3 take no gradients and their BatchNorms use running
statistics: in training they are a fixed function of the image, run twice a pair (query and search). Here they run
as a copy with the BatchNorms folded into the convolutions (``efficientnet.fuse_batchnorm``), traced, frozen and
optimised for inference (as ``traced_backbone.py`` does for tracking), under ``no_grad``: the same maps to float
rounding; ``bench/train_speed.py`` measures the step beside the eager modules. The copy is rebuilt when a frozen
tensor changes (a resumed or ``--init`` checkpoint loads after the model is built), and where tracing fails the
folded eager copy is used.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

# efficientnet.py imports this module only inside backbone_with_fpn, so importing it here makes no cycle
from globaltrack.trackers.globaltrack.efficientnet import frozen_modules, fuse_batchnorm, is_feature_block
from globaltrack.trackers.globaltrack.traced_backbone import autocast_on, inference_graph

# False: training runs the eager frozen modules (bench/train_speed.py compares the two)
ENABLED = True


class _Prefix(nn.Module):
    """stem + blocks[:n] of an ``EfficientNetFeatures`` body -> (the body's feature maps among them, last output)."""

    def __init__(self, body, n: int):
        super().__init__()
        self.conv_stem, self.bn1 = body.conv_stem, body.bn1
        self.blocks = nn.Sequential(*list(body.blocks)[:n])
        self.taps = [i for i in range(n) if is_feature_block(body, i)]

    def forward(self, x):
        x = self.bn1(self.conv_stem(x))
        maps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                maps.append(x)
        return tuple(maps) + (x,)


class FrozenPrefix:
    """Callable ``images -> (maps, x)`` for a body whose stem and first ``blocks`` blocks are frozen; a plain object,
    not a module, so that the copy is in no state dict and DDP never sees it."""

    def __init__(self, body, blocks: int):
        self.body, self.blocks = body, blocks
        self._key = None
        self._run = None

    def _frozen_tensors(self):
        return [t for m in frozen_modules(self.body, self.blocks) for t in (*m.parameters(), *m.buffers())]

    def _build(self, example: torch.Tensor):
        prefix = copy.deepcopy(_Prefix(self.body, self.blocks)).eval()
        fuse_batchnorm(prefix)
        run = inference_graph(prefix, example, "training runs the frozen backbone stages eagerly")
        return prefix if run is None else run

    def __call__(self, images: torch.Tensor):
        tensors = self._frozen_tensors()
        key = tuple((t.data_ptr(), t._version) for t in tensors)
        if key != self._key:
            self._run, self._key = self._build(images.detach()), key
        with torch.no_grad():
            out = self._run(images)
        # the graph returns NCHW maps; the trainable blocks after it are faster in the input's channels_last
        out = [o.contiguous(memory_format=torch.channels_last) for o in out]
        return out[:-1], out[-1]


def usable(body, blocks: int, images: torch.Tensor) -> bool:
    """Where the prefix graph is the same computation as the eager modules: CPU float32 without autocast, at least
    one frozen block, and the frozen modules without gradients and in eval mode (running BatchNorm statistics)."""
    if not ENABLED or blocks < 1 or images.device.type != "cpu" or images.dtype != torch.float32 or autocast_on():
        return False
    return all(not m.training and not any(p.requires_grad for p in m.parameters())
               for m in frozen_modules(body, blocks))
