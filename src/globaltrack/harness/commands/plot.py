"""`globaltrack plot`: one plot on its own, as SVG and PNG."""
from globaltrack.harness.cli import add_common_options, register_command
from globaltrack.harness.commands._scoring import add_scoring_options

KINDS = ("success", "precision", "norm_precision", "attributes", "heatmap", "trace", "tpr_tnr", "pr", "f_threshold",
         "ar")


@register_command("plot", description="draw one plot (success, precision, norm_precision, attributes, heatmap, "
                                      "trace, tpr_tnr, pr, f_threshold, ar) as SVG and PNG")
class Plot:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, reports=True, trackers=True)
        add_scoring_options(parser)
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--metric", help="measure for attributes/heatmap (default: the primary one)")
        parser.add_argument("--sequence", help="the sequence of a trace plot")
        parser.add_argument("--points", help="tpr_tnr: JSON file {name: [tpr, tnr]} of extra (published) trackers")
        parser.add_argument("--ar", dest="ar_json", help="ar: JSON file {method: {k: AR}}")
        parser.add_argument("--out", help="output stem (default: <reports>/<benchmark>_<kind>); .svg and .png")

    @staticmethod
    def run(args):
        import json
        import sys
        from pathlib import Path

        from globaltrack.errors import UserError
        from globaltrack.reports import plots

        def read_json(path):
            try:
                return json.loads(Path(path).read_text())
            except (OSError, ValueError) as err:
                raise UserError(f"cannot read JSON ({err})", path) from None

        if args.kind == "ar":
            if not args.ar_json:
                raise UserError("--kind ar needs --ar FILE ({method: {k: AR}})")
            data = {m: {int(k): float(v) for k, v in pts.items()} for m, pts in read_json(args.ar_json).items()}
            fig = plots.plot_ar_at_k(data)
            stem = Path(args.out) if args.out else Path(args.reports) / "ar_at_k"
        elif args.kind == "trace":
            fig, bench = _trace(args)
            stem = Path(args.out) if args.out else Path(args.reports) / f"{bench}_trace_{args.sequence}"
        else:
            from globaltrack.harness.commands._scoring import evaluate_from_args

            ev, _, _ = evaluate_from_args(args)
            if args.kind in ("success", "precision", "norm_precision"):
                if not any(args.kind in t.curves for t in ev.trackers.values()):
                    raise UserError(f"protocol '{ev.protocol}' gives no {args.kind} curve")
                fig = plots.plot_curves(ev, args.kind)
            elif args.kind == "attributes":
                fig = plots.plot_attributes(ev, args.metric)
            elif args.kind == "heatmap":
                fig = plots.plot_heatmap(ev, args.metric)
            elif args.kind in ("pr", "f_threshold"):
                curve = "pr" if args.kind == "pr" else "f_score"
                if not any(curve in t.curves for t in ev.trackers.values()):
                    raise UserError(f"protocol '{ev.protocol}' gives no {args.kind} curve (VOT long-term protocols "
                                    "do: --protocol vot-lt)")
                fig = plots.plot_pr(ev) if args.kind == "pr" else plots.plot_f_threshold(ev)
            else:
                extra = {k: tuple(v) for k, v in read_json(args.points).items()} if args.points else None
                have, lack = plots.tpr_tnr_points(ev)
                if not have and not extra:
                    raise UserError(f"no TPR/TNR point to draw: protocol '{ev.protocol}' on {ev.benchmark} gives "
                                    "TPR and TNR only where presence is labelled (OxUvA dev annotations)")
                if lack:
                    print(f"globaltrack plot: note: no TPR/TNR (presence unknown) for {', '.join(lack)}",
                          file=sys.stderr)
                fig = plots.plot_tpr_tnr(ev, extra_points=extra)
            stem = Path(args.out) if args.out else Path(args.reports) / f"{ev.benchmark}_{args.kind}"
        for p in plots.save_figure(fig, stem):
            print(p)
        return 0


def _trace(args):
    """Per-frame IoU (continuous, as got10k/pysot compute it) and score of each tracker on one sequence."""
    import numpy as np

    from globaltrack.errors import UserError
    from globaltrack.harness.cli import split_list
    from globaltrack.harness.commands._scoring import load_for_scoring
    from globaltrack.metrics.boxes import iou
    from globaltrack.reports import plots
    from globaltrack.results.store import ResultStore

    if not args.sequence:
        raise UserError("--kind trace needs --sequence NAME")
    args.sequences = args.sequence
    sset = load_for_scoring(args)
    bench, seq = sset.benchmark, sset.sequences[0]
    store = ResultStore(args.results)
    trackers = split_list(args.trackers) or store.trackers(bench)
    gt = seq.ground_truth
    if len(gt) < 2:
        raise UserError(f"{seq.name}: the dataset gives no per-frame ground truth (test split?)")
    ious, scores = {}, {}
    for t in trackers:
        if not store.box_path(bench, t, seq.name).is_file():
            continue
        res = store.read(bench, t, seq.name)
        n = min(len(res.boxes), len(gt))
        v = np.full(len(gt), np.nan)
        v[:n] = iou(res.boxes[:n], gt[:n])
        valid = np.all(np.isfinite(gt), axis=1) & np.all(gt[:, 2:] > 0, axis=1) & ~seq.absent
        v[~valid] = np.nan       # no ground-truth box to compare with: leave a gap
        ious[t] = v
        scores[t] = res.scores
    if not ious:
        raise UserError(f"no results for sequence {seq.name}", store.root / bench)
    return plots.plot_trace(ious, scores, absent=seq.absent, title=f"{seq.name}: per-frame IoU"), bench
