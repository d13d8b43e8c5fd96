"""Weights load weights-only, or not at all: a corrupt, truncated, empty or code-carrying file is one line naming it,
found before any worker starts, and a run stopped by it leaves no manifest (finished results stay as they were)."""
import subprocess
import sys

import pytest

from globaltrack.errors import UserError
from globaltrack.harness.runner import run_trackers
from globaltrack.results.store import ResultStore

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack import default_weights_path  # noqa: E402
from globaltrack.trackers.globaltrack.checkpoint import (load_weights, probe_checkpoint,  # noqa: E402
                                                         safe_load, save_checkpoint)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A real checkpoint of ours (the tiny config, random weights), in torch.save's zip format."""
    from globaltrack.trackers.globaltrack.model import GlobalTrackModel

    torch.manual_seed(0)
    return save_checkpoint(GlobalTrackModel("tiny"), tmp_path_factory.mktemp("w") / "tiny.pth")


@pytest.fixture(scope="module")
def tiny_sequences(tmp_path_factory):
    from globaltrack.benchmarks import load_sequences
    from globaltrack.benchmarks.synthetic import generate

    root = generate(tmp_path_factory.mktemp("tiny") / "synthetic", seed=3, split="test", sequences=2, frames=30,
                    size=(64, 48))
    return load_sequences("synthetic", root)


class _RunsCode:
    """Unpickling this runs ``open(marker, 'w')``: what a malicious weights file would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _damaged(good, tmp_path, kind):
    path = tmp_path / f"{kind}.pth"
    data = good.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 20)
    elif kind == "flipped":  # a complete zip archive whose pickle is damaged
        import zipfile

        with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                body = src.read(item)
                if item.filename.endswith("data.pkl"):
                    body = body[:10] + b"\x00garbage\x00" + body[20:]
                dst.writestr(item, body)
    return path


@pytest.mark.parametrize("kind, words", [("truncated", "zip archive is incomplete"), ("empty", "empty (0 bytes)"),
                                         ("garbage", "neither torch.save's zip format"),
                                         ("flipped", "is corrupt or not a PyTorch checkpoint")])
def test_a_damaged_weights_file_is_one_line_naming_it(good, tmp_path, kind, words):
    bad = _damaged(good, tmp_path, kind)
    with pytest.raises(UserError) as err:
        load_weights(bad)
    msg = str(err.value)
    assert msg.startswith(f"{bad}: ") and words in msg and len(msg.splitlines()) == 1, msg


def test_a_file_that_would_run_code_is_refused_and_the_code_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "meta": _RunsCode(marker)}, evil)
    with pytest.raises(UserError, match=r"evil.pth: weights file refused: .*would run code from the file"):
        load_weights(evil)
    assert not marker.exists()


def test_good_files_load_in_both_torch_save_formats(good, tmp_path):
    sd, cfg, fmt = load_weights(good)
    assert fmt == "ours" and cfg.name == "tiny"
    legacy = tmp_path / "legacy.pth"
    torch.save(safe_load(good), legacy, _use_new_zipfile_serialization=False)  # the pre-1.6 format of mmcv files
    assert probe_checkpoint(legacy) == legacy
    assert set(load_weights(legacy)[0]) == set(sd)
    if default_weights_path().is_file():
        load_weights(default_weights_path())  # the shipped weights load weights-only


def test_the_fast_check_needs_no_torch(good, tmp_path):
    """What the runner checks before starting workers imports nothing heavy (it answers in milliseconds)."""
    bad = _damaged(good, tmp_path, "truncated")
    code = ("import sys\nfrom globaltrack.trackers.globaltrack.checkpoint import probe_checkpoint\n"
            f"probe_checkpoint({str(good)!r})\n"
            f"try:\n    probe_checkpoint({str(bad)!r})\nexcept Exception as e:\n    print(e)\n"
            f"try:\n    probe_checkpoint({str(tmp_path / 'absent.pth')!r})\nexcept Exception as e:\n    print(e)\n"
            "assert 'torch' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"{bad}: weights file is corrupt" in out.stdout and "absent.pth: weights file not found" in out.stdout


@pytest.mark.parametrize("kind", ["missing", "truncated"])
def test_a_run_with_bad_weights_stops_before_any_worker_and_leaves_no_manifest(good, tmp_path, tiny_sequences,
                                                                               monkeypatch, kind):
    import globaltrack.harness.runner as runner

    store = ResultStore(tmp_path / "results")
    run_trackers([("static", {})], tiny_sequences, "synthetic", store, quiet=True)
    before = {p.name: p.read_bytes() for p in store.tracker_dir("synthetic", "static").iterdir()}
    weights = tmp_path / "absent.pth" if kind == "missing" else _damaged(good, tmp_path, "truncated")

    def no_worker(*a, **k):
        raise AssertionError("a worker was started")

    monkeypatch.setattr(runner, "track_sequence", no_worker)
    with pytest.raises(UserError, match=f"{weights}: weights file"):
        run_trackers([("globaltrack", {"weights": str(weights)})], tiny_sequences, "synthetic", store, jobs=2)
    assert not store.tracker_dir("synthetic", "globaltrack").exists()
    assert {p.name: p.read_bytes() for p in store.tracker_dir("synthetic", "static").iterdir()} == before


def test_a_code_carrying_file_found_by_the_worker_leaves_no_manifest(tmp_path, tiny_sequences):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "meta": _RunsCode(marker)}, evil)
    store = ResultStore(tmp_path / "results")
    with pytest.raises(UserError, match="would run code from the file"):
        run_trackers([("globaltrack", {"weights": str(evil)})], tiny_sequences[:1], "synthetic", store, quiet=True)
    assert not marker.exists() and not store.tracker_dir("synthetic", "globaltrack").exists()
