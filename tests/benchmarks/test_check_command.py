"""`globaltrack check`: lists what it found, reports problems with file and line, exit status."""
from globaltrack.harness.cli import main


def test_clean_dataset_exits_zero(shared, tmp_path, link, capsys):
    link(shared / "data" / "sequences" / "vot" / "bag", tmp_path / "vot" / "bag")
    assert main(["check", "--benchmark", "vot", "--root", str(tmp_path / "vot")]) == 0
    out = capsys.readouterr().out
    assert "bag" in out and "196 frames" in out and "196 annotation rows" in out
    assert "1 of 1 official sequence found, 0 missing; 0 problems" in out


def test_toolkit_annos_only(shared, capsys):
    annos = shared / "data" / "annotations" / "lasot"
    assert main(["check", "-b", "lasot", "--annos", str(annos), "-q"]) == 0
    assert "280 of 280 official sequences found" in capsys.readouterr().out


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
    assert "0 of 3 official sequences found, 2 unreadable, 1 missing; 3 problems" in out


def test_partial_otb_lists_missing(shared, tmp_path, link, capsys):
    link(shared / "data" / "sequences" / "otb" / "Jogging", tmp_path / "otb" / "Jogging")
    assert main(["check", "-b", "otb2013", "--root", str(tmp_path / "otb")]) == 1
    out = capsys.readouterr().out
    assert "Jogging-1" in out and "Jogging-2" in out and "307 frames" in out
    assert "2 of 51 official sequences found, 49 missing" in out


def test_missing_folder_is_a_user_error(tmp_path, capsys):
    assert main(["check", "-b", "tlp", "--root", str(tmp_path / "nope")]) == 2
    assert "tlp dataset folder not found" in capsys.readouterr().err


def _otb_copy(shared, tmp_path):
    import shutil

    return shutil.copytree(shared / "data" / "sequences" / "otb", tmp_path / "otb")


def test_otb100_counts_100_sequences_and_an_unreadable_one_is_counted(shared, tmp_path, capsys):
    otb = _otb_copy(shared, tmp_path)
    gt = otb / "Crossing" / "groundtruth_rect.txt"
    lines = gt.read_text().splitlines()
    lines[4] = "12,abc,3,4"
    gt.write_text("\n".join(lines) + "\n")
    assert main(["check", "-b", "otb2015", "--root", str(otb), "-q"]) == 1
    out = capsys.readouterr().out
    assert "3 of 100 official sequences found, 1 unreadable, 96 missing; 2 problems" in out
    assert f"problem: Crossing: {gt}:5: non-numeric value 'abc' in column 2" in out


def test_sequences_selection_reads_only_those(shared, tmp_path, capsys):
    otb = _otb_copy(shared, tmp_path)
    (otb / "Crossing" / "groundtruth_rect.txt").write_text("garbage\n")
    assert main(["check", "-b", "otb2015", "--root", str(otb), "--sequences", "Couple,jogging-1"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 selected sequences found, 0 missing; 0 problems" in out and "Crossing" not in out
    assert main(["check", "-b", "otb2015", "--root", str(otb), "--sequences", "Couple,Nope"]) == 2
    assert "Nope" in capsys.readouterr().err


def test_frames_option_names_each_missing_empty_or_corrupt_frame(shared, tmp_path, capsys):
    otb = _otb_copy(shared, tmp_path)
    img = otb / "Couple" / "img"
    (img / "0010.jpg").write_bytes(b"")
    (img / "0020.jpg").write_bytes((img / "0020.jpg").read_bytes()[:2000])
    (img / "0030.jpg").write_bytes(b"not a jpeg at all")
    args = ["check", "-b", "otb2015", "--root", str(otb), "--sequences", "Couple", "-q"]
    assert main(args) == 0  # without --frames only existence is checked
    capsys.readouterr()
    assert main(args + ["--frames"]) == 1
    out = capsys.readouterr().out
    assert f"problem: Couple: {img / '0010.jpg'}: frame file is empty (0 bytes)" in out
    assert f"problem: Couple: {img / '0020.jpg'}: JPEG file is cut short" in out
    assert f"problem: Couple: {img / '0030.jpg'}: cannot decode frame" in out
    assert "3 problems, every frame's header checked" in out
    assert main(args + ["--frames", "decode"]) == 1
    assert f"{img / '0020.jpg'}: cannot decode frame (OSError: image file is truncated" in capsys.readouterr().out
    (img / "0040.jpg").unlink()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"problem: Couple: {img / '0040.jpg'}: frame file is missing (1 of the 140 frames that " in out
