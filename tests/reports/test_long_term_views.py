"""Long-term views: VOT-LT precision/recall and F-versus-threshold plots and a per-sequence F table and heat map in
the report; the TPR/TNR plane only where presence is known, one line otherwise."""
from __future__ import annotations

import re

import pytest

from globaltrack.harness.cli import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from globaltrack.benchmarks.synthetic import generate

    tmp = tmp_path_factory.mktemp("lt")
    root = generate(tmp / "data", seed=4, sequences=3, frames=30, size=(64, 48))
    import os

    os.environ["GLOBALTRACK_TEST_TRACKERS"] = "1"
    try:
        assert main(["run", "-b", "synthetic", "--root", str(root), "--results", str(tmp / "r"), "-q",
                     "-t", "oracle:noise=0.3,name=a", "-t", "oracle:noise=0.05,name=b"]) == 0
    finally:
        os.environ.pop("GLOBALTRACK_TEST_TRACKERS")
    return tmp, ["-b", "synthetic", "--root", str(root), "--results", str(tmp / "r"), "--reports", str(tmp / "rep")]


def test_vot_lt_report_has_per_sequence_f_and_its_curves(workspace):
    tmp, common = workspace
    out = tmp / "vot.html"
    assert main(["report", *common, "--protocol", "vot-lt", "--out", str(out)]) == 0
    text = out.read_text()
    kinds = re.findall(r'data-kind="([a-z_]+)"', text)
    assert {"pr", "f_threshold", "heatmap"} <= set(kinds)
    assert "Per sequence (F x100)" in text
    table = re.search(r'<table class="sortable sequences">(.*?)</table>', text, re.S).group(1)
    values = re.findall(r'<td class="num" data-v="([^"]*)">', table)
    assert len(values) == 3 * 2 and all(v != "" for v in values)      # 3 sequences x 2 runs, none blank
    for kind in ("pr", "f_threshold"):
        assert main(["plot", *common, "--protocol", "vot-lt", "--kind", kind]) == 0
        assert (tmp / "rep" / f"synthetic_{kind}.svg").stat().st_size > 1000


def test_tpr_tnr_only_where_presence_is_known(workspace, capsys):
    tmp, common = workspace
    # an OPE protocol scores no presence: one line, no empty chart
    assert main(["plot", *common, "--kind", "tpr_tnr"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no TPR/TNR point" in err
    assert not (tmp / "rep" / "synthetic_tpr_tnr.svg").exists()
    assert main(["plot", *common, "--kind", "pr"]) == 2                  # no VOT-LT curve under the lasot protocol
    assert "gives no pr curve" in capsys.readouterr().err



def test_report_draws_the_plane_for_labelled_trackers_and_notes_the_others(tmp_path):
    import math

    from globaltrack.reports.html import write_report
    from globaltrack.reports.plots import tpr_tnr_points
    from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation

    ev = Evaluation("oxuva", "oxuva", sequences=["v_1"], protocol_fields={"family": "oxuva"})
    ev.trackers["dev"] = TrackerEvaluation("dev", scores={"tpr": 0.6, "tnr": 0.4, "max_gm": 0.5})
    ev.trackers["test"] = TrackerEvaluation("test", scores={"tpr": math.nan, "tnr": math.nan, "max_gm": math.nan})
    assert tpr_tnr_points(ev) == (["dev"], ["test"])
    text = write_report([ev], tmp_path / "o.html", results_root=tmp_path).read_text()
    assert 'data-kind="tpr_tnr"' in text
    assert "TPR/TNR plane: 1 trackers have no point (presence unknown" in text and ": test</div>" in text
