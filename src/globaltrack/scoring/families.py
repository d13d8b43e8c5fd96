"""Metric families as objects with one contract (as TrackEval's metrics have): score one sequence, combine
sequences, give per-sequence values, name their measures. `evaluate` picks a family by
``protocol.family`` and never branches on it; adding a family touches this module (and its pure functions in
``metrics/``).
"""
from __future__ import annotations

import numpy as np

from globaltrack.metrics import longterm, ope
from globaltrack.metrics.ope import SequenceScore
from globaltrack.metrics.protocols import Protocol
from globaltrack.sequence import Sequence

class MetricFamily:
    """The contract. ``score_many`` may vectorise over sequences; the default scores them one by one."""

    name = ""
    needs_sidecar = False                    # reads the scores / presence of ``<seq>.frames.csv``

    def score(self, protocol: Protocol, seq: Sequence, boxes: np.ndarray, sidecar, path) -> SequenceScore:
        """One sequence's contribution; ``sidecar`` is ``(scores, present, times)`` or None."""
        raise NotImplementedError

    def score_many(self, protocol: Protocol, items) -> list[SequenceScore]:
        """``items``: ``[(seq, boxes, sidecar, path), ...]``."""
        return [self.score(protocol, seq, boxes, sidecar, path) for seq, boxes, sidecar, path in items]

    def combine(self, protocol: Protocol, scores: list[SequenceScore]):
        """``(scores, curves, notes)`` over the sequences, as the toolkit aggregates them."""
        raise NotImplementedError

    def per_sequence(self, protocol: Protocol, scores: list[SequenceScore]) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    def measures(self, protocol: Protocol) -> tuple[str, ...]:
        return tuple(protocol.metrics)

    def reads_sidecar(self, protocol: Protocol) -> bool:
        return self.needs_sidecar


class OnePassEvaluation(MetricFamily):
    """Success / precision / normalised precision (OTB, LaSOT, TrackingNet, GOT-10k, TLP ... toolkits)."""

    name = "ope"

    def score(self, protocol, seq, boxes, sidecar, path):
        times = None if sidecar is None else sidecar[2]
        return ope.score_sequence(protocol, seq.name, seq.ground_truth, seq.absent, boxes, seq.metadata, times,
                                  path)

    def score_many(self, protocol, items):
        # one vectorised pass over every frame of the sequences
        return ope.score_sequences(protocol, [
            (seq.name, seq.ground_truth, seq.absent, boxes, seq.metadata, None if sc is None else sc[2], path)
            for seq, boxes, sc, path in items])

    def combine(self, protocol, scores):
        return ope.combine(protocol, scores)

    def per_sequence(self, protocol, scores):
        return {s.name: ope.per_sequence_scores(protocol, s) for s in scores}

    def reads_sidecar(self, protocol):
        return protocol.speed != "none"       # per-frame times for the toolkit's fps


class OxUvAEvaluation(MetricFamily):
    """OxUvA assess.py: TPR, TNR, GM, MaxGM from the presence decisions and IoU >= threshold."""

    name = "oxuva"
    needs_sidecar = True

    def score(self, protocol, seq, boxes, sidecar, path):
        scores, present, _ = sidecar if sidecar is not None else (None, None, None)
        return longterm.oxuva_sequence(protocol, seq, boxes, present, scores, path)

    def combine(self, protocol, scores):
        return longterm.oxuva_combine(protocol, scores)

    def per_sequence(self, protocol, scores):
        out = {}
        for s in scores:
            values = longterm.oxuva_combine(protocol, [s])[0]
            values.update({k.lower(): float(s.arrays[k].sum()) for k in ("TP", "FN", "TN", "FP") if k in s.arrays})
            # presence is known only where the annotation says so: TPR needs present labels, TNR absent ones
            values["labels_present"] = float(np.sum(s.arrays.get("gt_present", [])))
            values["labels_absent"] = float(len(s.arrays.get("gt_present", [])) - values["labels_present"])
            out[s.name] = values
        return out


class VOTLongTermEvaluation(MetricFamily):
    """VOT long-term: tracking precision / recall over confidence thresholds, F maximised."""

    name = "vot-lt"
    needs_sidecar = True

    def score(self, protocol, seq, boxes, sidecar, path):
        return longterm.votlt_sequence(protocol, seq, boxes, None if sidecar is None else sidecar[0], path)

    def combine(self, protocol, scores):
        return longterm.votlt_combine(protocol, scores)

    def per_sequence(self, protocol, scores):
        return longterm.votlt_per_sequence(protocol, scores)


class PooledF1Evaluation(MetricFamily):
    """pytracking's pooled precision / recall / F1 over every frame of every sequence."""

    name = "pooled-f1"
    needs_sidecar = True

    def score(self, protocol, seq, boxes, sidecar, path):
        return longterm.pooled_sequence(protocol, seq, boxes, None if sidecar is None else sidecar[0], path)

    def combine(self, protocol, scores):
        return longterm.pooled_combine(protocol, scores)

    def per_sequence(self, protocol, scores):
        out = {}
        for s in scores:
            values = longterm.pooled_combine(protocol, [s])[0] if s.denominator else {}
            out[s.name] = {"n_frames": float(s.denominator), **values}
        return out


FAMILIES: dict[str, MetricFamily] = {f.name: f for f in (OnePassEvaluation(), OxUvAEvaluation(),
                                                          VOTLongTermEvaluation(), PooledF1Evaluation())}


def family(protocol: Protocol) -> MetricFamily:
    return FAMILIES[protocol.family]
