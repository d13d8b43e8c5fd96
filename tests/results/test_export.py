"""Submission export and validation on tiny datasets laid out as each benchmark distributes them."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from globaltrack.harness.cli import main
from globaltrack.results.export import SubmissionError, export_submission
from globaltrack.results.store import ResultStore, SequenceResult
from globaltrack.results.validate import validate_files, validate_submission, zip_bytes

W, H = 40, 30


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (W, H), (90, 120, 150)).save(buf, format="JPEG")
    return buf.getvalue()


JPEG = _jpeg()


def _frames(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(JPEG)


def _boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    b = np.empty((n, 4))
    b[:, :2] = rng.uniform(0, 20, (n, 2))
    b[:, 2:] = rng.uniform(4, 15, (n, 2))
    return b


def _write(store, bench, tracker, seq, n, seed=0, times=True):
    store.write(bench, tracker, seq, SequenceResult(
        _boxes(n, seed), scores=np.linspace(1, 0.5, n), present=np.arange(n) % 4 != 3,
        times=0.01 + 0.001 * np.arange(n) if times else None))


def _rezip(src, out, edit):
    with zipfile.ZipFile(src) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    edit(files)
    out.write_bytes(zip_bytes(files))
    return out


# -- TrackingNet --------------------------------------------------------------------------------------------------
TN = {"vidA": 5, "vidB": 7, "vidC": 3}


@pytest.fixture
def trackingnet(tmp_path):
    root = tmp_path / "TrackingNet"
    for vid, n in TN.items():
        (root / "TEST" / "anno").mkdir(parents=True, exist_ok=True)
        (root / "TEST" / "anno" / f"{vid}.txt").write_text("1,2,10,8\n")
        _frames(root / "TEST" / "frames" / vid, [f"{i}.jpg" for i in range(n)])
    store = ResultStore(tmp_path / "results")
    for i, (vid, n) in enumerate(TN.items()):
        _write(store, "trackingnet", "ours", vid, n, seed=i)
    return root, store


def test_trackingnet_export_is_a_flat_zip_of_comma_rows(trackingnet, tmp_path):
    root, store = trackingnet
    out = export_submission("trackingnet", store, ["ours"], tmp_path / "sub.zip", root=root)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["vidA.txt", "vidB.txt", "vidC.txt"]
        rows = zf.read("vidB.txt").decode().splitlines()
    assert len(rows) == 7
    expected = _boxes(7, seed=1)
    assert rows[0] == ",".join("%.2f" % v for v in expected[0])
    np.testing.assert_allclose(np.loadtxt(io.StringIO("\n".join(rows)), delimiter=","), expected, atol=0.005)
    assert validate_submission(out, "trackingnet", root=root) == []


def test_trackingnet_corrupted_submission_is_rejected_line_by_line(trackingnet, tmp_path):
    root, store = trackingnet
    good = export_submission("trackingnet", store, ["ours"], tmp_path / "sub.zip", root=root)

    def corrupt(files):
        a = files["vidA.txt"].decode().splitlines()
        a[2] = "nan,1,2,3"
        a[3] = "1,2,-4,5"
        files["vidA.txt"] = ("\n".join(a) + "\n").encode()
        files["vidB.txt"] = b"".join(files["vidB.txt"].splitlines(keepends=True)[:-2])   # 2 rows short
        files["extra/vidC.txt"] = files.pop("vidC.txt")                                     # not at the root
        files["vidZ.txt"] = b"1,2,3,4\n"                                                     # not in the dataset

    bad = _rezip(good, tmp_path / "bad.zip", corrupt)
    problems = validate_submission(bad, "trackingnet", root=root)
    assert "vidA: vidA.txt: row 3: NaN value" in problems
    assert "vidA: vidA.txt: row 4: negative size (w=-4, h=5)" in problems
    assert "vidB: vidB.txt: 5 rows, expected 7 (one per frame)" in problems
    assert "vidC: extra/vidC.txt: inside a folder; the <sequence>.txt files must be at the zip root" in problems
    assert not any(p.startswith("vidC: missing") for p in problems)   # found, and its rows checked
    assert "vidZ: not a sequence of the trackingnet test split" in problems
    # CLI: one line per problem, non-zero exit
    assert main(["validate-submission", str(bad), "--benchmark", "trackingnet", "--root", str(root)]) == 1
    assert main(["validate-submission", str(good), "--benchmark", "trackingnet", "--root", str(root)]) == 0


def test_whitespace_delimiter_and_header_are_named():
    files = {"v.txt": b"x,y,w,h\n1 2 3 4\n1,2,3,4\n"}
    problems = validate_files(files, "trackingnet", None)
    assert any(p.startswith("v: v.txt: row 1: non-numeric value") and "header" in p for p in problems)
    assert "v: v.txt: row 2: values separated by whitespace; the server needs commas" in problems
    # Without a dataset the official count is checked.
    assert "submission: 1 sequences; the official test split has 511" in problems


def test_export_refuses_an_invalid_submission_and_writes_nothing(trackingnet, tmp_path):
    root, store = trackingnet
    store.write("trackingnet", "ours", "vidA", SequenceResult(np.full((5, 4), np.nan)))
    out = tmp_path / "sub.zip"
    with pytest.raises(SubmissionError) as err:
        export_submission("trackingnet", store, ["ours"], out, root=root)
    assert "vidA: vidA.txt: row 1: NaN value" in err.value.problems
    assert not out.exists()
    # and a missing result is named, not skipped
    (store.box_path("trackingnet", "ours", "vidA")).unlink()
    with pytest.raises(SubmissionError) as err:
        export_submission("trackingnet", store, ["ours"], out, root=root)
    assert err.value.problems == ["vidA: missing from the submission"]
    assert main(["export", "--benchmark", "trackingnet", "--root", str(root), "--results", str(store.root),
                 "--tracker", "ours", "--out", str(out)]) == 2


# -- GOT-10k ------------------------------------------------------------------------------------------------------
GOT = {"GOT-10k_Test_000001": 6, "GOT-10k_Test_000002": 4}


@pytest.fixture
def got10k(tmp_path):
    root = tmp_path / "GOT-10k"
    base = root / "test"
    for seq, n in GOT.items():
        _frames(base / seq, [f"{i:08d}.jpg" for i in range(1, n + 1)])
        (base / seq / "groundtruth.txt").write_text("1.0,2.0,10.0,8.0\n")
        (base / seq / "meta_info.ini").write_text(f"[METAINFO]\nobject_class: thing\nresolution: ({W}, {H})\n")
    (base / "list.txt").write_text("\n".join(GOT) + "\n")
    store = ResultStore(tmp_path / "results")
    for run in ("ours", "ours-run2", "ours-run3"):
        for i, (seq, n) in enumerate(GOT.items()):
            _write(store, "got10k", run, seq, n, seed=i + len(run))
    return root, store


def test_got10k_export_repeated_runs_and_real_times(got10k, tmp_path):
    root, store = got10k
    out = export_submission("got10k", store, ["ours", "ours-run2", "ours-run3"], tmp_path / "got.zip", root=root)
    s = "GOT-10k_Test_000001"
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {f"{s}/{s}_001.txt", f"{s}/{s}_002.txt", f"{s}/{s}_003.txt", f"{s}/{s}_time.txt"} <= names
        assert len(names) == 8
        times = np.loadtxt(io.BytesIO(zf.read(f"{s}/{s}_time.txt")), delimiter=",")
        run2 = np.loadtxt(io.BytesIO(zf.read(f"{s}/{s}_002.txt")), delimiter=",")
    assert times.shape == (6, 3)
    sidecar = store.read("got10k", "ours-run2", s).times
    np.testing.assert_allclose(times[:, 1], sidecar, atol=1e-8)
    np.testing.assert_allclose(run2, store.read_boxes("got10k", "ours-run2", s), atol=5e-4)
    assert validate_submission(out, "got10k", root=root) == []


def test_got10k_corruptions(got10k, tmp_path):
    root, store = got10k
    good = export_submission("got10k", store, ["ours"], tmp_path / "got.zip", root=root)
    s1, s2 = GOT

    def spaces_and_no_time(files):
        files[f"{s1}/{s1}_001.txt"] = files[f"{s1}/{s1}_001.txt"].replace(b",", b" ")
        del files[f"{s2}/{s2}_time.txt"]

    problems = validate_submission(_rezip(good, tmp_path / "b1.zip", spaces_and_no_time), "got10k", root=root)
    assert f"{s1}: {s1}/{s1}_001.txt: row 1: values separated by whitespace; the server needs commas" in problems
    assert f"{s2}: no time file {s2}/{s2}_time.txt" in problems

    def nested(files):
        for k in list(files):
            files["ours/" + k] = files.pop(k)

    problems = validate_submission(_rezip(good, tmp_path / "b2.zip", nested), "got10k", root=root)
    assert problems[0].startswith("submission: zip root: the sequence folders are inside ours/")
    # Results without per-frame times cannot make a GOT-10k submission.
    _write(store, "got10k", "untimed", s1, GOT[s1], times=False)
    _write(store, "got10k", "untimed", s2, GOT[s2], times=False)
    with pytest.raises(SubmissionError) as err:
        export_submission("got10k", store, ["untimed"], tmp_path / "u.zip", root=root)
    assert f"{s1}: {s1}/{s1}_time.txt: row 1: NaN or infinite time (no per-frame time was recorded)" \
        in err.value.problems


# -- OxUvA --------------------------------------------------------------------------------------------------------
@pytest.fixture
def oxuva(tmp_path):
    root = tmp_path / "oxuva"
    (root / "tasks").mkdir(parents=True)
    # video_id, object_id, init_frame, last_frame, xmin, xmax, ymin, ymax (normalised)
    (root / "tasks" / "test.csv").write_text("vid0,0,30,34,0.1,0.5,0.2,0.6\nvid1,a,0,3,0.2,0.4,0.2,0.5\n")
    _frames(root / "images" / "test" / "vid0", [f"{i:06d}.jpeg" for i in range(28, 36)])
    _frames(root / "images" / "test" / "vid1", [f"{i:06d}.jpeg" for i in range(0, 4)])
    store = ResultStore(tmp_path / "results")
    return root, store


def _oxuva_results(root, store):
    from globaltrack.results.validate import expected_sequences

    expected = expected_sequences("oxuva", root)
    for i, (name, exp) in enumerate(expected.items()):
        boxes = _boxes(exp.frames, seed=i)
        boxes[1] = [-5.0, 3.0, 60.0, 10.0]       # sticks out of the image: clipped to [0, 1]
        store.write("oxuva", "ours", name, SequenceResult(boxes, scores=np.linspace(1, 0.2, exp.frames),
                                                          present=np.arange(exp.frames) != 2))
    return expected


def test_oxuva_export_one_headerless_csv_per_task(oxuva, tmp_path):
    root, store = oxuva
    expected = _oxuva_results(root, store)
    assert set(expected) == {"vid0_0", "vid1_a"}
    out = export_submission("oxuva", store, "ours", tmp_path / "ox.zip", root=root)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["vid0_0.csv", "vid1_a.csv"]
        rows = [r.split(",") for r in zf.read("vid0_0.csv").decode().splitlines()]
    assert [int(r[2]) for r in rows] == [31, 32, 33, 34]          # init frame 30 omitted
    assert [r[:2] for r in rows] == [["vid0", "0"]] * 4
    assert rows[0][3] == "true" and rows[1][3] == "false"
    xmin, xmax, ymin, ymax = (float(v) for v in rows[0][5:])
    assert (xmin, xmax) == (0.0, 1.0)                               # clipped
    assert ymin == pytest.approx(3 / H, abs=1e-6) and ymax == pytest.approx(13 / H, abs=1e-6)
    assert validate_submission(out, "oxuva", root=root) == []


def test_oxuva_corruptions(oxuva, tmp_path):
    root, store = oxuva
    _oxuva_results(root, store)
    good = export_submission("oxuva", store, "ours", tmp_path / "ox.zip", root=root)

    def corrupt(files):
        rows = files["vid0_0.csv"].decode().splitlines()
        rows[1] = "vid0,0,32,true,0.5,0.1,1.5,0.2,0.3"
        files["vid0_0.csv"] = ("video_id,object_id,frame_num,present,score,xmin,xmax,ymin,ymax\n"
                               "vid0,0,30,true,1,0,0.5,0,0.5\n" + "\n".join(rows) + "\n").encode()

    problems = validate_submission(_rezip(good, tmp_path / "bad.zip", corrupt), "oxuva", root=root)
    assert problems[0].startswith("vid0_0: vid0_0.csv: row 1: header row; write none")
    assert "vid0_0: vid0_0.csv: row 1: frame_num 30: the init frame (30) and earlier must be omitted" in problems
    assert "vid0_0: vid0_0.csv: row 3: coordinate outside [0, 1] (normalise by the image size and clip)" \
        in problems
    assert "vid0_0: vid0_0.csv: 5 rows, expected 4 (every frame after the init frame)" in problems


# -- LaSOT and TLP ------------------------------------------------------------------------------------------------
LASOT = {"airplane-1": 5, "airplane-9": 4}
TLP = {"Alladin": 6, "Bike": 3}


@pytest.fixture
def lasot(tmp_path):
    root = tmp_path / "LaSOT"
    for seq, n in LASOT.items():
        d = root / seq.split("-")[0] / seq
        _frames(d / "img", [f"{i:08d}.jpg" for i in range(1, n + 1)])
        (d / "groundtruth.txt").write_text("".join("1,2,10,8\n" for _ in range(n)))
        (d / "full_occlusion.txt").write_text(",".join("0" * n) + "\n")
        (d / "out_of_view.txt").write_text(",".join("0" * n) + "\n")
        (d / "nlp.txt").write_text("a plane\n")
    return root


@pytest.fixture
def tlp(tmp_path):
    root = tmp_path / "TLP"
    for seq, n in TLP.items():
        _frames(root / seq / "img", [f"{i:05d}.jpg" for i in range(1, n + 1)])
        (root / seq / "groundtruth_rect.txt").write_text("".join(f"{i},1,2,10,8,0\n" for i in range(1, n + 1)))
    return root


@pytest.mark.parametrize("bench", ["lasot", "tlp"])
def test_lasot_tlp_export_per_sequence_files(bench, lasot, tlp, tmp_path):
    root, lengths = (lasot, LASOT) if bench == "lasot" else (tlp, TLP)
    store = ResultStore(tmp_path / "results")
    for i, (seq, n) in enumerate(lengths.items()):
        _write(store, bench, "ours", seq, n, seed=i)
    folder = export_submission(bench, store, "ours", tmp_path / f"{bench}_out", root=root)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.txt" for s in lengths)
    for seq in lengths:
        np.testing.assert_allclose(np.loadtxt(folder / f"{seq}.txt", delimiter=","),
                                   store.read_boxes(bench, "ours", seq), atol=5e-5)
    assert validate_submission(folder, bench, root=root) == []
    # A folder of <tracker>_tracking_result/<seq>.txt (the LaSOT toolkit layout) is accepted as well.
    z = export_submission(bench, store, "ours", tmp_path / f"{bench}.zip", root=root)
    nested = _rezip(z, tmp_path / "nested.zip", lambda f: [f.__setitem__("ours_tracking_result/" + k, f.pop(k))
                                                           for k in list(f)])
    assert validate_submission(nested, bench, root=root) == []
    first = next(iter(lengths))
    short = _rezip(z, tmp_path / "short.zip", lambda f: f.__setitem__(f"{first}.txt", b"1,2,3,4\n"))
    assert validate_submission(short, bench, root=root) == \
        [f"{first}: {first}.txt: 1 rows, expected {lengths[first]} (one per frame)"]


def test_devkit_substring_ambiguity_and_got10k_run_numbering():
    from globaltrack.results.validate import ExpectedSequence

    exp = {n: ExpectedSequence(n, 1) for n in ("vidA", "xvidA")}
    problems = validate_files({"vidA.txt": b"1,2,3,4\n", "xvidA.txt": b"1,2,3,4\n"}, "trackingnet", exp)
    # TrackingNet-devkit metrics.py pairs GT 'vidA.txt' with every member whose path contains it
    assert problems == ["vidA: ambiguous: 2 files contain 'vidA.txt' (vidA.txt, xvidA.txt); the devkit would "
                        "score it as missing"]
    s = "GOT-10k_Test_000001"
    files = {f"{s}/{s}_001.txt": b"1,2,3,4\n", f"{s}/{s}_003.txt": b"1,2,3,4\n",
             f"{s}/{s}_time.txt": b"0.1,0.1\n"}
    problems = validate_files(files, "got10k", {s: ExpectedSequence(s, 1)})
    assert problems == [f"{s}: runs must be numbered _001.._002, found _001, _003"]
