"""pysot's evaluation (STVIR/pysot toolkit/utils/statistics.py, toolkit/evaluation/ope_benchmark.py) and the
standalone pysot-toolkit (StrangerZhang/pysot-toolkit pysot/utils/statistics.py); spec section 8.

``pysot`` follows STVIR/pysot, whose IoU mask is w > 0 and h > 0: with it the published OTB-100 raw results give
SiamRPN++ 0.6955 and DaSiamRPN 0.6578 (shared/data/SOURCES.md). ``pysot-toolkit`` masks on all four values > 0."""
from globaltrack.metrics.protocols import Protocol, register_protocol

_PYSOT = dict(
    iou="continuous", iou_clip=True, first_frame="as_is", carry_forward="none", length="truncate_or_error",
    valid_gt="wh", invalid_denominator=True, invalid_center="success", invalid_norm_center="success",
    absent="fail", absent_center="fail", absent_norm_center="fail", center_mask="center_positive",
    norm_center="gt_wh_eps", success_grid="success21_numpy", success_op=">", precision_grid="precision51",
    norm_grid="norm51", auc="mean", precision_score="at:20", norm_precision_score="at:0.2", ope_start=True,
    missing="zeros", lt_thresholds="pysot",
)

register_protocol(Protocol(
    name="pysot", description="pysot (STVIR/pysot toolkit): frame 0 as is, IoU mask w>0 and h>0",
    source="STVIR/pysot toolkit/utils/statistics.py, toolkit/evaluation/ope_benchmark.py", **_PYSOT))

register_protocol(Protocol(
    name="pysot-toolkit", description="pysot-toolkit (StrangerZhang): IoU mask all four GT values > 0",
    source="StrangerZhang/pysot-toolkit pysot/utils/statistics.py", **{**_PYSOT, "valid_gt": "all4"}))
