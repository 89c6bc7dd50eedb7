"""``initlab bench-train CONFIG``: an experiment file's init and training timed at several
batch sizes, the FLOP count it reports, the PyTorch loop beside it (where torch is importable)
training the same network from the same weights to the same cost, and one-line refusals."""

from __future__ import annotations

import importlib.util
import json

import pytest

from initlab.commands import bench_config
from initlab.commands.run import prepare
from initlab.experiments.config import locate

from conftest import run_cli


def test_the_flop_count_is_six_m_times_the_weights():
    plan, _ = prepare(locate("he_circles"), ["train.epochs=1"])
    m = plan.dataset.X_train.shape[1]
    assert bench_config.flop_per_iteration(plan) == 6 * m * (2 * 10 + 10 * 5 + 5 * 1)
    big, _ = prepare(locate("neanderthal_big"), ["dataset.n_samples=3", "dataset.n_features=4",
                                                 "model.layers=[4,5000,1000,10]"])
    assert bench_config.flop_per_iteration(big) == 6 * 3 * (4 * 5000 + 5000 * 1000 + 1000 * 10)


def test_rows_per_batch_size_share_the_cost_of_experiment_zero():
    found = bench_config.config_benchmark("he_circles", "cpu", [1, 4], 1, iterations=50)
    initlab_rows = [r for r in found.rows if r.method.startswith("initlab")]
    assert [r.models for r in initlab_rows] == [1, 4]
    assert initlab_rows[0].speedup == 1.0 and initlab_rows[0].peak_share is None
    # experiment 0 is the same seed at every E: the same numbers, batched or not
    assert initlab_rows[1].final_cost == initlab_rows[0].final_cost
    assert "50 iterations, float64, on cpu" in found.title


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
@pytest.mark.parametrize(("config", "sets"), [
    ("he_circles", []),
    ("neanderthal_big", ["dataset.n_samples=64", "dataset.n_features=30",
                         "model.layers=[30,20,10,10]"]),
])
def test_the_pytorch_loop_trains_the_same_network_to_the_same_cost(config, sets):
    plan, _ = prepare(locate(config), [*sets, "train.epochs=40", "train.log_every=40"])
    _, _, cost = bench_config.torch_loop(plan, "cpu", False)
    from initlab.engine.backend import get_backend

    _, _, ours = bench_config._initlab_once(plan, get_backend("cpu"))
    rel = 1e-10 if plan.config.dtype == "float64" else 1e-4
    assert cost == pytest.approx(ours, rel=rel)


def test_bench_train_config_prints_a_row_per_size_and_json(tmp_path):
    ran = run_cli(tmp_path, "bench-train", "he_circles", "--experiments", "1,3",
                  "--iterations", "20", "--repeat", "1", "--json")
    assert ran.returncode == 0, ran.explain()
    rows = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [r["models"] for r in rows[:2]] == [1, 3]
    assert all(r["table"].startswith("bench-train he_circles: 20 iterations") for r in rows)


@pytest.mark.parametrize("sizes", ["0", "a,b", ""])
def test_bad_experiment_sizes_are_one_line(tmp_path, sizes):
    ran = run_cli(tmp_path, "bench-train", "he_circles", "--experiments", sizes)
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "--experiments takes whole numbers >= 1" in lines[0]
