"""Interoperability with the official toolkits.

- `globaltrack.interop.got10k`: run our trackers inside the got10k package's experiments (``ExperimentOTB`` ...) and
  run any got10k ``Tracker`` subclass in our runner.
- `globaltrack.interop.trax_server`: a TraX server (``python -m globaltrack.interop.trax_server NAME``) through which
  the VOT toolkit (``vot test/evaluate``) drives any registered tracker; `globaltrack vot-setup` writes the workspace.

Nothing here is imported by the tracker registry, so the toolkits load only when used.
"""
