"""The GOT-10k toolkit (got-10k/toolkit got10k/experiments/{otb,lasot,uav123,got10k}.py, utils/metrics.py;
spec section 1). ``got10k`` is ExperimentOTB (and its subclasses); the dataset-specific Experiment classes are
variants picked by benchmark."""
from globaltrack.metrics.protocols import Protocol, register_protocol

_OTB = dict(
    iou="continuous", iou_eps=True, iou_clip=True, first_frame="gt", carry_forward="none", length="truncate_both",
    valid_gt="none", absent="evaluate", invalid_denominator=True, success_grid="success21_numpy", success_op=">",
    precision_grid="precision51", auc="mean", precision_score="at:20", speed="sequence_mean", missing="zeros",
)

register_protocol(Protocol(
    name="got10k", description="got10k toolkit ExperimentOTB rules (no validity mask, frame 0 = GT)",
    source="got-10k/toolkit got10k/experiments/otb.py", metrics=("auc", "precision", "sr50"),
    variants=(("lasot", "got10k-lasot"), ("uav123", "got10k-uav"), ("uav20l", "got10k-uav"),
              ("got10k", "got10k-val"), ("got-10k", "got10k-val")),
    **_OTB))

register_protocol(Protocol(
    name="got10k-lasot", description="got10k ExperimentLaSOT (master): absent flag ignored, NP = mean of 51",
    source="got-10k/toolkit got10k/experiments/lasot.py (GitHub master, PR #24)",
    norm_center="gt_wh_min1", norm_grid="norm51_got10k", norm_precision_score="mean",
    metrics=("auc", "precision", "norm_precision", "sr50"), **_OTB))

register_protocol(Protocol(
    name="got10k-uav", description="got10k ExperimentUAV123: NaN GT rows removed from the denominator",
    source="got-10k/toolkit got10k/experiments/uav123.py",
    metrics=("auc", "precision", "sr50"), **{**_OTB, "valid_gt": "nonnan", "invalid_denominator": False}))

register_protocol(Protocol(
    name="got10k-val", description="got10k ExperimentGOT10k: frame 0 dropped, image-bounded IoU, covered frames, "
                                   "frame-pooled AO/SR",
    source="got-10k/toolkit got10k/experiments/got10k.py",
    **{**_OTB, "first_frame": "drop", "bounds": "image", "length": "equal", "absent": "exclude",
       "aggregation": "frame_pooled", "success_grid": "success101", "speed": "pooled",
       "visibility": "cover", "metrics": ("ao", "sr50", "sr75"), "primary_metric": "ao"},
    ))
