"""Long-term protocols: OxUvA (oxuva/long-term-tracking-benchmark python/oxuva/assess.py; spec section 5) and
VOT-LT (votchallenge/toolkit vot/analysis/longterm.py; spec section 7.1)."""
from globaltrack.metrics.protocols import Protocol, register_protocol

register_protocol(Protocol(
    name="oxuva", description="OxUvA: pooled TPR/TNR at IoU >= 0.5, GM and MaxGM; frame 0 not a label",
    source="oxuva/long-term-tracking-benchmark python/oxuva/assess.py", family="oxuva", bounds="unit",
    first_frame="drop", iou_threshold=0.5, time_bucket=900, bootstrap_trials=0, missing="zeros",
    metrics=("tpr", "tnr", "gm", "max_gm"), primary_metric="max_gm"))

register_protocol(Protocol(
    name="vot-lt", description="VOT long-term: precision/recall/F over 100 confidence thresholds",
    source="votchallenge/toolkit vot/analysis/longterm.py", family="vot-lt", iou="raster", bounds="image",
    first_frame="as_is", lt_thresholds="vot", lt_resolution=100, missing="zeros",
    metrics=("f_score", "lt_precision", "lt_recall"), primary_metric="f_score"))

register_protocol(Protocol(
    name="pysot-lt", description="pysot's VOT-LT F1 (different quantile rule; '> 0' at -inf)",
    source="StrangerZhang/pysot-toolkit pysot/evaluation/f1_benchmark.py", family="vot-lt", iou="continuous",
    iou_clip=True, first_frame="as_is", lt_thresholds="pysot", lt_resolution=100, missing="zeros",
    metrics=("f_score", "lt_precision", "lt_recall"), primary_metric="f_score"))
