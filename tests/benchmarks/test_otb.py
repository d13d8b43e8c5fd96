"""OTB: real sequences (Couple, Crossing, Jogging), the MATLAB toolkit's anno_TB100, the pysot-style JSON."""
import io
import json
import re

import numpy as np
import pytest

from globaltrack.benchmarks import get_benchmark, load_sequences
from globaltrack.benchmarks._otb_table import ATTRIBUTES, OTB2013, OTB50, OTB2015, OTB_TABLE
from globaltrack.benchmarks.otb import OTB2015Benchmark
from globaltrack.errors import AnnotationError


def _loadtxt(path):
    with open(path) as f:  # got10k's reading: commas become spaces (got10k/datasets/otb.py)
        return np.loadtxt(io.StringIO(f.read().replace(",", " ")), ndmin=2)


@pytest.fixture
def otb(shared):
    return shared / "data" / "annotations" / "otb100"


@pytest.fixture
def otb_root(shared, tmp_path, link):
    for s in ("Couple", "Crossing", "Jogging"):
        link(shared / "data" / "sequences" / "otb" / s, tmp_path / "OTB100" / s)
    return tmp_path / "OTB100"


def test_real_dataset_layout(otb_root, shared, quiet_missing):
    seqs = {s.name: s for s in load_sequences("otb2015", str(otb_root))}
    assert sorted(seqs) == ["Couple", "Crossing", "Jogging-1", "Jogging-2"]
    src = shared / "data" / "sequences" / "otb"
    assert len(seqs["Couple"].frames) == 140 and len(seqs["Crossing"].frames) == 120
    assert np.array_equal(seqs["Couple"].ground_truth, _loadtxt(src / "Couple" / "groundtruth_rect.txt"))
    for k in (1, 2):  # two targets, one image folder; .1 is tab-separated, .2 comma-separated
        seq = seqs[f"Jogging-{k}"]
        assert np.array_equal(seq.ground_truth, _loadtxt(src / "Jogging" / f"groundtruth_rect.{k}.txt"))
        assert len(seq.frames) == 307 and seq.frames[0].endswith("Jogging/img/0001.jpg")
    assert seqs["Jogging-1"].ground_truth[0].tolist() == [111, 98, 25, 101]
    assert seqs["Jogging-2"].ground_truth[0].tolist() == [180, 79, 37, 114]
    assert all(s.metadata["benchmark"] == "otb2015" for s in seqs.values())
    assert OTB2015Benchmark.default_protocol == "otb"
    assert not seqs["Couple"].absent.any()
    assert seqs["Couple"].frame(0).shape == (240, 320, 3)


def test_attributes_follow_the_toolkit_att_files(otb_root, otb, quiet_missing):
    seq = load_sequences("otb2015", str(otb_root), names=["Couple"])[0]
    flags = np.loadtxt(otb / "anno_TB100" / "att" / "couple.txt", delimiter=",")
    assert [seq.attributes[a] for a in ATTRIBUTES] == [bool(f) for f in flags]
    assert {a for a, v in seq.attributes.items() if v} == {"OPR", "SV", "DEF", "FM", "BC"}  # Couple's attrs.txt


@pytest.mark.parametrize("alias", ["Jogging.1", "Jogging_1", "Jogging-1", "jogging-1", "jogging.1"])
def test_aliases_resolve(otb_root, alias, quiet_missing):
    assert load_sequences("otb", str(otb_root), names=[alias])[0].name == "Jogging-1"


def test_toolkit_annos_official_ranges(otb):
    seqs = {s.name: s for s in load_sequences("otb100", None, annos=str(otb / "anno_TB100"))}
    assert len(seqs) == 100
    anno = otb / "anno_TB100"
    tiger = _loadtxt(anno / "tiger1.txt")
    assert len(tiger) == 354 and np.array_equal(seqs["Tiger1"].ground_truth, tiger[5:])  # OPE from frame 6
    assert seqs["Tiger1"].metadata["frame_numbers"] == (6, 354)
    assert any("initOmit" in n for n in seqs["Tiger1"].metadata["notes"])
    assert len(seqs["David"].ground_truth) == 471 and seqs["David"].metadata["frame_numbers"] == (300, 770)
    assert len(seqs["Football1"].ground_truth) == 74
    assert np.array_equal(seqs["Human4-2"].ground_truth, _loadtxt(anno / "Human4.2.txt"))
    assert seqs["Board"].ground_truth[-1].tolist() == [0, 0, 0, 0]  # spec §3.1
    assert seqs["Biker"].ground_truth[71:78, 1].max() <= 0  # Biker rows 72-78 have y <= 0
    assert sum(len(s.ground_truth) for s in seqs.values()) == sum(
        len(_loadtxt(anno / f"{OTB_TABLE[n][7]}.txt")) for n in OTB2015) - 5


def test_toolkit_annos_equal_the_pysot_json(otb):
    """Two independent sources (MATLAB toolkit files, DaSiamRPN's JSON) give the same 100 sequences."""
    a = {s.name: s for s in load_sequences("otb2015", None, annos=str(otb / "anno_TB100"))}
    j = {s.name: s for s in load_sequences("otb2015", None, json=str(otb / "OTB2015.json"))}
    assert sorted(a) == sorted(j) == sorted(OTB2015)
    for n in a:
        assert np.array_equal(a[n].ground_truth, j[n].ground_truth), n
        assert a[n].metadata["frame_numbers"] == j[n].metadata["frame_numbers"], n


def test_table_ranges_match_the_json(otb):
    data = json.loads((otb / "OTB2015.json").read_text())
    ranges = {}
    for entry in data.values():
        nums = [int(re.match(r"\d+", f).group()) for f in entry["image_files"]]
        ranges.setdefault(entry["name"], []).append((nums[0], nums[-1], len(entry["image_files"][0].split(".")[0])))
    for name, (folder, _sfx, start, end, _fs, digits, _ext, _tk, _att) in OTB_TABLE.items():
        assert (start, end, digits) in ranges[folder], name


def test_subsets_match_got10k_lists():
    from got10k.datasets import OTB

    folders = lambda names: sorted({OTB_TABLE[n][0] for n in names})  # noqa: E731
    assert folders(OTB2013) == sorted(OTB._OTB__otb13_seqs)
    assert folders(OTB50) == sorted(OTB._OTB__tb50_seqs)
    assert folders(OTB2015) == sorted(OTB._OTB__tb100_seqs)
    assert (len(OTB2013), len(OTB50), len(OTB2015)) == (51, 50, 100)


def test_otb2013_and_otb50_benchmarks(otb):
    assert len(load_sequences("otb2013", None, annos=str(otb / "anno_TB100"))) == 51
    assert len(load_sequences("tb50", None, annos=str(otb / "anno_TB100"))) == 50


def test_football1_81_images_74_rows(otb, tmp_path, write_images, quiet_missing):
    d = tmp_path / "Football1"
    write_images(d / "img", [f"{i:04d}.jpg" for i in range(1, 82)])
    (d / "groundtruth_rect.txt").write_text((otb / "anno_TB100" / "football1.txt").read_text())
    seq = load_sequences("otb2015", str(tmp_path), names=["Football1"])[0]
    assert len(seq.frames) == 74 and seq.frames[-1].endswith("0074.jpg")
    assert any("81 images" in n for n in seq.metadata["notes"])


def test_david_frames_300_to_770_and_human4_second_file(otb, tmp_path, write_images, quiet_missing):
    write_images(tmp_path / "David" / "img", [f"{i:04d}.jpg" for i in range(1, 771)])
    (tmp_path / "David" / "groundtruth_rect.txt").write_text((otb / "anno_TB100" / "david.txt").read_text())
    write_images(tmp_path / "Human4" / "img", [f"{i:04d}.jpg" for i in range(1, 668)])
    (tmp_path / "Human4" / "groundtruth_rect.1.txt").write_text("")  # empty in the release
    (tmp_path / "Human4" / "groundtruth_rect.2.txt").write_text((otb / "anno_TB100" / "Human4.2.txt").read_text())
    david, human = load_sequences("otb2015", str(tmp_path), names=["David", "Human4"])
    assert david.frames[0].endswith("0300.jpg") and david.frames[-1].endswith("0770.jpg")
    assert len(david.frames) == len(david.ground_truth) == 471
    assert human.name == "Human4-2" and len(human.frames) == 667


def test_fewer_images_than_rows(otb, tmp_path, write_images, quiet_missing):
    write_images(tmp_path / "Couple" / "img", [f"{i:04d}.jpg" for i in range(1, 100)])
    (tmp_path / "Couple" / "groundtruth_rect.txt").write_text((otb / "anno_TB100" / "couple.txt").read_text())
    with pytest.raises(AnnotationError, match=r"img/0100.jpg: frame file is missing \(41 of the 140 frames that "
                                              r".*groundtruth_rect.txt annotates"):
        load_sequences("otb2015", str(tmp_path), names=["Couple"])


def test_too_few_rows_for_the_official_range(tmp_path, write_images, quiet_missing):
    write_images(tmp_path / "Couple" / "img", [f"{i:04d}.jpg" for i in range(1, 141)])
    (tmp_path / "Couple" / "groundtruth_rect.txt").write_text("1\t2\t3\t4\n" * 100)
    with pytest.raises(AnnotationError, match=r"100 annotation rows; the official OTB range of Couple"):
        get_benchmark("otb2015", str(tmp_path)).read_sequence("Couple")


def test_full_range_keeps_tiger1_frames_for_got10k_style_scoring(otb):
    tiger = load_sequences("otb2015", None, annos=str(otb / "anno_TB100"), full_range="1", names=["Tiger1"])[0]
    assert len(tiger.ground_truth) == 354 and tiger.metadata["init_omit"] == [(1, 5)]
    assert tiger.metadata["frame_numbers"] == (1, 354)
    ope = pytest.importorskip("globaltrack.metrics.ope")  # the metrics side's OPE rule skips exactly frames 1-5
    if hasattr(ope, "ope_start_index"):
        assert ope.ope_start_index(tiger.ground_truth, tiger.metadata["init_omit"]) == 5


def test_embedded_attribute_table_equals_the_toolkit_att_files(otb):
    from globaltrack.benchmarks._common import read_attribute_flags

    for name, entry in OTB_TABLE.items():
        flags = read_attribute_flags(otb / "anno_TB100" / "att" / f"{entry[7]}.txt", ATTRIBUTES)
        assert "".join("1" if flags[a] else "0" for a in ATTRIBUTES) == entry[8], name
