"""Fidelity on real files: published OTB-100 raw results against the OTB toolkit's annotations."""
from __future__ import annotations

import io

import numpy as np
import pytest

from globaltrack.scoring.evaluate import evaluate
from globaltrack.results.store import ResultStore, format_boxes



def _store(tmp_path, otb, trackers):
    store = ResultStore(tmp_path / "results")
    for t in trackers:
        for name, boxes in otb.results(t).items():
            # plain writes (ResultStore.write fsyncs every file, which is slow and irrelevant here)
            path = store.box_path("otb", t, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(format_boxes(boxes))
    return store


@pytest.mark.parametrize("tracker,published", [("SiamRPN++", 0.6955), ("DaSiamRPN", 0.6578)])
def test_pysot_protocol_reproduces_published_otb100_auc(otb, tmp_path, tracker, published):
    # Reference: shared/data/SOURCES.md (0.6955 / 0.6578 the pysot way; papers 0.696 / 0.658).
    seqs = otb.sequences()
    ev = evaluate(seqs, _store(tmp_path, otb, [tracker]), "otb", [tracker], protocol="pysot")
    assert len(ev.sequences) == 100
    assert round(ev.trackers[tracker].scores["auc"], 4) == published
    assert round(ev.trackers[tracker].scores["auc"], 3) == round(published, 3)


def test_got10k_protocol_equals_got10k_package_report(otb, tmp_path, monkeypatch):
    """Run got10k 0.1.3's own ExperimentOTB.report on an OTB-layout root + results folder and compare."""
    pytest.importorskip("got10k")
    from got10k.experiments import ExperimentOTB

    seqs = otb.sequences()
    trackers = ["SiamRPN++", "DaSiamRPN"]
    root = tmp_path / "OTB"
    results_dir = tmp_path / "got10k_results"
    folder_of = {}
    # got10k's OTB dataset globs <root>/<Seq>/groundtruth*.txt and img/*.jpg (counts must match; never decoded).
    from got10k.datasets import OTB

    names = OTB._OTB__version_dict[2015]
    by_canon = {s.name: s for s in seqs}
    for seq_dir in names:
        canon = seq_dir.lower()
        parts = [(k, v) for k, v in otb.dirs.items() if v[0] == seq_dir] or [(canon, (seq_dir, "groundtruth_rect.txt"))]
        for k, (d, fname) in parts:
            s = by_canon[k]
            (root / d / "img").mkdir(parents=True, exist_ok=True)
            np.savetxt(root / d / fname, s.ground_truth, fmt="%.17g", delimiter=",")
            folder_of[k] = (d, fname)
    # got10k's OTB.__getitem__ globs img/*.jpg only to count frames; writing ~59k empty images costs more time
    # than the whole test, so frames are not listed and the annotation is loaded exactly as got10k loads it.
    def getitem(self, index):
        with open(self.anno_files[index]) as f:
            return [], np.loadtxt(io.StringIO(f.read().replace(",", " ")))

    monkeypatch.setattr(OTB, "__getitem__", getitem)
    ds = OTB(str(root), 2015, download=False)
    got_names = {}
    for gname, adir in zip(ds.seq_names, ds.anno_files):
        d = adir.split("/")[-2]
        fname = adir.split("/")[-1]
        got_names[[k for k, v in folder_of.items() if v == (d, fname)][0]] = gname
    for t in trackers:
        res = otb.results(t)
        out = results_dir / "OTB2015" / t
        out.mkdir(parents=True)
        for k, gname in got_names.items():
            np.savetxt(out / f"{gname}.txt", res[k], fmt="%.17g", delimiter=",")

    monkeypatch.setattr(ExperimentOTB, "plot_curves", lambda self, names: None)   # plots are not metrics
    exp = ExperimentOTB(str(root), version=2015, result_dir=str(results_dir), report_dir=str(tmp_path / "rep"))
    perf = exp.report(trackers)

    ev = evaluate(seqs, _store(tmp_path, otb, trackers), "otb", trackers, protocol="got10k")
    for t in trackers:
        ours, ref = ev.trackers[t], perf[t]["overall"]
        assert abs(ours.scores["auc"] - ref["success_score"]) < 1e-9
        assert abs(ours.scores["precision"] - ref["precision_score"]) < 1e-9
        assert abs(ours.scores["sr50"] - ref["success_rate"]) < 1e-9
        np.testing.assert_allclose(ours.curves["success"][1], ref["success_curve"], atol=1e-9, rtol=0)
        np.testing.assert_allclose(ours.curves["precision"][1], ref["precision_curve"], atol=1e-9, rtol=0)
        for k, gname in got_names.items():
            assert abs(ours.per_sequence[k]["auc"] - perf[t]["seq_wise"][gname]["success_score"]) < 1e-9
