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
  On the CPU RoIs up to 24 feature pixels a side are pooled by ``_roi_align_separable`` instead (tracking and
  training): the same v1 kernel (clamp to 0 included) as two small matrix products per RoI, and its transpose for
  the gradient.
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
    stds_t = deltas.new_tensor(stds)
    d = deltas * stds_t
    dx, dy = d[:, 0], d[:, 1]
    dw = d[:, 2].clamp(min=-MAX_LOG_RATIO, max=MAX_LOG_RATIO)
    dh = d[:, 3].clamp(min=-MAX_LOG_RATIO, max=MAX_LOG_RATIO)
    px = (rois[:, 0] + rois[:, 2]) * 0.5
    py = (rois[:, 1] + rois[:, 3]) * 0.5
    pw = rois[:, 2] - rois[:, 0] + 1.0
    ph = rois[:, 3] - rois[:, 1] + 1.0
    gw = pw * dw.exp()
    gh = ph * dh.exp()
    gx = px + pw * dx
    gy = py + ph * dy
    x1 = gx - gw * 0.5 + 0.5
    y1 = gy - gh * 0.5 + 0.5
    x2 = gx + gw * 0.5 - 0.5
    y2 = gy + gh * 0.5 - 0.5
    if max_shape is not None:
        h, w = float(max_shape[0]), float(max_shape[1])
        x1 = x1.clamp(min=0, max=w - 1)
        y1 = y1.clamp(min=0, max=h - 1)
        x2 = x2.clamp(min=0, max=w - 1)
        y2 = y2.clamp(min=0, max=h - 1)
    return torch.stack([x1, y1, x2, y2], dim=-1)


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
    ``size`` pixels, the low and high neighbours and their weights (both 0 for a sample outside [-1, size]; the
    kernel zeroes a sample when either coordinate is outside, which the product of the two axes' weights does)."""
    outside = (coords < -1.0) | (coords > size)
    c = coords.clamp(min=0)
    low = c.floor().long()
    edge = low >= size - 1
    low = torch.where(edge, torch.full_like(low, size - 1), low)
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


def _roi_align_v1_exact(feature: torch.Tensor, shifted: torch.Tensor, output_size: int, spatial_scale: float,
                        sampling_ratio: int) -> torch.Tensor:
    """The v1 RoIAlign kernel in PyTorch for (K, 5) RoIs whose x2, y2 already carry the +1: RoI width and height
    ``max(end - start, 0)``, bins of width/out, ``sampling_ratio``^2 points per bin averaged, in the kernel's order
    of operations (float32). Used for the few RoIs where torchvision's clamp-to-1 differs."""
    k = shifted.shape[0]
    start_w = shifted[:, 1] * spatial_scale
    start_h = shifted[:, 2] * spatial_scale
    end_w = shifted[:, 3] * spatial_scale
    end_h = shifted[:, 4] * spatial_scale
    bin_w = (end_w - start_w).clamp(min=0) / output_size
    bin_h = (end_h - start_h).clamp(min=0) / output_size
    p = torch.arange(output_size, device=shifted.device, dtype=shifted.dtype)
    i = torch.arange(sampling_ratio, device=shifted.device, dtype=shifted.dtype) + 0.5
    # y = roi_start_h + ph * bin_size_h + (iy + .5) * bin_size_h / sample_num_h, as the kernel writes it
    ys = (start_h[:, None, None] + p[None, :, None] * bin_h[:, None, None]
          + i[None, None, :] * bin_h[:, None, None] / sampling_ratio)  # (K, out, s)
    xs = (start_w[:, None, None] + p[None, :, None] * bin_w[:, None, None]
          + i[None, None, :] * bin_w[:, None, None] / sampling_ratio)
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


def _roi_align_separable(feature: torch.Tensor, shifted: torch.Tensor, output_size: int, spatial_scale: float,
                         sampling_ratio: int, max_window: int = 24):
    """The v1 RoIAlign (RoI sides clamped at 0, as ``_roi_align_v1_exact``) computed as two small matrix products
    per RoI. Returns (pooled (K', C, out, out), the indices K' of the RoIs it pooled): those whose window of feature
    pixels is at most ``max_window`` a side (the rest are left to the caller). Differentiable in ``feature``
    (``_SeparableRoIAlign``: the transposed products, added back into the windows), as torchvision's op.

    Why: bilinear sampling is separable. A sample is ``wy(y) * wx(x)`` times the 4 neighbours, and it is zero when
    either coordinate leaves [-1, size], so the bin average over s x s samples is ``Ay @ F @ Ax^T`` with (out, window)
    weight matrices per axis and F the RoI's window of the map. torchvision's CPU kernel walks every sample of every
    channel on one thread (~8-10 ms for 150 RoIs of the default model); this takes ~6, the same values to float32
    rounding (a reordering of the same sums). Its backward likewise replaces torchvision's, which scatters every
    sample on one thread: a ``lite0-real`` training step ~4% faster (``bench/train_speed.py``)."""
    chosen, chunks = _separable_plan(feature.shape, shifted, output_size, spatial_scale, sampling_ratio, max_window)
    if chosen.numel() == 0:
        return feature.new_zeros((0, feature.shape[1], output_size, output_size)), chosen
    return _SeparableRoIAlign.apply(feature, chunks, output_size), chosen


def _separable_plan(shape, shifted: torch.Tensor, output_size: int, spatial_scale: float, sampling_ratio: int,
                    max_window: int):
    """(indices of the RoIs whose window fits ``max_window``, chunks of (ay, ax, starts)): each RoI's (out, ky) and
    (out, kx) weight matrices and the flat channels-last pixel index where each of its ky window rows starts."""
    n, channels, height, width = shape
    start_w, start_h, end_w, end_h = (shifted[:, i] * spatial_scale for i in (1, 2, 3, 4))
    bin_w = (end_w - start_w).clamp(min=0) / output_size
    bin_h = (end_h - start_h).clamp(min=0) / output_size
    p = torch.arange(output_size, device=shifted.device, dtype=shifted.dtype)
    i = torch.arange(sampling_ratio, device=shifted.device, dtype=shifted.dtype) + 0.5
    # the kernel's expressions: start + p * bin + (i + .5) * bin / s, shaped (K, out, s)
    ys = start_h[:, None, None] + p[None, :, None] * bin_h[:, None, None] + i * bin_h[:, None, None] / sampling_ratio
    xs = start_w[:, None, None] + p[None, :, None] * bin_w[:, None, None] + i * bin_w[:, None, None] / sampling_ratio
    axes = [_sample_weights(ys, height), _sample_weights(xs, width)]
    # samples grow with (p, i), so a RoI's window runs from its first low to its last high neighbour
    origins = [low[:, 0, 0] for low, _, _, _ in axes]
    extents = [high[:, -1, -1] - o + 1 for (_, high, _, _), o in zip(axes, origins)]
    chosen = torch.nonzero((extents[0] <= max_window) & (extents[1] <= max_window)).flatten()
    # RoIs in chunks that bound the gathered windows to ~64 MB (r50: 1000 RoIs of 256 channels)
    chunk = max(1, (1 << 24) // (max_window * max_window * channels))
    chunks = []
    for part in chosen.split(chunk):
        mats = []
        for (low, high, w_low, w_high), origin, extent in zip(axes, origins, extents):
            low, high, w_low, w_high, origin = low[part], high[part], w_low[part], w_high[part], origin[part]
            mat = shifted.new_zeros((part.numel(), output_size, int(extent[part].max())))
            index = torch.cat([low, high], 2) - origin[:, None, None]
            mats.append(mat.scatter_add_(2, index, torch.cat([w_low, w_high], 2) / sampling_ratio))
        ay, ax = mats
        # rows below the map have weight 0; clamped, they stay inside it
        rows = (origins[0][part, None] + torch.arange(ay.shape[2], device=shifted.device)).clamp(max=height - 1)
        starts = (shifted[part, 0].long()[:, None] * height + rows) * width + origins[1][part, None]
        chunks.append((ay, ax, starts.reshape(-1)))
    return chosen, chunks


class _SeparableRoIAlign(torch.autograd.Function):
    """``Ay @ window @ Ax^T`` per RoI on the channels-last map; backward ``Ay^T @ grad @ Ax`` added into the windows.

    Each window row is kx * C contiguous floats of the channels-last map, gathered in one index_select; a window
    reaching past a row's right edge reads the next row's pixels (or the zeros appended), all at weight 0, and its
    backward adds zeros there."""

    @staticmethod
    def forward(ctx, feature, chunks, output_size):
        n, channels, height, width = feature.shape
        pad = max(ax.shape[2] for _, ax, _ in chunks)
        flat = torch.cat([feature.detach().permute(0, 2, 3, 1).reshape(-1), feature.new_zeros(pad * channels)])
        pooled = []
        for ay, ax, starts in chunks:
            (m, _, ky), kx = ay.shape, ax.shape[2]
            segments = flat.as_strided((n * height * width, kx * channels), (channels, 1))
            windows = segments.index_select(0, starts).view(m, ky, kx * channels)
            rows_pooled = torch.bmm(ay, windows).view(m, output_size, kx, channels)  # (m, ph, x, C)
            # (m, pw, ph * C)
            cols_pooled = torch.bmm(ax, rows_pooled.transpose(1, 2).reshape(m, kx, output_size * channels))
            pooled.append(cols_pooled.view(m, output_size, output_size, channels).permute(0, 3, 2, 1))
        ctx.chunks, ctx.shape, ctx.pad = chunks, feature.shape, pad
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled)

    @staticmethod
    def backward(ctx, grad):
        n, channels, height, width = ctx.shape
        grad_flat = grad.new_zeros((n * height * width + ctx.pad, channels))
        first = 0
        for ay, ax, starts in ctx.chunks:
            (m, out, ky), kx = ay.shape, ax.shape[2]
            g = grad[first:first + m].permute(0, 3, 2, 1).reshape(m, out, out * channels)  # (m, pw, ph*C)
            first += m
            rows_grad = torch.bmm(ax.transpose(1, 2), g).view(m, kx, out, channels)  # (m, x, ph, C)
            windows_grad = torch.bmm(ay.transpose(1, 2), rows_grad.transpose(1, 2).reshape(m, out, kx * channels))
            windows_grad = windows_grad.view(m * ky, kx, channels)
            for dx in range(kx):  # window column dx of every row: pixel start + dx (index_add_ sums repeats)
                grad_flat.index_add_(0, starts + dx, windows_grad[:, dx])
        grad_feature = grad_flat[:n * height * width].view(n, height, width, channels).permute(0, 3, 1, 2)
        return grad_feature, None, None


# Below this many RoIs on one map torchvision's op is the faster one: the separable form's fixed cost (~0.8 ms) is
# then larger than what it saves per RoI. Measured on a lite0_fpn P3 map, 2 threads: 4 RoIs 1.1 vs 0.5 ms
# (separable vs torchvision), 16 RoIs 1.1 vs 0.9, 32 RoIs 1.3 vs 1.7, 64 RoIs 1.6 vs 3.2.
SEPARABLE_MIN_ROIS = 16
# Training (autograd) on the CPU also pools in the separable form: its backward replaces torchvision's one-thread
# scatter of every sample (bench/train_speed.py measures the two side by side; False: torchvision's op)
SEPARABLE_TRAINING = True


def roi_align_v1(feature: torch.Tensor, rois: torch.Tensor, output_size: int, stride: int,
                 sampling_ratio: int = 2) -> torch.Tensor:
    """mmdet v1 RoIAlign of (K, 5) inclusive RoIs (batch index first) on one feature map of the given stride.

    ``torchvision.ops.roi_align(aligned=False)`` on x2+1, y2+1 for RoIs at least one feature pixel wide and high;
    the v1 kernel transcribed (``_roi_align_v1_exact``) for narrower or lower ones, where torchvision's clamp of the
    width and height to 1 differs from v1's clamp to 0. On the CPU ordinary RoIs are pooled in the separable form
    (``_roi_align_separable``: v1's clamp, the same values and gradients to float32 rounding, faster from
    ``SEPARABLE_MIN_ROIS`` RoIs on), in training too unless ``SEPARABLE_TRAINING`` is False.

    Box coordinates stay float32 (in bfloat16 a coordinate near 1000 would be off by several pixels); reduced-
    precision features are pooled in float32 and the result is returned in the feature's dtype.
    """
    shifted = torch.cat([rois[:, :3], rois[:, 3:] + 1.0], dim=1).float()
    scale = 1.0 / stride
    feature32 = feature.float()
    if (sampling_ratio > 0 and shifted.shape[0] >= SEPARABLE_MIN_ROIS and feature.device.type == "cpu"
            and (SEPARABLE_TRAINING or not torch.is_grad_enabled())):
        # the separable form for RoIs of ordinary size (all but long slivers), torchvision's for the rest (on a GPU
        # torchvision's kernel is parallel; the separable form was measured on the CPU only)
        with torch.autocast("cpu", enabled=False):  # pooled in float32 also under autocast, as torchvision's op
            pooled, done = _roi_align_separable(feature32, shifted, output_size, scale, sampling_ratio)
        if done.numel() == shifted.shape[0]:
            return pooled.to(feature.dtype)
        rest = torch.ones(shifted.shape[0], dtype=torch.bool, device=shifted.device)
        rest[done] = False
        out = feature32.new_empty((shifted.shape[0], feature.shape[1], output_size, output_size))
        out[done] = pooled
        out[rest] = _roi_align_reference(feature32, shifted[rest], output_size, scale, sampling_ratio)
        return out.to(feature.dtype)
    return _roi_align_reference(feature32, shifted, output_size, scale, sampling_ratio).to(feature.dtype)


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
    num_levels = len(strides)
    levels = map_roi_levels(rois, num_levels, finest_scale)
    channels = features[0].shape[1]
    out = features[0].new_zeros((rois.shape[0], channels, output_size, output_size))
    for lvl in range(num_levels):
        idx = torch.nonzero(levels == lvl).flatten()
        if idx.numel() == 0:
            continue
        pooled = roi_align_v1(features[lvl], rois[idx], output_size, strides[lvl], sampling_ratio)
        out[idx] = pooled.to(out.dtype)
    return out
