"""Reports: matplotlib plots (`plots`), tracker styles (`style`) and the self-contained HTML report (`html`).

Reports consume `globaltrack.scoring.evaluation.Evaluation` objects and manifests; they never compute metrics.
"""
