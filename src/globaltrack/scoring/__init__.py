"""The evaluation layer above the pure metrics: score the result files of trackers on a benchmark under a protocol.

``metrics/`` holds pure functions and protocol data; this package reads result files (through ``results/``), caches
per-sequence scores, runs in parallel, and says what each measure is (`measures`) and how trackers rank
(`leaderboard`). Reports and the CLI consume its `Evaluation` objects.
"""
