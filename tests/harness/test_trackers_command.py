"""`globaltrack trackers`: every line fits 100 columns; an unavailable tracker's reason is shown in full."""
from globaltrack.harness.cli import main
from globaltrack.harness.commands.trackers import tracker_lines
from globaltrack.trackers import register_tracker

WHY = ("default weights missing: run `globaltrack train --config tiny-synthetic` or pass --opt weights=PATH; "
       "and the rest of a long explanation that used to make this line run past 250 characters on a terminal")

register_tracker("test-trackers-unavailable", description="a test-only tracker " * 8, test_only=True,
                 available=lambda: (False, WHY))(lambda **o: None)


def test_lines_fit_and_reasons_are_complete(capsys):
    assert main(["trackers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out and max(len(line) for line in out) <= 100
    lines = tracker_lines(80)
    assert max(len(line) for line in lines) <= 80
    i = next(k for k, line in enumerate(lines) if line.startswith("test-trackers-unavailable "))
    assert "unavailable" in lines[i]
    block = []
    for line in lines[i + 1:]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    assert ("why: " + WHY) in " ".join(block)  # wrapped, not cut
