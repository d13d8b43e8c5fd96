"""Training GlobalTrack and the experiments around it: pair sampling, the training loop, the evidence runs.

It sits above the harness (evidence runs trackers through the harness runner), so ``trackers/`` holds trackers only
and never imports upward. ``distributed``: multi-process (DistributedDataParallel) training support.
"""
