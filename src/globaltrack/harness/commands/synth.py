"""`globaltrack synth`: write the procedural `synthetic` benchmark (LaSOT layout) to a folder."""
from globaltrack.errors import UserError
from globaltrack.harness.cli import register_command


def parse_size(text: str) -> tuple[int, int]:
    """``320x240`` -> (320, 240)."""
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise UserError(f"--size expects WIDTHxHEIGHT (e.g. 320x240), got '{text}'") from None


@register_command("synth", description="write the synthetic long-term benchmark (absences, cuts, look-alike "
                                       "distractors, scale changes) in the LaSOT layout")
class Synth:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--out", "-o", required=True, help="output folder (reused if already complete)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--split", choices=("train", "test"), default="test",
                            help="train or test: different random streams for the same seed (default test)")
        parser.add_argument("--sequences", type=int, default=8, help="number of sequences (default 8)")
        parser.add_argument("--frames", type=int, default=300, help="frames per sequence (default 300)")
        parser.add_argument("--size", default="320x240", help="frame size WxH (default 320x240)")

    @staticmethod
    def run(args):
        from globaltrack.benchmarks.synthetic import generate

        out = generate(args.out, seed=args.seed, split=args.split, sequences=args.sequences, frames=args.frames,
                       size=parse_size(args.size), quiet=False)
        print(f"synthetic {args.split} split (seed {args.seed}) in {out}; evaluate with "
              f"`--benchmark synthetic --root {out}`")
        return 0
