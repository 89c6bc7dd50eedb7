"""commands.pairs: the best against the others seed by seed — every figure checked against
scipy.stats (or by hand, for Holm), seeds_needed checked by simulation, and the verdict on data
where the old rule (overlapping independent intervals) and the paired test disagree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from initlab.commands import pairs
from initlab.commands.seedstats import mean_ci95


def by_seed(values, seeds=None) -> dict[int, float]:
    seeds = range(len(values)) if seeds is None else seeds
    return {s: float(v) for s, v in zip(seeds, values, strict=True)}


RNG = np.random.default_rng(20261202)
BASE = RNG.normal(0.85, 0.05, size=12)  # what a seed does to every initializer alike
# a: better by 0.02 on every seed, give or take 0.003 (distinct magnitudes, no ties)
A = BASE + 0.02 + RNG.normal(0, 0.003, size=12)


def test_paired_difference_interval_and_p_values_are_scipys():
    pair = pairs.compare_pair(by_seed(A), by_seed(BASE), "b", "a", "train_accuracy")
    d = A - BASE
    assert pair.paired and pair.n_pairs == 12 and pair.excluded == 0
    assert pair.mean_diff == pytest.approx(d.mean(), abs=1e-15)
    assert pair.sd_diff == pytest.approx(d.std(ddof=1), abs=1e-15)
    ci = stats.ttest_rel(A, BASE).confidence_interval(0.95)
    assert pair.ci95 == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert pair.p_t == pytest.approx(stats.ttest_rel(A, BASE).pvalue, rel=1e-12)
    assert pair.p_wilcoxon == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-12)
    assert pair.test == "paired t" and pair.p == pair.p_t  # no ties, normal enough


def test_ties_send_the_comparison_to_wilcoxon_and_diverged_seeds_are_left_out():
    a = np.array([0.90, 0.95, 0.92, 0.88, 0.97, 0.93, 0.91, 0.94])
    b = a - np.array([0.02, 0.02, 0.01, 0.0, 0.03, 0.01, 0.02, 0.02])  # ties and a zero
    other = by_seed(b)
    other[3], other[5] = math.nan, math.nan  # two seeds diverged for b
    pair = pairs.compare_pair(by_seed(a), other, "b", "a", "train_accuracy")
    keep = [0, 1, 2, 4, 6, 7]
    assert pair.n_pairs == 6 and pair.excluded == 2 and pair.test == "Wilcoxon"
    assert pair.p == pair.p_wilcoxon == pytest.approx(
        stats.wilcoxon(a[keep] - b[keep]).pvalue, rel=1e-12)
    assert pair.p_t == pytest.approx(stats.ttest_rel(a[keep], b[keep]).pvalue, rel=1e-12)


def test_holm_step_down_by_hand():
    # sorted 0.01, 0.02, 0.04 (m = 3): 3·0.01 = 0.03, max(0.03, 2·0.02) = 0.04,
    # max(0.04, 1·0.04) = 0.04; None is not a comparison
    assert pairs.holm([0.04, None, 0.01, 0.02]) == pytest.approx([0.04, None, 0.03, 0.04])
    assert pairs.holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1 and monotone
    assert pairs.holm([0.2]) == [0.2]


def test_welch_when_the_seeds_are_not_the_same():
    a, b = A[:8], BASE[4:]
    pair = pairs.compare_pair(by_seed(a, range(8)), by_seed(b, range(4, 12)), "b", "a",
                              "train_accuracy")
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert not pair.paired and pair.test == "Welch t"
    assert pair.p == pytest.approx(ref.pvalue, rel=1e-12)
    ci = ref.confidence_interval(0.95)
    assert pair.ci95 == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_where_intervals_overlap_the_paired_test_still_separates():
    """The old verdict compared two independent 95% t intervals; these overlap widely, but
    seed by seed `a` is better every time."""
    _, lo_a, hi_a = mean_ci95(A)
    _, lo_b, hi_b = mean_ci95(BASE)
    assert lo_a <= hi_b and lo_b <= hi_a  # the old rule: "not separated"
    best, (pair,) = pairs.against_best({"b": by_seed(BASE), "a": by_seed(A)}, "train_accuracy")
    assert best == "a" and pair.init == "b" and pair.beats and pair.p_adjusted < 1e-6
    assert pair.seeds_needed is None  # decided: nothing more to collect
    lines = pairs.verdict(best, [pair], "train_accuracy")
    assert lines == ["a is best on train accuracy; seed by seed it beats b (p < 0.05 after "
                     "Holm's correction for 1 comparison)"]


def test_where_neither_rule_separates_the_seeds_needed_are_said():
    noisy = BASE + RNG.normal(0.003, 0.02, size=12)  # a small effect in much seed noise
    best, (pair,) = pairs.against_best({"x": by_seed(noisy), "y": by_seed(BASE)},
                                       "train_accuracy")
    assert not pair.beats and pair.p_adjusted > 0.05
    assert pair.seeds_needed == pairs.seeds_needed(pair.mean_diff, pair.sd_diff)
    assert pair.seeds_needed > 12
    lines = pairs.verdict(best, [pair], "train_accuracy")
    assert lines[0].endswith(f"it is not separated from {pair.init}")
    assert f"about {pair.seeds_needed:,} seeds would be needed" in lines[1]
    assert f"{pair.mean_diff:+.3g} ± {pair.sd_diff:.2g} per seed" in lines[1]


def test_lower_is_better_for_costs_and_nothing_is_best_when_all_diverged():
    cost = {"x": by_seed([0.5, 0.6, 0.55]), "y": by_seed([0.2, 0.25, 0.22])}
    assert pairs.best_init(cost, "final_cost") == "y"
    assert pairs.best_init(cost, "train_accuracy") == "x"
    nan = {"x": by_seed([math.nan] * 3), "y": by_seed([math.nan] * 3)}
    assert pairs.against_best(nan, "train_accuracy") == (None, [])
    assert "every experiment diverged" in pairs.verdict(None, [], "train_accuracy")[0]


@pytest.mark.parametrize(("effect", "spread"), [(0.02, 0.03), (0.003, 0.02), (0.01, 0.02)])
def test_seeds_needed_gives_eighty_percent_power_by_simulation(effect, spread):
    n = pairs.seeds_needed(effect, spread)
    assert n is not None and n >= 2
    rng = np.random.default_rng(int(1e6 * effect))
    trials = 2000
    d = rng.normal(effect, spread, size=(trials, n))
    p = stats.ttest_1samp(d, 0.0, axis=1).pvalue  # the paired t test on the differences
    power = float((p < 0.05).mean())
    assert abs(power - 0.80) <= 0.04, (n, power)
    if n > 2:  # one seed fewer is not enough
        assert pairs.seeds_needed(effect, spread, power=0.8) == n
        crit = stats.t.ppf(0.975, n - 2)
        nc = effect / spread * math.sqrt(n - 1)
        assert stats.nct.sf(crit, n - 2, nc) + stats.nct.cdf(-crit, n - 2, nc) < 0.8


def test_no_effect_needs_no_seeds_and_a_tiny_one_more_than_a_million():
    assert pairs.seeds_needed(0.0, 0.1) is None
    assert pairs.seeds_needed(0.1, 0.0) is None
    assert pairs.seeds_needed(1e-6, 1.0) == pairs.MAX_SEEDS + 1
