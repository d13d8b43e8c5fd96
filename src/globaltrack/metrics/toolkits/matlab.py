"""The LaSOT and OTB MATLAB toolkits (HengLan/LaSOT_Evaluation_Toolkit utils/calc_seq_err_robust.m, eval_tracker.m,
plot_draw_save.m; zhangzheng0131/Tracker_Benchmark_tb100 util/calcSeqErrRobust.m, genPerfMat.m; spec section 3)."""
from globaltrack.metrics.protocols import Protocol, register_protocol

_MATLAB = dict(
    iou="inclusive", first_frame="gt", carry_forward="matlab", length="truncate_or_error", valid_gt="all4",
    invalid_denominator=True, invalid_center="success", invalid_norm_center="success",
    absent="fail", absent_center="fail", absent_norm_center="fail",
    norm_center="gt_wh", success_grid="success21_matlab", success_op=">", precision_grid="precision51",
    norm_grid="norm51", auc="mean", precision_score="at:20", norm_precision_score="at:0.2",
    drop_empty_sequences=True, missing="zeros",
)

register_protocol(Protocol(
    name="otb", description="OTB MATLAB toolkit (OPE; Tiger1 from frame 6)", ope_start=True,
    source="Tracker_Benchmark_tb100 util/calcSeqErrRobust.m, perfPlot_TB100.m, initOmit/",
    metrics=("auc", "precision", "sr50"), **_MATLAB))

register_protocol(Protocol(
    name="lasot", description="LaSOT MATLAB toolkit (absent frames fail; threshold-mode precision/NP)",
    source="HengLan/LaSOT_Evaluation_Toolkit utils/calc_seq_err_robust.m, eval_tracker.m, plot_draw_save.m",
    **_MATLAB))

register_protocol(Protocol(
    name="lasot-auc", description="LaSOT MATLAB toolkit with ranking_type='AUC' (precision and NP as the mean of "
                                  "their 51 points, as TNL2K reports NP)",
    source="HengLan/LaSOT_Evaluation_Toolkit plot_draw_save.m (ranking_type = 'AUC')",
    **{**_MATLAB, "precision_score": "mean", "norm_precision_score": "mean"}))
