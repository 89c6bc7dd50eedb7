"""Statistics over seeds, checked against values computed by hand (t quantiles from tables)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.commands import seedstats
from initlab.commands.seedstats import first_below, mean_ci95

# Student t, 0.975 quantile, by degrees of freedom (tables)
T_975 = {2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 19: 2.093024054}


def test_mean_ci95_four_values_by_hand():
    mean, lo, hi = mean_ci95(np.array([0.9, 0.95, 1.0, 0.85]))
    # mean 0.925; deviations ±0.025, ±0.075 → s² = (2·0.025² + 2·0.075²)/3 = 0.0125/3
    half = T_975[3] * math.sqrt(0.0125 / 3) / math.sqrt(4)
    assert mean == pytest.approx(0.925, abs=1e-15)
    assert (lo, hi) == pytest.approx((0.925 - half, 0.925 + half), rel=1e-9)
    assert half == pytest.approx(0.10271, abs=1e-5)


def test_mean_ci95_twenty_values_by_hand():
    values = np.array([1.0] * 18 + [0.5, 0.7])
    mean = (18 + 1.2) / 20  # 0.96
    ss = 18 * 0.04**2 + 0.46**2 + 0.26**2
    half = T_975[19] * math.sqrt(ss / 19) / math.sqrt(20)
    m, lo, hi = mean_ci95(values)
    assert m == pytest.approx(mean, abs=1e-15)
    assert hi - m == pytest.approx(half, rel=1e-9)
    assert m - lo == pytest.approx(half, rel=1e-9)


def test_one_value_has_no_interval_and_equal_values_a_point_interval():
    assert np.isnan(mean_ci95(np.array([0.7]))[1])
    assert mean_ci95(np.array([0.5] * 6)) == (0.5, 0.5, 0.5)


def _summary(acc, cost=None, to_target=None, diverged=None, test=None, success=0.9, init="x",
             ci="t"):
    acc = np.asarray(acc, dtype=float)
    n = acc.size
    return seedstats.summarize_init(
        init, acc, np.asarray(test if test is not None else acc, dtype=float),
        np.asarray(cost if cost is not None else [0.1] * n, dtype=float),
        np.asarray(to_target if to_target is not None else [-1] * n),
        np.asarray(diverged if diverged is not None else [-1] * n), success, ci)


def test_accuracy_interval_is_clipped_to_one_but_half_width_is_not():
    s = _summary([1.0, 1.0, 1.0, 1.0, 0.9])
    half = T_975[4] * math.sqrt((4 * 0.02**2 + 0.08**2) / 4) / math.sqrt(5)
    assert s.train_accuracy_mean == pytest.approx(0.98)
    assert s.train_accuracy_halfwidth == pytest.approx(half, rel=1e-9)
    assert s.train_accuracy_ci95 == pytest.approx((0.98 - half, 1.0))
    assert s.train_accuracy_range == (0.9, 1.0)


def test_success_rate_counts_seeds_at_or_above_the_threshold():
    assert _summary([0.95, 0.9, 0.8999, 0.5]).success_rate == 0.5
    assert _summary([0.95, 0.9, 0.8999, 0.5], success=0.95).success_rate == 0.25
    assert _summary([0.1, 0.2]).success_rate == 0.0


def test_median_final_cost_counts_nonfinite_as_worst():
    assert seedstats.median_nonfinite_last(np.array([1.0, np.nan, 3.0])) == 3.0
    assert seedstats.median_nonfinite_last(np.array([1.0, np.inf, np.nan])) == math.inf
    assert seedstats.median_nonfinite_last(np.array([4.0, 1.0, 2.0, 3.0])) == 2.5
    s = _summary([0.5] * 3, cost=[0.2, np.nan, 0.4], diverged=[-1, 17, -1])
    assert s.median_final_cost == 0.4
    assert s.diverged == 1


def test_first_below_is_the_first_logged_iteration_strictly_under_the_target():
    iterations = [0, 10, 20, 30]
    costs = np.array([[0.9, 0.9, np.nan],
                      [0.3, 0.8, np.nan],
                      [0.1, 0.5, np.nan],
                      [0.2, 0.29, np.nan]])
    np.testing.assert_array_equal(first_below(iterations, costs, 0.3), [20, 30, -1])


def test_median_iterations_to_target_counts_never_as_infinite():
    assert _summary([0.5] * 3, to_target=[10, -1, 30]).median_iterations_to_target == 30
    assert _summary([0.5] * 3, to_target=[10, -1, -1]).median_iterations_to_target is None
    s = _summary([0.5] * 4, to_target=[40, 10, 20, -1])
    assert s.median_iterations_to_target == 30  # (20 + 40) / 2
    assert s.reached_target == 3


def test_record_has_the_public_keys_with_lists_for_intervals():
    rec = _summary([0.9, 1.0, 0.8], init="he").record()
    for key in ("init", "n_seeds", "train_accuracy_mean", "train_accuracy_ci95",
                "test_accuracy_mean", "success_rate", "median_final_cost", "diverged"):
        assert key in rec
    assert rec["init"] == "he" and rec["n_seeds"] == 3
    assert isinstance(rec["train_accuracy_ci95"], list) and len(rec["train_accuracy_ci95"]) == 2


def test_diverged_seeds_are_failures_and_left_out_of_means_and_intervals():
    acc = [0.9, np.nan, 1.0, 0.8, np.nan]
    s = _summary(acc, cost=[0.1, np.nan, 0.2, 0.3, np.inf], diverged=[-1, 5, -1, -1, 9])
    assert s.n_seeds == 5 and s.finite == 3
    assert s.train_accuracy_mean == pytest.approx(0.9)
    half = T_975[2] * 0.1 / math.sqrt(3)  # sd of 0.9, 1.0, 0.8 is 0.1
    assert s.train_accuracy_halfwidth == pytest.approx(half)
    assert s.train_accuracy_range == (0.8, 1.0)
    assert s.success_rate == pytest.approx(2 / 5)  # 0.9 and 1.0 of five seeds
    assert s.median_final_cost == 0.3 and s.diverged == 2


def test_success_rate_has_a_wilson_interval_computed_by_scipy():
    from scipy import stats

    s = _summary([0.95, 0.9, 0.8999, 0.5])  # 2 of 4
    ci = stats.binomtest(2, 4).proportion_ci(confidence_level=0.95, method="wilson")
    assert s.success_ci95 == pytest.approx((ci.low, ci.high), abs=1e-12)
    ceiling = _summary([1.0] * 20)  # 20 of 20: the interval does not collapse to [1, 1]
    assert ceiling.success_ci95[1] == 1.0 and ceiling.success_ci95[0] == pytest.approx(
        stats.binomtest(20, 20).proportion_ci(method="wilson").low, abs=1e-12)
    assert 0.8 < ceiling.success_ci95[0] < 0.9
    # hand formula: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n), p = 1, n = 20
    z = stats.norm.ppf(0.975)
    assert ceiling.success_ci95[0] == pytest.approx((1 + z * z / 40 - z * z / 40)
                                                    / (1 + z * z / 20), abs=1e-12)


def test_accuracy_at_a_bound_gets_a_bootstrap_interval_and_says_so():
    from scipy import stats

    acc = np.array([1.0, 1.0, 0.98, 1.0, 0.96, 1.0, 0.99, 1.0])
    s = _summary(acc, ci="auto")
    assert s.train_accuracy_ci_method == "BCa" and s.train_accuracy_halfwidth is None
    ref = stats.bootstrap((acc,), np.mean, confidence_level=0.95, method="BCa",
                          n_resamples=9999, rng=np.random.default_rng(0)).confidence_interval
    assert s.train_accuracy_ci95 == pytest.approx((ref.low, min(1.0, ref.high)), abs=1e-12)
    assert s.train_accuracy_ci95[1] <= 1.0 < acc.mean() + 2 * acc.std()
    inside = _summary([0.9, 0.95, 0.85, 0.92], ci="auto")
    assert inside.train_accuracy_ci_method == "t" and inside.train_accuracy_halfwidth > 0
    forced = seedstats.summarize_init("x", np.array([0.9, 0.95, 0.85, 0.92]), None,
                                      np.ones(4), np.full(4, -1), np.full(4, -1), 0.9,
                                      ci="bootstrap")
    assert forced.train_accuracy_ci_method == "BCa"
    t_only = seedstats.summarize_init("x", acc, None, np.ones(8), np.full(8, -1),
                                      np.full(8, -1), 0.9, ci="t")
    assert t_only.train_accuracy_ci_method == "t"
    equal = _summary([1.0] * 5, ci="auto")  # nothing to resample: the interval is the value
    assert equal.train_accuracy_ci95 == (1.0, 1.0)
