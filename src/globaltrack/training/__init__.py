"""Training GlobalTrack and the experiments around it: a layer above the harness, so that ``trackers/`` holds
trackers only. ``distributed``: multi-process (DistributedDataParallel) training support."""
