"""`globaltrack run` from the command line: user errors are one line (no traceback), failures exit 1."""
import os
import shutil
import subprocess
import sys

import pytest

from globaltrack.errors import UserError
from globaltrack.harness.cli import main
from globaltrack.harness.commands.run import parse_tracker_specs

CLI = "import sys; from globaltrack.harness.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    from globaltrack.benchmarks.synthetic import generate

    return generate(tmp_path_factory.mktemp("cli") / "data", seed=5, sequences=3, frames=30, size=(64, 48))


def globaltrack(*args, **kw):
    env = {**os.environ, "GLOBALTRACK_TEST_TRACKERS": "1"}
    return subprocess.run([sys.executable, "-c", CLI, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=60, **kw)


def _one_line_error(proc, *needles):
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err


def test_tracker_specs_per_tracker_and_common_options():
    assert parse_tracker_specs(["kcf,csrt", "oracle:noise=0.1,seed=2,static"], {"batch": "2", "seed": "1"}) == [
        ("kcf", {"batch": "2", "seed": "1"}), ("csrt", {"batch": "2", "seed": "1"}),
        ("oracle", {"batch": "2", "seed": "2", "noise": "0.1"}), ("static", {"batch": "2", "seed": "1"})]
    with pytest.raises(UserError, match="does not follow"):
        parse_tracker_specs(["kcf,noise=1"])


def test_run_writes_results_and_prints_a_summary(root, tmp_path):
    p = globaltrack("run", "-b", "synthetic", "--root", root, "-t", "static", "-t", "oracle:noise=0.1",
                    "--results", tmp_path, "-j", "2", "--quiet")
    assert p.returncode == 0, p.stderr
    assert "static: 3 run, 0 reused, 0 failed" in p.stdout and "oracle: 3 run" in p.stdout
    assert len(list((tmp_path / "synthetic" / "oracle").glob("*.key"))) == 3


def test_sequences_selection_and_unknown_sequence(root, tmp_path):
    from globaltrack.benchmarks import load_sequences

    name = load_sequences("synthetic", root)[1].name
    assert main(["run", "-b", "synthetic", "--root", str(root), "-t", "static", "--results", str(tmp_path),
                 "--sequences", name, "--quiet"]) == 0
    assert [p.name for p in (tmp_path / "synthetic" / "static").glob("*.txt")] == [f"{name}.txt"]
    p = globaltrack("run", "-b", "synthetic", "--root", root, "-t", "static", "--results", tmp_path,
                    "--sequences", "nope-9")
    _one_line_error(p, "nope-9")


def test_missing_root_is_one_line(tmp_path):
    p = globaltrack("run", "-b", "synthetic", "--root", tmp_path / "absent", "-t", "static", "--results", tmp_path)
    _one_line_error(p, str(tmp_path / "absent"), "does not exist")
    assert p.returncode == 2


def test_unknown_tracker_is_one_line(root, tmp_path):
    p = globaltrack("run", "-b", "synthetic", "--root", root, "-t", "nosuchtracker", "--results", tmp_path)
    _one_line_error(p, "unknown tracker 'nosuchtracker'")


def test_malformed_annotation_costs_its_sequence_and_names_file_and_line(root, tmp_path):
    data = shutil.copytree(root, tmp_path / "data")
    gt = sorted(data.glob("*/*/groundtruth.txt"))[0]
    lines = gt.read_text().splitlines()
    lines[2] = "12,abc,3,4"
    gt.write_text("\n".join(lines) + "\n")
    p = globaltrack("run", "-b", "synthetic", "--root", data, "-t", "static", "--results", tmp_path / "r", "--quiet")
    assert p.returncode == 1, p.stderr
    assert "static: 2 run, 0 reused, 1 failed" in p.stdout
    assert f"FAILED static/{gt.parent.name}: {gt}:3: non-numeric value" in p.stdout
    # choosing the other sequences never reads the bad file
    others = sorted(d.parent.name for d in data.glob("*/*/groundtruth.txt") if d != gt)
    p = globaltrack("run", "-b", "synthetic", "--root", data, "-t", "static", "--results", tmp_path / "r2",
                    "--sequences", others[0], "--quiet")
    assert p.returncode == 0, p.stderr + p.stdout


def test_zero_byte_frame_fails_its_sequence_and_later_sequences_still_run(root, tmp_path):
    data = shutil.copytree(root, tmp_path / "data")
    frame = sorted(sorted(data.glob("*/*/img"))[0].glob("*.jpg"))[5]
    frame.write_bytes(b"")
    p = globaltrack("run", "-b", "synthetic", "--root", data, "-t", "static,oracle", "--results", tmp_path / "r",
                    "-j", "2", "--quiet")
    assert p.returncode == 1, p.stderr
    assert "static: 2 run, 0 reused, 1 failed" in p.stdout and "oracle: 2 run, 0 reused, 1 failed" in p.stdout
    assert f"{frame}: frame file is empty (0 bytes)" in p.stdout
    assert "2 sequences failed" in p.stdout


def test_bad_tracker_option_from_a_worker_process_is_one_line(root, tmp_path):
    p = globaltrack("run", "-b", "synthetic", "--root", root, "-t", "oracle:noise=lots", "--results", tmp_path,
                    "-j", "2")
    _one_line_error(p, "tracker 'oracle' cannot be created with noise=lots")


def test_failed_sequence_makes_exit_status_1_and_is_reported(root, tmp_path):
    from globaltrack.benchmarks import load_sequences

    bad = load_sequences("synthetic", root)[0].name
    p = globaltrack("run", "-b", "synthetic", "--root", root, "-t", f"faulty:on={bad},at=3", "--results", tmp_path,
                    "--quiet")
    assert p.returncode == 1, p.stderr
    assert "2 run, 0 reused, 1 failed" in p.stdout
    assert f"FAILED faulty/{bad}: frame index 3: RuntimeError" in p.stdout
    assert "1 sequence failed" in p.stdout


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--scheduler" in out and "NAME:KEY=VALUE" in out


def _lasot_folder(root, names=("airplane-1", "basketball-1"), frames=12):
    """A tiny LaSOT-layout dataset written by hand: <root>/<class>/<class>-<n>/img/00000001.jpg, groundtruth.txt,
    full_occlusion.txt, out_of_view.txt (official test-split names, so the lasot adapter accepts them)."""
    import numpy as np
    from PIL import Image

    for name in names:
        d = root / name.split("-")[0] / name
        (d / "img").mkdir(parents=True)
        rows, occ = [], []
        for i in range(frames):
            im = np.zeros((48, 64, 3), np.uint8)
            x, y = 10 + i, 12
            im[y:y + 10, x:x + 8] = 255
            Image.fromarray(im).save(d / "img" / f"{i + 1:08d}.jpg")
            absent = i in (6, 7)
            rows.append("0,0,0,0" if absent else f"{x},{y},8,10")
            occ.append("1" if absent else "0")
        (d / "groundtruth.txt").write_text("\n".join(rows) + "\n")
        (d / "full_occlusion.txt").write_text(",".join(occ) + "\n")
        (d / "out_of_view.txt").write_text(",".join("0" * frames) + "\n")
    return root


def test_run_on_a_lasot_layout_folder_and_its_malformed_annotation(tmp_path):
    pytest.importorskip("globaltrack.benchmarks.lasot")
    root = _lasot_folder(tmp_path / "LaSOT")
    p = globaltrack("run", "-b", "lasot", "--root", root, "-t", "oracle,static", "--results", tmp_path / "r",
                    "--sequences", "airplane-1,basketball-1", "--quiet")
    assert p.returncode == 0, p.stderr
    assert "oracle: 2 run, 0 reused, 0 failed" in p.stdout
    full_split = globaltrack("run", "-b", "lasot", "--root", root, "-t", "static", "--results", tmp_path / "r2")
    assert full_split.returncode == 0  # a partial dataset is a warning (one plain line), not an error
    assert "Warning" not in full_split.stderr and "warning: lasot split 'test': 278 of 280" in full_split.stderr
    boxes = (tmp_path / "r" / "lasot" / "oracle" / "airplane-1.txt").read_text().splitlines()
    assert len(boxes) == 12 and boxes[0] == "10.0,12.0,8.0,10.0" and boxes[5] == "15.0,12.0,8.0,10.0"

    gt = root / "airplane" / "airplane-1" / "groundtruth.txt"
    lines = gt.read_text().splitlines()
    lines[3] = "13,12,8"
    gt.write_text("\n".join(lines) + "\n")
    p = globaltrack("run", "-b", "lasot", "--root", root, "-t", "static", "--results", tmp_path / "r",
                    "--sequences", "airplane-1,basketball-1")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert f"FAILED static/airplane-1: {gt}:4: expected 4 values, found 3" in p.stdout
    assert "static: 0 run, 1 reused, 1 failed" in p.stdout
