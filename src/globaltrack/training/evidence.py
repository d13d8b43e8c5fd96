"""Evidence that the shipped tiny GlobalTrack behaves like the paper says, measured on the synthetic *test* split
(seed 0, test stream; training uses seed 1 and the train stream, so no test sequence is ever seen in training).

Three questions, each a table in the agreed report format
``{"tables": {TITLE: {ROW: {COL: number}}}, "notes": [str], "figures": {CAPTION: png_path}}``:

1. Proposal quality, the paper's Tables 1-2: AR@1 / AR@10 (mmdet ``eval_recalls``, IoU 0.5:0.95, via
   `globaltrack.metrics.recall.average_recall`) of QG-RPN vs the plain RPN, and of QG-RCNN vs QG-RPN, on every
   ``ar_stride``-th frame with the target present, using the tracker's ``candidates(image, k, source=...)``.
2. Cross-query vs single-query loss, the paper's Table 3: success AUC, precision and normalised precision under
   the ``lasot`` protocol (`globaltrack.scoring.evaluate.evaluate` on results written by the harness runner).
3. Long-term behaviour: success AUC on the sequences with absences or cuts for GlobalTrack vs KCF, CSRT and TLD,
   and a per-frame IoU plot of one such sequence.

Figure paths are stored relative to the JSON file; `load_evidence` makes them absolute for the HTML report.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from globaltrack._io import atomic_write_bytes, atomic_write_text
from globaltrack.trackers.globaltrack.checkpoint import safe_load
from globaltrack.training.train import WEIGHTS_DIR

EVIDENCE_PATH = WEIGHTS_DIR / "evidence.json"
MAIN_WEIGHTS = WEIGHTS_DIR / "globaltrack_tiny_synthetic.pth"
SINGLE_QUERY_WEIGHTS = WEIGHTS_DIR / "globaltrack_tiny_synthetic_single_query.pth"
PLAIN_RPN_WEIGHTS = WEIGHTS_DIR / "globaltrack_tiny_synthetic_plain_rpn.pth"
# the cross-query model trained with exactly the ablations' schedule (the shipped model may be trained longer);
# the ablation tables compare against it so that only the loss / the modulators differ
REFERENCE_WEIGHTS = WEIGHTS_DIR / "globaltrack_tiny_synthetic_ablation_reference.pth"
TEST_SPLIT = dict(seed=0, split="test", sequences=8, frames=300, size=(320, 240))


def load_evidence(path=EVIDENCE_PATH) -> dict[str, Any]:
    """The evidence dict with figure paths made absolute (they are stored relative to the JSON file)."""
    path = Path(path)
    ev = json.loads(path.read_text())
    ev["figures"] = {c: str((path.parent / p).resolve()) for c, p in ev.get("figures", {}).items()}
    return ev


def _float32_copy(path: Path, work: Path) -> Path:
    """Weights stored in fp16 (to keep the package small) as a float32 file the tracker loads as is."""
    import torch

    obj = safe_load(path)
    sd = obj.get("state_dict", obj)
    if not any(v.dtype == torch.float16 for v in sd.values()):
        return path
    obj["state_dict"] = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
    out = work / "fp32" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, str(out))
    return out


def _file_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]


def _describe(path: Path) -> str:
    """``name (N iterations)`` from the checkpoint's training metadata."""
    meta = safe_load(path).get("meta", {})
    it = meta.get("iteration") if isinstance(meta, dict) else None
    return f"{path.name} ({it} iterations)" if it is not None else path.name


def _iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row IoU of (N, 4) xywh boxes (continuous areas; 0 where either box is empty)."""
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def proposal_recall(sequences, variants: list[tuple[str, str, str]], ar_stride: int = 5, k: int = 10,
                    threads: int = 0) -> dict[str, dict[str, float]]:
    """AR@1 and AR@10 per variant ``(row name, weights path, source "rpn"|"rcnn")``."""
    from globaltrack.metrics.recall import average_recall
    from globaltrack.trackers import create_tracker

    table: dict[str, dict[str, float]] = {}
    for row, weights, source in variants:
        tracker = create_tracker("globaltrack", weights=str(weights))
        cands, gts = [], []
        for seq in sequences:
            tracker.init(seq.frame(0), seq.ground_truth[0])
            for t in range(ar_stride, len(seq), ar_stride):
                if seq.absent[t]:
                    continue
                boxes, scores = tracker.candidates(seq.frame(t), k, source=source)
                cands.append(np.concatenate([boxes, scores[:, None]], axis=1) if len(boxes) else np.zeros((0, 5)))
                gts.append(seq.ground_truth[t])
        ar = average_recall(cands, np.array(gts), ks=(1, 10))
        table[row] = {"AR@1": round(ar[1], 4), "AR@10": round(ar[10], 4), "frames": len(gts)}
    return table


def _run_and_score(trackers, sequences, store_root: Path, jobs: int = 1):
    from globaltrack.harness.runner import run_trackers
    from globaltrack.scoring.evaluate import evaluate
    from globaltrack.results.store import ResultStore

    store = ResultStore(store_root)
    run_trackers(trackers, sequences, "synthetic", store, jobs=jobs, quiet=True)
    return store, evaluate(sequences, store, "synthetic", trackers=[t for t, _ in trackers], protocol="lasot")


def _iou_plot(seq, boxes_by_tracker: dict[str, np.ndarray], png: Path) -> Path:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.2))
    t = np.arange(1, len(seq) + 1)
    for name, boxes in boxes_by_tracker.items():
        iou = _iou_xywh(np.asarray(boxes, float), seq.ground_truth)
        ax.plot(t, np.where(seq.absent, np.nan, iou), lw=1.2 if name.startswith("globaltrack") else 0.8,
                label=name)
    # shade absences, mark cuts
    absent = np.asarray(seq.absent, bool)
    edges = np.flatnonzero(np.diff(np.r_[0, absent.astype(int), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        ax.axvspan(a + 1, b, color="grey", alpha=0.25, lw=0)
    for c in seq.metadata.get("cuts", []):
        ax.axvline(c + 1, color="k", ls=":", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlim(1, len(seq))
    ax.set_xlabel("frame (grey: target absent, dotted: cut)")
    ax.set_ylabel("IoU with ground truth")
    ax.set_title(f"synthetic test sequence {seq.name}")
    ax.legend(fontsize=8, ncol=4, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(png, buf.getvalue())
    return png


def write_evidence(out_path=None, root=None, baselines=("kcf", "csrt", "tld"), work_dir="work_dirs/evidence",
                   weights=None, single_query_weights=None, plain_rpn_weights=None, reference_weights=None,
                   ar_stride: int = 5,
                   jobs: int = 1, quiet: bool = False) -> Path:
    """Compute every table and figure and write the evidence JSON (default: the shipped ``evidence.json``)."""
    from globaltrack.benchmarks import load_sequences
    from globaltrack.benchmarks.synthetic import generate
    from globaltrack.errors import UserError
    from globaltrack.trackers import create_tracker  # noqa: F401 - registers trackers

    out_path = Path(out_path or EVIDENCE_PATH)
    work = Path(work_dir)
    weights = Path(weights or MAIN_WEIGHTS)
    single = Path(single_query_weights or SINGLE_QUERY_WEIGHTS)
    plain = Path(plain_rpn_weights or PLAIN_RPN_WEIGHTS)
    reference = Path(reference_weights or REFERENCE_WEIGHTS)
    if not weights.is_file():
        raise UserError("GlobalTrack weights not found (train them with `globaltrack train`)", str(weights))
    if not reference.is_file():
        reference = weights
    weights, reference = _float32_copy(weights, work), _float32_copy(reference, work)
    single = _float32_copy(single, work) if single.is_file() else single
    plain = _float32_copy(plain, work) if plain.is_file() else plain
    root = Path(root) if root else generate(work / "synthetic-test", **TEST_SPLIT)
    seqs = load_sequences("synthetic", root, split="test")
    notes = [f"Synthetic test split: {len(seqs)} sequences x {len(seqs[0])} frames "
             f"({seqs[0].metadata['resolution'][0]}x{seqs[0].metadata['resolution'][1]}), seed "
             f"{seqs[0].metadata['seed']}, test stream; the models were trained on the train stream (seed 1) only.",
             f"Weights (training iterations of 2 pairs): {_describe(weights)} for the tracking comparison; "
             f"ablation tables: {_describe(reference)} (cross-query)"
             + (f", {_describe(single)}" if single.is_file() else "")
             + (f", {_describe(plain)}" if plain.is_file() else "") + "."]
    tables: dict[str, dict[str, dict[str, float]]] = {}
    figures: dict[str, str] = {}

    def log(msg):
        if not quiet:
            print(msg, flush=True)

    # 1. AR@k
    variants = [("QG-RPN", reference, "rpn"), ("QG-RCNN", reference, "rcnn")]
    if plain.is_file():
        variants.insert(0, ("RPN (plain, no modulator)", plain, "rpn"))
    else:
        notes.append("Plain-RPN weights missing: the QG-RPN vs RPN comparison was not computed.")
    log("AR@k ...")
    # cached by weights content, source, stride and dataset: reruns (new main weights) skip unchanged variants
    cache_path = work / "ar_cache.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    ar_table = {}
    for row, path, source in variants:
        key = f"{_file_hash(path)}:{source}:{ar_stride}:{Path(root).resolve()}:{len(seqs)}"
        if key not in cache:
            cache[key] = proposal_recall(seqs, [(row, path, source)], ar_stride)[row]
            atomic_write_text(cache_path, json.dumps(cache, indent=1))
        ar_table[row] = cache[key]
    tables[f"AR@k of proposals/detections, every {ar_stride}th frame with the target present "
           f"(paper Tables 1-2)"] = ar_table

    # 2 + 3. tracking runs. Each GlobalTrack variant gets a store named by its weights' content hash: the runner's
    # resume key sees the options (the weights *path*), not the file, so retrained weights at the same path would
    # otherwise be skipped as "already run".
    from globaltrack.scoring.evaluate import evaluate

    log("tracking runs ...")
    runs: dict[str, tuple[Any, str]] = {}  # row label -> (store, tracker name)

    def run(label: str, name: str, opts: dict, store_root: Path):
        store, _ = _run_and_score([(name, opts)], seqs, store_root)
        runs[label] = (store, name)

    run("globaltrack", "globaltrack", {"weights": str(weights)}, work / f"results-gt-{_file_hash(weights)}")
    for b in baselines:
        run(b, b, {}, work / "results-baselines")
    labels = list(runs)

    def score(label: str, subset) -> dict[str, float]:
        store, name = runs[label]
        return evaluate(subset, store, "synthetic", trackers=[name], protocol="lasot").trackers[name].scores

    loss_table = {}
    for label, path in (("cross-query loss", reference), ("single-query loss", single)):
        if not path.is_file():
            notes.append("Single-query weights missing: the loss ablation was not computed.")
            continue
        if path == weights:
            runs[label] = runs["globaltrack"]
        else:
            run(label, "globaltrack", {"weights": str(path)}, work / f"results-gt-{_file_hash(path)}")
        sc = score(label, seqs)
        loss_table[label] = {"success AUC": round(100 * sc["auc"], 2), "precision": round(100 * sc["precision"], 2),
                             "norm. precision": round(100 * sc["norm_precision"], 2)}
    tables["Cross-query vs single-query loss, lasot protocol, % (paper Table 3)"] = loss_table
    if len(loss_table) == 2:
        cq, sq = loss_table["cross-query loss"]["success AUC"], loss_table["single-query loss"]["success AUC"]
        if cq > sq and sq < 0.5 * cq:
            notes.append(
                f"Cross- vs single-query: the ordering of the paper's Table 3 holds ({cq} vs {sq} AUC) but the gap is "
                f"far larger than the paper's few points. Both models were trained from scratch for the same number "
                f"of iterations, and the single-query loss sees one query per pair instead of every instance (here "
                f"~4), i.e. ~1/4 of the query samples; the paper fine-tunes a COCO-pretrained detector, where that "
                f"matters far less. This measures the loss under a tiny budget, not at convergence.")
        elif cq <= sq:
            notes.append(f"Cross- vs single-query: the paper's ordering does NOT reproduce here ({cq} vs {sq} AUC).")

    hard = [s for s in seqs if s.attributes.get("absence") or s.attributes.get("cut")]
    easy = [s for s in seqs if s not in hard]
    lt: dict[str, dict[str, float]] = {}
    for label in labels:
        row = {}
        if hard:
            row[f"AUC absence/cut ({len(hard)} seq)"] = round(100 * score(label, hard)["auc"], 2)
        if easy:
            row[f"AUC others ({len(easy)} seq)"] = round(100 * score(label, easy)["auc"], 2)
        row["AUC all"] = round(100 * score(label, seqs)["auc"], 2)
        lt[label] = row
    tables["Long-term: success AUC (%) on sequences with absences or cuts, lasot protocol"] = lt
    if hard and "globaltrack" in lt and len(lt) > 1:
        key = f"AUC absence/cut ({len(hard)} seq)"
        best_local = max((v[key], k) for k, v in lt.items() if k != "globaltrack")
        if lt["globaltrack"][key] > best_local[0]:
            notes.append(f"Absences/cuts: GlobalTrack {lt['globaltrack'][key]} AUC vs the best local tracker "
                         f"({best_local[1]}) {best_local[0]}: searching the whole frame every frame recovers after "
                         f"the target returns.")
        else:
            notes.append(f"Absences/cuts: the paper's claim does NOT reproduce here: GlobalTrack "
                         f"{lt['globaltrack'][key]} AUC vs {best_local[1]} {best_local[0]}.")

    # per-frame IoU of the sequence with both an absence and a cut (else the longest absence)
    both = [s for s in hard if s.attributes.get("absence") and s.attributes.get("cut")] or hard
    if both:
        seq = max(both, key=lambda s: int(s.absent.sum()))
        boxes = {label: runs[label][0].read("synthetic", runs[label][1], seq.name).boxes for label in labels}
        png = out_path.parent / "evidence_iou_per_frame.png"
        _iou_plot(seq, boxes, png)
        figures[f"Per-frame IoU on synthetic test sequence {seq.name} (grey: target absent; dotted: cut)"] = png.name
    atomic_write_text(out_path, json.dumps({"tables": tables, "notes": notes, "figures": figures}, indent=1))
    return out_path


__all__ = ["write_evidence", "load_evidence", "proposal_recall", "EVIDENCE_PATH"]
