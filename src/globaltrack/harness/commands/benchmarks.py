"""`globaltrack benchmarks`: list benchmark adapters, their splits and default protocols."""
from globaltrack.harness.cli import register_command


@register_command("benchmarks", description="list benchmarks, their splits and official protocols")
class ListBenchmarks:
    @staticmethod
    def add_arguments(parser):
        pass

    @staticmethod
    def run(args):
        from globaltrack.benchmarks import BENCHMARKS

        for e in BENCHMARKS.entries():
            cls = e.factory
            splits = ",".join(getattr(cls, "splits", ()))
            alias = f" (aliases: {', '.join(e.aliases)})" if e.aliases else ""
            print(f"{e.name:12s} splits={splits:16s} protocol={getattr(cls, 'default_protocol', '?'):12s} "
                  f"{e.description}{alias}")
        return 0
