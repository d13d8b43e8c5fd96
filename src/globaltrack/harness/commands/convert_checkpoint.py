"""`globaltrack convert-checkpoint OFFICIAL.pth OUT.pth`: the released GlobalTrack weights in our format."""
from globaltrack.harness.cli import register_command


@register_command("convert-checkpoint",
                  description="convert the official GlobalTrack (mmdetection v1) checkpoint to this package's format")
class ConvertCheckpoint:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("official", help="official checkpoint, e.g. qg_rcnn_r50_fpn_coco_got10k_lasot.pth")
        parser.add_argument("out", help="output file (our format; config r50_fpn)")

    @staticmethod
    def run(args):
        from globaltrack.trackers.globaltrack.checkpoint import convert_checkpoint_file

        read, written = convert_checkpoint_file(args.official, args.out)
        print(f"converted {read} official tensors -> {written} tensors in {args.out} (config r50_fpn)")
        return 0
