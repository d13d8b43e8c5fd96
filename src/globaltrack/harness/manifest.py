"""The run manifest: what produced a tracker's results folder, so numbers can be traced and reproduced.

``<results>/<benchmark>/<tracker>/manifest.json`` holds the tracker name and options, package version, git commit,
library versions, the machine (CPU model, cores, memory, GPU if any), start and end times, the run's failures
(``{"failures": {sequence: reason}}``), the frames where the tracker returned a NaN, infinite or negative-size box
(``{"invalid_boxes": {sequence: {"count": n, "first_frame": index}}}``) and speed::

    "speed": {"tracker_fps": frames / seconds spent inside the tracker's init/update/track_batch, over every
                             finished sequence of the folder (kept across resumes and runs with the same options),
              "tracker_seconds": ..., "tracker_frames": ...,
              "hardware": "what the tracker ran on",
              "fps": mean of the per-sequence update speeds (got10k's toolkit), "per_sequence": {sequence: fps},
              "per_sequence_time": {sequence: [seconds, frames]},
              "throughput_fps": frames per wall-clock second of the last command (all trackers, all workers)}

The runner rewrites it (atomically) after every finished sequence, so a killed run leaves a valid manifest whose
``status`` is still ``"running"``.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from globaltrack import __version__

# Distributions whose versions can change a tracker's output or speed (looked up without importing them).
LIBRARIES = ("numpy", "torch", "torchvision", "opencv-contrib-python-headless", "opencv-python", "pillow", "joblib",
             "dask", "distributed", "scipy", "got10k", "vot-toolkit")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the checkout the package runs from (``+dirty`` with local changes), None outside git."""
    src = Path(__file__).resolve().parent
    git = shutil.which("git")
    if git is None:
        return None
    try:
        rev = subprocess.run([git, "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run([git, "status", "--porcelain", "--untracked-files=no"], cwd=src,
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> list[str]:
    """GPU names from nvidia-smi when present; torch is consulted only if something already imported it."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            r = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"], capture_output=True,
                               text=True, timeout=10)
            if r.returncode == 0:
                return [line.strip() for line in r.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:
            return []
    return []


@functools.lru_cache(maxsize=1)
def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem = _memory_bytes()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": usable,
        "memory_gb": None if mem is None else round(mem / 2**30, 1),
        "gpus": _gpus(),
    }


def hardware_description(device: str | None = None) -> str:
    """One line saying what a tracker ran on: the GPU for a ``cuda`` device, else the CPU model and core count."""
    info = machine_info()
    device = str(device or "cpu")
    if device.startswith("cuda"):
        gpus = info.get("gpus") or []
        index = int(device.split(":", 1)[1]) if ":" in device and device.split(":", 1)[1].isdigit() else 0
        if index < len(gpus):
            return f"GPU {index}: {gpus[index]}"
        return f"GPU ({device})"
    cores = info.get("cpu_cores_usable") or info.get("cpu_cores")
    return f"CPU: {info.get('cpu_model') or 'unknown model'}" + (f", {cores} cores usable" if cores else "")


def new_manifest(tracker: str, options: dict[str, Any], benchmark: str, *, diagnostic: bool,
                 run: dict[str, Any]) -> dict[str, Any]:
    """A manifest for a run that is starting now."""
    return {
        "tracker": tracker,
        "options": dict(options),
        "diagnostic": bool(diagnostic),
        "benchmark": benchmark,
        "package_version": __version__,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "machine": machine_info(),
        "run": dict(run),
        "started": now_iso(),
        "finished": None,
        "status": "running",
        "sequences": {"total": 0, "done": 0, "skipped": 0, "failed": 0, "invalid_boxes": 0},
        "failures": {},
        "invalid_boxes": {},
        "speed": {"tracker_fps": None, "tracker_seconds": 0.0, "tracker_frames": 0, "hardware": None,
                  "fps": None, "per_sequence": {}, "per_sequence_time": {}, "throughput_fps": None},
    }
