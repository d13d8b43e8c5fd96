"""The traced backbone + FPN (CPU inference) computes what the eager module computes (to float rounding), and steps
aside wherever it would not (autocast, autograd, other dtypes, a failed trace)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers import create_tracker  # noqa: E402
from globaltrack.trackers.globaltrack.checkpoint import save_checkpoint  # noqa: E402
from globaltrack.trackers.globaltrack.model import GlobalTrackModel  # noqa: E402
from globaltrack.trackers.globaltrack.traced_backbone import TracedBackbone, trace_backbone  # noqa: E402


def _close(a, b, tol=1e-4):
    assert list(a) == list(b)
    for k in a:
        assert a[k].shape == b[k].shape and a[k].dtype == b[k].dtype
        scale = float(b[k].abs().max()) + 1e-6
        assert float((a[k] - b[k]).abs().max()) <= tol * scale, k


@pytest.mark.parametrize("config", ["tiny", "lite0_fpn"])
def test_the_traced_backbone_gives_the_eager_features_at_other_sizes(config):
    torch.manual_seed(0)
    model = GlobalTrackModel(config).eval()
    if hasattr(model.backbone, "fuse_for_inference"):
        model.backbone.fuse_for_inference()
    eager = model.backbone
    trace_backbone(model, "cpu")
    assert isinstance(model.backbone, TracedBackbone) and model.backbone.traced is not None
    assert model.backbone.body is eager.body  # the model's code still reaches the wrapped module's parts
    for shape in [(1, 3, 96, 160), (2, 3, 128, 96)]:  # neither is the traced size; a batch of two
        x = torch.randn(shape)
        with torch.no_grad():
            _close(model.backbone(x), eager(x))


def test_autograd_and_autocast_run_the_eager_module(monkeypatch):
    model = GlobalTrackModel("tiny").eval()
    trace_backbone(model, "cpu")
    calls = []
    monkeypatch.setattr(model.backbone.eager, "forward", lambda x: calls.append(1) or {"0": x})
    x = torch.randn(1, 3, 64, 64)
    model.backbone(x)  # autograd on
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model.backbone(x)
    with torch.no_grad():
        model.backbone(x.double())
    assert len(calls) == 3
    with torch.no_grad():
        model.backbone(x)  # the plain inference case: the trace
    assert len(calls) == 3


def test_a_backbone_that_cannot_be_traced_stays_eager_with_a_warning(monkeypatch):
    model = GlobalTrackModel("tiny").eval()
    eager = model.backbone

    def refuse(*args, **kwargs):
        raise RuntimeError("no tracing here")

    monkeypatch.setattr(torch.jit, "trace", refuse)
    with pytest.warns(UserWarning, match="tracing it failed .no tracing here"):
        trace_backbone(model, "cpu")
    assert model.backbone.traced is None
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        _close(model.backbone(x), eager(x), tol=0)


def test_the_tracker_loads_its_model_traced_and_tracks_as_the_eager_model_does(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.pth"
    save_checkpoint(GlobalTrackModel("tiny"), path)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    frame[60:100, 80:140] = [250, 30, 30]
    tracker = create_tracker("globaltrack", weights=str(path), threshold=0.0)
    assert isinstance(tracker.model.backbone, TracedBackbone) and tracker.model.backbone.traced is not None
    tracker.init(frame, [80, 60, 60, 40])
    traced = tracker.candidates(frame, k=5)
    wrapper = tracker.model.backbone  # the model is shared by the process's trackers: put it back afterwards
    try:
        tracker.model.backbone = wrapper.eager
        tracker.init(frame, [80, 60, 60, 40])
        reference = tracker.candidates(frame, k=5)
    finally:
        tracker.model.backbone = wrapper
    np.testing.assert_allclose(traced[0], reference[0], atol=1e-2)
    np.testing.assert_allclose(traced[1], reference[1], atol=1e-4)
