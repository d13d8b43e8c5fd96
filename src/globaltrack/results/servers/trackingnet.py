"""TrackingNet (TrackingNet-devkit ``metrics.py``; spec/metrics.md section 4): a flat zip of ``<video>.txt``, one
``x,y,w,h`` row per frame, commas, no header, ``%.2f`` (the devkit's dummy submission and pytracking's
``pack_trackingnet_results.py``). The devkit matches each GT file to the *unique* member whose path contains
``<video>.txt``; a missing or ambiguous match scores as an all-zero prediction, a short file as NaN rows."""
from __future__ import annotations

from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import BoxFileServer


@register_server("trackingnet", split="test", official_count=511, description="TrackingNet server (flat zip)")
class TrackingNetServer(BoxFileServer):
    box_format = "%.2f"
    one_folder_ok = False
    zip_only = True

    def validate(self, files, expected, problems):
        super().validate(files, expected, problems)
        for name in sorted(self.members(files, type(problems)())):
            hits = [m for m in files if f"{name}.txt" in m]
            if len(hits) > 1:
                problems.add(name, "", f"ambiguous: {len(hits)} files contain '{name}.txt' ({', '.join(hits)}); "
                                       "the devkit would score it as missing")
