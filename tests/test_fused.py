"""The fused CPU engine (numba): against the NumPy engine on every activation × loss and every
full-batch optimizer (1e-12 relative after 1000 iterations, well-conditioned cases); its numbers
independent of the thread count and of the batch around an experiment (bit for bit); the
fallback to the NumPy engine where it does not apply, and ``engine: fused`` refused there."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from initlab.engine import activations, fused
from initlab.engine.backend import get_backend
from initlab.experiments import runner

from conftest import run_cli
from conftest import run_config as run

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba is a dependency")

HIDDEN = [a for a in activations.ACTIVATION_NAMES if a != "softmax"]
LOSS_SETS = {  # loss → overrides of he_circles giving a small, well-conditioned problem
    "bce": ["model.layers=[2,6,1]"],
    "softmax_ce": ["dataset={name: blobs, centers: 3, n_train: 60, n_test: 10}",
                   "model.layers=[2,6,3]", "train.loss=softmax_ce"],
    "quadratic": ["dataset={name: uniform, n_samples: 40, n_features: 3, n_outputs: 2}",
                  "model.layers=[3,6,2]", "train.loss=quadratic"],
}
OUTPUT = {"bce": "sigmoid", "softmax_ce": "softmax", "quadratic": "tanh"}


def _both(overrides: list[str], seeds: int = 2) -> tuple[runner.RunResult, runner.RunResult]:
    short = ["train.epochs=1000", "train.log_every=250", "train.lr=0.05", *overrides]
    return (run("he_circles", *short, "engine=numpy", seeds=seeds),
            run("he_circles", *short, "engine=fused", seeds=seeds))


def _agree(numpy_run: runner.RunResult, fused_run: runner.RunResult,
           atol: float = 1e-14) -> None:
    assert fused_run.plan.engine == "fused" and numpy_run.plan.engine == "numpy"
    for name, arr in numpy_run.weights_final.items():
        np.testing.assert_allclose(fused_run.weights_final[name], arr, rtol=1e-12, atol=atol,
                                   err_msg=name)
    np.testing.assert_allclose(fused_run.final_cost, numpy_run.final_cost, rtol=1e-12)
    for a, b in zip(fused_run.history.log_costs, numpy_run.history.log_costs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("loss", list(LOSS_SETS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_fused_agrees_with_numpy_on_every_activation_and_loss(hidden, loss):
    act = f"model.activations=[{hidden}, {OUTPUT[loss]}]"
    _agree(*_both([*LOSS_SETS[loss], act]))


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("loss", list(LOSS_SETS))
def test_fused_agrees_with_numpy_on_the_stateful_optimizers(optimizer, loss):
    act = f"model.activations=[tanh, {OUTPUT[loss]}]"
    # Adam divides by √v: a weight whose gradient is ~0 moves by ±lr·(rounding noise)/√v, so
    # it is held to 1e-12 of the weights' scale (about 1), not of its own tiny value
    _agree(*_both([*LOSS_SETS[loss], act, f"train.optimizer={optimizer}", "train.lr=0.01"]),
           atol=1e-12 if optimizer == "adam" else 1e-14)


def test_fused_agrees_on_a_deeper_stack_with_leaky_relu_slope_and_no_bias():
    _agree(*_both(["model.layers=[2,8,8,4,1]",
                   "model.activations=[leaky_relu(slope=0.2), tanh, gelu, sigmoid]",
                   "model.bias=false", "init.weights=he"]))


def test_threads_and_batching_do_not_change_a_bit():
    short = ["train.epochs=300", "train.log_every=100", "engine=fused"]
    one = run("he_circles", *short, seeds=6, n_workers=1)
    two = run("he_circles", *short, seeds=6, n_workers=2)
    alone = run("he_circles", *short, "seed=7")  # the batch's fifth seed (3 … 8), alone
    assert two.workers == 2 and one.workers == 1
    for name, arr in one.weights_final.items():
        np.testing.assert_array_equal(two.weights_final[name], arr)
        np.testing.assert_array_equal(alone.weights_final[name][0], arr[4])
    np.testing.assert_array_equal(one.final_cost, two.final_cost)


def test_divergence_is_recorded_as_on_the_numpy_engine():
    # the quadratic cost of linear outputs overflows once the weights blow up
    numpy_run, fused_run = _both([*LOSS_SETS["quadratic"], "model.activations=[relu, linear]",
                                  "train.lr=5", "init.weights=random"])
    np.testing.assert_array_equal(fused_run.history.diverged_at, numpy_run.history.diverged_at)
    assert (fused_run.history.diverged_at >= 0).any()


def test_mini_batches_fall_back_to_numpy_and_say_why():
    res = run("he_circles", "train.epochs=2", "train.optimizer=sgd", "train.batch_size=64")
    assert res.plan.engine == "numpy"
    assert "the fused engine is not used: it trains full batch" in res.plan.engine_note


def test_engine_fused_where_it_cannot_run_is_one_line(tmp_path):
    ran = run_cli(tmp_path, "run", "he_circles", "--set", "engine=fused", "--set",
                  "train.optimizer=sgd", "--set", "train.batch_size=64", "--dry-run")
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "engine fused: it trains full batch" in lines[0], ran.stderr
    assert "engine: numpy" in lines[0]


def test_the_engines_table_times_both_engines_in_both_precisions():
    from initlab.commands import bench_train

    bench = bench_train.peer_benchmark(20, 1, 2)
    names = [r.method for r in bench.rows if r.method.startswith("initlab")]
    assert names == [f"initlab {e} engine, {d}, 2 {u}" for e, u, d in (
        ("NumPy", "workers", "float64"), ("fused", "threads", "float64"),
        ("NumPy", "workers", "float32"), ("fused", "threads", "float32"))]
    assert all(r.seconds > 0 and r.models == 60 for r in bench.rows)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax")
def test_the_jax_peer_trains_the_same_models(tmp_path):
    from initlab.commands import bench_train, compare

    plan = compare.setup(compare.Options(bench_train.CONFIG, ["random", "he"], 2, None,
                                         ["train.epochs=50", "engine=numpy"]))
    found = bench_train._jax_process(plan, 50, 2, "float64", tmp_path)
    ours = runner.execute(plan, get_backend("cpu"))
    for name, arr in ours.weights_final.items():
        np.testing.assert_allclose(found["weights"][name], arr, rtol=1e-9, atol=1e-12)
    assert found["final_cost"] == pytest.approx(float(ours.final_cost[0]), rel=1e-9)
