"""VOT: the real 'bag' sequence (8-value polygons, frames beside groundtruth.txt) against vot-toolkit 0.9.0."""
import numpy as np
import pytest

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks.vot import VOT, region_to_box
from globaltrack.errors import AnnotationError


def _vot_box(line):
    """The toolkit's own conversion: vot.region.io.parse_region, then Rectangle.convert."""
    from vot.region.io import parse_region
    from vot.region.shapes import Rectangle

    r = Rectangle.convert(parse_region(line))
    return [r.x, r.y, r.width, r.height]


def test_real_bag_polygons_match_vot_toolkit(shared, tmp_path, link):
    src = shared / "data" / "sequences" / "vot" / "bag"
    link(src, tmp_path / "vot" / "bag")
    (tmp_path / "vot" / "list.txt").write_text("bag\n")
    seqs = load_sequences("vot-lt", str(tmp_path / "vot"))
    assert [s.name for s in seqs] == ["bag"]
    seq = seqs[0]
    lines = (src / "groundtruth.txt").read_text().splitlines()
    assert len(seq.frames) == len(seq.ground_truth) == len(lines) == 196
    expected = np.array([_vot_box(x) for x in lines])
    assert np.array_equal(seq.ground_truth, expected)
    assert seq.metadata["region_kinds"]["polygon"] == 196
    assert seq.frames[0].endswith("bag/00000001.jpg")
    assert VOT.default_protocol == "vot-lt" and seq.metadata["benchmark"] == "vot"


def test_rectangles_nan_rows_and_color_folder(tmp_path, write_images):
    d = tmp_path / "seq1"
    write_images(d / "color", [f"{i:08d}.jpg" for i in range(1, 5)])
    lines = ["10.5,20,30,40", "nan,nan,nan,nan", "1,2,3,4,5,6,7,8", "11,21,31,41"]
    (d / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    seq = load_sequences("vot", str(tmp_path))[0]  # no list.txt: folders with a groundtruth
    assert seq.absent.tolist() == [False, True, False, False]
    assert np.isnan(seq.ground_truth[1]).all()
    for i in (0, 2, 3):
        assert seq.ground_truth[i].tolist() == pytest.approx(_vot_box(lines[i]), abs=0)
    assert seq.frames[0].endswith("seq1/color/00000001.jpg")


def test_region_to_box_rejects_odd_counts_and_reports_line(tmp_path, write_images):
    with pytest.raises(ValueError):
        region_to_box([1, 2, 3, 4, 5])
    d = tmp_path / "seq1"
    write_images(d, ["00000001.jpg", "00000002.jpg"])
    (d / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4,5\n")
    with pytest.raises(AnnotationError, match=r"seq1/groundtruth.txt:2: .*got 5"):
        load_sequences("vot", str(tmp_path))
