"""A deleted frame is named, not counted: numbered layouts (OTB) and listed ones (GOT-10k, TrackingNet) alike."""
import pytest

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks._common import align_frames, verify_frames
from globaltrack.errors import AnnotationError


def test_a_gap_in_a_listed_folder_names_the_missing_file(tmp_path, write_images):
    d = tmp_path / "val" / "GOT-10k_Val_000001"
    write_images(d, [f"{i:08d}.jpg" for i in range(1, 11) if i != 4])
    (d / "groundtruth.txt").write_text("1,2,3,4\n" * 10)
    (tmp_path / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    with pytest.raises(AnnotationError) as err:
        load_sequences("got10k", tmp_path, split="val")
    assert str(err.value).startswith(f"{d / '00000004.jpg'}: frame file is missing (9 images for 10 annotation rows")
    seqs = load_sequences("got10k", tmp_path, split="val", errors="collect")
    assert seqs[0].load_error == str(err.value)


def test_gap_rules():
    assert align_frames(["/a/1.jpg", "/a/2.jpg"], 2, "gt") == ["/a/1.jpg", "/a/2.jpg"]
    with pytest.raises(AnnotationError, match=r"^/a/2.jpg: frame file is missing"):
        align_frames(["/a/1.jpg", "/a/3.jpg"], 3, "gt")
    with pytest.raises(AnnotationError, match=r"^gt: fewer images \(2\) than annotation rows \(3\)"):
        align_frames(["/a/1.jpg", "/a/2.jpg"], 3, "gt")  # the missing one is at the end: only the count is known


def test_verify_frames_lists_each_bad_file_then_counts(tmp_path, write_images):
    write_images(tmp_path, [f"{i:04d}.jpg" for i in range(1, 16)], size=(16, 12))
    paths = [str(tmp_path / f"{i:04d}.jpg") for i in range(1, 16)]
    for p in paths[:12]:
        open(p, "wb").close()
    problems = verify_frames(paths + [str(tmp_path / "absent.jpg")])
    assert problems[0] == f"{paths[0]}: frame file is empty (0 bytes)" and len(problems) == 11
    assert problems[-1] == "3 more of the 16 frames are unusable (first 10 listed above)"
    assert verify_frames(paths[12:]) == [] and verify_frames(paths[12:], decode=True) == []
