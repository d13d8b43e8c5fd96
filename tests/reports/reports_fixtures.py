"""Evaluations built directly (no metrics code), and results folders holding manifests, for the report tests."""
import json

import numpy as np

from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation

ATTRIBUTES = ["Illumination Variation", "Partial Occlusion", "Deformation", "Motion Blur", "Camera Motion",
              "Rotation", "Background Clutter", "Viewpoint Change", "Scale Variation", "Full Occlusion",
              "Fast Motion", "Out-of-View", "Low Resolution", "Aspect Ration Change"]   # LaSOT's 14


def make_evaluation(n_trackers=35, n_sequences=12, benchmark="lasot", *, oxuva=False, seed=0) -> Evaluation:
    rng = np.random.default_rng(seed)
    seqs = [f"seq-{i}" for i in range(n_sequences)]
    ev = Evaluation(benchmark, "lasot" if not oxuva else "oxuva", sequences=seqs)
    thr = np.linspace(0, 1, 21)
    px = np.arange(51, dtype=float)
    npx = np.arange(51) / 100
    for i in range(n_trackers):
        name = f"tracker_{i:02d}"
        a = 0.2 + 0.6 * rng.random()
        succ = np.clip(1 - thr ** (1 / a) , 0, 1)
        prec = 1 - np.exp(-px / (30 * (1 - a) + 1))
        nprec = 1 - np.exp(-npx / (0.3 * (1 - a) + 0.01))
        t = TrackerEvaluation(name, scores={"auc": float(succ.mean()), "precision": float(prec[20]),
                                            "norm_precision": float(nprec[20])},
                              curves={"success": (thr, succ), "precision": (px, prec),
                                      "norm_precision": (npx, nprec)})
        if oxuva:
            tpr, tnr = float(rng.random()), float(rng.random())
            t.scores.update(tpr=tpr, tnr=tnr, max_gm=float(np.sqrt(tpr * tnr)))   # ordering only, not MaxGM
        t.per_sequence = {s: {"auc": float(np.clip(a + 0.2 * rng.standard_normal(), 0, 1))} for s in seqs}
        t.per_attribute = {att: {"auc": float(np.clip(a + 0.1 * rng.standard_normal(), 0, 1))}
                           for att in ATTRIBUTES}
        ev.trackers[name] = t
    names = list(ev.trackers)
    # One imported, one diagnostic, one with missing and failed sequences.
    ev.trackers[names[1]].imported = True
    ev.trackers[names[2]].diagnostic = True
    t = ev.trackers[names[3]]
    t.missing = [seqs[0]]
    t.failed = [seqs[1]]
    for s in (seqs[0], seqs[1]):
        t.per_sequence.pop(s)
    t.notes = [f"{seqs[2]}: 3 rows truncated"]
    return ev


def write_manifests(results, ev: Evaluation) -> None:
    for i, (name, t) in enumerate(ev.trackers.items()):
        d = results / ev.benchmark / name
        d.mkdir(parents=True, exist_ok=True)
        if t.imported:
            (d / "imported.json").write_text(json.dumps({"source": "published raw results", "paper": "X et al."}))
            continue
        # the keys harness/manifest.py writes (the report reads them through results.manifest.RunManifest)
        manifest = {"tracker": name, "name": name, "options": {"threshold": "0.5"}, "package_version": "0.1.0",
                    "libraries": {"numpy": "2.0"}, "machine": {"cpu_model": "test cpu", "gpus": []},
                    "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T01:00:00Z", "status": "complete",
                    "speed": {"fps": 30.0 + i, "throughput_fps": 55.5}, "tracker_fps": 31.0 + i,
                    "tracker_seconds": 100.0, "tracker_frames": 3100 + 100 * i, "diagnostic": t.diagnostic}
        if t.failed:
            manifest["failures"] = {s: "RuntimeError: boom" for s in t.failed}
        (d / "manifest.json").write_text(json.dumps(manifest))
