"""OpenCV classic trackers: the contrib build is installed, every baseline builds and follows a moving patch, and the
failure policy (hold the last box, present=False, score 0) holds."""
from importlib import metadata

import numpy as np
import pytest

from globaltrack.errors import UserError
from globaltrack.harness.cli import main
from globaltrack.trackers import TRACKERS, create_tracker, tracker_availability
from globaltrack.trackers.opencv_trackers import SPECS, OpenCVTracker, integer_rect, to_bgr

NAMES = ["kcf", "csrt", "mil", "mosse", "medianflow", "tld", "boosting"]


def test_contrib_build_is_the_installed_cv2():
    cv2 = pytest.importorskip("cv2")
    installed = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "opencv-contrib-python-headless" in installed or "opencv-contrib-python" in installed
    # the contrib trackers import from the cv2 that Python actually loads (a plain opencv-python would shadow them)
    assert callable(cv2.TrackerKCF_create) and callable(cv2.TrackerCSRT_create)
    for legacy_only in ("TrackerTLD_create", "TrackerMOSSE_create", "TrackerMedianFlow_create",
                        "TrackerBoosting_create"):
        assert callable(getattr(cv2.legacy, legacy_only))


@pytest.mark.parametrize("name", NAMES)
def test_every_baseline_is_registered_available_and_builds(name):
    assert name in TRACKERS.names()
    assert tracker_availability(name) == (True, "")
    tracker = create_tracker(name)
    assert isinstance(tracker, OpenCVTracker) and tracker.name == name


def moving_patch(frames=20, seed=0):
    """A textured patch moving 2 px right and 1 px down per frame over a darker noise background (RGB)."""
    rng = np.random.default_rng(seed)
    bg = (rng.random((120, 160, 3)) * 80).astype(np.uint8)
    obj = (rng.random((24, 20, 3)) * 255).astype(np.uint8)
    images, boxes = [], []
    for i in range(frames):
        x, y = 30 + 2 * i, 40 + i
        im = bg.copy()
        im[y:y + 24, x:x + 20] = obj
        images.append(im)
        boxes.append([x, y, 20, 24])
    return images, np.array(boxes, float)


def iou(a, b):
    from got10k.utils.metrics import rect_iou

    return rect_iou(np.asarray(a, float), np.asarray(b, float))


@pytest.mark.parametrize("name", ["kcf", "csrt", "medianflow", "tld", "boosting"])
def test_tracker_follows_a_moving_patch(name):
    images, boxes = moving_patch()
    t = create_tracker(name)
    t.init(images[0], boxes[0])
    preds = [t.update(im) for im in images[1:]]
    assert all(p.present and p.score == 1.0 for p in preds)
    assert iou(np.array([p.box for p in preds]), boxes[1:]).min() > 0.5


@pytest.mark.parametrize("name", ["mil", "mosse"])
def test_other_trackers_return_well_formed_predictions(name):
    images, boxes = moving_patch(8)
    t = create_tracker(name)
    t.init(images[0], boxes[0])
    for im in images[1:]:
        p = t.update(im)
        assert p.box.shape == (4,) and p.box.dtype == np.float64 and np.all(np.isfinite(p.box))
        assert (p.present and p.score == 1.0) or (not p.present and p.score == 0.0)


class FakeCV:
    """Stands in for an OpenCV tracker object: records init arguments, replays scripted updates."""

    def __init__(self, updates, init_result=None):
        self.updates = list(updates)
        self.init_result = init_result
        self.init_args = None
        self.images = []

    def init(self, image, rect):
        self.init_args = rect
        self.images.append(image)
        return self.init_result

    def update(self, image):
        self.images.append(image)
        return self.updates.pop(0)


def test_failure_holds_last_box_absent_with_zero_score():
    fake = FakeCV([(True, (12.5, 20.0, 30.0, 40.0)), (False, (0.0, 0.0, 0.0, 0.0)), (True, (14.0, 21.0, 30.0, 40.0))])
    t = create_tracker("kcf")
    t._ctor = lambda: fake
    img = np.zeros((50, 60, 3), np.uint8)
    t.init(img, [10.4, 19.6, 30.2, 40.0])
    p1, p2, p3 = (t.update(img) for _ in range(3))
    assert p1.present and p1.score == 1.0 and p1.box.tolist() == [12.5, 20.0, 30.0, 40.0]
    assert not p2.present and p2.score == 0.0 and p2.box.tolist() == [12.5, 20.0, 30.0, 40.0]
    assert p3.present and p3.box.tolist() == [14.0, 21.0, 30.0, 40.0]


def test_failure_on_first_update_holds_the_initial_box():
    fake = FakeCV([(False, (0, 0, 0, 0))])
    t = create_tracker("csrt")
    t._ctor = lambda: fake
    t.init(np.zeros((50, 60, 3), np.uint8), [1.5, 2.5, 10.0, 11.0])
    p = t.update(np.zeros((50, 60, 3), np.uint8))
    assert not p.present and p.score == 0.0 and p.box.tolist() == [1.5, 2.5, 10.0, 11.0]


def test_main_api_gets_integer_rect_legacy_gets_floats_and_frames_are_bgr():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red in RGB
    for name, legacy in (("kcf", False), ("tld", True)):
        fake = FakeCV([], init_result=True)
        t = create_tracker(name)
        assert t._legacy is legacy
        t._ctor = lambda: fake
        t.init(rgb, [1.4, 2.6, 3.2, 4.5])
        if legacy:
            assert fake.init_args == (1.4, 2.6, 3.2, 4.5)
        else:
            assert fake.init_args == (1, 3, 4, 4) and all(type(v) is int for v in fake.init_args)
        bgr = fake.images[0]
        assert bgr[0, 0].tolist() == [0, 0, 200] and bgr.flags["C_CONTIGUOUS"]


def test_integer_rect_rounds_corners_and_keeps_size_positive():
    assert integer_rect([0.4, 0.6, 0.2, 0.2]) == (0, 1, 1, 1)
    assert integer_rect([10.5, 3.0, 5.0, 2.4]) == (10, 3, 6, 2)  # round-half-even: 10.5->10, 15.5->16


def test_to_bgr_handles_gray_and_rgba():
    gray = np.full((3, 4), 7, np.uint8)
    assert to_bgr(gray).shape == (3, 4, 3)
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 2] = 9
    assert to_bgr(rgba)[0, 0].tolist() == [9, 0, 0]


def test_bad_initial_box_and_options_are_rejected():
    t = create_tracker("kcf")
    with pytest.raises(ValueError):
        t.init(np.zeros((10, 10, 3), np.uint8), [0, 0, 0, 5])
    with pytest.raises(UserError, match="takes no options"):
        create_tracker("kcf", foo="1")


def test_missing_contrib_tracker_fails_with_one_clear_line(monkeypatch, capsys):
    cv2 = pytest.importorskip("cv2")
    monkeypatch.delattr(cv2.legacy, "TrackerTLD_create")
    ok, why = tracker_availability("tld")
    assert not ok and "opencv-contrib-python-headless" in why
    with pytest.raises(UserError) as err:
        create_tracker("tld")
    assert "\n" not in str(err.value) and "opencv-contrib-python-headless" in str(err.value)
    assert main(["trackers"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("tld "))
    j = next((k for k, line in enumerate(lines[i + 1:], i + 1) if not line.startswith(" ")), len(lines))
    entry = lines[i:j]  # the tracker's line and its indented continuation (the reason, wrapped)
    assert "unavailable" in entry[0] and "opencv-contrib-python-headless" in " ".join(entry)
    kcf_line = next(line for line in out.splitlines() if line.startswith("kcf "))
    assert "available" in kcf_line and "unavailable" not in kcf_line


def test_specs_cover_the_issue_names():
    assert sorted(s.name for s in SPECS) == sorted(NAMES)
