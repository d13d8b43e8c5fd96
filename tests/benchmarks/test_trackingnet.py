"""TrackingNet on a generated miniature: TEST (first box only), TRAIN chunks, numeric frame order."""
import numpy as np
import pytest

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks.trackingnet import TrackingNet
from globaltrack.errors import AnnotationError, UserError


@pytest.fixture
def tn_root(tmp_path, write_images):
    root = tmp_path / "TrackingNet"
    write_images(root / "TEST" / "frames" / "vidA", [f"{i}.jpg" for i in range(12)])
    (root / "TEST" / "anno").mkdir(parents=True)
    (root / "TEST" / "anno" / "vidA.txt").write_text("1.5,2,3,4\n")
    for chunk, vid in (("TRAIN_0", "vidB"), ("TRAIN_3", "vidC")):
        write_images(root / chunk / "frames" / vid, [f"{i}.jpg" for i in range(3)])
        (root / chunk / "anno").mkdir(parents=True)
        (root / chunk / "anno" / f"{vid}.txt").write_text("1,2,3,4\n2,3,4,5\n3,4,5,6\n")
    return root


def test_test_split(tn_root):
    seq = load_sequences("trackingnet", str(tn_root))[0]
    assert seq.name == "vidA" and seq.ground_truth.tolist() == [[1.5, 2, 3, 4]]
    assert [f.rsplit("/", 1)[1] for f in seq.frames] == [f"{i}.jpg" for i in range(12)]  # 10 after 9
    assert TrackingNet.default_protocol == "trackingnet" and seq.metadata["benchmark"] == "trackingnet"


def test_train_split_and_chunks(tn_root):
    assert [s.name for s in load_sequences("trackingnet", str(tn_root), split="train")] == ["vidB", "vidC"]
    seq = load_sequences("trackingnet", str(tn_root), split="TRAIN_3")[0]
    assert seq.name == "vidC" and len(seq.frames) == 3 and np.array_equal(seq.ground_truth[2], [3, 4, 5, 6])


def test_train_frames_must_match_rows(tn_root):
    (tn_root / "TRAIN_0" / "anno" / "vidB.txt").write_text("1,2,3,4\n" * 5)
    with pytest.raises(AnnotationError, match=r"vidB.txt: fewer images \(3\) than annotation rows \(5\)"):
        load_sequences("trackingnet", str(tn_root), split="TRAIN_0")


def test_missing_chunk_is_a_user_error(tn_root):
    with pytest.raises(UserError, match="TRAIN_5"):
        load_sequences("trackingnet", str(tn_root), split="train_5")
