"""TLP / TinyTLP on the real CarChase2 sequence (TinyTLP layout), plus malformed copies."""
import numpy as np
import pytest

from globaltrack.benchmarks import get_benchmark, load_sequences
from globaltrack.benchmarks.tlp import TLP_SEQUENCES, TLP
from globaltrack.errors import AnnotationError


@pytest.fixture
def tlp_root(shared, tmp_path, link):
    link(shared / "data" / "sequences" / "tlp" / "CarChase2", tmp_path / "TinyTLP" / "CarChase2")
    return tmp_path / "TinyTLP"


@pytest.mark.parametrize("bench", ["tlp", "tinytlp"])
def test_real_carchase2(tlp_root, shared, bench, quiet_missing):
    seq = load_sequences(bench, str(tlp_root), names=["CarChase2"])[0]
    ref = np.loadtxt(shared / "data" / "sequences" / "tlp" / "CarChase2" / "groundtruth_rect.txt", delimiter=",")
    assert len(seq.frames) == len(seq.ground_truth) == 600
    assert seq.ground_truth[0].tolist() == [539, 253, 355, 255]
    assert np.array_equal(seq.ground_truth, ref[:, 1:5])
    assert np.array_equal(seq.absent, ref[:, 5] == 1)
    assert seq.frames[0].endswith("CarChase2/img/00001.jpg") and seq.frames[-1].endswith("00600.jpg")
    assert seq.metadata["benchmark"] == bench and seq.metadata["tiny"]
    assert TLP.default_protocol == "tlp"


def test_fifty_names():
    assert len(TLP_SEQUENCES) == 50 == len(set(TLP_SEQUENCES)) and "CarChase2" in TLP_SEQUENCES


def _copy(shared, tmp_path, write_images, mutate):
    src = shared / "data" / "sequences" / "tlp" / "CarChase2" / "groundtruth_rect.txt"
    lines = src.read_text().splitlines()
    mutate(lines)
    d = tmp_path / "CarChase2"
    write_images(d / "img", [f"{i:05d}.jpg" for i in range(1, 601)])
    (d / "groundtruth_rect.txt").write_text("\n".join(lines))
    return d


def test_lost_flags_and_frame_column_checked(shared, tmp_path, write_images, quiet_missing):
    def lose(lines):
        for i in range(10, 20):
            f = lines[i].split(",")
            lines[i] = ",".join(f[:5] + ["1"])
    _copy(shared, tmp_path, write_images, lose)
    seq = load_sequences("tlp", str(tmp_path), names=["CarChase2"])[0]
    assert np.flatnonzero(seq.absent).tolist() == list(range(10, 20))

    def shift(lines):
        lines[41] = "99," + lines[41].split(",", 1)[1]
    _copy(shared, tmp_path, write_images, shift)
    with pytest.raises(AnnotationError, match=r"groundtruth_rect.txt:42: frame column reads 99, expected 42"):
        load_sequences("tlp", str(tmp_path), names=["CarChase2"])

    def five_columns(lines):
        lines[7] = lines[7].rsplit(",", 1)[0]
    _copy(shared, tmp_path, write_images, five_columns)
    problems = get_benchmark("tlp", str(tmp_path)).check()
    assert any("groundtruth_rect.txt:8: expected 6 values, found 5" in p for p in problems)
