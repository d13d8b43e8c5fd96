"""OxUvA dev annotations (the released CSVs) through the benchmark adapter and the oxuva protocol."""
from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from globaltrack.metrics import longterm
from globaltrack.metrics.protocols import get_protocol


def test_oxuva_dev_perfect_and_always_present(shared, tmp_path):
    from globaltrack.benchmarks import load_sequences

    src = shared / "data" / "annotations" / "oxuva"
    root = tmp_path / "oxuva"
    (root / "annotations").mkdir(parents=True)
    shutil.copytree(src / "tasks", root / "tasks")
    shutil.copyfile(src / "dev.csv", root / "annotations" / "dev.csv")
    seqs = load_sequences("oxuva", str(root), "dev")
    assert len(seqs) == 200                                           # spec 5.1: 200 dev tracks
    proto = get_protocol("oxuva")
    perfect, always = [], []
    for s in seqs:
        gt = s.ground_truth
        # hold the last known box between the 1 Hz labels (vectorised forward fill)
        known = np.isfinite(gt).all(axis=1)
        held = gt[np.maximum.accumulate(np.where(known, np.arange(len(gt)), 0))]
        perfect.append(longterm.oxuva_sequence(proto, s, held, ~s.absent, (~s.absent).astype(float)))
        always.append(longterm.oxuva_sequence(proto, s, held, np.ones(len(gt), bool), np.ones(len(gt))))
    # Expected counts straight from the CSV: the first label of every track is its init frame (not scored), the
    # others are all TP (present) or TN (absent) for the perfect tracker. (The shared dev.csv has 11,822 rows and
    # 354 absent labels; spec 5.1 quotes 11,809 rows from another snapshot.)
    rows = list(csv.reader((src / "dev.csv").read_text().splitlines()))
    n_absent = sum(r[7] == "absent" for r in rows)
    n_present = sum(r[7] == "present" for r in rows) - 200
    assert n_absent == 354
    tot = {k: int(sum(s.arrays[k].sum() for s in perfect)) for k in ("TP", "FN", "TN", "FP")}
    assert tot == {"TP": n_present, "FN": 0, "TN": n_absent, "FP": 0}
    scores, curves, _ = longterm.oxuva_combine(proto, perfect)
    assert scores == {"tpr": 1.0, "tnr": 1.0, "gm": 1.0, "max_gm": 1.0}
    assert curves["tpr_time"][1][-1] == 1.0
    # never reporting absence: TNR = 0 (354 FP), GM = 0; MaxGM = max_p sqrt(p (1 - p)) = 0.5 at p = 1/2
    alw = longterm.oxuva_combine(proto, always)[0]
    assert alw["tpr"] == 1.0 and alw["tnr"] == 0.0 and alw["gm"] == 0.0
    assert alw["max_gm"] == pytest.approx(0.5, abs=1e-12)
    # bootstrap over videos (RandomState(seed + i)): a perfect tracker has zero variance
    boot = longterm.oxuva_bootstrap(perfect, trials=5)
    assert boot["tpr_mean"] == 1.0 and boot["tpr_var"] == 0.0
