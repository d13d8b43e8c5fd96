"""Readers of published raw-result formats, each on a small file built in the test in the toolkit's layout."""
from __future__ import annotations

import json

import numpy as np
import pytest

from globaltrack.errors import AnnotationError
from globaltrack.harness.commands.import_results import import_results
from globaltrack.results import formats as F
from globaltrack.results.store import ResultStore
from globaltrack.sequence import Sequence

BOXES = np.array([[10.5, 20.25, 30.0, 40.0], [11.0, 21.0, 31.0, 41.0], [12.0, 22.0, 32.0, 42.0]])


def test_parse_box_bytes_fast_path_and_errors(tmp_path):
    assert F.parse_box_bytes(b"1,2,3,4\n5,6,7,8").tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert F.parse_box_bytes(b"1\t2\t3\t4\n5 6 7 8\n").tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert np.isnan(F.parse_box_bytes(b"nan,nan,nan,nan\n")).all()
    with pytest.raises(AnnotationError, match=r"r\.txt:2"):
        F.parse_box_bytes(b"1,2,3,4\n1,2,x,4\n", tmp_path / "r.txt")


def test_otb_mat_reader(tmp_path):
    sio = pytest.importorskip("scipy.io")
    # OTB toolkit OPE file: results{1} with res, type 'rect', startFrame, len, fps (a 1x1 cell of a struct)
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = {"res": BOXES, "type": "rect", "startFrame": 6.0, "len": 3.0, "fps": 25.5, "annoBegin": 1.0}
    sio.savemat(tmp_path / "Tiger1_MyTracker.mat", {"results": cell})
    (r,) = F.read_results("otb-mat", tmp_path, tracker="MyTracker")
    assert r.sequence == "Tiger1" and r.start_frame == 6 and r.info["fps"] == 25.5
    np.testing.assert_array_equal(r.boxes, BOXES)
    cell[0, 0]["type"] = "4corner"
    sio.savemat(tmp_path / "Tiger1_MyTracker.mat", {"results": cell})
    with pytest.raises(AnnotationError, match="not 'rect'"):
        F.read_results("otb-mat", tmp_path, tracker="MyTracker")


def test_pytracking_reader(tmp_path):
    (tmp_path / "Jogging_1.txt").write_text(F.write_pytracking_boxes(BOXES))   # tab, integers (astype(int))
    (tmp_path / "Jogging_1_time.txt").write_text("0.5\n0.1\n0.1\n")
    (r,) = F.read_results("pytracking", tmp_path)
    assert r.sequence == "Jogging_1"
    np.testing.assert_array_equal(r.boxes, BOXES.astype(int))
    np.testing.assert_array_equal(r.times, [0.5, 0.1, 0.1])


def test_got10k_reader(tmp_path):
    d = tmp_path / "GOT-10k_Val_000001"
    d.mkdir()
    (d / "GOT-10k_Val_000001_001.txt").write_text(F.write_got10k_boxes(BOXES))
    (d / "GOT-10k_Val_000001_002.txt").write_text(F.write_got10k_boxes(BOXES + 1))
    (d / "GOT-10k_Val_000001_time.txt").write_text("0.1,0.2\n0.1,0.2\n0.1,0.2\n")
    (r,) = F.read_results("got10k", tmp_path, repetition=2)
    np.testing.assert_array_equal(r.boxes, np.round(BOXES + 1, 3))
    np.testing.assert_array_equal(r.times, [0.2, 0.2, 0.2])
    # the import reads the folder with the GOT-10k server's own reader: one parser, errors naming the file and line
    assert [x.sequence for x in F.read_results("got10k", tmp_path)] == [d.name]
    (d / "GOT-10k_Val_000001_001.txt").write_text("1,2,3,4\n1,2,x,4\n")
    with pytest.raises(AnnotationError, match=f"{d / 'GOT-10k_Val_000001_001.txt'}.*2"):
        F.read_results("got10k", tmp_path)


def test_import_reads_each_server_format_with_the_servers_reader(tmp_path):
    from globaltrack.results.servers import get_server
    from globaltrack.results.validate import read_submission

    (tmp_path / "a").mkdir()
    np.savetxt(tmp_path / "a" / "Basketball.txt", BOXES, delimiter=",")
    np.savetxt(tmp_path / "a" / "Basketball_time.txt", [0.1, 0.1, 0.1])     # a side file, not a sequence
    (r,) = F.read_results("lasot", tmp_path / "a")
    (s,) = get_server("lasot").read(read_submission(tmp_path / "a")).values()
    assert r.sequence == s.sequence == "Basketball" and np.array_equal(r.boxes, s.boxes)


def test_pysot_and_otb_json_readers(tmp_path):
    (tmp_path / "a").mkdir()
    np.savetxt(tmp_path / "a" / "Basketball.txt", BOXES, delimiter=",")
    (r,) = F.read_results("pysot", tmp_path / "a")
    np.testing.assert_array_equal(r.boxes, BOXES)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Basketball.json").write_text(json.dumps({"res": BOXES.tolist(), "type": "rect", "fps": 3}))
    (r,) = F.read_results("otb-json", tmp_path / "b")
    np.testing.assert_array_equal(r.boxes, BOXES)


def test_oxuva_reader_and_import(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # header optional; present in many spellings; x-pair then y-pair
    (src / "vid1_0.csv").write_text("vid1,0,30,true,0.9,0.1,0.3,0.2,0.6\nvid1,0,60,no,0.2,0.1,0.3,0.2,0.6\n")
    (r,) = F.read_results("oxuva", src)
    np.testing.assert_allclose(r.boxes[0], [0.1, 0.2, 0.2, 0.4])
    assert r.present.tolist() == [True, False] and r.info["frames"].tolist() == [30, 60]
    gt = np.full((91, 4), np.nan)
    gt[0] = [10, 20, 20, 40]
    seq = Sequence("vid1_0", ground_truth=gt, metadata={"image_size": (100, 100), "init_frame": 0})
    rep = import_results("oxuva", "T", "oxuva", src, results=tmp_path / "res", sequences=[seq])
    assert rep["imported"] == 1
    res = ResultStore(tmp_path / "res").read("oxuva", "T", "vid1_0")
    assert np.isnan(res.boxes[1]).all()                                # no prediction before frame 30
    np.testing.assert_allclose(res.boxes[30], [10, 20, 20, 40])       # normalised -> pixels
    np.testing.assert_allclose(res.boxes[59], [10, 20, 20, 40])       # latest prediction at or before
    assert res.present[30] and not res.present[60] and not res.present[90]
    with pytest.raises(AnnotationError, match=":1"):
        (src / "vid1_0.csv").write_text("vid1,0,30,maybe,0.9,0.1,0.3,0.2,0.6\n")
        F.read_results("oxuva", src)


def test_import_maps_names_and_rejects_duplicates(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    np.savetxt(src / "jogging_1.txt", BOXES, delimiter=",")
    np.savetxt(src / "Unknown.txt", BOXES, delimiter=",")
    seqs = [Sequence("Jogging-1", ground_truth=BOXES), Sequence("Jogging-2", ground_truth=BOXES)]
    rep = import_results("otb", "T", "pysot", src, results=tmp_path / "res", sequences=seqs)
    assert rep["imported"] == 1
    assert (tmp_path / "res" / "otb2015" / "T" / "Jogging-1.txt").is_file()
    meta = json.loads((tmp_path / "res" / "otb2015" / "T" / "imported.json").read_text())
    assert meta["format"] == "pysot" and any("Unknown" in n for n in meta["notes"])
    assert any("Jogging-2" in n for n in meta["notes"])
    np.savetxt(src / "Jogging.1.txt", BOXES, delimiter=",")
    with pytest.raises(Exception, match="two source files"):
        import_results("otb", "T", "pysot", src, results=tmp_path / "res", sequences=seqs)


def test_import_otb_mat_aligns_start_frames(tmp_path):
    sio = pytest.importorskip("scipy.io")
    src = tmp_path / "mat"
    src.mkdir()
    full = np.vstack([BOXES, BOXES + 10])                  # 6 rows: a run from frame 1
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = {"res": full, "type": "rect", "startFrame": 1.0}
    sio.savemat(src / "Tiger1_X.mat", {"results": cell})
    seq = Sequence("Tiger1", ground_truth=BOXES, metadata={"start_frame": 4})   # OPE from frame 4: 3 rows
    rep = import_results("otb", "X", "otb-mat", src, results=tmp_path / "res", sequences=[seq])
    got = ResultStore(tmp_path / "res").read_boxes("otb2015", "X", "Tiger1")
    np.testing.assert_array_equal(got, BOXES + 10)
    assert any("3 leading rows dropped" in n for n in rep["notes"])


@pytest.mark.parametrize("bad,line", [(b"1,2,3,4\n1,2,3\n", 2), (b"1,2,3,4\n1,,3,4\n", 2), (b"1,2,3,4,5\n", 1)])
def test_malformed_rows_are_errors_not_nan(tmp_path, bad, line):
    from globaltrack.textio import parse_box_files

    with pytest.raises(AnnotationError, match=rf"r\.txt:{line}"):
        F.parse_box_bytes(bad, tmp_path / "r.txt")
    with pytest.raises(AnnotationError, match=rf"r\.txt:{line}"):
        parse_box_files([(tmp_path / "ok.txt", b"1,2,3,4\n"), (tmp_path / "r.txt", bad)])


def test_bulk_parse_equals_file_by_file(tmp_path):
    """One pandas call over the plain files, the precise parser for the rest: each file gets its own rows back."""
    from globaltrack.textio import parse_box_files, parse_numeric_table

    files = [b"1,2,3,4\n5,6,7,8\n", b"1\t2\t3\t4\n", b"9,8,7,6", b"nan,nan,nan,nan\n2,2,2,2\n",
             b"0.5,1.5,2.5,3.5\n" * 3, b""]
    items = [(tmp_path / f"{i}.txt", data) for i, data in enumerate(files)]
    got = parse_box_files(items)
    for (path, data), arr in zip(items, got):
        want = parse_numeric_table(data, path, 4) if data.strip() else np.zeros((0, 4))
        assert arr.shape == want.shape and np.array_equal(arr, want, equal_nan=True), path


@pytest.mark.parametrize("odd", [b"1,2,3,4\n1,2,3\n", b"1,2,3,4\n1,2,3,4,5\n", b"1,2,3,4\n\n5,6,7,8\n",
                                 b"1,2,3,4,\n", b"1,,3,4\n", b"1,2,3,x\n"])
def test_bulk_parse_of_an_odd_file_among_plain_ones(tmp_path, odd):
    """An odd plain-looking file (ragged row, blank line, empty field, text) makes the bulk call fail: every file is
    then parsed (or refused, naming the line) exactly as on its own."""
    from globaltrack.errors import AnnotationError
    from globaltrack.textio import parse_box_files, parse_numeric_table

    plain = b"0.5,1.5,2.5,3.5\n" * 2
    items = [(tmp_path / "a.txt", plain), (tmp_path / "odd.txt", odd), (tmp_path / "b.txt", plain)]
    try:
        want = parse_numeric_table(odd, tmp_path / "odd.txt", 4)
    except AnnotationError as e:
        with pytest.raises(AnnotationError, match="odd.txt") as got:
            parse_box_files(items)
        assert str(got.value) == str(e)
        return
    got = parse_box_files(items)
    assert np.array_equal(got[1], want) and all(np.array_equal(got[i], [[0.5, 1.5, 2.5, 3.5]] * 2) for i in (0, 2))


def test_one_odd_file_sends_only_itself_to_the_careful_parser(monkeypatch):
    """The bulk call that fails is halved until the odd file stands alone: the 15 plain files among 16 still come
    back from bulk calls (about 2 log2(16) of them, not 16 one-file calls), the odd one is parsed alone."""
    from globaltrack import textio

    calls = []
    real = textio._parse_plain_csv
    monkeypatch.setattr(textio, "_parse_plain_csv", lambda data: calls.append(data.count(b"\n")) or real(data))
    careful = []
    real_careful = textio.parse_numeric_table
    monkeypatch.setattr(textio, "parse_numeric_table", lambda d, p, n: careful.append(p) or real_careful(d, p, n))
    items = [(f"{i}.txt", b"1,2,3,4\n5,6,7,8\n" if i != 11 else b"1,2,3,4\n1,2,3,4,\n") for i in range(16)]
    got = textio.parse_box_files(items)
    assert careful == ["11.txt"] and got[11].tolist() == [[1, 2, 3, 4], [1, 2, 3, 4]]
    assert all(got[i].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]] for i in range(16) if i != 11)
    assert calls[0] == 32 and len(calls) <= 2 * 4 + 1


@pytest.mark.parametrize("data", [b"", b"1,2,3,4", b"1,2,3,4\n", b"\n\n1\n2", b"x" * 100000 + b"\n" * 7])
def test_newline_count_equals_bytes_count(data):
    from globaltrack.textio import _newlines

    assert _newlines(data) == data.count(b"\n")


def test_trailing_comma_is_tolerated():
    assert F.parse_box_bytes(b"1,2,3,4,\n5,6,7,8,\n").tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_import_strips_pytracking_dataset_prefixes(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "uav_bike1.txt").write_text(F.write_pytracking_boxes(BOXES))
    rep = import_results("uav123", "T", "pytracking", src, results=tmp_path / "res",
                         sequences=[Sequence("bike1", ground_truth=BOXES)])
    assert rep["imported"] == 1 and (tmp_path / "res" / "uav123" / "T" / "bike1.txt").is_file()
