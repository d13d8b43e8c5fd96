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
   the init time.
4. This process receives each finished sequence, writes boxes, sidecar and key (atomically, key last) and rewrites
   the tracker's manifest. A run killed at any moment loses only the sequences in flight.
5. A tracker that raises, or returns a NaN / infinite / negative-size box, fails that sequence only: the reason
   (frame index and exception) goes to the manifest's ``failures``, nothing of the sequence is written, and the
   summary and exit status count it. A user error (unreadable frame, bad tracker option) stops the run with one line.
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
from globaltrack.errors import UserError
from globaltrack.harness import manifest as mf
from globaltrack.harness.prefetch import FramePrefetcher
from globaltrack.harness.progress import RunProgress
from globaltrack.harness.resume import content_key, discard, is_complete
from globaltrack.results.store import ResultStore, SequenceResult
from globaltrack.sequence import Sequence
from globaltrack.trackers.base import Prediction, supports_batch

PREFETCH_DEPTH = 8


# ------------------------------------------------------------------------------------------------ data types
@dataclass(frozen=True)
class TrackerSpec:
    """What a worker needs to build a tracker: the registry name, its options (strings from the CLI) and the
    factory itself (pickled by reference, so a worker process imports the module that registers it)."""

    name: str
    options: dict[str, Any]
    factory: Callable[..., Any]
    diagnostic: bool = False

    @property
    def batch(self) -> int:
        try:
            return max(1, int(self.options.get("batch", 1)))
        except (TypeError, ValueError):
            raise UserError(f"tracker '{self.name}': option batch must be a whole number, "
                            f"got '{self.options.get('batch')}'") from None

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
            fps = self.fps.get(t)
            out.append(f"{t}: {len(self.done.get(t, []))} run, {len(self.skipped.get(t, []))} reused, "
                       f"{len(self.failures.get(t, {}))} failed"
                       + (f", {fps:.1f} fps" if fps else "")
                       + f" -> {self.results_root / self.benchmark / t}")
            for seq, reason in sorted(self.failures.get(t, {}).items()):
                out.append(f"  FAILED {t}/{seq}: {reason}")
        tp = self.throughput_fps
        out.append(f"{self.frames} frames in {self.wall_s:.1f} s" + (f" ({tp:.1f} frames/s overall)" if tp else "")
                   + (f"; {self.n_failed} sequence(s) failed" if self.n_failed else ""))
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
def _check_box(pred: Prediction, index: int) -> None:
    box = pred.box
    if not np.all(np.isfinite(box)):
        raise _InvalidBox(f"frame index {index}: non-finite box {box.tolist()}")
    if box[2] < 0 or box[3] < 0:
        raise _InvalidBox(f"frame index {index}: negative width or height in box {box.tolist()}")


class _InvalidBox(Exception):
    pass


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
                    _check_box(pred, index + k)
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
    except _TrackerError as err:
        outcome.failure = str(err)
        outcome.remote_traceback = traceback.format_exc()
    except _InvalidBox as err:
        outcome.failure = str(err)
    except UserError as err:
        outcome.user_error = (err.message, err.path, err.line)
        outcome.remote_traceback = traceback.format_exc()
    except _Orphaned:
        outcome.failure = "the run was killed"  # nobody will receive this
    return outcome


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
        check = entry.extra.get("available")
        # Availability is about the default set-up (e.g. "default weights missing"); options may supply what is
        # missing (--opt weights=PATH), and then the factory itself says whether it can work.
        if check is not None and not options:
            ok, why = check()
            if not ok:
                raise UserError(f"tracker '{entry.name}' is not available here: {why}")
        if any(s.name == entry.name for s in specs):
            raise UserError(f"tracker '{entry.name}' is listed twice; its results folder would be shared "
                            f"(run each option set with its own --results)")
        specs.append(TrackerSpec(entry.name, {str(k): v for k, v in options.items()}, entry.factory,
                                 bool(entry.extra.get("diagnostic", False))))
    if not specs:
        raise UserError("no tracker given (--tracker NAME)")
    return specs


def _check_sequences(sequences: list[Sequence]) -> None:
    if not sequences:
        raise UserError("no sequences to run (empty benchmark split or --sequences selection)")
    seen = set()
    for s in sequences:
        if s.name in seen:
            raise UserError(f"sequence name '{s.name}' appears twice")
        seen.add(s.name)
        if not s.frames:
            raise UserError(f"sequence '{s.name}' has no frame files (annotation-only split?); nothing to track",
                            s.metadata.get("path"))
        box = s.ground_truth[0] if len(s.ground_truth) else np.full(4, np.nan)
        if not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise UserError(f"sequence '{s.name}': first ground-truth box {box.tolist()} cannot initialise a "
                            f"tracker", s.metadata.get("annotation", s.metadata.get("path")), 1)


class _TrackerRun:
    """The manifest of one tracker's results folder during a run (rewritten after every finished sequence)."""

    def __init__(self, store: ResultStore, benchmark: str, spec: TrackerSpec, sequences: list[Sequence],
                 pending: set[str], run_info: dict[str, Any]):
        self.store, self.benchmark, self.spec = store, benchmark, spec
        self.manifest = mf.new_manifest(spec.name, spec.options, benchmark, diagnostic=spec.diagnostic,
                                        run=run_info)
        names = {s.name for s in sequences}
        old = store.read_manifest(benchmark, spec.name)
        same = old.get("options") == self.manifest["options"] and old.get("package_version") == __version__
        per_seq: dict[str, float] = {}
        failures: dict[str, str] = {}
        if same:
            # Keep what earlier runs measured for results this run does not touch.
            for seq, fps in (old.get("speed") or {}).get("per_sequence", {}).items():
                if seq not in names and store.box_path(benchmark, spec.name, seq).is_file():
                    per_seq[seq] = fps
            for seq, reason in (old.get("failures") or {}).items():
                if seq not in names and not store.box_path(benchmark, spec.name, seq).is_file():
                    failures[seq] = reason
            self.previous_throughput = (old.get("speed") or {}).get("throughput_fps")
        else:
            self.previous_throughput = None
        # Reused results: their speed comes from their own sidecar (per-frame times), which is written with them;
        # the manifest of a killed run may not have caught up with the last sequence it finished.
        for seq in sorted(names - pending):
            try:
                per_seq[seq] = sequence_fps(store.read(benchmark, spec.name, seq).times)
            except (OSError, ValueError):
                per_seq[seq] = None
        self.manifest["speed"]["per_sequence"] = per_seq
        self.manifest["failures"] = failures
        self.manifest["sequences"].update(total=len(sequences), skipped=len(sequences) - len(pending))
        self._update_mean()

    def _update_mean(self) -> None:
        values = [v for v in self.manifest["speed"]["per_sequence"].values() if v]
        # GOT-10k's toolkit averages per-sequence speeds (ExperimentGOT10k.report); so do we.
        self.manifest["speed"]["fps"] = float(np.mean(values)) if values else None

    def record(self, outcome: SequenceOutcome) -> None:
        m = self.manifest
        if outcome.result is not None:
            m["sequences"]["done"] += 1
            m["speed"]["per_sequence"][outcome.sequence] = outcome.fps
            m["failures"].pop(outcome.sequence, None)
        else:
            m["sequences"]["failed"] += 1
            m["failures"][outcome.sequence] = outcome.failure
            m["speed"]["per_sequence"].pop(outcome.sequence, None)
            if outcome.remote_traceback:
                # where in the tracker it broke, for whoever debugs it (the last lines are the useful ones)
                m.setdefault("failure_tracebacks", {})[outcome.sequence] = outcome.remote_traceback[-4000:]
        self._update_mean()
        self.write()

    def finish(self, status: str, throughput: float | None) -> None:
        self.manifest["finished"] = mf.now_iso()
        self.manifest["status"] = status
        self.manifest["speed"]["throughput_fps"] = throughput if throughput is not None else self.previous_throughput
        self.write()

    def write(self) -> None:
        self.store.write_manifest(self.benchmark, self.spec.name, self.manifest)


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
    sequences = list(sequences)
    _check_sequences(sequences)

    summary = RunSummary(benchmark, Path(store.root), [s.name for s in specs])
    jobs_todo: list[tuple[TrackerSpec, Sequence, str]] = []
    runs: dict[str, _TrackerRun] = {}
    run_info = {"jobs": jobs, "backend": backend, "scheduler": None if scheduler is None else str(scheduler),
                "force": bool(force), "sequences": len(sequences), "devices": list(devices or [])}
    for spec in specs:
        summary.done[spec.name], summary.skipped[spec.name], summary.failures[spec.name] = [], [], {}
        pending = set()
        for seq in sequences:
            key = content_key(spec.name, spec.options, seq)
            if not force and is_complete(store, benchmark, spec.name, seq.name, key):
                summary.skipped[spec.name].append(seq.name)
            else:
                pending.add(seq.name)
                jobs_todo.append((spec, seq, key))
        runs[spec.name] = _TrackerRun(store, benchmark, spec, sequences, pending, run_info)
        runs[spec.name].write()
        spec.batch  # noqa: B018 - validate the option here, before any work is sent out

    # Longest first: with jobs sorted by decreasing frame count, the last jobs to start are the short ones.
    jobs_todo.sort(key=lambda j: (-len(j[1]), j[0].name, j[1].name))
    keys = {(spec.name, seq.name): key for spec, seq, key in jobs_todo}
    total = sum(len(seq) for _, seq, _ in jobs_todo)
    status = "aborted"
    start = time.perf_counter()
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
            run.finish(status, summary.throughput_fps)
            summary.fps[name] = run.manifest["speed"]["fps"]
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
                    key=keys[(outcome.tracker, outcome.sequence)])
        summary.done[outcome.tracker].append(outcome.sequence)
        summary.frames += outcome.frames
    else:
        # A failed sequence leaves nothing that could be read as its result (not even a stale one).
        discard(store, benchmark, outcome.tracker, outcome.sequence)
        summary.failures[outcome.tracker][outcome.sequence] = outcome.failure
    runs[outcome.tracker].record(outcome)
