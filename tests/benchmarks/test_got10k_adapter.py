"""GOT-10k on a generated miniature of the release layout, checked against the got10k package's own reader."""
import numpy as np
import pytest

from globaltrack.benchmarks import get_benchmark, load_sequences
from globaltrack.benchmarks.got10k import GOT10k
from globaltrack.errors import AnnotationError

META = ("[METAINFO]\nurl: https://youtu.be/x\nbegin_time: 0\nend_time: 10\nanno_fps: 10Hz\nobject_class: ant\n"
        "motion_class: walking\nmajor_class: insect\nroot_class: animal\nmotion_adverb: slowly\n"
        "resolution: (1280, 720)\n")


def _make_seq(split_dir, name, n, write_images, first_only=False):
    d = split_dir / name
    write_images(d, [f"{i:08d}.jpg" for i in range(1, n + 1)])
    rows = [f"{10 + i},{20 + i},{30 + i}.5,{40 + i}" for i in range(n)]
    (d / "groundtruth.txt").write_text("\n".join(rows[:1] if first_only else rows) + "\n")
    if not first_only:
        (d / "absence.label").write_text("\n".join("1" if i == 2 else "0" for i in range(n)) + "\n")
        (d / "cover.label").write_text("\n".join("0" if i == 2 else str(8 - i % 3) for i in range(n)) + "\n")
        (d / "cut_by_image.label").write_text("\n".join("1" if i == 1 else "0" for i in range(n)) + "\n")
        (d / "meta_info.ini").write_text(META)
    return d


@pytest.fixture
def got_root(tmp_path, write_images):
    val = tmp_path / "GOT-10k" / "val"
    for k, n in ((1, 6), (2, 4)):
        _make_seq(val, f"GOT-10k_Val_{k:06d}", n, write_images)
    (val / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000002\n")
    test = tmp_path / "GOT-10k" / "test"
    _make_seq(test, "GOT-10k_Test_000001", 5, write_images, first_only=True)
    (test / "list.txt").write_text("GOT-10k_Test_000001\n")
    return tmp_path / "GOT-10k"


def test_val_matches_the_got10k_package(got_root):
    from got10k.datasets import GOT10k as Reference

    ref = Reference(str(got_root), subset="val", return_meta=True)
    seqs = load_sequences("got10k", str(got_root), split="val")
    assert [s.name for s in seqs] == ref.seq_names
    for seq, (img_files, anno, meta) in zip(seqs, ref):
        assert seq.frames == img_files
        assert np.array_equal(seq.ground_truth, anno)
        assert np.array_equal(seq.metadata["cover"], meta["cover"])
        assert np.array_equal(seq.absent, meta["absence"] == 1)
        assert np.array_equal(seq.metadata["cut_by_image"], meta["cut_by_image"] == 1)
        assert seq.metadata["meta_info"]["object_class"] == meta["object_class"]
        assert seq.metadata["resolution"] == (1280, 720)
    assert GOT10k.default_protocol == "got10k" and seqs[0].metadata["benchmark"] == "got10k"


def test_test_split_has_the_first_box_only(got_root):
    seq = load_sequences("got10k", str(got_root), split="test")[0]
    assert len(seq.ground_truth) == 1 and len(seq.frames) == 5
    assert seq.ground_truth[0].tolist() == [10, 20, 30.5, 40]


def test_root_may_be_the_split_folder(got_root):
    assert len(load_sequences("got10k", str(got_root / "val"), split="val")) == 2


def test_label_length_mismatch_names_the_file(got_root):
    (got_root / "val" / "GOT-10k_Val_000002" / "cover.label").write_text("8\n8\n")
    problems = get_benchmark("got10k", str(got_root), split="val").check()
    assert any("GOT-10k_Val_000002/cover.label" in p and "2 rows" in p for p in problems)
    with pytest.raises(AnnotationError, match="cover.label"):
        load_sequences("got10k", str(got_root), split="val")
