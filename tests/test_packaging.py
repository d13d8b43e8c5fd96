"""One pip command installs a working package: `pip install <checkout>` gives a cv2 with OpenCV's contrib trackers.

got10k and vot-toolkit depend on opencv-python, whose cv2/ folder overwrites the contrib build's, so they are extras
(``[got10k]``, ``[vot]``, ``[all]``), and a clash is detected and named with its one-command repair.

The fresh-venv test installs every dependency (torch included, from this machine's local wheels): minutes, so it
runs only with GLOBALTRACK_TEST_FRESH_VENV=1. The dependency-closure test checks the same property offline, in
milliseconds, from the metadata of the distributions installed here.
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAIN_OPENCV = {"opencv-python", "opencv-python-headless"}
CONTRIB_CHECK = ("import cv2; cv2.TrackerKCF_create(); cv2.legacy.TrackerTLD_create(); "
                 "print('contrib', cv2.__version__)")


def _name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _closure(requirements: list[str]) -> set[str]:
    """Names of every distribution the requirements pull in, following the installed distributions' metadata
    (extras of a requirement followed too, environment markers of plain requirements honoured)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        for text in dist.requires or []:
            sub = Requirement(text)
            env = [{"extra": e} for e in req.extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(e) for e in env):
                todo.append(sub)
    return {s for s in seen if "[" not in s}


def test_core_dependencies_bring_the_contrib_build_and_never_plain_opencv():
    pytest.importorskip("packaging")
    project = _project()
    deps = project["dependencies"]
    assert "opencv-contrib-python-headless" in {_name(d) for d in deps}
    closure = _closure(deps)
    assert not closure & PLAIN_OPENCV, f"a core dependency pulls in {closure & PLAIN_OPENCV}"
    assert not closure & {"got10k", "vot-toolkit"}  # they are extras
    extras = project["optional-dependencies"]
    assert {_name(d) for d in extras["got10k"]} == {"got10k"}
    assert {"vot-toolkit", "attributee"} <= {_name(d) for d in extras["vot"]}
    assert {_name(d) for d in extras["got10k"] + extras["vot"]} <= {_name(d) for d in extras["all"]}
    try:  # why vot is an extra: it brings opencv-python (checked where it is installed)
        metadata.distribution("vot-toolkit")
    except metadata.PackageNotFoundError:
        return
    assert _closure(extras["vot"]) & PLAIN_OPENCV


def test_the_makefile_only_calls_pip_to_install_and_repair():
    text = (ROOT / "Makefile").read_text()
    recipe = text.split("$(STAMP):", 1)[1].split("\ninstall:", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if line.startswith("\t") and "pip" in line]
    assert any("install -q -e '.[all,dev]'" in x for x in installs)
    assert any("uninstall" in x and "opencv-python " in x for x in installs)
    assert any("--force-reinstall --no-deps opencv-contrib-python-headless" in x for x in installs)
    steps = [line.strip() for line in recipe.splitlines() if line.startswith("\t") and not line.strip().startswith("#")]
    assert all("pip" in s or s.startswith(("touch", "$(VENV)/bin/globaltrack trackers --check-opencv"))
               or s.startswith("$(PYTHON) -m venv") for s in steps), steps


def test_a_clash_is_detected_and_the_repair_named(monkeypatch):
    from globaltrack.trackers import opencv_trackers as ot

    monkeypatch.setattr(ot, "find_constructor", lambda name: (None, False))
    monkeypatch.setattr(ot, "opencv_clash", lambda: "opencv-python 4.10.0.84")
    problem = ot.contrib_problem()
    assert "opencv-python 4.10.0.84" in problem and problem.endswith(ot.REPAIR_OPENCV)
    assert ot.opencv_availability("KCF") == (False, problem)


@pytest.mark.skipif(os.environ.get("GLOBALTRACK_TEST_FRESH_VENV") != "1",
                    reason="installs every dependency into a fresh venv (minutes); set GLOBALTRACK_TEST_FRESH_VENV=1")
def test_pip_install_of_the_checkout_in_a_fresh_venv_gives_contrib_cv2(tmp_path):
    src = tmp_path / "checkout"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "results", "reports", "__pycache__",
                                                             "*.egg-info", "build"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")

    def pip(*args):
        out = subprocess.run([py, "-m", "pip", "install", "-q", *args], capture_output=True, text=True,
                             timeout=1500)
        assert out.returncode == 0, out.stderr[-3000:]

    pip(str(src))  # the one command a user types
    out = subprocess.run([py, "-c", CONTRIB_CHECK], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("contrib"), out.stderr
    listed = subprocess.run([py, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    assert not {_name(x) for x in listed.splitlines()} & PLAIN_OPENCV

    # the extras bring opencv-python (vot-toolkit): either cv2 still works, or the clash is named with its repair
    pip(f"{src}[{os.environ.get('GLOBALTRACK_TEST_EXTRAS', 'all')}]")
    gt = str(venv / "bin" / "globaltrack")
    check = subprocess.run([gt, "trackers", "--check-opencv"], capture_output=True, text=True, cwd=tmp_path)
    if check.returncode != 0:
        assert "repair with: pip uninstall -y opencv-python" in check.stdout, check.stdout + check.stderr
        subprocess.run(["bash", "-c", check.stdout.split("repair with: ", 1)[1].replace("pip ", f"{py} -m pip ")],
                       check=True, capture_output=True)
    check = subprocess.run([gt, "trackers", "--check-opencv"], capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    out = subprocess.run([py, "-c", CONTRIB_CHECK + "; import got10k, vot"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
