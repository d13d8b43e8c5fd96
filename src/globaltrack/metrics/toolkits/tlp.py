"""TLP as GlobalTrack evaluated it (huanglianghua/GlobalTrack tools/test_global_track.py -> neuron EvaluatorTLP ->
OTB_Eval; spec section 6): +1 pixel IoU, frames whose GT has a value <= 0 removed from numerator and denominator,
isLost ignored, 101 IoU thresholds; SR0.5 = IoU > 0.5. The TLP authors' MATLAB code is not public."""
from globaltrack.metrics.protocols import Protocol, register_protocol

register_protocol(Protocol(
    name="tlp", description="TLP (neuron/GlobalTrack rules): SR0.5, 101-point AUC, P@20; invalid GT excluded",
    source="GlobalTrack _submodules/neuron/neuron/data/evaluators/otb_eval.py",
    iou="inclusive", first_frame="gt", carry_forward="none", length="truncate_or_error", valid_gt="all4",
    absent="evaluate", invalid_denominator=False, invalid_center="fail", invalid_norm_center="fail",
    success_grid="success101", success_op=">", precision_grid="precision51", auc="mean", precision_score="at:20",
    metrics=("sr50", "auc", "precision"), missing="zeros", primary_metric="sr50"))
