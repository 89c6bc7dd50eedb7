"""Paired comparisons over seeds: every initializer against the best, seed by seed.

``compare`` gives every initializer the same seeds, data and batch order (common random numbers),
so the results of two initializers on one seed are a pair, and the difference of a pair is much
less noisy than either result. For every other initializer, over the seeds where both results are
finite (the others are counted in ``excluded``):

- d_s = best_s − other_s, its mean and 95% interval mean ± t(0.975, n−1)·sd/√n (paired t);
- p-values of the paired t test and of the Wilcoxon signed-rank test (``scipy.stats.ttest_rel``,
  ``wilcoxon``, two-sided). The one used is Wilcoxon when the differences have ties (zeros or equal
  magnitudes: accuracies on a few hundred samples often do) or look far from normal (Shapiro–Wilk
  p < 0.05 on 8 pairs or more), else the paired t test;
- that p adjusted for the comparisons made (Holm's step-down); the best *beats* an initializer when
  the adjusted p is below 5% and the difference points its way;
- while not separated, ``seeds_needed``: the fewest seeds at which a paired t test at the 5% level
  (two-sided) has 80% power against the observed mean difference at the observed spread of the
  differences (noncentral t, ``scipy.stats.nct``).

Initializers not run on the same seeds (none of ``compare``'s, but results merged from elsewhere
could be) are compared unpaired, with Welch's t test.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

# which way is better for each metric: +1 higher, −1 lower
METRICS = {"train_accuracy": 1, "test_accuracy": 1, "final_cost": -1, "iterations_to_target": -1}
ALPHA, POWER = 0.05, 0.80
MAX_SEEDS = 1_000_000  # seeds_needed beyond this is reported as "more than"
NORMALITY_MIN_PAIRS = 8  # Shapiro–Wilk is consulted from this many pairs on


@dataclass(frozen=True)
class Pair:
    """The best initializer ``vs`` against ``init`` on ``metric``: ``mean_diff`` = best − init
    over ``n_pairs`` seeds (``excluded`` left out for a non-finite result), its paired-t
    ``ci95``, the p-values, the ``test`` used and its Holm-adjusted ``p_adjusted``, whether the
    best ``beats`` it, and while it does not, ``seeds_needed`` (None: no effect to detect, or too
    few pairs to estimate one; MAX_SEEDS + 1: more than MAX_SEEDS)."""

    init: str
    vs: str
    metric: str
    paired: bool
    n_pairs: int
    excluded: int
    mean_diff: float | None
    sd_diff: float | None
    ci95: tuple[float, float] | None
    p_t: float | None
    p_wilcoxon: float | None
    test: str
    p: float | None
    p_adjusted: float | None = None
    beats: bool = False
    seeds_needed: int | None = None

    def record(self) -> dict:
        """The public ``metrics.json`` / ``pairs.csv`` object."""
        out = dict(self.__dict__)
        out["ci95"] = None if self.ci95 is None else list(self.ci95)
        return out


def best_init(values: dict[str, dict[int, float]], metric: str) -> str | None:
    """The initializer with the best mean of ``metric`` over its finite results (None when no
    initializer has one)."""
    means = {init: np.mean([v for v in by_seed.values() if np.isfinite(v)])
             for init, by_seed in values.items()
             if any(np.isfinite(v) for v in by_seed.values())}
    if not means:
        return None
    return max(means, key=lambda init: METRICS[metric] * means[init])


def _stats():
    from scipy import stats  # noqa: PLC0415 (slow to import; only when compared)

    return stats


def compare_pair(best: dict[int, float], other: dict[int, float], init: str, vs: str,
                 metric: str) -> Pair:
    """One comparison (unadjusted): paired over the seeds both have, or Welch's t when the two
    were not run on the same seeds."""
    if set(best) != set(other):
        return _welch(best, other, init, vs, metric)
    seeds = sorted(s for s in best if np.isfinite(best[s]) and np.isfinite(other[s]))
    a = np.array([best[s] for s in seeds])
    b = np.array([other[s] for s in seeds])
    n, excluded = len(seeds), len(best) - len(seeds)
    if n < 2:
        return Pair(init, vs, metric, True, n, excluded, None, None, None, None, None, "none",
                    None)
    d = a - b
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    stats = _stats()
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n))
    if not d.any():  # identical on every seed: nothing to test
        return Pair(init, vs, metric, True, n, excluded, 0.0, 0.0, (0.0, 0.0), 1.0, 1.0,
                    "none", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero variance, ties, few pairs: the p-values and the
        p_t = float(stats.ttest_rel(a, b).pvalue) if sd > 0 else 0.0  # table say what they can
        p_w = float(stats.wilcoxon(d).pvalue)
        test = "Wilcoxon" if _needs_ranks(d, stats) else "paired t"
    return Pair(init, vs, metric, True, n, excluded, mean, sd, (mean - half, mean + half), p_t,
                p_w, test, p_w if test == "Wilcoxon" else p_t)


def _needs_ranks(d: np.ndarray, stats) -> bool:
    """Ties (zeros or equal magnitudes), or differences far from normal."""
    magnitudes = np.abs(d)
    if (magnitudes == 0).any() or len(np.unique(magnitudes)) < len(d):
        return True
    return len(d) >= NORMALITY_MIN_PAIRS and float(stats.shapiro(d).pvalue) < ALPHA


def _welch(best: dict[int, float], other: dict[int, float], init: str, vs: str,
           metric: str) -> Pair:
    """Unpaired: Welch's t test on the finite results of each side."""
    a = np.array([v for v in best.values() if np.isfinite(v)])
    b = np.array([v for v in other.values() if np.isfinite(v)])
    excluded = len(best) + len(other) - len(a) - len(b)
    if len(a) < 2 or len(b) < 2:
        return Pair(init, vs, metric, False, 0, excluded, None, None, None, None, None, "none",
                    None)
    stats = _stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(0.95)
    mean = float(a.mean() - b.mean())
    return Pair(init, vs, metric, False, 0, excluded, mean, None,
                (float(ci.low), float(ci.high)), float(result.pvalue), None, "Welch t",
                float(result.pvalue))


def holm(p: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment: sorted p_(1) ≤ … ≤ p_(m) become
    max_{j ≤ i} min(1, (m − j + 1)·p_(j)); None stays None and does not count in m."""
    present = sorted((v, i) for i, v in enumerate(p) if v is not None)
    m, out, running = len(present), list(p), 0.0
    for rank, (value, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * value))
        out[i] = running
    return out


def seeds_needed(mean_diff: float, sd_diff: float, alpha: float = ALPHA,
                 power: float = POWER) -> int | None:
    """The fewest n ≥ 2 at which a two-sided paired t test at level ``alpha`` rejects with
    probability ≥ ``power`` when the differences are N(mean_diff, sd_diff²): power(n) =
    P(|T| > t(1 − α/2, n − 1)), T noncentral t with n − 1 degrees of freedom and noncentrality
    mean_diff·√n / sd_diff. None when there is no effect or no spread to go by; MAX_SEEDS + 1
    when more than MAX_SEEDS would be needed."""
    if mean_diff == 0 or not sd_diff or not math.isfinite(mean_diff / sd_diff):
        return None
    stats = _stats()
    effect = abs(mean_diff) / sd_diff

    def enough(n: int) -> bool:
        crit = stats.t.ppf(1 - alpha / 2, n - 1)
        nc = effect * math.sqrt(n)
        return stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc) >= power

    if not enough(MAX_SEEDS):
        return MAX_SEEDS + 1
    lo, hi = 2, 2
    while not enough(hi):
        lo, hi = hi, hi * 2
    while lo < hi:  # power grows with n: the first n that is enough
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if not enough(mid) else (lo, mid)
    return lo


def against_best(values: dict[str, dict[int, float]], metric: str) -> tuple[str | None,
                                                                             list[Pair]]:
    """(the best initializer, its comparison with every other one: Holm-adjusted, with who it
    beats and the seeds each undecided comparison would need)."""
    best = best_init(values, metric)
    if best is None:
        return None, []
    raw = [compare_pair(values[best], by_seed, init, best, metric)
           for init, by_seed in values.items() if init != best]
    adjusted = holm([pair.p for pair in raw])
    out = []
    for pair, p_adj in zip(raw, adjusted, strict=True):
        beats = (p_adj is not None and p_adj < ALPHA and pair.mean_diff is not None
                 and METRICS[metric] * pair.mean_diff > 0)
        need = None if beats or not pair.paired or pair.sd_diff is None else seeds_needed(
            pair.mean_diff, pair.sd_diff)
        out.append(_with(pair, p_adjusted=p_adj, beats=beats, seeds_needed=need))
    return best, out


def _with(pair: Pair, **changes: object) -> Pair:
    return Pair(**{**pair.__dict__, **changes})


WORDS = {"train_accuracy": "train accuracy", "test_accuracy": "test accuracy",
         "final_cost": "final cost", "iterations_to_target": "iterations to the target cost"}


def verdict(best: str | None, pairs: list[Pair], metric: str) -> list[str]:
    """The verdict in words a student can use: the best, whom it beats seed by seed, whom not
    yet, and for each of those how many seeds the observed difference would need."""
    if best is None:
        return ["no initializer can be ranked: every experiment diverged (non-finite parameters "
                "or cost); lower the learning rate or the initial scale"]
    if not pairs:
        return [f"only one initializer ({best}); give --inits a,b,… to compare"]
    beaten = [p.init for p in pairs if p.beats]
    undecided = [p for p in pairs if not p.beats]
    head = f"{best} is best on {WORDS[metric]}"
    if beaten:
        head += (f"; seed by seed it beats {', '.join(beaten)} (p < 0.05 after Holm's "
                 f"correction for {len(pairs)} comparison{'s' if len(pairs) > 1 else ''})")
    if undecided:
        head += f"; it is not separated from {', '.join(p.init for p in undecided)}"
    return [head, *(_undecided(p) for p in undecided)]


def _undecided(p: Pair) -> str:
    """'xavier_normal vs lecun_normal: not separated …; about 180 seeds would be needed'."""
    if p.mean_diff is None:
        return (f"{p.vs} vs {p.init}: fewer than 2 seeds with finite results on both sides "
                f"({p.excluded} left out), nothing to compare")
    where = f"{p.vs} vs {p.init}: not separated"
    if p.p_adjusted is not None:
        where += f" (p = {p.p_adjusted:.2g} after Holm, {p.test}, {p.n_pairs} seeds)"
    if not p.paired:
        return where + "; not run on the same seeds, so no seed count is estimated"
    if p.mean_diff == 0 or not p.sd_diff:
        return where + "; no difference seen between them, so no number of seeds would do"
    effect = f"{p.mean_diff:+.3g} ± {p.sd_diff:.2g} per seed"
    if p.seeds_needed is None:
        return where + f"; the effect ({effect}) gives no seed count"
    if p.seeds_needed > MAX_SEEDS:
        return where + (f"; at this effect ({effect}) more than {MAX_SEEDS:,} seeds would be "
                        "needed: for practical purposes they are equal")
    return where + (f"; at this effect ({effect}) about {p.seeds_needed:,} seeds would be needed "
                    "(paired t test, 5% level, 80% power)")
