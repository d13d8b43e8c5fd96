"""`globaltrack trackers`: list registered trackers and whether each can run here."""
from globaltrack.harness.cli import register_command

NAME_WIDTH = 20
STATE_WIDTH = 12


def _width() -> int:
    """The terminal's width, at most 100 columns (also when the output is a file)."""
    import shutil

    return max(60, min(100, shutil.get_terminal_size((100, 24)).columns))


def tracker_lines(width: int | None = None) -> list[str]:
    """One entry per tracker: name, state and description wrapped to ``width`` columns; why an unavailable tracker
    cannot run goes on its own indented lines, wrapped too."""
    import textwrap

    from globaltrack.trackers import TRACKERS, tracker_availability

    width = width or _width()
    indent = " " * (NAME_WIDTH + STATE_WIDTH + 2)
    out = []
    for e in TRACKERS.entries():
        ok, why = tracker_availability(e.name)
        tag = " [diagnostic]" if e.extra.get("diagnostic") else ""
        head = f"{e.name:{NAME_WIDTH}s} {'available' if ok else 'unavailable':{STATE_WIDTH}s} "
        out += textwrap.wrap(e.description + tag, width, initial_indent=head, subsequent_indent=indent) or [head]
        if not ok:
            out += textwrap.wrap(f"why: {why}", width, initial_indent=indent, subsequent_indent=indent + "  ",
                                 break_on_hyphens=False)
    return out


@register_command("trackers", description="list trackers, whether each is available here, and why not")
class ListTrackers:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--check-opencv", action="store_true",
                            help="only check that cv2 has OpenCV's contrib trackers (exit 1 with the repair command "
                                 "if not)")

    @staticmethod
    def run(args):
        if getattr(args, "check_opencv", False):
            from globaltrack.trackers.opencv_trackers import contrib_problem

            problem = contrib_problem()
            if problem:
                print(f"globaltrack trackers: {problem}")
                return 1
            import cv2

            print(f"cv2 {cv2.__version__} has OpenCV's contrib trackers (KCF, CSRT, TLD, ...)")
            return 0
        for line in tracker_lines():
            print(line)
        return 0
