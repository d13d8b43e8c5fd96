"""got10k toolkit bridges: our trackers inside got10k's real ExperimentOTB, and got10k trackers inside our harness."""
import json
import sys

import numpy as np
import pytest

from tests.conftest import shared_path
from globaltrack.errors import UserError
from globaltrack.sequence import Sequence, read_image
from globaltrack.trackers import create_tracker, tracker_availability

got10k = pytest.importorskip("got10k")

from got10k.utils.metrics import rect_iou  # noqa: E402

from globaltrack.interop.got10k import ExperimentOTBLocal, Got10kAdapter, Got10kTrackerWrapper  # noqa: E402

SEQS = ("Couple", "Crossing")


def otb_root(tmp_path):
    """A local OTB root got10k's OTB dataset accepts: <root>/<Seq>/img/*.jpg + groundtruth_rect.txt. Couple and
    Crossing are both in got10k's OTB-2013 list, so version=2013 finds them."""
    root = tmp_path / "OTB"
    for name in SEQS:
        src = shared_path("data", "sequences", "otb", name)
        (root / name).mkdir(parents=True)
        (root / name / "img").symlink_to(src / "img", target_is_directory=True)
        (root / name / "groundtruth_rect.txt").write_text((src / "groundtruth_rect.txt").read_text())
    return root


def run_experiment(tmp_path, tracker_name="kcf"):
    root = otb_root(tmp_path)
    exp = ExperimentOTBLocal(str(root), version=2013, result_dir=str(tmp_path / "results"),
                             report_dir=str(tmp_path / "reports"))
    assert sorted(exp.dataset.seq_names) == sorted(SEQS)
    adapter = Got10kAdapter(tracker_name)
    exp.run(adapter)
    performance = exp.report([adapter.name])
    return exp, adapter, performance


def test_our_tracker_runs_in_got10k_experiment_otb_and_report_matches_direct_scoring(tmp_path):
    exp, adapter, performance = run_experiment(tmp_path)
    report_file = tmp_path / "reports" / "OTB2013" / "kcf" / "performance.json"
    assert report_file.is_file()
    assert json.loads(report_file.read_text())["kcf"]["overall"]["success_score"] == pytest.approx(
        performance["kcf"]["overall"]["success_score"])
    per_seq = []
    for name in SEQS:
        img_files, anno = exp.dataset[name]
        boxes = np.loadtxt(tmp_path / "results" / "OTB2013" / "kcf" / f"{name}.txt", delimiter=",")
        assert boxes.shape == anno.shape
        # the adapter feeds our tracker what our runner would: same boxes as running it directly on RGB frames
        direct = create_tracker("kcf")
        direct.init(read_image(img_files[0]), anno[0])
        expected = np.vstack([anno[0]] + [direct.update(read_image(f)).box for f in img_files[1:]])
        assert np.allclose(boxes, expected, atol=5e-4)
        # got10k's per-sequence success score equals the OTB rule applied with got10k's own rect_iou
        boxes[0] = anno[0]
        ious = rect_iou(boxes, anno)
        auc = np.mean(ious[:, None] > np.linspace(0, 1, 21)[None, :])
        assert performance["kcf"]["seq_wise"][name]["success_score"] == pytest.approx(auc, abs=1e-12)
        per_seq.append(auc)
    assert performance["kcf"]["overall"]["success_score"] == pytest.approx(np.mean(per_seq), abs=1e-12)


def test_got10k_report_equals_our_got10k_protocol_evaluation(tmp_path):
    evaluate_mod = pytest.importorskip("globaltrack.scoring.evaluate")
    from globaltrack.results.store import ResultStore, SequenceResult

    exp, adapter, performance = run_experiment(tmp_path)
    store = ResultStore(tmp_path / "ours")
    sequences = []
    for name in SEQS:
        img_files, anno = exp.dataset[name]
        sequences.append(Sequence(name, frames=list(img_files), ground_truth=anno))
        boxes = np.loadtxt(tmp_path / "results" / "OTB2013" / "kcf" / f"{name}.txt", delimiter=",")
        store.write("otb", "kcf", name, SequenceResult(boxes))
    ev = evaluate_mod.evaluate(sequences, store, "otb", ["kcf"], protocol="got10k")
    ours = ev.trackers["kcf"]
    assert ours.scores["auc"] == pytest.approx(performance["kcf"]["overall"]["success_score"], abs=1e-9)
    for name in SEQS:
        assert ours.per_sequence[name]["auc"] == pytest.approx(
            performance["kcf"]["seq_wise"][name]["success_score"], abs=1e-9)


def test_adapter_keeps_scores_and_presence():
    adapter = Got10kAdapter("static")
    from PIL import Image

    im = Image.new("L", (20, 10))  # got10k converts to RGB; a grey image must still work
    adapter.init(im, [1, 2, 3, 4])
    box = adapter.update(im)
    assert box.tolist() == [1, 2, 3, 4] and adapter.scores == [1.0, 1.0] and adapter.present == [True, True]
    assert adapter.name == "static" and adapter.is_deterministic


TRACKER_MODULE = '''
import numpy as np
from got10k.trackers import Tracker

class ShiftTracker(Tracker):
    """Moves the box by `step` pixels right per frame; records what image type it was given."""
    def __init__(self, step="1"):
        super().__init__(name="Shift", is_deterministic=True)
        self.step = float(step)
        self.seen = []
    def init(self, image, box):
        self.seen.append((type(image).__name__, image.mode, image.size))
        self.box = np.asarray(box, float)
    def update(self, image):
        self.seen.append((type(image).__name__, image.mode, image.size))
        self.box = self.box + [self.step, 0, 0, 0]
        return self.box

class NotATracker:
    pass
'''


@pytest.fixture
def tracker_module(tmp_path, monkeypatch):
    (tmp_path / "gt_mytrackers.py").write_text(TRACKER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "gt_mytrackers"
    sys.modules.pop("gt_mytrackers", None)


def test_got10k_tracker_subclass_runs_behind_our_interface(tracker_module):
    assert tracker_availability("got10k") == (True, "")
    t = create_tracker("got10k", **{"class": f"{tracker_module}:ShiftTracker", "step": "2.5"})
    assert isinstance(t, Got10kTrackerWrapper) and t.name == "got10k" and t.is_deterministic
    rgb = np.zeros((6, 8, 3), np.uint8)
    t.init(rgb, [1, 1, 2, 2])
    p1, p2 = t.update(rgb), t.update(rgb)
    assert p1.box.tolist() == [3.5, 1, 2, 2] and p2.box.tolist() == [6.0, 1, 2, 2]
    assert p1.present and p1.score == 1.0
    assert t.inner.seen == [("Image", "RGB", (8, 6))] * 3


def test_got10k_identity_tracker_from_the_package():
    t = create_tracker("got10k", **{"class": "got10k.trackers:IdentityTracker"})
    t.init(np.zeros((5, 5, 3), np.uint8), [1, 2, 3, 4])
    assert t.update(np.zeros((5, 5, 3), np.uint8)).box.tolist() == [1, 2, 3, 4]


def test_got10k_tracker_in_our_runner(tracker_module, tmp_path):
    runner = pytest.importorskip("globaltrack.harness.runner")
    from globaltrack.results.store import ResultStore

    frames = []
    for i in range(3):
        p = tmp_path / f"{i:04d}.png"
        from PIL import Image

        Image.new("RGB", (16, 12)).save(p)
        frames.append(str(p))
    seq = Sequence("s", frames=frames, ground_truth=[[1, 1, 4, 4]] * 3)
    store = ResultStore(tmp_path / "results")
    runner.run_trackers([("got10k", {"class": f"{tracker_module}:ShiftTracker"})], [seq], "synthetic", store,
                        quiet=True)
    written = sorted((tmp_path / "results" / "synthetic").rglob("s.txt"))
    assert len(written) == 1
    boxes = np.loadtxt(written[0], delimiter=",")
    assert boxes[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_bad_class_option_fails_with_one_line(tracker_module):
    with pytest.raises(UserError, match="class=module:ClassName"):
        create_tracker("got10k")
    with pytest.raises(UserError, match="cannot import module"):
        create_tracker("got10k", **{"class": "no_such_module_xyz:Foo"})
    with pytest.raises(UserError, match="has no 'Missing'"):
        create_tracker("got10k", **{"class": f"{tracker_module}:Missing"})
    with pytest.raises(UserError, match="not a subclass"):
        create_tracker("got10k", **{"class": f"{tracker_module}:NotATracker"})
    with pytest.raises(UserError, match="cannot construct"):
        create_tracker("got10k", **{"class": f"{tracker_module}:ShiftTracker", "bogus": "1"})
