"""Our shims on torchvision ops equal mmdetection v1's conventions (spec 1.3, 1.7, 1.10, 1.11).

References: the anchor table printed in spec 1.3; for NMS, RoIAlign and decoding, direct transcriptions of the v1
kernels' arithmetic as the spec describes it (greedy NMS with +1 IoU; the RoIAlign CUDA kernel's sampling loop;
``delta2bbox``), written independently of the package code.
"""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack.anchors import AnchorGenerator, base_anchors  # noqa: E402
from globaltrack.trackers.globaltrack.ops import (bbox2delta, delta2bbox, map_roi_levels,  # noqa: E402
                                                  multilevel_roi_align, nms_v1, roi_align_v1)

# spec 1.3, "Resulting base anchors"
SPEC_ANCHORS = {
    4: [[-21, -9, 24, 12], [-14, -14, 17, 17], [-9, -21, 12, 24]],
    8: [[-41, -19, 48, 26], [-28, -28, 35, 35], [-19, -41, 26, 48]],
    16: [[-83, -37, 98, 52], [-56, -56, 71, 71], [-37, -83, 52, 98]],
    32: [[-165, -75, 196, 106], [-112, -112, 143, 143], [-75, -165, 106, 196]],
    64: [[-330, -149, 393, 212], [-224, -224, 287, 287], [-149, -330, 212, 393]],
}


@pytest.mark.parametrize("stride", sorted(SPEC_ANCHORS))
def test_base_anchors_equal_the_spec_table(stride):
    assert base_anchors(stride).tolist() == SPEC_ANCHORS[stride]


def test_grid_uses_the_fixed_stride_even_when_the_map_size_is_odd():
    # an 800x1216 padded image: P6 is 13x19; torchvision would derive stride 800 // 13 = 61 (spec 1.3)
    gen = AnchorGenerator()
    sizes = [(200, 304), (100, 152), (50, 76), (25, 38), (13, 19)]
    levels = gen(sizes, "cpu")
    assert levels[4].shape == (13 * 19 * 3, 4)
    last = levels[4].view(13, 19, 3, 4)
    # (H, W, A) layout; shift between neighbouring cells is exactly 64 in x and in y
    assert torch.equal(last[0, 1] - last[0, 0], torch.tensor([[64.0, 0, 64, 0]] * 3))
    assert torch.equal(last[1, 0] - last[0, 0], torch.tensor([[0, 64.0, 0, 64]] * 3))
    assert last[12, 18, 1].tolist() == [-224 + 18 * 64, -224 + 12 * 64, 287 + 18 * 64, 287 + 12 * 64]


def reference_nms_v1(boxes, scores, thr):
    """mmdet v1 nms_kernel semantics: score order, suppress a later box when its +1 IoU with a kept box > thr."""
    order = np.argsort(-scores, kind="stable")
    keep, suppressed = [], np.zeros(len(boxes), bool)
    for a, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(int(i))
        for j in order[a + 1:]:
            xx1, yy1 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            xx2, yy2 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            inter = max(xx2 - xx1 + 1, 0) * max(yy2 - yy1 + 1, 0)
            area = lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1)  # noqa: E731
            if inter / (area(boxes[i]) + area(boxes[j]) - inter) > thr:
                suppressed[j] = True
    return keep


def test_nms_plus_one_convention_changes_the_keep_list():
    boxes = np.array([[0, 0, 9, 9], [5, 0, 14, 9]], dtype=np.float32)  # +1 IoU 1/3, plain IoU 0.286
    scores = np.array([0.9, 0.8], dtype=np.float32)
    ref = reference_nms_v1(boxes, scores, 0.3)
    assert ref == [0]
    assert nms_v1(torch.from_numpy(boxes), torch.from_numpy(scores), 0.3).tolist() == ref


@pytest.mark.parametrize("thr", [0.5, 0.7])
def test_nms_keep_lists_equal_the_v1_reference(thr):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 60, (300, 2))
    wh = rng.uniform(2, 30, (300, 2))
    boxes = np.round(np.concatenate([xy, xy + wh], 1)).astype(np.float32)
    scores = rng.permutation(300).astype(np.float32) / 300
    keep = nms_v1(torch.from_numpy(boxes), torch.from_numpy(scores), thr).tolist()
    assert keep == reference_nms_v1(boxes, scores, thr)


def reference_roi_align_v1(feat, roi, out=7, scale=0.25, sample=2):
    """The mmdet v1 RoIAlign kernel for one RoI on a (C, H, W) map (spec 1.7)."""
    c, h, w = feat.shape
    x1, y1, x2, y2 = roi
    sw, sh = x1 * scale, y1 * scale
    rw, rh = max((x2 + 1) * scale - sw, 0.0), max((y2 + 1) * scale - sh, 0.0)
    bw, bh = rw / out, rh / out

    def bilinear(y, x):
        if y < -1.0 or y > h or x < -1.0 or x > w:
            return np.zeros(c)
        y, x = max(y, 0.0), max(x, 0.0)
        yl, xl = int(y), int(x)
        if yl >= h - 1:
            yh = yl = h - 1
            y = float(yl)
        else:
            yh = yl + 1
        if xl >= w - 1:
            xh = xl = w - 1
            x = float(xl)
        else:
            xh = xl + 1
        ly, lx = y - yl, x - xl
        hy, hx = 1 - ly, 1 - lx
        return hy * hx * feat[:, yl, xl] + hy * lx * feat[:, yl, xh] + ly * hx * feat[:, yh, xl] + ly * lx * feat[:, yh, xh]

    result = np.zeros((c, out, out))
    for ph in range(out):
        for pw in range(out):
            acc = np.zeros(c)
            for iy in range(sample):
                y = sh + ph * bh + (iy + 0.5) * bh / sample
                for ix in range(sample):
                    x = sw + pw * bw + (ix + 0.5) * bw / sample
                    acc += bilinear(y, x)
            result[:, ph, pw] = acc / (sample * sample)
    return result


def test_roi_align_equals_the_v1_kernel():
    rng = np.random.default_rng(0)
    feat = rng.standard_normal((3, 20, 24)).astype(np.float32)
    rois = np.array([[4.0, 6.0, 50.0, 40.0], [0.0, 0.0, 95.0, 79.0], [30.3, 12.7, 61.9, 70.2], [70, 60, 100, 90]])
    t_rois = torch.cat([torch.zeros(len(rois), 1), torch.from_numpy(rois).float()], 1)
    ours = roi_align_v1(torch.from_numpy(feat)[None], t_rois, 7, 4, 2).numpy()
    for k, roi in enumerate(rois):
        np.testing.assert_allclose(ours[k], reference_roi_align_v1(feat, roi), atol=1e-5)  # float32 vs float64


def test_roi_levels_follow_finest_scale_56():
    # spec 1.7: < 112 px -> P2, 112-224 -> P3, 224-448 -> P4, larger -> P5 (sizes with the +1 convention)
    sides = [10, 111, 112, 223, 224, 447, 448, 2000]
    rois = torch.tensor([[0, 0, 0, s - 1, s - 1] for s in sides], dtype=torch.float32)
    assert map_roi_levels(rois, 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_multilevel_roi_align_pools_each_roi_from_its_level():
    feats = [torch.full((1, 2, 64 // 2 ** i, 64 // 2 ** i), float(i)) for i in range(5)]
    rois = torch.tensor([[0, 0, 0, 50, 50], [0, 0, 0, 150, 150], [0, 0, 0, 250, 250]], dtype=torch.float32)
    out = multilevel_roi_align(feats, rois)
    assert [float(out[k].mean()) for k in range(3)] == [0.0, 1.0, 2.0]


def reference_delta2bbox(roi, delta, stds, max_shape):
    """spec 1.10, mmdet v1 delta2bbox, in plain Python."""
    dx, dy, dw, dh = [d * s for d, s in zip(delta, stds)]
    lim = abs(math.log(16 / 1000))
    dw, dh = min(max(dw, -lim), lim), min(max(dh, -lim), lim)
    pw, ph = roi[2] - roi[0] + 1, roi[3] - roi[1] + 1
    px, py = (roi[0] + roi[2]) / 2, (roi[1] + roi[3]) / 2
    gw, gh = pw * math.exp(dw), ph * math.exp(dh)
    gx, gy = px + pw * dx, py + ph * dy
    box = [gx - gw / 2 + 0.5, gy - gh / 2 + 0.5, gx + gw / 2 - 0.5, gy + gh / 2 - 0.5]
    h, w = max_shape
    return [min(max(box[0], 0), w - 1), min(max(box[1], 0), h - 1), min(max(box[2], 0), w - 1),
            min(max(box[3], 0), h - 1)]


def test_decoding_equals_v1_delta2bbox_including_clamp_and_clip():
    rois = [[10, 20, 59, 99], [100, 50, 130, 60], [0, 0, 300, 200]]
    deltas = [[0.1, -0.2, 0.3, -0.1], [0.5, 0.5, -9.0, 9.0], [-2.0, 3.0, 2.0, 1.0]]  # extreme dw/dh get clamped
    for stds in [(1, 1, 1, 1), (0.1, 0.1, 0.2, 0.2)]:
        ours = delta2bbox(torch.tensor(rois, dtype=torch.float64), torch.tensor(deltas, dtype=torch.float64),
                          stds, (240, 320))
        for k in range(3):
            np.testing.assert_allclose(ours[k].numpy(), reference_delta2bbox(rois[k], deltas[k], stds, (240, 320)),
                                       rtol=1e-9, atol=1e-9)


def test_decoding_matches_torchvision_boxcoder_with_the_plus_one_shim():
    # spec 1.10: torchvision's decoder on x2+1, y2+1, then -1, agrees (for deltas inside the clamp, no clipping)
    from torchvision.models.detection._utils import BoxCoder

    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 200, (50, 2))
    rois = torch.from_numpy(np.concatenate([xy, xy + rng.uniform(5, 100, (50, 2))], 1)).float()
    deltas = torch.from_numpy(rng.uniform(-0.5, 0.5, (50, 4))).float()
    coder = BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
    shifted = torch.cat([rois[:, :2], rois[:, 2:] + 1], 1)
    tv = coder.decode_single(deltas, shifted)
    tv = torch.cat([tv[:, :2], tv[:, 2:] - 1], 1)
    ours = delta2bbox(rois, deltas, (0.1, 0.1, 0.2, 0.2))
    torch.testing.assert_close(ours, tv, atol=6e-4, rtol=0)


def test_encode_inverts_decode():
    rois = torch.tensor([[10.0, 20, 59, 99], [100, 50, 130, 60]])
    gts = torch.tensor([[12.0, 18, 70, 90], [95, 45, 140, 70]])
    deltas = bbox2delta(rois, gts, (0.1, 0.1, 0.2, 0.2))
    torch.testing.assert_close(delta2bbox(rois, deltas, (0.1, 0.1, 0.2, 0.2)), gts, atol=1e-4, rtol=0)


def test_reduced_precision_features_keep_float32_box_coordinates():
    # feature value = x - 1000 (small integers, exact in bfloat16); a RoI near x = 1000 rounded to bfloat16 (steps of
    # 4 there: 1003 -> 1004, 1013 -> 1012) would shift the pooled values by about 1
    ramp = (torch.arange(1100, dtype=torch.float32) - 1000).repeat(1, 1, 8, 1)  # (1, 1, 8, 1100)
    rois = torch.tensor([[0, 1003.0, 1.0, 1013.0, 5.0]])
    full = roi_align_v1(ramp, rois, 7, 1)
    half = roi_align_v1(ramp.to(torch.bfloat16), rois, 7, 1)
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), full, atol=0.1, rtol=0)
