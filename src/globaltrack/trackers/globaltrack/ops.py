"""mmdetection v1 box conventions on top of torchvision's ops (spec 1.7, 1.10, 1.11).

mmdet v1 boxes are *inclusive* ``x1, y1, x2, y2``: width = x2 - x1 + 1. Each function here documents which v1
function it reproduces and how torchvision's op is shimmed:

- ``nms_v1``: ``mmdet/ops/nms/src/nms_kernel.cu`` IoU uses +1 widths; ``torchvision.ops.nms`` on x2+1, y2+1 gives
  the same keep list.
- ``roi_align_v1``: ``mmdet/ops/roi_align/src/roi_align_kernel.cu`` samples from x1*s to (x2+1)*s;
  ``torchvision.ops.roi_align(aligned=False)`` on x2+1, y2+1 is the same (to 3e-6) except for RoIs narrower or
  lower than one feature pixel: torchvision clamps the RoI width and height to at least 1, v1 to at least 0
  (``max(x2*s + s - x1*s, 0)``). Proposals clipped to slivers at the image border are such RoIs (5-7 per frame on
  OTB Couple at 1333x800; with torchvision's clamp their RoI features were off by up to 23% and their scores by up to
  0.067), so those RoIs -- and only those -- go through ``_roi_align_v1_exact``, a PyTorch transcription of the v1
  kernel.
  On the CPU, from ``GATHER_MIN_ROIS`` RoIs on, all RoIs of all levels are pooled by ``_roi_align_gathered`` instead
  (tracking and training): the same v1 kernel (clamp to 0 included) as one weighted gather of table rows (``embedding_bag``).
- ``delta2bbox`` / ``bbox2delta``: ``mmdet/core/bbox/transforms.py``, reimplemented (torchvision's decoder clamps dw
  only from above and clips to [0, W] instead of [0, W-1]).
- ``map_roi_levels``: ``mmdet/models/roi_extractors/single_level.py``.

Known, documented departure that cannot be matched in general -- **NMS among exactly equal scores**: v1's NMS sorts
the scores with an unstable sort (``scores.sort(0, descending=True)`` on the GPU) before its greedy pass, so among
boxes with bit-identical scores the one kept first is whatever that sort returns; ``torchvision.ops.nms`` keeps them
in index order. When two overlapping boxes tie exactly, v1 and we may keep a different one of the two (and so report
a different box as the top-1 when they are also the best). Exact ties need equal logits, which real-valued networks
produce only for duplicated inputs (e.g. two proposals clipped to the same box); the detections the official code
keeps otherwise agree with ours (spec 1.11).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, nms, roi_align

WH_RATIO_CLIP = 16 / 1000  # mmdet v1 delta2bbox default
MAX_LOG_RATIO = abs(math.log(WH_RATIO_CLIP))


def _exclusive(boxes: torch.Tensor) -> torch.Tensor:
    """Inclusive v1 boxes -> the exclusive boxes torchvision expects (x2+1, y2+1)."""
    return torch.cat([boxes[..., :2], boxes[..., 2:] + 1.0], dim=-1)


def nms_v1(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices kept by mmdet v1 NMS (IoU with +1 widths; suppress when IoU > threshold), sorted by score."""
    return nms(_exclusive(boxes.float()), scores.float(), float(iou_threshold))


def batched_nms_v1(boxes, scores, groups, iou_threshold: float) -> torch.Tensor:
    """``nms_v1`` run independently within each group id (used for per-level proposal NMS)."""
    return batched_nms(_exclusive(boxes.float()), scores.float(), groups, float(iou_threshold))


def box_iou_v1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, M) IoU with +1 widths, as mmdet v1 ``bbox_overlaps``."""
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt + 1).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def delta2bbox(rois: torch.Tensor, deltas: torch.Tensor, stds=(1.0, 1.0, 1.0, 1.0), max_shape=None) -> torch.Tensor:
    """mmdet v1 ``delta2bbox`` with means 0: decode (N, 4) deltas against (N, 4) inclusive boxes.

    ``max_shape`` = (h, w) of the resized, unpadded image: the result is clipped to [0, w-1] x [0, h-1].
    """
    # x and y as column pairs (half the tensor operations of one column at a time: this runs ~5 times a frame on a
    # few hundred boxes, where the cost is the number of operations); each element's arithmetic is v1's
    d = deltas * deltas.new_tensor(stds)
    dwh = d[:, 2:].clamp(min=-MAX_LOG_RATIO, max=MAX_LOG_RATIO)
    p_ctr = (rois[:, :2] + rois[:, 2:]) * 0.5
    p_wh = rois[:, 2:] - rois[:, :2] + 1.0
    g_wh = p_wh * dwh.exp()
    g_ctr = p_ctr + p_wh * d[:, :2]
    half = g_wh * 0.5
    boxes = torch.cat([g_ctr - half + 0.5, g_ctr + half - 0.5], dim=1)
    if max_shape is not None:
        h, w = float(max_shape[0]), float(max_shape[1])
        boxes = boxes.clamp(min=0).minimum(boxes.new_tensor([w - 1, h - 1, w - 1, h - 1]))
    return boxes


def bbox2delta(proposals: torch.Tensor, gt: torch.Tensor, stds=(1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """mmdet v1 ``bbox2delta`` with means 0 (the +1 width convention)."""
    px = (proposals[:, 0] + proposals[:, 2]) * 0.5
    py = (proposals[:, 1] + proposals[:, 3]) * 0.5
    pw = proposals[:, 2] - proposals[:, 0] + 1.0
    ph = proposals[:, 3] - proposals[:, 1] + 1.0
    gx = (gt[:, 0] + gt[:, 2]) * 0.5
    gy = (gt[:, 1] + gt[:, 3]) * 0.5
    gw = gt[:, 2] - gt[:, 0] + 1.0
    gh = gt[:, 3] - gt[:, 1] + 1.0
    deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], dim=-1)
    return deltas / deltas.new_tensor(stds)


def map_roi_levels(rois: torch.Tensor, num_levels: int, finest_scale: float = 56.0) -> torch.Tensor:
    """mmdet v1 level rule: ``floor(log2(sqrt((x2-x1+1)(y2-y1+1)) / finest_scale + 1e-6))`` clamped to 0..L-1.

    ``rois`` is (K, 5) with the batch index first. With finest_scale 56: < 112 px -> P2, 112-224 -> P3, ...
    """
    scale = torch.sqrt((rois[:, 3] - rois[:, 1] + 1) * (rois[:, 4] - rois[:, 2] + 1))
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


def _sample_weights(coords: torch.Tensor, size: int):
    """One axis of the v1 / torchvision ``bilinear_interpolate``: for sample coordinates (any shape) on an axis of
    ``size`` pixels (an int, or an integer tensor that broadcasts against ``coords``: a size per RoI), the low and
    high neighbours and their weights (both 0 for a sample outside [-1, size]; the kernel zeroes a sample when
    either coordinate is outside, which the product of the two axes' weights does)."""
    outside = (coords < -1.0) | (coords > size)
    c = coords.clamp(min=0)
    low = c.floor().long()
    edge = low >= size - 1
    low = torch.where(edge, size - 1, low)
    c = torch.where(edge, low.to(c.dtype), c)
    high = torch.where(edge, low, low + 1)
    frac = c - low.to(c.dtype)
    keep = (~outside).to(c.dtype)
    return low, high, (1.0 - frac) * keep, frac * keep


def _bilinear_v1(feature: torch.Tensor, batch: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """v1 ``bilinear_interpolate`` (same as torchvision's) on (N, C, H, W) maps at (K, S) points of image
    ``batch[k]`` -> (K, C, S). Gathers the 4 neighbours per point (no per-RoI copy of the map)."""
    n, channels, height, width = feature.shape
    y_low, y_high, wy_low, wy_high = _sample_weights(y, height)
    x_low, x_high, wx_low, wx_high = _sample_weights(x, width)
    table = feature.permute(0, 2, 3, 1).reshape(n, height * width, channels)
    rows = batch.view(-1, 1)

    def at(yy, xx):  # (K, S, C)
        return table[rows, yy * width + xx]

    val = ((wy_low * wx_low)[..., None] * at(y_low, x_low) + (wy_low * wx_high)[..., None] * at(y_low, x_high)
           + (wy_high * wx_low)[..., None] * at(y_high, x_low) + (wy_high * wx_high)[..., None] * at(y_high, x_high))
    return val.permute(0, 2, 1)


def _sample_coords(start: torch.Tensor, end: torch.Tensor, output_size: int, sampling_ratio: int) -> torch.Tensor:
    """One axis of the v1 kernel's sample coordinates for K RoIs from ``start`` to ``end`` (feature pixels), (K, out,
    s): ``start + p * bin + (i + .5) * bin / s`` in the kernel's order of operations, the RoI side clamped at 0 (v1;
    torchvision clamps it at 1). Shared by both v1 paths (the transcription and the gathered form)."""
    bin_size = (end - start).clamp(min=0) / output_size
    p = torch.arange(output_size, device=start.device, dtype=start.dtype)
    i = torch.arange(sampling_ratio, device=start.device, dtype=start.dtype) + 0.5
    return (start[:, None, None] + p[None, :, None] * bin_size[:, None, None]
            + i[None, None, :] * bin_size[:, None, None] / sampling_ratio)


def _roi_align_v1_exact(feature: torch.Tensor, shifted: torch.Tensor, output_size: int, spatial_scale: float,
                        sampling_ratio: int) -> torch.Tensor:
    """The v1 RoIAlign kernel in PyTorch for (K, 5) RoIs whose x2, y2 already carry the +1: RoI width and height
    ``max(end - start, 0)``, bins of width/out, ``sampling_ratio``^2 points per bin averaged, in the kernel's order
    of operations (float32). Used for the few RoIs where torchvision's clamp-to-1 differs."""
    k = shifted.shape[0]
    ys = _sample_coords(shifted[:, 2] * spatial_scale, shifted[:, 4] * spatial_scale, output_size, sampling_ratio)
    xs = _sample_coords(shifted[:, 1] * spatial_scale, shifted[:, 3] * spatial_scale, output_size, sampling_ratio)
    # every (ph, iy) with every (pw, ix): (K, out, s, out, s)
    yy = ys[:, :, :, None, None].expand(k, output_size, sampling_ratio, output_size, sampling_ratio)
    xx = xs[:, None, None, :, :].expand(k, output_size, sampling_ratio, output_size, sampling_ratio)
    vals = _bilinear_v1(feature, shifted[:, 0].long(), yy.reshape(k, -1), xx.reshape(k, -1))
    vals = vals.reshape(k, -1, output_size, sampling_ratio, output_size, sampling_ratio)
    # the kernel accumulates iy-major, ix-minor, then divides by the count
    acc = torch.zeros_like(vals[:, :, :, 0, :, 0])
    for iy in range(sampling_ratio):
        for ix in range(sampling_ratio):
            acc = acc + vals[:, :, :, iy, :, ix]
    return acc / (sampling_ratio * sampling_ratio)


def _axis_samples(start: torch.Tensor, end: torch.Tensor, size: torch.Tensor, output_size: int,
                  sampling_ratio: int):
    """One axis of the v1 kernel's samples for K RoIs from ``start`` to ``end`` (feature pixels) on maps ``size``
    pixels long: ``_sample_weights`` of their ``_sample_coords``."""
    return _sample_weights(_sample_coords(start, end, output_size, sampling_ratio), size[:, None, None])


def _roi_align_gathered(features: list[torch.Tensor], rois: torch.Tensor, levels: torch.Tensor, strides,
                        output_size: int, sampling_ratio: int) -> torch.Tensor:
    """The v1 RoIAlign of (K, 5) inclusive RoIs, each on map ``features[levels[k]]``, as one weighted gather
    (``F.embedding_bag``) over a table of every map's pixels, channels last. Returns (K, C, out, out), a view of a
    (K, out, out, C) tensor (``QueryGuidedRoIHeads`` reads it in that order without a copy).

    Why: an output bin of a RoI is a weighted sum of pixels -- s x s samples, 4 neighbours each, with the kernel's
    bilinear weights (zero for a sample outside [-1, size]) divided by the sample count -- so all bins of all RoIs
    on all levels are one ``embedding_bag`` of (K * out * out) bags of 4 s^2 table rows: one call, no per-level
    loop, no copy of a window per RoI. Any RoI size (slivers, zero area, outside the map) follows the kernel; the
    same values as ``_roi_align_reference`` to float32 rounding (the sums in another order). Its backward is
    PyTorch's (the weights scattered back into the table). torchvision's CPU kernel walks every sample of every
    channel on one thread. For the default model's 150 RoIs on a 640x360 frame (2 threads) this took ~2.5 ms against
    ~9 for the former separable form (two matrix products per RoI) in the tracker's per-level loop; forward +
    backward of 600 RoIs ~60 ms against ~150 (separable) and ~280 (torchvision). The index is int32 (the broadcast
    sum ~30% faster than in int64): tables of up to 2^31 rows."""
    feats = [f.float() for f in features]
    channels = feats[0].shape[1]
    device = rois.device
    table = torch.cat([f.permute(0, 2, 3, 1).reshape(-1, channels) for f in feats])
    # per level: map height, width, scale, and the table row where its first image starts
    shape = torch.tensor([[f.shape[2], f.shape[3]] for f in feats], device=device)
    scale = torch.tensor([1.0 / s for s in strides], device=device)[levels]
    first = torch.tensor([0] + [f.numel() // channels for f in feats[:-1]], device=device).cumsum(0)
    height, width = shape[levels].unbind(1)
    shifted = torch.cat([rois[:, :3], rois[:, 3:] + 1.0], dim=1).float()  # the kernels sample to x2 + 1
    y_low, y_high, wy_low, wy_high = _axis_samples(shifted[:, 2] * scale, shifted[:, 4] * scale, height,
                                                   output_size, sampling_ratio)
    x_low, x_high, wx_low, wx_high = _axis_samples(shifted[:, 1] * scale, shifted[:, 3] * scale, width,
                                                   output_size, sampling_ratio)
    k, e = rois.shape[0], 2 * sampling_ratio  # e: a bin's samples times their 2 neighbours, per axis
    image_first = first[levels] + shifted[:, 0].long() * height * width
    rows = image_first[:, None, None] + torch.cat([y_low, y_high], 2) * width[:, None, None]  # (K, out, e)
    cols = torch.cat([x_low, x_high], 2)
    # bag (k, ph, pw) holds rows[k, ph, a] + cols[k, pw, b] for every a, b (int32: ~30% faster than int64)
    index = rows.int().view(k, output_size, 1, e, 1) + cols.int().view(k, 1, output_size, 1, e)
    wy = torch.cat([wy_low, wy_high], 2) / (sampling_ratio * sampling_ratio)
    weight = wy.view(k, output_size, 1, e, 1) * torch.cat([wx_low, wx_high], 2).view(k, 1, output_size, 1, e)
    bags = k * output_size * output_size
    pooled = F.embedding_bag(index.view(bags, e * e), table, per_sample_weights=weight.view(bags, e * e),
                             mode="sum")
    return pooled.view(k, output_size, output_size, channels).permute(0, 3, 1, 2)


# Below this many RoIs torchvision's op is the faster one: the gathered form's fixed cost (~1.2 ms: its small tensor
# operations and the table) is then larger than what it saves per RoI. Measured on the default model's P3-P5 of a
# 640x360 frame, 2 threads, gathered vs torchvision: 2 RoIs 1.35 vs 0.50 ms, 8 1.21 vs 0.90, 12 1.27 vs 1.41,
# 16 1.21 vs 1.67, 32 1.56 vs 3.78, 64 2.32 vs 6.89
GATHER_MIN_ROIS = 12
# Training (autograd) on the CPU also pools in the gathered form: its backward replaces torchvision's one-thread
# scatter of every sample (bench/train_speed.py measures the two side by side; False: torchvision's op)
GATHERED_TRAINING = True


def pool_rois(features: list[torch.Tensor], rois: torch.Tensor, levels: torch.Tensor, strides,
              output_size: int = 7, sampling_ratio: int = 2) -> torch.Tensor:
    """mmdet v1 RoIAlign of (K, 5) inclusive RoIs (batch index first), RoI k on ``features[levels[k]]`` (of stride
    ``strides[levels[k]]``) -> (K, C, out, out) in the features' dtype.

    On the CPU from ``GATHER_MIN_ROIS`` RoIs on (in training too unless ``GATHERED_TRAINING`` is False):
    ``_roi_align_gathered``. Otherwise -- fewer RoIs, a GPU (where torchvision's kernel is parallel), adaptive
    sampling -- level by level ``torchvision.ops.roi_align(aligned=False)`` on x2+1, y2+1, with the v1 kernel
    transcribed for the RoIs narrower or lower than one feature pixel, where torchvision's clamp of the width and
    height to 1 differs from v1's clamp to 0 (``_roi_align_reference``).

    Box coordinates stay float32 (in bfloat16 a coordinate near 1000 would be off by several pixels); reduced-
    precision features are pooled in float32 and the result is returned in the features' dtype.
    """
    dtype = features[0].dtype
    if (sampling_ratio > 0 and rois.shape[0] >= GATHER_MIN_ROIS and rois.device.type == "cpu"
            and (GATHERED_TRAINING or not torch.is_grad_enabled())):
        with torch.autocast("cpu", enabled=False):  # pooled in float32 also under autocast, as torchvision's op
            return _roi_align_gathered(features, rois, levels, strides, output_size, sampling_ratio).to(dtype)
    out = features[0].new_zeros((rois.shape[0], features[0].shape[1], output_size, output_size))
    for lvl, stride in enumerate(strides):
        idx = torch.nonzero(levels == lvl).flatten()
        if idx.numel():
            shifted = torch.cat([rois[idx, :3], rois[idx, 3:] + 1.0], dim=1).float()
            out[idx] = _roi_align_reference(features[lvl].float(), shifted, output_size, 1.0 / stride,
                                            sampling_ratio).to(dtype)
    return out


def roi_align_v1(feature: torch.Tensor, rois: torch.Tensor, output_size: int, stride: int,
                 sampling_ratio: int = 2) -> torch.Tensor:
    """mmdet v1 RoIAlign of (K, 5) inclusive RoIs (batch index first) on one feature map of the given stride
    (``pool_rois`` with one level)."""
    levels = torch.zeros(rois.shape[0], dtype=torch.long, device=rois.device)
    return pool_rois([feature], rois, levels, (stride,), output_size, sampling_ratio)


def _roi_align_reference(feature32: torch.Tensor, shifted: torch.Tensor, output_size: int, scale: float,
                         sampling_ratio: int) -> torch.Tensor:
    """torchvision's RoIAlign, with the v1 kernel transcribed for RoIs narrower or lower than one feature pixel."""
    pooled = roi_align(feature32, shifted, output_size, spatial_scale=scale, sampling_ratio=sampling_ratio,
                       aligned=False)
    if sampling_ratio > 0 and shifted.shape[0]:
        # the same float32 products the kernels compute: (x2 + 1) * s - x1 * s
        width = shifted[:, 3] * scale - shifted[:, 1] * scale
        height = shifted[:, 4] * scale - shifted[:, 2] * scale
        small = torch.nonzero((width < 1) | (height < 1)).flatten()
        for start in range(0, small.numel(), 128):  # chunks bound the memory of the gathered samples
            part = small[start:start + 128]
            pooled[part] = _roi_align_v1_exact(feature32, shifted[part], output_size, scale, sampling_ratio)
    return pooled


def multilevel_roi_align(features: list[torch.Tensor], rois: torch.Tensor, output_size: int = 7,
                         strides=(4, 8, 16, 32), sampling_ratio: int = 2, finest_scale: float = 56.0) -> torch.Tensor:
    """mmdet v1 ``SingleRoIExtractor``: each RoI pooled from one of ``features[:len(strides)]`` by its size."""
    levels = map_roi_levels(rois, len(strides), finest_scale)
    return pool_rois(features[:len(strides)], rois, levels, strides, output_size, sampling_ratio)
