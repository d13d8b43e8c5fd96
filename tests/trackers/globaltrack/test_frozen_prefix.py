"""Training's frozen-stage graph (frozen_prefix.py): the lite0 backbone's features and gradients in training equal
the eager modules' (to float rounding), the graph follows a change of the frozen weights, and it steps aside where
it would not be the same computation."""
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack import frozen_prefix  # noqa: E402
from globaltrack.trackers.globaltrack.model import GlobalTrackModel  # noqa: E402


def _model():
    torch.manual_seed(0)
    model = GlobalTrackModel("lite0_fpn")  # frozen_stages=4: the stem and blocks 0-3
    with torch.no_grad():  # BatchNorm statistics other than the initial 0 / 1, so that folding them matters
        for m in model.backbone.body.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.train()


def _features_and_grads(model, x, enabled, monkeypatch):
    monkeypatch.setattr(frozen_prefix, "ENABLED", enabled)
    feats = model.extract_features(x)
    sum((f * f).mean() for f in feats).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return [f.detach() for f in feats], grads


def _assert_same(a, b):
    """(features, gradients) of two runs, to float rounding."""
    (feats_a, grads_a), (feats_b, grads_b) = a, b
    for fa, fb in zip(feats_a, feats_b, strict=True):
        assert float((fa - fb).abs().max()) <= 1e-4 * float(fb.abs().max())
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 20
    for k in grads_b:  # ReLU6 kinks crossed by float rounding move a few elements: compared by norm
        assert float((grads_a[k] - grads_b[k]).norm()) <= 1e-2 * float(grads_b[k].norm()) + 1e-8, k


def test_training_features_and_gradients_equal_the_eager_modules(monkeypatch):
    model = _model()
    x = torch.randn(1, 3, 96, 160)
    eager = _features_and_grads(model, x, False, monkeypatch)
    graph = _features_and_grads(model, x, True, monkeypatch)
    assert isinstance(model.backbone.prefix._run, torch.jit.ScriptModule)  # the graph ran
    assert not any(k.startswith(("backbone.body.conv_stem", "backbone.body.blocks.0.")) for k in graph[1])
    _assert_same(graph, eager)
    x2 = torch.randn(1, 3, 128, 96)  # another size than the one traced: the same graph
    _assert_same(_features_and_grads(model, x2, True, monkeypatch), _features_and_grads(model, x2, False, monkeypatch))


def test_a_change_of_the_frozen_weights_rebuilds_the_graph(monkeypatch):
    model = _model()
    x = torch.randn(1, 3, 96, 160)
    before = _features_and_grads(model, x, True, monkeypatch)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["backbone.body.blocks.1.0.conv_pw.weight"] *= 1.5  # as a resumed or --init checkpoint would load
    model.load_state_dict(state)
    after = _features_and_grads(model, x, True, monkeypatch)
    assert float((after[0][0] - before[0][0]).abs().max()) > 1e-2
    _assert_same(after, _features_and_grads(model, x, False, monkeypatch))


def test_the_graph_steps_aside_where_it_would_differ(monkeypatch):
    model = _model()
    x = torch.randn(1, 3, 96, 160)
    body, blocks = model.backbone.body, model.backbone.prefix.blocks
    assert frozen_prefix.usable(body, blocks, x)
    assert not frozen_prefix.usable(body, blocks, x.double())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not frozen_prefix.usable(body, blocks, x)
    body.blocks[1].train()  # a frozen module in training mode (batch statistics)
    assert not frozen_prefix.usable(body, blocks, x)
    body.blocks[1].eval()
    body.blocks[0][0].conv_dw.weight.requires_grad_(True)  # a frozen weight that trains after all
    assert not frozen_prefix.usable(body, blocks, x)
    model.eval()  # tracking: the eager modules (or the traced whole backbone) run, never this graph
    model.backbone.prefix._run = None
    with torch.no_grad():
        model.extract_features(x)
    assert model.backbone.prefix._run is None


def test_a_failed_trace_keeps_the_folded_eager_copy(monkeypatch):
    model = _model()
    x = torch.randn(1, 3, 96, 160)

    def fail(*args, **kwargs):
        raise RuntimeError("no tracing here")

    monkeypatch.setattr(torch.jit, "trace", fail)
    with pytest.warns(UserWarning, match="frozen backbone stages eagerly"):
        folded = _features_and_grads(model, x, True, monkeypatch)
    assert isinstance(model.backbone.prefix._run, frozen_prefix._Prefix)
    _assert_same(folded, _features_and_grads(model, x, False, monkeypatch))
