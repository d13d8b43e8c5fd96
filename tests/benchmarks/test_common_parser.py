"""The shared annotation parser: delimiters, NaN, errors naming file and line, bulk reading."""
import io

import numpy as np
import pytest

from globaltrack.benchmarks._common import (align_frames, list_images, parse_table, read_attribute_flags, read_flags,
                                            read_table, read_tables)
from globaltrack.errors import AnnotationError


def _loadtxt(path):
    """Reference: numpy's own reader after got10k's comma-to-space replacement (got10k/datasets/otb.py)."""
    with open(path) as f:
        return np.loadtxt(io.StringIO(f.read().replace(",", " ")), ndmin=2)


@pytest.mark.parametrize("text", [b"1,2,3,4\n5.5,6,7,8\n", b"1\t2\t3\t4\n5.5\t6\t7\t8", b"1 2 3 4\r\n5.5 6 7 8\r\n",
                                  b"1, 2, 3, 4\n5.5,6\t7 8\n\n"])
def test_delimiters(text):
    assert parse_table(text, "x.txt", 4).tolist() == [[1, 2, 3, 4], [5.5, 6, 7, 8]]


def test_large_file_fast_path_matches_python_floats(tmp_path):
    rng = np.random.default_rng(0)
    vals = np.round(rng.uniform(-100, 2000, size=(5000, 4)), 3)
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in vals)
    p = tmp_path / "gt.txt"
    p.write_text(text)
    expected = np.array([[float(x) for x in line.split(",")] for line in text.split("\n")])
    assert np.array_equal(read_table(p), expected)


def test_nan_rows_are_kept():
    out = parse_table(b"nan,nan,nan,nan\n1,2,3,4\n" + b"1,2,3,4\n" * 2000, "x.txt", 4)
    assert np.isnan(out[0]).all() and out.shape == (2002, 4)


def test_real_otb_annotations_match_numpy(shared):
    folder = shared / "data" / "annotations" / "otb100" / "anno_TB100"
    files = sorted(folder.glob("*.txt"))
    assert len(files) == 100
    for f in files:
        assert np.array_equal(read_table(f), _loadtxt(f)), f.name


@pytest.mark.parametrize("text,line,fragment", [
    (b"1,2,3,4\n5,6,7\n", 2, "expected 4 values, found 3"),
    (b"1,2,3,4\n5,6,7,8,9\n", 2, "expected 4 values, found 5"),
    (b"1,2,3,4\n5,six,7,8\n", 2, "non-numeric value 'six' in column 2"),
    (b"1,2,3,4\n\n5,6,7,8\n", 2, "empty line"),
    (b"1,2,,4\n", 1, "empty field"),
])
def test_errors_name_file_and_line(tmp_path, text, line, fragment):
    p = tmp_path / "groundtruth.txt"
    p.write_bytes(text * 1 if len(text) > 4096 else text)
    with pytest.raises(AnnotationError) as err:
        read_table(p)
    assert str(err.value).startswith(f"{p}:{line}: ")
    assert fragment in str(err.value)


def test_errors_in_large_files_too(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"1,2,3,4\n" * 3000 + b"1,2,3\n")
    with pytest.raises(AnnotationError, match=rf"{p}:3001: expected 4 values, found 3"):
        read_table(p)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(AnnotationError, match="empty annotation file"):
        read_table(tmp_path / "empty.txt")
    with pytest.raises(AnnotationError, match="not found"):
        read_table(tmp_path / "nope.txt")


def test_flags_one_line_and_one_per_line(tmp_path):
    (tmp_path / "a.txt").write_text("0,1,1,0")
    (tmp_path / "b.txt").write_text("0\n1\n1\n0\n")
    for name in ("a.txt", "b.txt"):
        assert read_flags(tmp_path / name).tolist() == [False, True, True, False]
    with pytest.raises(AnnotationError, match="4 entries, expected 5"):
        read_flags(tmp_path / "b.txt", expected=5)
    (tmp_path / "c.txt").write_text("0\n2\n")
    with pytest.raises(AnnotationError, match=r"c.txt:2: .*not 0 or 1"):
        read_flags(tmp_path / "c.txt")


def test_attribute_line_with_leading_blank_line(tmp_path):
    # two OTB toolkit att files (Bird1, Human5) start with an empty line
    (tmp_path / "att.txt").write_text("\n0,1,0\n")
    assert read_attribute_flags(tmp_path / "att.txt", ("A", "B", "C")) == {"A": False, "B": True, "C": False}


def test_bulk_reading_equals_per_file_and_skips_bad_files(shared, tmp_path):
    folder = shared / "data" / "annotations" / "lasot"
    paths = sorted(folder.glob("*-*.txt"))[:20]
    bad = tmp_path / "bad.txt"
    bad.write_text("1,2,3,4\n5,6,7\n")
    bulk = read_tables(paths + [bad])
    assert str(bad) not in bulk
    for p in paths:
        assert np.array_equal(bulk[str(p)], _loadtxt(p))


def test_frames_sorted_numerically(tmp_path, write_images):
    write_images(tmp_path, ["10.jpg", "2.jpg", "0.jpg", "1.jpg", "notes.txt"])
    assert [p.rsplit("/", 1)[1] for p in list_images(tmp_path)] == ["0.jpg", "1.jpg", "2.jpg", "10.jpg"]


def test_fewer_images_than_rows_is_an_error():
    with pytest.raises(AnnotationError, match=r"gt.txt: fewer images \(2\) than annotation rows \(3\)"):
        align_frames(["a", "b"], 3, "gt.txt")
    notes = []
    assert align_frames(["a", "b", "c"], 2, "gt.txt", allow_more=True, notes=notes, rule="toolkit") == ["a", "b"]
    assert "toolkit" in notes[0]
