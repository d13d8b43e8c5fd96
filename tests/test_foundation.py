import numpy as np

from globaltrack import Prediction, Sequence
from globaltrack.harness.cli import main
from globaltrack.results.store import ResultStore, SequenceResult, format_boxes, parse_boxes
from globaltrack.trackers import create_tracker


def test_box_format_round_trips_full_precision():
    boxes = np.array([[0.1, 1 / 3, 1e-9, 12345.678901234567]])
    assert np.array_equal(parse_boxes(format_boxes(boxes)), boxes)


def test_store_write_read(tmp_path):
    store = ResultStore(tmp_path)
    res = SequenceResult(np.array([[1.5, 2, 3, 4], [2, 3, 4, 5]]), scores=np.array([1, 0.5]),
                         present=np.array([True, False]), times=np.array([0.1, 0.01]))
    store.write("b", "t", "s", res, key="k1")
    back = store.read("b", "t", "s")
    assert np.array_equal(back.boxes, res.boxes)
    assert back.present.tolist() == [True, False]
    assert store.read_key("b", "t", "s") == "k1"


def test_static_tracker_returns_first_box():
    t = create_tracker("static")
    t.init(np.zeros((4, 4, 3), np.uint8), [1, 2, 3, 4])
    p = t.update(np.zeros((4, 4, 3), np.uint8))
    assert isinstance(p, Prediction) and p.box.tolist() == [1, 2, 3, 4]


def test_oracle_follows_ground_truth_and_absence():
    seq = Sequence("s", ground_truth=[[0, 0, 5, 5], [1, 1, 5, 5], [0, 0, 0, 0]], absent=[0, 0, 1])
    t = create_tracker("oracle")
    t.set_sequence(seq)
    t.init(None, seq.init_box)
    assert t.update(None).box.tolist() == [1, 1, 5, 5]
    p = t.update(None)
    assert not p.present and p.box.tolist() == [1, 1, 5, 5]


def test_cli_unknown_tracker_is_one_line_error(capsys):
    from globaltrack.trackers import TRACKERS
    import pytest
    from globaltrack.errors import UserError

    with pytest.raises(UserError, match="unknown tracker 'nope'"):
        TRACKERS.get("nope")
    assert main(["trackers"]) == 0
