"""GlobalTrack (Huang, Zhao, Huang, AAAI 2020): the QG-RCNN model, its tracker and the official checkpoint.

Importing this package does not import torch; the trackers are registered in ``registration`` (imported here).
"""
