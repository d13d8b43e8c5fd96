"""The runner: trackers x sequences -> result files, in parallel, resumable, one failure never stopping the rest.

``run_trackers([("static", {}), ("oracle", {"noise": "0.1"})], sequences, "lasot", ResultStore("results"), jobs=4)``

How a run goes:

1. Each (tracker, sequence) pair gets a content key (`globaltrack.harness.resume`); pairs whose stored result has
   the same key are skipped (``force=True`` reruns them).
2. The remaining pairs become jobs, sent longest sequence first, one at a time, to joblib workers (loky processes,
   threads, or a Dask cluster: `globaltrack.harness.backends`). Balancing by frame count keeps one long sequence
   from finishing alone at the end of a run.
3. A worker (`track_sequence`) builds a fresh tracker, decodes frames ahead in a background thread
   (`globaltrack.harness.prefetch`), calls ``set_sequence`` (oracle trackers) then ``init`` on the first frame and
   ``update`` (or ``track_batch`` in chunks of option ``batch`` for trackers without temporal state) on the rest,
   timing only the tracker. As the official toolkits write it, frame 0's prediction is the init box and its time
   the init time. The manifest sums those times over every finished sequence (``speed.tracker_seconds`` /
   ``tracker_frames`` / ``tracker_fps``, kept across resumes), next to the command's wall-clock throughput.
4. This process receives each finished sequence, writes boxes, sidecar and key (atomically, key last) and rewrites
   the tracker's manifest. A run killed at any moment loses only the sequences in flight.
5. A data fault costs one sequence, never the run: a sequence whose annotation is malformed (read lazily, one by
   one: `load_sequences(..., errors="collect")`), whose first box cannot initialise a tracker, whose frame files are
   missing, or whose frame cannot be decoded fails with one line naming the file (and line); so does a tracker that
   raises. The reason goes to the manifest's ``failures``, nothing of the sequence is written, the rest of the run
   goes on, and the summary and exit status count it.
6. A NaN, infinite or negative-size box from a tracker is stored as returned for that frame (each protocol has its
   rule for it) and counted in the manifest's ``invalid_boxes``; it does not cost the sequence.
7. A user error about the run itself (unknown tracker, bad option, missing or corrupt weights file) stops it with one
   line before any worker starts or any manifest is written.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from globaltrack import __version__
from globaltrack.errors import FrameError, UserError
from globaltrack.harness import manifest as mf
from globaltrack.harness.prefetch import FramePrefetcher
from globaltrack.harness.progress import RunProgress, plural
from globaltrack.harness.resume import content_key, discard, is_complete
from globaltrack.results.store import (MANIFEST, ResultStore, SequenceResult, check_run_folder, run_provenance,
                                       validate_run_name)
from globaltrack.sequence import Sequence
from globaltrack.trackers.base import Prediction, supports_batch

PREFETCH_DEPTH = 8


# ------------------------------------------------------------------------------------------------ data types
@dataclass(frozen=True)
class TrackerSpec:
    """What a worker needs to build a tracker: the registry name, its options (strings from the CLI) and the
    factory itself (pickled by reference, so a worker process imports the module that registers it)."""

    name: str                       # the run's name: its results folder (default: the tracker's name)
    options: dict[str, Any]
    factory: Callable[..., Any]
    diagnostic: bool = False
    tracker: str = ""               # the registry name, when the run is named otherwise

    @property
    def provenance(self) -> dict[str, Any]:
        """What a stored sequence was made under (`ResultStore.write`): `evaluate` refuses a folder that mixes them."""
        return run_provenance(self.tracker or self.name, self.options)

    @property
    def batch(self) -> int:
        try:
            return max(1, int(self.options.get("batch", 1)))
        except (TypeError, ValueError):
            raise UserError(f"tracker '{self.name}': option batch must be a whole number, "
                            f"got '{self.options.get('batch')}'") from None

    def preflight(self) -> None:
        """Checks that need no worker (option ``batch``, the tracker's own ``check_options``: a weights file that is
        missing or not a checkpoint), so that such a mistake costs the user no time and leaves no manifest."""
        self.batch  # noqa: B018 - validates the option
        from globaltrack.trackers import TRACKERS

        check = TRACKERS.get(self.tracker or self.name).extra.get("check_options")
        if check is not None:
            check(dict(self.options))

    def build(self):
        try:
            tracker = self.factory(**self.options)
        except UserError:
            raise
        except Exception as err:  # an unknown option (TypeError) or a bad value (ValueError) is the user's input
            opts = ", ".join(f"{k}={v}" for k, v in self.options.items()) or "no options"
            raise UserError(f"tracker '{self.name}' cannot be created with {opts}: {type(err).__name__}: {err}") \
                from err
        tracker.name = self.name
        return tracker


@dataclass
class SequenceOutcome:
    """A worker's answer for one (tracker, sequence): a result, a failure reason, or a user error."""

    tracker: str
    sequence: str
    frames: int
    result: SequenceResult | None = None
    failure: str | None = None
    user_error: tuple[str, str | None, int | None] | None = None
    remote_traceback: str | None = None
    invalid_boxes: list[int] = field(default_factory=list)  # frame indices of NaN/inf/negative-size boxes

    @property
    def fps(self) -> float | None:
        return None if self.result is None else sequence_fps(self.result.times)


def sequence_fps(times) -> float | None:
    """Frames per second of a tracker on one sequence, init excluded: frames 1..N-1 over the sum of their times."""
    if times is None or len(times) < 2:
        return None
    total = float(np.nansum(times[1:]))
    return (len(times) - 1) / total if total > 0 else None


@dataclass
class RunSummary:
    """What a run did. ``failures[tracker][sequence]`` is the reason; ``ok`` is False when any sequence failed."""

    benchmark: str
    results_root: Path
    trackers: list[str]
    done: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    fps: dict[str, float | None] = field(default_factory=dict)
    tracker_fps: dict[str, float | None] = field(default_factory=dict)
    invalid_boxes: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    wall_s: float = 0.0

    @property
    def n_failed(self) -> int:
        return sum(len(f) for f in self.failures.values())

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    @property
    def throughput_fps(self) -> float | None:
        """Frames tracked in this run (all trackers) per second of wall-clock time."""
        return self.frames / self.wall_s if self.frames and self.wall_s > 0 else None

    def lines(self) -> list[str]:
        out = []
        for t in self.trackers:
            fps = self.tracker_fps.get(t)
            out.append(f"{t}: {len(self.done.get(t, []))} run, {len(self.skipped.get(t, []))} reused, "
                       f"{len(self.failures.get(t, {}))} failed"
                       + (f", {fps:.1f} frames/s in the tracker" if fps else "")
                       + f" -> {self.results_root / self.benchmark / t}")
            for seq, reason in sorted(self.failures.get(t, {}).items()):
                out.append(f"  FAILED {t}/{seq}: {reason}")
            bad = self.invalid_boxes.get(t, 0)
            if bad:
                out.append(f"  {t} returned {plural(bad, 'NaN, infinite or negative-size box')} (kept as returned; "
                           f"counted per sequence in the manifest's invalid_boxes)")
        tp = self.throughput_fps
        out.append(f"{plural(self.frames, 'frame')} tracked in {self.wall_s:.1f} s"
                   + (f" ({tp:.1f} frames/s for the whole command)" if tp else "")
                   + (f"; {plural(self.n_failed, 'sequence')} failed" if self.n_failed else ""))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _RemoteTraceback(Exception):
    """Carries a worker's traceback text, shown as the cause of a re-raised error under ``--debug``."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return "\n\nworker traceback:\n" + self.tb


# ------------------------------------------------------------------------------------------------ worker side
def _as_prediction(out) -> Prediction:
    return out if isinstance(out, Prediction) else Prediction(out)


def track_sequence(spec: TrackerSpec, sequence: Sequence, prefetch: int = PREFETCH_DEPTH,
                   on_frames: Callable[[int], None] | None = None, runner_pid: int | None = None) -> SequenceOutcome:
    """Run one tracker over one sequence (in a worker). Never raises for tracker or user errors: it returns them,
    so they reach the user identically from processes, threads and Dask workers.

    ``on_frames(n)`` is told of every ``n`` frames tracked (progress; only for workers in this process).
    ``runner_pid``: the pid of the run's process when this worker is its child (loky); a worker whose run was
    killed stops at the next check instead of tracking on for nobody."""
    n = len(sequence)
    outcome = SequenceOutcome(spec.name, sequence.name, n)
    index = 0
    try:
        batch = spec.batch
        tracker = spec.build()
        use_batch = batch > 1 and supports_batch(tracker)
        boxes = np.empty((n, 4), dtype=np.float64)
        scores = np.empty(n, dtype=np.float64)
        present = np.empty(n, dtype=bool)
        times = np.empty(n, dtype=np.float64)
        init_box = sequence.init_box
        with FramePrefetcher(sequence.frames, depth=max(prefetch, 2 * batch)) as frames:
            it = iter(frames)
            first = next(it)
            try:
                if callable(getattr(tracker, "set_sequence", None)):
                    tracker.set_sequence(sequence)
                t0 = time.perf_counter()
                tracker.init(first, init_box.copy())
                times[0] = time.perf_counter() - t0
            except UserError:
                raise
            except Exception as err:
                raise _TrackerError(index, err) from err
            boxes[0], scores[0], present[0] = init_box, 1.0, True
            index = 1
            if on_frames is not None:
                on_frames(1)
            while index < n:
                size = min(batch, n - index) if use_batch else 1
                images = [next(it) for _ in range(size)]
                try:
                    t0 = time.perf_counter()
                    if use_batch:
                        preds = list(tracker.track_batch(images))
                    else:
                        preds = [tracker.update(images[0])]
                    dt = time.perf_counter() - t0
                    if len(preds) != size:
                        raise ValueError(f"track_batch returned {len(preds)} predictions for {size} frames")
                    preds = [_as_prediction(p) for p in preds]
                except UserError:
                    raise
                except Exception as err:
                    raise _TrackerError(index, err) from err
                for k, pred in enumerate(preds):
                    boxes[index + k] = pred.box
                    scores[index + k] = pred.score
                    present[index + k] = pred.present
                    times[index + k] = dt / size
                index += size
                if on_frames is not None:
                    on_frames(size)
                if runner_pid is not None and index % 16 < size and os.getppid() != runner_pid:
                    raise _Orphaned()
        outcome.result = SequenceResult(boxes, scores=scores, present=present, times=times)
        outcome.invalid_boxes = invalid_box_frames(boxes)
    except _TrackerError as err:
        outcome.failure = str(err)
        outcome.remote_traceback = traceback.format_exc()
    except FrameError as err:  # a missing or corrupt frame file costs this sequence only
        outcome.failure = str(err)
    except UserError as err:
        outcome.user_error = (err.message, err.path, err.line)
        outcome.remote_traceback = traceback.format_exc()
    except _Orphaned:
        outcome.failure = "the run was killed"  # nobody will receive this
    return outcome


def invalid_box_summary(frames: list[int]) -> dict[str, int]:
    """What the manifest keeps of a sequence's invalid boxes: how many, and the first frame index (a long sequence of
    NaN boxes must not make the manifest, rewritten after every sequence, huge)."""
    return {"count": len(frames), "first_frame": int(frames[0])}


def invalid_box_frames(boxes: np.ndarray) -> list[int]:
    """Frame indices whose box has a NaN or infinite value or a negative width or height."""
    bad = ~np.isfinite(boxes).all(axis=1) | (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    return [int(i) for i in np.flatnonzero(bad)]


class _Orphaned(Exception):
    pass


class _TrackerError(Exception):
    def __init__(self, index: int, err: BaseException):
        super().__init__(f"frame index {index}: {type(err).__name__}: {err}")


# ------------------------------------------------------------------------------------------------ run side
def resolve_trackers(trackers: Iterable[tuple[str, dict[str, Any]] | str]) -> list[TrackerSpec]:
    """Registry entries for ``[(name, options), ...]``; unknown or unavailable trackers are user errors."""
    from globaltrack.trackers import TRACKERS

    specs: list[TrackerSpec] = []
    for item in trackers:
        name, options = (item, {}) if isinstance(item, str) else (item[0], dict(item[1] or {}))
        entry = TRACKERS.get(name)
        run_name = validate_run_name(str(options.pop("name", entry.name)))   # -t NAME:name=RUN, --name RUN
        check = entry.extra.get("available")
        # Availability is about the default set-up (e.g. "default weights missing"); options may supply what is
        # missing (--opt weights=PATH), and then the factory itself says whether it can work.
        if check is not None and not options:
            ok, why = check()
            if not ok:
                raise UserError(f"tracker '{entry.name}' is not available here: {why}")
        if any(s.name == run_name for s in specs):
            raise UserError(f"run '{run_name}' is listed twice; its results folder would be shared "
                            f"(name each option set: -t {entry.name}:KEY=VALUE,name=RUN)")
        specs.append(TrackerSpec(run_name, {str(k): v for k, v in options.items()}, entry.factory,
                                 bool(entry.extra.get("diagnostic", False)), entry.name))
    if not specs:
        raise UserError("no tracker given (--tracker NAME)")
    return specs


def sequence_problem(seq: Sequence) -> str | None:
    """Why ``seq`` cannot be tracked (one line naming the file), or None. Checked before any worker starts: these
    are data faults and cost this sequence only. Frame files are not stat-ed here (685,360 of them for LaSOT): the
    adapters already name a gap when they read the sequence, and the worker's frame reader fails the sequence with
    a `FrameError` naming any file that is still missing or cannot be decoded."""
    if seq.load_error:
        return seq.load_error
    where = seq.metadata.get("annotation", seq.metadata.get("path"))
    if not seq.frames:
        return f"{seq.metadata.get('path', where) or seq.name}: no frame files (annotation only?); nothing to track"
    box = seq.ground_truth[0] if len(seq.ground_truth) else np.full(4, np.nan)
    if not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
        return f"{where}:1: first ground-truth box {box.tolist()} cannot initialise a tracker" if where else \
            f"first ground-truth box {box.tolist()} cannot initialise a tracker"
    return None


def _check_sequences(sequences: list[Sequence]) -> dict[str, str]:
    """``{name: reason}`` of the sequences that cannot be tracked; user errors for the selection as a whole."""
    if not sequences:
        raise UserError("no sequences to run (empty benchmark split or --sequences selection)")
    seen = set()
    for s in sequences:
        if s.name in seen:
            raise UserError(f"sequence name '{s.name}' appears twice")
        seen.add(s.name)
    if not any(s.frames for s in sequences) and not any(s.load_error for s in sequences):
        raise UserError(f"none of the {len(sequences)} sequences has frame files (an annotation-only dataset?); "
                        f"nothing to track", sequences[0].metadata.get("path"))
    problems = {}
    for s in sequences:
        why = sequence_problem(s)
        if why is not None:
            problems[s.name] = why
    return problems


class _TrackerRun:
    """The manifest of one tracker's results folder during a run (rewritten after every finished sequence)."""

    def __init__(self, store: ResultStore, benchmark: str, spec: TrackerSpec, sequences: list[Sequence],
                 pending: set[str], run_info: dict[str, Any]):
        self.store, self.benchmark, self.spec = store, benchmark, spec
        self.manifest = mf.new_manifest(spec.tracker or spec.name, spec.options, benchmark,
                                        diagnostic=spec.diagnostic, run=run_info)
        self.manifest["name"] = spec.name
        names = {s.name for s in sequences}
        old = store.read_manifest(benchmark, spec.name)
        self.had_manifest = bool(old)
        same = old.get("options") == self.manifest["options"] and old.get("package_version") == __version__
        per_seq: dict[str, float] = {}
        timing: dict[str, list[float]] = {}  # sequence -> [seconds inside the tracker, frames], finished ones only
        invalid: dict[str, dict[str, int]] = {}
        failures: dict[str, str] = {}
        if same:
            # Keep what earlier runs measured for results this run does not touch.
            old_speed = old.get("speed") or {}
            for seq, fps in old_speed.get("per_sequence", {}).items():
                if seq not in names and store.box_path(benchmark, spec.name, seq).is_file():
                    per_seq[seq] = fps
                    if seq in (old_speed.get("per_sequence_time") or {}):
                        timing[seq] = old_speed["per_sequence_time"][seq]
                    if seq in (old.get("invalid_boxes") or {}):
                        invalid[seq] = old["invalid_boxes"][seq]
            for seq, reason in (old.get("failures") or {}).items():
                if seq not in names and not store.box_path(benchmark, spec.name, seq).is_file():
                    failures[seq] = reason
            self.previous_throughput = old_speed.get("throughput_fps")
        else:
            self.previous_throughput = None
        # Reused results: their speed comes from their own sidecar (per-frame times), which is written with them;
        # the manifest of a killed run may not have caught up with the last sequence it finished.
        for seq in sorted(names - pending):
            try:
                result = store.read(benchmark, spec.name, seq)
            except (OSError, ValueError):
                per_seq[seq] = None
                continue
            per_seq[seq] = sequence_fps(result.times)
            if result.times is not None and np.all(np.isfinite(result.times)):
                timing[seq] = [float(np.sum(result.times)), int(len(result.times))]
            bad = invalid_box_frames(result.boxes)
            if bad:
                invalid[seq] = invalid_box_summary(bad)
        self.manifest["speed"]["per_sequence"] = per_seq
        self.manifest["speed"]["per_sequence_time"] = timing
        self.manifest["speed"]["hardware"] = mf.hardware_description(spec.options.get("device"))
        self.manifest["failures"] = failures
        self.manifest["invalid_boxes"] = invalid
        self.manifest["sequences"].update(total=len(sequences), skipped=len(sequences) - len(pending))
        self._update_speed()

    def _update_speed(self) -> None:
        speed = self.manifest["speed"]
        values = [v for v in speed["per_sequence"].values() if v]
        # GOT-10k's toolkit averages per-sequence speeds (ExperimentGOT10k.report); so do we.
        speed["fps"] = float(np.mean(values)) if values else None
        # The tracker's own speed over every finished sequence, whichever run (or resume) tracked it: time spent in
        # init/update/track_batch only, so it does not depend on what else the command ran alongside.
        seconds = sum(t[0] for t in speed["per_sequence_time"].values())
        frames = sum(int(t[1]) for t in speed["per_sequence_time"].values())
        speed["tracker_seconds"] = seconds
        speed["tracker_frames"] = frames
        speed["tracker_fps"] = frames / seconds if seconds > 0 else None
        self.manifest["sequences"]["invalid_boxes"] = sum(v["count"] for v in self.manifest["invalid_boxes"].values())

    def record(self, outcome: SequenceOutcome) -> None:
        m = self.manifest
        if outcome.result is not None:
            m["sequences"]["done"] += 1
            m["speed"]["per_sequence"][outcome.sequence] = outcome.fps
            times = outcome.result.times
            m["speed"]["per_sequence_time"][outcome.sequence] = [float(np.sum(times)), int(len(times))]
            m["failures"].pop(outcome.sequence, None)
            if outcome.invalid_boxes:
                m["invalid_boxes"][outcome.sequence] = invalid_box_summary(outcome.invalid_boxes)
            else:
                m["invalid_boxes"].pop(outcome.sequence, None)
        else:
            m["sequences"]["failed"] += 1
            m["failures"][outcome.sequence] = outcome.failure
            m["speed"]["per_sequence"].pop(outcome.sequence, None)
            m["speed"]["per_sequence_time"].pop(outcome.sequence, None)
            m["invalid_boxes"].pop(outcome.sequence, None)
            if outcome.remote_traceback:
                # where in the tracker it broke, for whoever debugs it (the last lines are the useful ones)
                m.setdefault("failure_tracebacks", {})[outcome.sequence] = outcome.remote_traceback[-4000:]
        self._update_speed()
        self.write()

    def finish(self, status: str, throughput: float | None) -> None:
        self.manifest["finished"] = mf.now_iso()
        self.manifest["status"] = status
        self.manifest["speed"]["throughput_fps"] = throughput if throughput is not None else self.previous_throughput
        self.write()

    def write(self) -> None:
        self.store.write_manifest(self.benchmark, self.spec.name, self.manifest)

    def forget(self) -> None:
        """Remove the manifest this run created (and the folders it made, when empty): a run stopped by a user error
        before it produced anything leaves no trace that could pass for a run."""
        if self.had_manifest:
            return
        folder = self.store.tracker_dir(self.benchmark, self.spec.name)
        try:
            (folder / MANIFEST).unlink()
            folder.rmdir()
            folder.parent.rmdir()
        except OSError:
            pass


def run_trackers(trackers: list[tuple[str, dict]], sequences, benchmark: str, store: ResultStore, jobs: int = 1,
                 backend: str = "loky", scheduler=None, force: bool = False, quiet: bool = False,
                 prefetch: int = PREFETCH_DEPTH, devices: list[str] | None = None) -> RunSummary:
    """Run ``trackers`` (``[(name, options), ...]``) over ``sequences`` of ``benchmark``; write to ``store``.

    ``jobs``: parallel workers (loky processes by default; ``backend="dask"`` with ``scheduler="tcp://HOST:PORT"``
    runs on a Dask cluster). ``force`` reruns sequences whose results are current. ``devices``: one worker per
    device, each job built with ``device=`` a free one (`globaltrack.harness.devices`; not for Dask). Returns a
    `RunSummary`; raises `UserError` for user mistakes (unknown tracker, unreadable frame, bad option).
    """
    from joblib import Parallel, delayed

    from globaltrack.harness.backends import check_backend, parallel_backend
    from globaltrack.harness.devices import placed

    if devices and backend == "dask":
        raise UserError("device lists are for workers on this machine; on Dask each worker uses its own GPU "
                        "(tracker option device=cuda)")
    if devices:
        jobs = len(devices)  # one worker per device

    check_backend(backend, jobs, scheduler)
    # loky retires a worker whose memory grew (a torch model loaded in it) after it returned its result, starts a
    # replacement and warns; no result is lost (a lost job would surface as an error), so the warning only alarms.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
    specs = resolve_trackers(trackers)
    for spec in specs:
        spec.preflight()  # before any manifest is written or worker started
    sequences = list(sequences)
    broken = _check_sequences(sequences)

    summary = RunSummary(benchmark, Path(store.root), [s.name for s in specs])
    jobs_todo: list[tuple[TrackerSpec, Sequence, str]] = []
    runs: dict[str, _TrackerRun] = {}
    run_info = {"jobs": jobs, "backend": backend, "scheduler": None if scheduler is None else str(scheduler),
                "force": bool(force), "sequences": len(sequences), "devices": list(devices or [])}
    for spec in specs:
        if not force:
            check_run_folder(store, benchmark, spec.name, spec.provenance)
    for spec in specs:
        summary.done[spec.name], summary.skipped[spec.name], summary.failures[spec.name] = [], [], {}
        pending = set()
        for seq in sequences:
            if seq.name in broken:
                pending.add(seq.name)
                continue
            key = content_key(spec.tracker or spec.name, spec.options, seq)
            if not force and is_complete(store, benchmark, spec.name, seq.name, key):
                summary.skipped[spec.name].append(seq.name)
            else:
                pending.add(seq.name)
                jobs_todo.append((spec, seq, key))
        runs[spec.name] = _TrackerRun(store, benchmark, spec, sequences, pending, run_info)
        # A sequence whose data is faulty is this tracker's failure like a crash; its files are left as they are
        # (the tracker never ran on it, so nothing of this run could have replaced them).
        for name, reason in broken.items():
            summary.failures[spec.name][name] = reason
            runs[spec.name].record(SequenceOutcome(spec.name, name, 0, failure=reason))
        runs[spec.name].write()

    # Longest first: with jobs sorted by decreasing frame count, the last jobs to start are the short ones.
    jobs_todo.sort(key=lambda j: (-len(j[1]), j[0].name, j[1].name))
    keys = {(spec.name, seq.name): key for spec, seq, key in jobs_todo}
    total = sum(len(seq) for _, seq, _ in jobs_todo)
    status = "aborted"
    start = time.perf_counter()
    produced = False  # whether this run finished (or failed) any sequence
    try:
        if jobs_todo:
            with parallel_backend(backend, jobs, scheduler) as cfg, \
                    RunProgress(total, f"{benchmark}", quiet=quiet) as progress, \
                    placed(track_sequence, devices, backend == "loky" and cfg["n_jobs"] != 1) as task:
                for run in runs.values():
                    run.manifest["run"]["backend_detail"] = cfg["describe"]
                parallel = Parallel(n_jobs=cfg["n_jobs"], return_as="generator_unordered", batch_size=1,
                                    pre_dispatch="2*n_jobs")
                # Workers in this process (one loky job runs sequentially here; threads) report every frame; worker
                # processes and Dask report when a sequence is done.
                in_process = backend == "threading" or (backend == "loky" and cfg["n_jobs"] == 1)
                counted: dict[tuple[str, str], int] = {}
                lock = threading.Lock()

                def frames_counter(job: tuple[str, str]):
                    def on_frames(n: int) -> None:
                        with lock:
                            counted[job] = counted.get(job, 0) + n
                            progress.advance(n)
                    return on_frames if in_process and progress.enabled else None

                runner_pid = os.getpid() if backend == "loky" and not in_process else None
                outcomes = parallel(
                    delayed(task)(spec, seq, prefetch, frames_counter((spec.name, seq.name)), runner_pid)
                    for spec, seq, _ in jobs_todo)
                try:
                    for outcome in outcomes:
                        _receive(outcome, store, benchmark, keys, runs, summary)
                        produced = True
                        with lock:
                            rest = outcome.frames - counted.pop((outcome.tracker, outcome.sequence), 0)
                        progress.advance(rest, failed=summary.n_failed, last=outcome.sequence)
                        if outcome.failure is not None and not quiet:
                            progress.write(f"FAILED {outcome.tracker}/{outcome.sequence}: {outcome.failure}")
                finally:
                    # Stopping early (user error, Ctrl-C) cancels the jobs in flight; joblib warns about that,
                    # which would only bury the one-line error the user needs.
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", message=".*still being processed by the workers")
                        outcomes.close()
        status = "complete" if summary.ok else "failed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        summary.wall_s = time.perf_counter() - start
        for name, run in runs.items():
            if status == "aborted" and not produced and not broken:
                run.forget()
                continue
            run.finish(status, summary.throughput_fps)
            summary.fps[name] = run.manifest["speed"]["fps"]
            summary.tracker_fps[name] = run.manifest["speed"]["tracker_fps"]
            summary.invalid_boxes[name] = run.manifest["sequences"]["invalid_boxes"]
    return summary


def _receive(outcome: SequenceOutcome, store: ResultStore, benchmark: str, keys: dict, runs: dict,
             summary: RunSummary) -> None:
    """Write one finished sequence (key last) and update the manifest; raise a worker's user error here."""
    if outcome.user_error is not None:
        message, path, line = outcome.user_error
        cause = _RemoteTraceback(outcome.remote_traceback) if outcome.remote_traceback else None
        raise UserError(message, path, line) from cause
    if outcome.result is not None:
        store.write(benchmark, outcome.tracker, outcome.sequence, outcome.result,
                    key=keys[(outcome.tracker, outcome.sequence)], provenance=runs[outcome.tracker].spec.provenance)
        summary.done[outcome.tracker].append(outcome.sequence)
        summary.frames += outcome.frames
    else:
        # A failed sequence leaves nothing that could be read as its result (not even a stale one).
        discard(store, benchmark, outcome.tracker, outcome.sequence)
        summary.failures[outcome.tracker][outcome.sequence] = outcome.failure
    runs[outcome.tracker].record(outcome)
