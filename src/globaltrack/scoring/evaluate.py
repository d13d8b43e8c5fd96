"""Score the result files of trackers on a benchmark under a protocol: ``evaluate(...) -> Evaluation``.

Per-sequence work is cached under ``<results>/.cache/`` keyed by content: the SHA-1 of each result file (and its
sidecar when the protocol reads it), the sequence's annotation key and the protocol's fingerprint. A file's SHA-1 is
recomputed only when its (size, mtime_ns) changes, as git's index does, so an unchanged folder costs one ``stat`` per
file.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from globaltrack._io import atomic_write_bytes
from globaltrack.errors import UserError
from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation
from globaltrack.scoring.families import family
from globaltrack.metrics.ope import RuleNote, SequenceScore, rule_note
from globaltrack.metrics.protocols import Protocol, get_protocol
from globaltrack.textio import parse_box_files
from globaltrack.results.manifest import RunManifest
from globaltrack.results.store import SIDECAR_SUFFIX, ResultStore
from globaltrack.sequence import Sequence

CACHE_DIR = ".cache"
CACHE_VERSION = 4          # 3: rule counts (RuleNote), typed run manifest; 4: RuleNote a dataclass, not a str
_METADATA_KEYS = ("init_omit", "cover", "image_size", "resolution", "label_frames", "video", "init_frame")


def default_protocol_name(benchmark: str, sequences: list[Sequence]) -> str:
    """The benchmark's official protocol: its adapter class attribute, else ``Sequence.metadata['protocol']``."""
    try:
        from globaltrack.benchmarks import BENCHMARKS

        cls = BENCHMARKS.get(benchmark).factory
        name = getattr(cls, "default_protocol", None)
        if name:
            return name
    except UserError:
        pass
    for s in sequences:
        if s.metadata.get("protocol"):
            return s.metadata["protocol"]
    raise UserError(f"no default protocol known for benchmark '{benchmark}'; pass --protocol")


def canonical_benchmark(benchmark: str) -> str:
    """The registered name of a benchmark given by alias (``otb100`` -> ``otb2015``); unknown names unchanged."""
    try:
        from globaltrack.benchmarks import BENCHMARKS

        return BENCHMARKS.get(benchmark).name
    except UserError:
        return benchmark


def resolve_protocol(protocol, benchmark: str, sequences: list[Sequence]) -> Protocol:
    if protocol is None:
        protocol = default_protocol_name(benchmark, sequences)
    proto = get_protocol(protocol)
    # variants are keyed by the toolkit's dataset names; try the name as given, then the registered one
    variant = proto.for_benchmark(benchmark)
    return variant if variant is not proto else proto.for_benchmark(canonical_benchmark(benchmark))


def _sequence_key(seq: Sequence) -> str:
    h = hashlib.sha1(seq.annotation_key().encode())
    for k in _METADATA_KEYS:
        if k in seq.metadata:
            v = seq.metadata[k]
            h.update(k.encode())
            h.update(np.asarray(v).tobytes() if isinstance(v, np.ndarray) else repr(v).encode())
    return h.hexdigest()


class _Cache:
    """Per (benchmark, tracker, protocol): ``*.files.pkl`` maps result paths to (size, mtime_ns, sha1); ``*.pkl``
    maps sequence names to (content key, SequenceScore) and is loaded only when something must be recomputed."""

    def __init__(self, store: ResultStore, benchmark: str, tracker: str, protocol: Protocol):
        base = store.root / CACHE_DIR / benchmark / tracker / f"{protocol.name}-{protocol.fingerprint()}"
        self.path = Path(str(base) + ".pkl")
        self.files_path = Path(str(base) + ".files.pkl")
        self.summary_path = Path(str(base) + ".summary.pkl")
        self.files: dict[str, tuple[int, int, str]] = self._load(self.files_path) or {}
        self._scores: dict[str, tuple[str, SequenceScore]] | None = None
        self.files_dirty = self.scores_dirty = False

    @staticmethod
    def _load(path: Path):
        try:
            with open(path, "rb") as f:
                version, payload = pickle.load(f)
            return payload if version == CACHE_VERSION else None
        except Exception:  # noqa: BLE001 - a missing or unreadable cache is just empty
            return None

    @property
    def scores(self) -> dict[str, tuple[str, SequenceScore]]:
        if self._scores is None:
            self._scores = self._load(self.path) or {}
        return self._scores

    def unchanged(self, path: str) -> bool:
        """Whether the file's digest is known without reading it (absent files count as known)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return True
        cached = self.files.get(path)
        return bool(cached) and cached[0] == st.st_size and cached[1] == st.st_mtime_ns

    def file_digest(self, path: str) -> tuple[str, bytes | None]:
        """SHA-1 of a file's bytes; the bytes too when they had to be read."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return "", None
        cached = self.files.get(path)
        if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
            return cached[2], None
        with open(path, "rb") as f:
            data = f.read()
        digest = hashlib.sha1(data).hexdigest()
        self.files[path] = (st.st_size, st.st_mtime_ns, digest)
        self.files_dirty = True
        return digest, data

    def save(self) -> None:
        try:
            if self.scores_dirty and self._scores is not None:
                atomic_write_bytes(self.path, pickle.dumps((CACHE_VERSION, self._scores),
                                                           protocol=pickle.HIGHEST_PROTOCOL), durable=False)
            if self.files_dirty:
                atomic_write_bytes(self.files_path, pickle.dumps((CACHE_VERSION, self.files),
                                                                 protocol=pickle.HIGHEST_PROTOCOL), durable=False)
        except OSError:
            pass  # a read-only results folder still evaluates, just uncached


def _read_sidecar(path: Path, data: bytes | None):
    if data is None:
        data = path.read_bytes()
    import pandas as pd
    import io

    df = pd.read_csv(io.BytesIO(data))
    return (df["score"].to_numpy(np.float64), df["present"].to_numpy().astype(bool),
            df["time"].to_numpy(np.float64))


def score_one(protocol: Protocol, seq: Sequence, boxes: np.ndarray, sidecar, path) -> SequenceScore:
    """Score one sequence's boxes (+ sidecar arrays) under the protocol's metric family (pure)."""
    return family(protocol).score(protocol, seq, boxes, sidecar, path)


def _missing_score(protocol: Protocol, seq: Sequence) -> SequenceScore:
    """``--allow-missing``: an all-zero prediction (TrackingNet's rule) or the sequence excluded (pytracking)."""
    if protocol.missing == "exclude":
        return SequenceScore(seq.name, excluded=True,
                             notes=[rule_note("missing_sequences_excluded", 1, "missing: excluded for every tracker")])
    n = len(seq.ground_truth)
    s = score_one(protocol, seq, np.zeros((n, 4)), (np.zeros(n), np.zeros(n, bool), np.full(n, np.nan)), "<missing>")
    s.notes.insert(0, rule_note("missing_sequences_zeros", 1, "missing: scored as an all-zero prediction"))
    return s


def _score_changed(protocol: Protocol, todo) -> list[SequenceScore]:
    """Parse and score the sequences whose content key is not in the cache."""
    parsed = parse_box_files([(t[1], t[2]) for t in todo])
    sidecars = [_read_sidecar(Path(t[3]), t[4]) if t[3] else None for t in todo]
    return family(protocol).score_many(protocol, [(t[0], boxes, sc, t[1])
                                                  for t, boxes, sc in zip(todo, parsed, sidecars)])


@dataclass
class _TrackerPlan:
    """What scoring one tracker needs once its files are keyed: content keys per sequence, the files to (re)read,
    the missing sequences, its run manifest and the key of its whole summary."""
    tracker: str
    cache: _Cache
    keys: dict[str, str]
    read: dict[str, tuple]          # name -> (result path, bytes or None, sidecar path or "", bytes or None)
    missing: list[str]
    run: Any
    notes: list[str]
    imported: bool
    summary_key: str


def _plan_tracker(store: ResultStore, benchmark: str, tracker: str, seqs: list[Sequence], proto: Protocol,
                  allow_missing: bool, seq_keys: dict[str, str], excluded: set[str], notes_global: list[str],
                  attr_key: str, mixed: bool = False, quick: bool = False
                  ) -> tuple[_TrackerPlan | None, TrackerEvaluation | None]:
    """Content keys from file stats (reading only changed files); the cached summary too when every key matches.
    ``quick``: give up, returning (None, None), at the first file that would have to be read."""
    tdir = str(store.tracker_dir(benchmark, tracker))
    if not os.path.isdir(tdir) and not allow_missing:
        raise UserError(f"no results for tracker '{tracker}'", tdir)
    cache = _Cache(store, benchmark, tracker, proto)
    fp = proto.fingerprint()
    side = family(proto).reads_sidecar(proto)
    keys: dict[str, str] = {}
    read: dict[str, tuple] = {}
    missing: list[str] = []
    for seq in seqs:
        path = os.path.join(tdir, seq.name + ".txt")
        if quick and not (cache.unchanged(path) and (not side or cache.unchanged(path[:-4] + SIDECAR_SUFFIX))):
            return None, None
        digest, data = cache.file_digest(path)
        if not digest:
            if not allow_missing:
                raise UserError(f"missing result file for sequence '{seq.name}' of tracker '{tracker}' "
                                "(use --allow-missing to score it as the toolkit does)", path)
            missing.append(seq.name)
            keys[seq.name] = "missing:" + seq_keys[seq.name]     # still depends on the ground truth
            continue
        side_path, side_digest, side_data = "", "", None
        if side:
            side_path = os.path.join(tdir, seq.name + SIDECAR_SUFFIX)
            side_digest, side_data = cache.file_digest(side_path)
            side_path = side_path if side_digest else ""
        keys[seq.name] = hashlib.sha1((fp + seq_keys[seq.name] + digest + side_digest).encode()).hexdigest()
        read[seq.name] = (path, data, side_path, side_data)
    manifest = store.read_manifest(benchmark, tracker)
    imported = os.path.isfile(os.path.join(tdir, "imported.json"))
    scored = [s.name for s in seqs if s.name in read]
    # The provenance lines of the .key files decide whether the folder mixes settings (`check_one_run`); their
    # stats key the summary, so they are parsed only when something changed. ``mixed`` keys it too: a summary
    # cached under --mixed must not answer a call without it.
    provenance = _key_file_stats(store, benchmark, tracker, scored) if manifest else []
    tkey = hashlib.sha1(repr((CACHE_VERSION, attr_key, sorted(excluded), notes_global, allow_missing, mixed,
                              [(s.name, keys[s.name]) for s in seqs], sorted(manifest.items(), key=str), provenance,
                              imported, _candidate_stats(store, benchmark, tracker, seqs))).encode()).hexdigest()
    hit = _load_summary(cache.summary_path, tkey)
    mix_note = check_one_run(store, benchmark, tracker, scored, manifest, mixed) if hit is None else ""
    notes = notes_global + [mix_note] if mix_note else list(notes_global)
    run = RunManifest.from_json(manifest, tracker) if manifest else None
    plan = _TrackerPlan(tracker, cache, keys, read, missing, run, notes, imported, tkey)
    return plan, hit


def _score_tracker(plan: _TrackerPlan, store: ResultStore, benchmark: str, seqs: list[Sequence], proto: Protocol,
                   excluded: set[str]) -> TrackerEvaluation:
    """The sequences whose content key is not cached re-scored, then the tracker's summary rebuilt and cached."""
    cache = plan.cache
    results: dict[str, SequenceScore] = {}
    todo = []
    for seq in seqs:
        if seq.name in plan.missing:
            results[seq.name] = _missing_score(proto, seq)
            continue
        hit = cache.scores.get(seq.name)
        if hit and hit[0] == plan.keys[seq.name]:
            results[seq.name] = hit[1]
            continue
        path, data, side_path, side_data = plan.read[seq.name]
        if data is None:
            with open(path, "rb") as f:
                data = f.read()
        todo.append((seq, path, data, side_path, side_data))
    for t, s in zip(todo, _score_changed(proto, todo)):
        results[t[0].name] = s
        cache.scores[t[0].name] = (plan.keys[t[0].name], s)
        cache.scores_dirty = True
    cache.save()

    te = TrackerEvaluation(tracker=plan.tracker, missing=plan.missing)
    te.notes.extend(plan.notes)
    ordered = [results[s.name] for s in seqs if s.name not in excluded]
    if excluded:
        te.notes.append(f"{len(excluded)} sequences excluded for every tracker (missing somewhere)")
    fam = family(proto)
    te.scores, te.curves, notes = fam.combine(proto, ordered)
    te.notes.extend(notes)
    te.per_sequence = fam.per_sequence(proto, ordered)
    for s in ordered:
        te.notes.extend(f"{s.name}: {n}" for n in s.notes)
        counted = {}
        for n in s.notes:
            if isinstance(n, RuleNote):
                counted[n.rule] = counted.get(n.rule, 0) + n.count
                te.rules[n.rule] = te.rules.get(n.rule, 0) + n.count
        if counted:
            te.sequence_rules[s.name] = counted
    te.per_attribute = _per_attribute(proto, seqs, results, excluded)
    if plan.run is not None:
        te.failed = sorted(plan.run.failures)
        te.diagnostic = plan.run.diagnostic
        te.run = plan.run.to_json()
    te.imported = plan.imported
    te.scores.update(_candidate_recall(store, benchmark, plan.tracker, [s for s in seqs if s.name not in excluded]))
    try:
        atomic_write_bytes(cache.summary_path, pickle.dumps((plan.summary_key, te), protocol=pickle.HIGHEST_PROTOCOL),
                           durable=False)
    except OSError:
        pass
    return te


def _evaluate_trackers(trackers: list[str], state: dict) -> list[tuple[str, TrackerEvaluation]]:
    """Key, then score (unless cached), each tracker. One joblib task holds several trackers, so the sequences
    (22 MB pickled for LaSOT) travel once per worker rather than once per tracker."""
    out = []
    for t in trackers:
        plan, hit = _plan_tracker(tracker=t, **state)
        if hit is not None:
            plan.cache.save()
        out.append((t, hit if hit is not None else _score_tracker(
            plan, state["store"], state["benchmark"], state["seqs"], state["proto"], state["excluded"])))
    return out


def evaluate(sequences: Iterable[Sequence], store: ResultStore | str | Path, benchmark: str,
             trackers: Iterable[str] | None = None, protocol=None, allow_missing: bool = False,
             jobs: int = 1, mixed: bool = False) -> Evaluation:
    """Score ``trackers`` (default: every tracker folder of the benchmark) on ``sequences``.

    ``protocol``: None (the benchmark's default), a name, or a `Protocol`. Missing result files raise a UserError
    naming the file unless ``allow_missing``; the protocol's ``missing`` rule then applies and the sequence is listed
    in ``missing``. ``jobs > 1`` (-1: every core) scores trackers in joblib workers. A run folder whose sequences
    were made under different trackers, options or package versions is refused (UserError) unless ``mixed``.
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    seqs = list(sequences)
    notes_global: list[str] = []
    seen: dict[str, int] = {}
    unique: list[Sequence] = []
    for s in seqs:
        seen[s.name] = seen.get(s.name, 0) + 1
        if seen[s.name] == 1:
            unique.append(s)
    for name, k in seen.items():
        if k > 1:
            notes_global.append(f"duplicate sequence name '{name}' ({k} copies): scored once")
    seqs = unique
    proto = resolve_protocol(protocol, benchmark, seqs)
    names = list(dict.fromkeys(trackers)) if trackers else store.trackers(benchmark)
    if not names:
        raise UserError(f"no tracker results for benchmark '{benchmark}'", store.root / benchmark)
    seq_keys = {s.name: _sequence_key(s) for s in seqs}
    # pytracking's skip_missing_seq: a sequence missing for one tracker is excluded for all.
    excluded: set[str] = set()
    if allow_missing and proto.missing == "exclude":
        excluded = {s.name for t in names for s in seqs if not store.box_path(benchmark, t, s.name).is_file()}
    attr_key = hashlib.sha1(repr([(s.name, sorted((k, str(v)) for k, v in s.attributes.items()))
                                  for s in seqs]).encode()).hexdigest()
    state = dict(store=store, benchmark=benchmark, seqs=seqs, proto=proto, allow_missing=allow_missing, mixed=mixed,
                 seq_keys=seq_keys, excluded=excluded, notes_global=notes_global, attr_key=attr_key)
    if jobs == 1 or len(names) == 1:
        per_tracker = dict(_evaluate_trackers(names, state))
    else:
        per_tracker = dict(_evaluate_in_parallel(names, state, jobs))
    ev = Evaluation(benchmark=benchmark, protocol=proto.name, sequences=[s.name for s in seqs],
                    protocol_fields=proto.to_json(), versions=versions())
    ev.trackers = {t: per_tracker[t] for t in names}
    return ev


def _evaluate_in_parallel(names: list[str], state: dict, jobs: int) -> list[tuple[str, TrackerEvaluation]]:
    """Cached summaries whose files are unchanged are taken here (an unchanged folder starts no worker); the other
    trackers are dealt round-robin to ``jobs`` joblib tasks, which read, key, score and cache them.

    joblib's ``multiprocessing`` backend where processes fork: its workers start as copies of this process, with
    numpy, pandas, this package and the call's sequences already loaded. Measured on bench/metrics.py (10 trackers
    x 280 LaSOT sequences, 2 busy cores): fresh loky workers cost ~1.2 s more per cold evaluation, in a job that
    takes ~1.7 s on idle cores. Elsewhere (spawn-only platforms) joblib's default backend, with the state pickled.
    """
    import multiprocessing as mp

    from joblib import Parallel, delayed, effective_n_jobs

    done, todo = [], []
    for t in names:
        plan, hit = _plan_tracker(tracker=t, quick=True, **state)
        if hit is not None:
            plan.cache.save()
            done.append((t, hit))
        else:
            todo.append(t)
    if len(todo) <= 1:
        return done + _evaluate_trackers(todo, state)
    n = max(1, min(effective_n_jobs(jobs), len(todo)))
    chunks = [todo[i::n] for i in range(n)]
    if mp.get_start_method(allow_none=True) in (None, "fork") and "fork" in mp.get_all_start_methods():
        token = id(state)
        _INHERITED[token] = state
        try:
            parts = Parallel(n_jobs=n, backend="multiprocessing")(
                delayed(_evaluate_inherited)(c, token) for c in chunks)
        finally:
            _INHERITED.pop(token, None)
    else:
        parts = Parallel(n_jobs=n)(delayed(_evaluate_trackers)(c, state) for c in chunks)
    return done + [pair for part in parts for pair in part]


# The state of an `_evaluate_in_parallel` call, handed to its forked workers by inheritance rather than by pickle:
# LaSOT's ground truth alone is 22 MB, and sending it to two workers took 0.54 s of a 3.8 s cold evaluation.
_INHERITED: dict[int, dict] = {}


def _evaluate_inherited(trackers: list[str], token: int) -> list[tuple[str, TrackerEvaluation]]:
    return _evaluate_trackers(trackers, _INHERITED[token])


def versions() -> dict[str, str]:
    """The versions a score depends on: this package and the numeric libraries."""
    import platform
    from importlib import metadata

    from globaltrack import __version__

    out = {"globaltrack": __version__, "python": platform.python_version()}
    for dist in ("numpy", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def check_one_run(store: ResultStore, benchmark: str, tracker: str, names: list[str], manifest: dict,
                  mixed: bool) -> str:
    """Refuse (UserError) a folder of ``globaltrack run`` whose scored sequences were made under different settings
    (a ``--sequences`` rerun with other options, a resume after an upgrade); with ``mixed`` return a note instead.
    Folders without a manifest (imported results) and sequences written before provenance was recorded pass."""
    if not manifest:
        return ""
    from globaltrack.results.store import describe_provenance

    groups: dict[str, list[str]] = {}
    records: dict[str, dict] = {}
    for name in names:
        p = store.read_provenance(benchmark, tracker, name)
        if p is None:
            continue
        k = json.dumps(p, sort_keys=True)
        groups.setdefault(k, []).append(name)
        records[k] = p
    if len(groups) <= 1:
        return ""
    parts = [f"{len(v)} by {describe_provenance(records[k])} (e.g. {v[0]})"
             for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    what = f"run '{tracker}' mixes sequences made under different settings: " + "; ".join(parts)
    if not mixed:
        raise UserError(what + ". Rerun them with one setting, or pass --mixed to score the folder as it is",
                        store.tracker_dir(benchmark, tracker))
    return what + " (scored as is: --mixed)"


CANDIDATES_SUFFIX = ".candidates.npz"


def _file_stats(named_paths) -> list:
    """(name, size, mtime_ns) of each file that exists: cheap keys for files whose content is read only on a miss."""
    out = []
    for name, path in named_paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        out.append((name, st.st_size, st.st_mtime_ns))
    return out


def _key_file_stats(store: ResultStore, benchmark: str, tracker: str, names: list[str]) -> list:
    return _file_stats((n, store.key_path(benchmark, tracker, n)) for n in names)


def _candidate_stats(store: ResultStore, benchmark: str, tracker: str, seqs: list[Sequence]) -> list:
    """(name, size, mtime_ns) of the candidate files, so the tracker-level summary is recomputed when one changes."""
    folder = store.tracker_dir(benchmark, tracker)
    # no candidates for the first sequence: AR@k is not computed at all (checked first: most runs have none, and
    # this runs for every tracker of every unchanged evaluation)
    if not seqs or not os.path.isfile(folder / f"{seqs[0].name}{CANDIDATES_SUFFIX}"):
        return []
    return _file_stats((s.name, folder / f"{s.name}{CANDIDATES_SUFFIX}") for s in seqs)


def _candidate_recall(store: ResultStore, benchmark: str, tracker: str, seqs: list[Sequence]) -> dict:
    """AR@k (IoU 0.50:0.95) and recall@k (IoU 0.5) over all frames when every sequence has a candidates file
    ``<seq>.candidates.npz`` (arrays ``boxes`` (M, 5) x, y, w, h, score concatenated over frames and ``counts``
    (N,) candidates per frame), as a tracker exposing ``candidates(image, k)`` can write."""
    from globaltrack.metrics.recall import DEFAULT_KS, ar_scores

    paths = [store.tracker_dir(benchmark, tracker) / f"{s.name}{CANDIDATES_SUFFIX}" for s in seqs]
    if not seqs or not all(p.is_file() for p in paths):
        return {}
    per_frame, gts = [], []
    for s, p in zip(seqs, paths):
        with np.load(p) as z:
            boxes, counts = z["boxes"], z["counts"].astype(int)
        per_frame += np.split(boxes, np.cumsum(counts)[:-1])[: len(s.ground_truth)]
        gt = np.where(s.absent[:, None], np.nan, s.ground_truth)[: len(counts)]
        gts.append(gt)
    return ar_scores(per_frame, np.concatenate(gts), DEFAULT_KS)


def _load_summary(path: Path, key: str):
    try:
        with open(path, "rb") as f:
            k, te = pickle.load(f)
        return te if k == key else None
    except Exception:  # noqa: BLE001 - absent or stale
        return None


def _per_attribute(protocol: Protocol, seqs: list[Sequence], results: dict[str, SequenceScore],
                   excluded: set[str]) -> dict[str, dict[str, float]]:
    """Scores over the sequences that carry each attribute (per-sequence flags; per-frame arrays count when any
    frame is flagged)."""
    attrs: dict[str, list[SequenceScore]] = {}
    for s in seqs:
        if s.name in excluded:
            continue
        for a, v in s.attributes.items():
            if isinstance(v, (bool, np.bool_, int, float)):
                flag = bool(v)
            else:
                try:
                    flag = bool(np.any(np.asarray(v, dtype=float) > 0))
                except (TypeError, ValueError):
                    flag = bool(v)
            if flag:
                attrs.setdefault(a, []).append(results[s.name])
    out = {}
    for a, lst in sorted(attrs.items()):
        sc, _, _ = family(protocol).combine(protocol, lst)
        sc["sequences"] = float(len(lst))
        out[a] = sc
    return out


def write_json(evaluation: Evaluation, path: str | Path) -> None:
    from globaltrack._io import atomic_write_text

    atomic_write_text(path, json.dumps(evaluation.to_json(), indent=2, sort_keys=True))
