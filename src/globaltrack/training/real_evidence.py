"""Evidence on real data for a trained lite0_fpn model: AR@1/AR@10 of QG-RPN and QG-RCNN on coco128 val2017
(query = one instance, search = the same photograph augmented; paper Tables 1-2) and the presence threshold chosen
there (``presence.py``); optionally stores the threshold (and the test-time options it was measured with) in the
weights file's config.

    python -m globaltrack.training.real_evidence WEIGHTS [--out evidence.json] [--store-threshold]
    python -m globaltrack.training.real_evidence WEIGHTS --opt proposals=150 --opt scale=576x360   # test-time options
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

VAL = ("coco128", "val2017")


def compute(weights, data_root="../shared/data/train", max_queries: int = 3, threads: int = 1,
            options: dict | None = None) -> dict:
    """``options``: the tracker's test-time options (``proposals``, ``scale``), as ``--opt`` gives them."""
    import torch

    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker
    from globaltrack.training.image_recall import image_recall

    torch.set_num_threads(threads)
    items, pairs = _val_pairs(data_root, max_queries)
    tracker = GlobalTrackTracker(weights=str(weights), **(options or {}))
    out = {"data": f"{VAL[0]} {VAL[1]}: {len(items)} photographs, {len(pairs)} queries (<= {max_queries} per "
                   "image), search = the same photograph in a random window (0.7-1.3x) and flipped with p=0.5",
           "weights": Path(weights).name, "options": dict(options or {}),
           # the config fields the tracker ran with (what --store-options writes into the weights)
           "test_settings": {"test_proposals": asdict(tracker.config.test_proposals),
                             "test_image_scale": (None if tracker.config.test_image_scale is None
                                                  else list(tracker.config.test_image_scale)),
                             "test_query_flip": bool(tracker.config.test_query_flip),
                             "test_query_zooms": list(tracker.config.test_query_zooms),
                             "test_refine_passes": int(tracker.config.test_refine_passes),
                             "test_refine_top": int(tracker.config.test_refine_top),
                             "test_distractor_weight": float(tracker.config.test_distractor_weight),
                             "test_target_fit": float(tracker.config.test_target_fit)},
           "QG-RPN": image_recall(tracker, pairs, "rpn"), "QG-RCNN": image_recall(tracker, pairs, "rcnn")}
    out["presence"] = _presence(tracker, pairs)
    return out


def _val_pairs(data_root, max_queries: int):
    from globaltrack.training.detection_sets import load_yolo
    from globaltrack.training.image_recall import recall_pairs

    items = load_yolo(Path(data_root) / VAL[0], VAL[1])
    return items, recall_pairs(items, max_queries=max_queries)


def _presence(tracker, pairs) -> dict:
    from globaltrack.training.presence import choose_threshold, presence_scores

    present, absent = presence_scores(tracker, pairs)
    t, acc = choose_threshold(present, absent)
    return {"threshold": round(t, 4), "balanced_accuracy": round(acc, 4),
            "median_score_present": round(float(sorted(present)[len(present) // 2]), 4),
            "median_score_absent": round(float(sorted(absent)[len(absent) // 2]), 4),
            "how": "top-1 QG-RCNN score with the query's photograph as search (present) and with "
                   "another photograph of the set (absent); threshold maximising balanced accuracy"}


def store_presence_threshold(weights, data_root="../shared/data/train", max_queries: int = 3,
                             threads: int = 1) -> dict:
    """Choose the presence threshold of a weights file on coco128 val2017 with its stored test settings (as
    ``--store-threshold`` does, without the AR tables) and store it; the presence dict. What the export of a
    training config with ``presence_on_export`` runs, so that one command writes the whole shipped file."""
    import torch

    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker

    torch.set_num_threads(threads)
    _, pairs = _val_pairs(data_root, max_queries)
    presence = _presence(GlobalTrackTracker(weights=str(weights)), pairs)
    store_config(weights, presence_threshold=float(presence["threshold"]))
    return presence


def report_tables(real: dict) -> dict:
    """The real-data evidence file (``evidence_lite0_real.json``) as the report's evidence section: tables of
    {row: {column: value}} and notes. Parts that were not measured are left out, with a note saying so."""
    tables: dict[str, dict] = {}
    notes = [f"Model: {real.get('model', '?')}."]
    ar = real.get("ar_coco128_val2017") or {}
    rows = {label: dict(ar[key]) for key, label in
            (("plain RPN", "RPN (plain, no modulator)"), ("QG-RPN", "QG-RPN"), ("QG-RCNN", "QG-RCNN"))
            if isinstance(ar.get(key), dict)}
    # Rows of models trained for another budget (an ablation beside its same-budget reference) come after.
    rows.update({label: dict(r) for label, r in (ar.get("other_budget_rows") or {}).items()})
    if rows:
        tables["AR@k on coco128 val2017, real photographs (paper Tables 1-2)"] = rows
        notes.append(f"AR@k: {ar.get('data', '')}. Command: {ar.get('command', '')}.")
        if ar.get("proposals_choice"):
            notes.append(f"Test proposals: {ar['proposals_choice']}")
        if ar.get("plain_rpn_how"):
            notes.append(f"Plain RPN vs QG-RPN: {ar['plain_rpn_how']}.")
        if ar.get("refine_choice"):
            notes.append(f"Top-1 box refinement: {ar['refine_choice']}")
        if ar.get("distractors_choice"):
            notes.append(f"Look-alike queries: {ar['distractors_choice']}.")
        if ar.get("target_fit_choice"):
            notes.append(f"First-frame fit: {ar['target_fit_choice']}.")
        if ar.get("selection"):
            notes.append(f"Model selection: {ar['selection']}")
    pres = ar.get("presence")
    if isinstance(pres, dict):
        tables["Presence threshold, chosen on coco128 val2017"] = {
            "top-1 QG-RCNN score": {k: v for k, v in pres.items() if k != "how"}}
        notes.append(f"Presence threshold: {pres.get('how', '')}.")
    seqs = real.get("real_sequences") or {}
    if seqs.get("otb"):
        names = seqs.get("sequences") or []
        rows = {}
        for tracker, r in seqs["otb"].items():
            row = {"AUC (otb rules)": r["auc"],
                   "AUC (lasot rules)": (seqs.get("lasot") or {}).get(tracker, {}).get("auc")}
            row.update({n: r.get("per_sequence", {}).get(n) for n in names})
            rows[tracker] = row
        tables[f"Success AUC on the real held-out test sequences ({seqs.get('frames', '?')} frames; "
               "per sequence: otb rules)"] = rows
        notes.append(f"Real sequences: {', '.join(names)}; never trained on. Command: {seqs.get('command', '')}.")
    cross = real.get("cross_vs_single_query")
    if isinstance(cross, dict) and cross.get("rows"):
        tables["Cross- vs single-query loss, success AUC on the real test sequences (paper Table 3)"] = cross["rows"]
        notes.append(f"Cross vs single query: {cross.get('how', '')}")
    elif cross:
        notes.append(f"Cross vs single query: {cross}")
    runs = real.get("recipe_runs")
    if isinstance(runs, dict) and runs.get("rows"):
        # the same command and seed run again: the spread a user reproducing the weights should expect
        tables["Runs of the training recipe (the same command and seed)"] = runs["rows"]
        notes.append(f"Recipe runs: {runs.get('how', '')}")
    speed = real.get("speed_640x360_2_threads") or {}
    if speed.get("fps"):
        tables["Speed on 640x360 frames, 2 CPU threads"] = {
            t: {"frames/s": fps, "peak MB": (speed.get("peak_MB") or {}).get(t)} for t, fps in speed["fps"].items()}
        notes.append(f"Speed: {speed.get('command', '')} ({speed.get('note', '')}).")
    return {"tables": tables, "notes": notes}


def store_config(weights, **fields) -> None:
    """Replace fields of the weights file's stored config (atomically); the tensors are written back unchanged."""
    import io

    import torch

    from globaltrack._io import atomic_write_bytes
    from globaltrack.trackers.globaltrack.checkpoint import safe_load

    ck = safe_load(weights)
    ck["config"] = {**ck["config"], **fields}
    buf = io.BytesIO()
    torch.save(ck, buf)
    atomic_write_bytes(Path(weights), buf.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="real-data evidence for a lite0_fpn model")
    ap.add_argument("weights")
    ap.add_argument("--out")
    ap.add_argument("--data-root", default="../shared/data/train")
    ap.add_argument("--store-threshold", action="store_true", help="write the chosen threshold into WEIGHTS")
    ap.add_argument("--store-options", action="store_true",
                    help="write the --opt test-time settings into WEIGHTS (its tracker's defaults from then on)")
    ap.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                    help="a GlobalTrack test-time option (proposals=N, scale=WxH, query_flip=1, "
                         "query_zooms=0.8,1,1.25, refine=N, refine_top=T, distractors=W, target_fit=L2)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    bad = [o for o in args.opt if "=" not in o]
    if bad:
        ap.error(f"--opt takes KEY=VALUE, not '{bad[0]}'")
    ev = compute(args.weights, args.data_root, threads=args.threads, options=dict(o.split("=", 1) for o in args.opt))
    print(json.dumps(ev, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(ev, indent=1))
    fields = dict(ev["test_settings"]) if args.store_options else {}
    if args.store_threshold:
        fields["presence_threshold"] = float(ev["presence"]["threshold"])
    if fields:
        store_config(args.weights, **fields)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
