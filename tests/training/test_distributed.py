"""Multi-process training (issue 12 part 3), on the CPU with the gloo backend and 2 processes.

- 2 processes x 1 pair per step end with the parameters of 1 process x 2 pairs per step on the same pairs (3 steps);
- a run killed with SIGKILL mid-training resumes on both ranks and ends where the uninterrupted run ends.

Random anchor/RoI subsampling draws from each process's own RNG, so the model here samples everything
(``rpn_batch``/``rcnn_batch`` larger than the candidates): what is compared is the data-parallel arithmetic.
"""
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():  # pragma: no cover
    pytest.skip("torch.distributed is not available", allow_module_level=True)

from globaltrack.training.train import TrainConfig, train  # noqa: E402
from globaltrack.harness.devices import parse_device_list as parse_devices  # noqa: E402
from globaltrack.training.distributed import DistContext, launch  # noqa: E402
from globaltrack.errors import UserError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def tiny_config(root) -> TrainConfig:
    return TrainConfig(
        name="ddp-test", model="tiny",
        model_overrides={"rpn_batch": 10 ** 6, "rcnn_batch": 10 ** 6, "image_scale": (64, 48),
                         "train_proposals": {"nms_pre": 100, "nms_post": 50, "max_num": 50, "nms_thr": 0.7}},
        epochs=1, pairs_per_epoch=400, batch_size=2, lr=0.01, warmup_iters=0, probs={"synthetic": 1.0},
        synthetic_root=str(root), synthetic_sequences=2, synthetic_frames=30, synthetic_size=(64, 48),
        photometric=True, threads=1, save_every_minutes=0.0, seed=3)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from globaltrack.benchmarks.synthetic import generate

    root = tmp_path_factory.mktemp("synth")
    return generate(root, seed=1, split="train", sequences=2, frames=30, size=(64, 48))


def _state(path):
    return torch.load(path, map_location="cpu", weights_only=False)


def _assert_same_parameters(a, b):
    sa, sb = a["state_dict"], b["state_dict"]
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], atol=2e-6, rtol=1e-4, msg=k)


def test_shard_takes_each_rank_its_share_of_a_global_batch():
    ranks = [DistContext(r, 2, torch.device("cpu")) for r in range(2)]
    assert [c.shard([5, 6, 7, 8]) for c in ranks] == [[5, 7], [6, 8]]
    assert [c.shard([9]) for c in ranks] == [[9], [9]]  # a short last batch: no rank without a pair
    with pytest.raises(UserError, match="multiple"):
        ranks[0].check_batch_size(3)
    assert parse_devices("cuda:0,cuda:1") == ["cuda:0", "cuda:1"] and parse_devices("2") == ["cuda:0", "cuda:1"]
    with pytest.raises(UserError):
        parse_devices("cuda:0,cpu")


def test_each_rank_loads_only_its_pairs():
    from globaltrack.training.train import _batches

    data = list(range(100))
    order = list(range(10, 30))
    seen = [list(_batches(data, order, 1, 3, 4, 0, DistContext(r, 2, torch.device("cpu")).shard)) for r in (0, 1)]
    assert seen == [[[14, 16], [18, 20]], [[15, 17], [19, 21]]]


def _fix(cfg):
    # model_overrides travel through the checkpoint config as plain values; ProposalConfig from its dict
    from globaltrack.trackers.globaltrack.config import ProposalConfig

    mo = dict(cfg.model_overrides)
    mo["train_proposals"] = ProposalConfig(**mo["train_proposals"])
    return replace(cfg, model_overrides=mo)


def test_two_gloo_processes_equal_one_process_on_the_same_pairs(synth, tmp_path):
    cfg = _fix(tiny_config(synth))
    single = train(replace(cfg, max_iters=3), tmp_path / "single", quiet=True)
    launch(train, replace(cfg, max_iters=3), ["cpu", "cpu"], tmp_path / "ddp", quiet=True)
    a, b = _state(single), _state(tmp_path / "ddp" / "latest.pth")
    assert a["meta"]["iteration"] == b["meta"]["iteration"] == 3
    # the parameters moved (else equality would prove nothing) and equal the single process's
    import random

    from globaltrack.training.train import build_model, init_for_scratch_training

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    start = build_model(cfg.model, **dict(cfg.model_overrides))
    init_for_scratch_training(start)
    moved = max(float((a["state_dict"][k].float() - v.float()).abs().max()) for k, v in start.state_dict().items())
    assert moved > 1e-3
    _assert_same_parameters(a, b)
    # rank 0 alone wrote the log: one row per step, losses averaged over the two ranks
    rows = (tmp_path / "ddp" / "train_log.csv").read_text().splitlines()
    assert len(rows) == 4
    single_rows = (tmp_path / "single" / "train_log.csv").read_text().splitlines()
    loss_col = rows[0].split(",").index("loss")
    for r_ddp, r_one in zip(rows[1:], single_rows[1:]):
        assert float(r_ddp.split(",")[loss_col]) == pytest.approx(float(r_one.split(",")[loss_col]), rel=1e-4)


def test_a_killed_two_process_run_resumes_on_every_rank(synth, tmp_path):
    cfg = _fix(tiny_config(synth))
    out = tmp_path / "killed"
    script = ("import sys; from pathlib import Path; import pickle\n"
              "from globaltrack.training.train import train\n"
              "from globaltrack.training.distributed import launch\n"
              "cfg = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
              "launch(train, cfg, ['cpu', 'cpu'], Path(sys.argv[2]), quiet=True)\n")
    import pickle

    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", script, pickle.dumps(cfg).hex(), str(out)], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    latest = out / "latest.pth"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if latest.exists() and _state(latest)["meta"]["iteration"] >= 1:
                break
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.05)
        else:
            pytest.fail("the 2-process run wrote no checkpoint in time")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks, mid-step
        proc.wait()
    killed_at = _state(latest)["meta"]["iteration"]
    steps = max(3, killed_at + 1)
    launch(train, replace(cfg, max_iters=steps), ["cpu", "cpu"], out, resume=True, quiet=True)
    resumed = _state(latest)
    assert resumed["meta"]["iteration"] == steps
    reference = train(replace(cfg, max_iters=steps), tmp_path / "reference", quiet=True)
    _assert_same_parameters(resumed, _state(reference))
    rows = (out / "train_log.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, steps + 1))
