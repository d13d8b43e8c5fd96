"""The two fixes that make our r50 detections equal the official code's (issue 12 part 1), on hand-built cases.

- Input normalisation: the official transform subtracts and divides by Python-list mean/std, i.e. in float64, and
  rounds to float32 once; the reference here is plain Python float arithmetic per pixel value.
- RoIAlign on RoIs under one feature pixel: the reference is the v1 kernel transcribed in the conventions test
  (``reference_roi_align_v1``), written independently of the package code.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack.ops import (  # noqa: E402
    GATHER_MIN_ROIS, _roi_align_reference, map_roi_levels, multilevel_roi_align, roi_align_v1)
from globaltrack.trackers.globaltrack.preprocess import preprocess_image  # noqa: E402
from tests.trackers.globaltrack.test_globaltrack_conventions import reference_roi_align_v1  # noqa: E402

OFFICIAL_MEAN = [123.675, 116.28, 103.53]
OFFICIAL_STD = [58.395, 57.12, 57.375]


def test_normalisation_is_float64_rounded_once_for_every_pixel_value():
    # every uint8 value in every channel, at a size the resize leaves alone (320 x 240 with scale (320, 240))
    values = np.arange(256, dtype=np.uint8)
    image = np.zeros((240, 320, 3), dtype=np.uint8)
    image[0, :256] = values[:, None]
    out = preprocess_image(image, scale=(320, 240)).tensor.numpy()
    for c in range(3):
        expected = np.array([np.float32((float(v) - OFFICIAL_MEAN[c]) / OFFICIAL_STD[c]) for v in range(256)])
        np.testing.assert_array_equal(out[c, 0, :256], expected)
    # and the float32 arithmetic it replaces really differs (else this test would prove nothing)
    f32 = (values[:, None].astype(np.float32) - np.float32(OFFICIAL_MEAN)) / np.float32(OFFICIAL_STD)
    assert (f32.T != out[:, 0, :256]).any()


def _torchvision_roi_align(feat, roi, scale):
    from torchvision.ops import roi_align

    box = torch.tensor([[0.0, roi[0], roi[1], roi[2] + 1, roi[3] + 1]])
    return roi_align(torch.from_numpy(feat)[None], box, 7, spatial_scale=scale, sampling_ratio=2,
                     aligned=False)[0].numpy()


@pytest.mark.parametrize("roi", [
    [90.0, 20.0, 90.0, 60.0],      # a 1-px-wide sliver at P2 (stride 4): width 0.25 feature px
    [95.0, 79.0, 95.0, 79.0],      # a 1x1-px box in the bottom-right corner (clipped to the image)
    [10.0, 30.5, 50.0, 31.2],      # fractional, 1.7 px high
    [3.0, 3.0, 4.5, 70.0],         # narrow but tall
])
def test_sub_pixel_rois_follow_the_v1_kernel_where_torchvision_clamps(roi):
    rng = np.random.default_rng(5)
    feat = rng.standard_normal((4, 20, 24)).astype(np.float32)
    ours = roi_align_v1(torch.from_numpy(feat)[None], torch.tensor([[0.0] + roi]), 7, 4, 2)[0].numpy()
    ref = reference_roi_align_v1(feat, roi)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    # torchvision's width/height clamp to 1 feature pixel gives other features for these RoIs
    assert np.abs(_torchvision_roi_align(feat, roi, 0.25) - ref).max() > 1e-2


def test_sub_pixel_and_normal_rois_mixed_across_images_and_levels():
    rng = np.random.default_rng(6)
    feats = [torch.from_numpy(rng.standard_normal((2, 3, 64 // 2 ** i, 80 // 2 ** i)).astype(np.float32))
             for i in range(4)]
    rois = torch.tensor([[0, 10.0, 10, 60, 50], [1, 300, 5, 300, 200], [1, 4, 4, 120, 130], [0, 0, 0, 0, 0],
                         [1, 200, 100, 318, 101]])
    out = multilevel_roi_align(feats, rois)
    for k, r in enumerate(rois.tolist()):
        b, box = int(r[0]), r[1:]
        side = np.sqrt((box[2] - box[0] + 1) * (box[3] - box[1] + 1))
        lvl = int(np.clip(np.floor(np.log2(side / 56 + 1e-6)), 0, 3))
        ref = reference_roi_align_v1(feats[lvl][b].numpy(), box, scale=1.0 / 2 ** (lvl + 2))
        np.testing.assert_allclose(out[k].numpy(), ref, atol=1e-5)


def test_a_zero_area_roi_pools_a_point_as_v1_does():
    # v1: width = max((x2 + 1) * s - x1 * s, 0); a box with x2 = x1 - 1 has width 0 and samples one column
    feat = torch.arange(20 * 24, dtype=torch.float32).view(1, 1, 20, 24)
    ours = roi_align_v1(feat, torch.tensor([[0.0, 40.0, 8.0, 39.0, 47.0]]), 7, 4, 2)[0, 0]
    ref = reference_roi_align_v1(feat[0].numpy(), [40.0, 8.0, 39.0, 47.0])[0]
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-5)
    assert torch.all(ours[:, 0] == ours[:, -1])  # every column is the same point x = 10


def test_many_sub_pixel_rois_on_a_full_size_map_are_pooled_in_place():
    # a P2 map of a 1333x800 frame and 300 border slivers (a copy of the map per RoI would need ~6 GB)
    torch.manual_seed(0)
    feat = torch.randn(2, 64, 200, 336)
    x = torch.rand(300) * 1340
    rois = torch.stack([torch.arange(300) % 2, x, torch.rand(300) * 700, x + 0.5, torch.rand(300) * 90 + 700], 1)
    out = roi_align_v1(feat, rois.float(), 7, 4, 2)
    for k in (0, 151, 299):
        ref = reference_roi_align_v1(feat[int(rois[k, 0])].numpy(), rois[k, 1:].tolist())
        np.testing.assert_allclose(out[k].numpy(), ref, atol=1e-4)


def test_the_normalisation_lookup_equals_the_float64_pass_on_a_photograph_sized_frame():
    from globaltrack.trackers.globaltrack.preprocess import normalize_image, normalized_chw

    image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    np.testing.assert_array_equal(normalized_chw(image), normalize_image(image).transpose(2, 0, 1))


def _gathered(pooled: torch.Tensor) -> bool:
    # the gathered form returns a view of a (K, out, out, C) tensor; torchvision's path a contiguous (K, C, out, out)
    return pooled.shape[1] > 1 and pooled.permute(0, 2, 3, 1).is_contiguous()


def test_inference_roi_align_the_gathered_form_equals_the_v1_kernel():
    # under no_grad roi_align_v1 pools with one weighted gather (ops._roi_align_gathered); against the independent
    # v1 transcription: random RoIs of every size, partly or wholly outside the map, sub-pixel ones, a zero-area
    # one, two images, and long slivers
    rng = np.random.default_rng(7)
    feat = rng.standard_normal((2, 5, 20, 40)).astype(np.float32)
    boxes = [[float(x), float(y), float(x + w), float(y + h)] for x, y, w, h in zip(
        rng.uniform(-40, 160, 40), rng.uniform(-40, 80, 40), rng.uniform(0, 70, 40), rng.uniform(0, 60, 40))]
    boxes += [[90.0, 20.0, 90.0, 60.0], [95.0, 79.0, 95.0, 79.0], [10.0, 30.5, 50.0, 31.2], [40.0, 8.0, 39.0, 47.0],
              [-60.0, -50.0, -20.0, -10.0], [0.0, 2.0, 159.0, 3.0], [3.5, 1.0, 150.0, 2.5]]
    images = [k % 2 for k in range(len(boxes))]
    rois = torch.tensor([[float(b)] + box for b, box in zip(images, boxes)])
    with torch.no_grad():
        pooled = roi_align_v1(torch.from_numpy(feat), rois, 7, 4, 2)
    assert _gathered(pooled)  # the path under test was taken
    ours = pooled.numpy()
    for k, b in enumerate(images):
        box = rois[k, 1:].tolist()  # the float32 coordinates the kernels see
        np.testing.assert_allclose(ours[k], reference_roi_align_v1(feat[b], box), atol=1e-5, err_msg=str(box))
    # and the other path (torchvision + the v1 transcription for sub-pixel RoIs) to float32 rounding
    shifted = torch.cat([rois[:, :3], rois[:, 3:] + 1.0], 1)
    reference = _roi_align_reference(torch.from_numpy(feat), shifted, 7, 0.25, 2)
    np.testing.assert_allclose(ours, reference.numpy(), atol=1e-6)


def test_inference_roi_align_of_many_rois_on_every_level_equals_the_per_level_path():
    # the gathered form pools all levels from one table: 150 RoIs of 512 channels on four maps of two images,
    # against torchvision's op level by level (with the v1 transcription for sub-pixel RoIs)
    rng = np.random.default_rng(8)
    feats = [torch.from_numpy(rng.standard_normal((2, 512, 80 // 2 ** i, 96 // 2 ** i)).astype(np.float32))
             for i in range(4)]
    xy = rng.uniform(-10, 300, (150, 2))
    wh = rng.uniform(0, 700, (150, 2))
    rois = torch.from_numpy(np.c_[rng.integers(0, 2, 150), xy, xy + wh].astype(np.float32))
    levels = map_roi_levels(rois, 4)
    assert set(levels.tolist()) == {0, 1, 2, 3}
    with torch.no_grad():
        pooled = multilevel_roi_align(feats, rois)
    assert _gathered(pooled)
    for lvl in range(4):
        idx = torch.nonzero(levels == lvl).flatten()
        shifted = torch.cat([rois[idx, :3], rois[idx, 3:] + 1.0], 1)
        reference = _roi_align_reference(feats[lvl], shifted, 7, 1.0 / 2 ** (lvl + 2), 2)
        np.testing.assert_allclose(pooled[idx].numpy(), reference.numpy(), atol=1e-5)


def test_many_large_rois_on_one_map_are_pooled():
    # 20 RoIs all wider than 24 feature pixels on one map: the former separable form left such RoIs to torchvision
    # and then failed on an empty set (max() of no window), so a batched r50 frame at 1333x800 raised
    rng = np.random.default_rng(11)
    feat = torch.from_numpy(rng.standard_normal((2, 8, 60, 80)).astype(np.float32))
    xy = rng.uniform(0, 100, (20, 2))
    rois = torch.from_numpy(np.c_[np.arange(20) % 2, xy, xy + rng.uniform(110, 200, (20, 2))].astype(np.float32))
    with torch.no_grad():
        pooled = roi_align_v1(feat, rois, 7, 4, 2)
    assert _gathered(pooled)
    reference = _roi_align_reference(feat, torch.cat([rois[:, :3], rois[:, 3:] + 1.0], 1), 7, 0.25, 2)
    np.testing.assert_allclose(pooled.numpy(), reference.numpy(), atol=1e-5)


def test_few_rois_take_torchvisions_op():
    feat = torch.randn(1, 4, 20, 24)
    rois = torch.tensor([[0, 4.0, 6, 50, 40]]).repeat(GATHER_MIN_ROIS - 1, 1)
    with torch.no_grad():
        assert not _gathered(roi_align_v1(feat, rois, 7, 4, 2))
        assert _gathered(roi_align_v1(feat, torch.cat([rois, rois[:1]]), 7, 4, 2))


def _graph_names(fn) -> set[str]:
    seen, todo = {}, [fn]
    while todo:
        f = todo.pop()
        if f is not None and id(f) not in seen:
            seen[id(f)] = type(f).__name__
            todo += [g for g, _ in f.next_functions]
    return set(seen.values())


@pytest.mark.parametrize("channels", [5, 512])
def test_training_roi_align_the_gathered_gradient_equals_torchvisions(channels):
    # with autograd the gathered form's backward (embedding_bag's: the weights scattered back into the table)
    # against autograd through torchvision's op and the v1 transcription: RoIs of every size, outside the map,
    # sub-pixel, overlapping (their gradients add up), two images, long slivers
    rng = np.random.default_rng(10)
    feat = torch.from_numpy(rng.standard_normal((2, channels, 20, 40)).astype(np.float32))
    k = 120
    xy = rng.uniform(-40, 160, (k, 2))
    wh = rng.uniform(0, 70, (k, 2))
    wh[:10] = rng.uniform(0, 3, (10, 2))
    rows = [[k_ % 2, *xy[k_], *(xy[k_] + wh[k_])] for k_ in range(k)] + [[0, 0.0, 2, 159, 3], [1, 3.5, 1, 150, 2.5]]
    rois = torch.tensor(rows, dtype=torch.float32)
    weights = torch.from_numpy(rng.standard_normal((len(rows), channels, 7, 7)).astype(np.float32))
    ours_in = feat.clone().requires_grad_(True)
    ours = roi_align_v1(ours_in, rois, 7, 4, 2)
    assert "EmbeddingBagBackward0" in _graph_names(ours.grad_fn)  # the path under test was taken
    (ours * weights).sum().backward()
    ref_in = feat.clone().requires_grad_(True)
    reference = _roi_align_reference(ref_in, torch.cat([rois[:, :3], rois[:, 3:] + 1.0], 1), 7, 0.25, 2)
    (reference * weights).sum().backward()
    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours_in.grad, ref_in.grad, atol=1e-4, rtol=1e-5)
    assert ref_in.grad.abs().max() > 1.0


def test_inference_roi_align_pools_in_float32_under_autocast():
    # a bfloat16 tracker runs under autocast: the gathered form must pool in float32 (the former separable form's
    # matrix products dropped to bfloat16, and a frame with a long sliver, pooled by another path, then failed)
    rng = np.random.default_rng(9)
    feat = torch.from_numpy(rng.standard_normal((1, 8, 20, 40)).astype(np.float32))
    rois = torch.tensor([[0, 4.0, 6, 50, 40], [0, 0, 2, 159, 3], [0, 30.3, 12.7, 61.9, 70.2]]).repeat(6, 1)
    assert rois.shape[0] >= GATHER_MIN_ROIS  # enough RoIs for the gathered form
    with torch.no_grad():
        plain = roi_align_v1(feat, rois, 7, 4, 2)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = roi_align_v1(feat, rois, 7, 4, 2)
    assert autocast.dtype == torch.float32
    torch.testing.assert_close(autocast, plain)
