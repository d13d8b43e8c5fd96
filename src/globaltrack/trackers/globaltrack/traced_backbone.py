"""The backbone + FPN as a frozen TorchScript graph, for float32 inference on the CPU.

Why: eager PyTorch runs every convolution as a separate call that converts its weights and activations for oneDNN
each time. A traced, frozen graph optimised for inference (``torch.jit.optimize_for_inference``) holds the weights
prepacked and keeps the activations in oneDNN's layout from layer to layer (ReLU6 applied in place there): the
default model's backbone + FPN took ~32 instead of ~42 ms per 512x320 frame on 2 threads, and a whole ``update``
ran ~9% more frames/s (the two alternated in one process, six rounds of 20 frames); the same features to float
rounding (max difference ~1e-4). The graph is shape-generic (traced once, checked on other sizes in the tests).

Used only where it is the same computation: CPU, no autograd, no autocast, eval mode; anything else (training, a
``dtype=bfloat16`` tracker, CUDA) runs the eager module it wraps. ``torch.jit`` is deprecated in recent PyTorch;
where tracing fails the eager module is kept, so a future PyTorch costs speed, never correctness.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn


def autocast_on() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # PyTorch < 2.4
        return torch.is_autocast_cpu_enabled()


def inference_graph(module: nn.Module, example: torch.Tensor, fallback: str):
    """``module`` (in eval mode) traced on ``example``, frozen and optimised for inference; None, with one warning
    that ends in ``fallback`` (what runs instead), where any step fails. Shared by tracking (this file) and
    training's frozen stages (``frozen_prefix.py``)."""
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the deprecation notice and the tracer's constant warnings
            graph = torch.jit.freeze(torch.jit.trace(module, example, strict=False).eval())
            run = torch.jit.optimize_for_inference(graph)
            run(example)  # the optimisation passes run lazily; fail here, not in a user's frame or mid-training
        return run
    except Exception as err:  # noqa: BLE001 -- any failure means: stay eager
        warnings.warn(f"{fallback}: tracing it failed ({err})", stacklevel=3)
        return None


class TracedBackbone(nn.Module):
    """Wraps ``backbone`` (any module mapping images to an ordered dict of feature maps, with ``out_channels``);
    ``traced`` is None where tracing failed."""

    def __init__(self, backbone: nn.Module, example: torch.Tensor):
        super().__init__()
        self.eager = backbone.eval()
        self.out_channels = backbone.out_channels
        self.traced = None
        self.eval()  # a new module starts in training mode, where it would always run the eager module
        self.traced = inference_graph(self.eager, example, "GlobalTrack runs its backbone eagerly (slower)")

    def __getattr__(self, name: str):
        # the wrapped module's attributes (``body``, ``frozen_modules``, ...) as the model's code expects them
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("eager"), name)

    def forward(self, images: torch.Tensor):
        if (self.traced is None or self.training or images.device.type != "cpu" or images.dtype != torch.float32
                or torch.is_grad_enabled() or autocast_on()):
            return self.eager(images)
        return self.traced(images)


def trace_backbone(model, device: str) -> None:
    """Replace ``model.backbone`` by its traced form for CPU inference (a loaded model, like BatchNorm folding)."""
    if str(device) != "cpu" or isinstance(model.backbone, TracedBackbone):
        return
    w, h = model.config.test_image_scale or model.config.image_scale
    divisor = max(int(model.config.size_divisor), 1)
    # a frame of the config's own size (padded as the preprocessing pads), landscape
    example = torch.zeros(1, 3, -(-min(w, h) // divisor) * divisor, -(-max(w, h) // divisor) * divisor)
    model.backbone = TracedBackbone(model.backbone, example)
