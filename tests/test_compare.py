"""`initlab compare` in process: inits × seeds on one axis, summaries, exactness against `run`,
independence from worker processes and memory chunks, divergence, memory planning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.commands import compare
from initlab.engine import memory, train
from initlab.errors import InitlabError
from initlab.experiments import runner
from initlab.reporting import folder, run_tables

from conftest import CONFIGS, CPU, HE, run_config

T_975_19 = 2.093024054  # Student t, 0.975 quantile, 19 degrees of freedom (tables)


def plan_for(inits, seeds=None, seed_list=None, overrides=(), config=HE):
    return compare.setup(compare.Options(config, list(inits), seeds, seed_list, list(overrides)))


@pytest.fixture(scope="module")
def coursera20():
    """The Coursera circles experiment, zeros/random/he × 20 seeds, full 15 000 iterations."""
    plan = plan_for(["zeros", "random", "he"], seeds=20)
    result = runner.execute(plan, CPU, n_workers=2)
    return result, compare.summarize(result, 0.9, 0.3, "t")


def _rows(result, init):
    return np.array([e.init == init for e in result.plan.experiments])


def test_axis_is_init_major_with_consecutive_seeds(coursera20):
    result, summaries = coursera20
    experiments = result.plan.experiments
    assert [e.init for e in experiments] == ["zeros"] * 20 + ["random"] * 20 + ["he"] * 20
    assert [e.seed for e in experiments[:20]] == list(range(3, 23))  # the file's seed is 3
    assert result.plan.groups == {"zeros": slice(0, 20), "random": slice(20, 40),
                                  "he": slice(40, 60)}
    assert [s.init for s in summaries] == ["zeros", "random", "he"]
    assert all(s.n_seeds == 20 for s in summaries)


def test_zeros_is_symmetric_on_every_seed(coursera20):
    result, summaries = coursera20
    rows = _rows(result, "zeros")
    np.testing.assert_array_equal(result.train_accuracy[rows], 0.5)
    costs = np.stack(result.history.log_costs)[:, rows]  # (T, 20)
    assert (costs == costs[:, :1]).all()  # identical cost curves
    assert costs[0, 0] == pytest.approx(math.log(2), abs=1e-15)
    assert (result.layers_final["distinct_units"][rows] == 1).all()
    assert summaries[0].success_rate == 0.0


def test_he_beats_random_over_twenty_seeds(coursera20):
    result, (zeros, rnd, he) = coursera20
    assert he.train_accuracy_mean > rnd.train_accuracy_mean > zeros.train_accuracy_mean
    assert he.success_rate > rnd.success_rate
    assert he.median_final_cost < rnd.median_final_cost < zeros.median_final_cost
    best, paired = compare.pairs.against_best(
        compare.metric_values(result, "train_accuracy", 0.3), "train_accuracy")
    assert best == "he" and all(p.beats for p in paired)


def test_summary_arithmetic_matches_a_hand_computation(coursera20):
    result, summaries = coursera20
    for s in summaries:
        acc = result.train_accuracy[_rows(result, s.init)]
        mean = sum(acc) / 20
        sd = math.sqrt(sum((a - mean) ** 2 for a in acc) / 19)
        half = T_975_19 * sd / math.sqrt(20)
        assert s.train_accuracy_mean == pytest.approx(mean, abs=1e-12)
        assert s.train_accuracy_halfwidth == pytest.approx(half, abs=1e-9)
        assert s.train_accuracy_ci95 == pytest.approx((max(0, mean - half), min(1, mean + half)))
        assert s.success_rate == sum(a >= 0.9 for a in acc) / 20
        assert s.train_accuracy_range == (min(acc), max(acc))
        costs = sorted(result.final_cost[_rows(result, s.init)])
        assert s.median_final_cost == pytest.approx((costs[9] + costs[10]) / 2, rel=1e-12)


def test_time_to_target_is_read_off_the_logged_curves(coursera20):
    result, summaries = coursera20
    its, costs = result.history.log_iterations, np.stack(result.history.log_costs)
    for s in summaries:
        firsts = []
        for e in np.flatnonzero(_rows(result, s.init)):
            hit = [it for it, c in zip(its, costs[:, e], strict=True) if c < 0.3]
            firsts.append(hit[0] if hit else math.inf)
        firsts.sort()
        median = (firsts[9] + firsts[10]) / 2
        assert s.reached_target == sum(math.isfinite(f) for f in firsts)
        if math.isfinite(median):
            assert s.median_iterations_to_target == median
        else:
            assert s.median_iterations_to_target is None
    assert summaries[0].median_iterations_to_target is None  # zeros stays at ln 2


def test_cost_is_logged_on_a_fine_grid(coursera20):
    result, _ = coursera20
    its = result.history.log_iterations
    assert its[0] == 0 and its[-1] == 15000
    assert np.diff(its).max() == 150  # ⌈15000 / 100⌉, finer than the file's log_every 1000


@pytest.fixture(scope="module")
def short_nine():
    return plan_for(["zeros", "random", "he"], seeds=3, overrides=["train.epochs=300"])


@pytest.mark.parametrize(("init", "seed"), [("random", 4), ("he", 5), ("zeros", 3)])
def test_legacy_slice_is_exactly_the_run_of_that_seed(short_nine, init, seed):
    batched = runner.execute(short_nine, CPU)
    e = next(i for i, x in enumerate(batched.plan.experiments) if (x.init, x.seed) == (init, seed))
    alone = run_config(HE, "train.epochs=300", f"init.weights={init}", f"seed={seed}")
    for name, value in alone.weights_final.items():
        np.testing.assert_array_equal(batched.weights_final[name][e], value[0], err_msg=name)
    assert batched.train_accuracy[e] == alone.train_accuracy[0]
    assert batched.test_accuracy[e] == alone.test_accuracy[0]
    assert batched.final_cost[e] == alone.final_cost[0]
    shared = dict(zip(alone.history.log_iterations, alone.history.log_costs, strict=True))
    for it, costs in zip(batched.history.log_iterations, batched.history.log_costs, strict=True):
        if it in shared:
            assert costs[e] == shared[it][0], it


def _same(a, b):
    for name in a.weights_final:
        np.testing.assert_array_equal(a.weights_final[name], b.weights_final[name])
    np.testing.assert_array_equal(np.stack(a.history.log_costs), np.stack(b.history.log_costs))
    np.testing.assert_array_equal(a.history.diverged_at, b.history.diverged_at)
    np.testing.assert_array_equal(a.train_accuracy, b.train_accuracy)
    assert a.layers_init == b.layers_init and a.layers_final == b.layers_final
    assert a.history.log_iterations == b.history.log_iterations


def test_workers_and_memory_chunks_do_not_change_a_number(short_nine, monkeypatch):
    one = runner.execute(short_nine, CPU, n_workers=1)
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)  # force 3 shards for 9 experiments
    assert len(train.shard_bounds(short_nine.net, 9, 300, 3)) == 3
    forked = runner.execute(short_nine, CPU, n_workers=3)
    chunks = memory.plan_chunks(9, per_experiment=1000, budget=4000)  # 4 + 4 + 1
    assert chunks.size == 4 and chunks.count == 3
    chunked = runner.execute(short_nine, CPU, n_workers=2, chunks=chunks)
    assert chunked.plan.experiments == short_nine.experiments
    _same(one, forked)
    _same(one, chunked)


def test_chunks_past_the_weight_limit_drop_weights_not_results(short_nine, monkeypatch,
                                                               tmp_path):
    monkeypatch.setattr(runner, "WEIGHTS_KEEP_BYTES", 1000)
    chunked = runner.execute(short_nine, CPU, chunks=memory.plan_chunks(9, 1000, 3000))
    assert chunked.weights_init is None and chunked.weights_final is None
    assert chunked.train_accuracy.shape == (9,)
    folder.save_run(tmp_path, chunked, "name: x\n", {})
    assert not (tmp_path / "weights_init.npz").exists()
    metrics = (tmp_path / "metrics.json").read_text()
    assert '"weights_saved": false' in metrics


LEAKY_QUADRATIC = ["train.epochs=2000", "train.lr=0.01", "train.loss=quadratic",
                   "model.activations=[leaky_relu,leaky_relu,linear]"]


def test_a_diverging_initializer_is_counted_and_the_others_train():
    plan = plan_for(["he", "normal(std=100)"], seeds=3, overrides=LEAKY_QUADRATIC)
    result = runner.execute(plan, CPU)
    he, big = compare.summarize(result, 0.9, 0.3)
    assert big.diverged == 3 and he.diverged == 0
    rows = _rows(result, "he")
    assert np.isfinite(result.final_cost[rows]).all()
    start = result.history.log_costs[0][rows]
    assert (result.final_cost[rows] < start).all()  # he kept training beside the blow-ups
    assert np.isinf(big.median_final_cost)
    assert result.history.n_iterations == 2000 and not result.history.interrupted


def test_seed_list_and_options_validation():
    plan = plan_for(["he"], seed_list=[0, 7, 19], overrides=["train.epochs=10"])
    assert [e.seed for e in plan.experiments] == [0, 7, 19]
    assert compare.parse_seed_list(" 4, 2 ") == [4, 2]
    for text, expected in [("1,1", "listed twice"), ("1,x", "not a non-negative integer"),
                           ("-1", "not a non-negative integer"), ("", "not a non-negative")]:
        with pytest.raises(InitlabError, match=expected):
            compare.parse_seed_list(text)
    with pytest.raises(InitlabError, match="not both"):
        compare.options(None, None, 2, "1,2", [])
    with pytest.raises(InitlabError, match="at least 1"):
        compare.options(None, None, 0, None, [])
    with pytest.raises(InitlabError, match="listed twice"):
        plan_for(["he", "he"], seeds=1)
    assert compare.options(None, None, None, None, []).inits is None  # the file or the default
    default = compare.setup(compare.options(None, None, None, None, ["train.epochs=10"]))
    assert list(default.inits) == ["zeros", "random", "he"]
    assert default.config.compare.inits == ["zeros", "random", "he"]
    assert default.config.compare.seeds == [3] and default.config.compare.success == 0.9


def test_bytes_per_experiment_follows_its_formula():
    # 2 → 3 → 1, batch 4, 10 train and 5 test samples, float64: units 4, params 3·3 + 1·4 = 13
    expected = 8 * 4 * (3 * 4 + 5 * 10 + 3 * 5) + 8 * 8 * 13
    assert memory.bytes_per_experiment((2, 3, 1), 10, 5, 4, 8) == expected


def test_chunk_plan_splits_what_does_not_fit():
    c = memory.plan_chunks(100_000, per_experiment=10_000_000, budget=2 * 10**9)
    assert c.size == 200 and c.count == 500
    assert c.bounds()[0] == (0, 200) and c.bounds()[-1] == (99_800, 100_000)
    assert "500 chunks of ≤ 200" in run_tables.chunking_line(c, 2)
    small = memory.plan_chunks(7, per_experiment=10, budget=10**9)
    assert small.size == 7 and small.count == 1
    assert "one batch" in run_tables.chunking_line(small, 1)
    assert memory.plan_chunks(5, per_experiment=10**12, budget=1).size == 1


def test_digits_with_a_hundred_thousand_seeds_is_planned_in_chunks():
    plan = plan_for(["he"], seeds=100_000, config=CONFIGS / "digits_tanh.yaml")
    c = runner.chunks_for(plan, CPU, limit=2 * 1024**3)
    assert 1 < c.size < 100_000 and c.size * c.count >= 100_000
    assert c.size * c.per_experiment <= 2 * 1024**3 < (c.size + 1) * c.per_experiment


@pytest.mark.parametrize(("text", "value"), [("512MB", 512 * 10**6), ("2GiB", 2 * 1024**3),
                                             ("1.5g", 1.5e9), ("4096", 4096), ("1e9", 10**9)])
def test_parse_bytes(text, value):
    assert memory.parse_bytes(text) == value


@pytest.mark.parametrize("text", ["12XB", "lots", "-5MB", "10"])
def test_parse_bytes_rejects(text):
    with pytest.raises(InitlabError, match="--max-memory"):
        memory.parse_bytes(text)
