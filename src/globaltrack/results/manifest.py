"""The run manifest read back as a typed record (the runner writes ``manifest.json``: ``harness/manifest.py``).

Readers (evaluate, the report) use these fields instead of guessing keys. Fields an older manifest lacks are None or
empty; the per-tracker speed (``tracker_seconds``, ``tracker_frames``, ``tracker_fps``: the tracker's own time in
init/update/track_batch, kept across resumes) is read at the top level or under ``speed``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from globaltrack.errors import UserError


@dataclass(frozen=True)
class RunManifest:
    name: str                                   # the run's name (its folder)
    tracker: str                                # the registry name
    options: dict[str, Any] = field(default_factory=dict)
    diagnostic: bool = False
    benchmark: str | None = None
    package_version: str | None = None
    git_commit: str | None = None
    libraries: dict[str, str] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    started: str | None = None
    finished: str | None = None
    status: str | None = None                   # "running" | "complete" | "failed" | "interrupted" | ...
    failures: dict[str, str] = field(default_factory=dict)
    fps: float | None = None                    # mean of per-sequence fps (GOT-10k's averaging)
    throughput_fps: float | None = None         # frames / wall time of the whole command (parallelism included)
    per_sequence_fps: dict[str, float | None] = field(default_factory=dict)
    tracker_seconds: float | None = None
    tracker_frames: int | None = None
    tracker_fps: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], name: str) -> "RunManifest":
        speed = data.get("speed") if isinstance(data.get("speed"), dict) else {}

        def pick(key, default=None):
            v = data.get(key, speed.get(key, default))
            return default if v is None else v

        failures = data.get("failures") or {}
        if isinstance(failures, list):        # older manifests: a list of names or {"sequence": ...}
            failures = {(f if isinstance(f, str) else str(f.get("sequence", f))): "" for f in failures}
        return cls(
            name=str(data.get("name", name)), tracker=str(data.get("tracker", name)),
            options=dict(data.get("options") or {}), diagnostic=bool(data.get("diagnostic", False)),
            benchmark=data.get("benchmark"), package_version=data.get("package_version"),
            git_commit=data.get("git_commit"), libraries=dict(data.get("libraries") or {}),
            machine=dict(data.get("machine") or data.get("hardware") or {}),
            started=data.get("started"), finished=data.get("finished"), status=data.get("status"),
            failures={str(k): str(v) for k, v in failures.items()},
            fps=_float(speed.get("fps")), throughput_fps=_float(speed.get("throughput_fps")),
            per_sequence_fps={str(k): _float(v) for k, v in (speed.get("per_sequence") or {}).items()},
            tracker_seconds=_float(pick("tracker_seconds")), tracker_frames=_int(pick("tracker_frames")),
            tracker_fps=_float(pick("tracker_fps")))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _float(v) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _int(v) -> int | None:
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


def read_manifest_json(folder: str | Path) -> dict:
    """A run folder's ``manifest.json`` as stored; {} when there is none (imported results). An unreadable one is a
    UserError naming the file."""
    p = Path(folder) / "manifest.json"
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"unreadable run manifest ({err})", p) from None
    if not isinstance(data, dict):
        raise UserError("run manifest is not a JSON object", p)
    return data


def read_run_manifest(folder: str | Path) -> RunManifest | None:
    """The typed manifest of a run folder; None when there is none."""
    data = read_manifest_json(folder)
    return RunManifest.from_json(data, Path(folder).name) if data else None
