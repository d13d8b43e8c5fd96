"""Resume after SIGKILL: `globaltrack run` killed with -9 mid-run, rerun, results identical to an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

CLI = "import sys; from globaltrack.harness.cli import main; sys.exit(main())"


def _env():
    return {**os.environ, "GLOBALTRACK_TEST_TRACKERS": "1"}


def _run_args(root, results, *extra):
    return [sys.executable, "-c", CLI, "run", "-b", "synthetic", "--root", str(root), "-t", "sleepy:delay=0.01",
            "--results", str(results), "--quiet", *extra]


def _texts(d):
    return {p.name: p.read_text() for p in sorted(d.glob("*.txt"))}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_resume_after_sigkill_gives_the_uninterrupted_results(tiny_root, tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    out_dir = killed / "synthetic" / "sleepy"
    proc = subprocess.Popen(_run_args(tiny_root, killed), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        # each sequence takes ~0.3 s (30 frames x 10 ms): kill as soon as the first one is complete (its key exists)
        while not list(out_dir.glob("*.key")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed: " + proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    finished = {p.name[:-4] for p in out_dir.glob("*.key")}
    assert 1 <= len(finished) < 4
    manifest = json.loads((out_dir / "manifest.json").read_text())  # whole, and says the run did not finish
    assert manifest["status"] == "running" and manifest["finished"] is None

    rerun = subprocess.run(_run_args(tiny_root, killed), env=_env(), capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{4 - len(finished)} run, {len(finished)} reused, 0 failed" in rerun.stdout

    full = subprocess.run(_run_args(tiny_root, clean), env=_env(), capture_output=True, text=True, timeout=60)
    assert full.returncode == 0, full.stderr
    assert _texts(out_dir) == _texts(clean / "synthetic" / "sleepy") and len(_texts(out_dir)) == 4
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["speed"]["per_sequence"]) == 4
