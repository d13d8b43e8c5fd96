"""`globaltrack trackers`: list registered trackers and whether each can run here."""
from globaltrack.harness.cli import register_command


@register_command("trackers", description="list trackers, whether each is available here, and why not")
class ListTrackers:
    @staticmethod
    def add_arguments(parser):
        pass

    @staticmethod
    def run(args):
        from globaltrack.trackers import TRACKERS, tracker_availability

        for e in TRACKERS.entries():
            ok, why = tracker_availability(e.name)
            tag = " [diagnostic]" if e.extra.get("diagnostic") else ""
            state = "available" if ok else f"unavailable: {why}"
            print(f"{e.name:24s} {state:12s} {e.description}{tag}")
        return 0
