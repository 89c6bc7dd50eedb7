"""experiments.runner and the experiment axis: many seeds in one training equal the same seeds
run alone; the engine agrees with an independent implementation (the notebook-style loop); one
chunk loop whatever the chunking."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from initlab.commands import reference
from initlab.engine import memory
from initlab.experiments import config, runner
from initlab.experiments import plan as plans

from conftest import CONFIGS, CPU, run_config

SHORT = ["train.epochs=300", "train.log_every=100"]


def run(*overrides: str, seeds: int | None = None, config: str = "he_circles", **execute):
    return run_config(config, *SHORT, *overrides, seeds=seeds, **execute)


@pytest.fixture(scope="module")
def batched():
    return run(seeds=20)


def test_seeds_20_trains_20_experiments_in_one_run(batched):
    assert batched.plan.n_experiments == 20
    assert [m.seed for m in batched.plan.experiments] == list(range(3, 23))
    assert batched.weights_final["W1"].shape == (20, 10, 2)
    assert batched.weights_final["b3"].shape == (20, 1)


@pytest.mark.parametrize("index", [0, 7, 19])
def test_each_slice_is_bit_identical_to_that_seed_alone(batched, index):
    seed = 3 + index
    alone = run(f"seed={seed}")
    for name, arr in alone.weights_final.items():
        np.testing.assert_array_equal(batched.weights_final[name][index], arr[0], err_msg=name)
    assert batched.history.cost_curve(index) == alone.history.cost_curve(0)
    assert batched.train_accuracy[index] == alone.train_accuracy[0]


def test_numpy_rng_slices_are_also_independent_of_the_batch():
    batched = run("rng=numpy", "seed=10", seeds=3)
    alone = run("rng=numpy", "seed=12")
    np.testing.assert_array_equal(batched.weights_init["W2"][2], alone.weights_init["W2"][0])
    np.testing.assert_array_equal(batched.weights_final["W2"][2], alone.weights_final["W2"][0])
    assert not np.array_equal(batched.weights_init["W1"][0], batched.weights_init["W1"][1])


# random (σ = 10) saturates the sigmoid, and its trajectory then depends on exp/BLAS rounding
# (the notebook's own loop drifts from its printed costs too); σ = 0.5 is well conditioned.
@pytest.mark.parametrize("init, scale", [("he", "he"), ("normal(std=0.5)", 0.5)])
def test_engine_matches_the_notebook_loop(init, scale):
    res = run(f"init.weights={init}")
    data = res.plan.dataset
    params = reference.initialize_parameters([2, 10, 5, 1], scale, seed=3)
    for l in (1, 2, 3):  # same starting point, drawn independently of initlab
        np.testing.assert_array_equal(res.weights_init[f"W{l}"][0], params[f"W{l}"])
    params, costs = reference.model(data.X_train, data.y_train, params, 0.01, 300, log_every=100)
    for l in (1, 2, 3):
        np.testing.assert_allclose(res.weights_final[f"W{l}"][0], params[f"W{l}"],
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.weights_final[f"b{l}"][0], params[f"b{l}"][:, 0],
                                   rtol=1e-9, atol=1e-12)
    ours = dict(res.history.cost_curve(0))
    for it, cost in costs:
        if np.isfinite(cost):  # the notebook's log(0) gives inf where ours is finite
            assert ours[it] == pytest.approx(cost, rel=1e-9)


def test_same_config_and_seed_give_identical_numbers():
    a, b = run(seeds=2), run(seeds=2)
    for name in a.weights_final:
        np.testing.assert_array_equal(a.weights_final[name], b.weights_final[name])


def test_float32_runs_close_to_float64():
    r64, r32 = run(), run("dtype=float32")
    assert r32.weights_final["W1"].dtype == np.float32
    np.testing.assert_allclose(r32.final_cost, r64.final_cost, rtol=1e-3)


def test_a_diverging_experiment_is_flagged_and_the_others_train():
    # A linear network with quadratic cost: gradient descent at lr 0.05 is stable from He's small
    # weights and explodes from N(0, 3²) (the curvature grows with the weights' scale).
    cfg = config.load(CONFIGS / "he_circles.yaml", [
        "model.activations=[linear,linear,linear]", "train.loss=quadratic", "train.lr=0.05",
        "train.epochs=50", "train.log_every=1"])
    plan = plans.build(cfg, inits=["he", "normal(std=3)"], seeds=[3, 4])
    res = runner.execute(plan, CPU)
    div = res.history.diverged_at
    assert list(div[:2]) == [-1, -1] and (div[2:] >= 0).all()
    assert np.isfinite(res.final_cost[:2]).all()
    # the healthy experiments keep their accuracy beside the diverged ones, as when run alone
    alone = runner.execute(plans.build(cfg, inits=["he"], seeds=[3, 4]), CPU)
    assert np.array_equal(res.train_accuracy[:2], alone.train_accuracy)
    assert np.array_equal(res.test_accuracy[:2], alone.test_accuracy)
    assert np.isnan(res.train_accuracy[2:]).all()
    for e in (2, 3):
        curve = res.history.cost_curve(e)
        assert all(np.isfinite(c) for it, c in curve if it < div[e])
        assert not any(np.isfinite(c) for it, c in curve if it >= div[e])


# ------------------------------------------------------------------------- one chunk loop

CHUNKS_3 = memory.plan_chunks(5, per_experiment=1000, budget=2000)  # 2 + 2 + 1


def test_every_chunk_draws_and_measures_once_and_logs_its_costs(monkeypatch):
    drawn, init_stats, logs = [], [], []
    real = runner.starting_values

    def counting(plan, start=0, stop=None, xp=np):
        drawn.append((start, stop))
        return real(plan, start, stop, xp)

    monkeypatch.setattr(runner, "starting_values", counting)
    callbacks = runner.Callbacks(
        on_init_stats=lambda chunk, layers: init_stats.append((chunk.index, layers)),
        on_log=lambda chunk, it, costs: logs.append((chunk.index, it, costs.copy())))
    chunked = run(seeds=5, callbacks=callbacks, chunks=CHUNKS_3)
    assert drawn == [(0, 2), (2, 4), (4, 5)]
    assert [(k, layers.n_experiments) for k, layers in init_stats] == [(0, 2), (1, 2), (2, 1)]
    assert [c.index for c in chunked.chunks] == [0, 1, 2]
    for k, (a, b) in enumerate([(0, 2), (2, 4), (4, 5)]):
        mine = [(it, costs) for j, it, costs in logs if j == k]
        assert [it for it, _ in mine] == [0, 100, 200, 300]
        for t, (_, costs) in enumerate(mine):  # the costs logged are the run's history
            np.testing.assert_array_equal(costs, chunked.history.log_costs[t][a:b])
    whole = run(seeds=5)
    assert chunked.layers_init == whole.layers_init and chunked.layers_final == whole.layers_final
    np.testing.assert_array_equal(np.stack(chunked.history.log_costs),
                                  np.stack(whole.history.log_costs))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_keeps_finished_chunks_and_the_running_one_as_far_as_it_got(signum):
    def stop_in_chunk_two(done, total):
        if done == total // 3 + 128:  # chunk 2 (of 3) has run two segments
            os.kill(os.getpid(), signum)

    res = run(seeds=5, callbacks=runner.Callbacks(on_step=stop_in_chunk_two), chunks=CHUNKS_3)
    assert res.history.interrupted and res.status == "interrupted"
    assert [e.seed for e in res.plan.experiments] == [3, 4, 5, 6]  # chunk 3 never started
    done = res.history.iterations_done(4)
    assert list(done[:2]) == [300, 300] and list(done[2:]) == [128, 128]
    assert res.history.n_iterations == 300
    for e in range(4):
        curve = res.history.cost_curve(e)
        assert curve[-1][0] == done[e]
        assert all(np.isfinite(c) for _, c in curve)
    assert res.final_cost.shape == (4,) and res.layers_final.n_experiments == 4
    alone = run("seed=5", "train.epochs=128")  # the interrupted chunk's first experiment
    np.testing.assert_array_equal(res.weights_final["W2"][2], alone.weights_final["W2"][0])


def test_a_stop_request_between_chunks_starts_no_other_chunk(monkeypatch):
    real = runner._train_chunk

    def then_signal(plan, backend, data, chunk, callbacks, n_workers):
        part = real(plan, backend, data, chunk, callbacks, n_workers)
        if chunk.index == 0:
            os.kill(os.getpid(), signal.SIGTERM)
        return part

    monkeypatch.setattr(runner, "_train_chunk", then_signal)
    res = run(seeds=5, chunks=CHUNKS_3)
    assert res.history.interrupted and [c.index for c in res.chunks] == [0]
    assert list(res.history.iterations_done(2)) == [300, 300]


def test_a_diverged_experiment_has_no_accuracy():
    res = run("model.activations=[linear,linear,linear]", "train.loss=quadratic",
              "train.lr=0.05", "init.weights=normal(std=3)", "train.epochs=200", seeds=3)
    assert (res.history.diverged_at >= 0).all()
    assert np.isnan(res.train_accuracy).all() and np.isnan(res.test_accuracy).all()
    healthy = run(seeds=2)
    assert np.isfinite(healthy.train_accuracy).all()
