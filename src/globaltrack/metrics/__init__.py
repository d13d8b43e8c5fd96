"""Metrics: pure, vectorised numpy functions over one sequence plus combine steps; protocols per official toolkit.

- `boxes`: IoU (continuous, +1 pixel, eps/clip, image-bounded, unit square, VOT raster), centre and normalised
  centre errors.
- `grids`: the toolkits' exact threshold floats (spec/metrics.md section 0.4).
- `curves`: success / precision curves and their scores (mean, trapezoid, value at a threshold).
- `protocols` (+ `toolkits/`): one `Protocol` per official toolkit, `get_protocol(name)`.
- `ope`: per-sequence scoring and the combine step for success/precision protocols.
- `longterm`: OxUvA TPR/TNR/GM/MaxGM (time buckets, bootstrap) and VOT-LT precision/recall/F.
- `recall`: AR@k of candidate boxes (mmdetection v1).
- `evaluate`: `evaluate(sequences, store, benchmark, trackers, protocol=None, allow_missing=False) -> Evaluation`.
"""
