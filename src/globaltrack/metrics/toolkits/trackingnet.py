"""The TrackingNet devkit (SilvioGiancola/TrackingNet-devkit metrics.py; spec section 4): rounded coordinates,
">=" success, 21-point grids, trapezoidal areas for all three scores, missing rows are NaN (failures); the
normalised centre error divides the centre difference by the GT size (``gt_wh_diff``), as the devkit does."""
from globaltrack.metrics.protocols import Protocol, register_protocol

register_protocol(Protocol(
    name="trackingnet", description="TrackingNet devkit (server rules)",
    source="SilvioGiancola/TrackingNet-devkit metrics.py",
    iou="inclusive", round_coords=True, first_frame="gt", carry_forward="none", length="pad_nan", valid_gt="none",
    absent="evaluate", invalid_denominator=True, norm_center="gt_wh_diff", success_grid="success21_numpy",
    success_op=">=", precision_grid="precision21_trackingnet", norm_grid="norm21_trackingnet", auc="trapz",
    precision_score="trapz", norm_precision_score="trapz", missing="zeros",
    metrics=("auc", "precision", "norm_precision")))
