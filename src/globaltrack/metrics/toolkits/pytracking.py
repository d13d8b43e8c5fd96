"""pytracking's analysis (visionml/pytracking pytracking/analysis/extract_results.py ``calc_seq_err_robust``,
plot_results.py; spec section 2). Its rules depend on the dataset string: ``lasot`` and ``uav`` are variants."""
from globaltrack.metrics.protocols import Protocol, register_protocol

_PYT = dict(
    iou="inclusive", first_frame="gt", carry_forward="pytracking", length="truncate_or_pad_zeros", valid_gt="all4",
    invalid_denominator=True, invalid_center="fail", invalid_norm_center="success",
    absent="fail", absent_center="fail", absent_norm_center="success",
    norm_center="gt_wh", success_grid="success21_torch", success_op=">", precision_grid="precision51",
    norm_grid="norm51", auc="mean", precision_score="at:20", norm_precision_score="at:0.2", ope_start=True,
    missing="exclude", curve_dtype="float32",
)

register_protocol(Protocol(
    name="pytracking", description="pytracking analysis (default dataset rules; invisible frames NP successes)",
    source="visionml/pytracking pytracking/analysis/extract_results.py",
    variants=(("lasot", "pytracking-lasot"), ("lasot_extension_subset", "pytracking"),
              ("uav123", "pytracking-uav"), ("uav", "pytracking-uav"), ("uav20l", "pytracking-uav")),
    **_PYT))

register_protocol(Protocol(
    name="pytracking-lasot", description="pytracking with dataset='lasot' (invisible frames fail P and NP)",
    source="visionml/pytracking pytracking/analysis/extract_results.py",
    **{**_PYT, "length": "truncate_or_error", "absent_norm_center": "fail"}))

register_protocol(Protocol(
    name="pytracking-uav", description="pytracking with dataset='uav' (NaN GT allowed; centre error -1 on invalid)",
    source="visionml/pytracking pytracking/analysis/extract_results.py",
    **{**_PYT, "invalid_center": "success"}))

register_protocol(Protocol(
    name="ostrack", description="OSTrack/STARK copy of pytracking analysis (valid = w>0 and h>0)",
    source="botaoye/OSTrack lib/test/analysis/extract_results.py",
    variants=(("lasot", "ostrack-lasot"),), **{**_PYT, "valid_gt": "wh"}))

register_protocol(Protocol(
    name="ostrack-lasot", description="OSTrack/STARK analysis with dataset='lasot'",
    source="botaoye/OSTrack lib/test/analysis/extract_results.py",
    **{**_PYT, "valid_gt": "wh", "length": "truncate_or_error", "absent_norm_center": "fail"}))

register_protocol(Protocol(
    name="pytracking-lt", description="pytracking long-term precision/recall/F1 (frames pooled, every frame a "
                                      "threshold)",
    source="visionml/pytracking pytracking/analysis/extract_results.py extract_results_prec_rec_f1",
    family="pooled-f1", metrics=("f_score", "lt_precision", "lt_recall"), primary_metric="f_score",
    **{**_PYT, "curve_dtype": "float64"}))

register_protocol(Protocol(
    name="pytracking-exclude-invalid", description="pytracking with exclude_invalid_frames=True (invalid and "
                                                   "invisible frames removed from the denominator)",
    source="visionml/pytracking pytracking/analysis/extract_results.py (exclude_invalid_frames)",
    **{**_PYT, "absent": "exclude", "invalid_denominator": False}))
