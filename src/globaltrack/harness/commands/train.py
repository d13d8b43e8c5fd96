"""`globaltrack train`: train GlobalTrack with the cross-query loss, export shipped weights, or compute evidence."""
import os
from pathlib import Path

from globaltrack.errors import UserError
from globaltrack.harness.cli import register_command


def _parse_probs(text: str) -> dict[str, float]:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise UserError(f"--probs expects SOURCE=P[,SOURCE=P...] (e.g. coco=0.4,got10k=0.4,lasot=0.2), "
                            f"got '{part}'")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise UserError(f"--probs: '{v}' is not a number") from None
    return out


@register_command("train", description="train GlobalTrack (cross-query loss; --config tiny-synthetic or "
                                       "r50-official), export weights, or write the evidence report")
class Train:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--config", default="tiny-synthetic",
                            help="named training config: tiny-synthetic (default, CPU), r50-official-coco (stage 1) "
                                 "or r50-official (stage 2)")
        parser.add_argument("--out", default=None, help="run folder (default work_dirs/<config>[-ablation])")
        parser.add_argument("--resume", action="store_true", help="continue from <out>/latest.pth")
        parser.add_argument("--init", metavar="CHECKPOINT",
                            help="initial weights from any checkpoint (ours, mmcv, converted official), or "
                                 "torchvision-coco[:PATH]: torchvision's COCO Faster R-CNN (r50 configs; PATH or "
                                 "the torch hub cache, never downloaded)")
        parser.add_argument("--single-query", action="store_true", help="ablation: loss of one query per pair")
        parser.add_argument("--plain-rpn", action="store_true", help="ablation: no modulators (plain RPN/RCNN)")
        g = parser.add_argument_group("schedule (defaults from --config)")
        g.add_argument("--epochs", type=int)
        g.add_argument("--pairs-per-epoch", type=int)
        g.add_argument("--batch-size", type=int)
        g.add_argument("--lr", type=float)
        g.add_argument("--momentum", type=float)
        g.add_argument("--weight-decay", type=float)
        g.add_argument("--warmup-iters", type=int)
        g.add_argument("--lr-steps", help="comma-separated epochs at which the lr is multiplied by 0.1")
        g.add_argument("--grad-clip", type=float)
        g.add_argument("--max-iters", type=int, help="stop after this many iterations (checkpoint written)")
        g.add_argument("--time-limit", type=float, help="minutes; stop cleanly when exceeded")
        g.add_argument("--seed", type=int)
        g = parser.add_argument_group("data")
        g.add_argument("--probs", help="source mixing, e.g. coco=0.4,got10k=0.4,lasot=0.2 or synthetic=1")
        g.add_argument("--synthetic-root", help="synthetic train split (generated there if missing)")
        g.add_argument("--synthetic-sequences", type=int)
        g.add_argument("--synthetic-frames", type=int)
        g.add_argument("--coco-root")
        g.add_argument("--coco-annotations", help="COCO instances JSON (default: the loader's)")
        g.add_argument("--got10k-root")
        g.add_argument("--lasot-root")
        g.add_argument("--data-root", help="folder holding the still-image sets of --config lite0-real (coco128, "
                       "raccoon, bccd; default ../shared/data/train)")
        g = parser.add_argument_group("hardware")
        g.add_argument("--device", help="cpu or cuda (nothing requires a GPU)")
        g.add_argument("--devices", help="multi-process (DDP) training, one process per device: cuda:0,cuda:1 "
                                         "or a GPU count (4), or cpu,cpu; --batch-size is the global pairs per "
                                         "step. `torchrun --nproc_per_node N -m globaltrack train` works too")
        g.add_argument("--threads", type=int, help="torch CPU threads")
        g.add_argument("--workers", type=int, help="DataLoader worker processes")
        g = parser.add_argument_group("export and evidence")
        g.add_argument("--export", metavar="PATH",
                       help="after training (or alone with --from), write stripped fp16 weights to PATH, with the "
                            "run's loss log and plot beside it (PATH's stem + _train_log.csv / _train_loss.png)")
        g.add_argument("--from", dest="from_checkpoint", metavar="CHECKPOINT",
                       help="checkpoint to export instead of training")
        g.add_argument("--evidence", action="store_true",
                       help="compute the evidence report (AR@k, ablations, long-term baselines) on the synthetic "
                            "test split instead of training")
        g.add_argument("--evidence-out", default=None, help="evidence JSON path (default: the shipped one)")
        g.add_argument("--evidence-root", default=None, help="synthetic test split (generated if missing)")
        g.add_argument("--baselines", default="kcf,csrt,tld", help="baseline trackers for the evidence report")
        g.add_argument("--ar-stride", type=int, default=5, help="AR@k on every Nth frame (default 5)")

    @staticmethod
    def run(args):
        from pathlib import Path

        if args.evidence:
            from globaltrack.training.evidence import write_evidence

            path = write_evidence(out_path=args.evidence_out, root=args.evidence_root,
                                  baselines=[b for b in args.baselines.split(",") if b], ar_stride=args.ar_stride)
            print(f"evidence written to {path}")
            return 0

        from globaltrack.training.train import LOG_NAME, PLOT_NAME, get_train_config, train

        if args.from_checkpoint:
            if not args.export:
                raise UserError("--from needs --export PATH")
            _export(args.from_checkpoint, args.export, _presence_root(_checkpoint_train_config(args.from_checkpoint),
                                                                      args.data_root))
            return 0

        overrides = {k: getattr(args, k) for k in (
            "epochs", "pairs_per_epoch", "batch_size", "lr", "momentum", "weight_decay", "warmup_iters",
            "grad_clip", "max_iters", "time_limit", "seed", "synthetic_root", "synthetic_sequences",
            "synthetic_frames", "coco_root", "coco_annotations", "got10k_root", "lasot_root", "data_root", "device",
            "threads",
            "workers")}
        if args.lr_steps:
            try:
                overrides["lr_steps"] = tuple(int(x) for x in args.lr_steps.split(",") if x.strip())
            except ValueError:
                raise UserError(f"--lr-steps expects comma-separated integers, got '{args.lr_steps}'") from None
        if args.probs:
            overrides["probs"] = _parse_probs(args.probs)
        if args.single_query:
            overrides["single_query"] = True
        if args.plain_rpn:
            overrides["plain_rpn"] = True
        cfg = get_train_config(args.config, **overrides)
        suffix = ("-single-query" if cfg.single_query else "") + ("-plain-rpn" if cfg.plain_rpn else "")
        out = Path(args.out or f"work_dirs/{cfg.name}{suffix}")
        devices = args.devices
        if not devices and not args.device and "RANK" not in os.environ:
            devices = cfg.devices  # the named config's own process layout (lite0-real: two CPU processes)
        if devices:
            from globaltrack.harness.devices import parse_device_list
            from globaltrack.training.distributed import launch

            launch(train, cfg, parse_device_list(devices), out, resume=args.resume, init=args.init)
            last = out / "latest.pth"
        else:
            last = train(cfg, out, resume=args.resume, init=args.init)

        if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 reports (and exports)
            return 0
        print(f"last checkpoint: {last}; log: {out / LOG_NAME}; plot: {out / PLOT_NAME}")
        if args.export:
            _export(last, args.export, _presence_root(cfg, None))
        return 0


def _checkpoint_train_config(checkpoint):
    """The `TrainConfig` a training checkpoint was written under (the defaults for a file without one)."""
    from globaltrack.trackers.globaltrack.checkpoint import safe_load
    from globaltrack.training.train import TrainConfig

    meta = safe_load(checkpoint).get("meta") or {}
    return TrainConfig.from_dict(meta.get("train_config") or {})


def _presence_root(cfg, data_root) -> str | None:
    """Where the export chooses the presence threshold (the config's ``presence_on_export``), or None."""
    return (data_root or cfg.data_root) if cfg.presence_on_export else None


def _export(checkpoint, path, presence_root: str | None = None) -> None:
    """fp16 weights, as shipped (half the size; the shipped model's figures are measured on its fp16 file), and the
    run's loss log and plot beside them; with ``presence_root``, the presence threshold chosen on coco128 val2017
    there and stored in the file (the shipped file's threshold is chosen the same way)."""
    from globaltrack.training.train import export_log, export_weights

    print(f"exported {export_weights(checkpoint, path, fp16=True)}")
    for f in export_log(Path(checkpoint).parent, path):
        print(f"  with {f}")
    if presence_root is not None:
        from globaltrack.training.real_evidence import VAL, store_presence_threshold

        try:
            presence = store_presence_threshold(path, presence_root)
        except UserError as err:  # the weights are written; say so, and how to finish
            raise UserError(f"{path} is exported, but its presence threshold could not be chosen ({err}); "
                            f"pass --data-root (the folder holding coco128), or run `python -m "
                            f"globaltrack.training.real_evidence {path} --store-threshold --data-root DIR`") from None
        print(f"  presence threshold {presence['threshold']} (balanced accuracy {presence['balanced_accuracy']} on "
              f"{' '.join(VAL)} under {presence_root}) stored in {path}")
