"""The first-frame fit (``target_fit``): its samples and its logistic regression, against numpy."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack import target_fit  # noqa: E402


def _iou(a, b):  # inclusive-pixel IoU (the +1 convention of the package's box_iou_v1), written out here
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = iw * ih
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_samples_are_the_target_jittered_against_detections_and_random_boxes_away_from_it():
    target = np.array([100., 80., 159., 199.])  # 60 x 120
    dets = torch.tensor([[101., 82., 160., 200.],   # the target found again: not a negative
                         [300., 60., 359., 180.],   # another detection: a negative
                         [120., 100., 179., 219.]])  # overlapping it by ~0.5: neither
    pos, neg = target_fit.first_frame_samples(target, (320, 480), dets)
    assert pos.shape[0] > 20 and torch.equal(pos[0], torch.as_tensor(target, dtype=torch.float32))
    assert all(_iou(p.tolist(), target) >= target_fit.POSITIVE_IOU for p in pos)
    assert all(_iou(n.tolist(), target) < target_fit.NEGATIVE_IOU for n in neg)
    assert any(torch.equal(n, dets[1]) for n in neg)
    assert not any(torch.equal(n, dets[0]) or torch.equal(n, dets[2]) for n in neg)
    assert neg.shape[0] > target_fit.NEGATIVE_RANDOM // 2  # most random boxes miss a target of this size
    # seeded: the same samples every time
    pos2, neg2 = target_fit.first_frame_samples(target, (320, 480), dets)
    assert torch.equal(pos, pos2) and torch.equal(neg, neg2)


def _objective(dw, db, x, logits, y, l2):
    z = logits + x @ dw + db
    w = np.where(y > 0, 0.5 / y.sum(), 0.5 / (1 - y).sum())
    loss = w * (np.logaddexp(0, z) - y * z)
    return loss.sum() + 0.5 * l2 * dw @ dw


def test_the_fit_minimises_the_regularised_balanced_logistic_loss():
    rng = np.random.default_rng(1)
    x = np.abs(rng.normal(size=(60, 16)))  # fc7 is after a ReLU
    y = (np.arange(60) < 12).astype(float)
    x[y > 0, :4] += 1.5  # positives differ along some directions
    logits = rng.normal(size=60)
    for l2 in (0.01, 0.1, 1.0):
        dw, db = target_fit.fit_logit_correction(torch.tensor(x, dtype=torch.float32),
                                                 torch.tensor(logits, dtype=torch.float32),
                                                 torch.tensor(y), l2)
        dw, db = dw.double().numpy(), float(db)
        best = _objective(dw, db, x, logits, y, l2)
        assert best < _objective(np.zeros(16), 0.0, x, logits, y, l2)
        # a minimum: no small step in any coordinate lowers the objective (numpy's own evaluation)
        for j in range(17):
            for h in (1e-3, -1e-3):
                step_w, step_b = dw.copy(), db
                if j < 16:
                    step_w[j] += h
                else:
                    step_b += h
                assert _objective(step_w, step_b, x, logits, y, l2) >= best - 1e-7
        corrected = logits + x @ dw + db
        assert corrected[y > 0].mean() - corrected[y == 0].mean() > logits[y > 0].mean() - logits[y == 0].mean()
    # a stronger L2 weight keeps the correction smaller
    small = target_fit.fit_logit_correction(torch.tensor(x, dtype=torch.float32),
                                            torch.tensor(logits, dtype=torch.float32), torch.tensor(y), 10.0)[0]
    assert float(small.norm()) < float(np.linalg.norm(dw))
