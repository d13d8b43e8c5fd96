"""LaSOT: official name lists, the toolkit annos folder (real files), the dataset layout (generated)."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from globaltrack.benchmarks import get_benchmark, load_sequences
from globaltrack.benchmarks._lasot_names import ALL, TEST, TRAIN
from globaltrack.benchmarks.lasot import ATTRIBUTES, LaSOT
from globaltrack.errors import AnnotationError, UserError


@pytest.fixture
def annos(shared):
    return shared / "data" / "annotations" / "lasot"


def test_embedded_test_list_is_the_toolkit_testing_set(annos):
    # testing_set.txt has no final newline (spec §3): split() reads all 280
    assert list(TEST) == (annos / "testing_set.txt").read_text().split()


def test_embedded_all_and_train_lists(annos):
    assert list(ALL) == (annos / "all_dataset.txt").read_text().split()
    assert set(TRAIN) == set(ALL) - set(TEST) and len(TRAIN) == 1120


def test_train_split_equals_got10k_lasot_json():
    import got10k.datasets

    splits = json.loads((Path(got10k.datasets.__file__).parent / "lasot.json").read_text())
    assert set(splits["train"]) == set(TRAIN)
    assert set(splits["test"]) == set(TEST)


def test_toolkit_annos_only(annos):
    seqs = load_sequences("lasot", None, annos=str(annos))
    assert [s.name for s in seqs] == list(TEST)
    assert all(s.frames == [] for s in seqs)
    # spec §3 data facts, computed from the toolkit's annos: 685,360 frames, 18,346 absent, monkey-17 2,260 rows
    assert sum(len(s.ground_truth) for s in seqs) == 685_360
    assert sum(int(s.absent.sum()) for s in seqs) == 18_346
    by = {s.name: s for s in seqs}
    assert len(by["monkey-17"].ground_truth) == 2260
    first = np.loadtxt(annos / "airplane-1.txt", delimiter=",")
    assert np.array_equal(by["airplane-1"].ground_truth, first)
    flags = np.loadtxt(annos / "att" / "airplane-1.txt", delimiter=",")
    assert [by["airplane-1"].attributes[a] for a in ATTRIBUTES] == [bool(f) for f in flags]
    absent = np.loadtxt(annos / "absent" / "tiger-6.txt").astype(bool)
    assert np.array_equal(by["tiger-6"].absent, absent)
    s = by["airplane-1"]
    assert s.metadata["benchmark"] == "lasot" and s.metadata["absent_source"] == "toolkit annos/absent"
    assert LaSOT.default_protocol == "lasot"


def test_root_equal_to_annos_as_evaluate_passes_it(annos):
    seqs = load_sequences("lasot", str(annos), annos=str(annos), names=["lion-5"])
    assert seqs[0].ground_truth[552].tolist() == [1, 1, -1, -1]  # lion-5 #553 (spec §3, LaSOT #19)


def _make_lasot_seq(base: Path, name: str, boxes, occ, oov, write_images, n_images=None):
    d = base / name
    write_images(d / "img", [f"{i:08d}.jpg" for i in range(1, (n_images or len(boxes)) + 1)])
    (d / "groundtruth.txt").write_text("\n".join(",".join(str(v) for v in b) for b in boxes) + "\n")
    (d / "full_occlusion.txt").write_text(",".join(map(str, occ)))
    (d / "out_of_view.txt").write_text(",".join(map(str, oov)))
    (d / "nlp.txt").write_text("white airplane flying in the sky")
    return d


BOXES = [[10, 20, 30, 40], [11, 21, 31, 41], [0, 0, 0, 0], [13, 23, 33, 43], [14, 24, 34, 44]]


@pytest.mark.parametrize("grouped", [True, False])
def test_dataset_layouts(tmp_path, write_images, quiet_missing, grouped):
    base = tmp_path / "airplane" if grouped else tmp_path
    _make_lasot_seq(base, "airplane-1", BOXES, [0, 0, 1, 0, 0], [0, 1, 0, 0, 0], write_images)
    seq = load_sequences("lasot", str(tmp_path), names=["airplane-1"])[0]
    assert seq.ground_truth.tolist() == BOXES
    assert seq.absent.tolist() == [False, True, True, False, False]  # full_occlusion OR out_of_view
    assert len(seq.frames) == 5 and seq.frames[0].endswith("airplane-1/img/00000001.jpg")
    assert seq.metadata["nlp"] == "white airplane flying in the sky"
    assert seq.metadata["class"] == "airplane"
    assert seq.metadata["path"].endswith("airplane-1") and seq.metadata["annotation"].endswith("groundtruth.txt")


def test_missing_sequences_warn_or_fail_when_strict(tmp_path, write_images):
    _make_lasot_seq(tmp_path / "airplane", "airplane-1", BOXES, [0] * 5, [0] * 5, write_images)
    with pytest.warns(UserWarning, match="279 of 280 official sequences are missing"):
        seqs = get_benchmark("lasot", str(tmp_path)).load()
    assert [s.name for s in seqs] == ["airplane-1"]
    with pytest.raises(UserError, match="279 of 280"):
        get_benchmark("lasot", str(tmp_path), strict="1").load()


def test_train_split_reads_train_names(tmp_path, write_images, quiet_missing):
    _make_lasot_seq(tmp_path / "airplane", "airplane-2", BOXES, [0] * 5, [0] * 5, write_images)
    _make_lasot_seq(tmp_path / "airplane", "airplane-1", BOXES, [0] * 5, [0] * 5, write_images)
    assert [s.name for s in get_benchmark("lasot", str(tmp_path), split="train").load()] == ["airplane-2"]


def test_annos_with_images_truncates_to_toolkit_length_and_says_so(tmp_path, annos, write_images, quiet_missing):
    ann = tmp_path / "annos"
    (ann / "absent").mkdir(parents=True)
    rows = (annos / "airplane-1.txt").read_text().splitlines()[:20]
    (ann / "airplane-1.txt").write_text("\n".join(rows))
    (ann / "absent" / "airplane-1.txt").write_text("\n".join(["0"] * 19 + ["1"]))
    _make_lasot_seq(tmp_path / "data" / "airplane", "airplane-1", BOXES, [0] * 5, [0] * 5, write_images, 25)
    seq = load_sequences("lasot", str(tmp_path / "data"), annos=str(ann), names=["airplane-1"])[0]
    assert len(seq.frames) == 20 and len(seq.ground_truth) == 20
    assert seq.absent[-1] and not seq.absent[:-1].any()
    assert any("25 images, 20 annotation rows" in n for n in seq.metadata["notes"])


def test_errors_name_the_file(tmp_path, write_images, quiet_missing):
    d = _make_lasot_seq(tmp_path / "airplane", "airplane-1", BOXES, [0] * 5, [0] * 5, write_images)
    (d / "out_of_view.txt").write_text("0,0,0")
    with pytest.raises(AnnotationError, match=r"out_of_view.txt: .*3 entries, expected 5"):
        load_sequences("lasot", str(tmp_path), names=["airplane-1"])
    (d / "out_of_view.txt").write_text("0,0,0,0,0")
    (d / "groundtruth.txt").write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(AnnotationError, match=r"groundtruth.txt:2: expected 4 values, found 3"):
        load_sequences("lasot", str(tmp_path), names=["airplane-1"])
    problems = get_benchmark("lasot", str(tmp_path)).check()
    assert any("groundtruth.txt:2:" in p for p in problems)


def test_fewer_images_than_rows(tmp_path, write_images, quiet_missing):
    _make_lasot_seq(tmp_path / "airplane", "airplane-1", BOXES, [0] * 5, [0] * 5, write_images, 3)
    with pytest.raises(AnnotationError, match=r"groundtruth.txt: fewer images \(3\) than annotation rows \(5\)"):
        load_sequences("lasot", str(tmp_path), names=["airplane-1"])


def test_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="LaSOT dataset folder not found"):
        get_benchmark("lasot", str(tmp_path / "nope"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserError, match="unknown split"):
            get_benchmark("lasot", str(tmp_path), split="val")
