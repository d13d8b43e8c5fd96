"""`globaltrack check`: lists what it found, reports problems with file and line, exit status."""
from globaltrack.harness.cli import main


def test_clean_dataset_exits_zero(shared, tmp_path, link, capsys):
    link(shared / "data" / "sequences" / "vot" / "bag", tmp_path / "vot" / "bag")
    assert main(["check", "--benchmark", "vot", "--root", str(tmp_path / "vot")]) == 0
    out = capsys.readouterr().out
    assert "bag" in out and "196 frames" in out and "196 annotation rows" in out
    assert "1 of 1 sequences found, 0 missing, 0 problem(s)" in out


def test_toolkit_annos_only(shared, capsys):
    annos = shared / "data" / "annotations" / "lasot"
    assert main(["check", "-b", "lasot", "--annos", str(annos), "-q"]) == 0
    assert "280 of 280 sequences found" in capsys.readouterr().out


def test_problems_exit_one_and_name_file_and_line(tmp_path, write_images, capsys):
    d = tmp_path / "vot" / "seq1"
    write_images(d, ["00000001.jpg", "00000002.jpg", "00000003.jpg"])
    (d / "groundtruth.txt").write_text("1,2,3,4\n1,2,x,4\n1,2,3,4\n")
    d2 = tmp_path / "vot" / "seq2"
    write_images(d2, ["00000001.jpg"])
    (d2 / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n")
    (tmp_path / "vot" / "list.txt").write_text("seq1\nseq2\nseq3\n")
    assert main(["check", "-b", "vot", "--root", str(tmp_path / "vot")]) == 1
    out = capsys.readouterr().out
    assert f"{d / 'groundtruth.txt'}:2: non-numeric value 'x'" in out
    assert f"{d2 / 'groundtruth.txt'}: fewer images (1) than annotation rows (2)" in out
    assert "missing (1): seq3" in out


def test_partial_otb_lists_missing(shared, tmp_path, link, capsys):
    link(shared / "data" / "sequences" / "otb" / "Jogging", tmp_path / "otb" / "Jogging")
    assert main(["check", "-b", "otb2013", "--root", str(tmp_path / "otb")]) == 1
    out = capsys.readouterr().out
    assert "Jogging-1" in out and "Jogging-2" in out and "307 frames" in out
    assert "2 of 51 sequences found, 49 missing" in out


def test_missing_folder_is_a_user_error(tmp_path, capsys):
    assert main(["check", "-b", "tlp", "--root", str(tmp_path / "nope")]) == 2
    assert "tlp dataset folder not found" in capsys.readouterr().err
