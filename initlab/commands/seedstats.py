"""Statistics over seeds, one summary per initializer: what `initlab compare` reports (the
comparisons between initializers, seed by seed, are ``pairs``).

A seed is one sample of "train this network from this initializer", so an initializer's figures
are estimates with sampling error: accuracy means carry a 95% confidence interval — Student t, or
a bootstrap BCa interval (``scipy.stats.bootstrap``, fixed seed) with ``ci="bootstrap"``, or with
``ci="auto"`` when some seed sits at an accuracy bound (0 or 1), where the t interval's symmetry is
wrong —, the success rate a Wilson interval, costs and times-to-target a median (robust to the
few seeds that diverge or stall).

A seed whose experiment diverged (non-finite parameters or cost: its accuracy is NaN) is a
failure in the success rate and the worst in the median cost, and is left out of the accuracy
means, intervals and ranges, which are taken over the ``n_finite`` others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def mean_ci95(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high) with mean ± t(0.975, n−1)·s/√n, s the sample std (ddof = 1).

    One value gives no interval: (x, nan, nan)."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    from scipy import stats as sps  # noqa: PLC0415 (a second of start-up; not for --dry-run)

    half = float(sps.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


CI_METHODS = ("auto", "t", "bootstrap")
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0  # the bootstrap's own stream: the same data give the same interval


def bootstrap_ci95(values: np.ndarray) -> tuple[float, float]:
    """The 95% BCa bootstrap interval of the mean (``scipy.stats.bootstrap``, 9999 resamples,
    a fixed seed); (x, x) when every value is x (nothing to resample)."""
    x = np.asarray(values, dtype=np.float64)
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    from scipy import stats as sps  # noqa: PLC0415

    ci = sps.bootstrap((x,), np.mean, confidence_level=0.95, method="BCa",
                       n_resamples=BOOTSTRAP_RESAMPLES,
                       rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval
    return float(ci.low), float(ci.high)


def wilson_ci95(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a share of ``successes`` among ``n``
    (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``)."""
    from scipy import stats as sps  # noqa: PLC0415

    ci = sps.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def median_nonfinite_last(values: np.ndarray) -> float:
    """Median with NaN and ±inf counted as +inf (a diverged seed is the worst, not missing)."""
    x = np.asarray(values, dtype=np.float64)
    return float(np.median(np.where(np.isfinite(x), x, np.inf)))


def first_below(iterations: list[int], costs: np.ndarray, target: float) -> np.ndarray:
    """(E,) first logged iteration whose cost is below ``target``, −1 if none; costs (T, E)."""
    below = np.asarray(costs) < target  # NaN compares False
    hit = below.any(axis=0)
    first = np.asarray(iterations)[below.argmax(axis=0)]
    return np.where(hit, first, -1)


@dataclass(frozen=True)
class InitSummary:
    """One initializer over its seeds. ``*_ci95`` is the accuracy mean's 95% interval (low,
    high), clipped to [0, 1], made by ``*_ci_method`` ('t' or 'BCa'); ``*_halfwidth`` the t
    interval's unclipped half-width t·s/√n (None for BCa, which is not symmetric);
    ``success_ci95`` the Wilson interval of the success rate. ``None`` where a figure does not
    apply (no accuracy for regression, no CI for one seed, target never reached by half)."""

    init: str
    n_seeds: int
    train_accuracy_mean: float | None
    train_accuracy_ci95: tuple[float, float] | None
    train_accuracy_halfwidth: float | None
    train_accuracy_range: tuple[float, float] | None
    test_accuracy_mean: float | None
    test_accuracy_ci95: tuple[float, float] | None
    test_accuracy_halfwidth: float | None
    test_accuracy_range: tuple[float, float] | None
    success_rate: float | None
    median_final_cost: float
    median_iterations_to_target: float | None
    reached_target: int
    diverged: int
    n_finite: int | None = None  # seeds with finite results (None: all of them)
    success_ci95: tuple[float, float] | None = None
    train_accuracy_ci_method: str | None = None
    test_accuracy_ci_method: str | None = None

    @property
    def finite(self) -> int:
        """Seeds whose accuracy (or, for regression, final cost) is finite."""
        return self.n_seeds if self.n_finite is None else self.n_finite

    def record(self) -> dict:
        """The public ``metrics.json`` summary object."""
        out = dict(self.__dict__)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out


def _accuracy(values: np.ndarray | None, ci: str) -> tuple:
    """(mean, CI clipped to [0, 1] as an accuracy cannot leave it, t half-width or None,
    (min, max), method) over the finite values."""
    if values is None:
        return None, None, None, None, None
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None, None, None, None
    span = (float(values.min()), float(values.max()))
    mean, lo, hi = mean_ci95(values)
    if np.isnan(lo):
        return mean, None, None, span, None
    at_bound = bool(np.any((values == 0) | (values == 1)))
    if ci == "bootstrap" or (ci == "auto" and at_bound):
        lo, hi = bootstrap_ci95(values)
        return mean, (max(0.0, lo), min(1.0, hi)), None, span, "BCa"
    return mean, (max(0.0, lo), min(1.0, hi)), (hi - lo) / 2, span, "t"


def summarize_init(init: str, train_acc: np.ndarray | None, test_acc: np.ndarray | None,
                   final_cost: np.ndarray, to_target: np.ndarray, diverged_at: np.ndarray,
                   success: float, ci: str = "auto") -> InitSummary:
    """Summary of one initializer from its seeds' (n,) arrays; ``to_target`` −1 = never;
    ``ci`` one of CI_METHODS."""
    n = len(final_cost)
    finite = np.isfinite(final_cost) if train_acc is None else np.isfinite(train_acc)
    train = _accuracy(train_acc, ci)
    test = _accuracy(test_acc, ci)
    reached = to_target >= 0
    median_it = median_nonfinite_last(np.where(reached, to_target, np.inf))
    successes = None if train_acc is None else int((train_acc >= success).sum())
    return InitSummary(
        init=init, n_seeds=n,
        train_accuracy_mean=train[0], train_accuracy_ci95=train[1],
        train_accuracy_halfwidth=train[2], train_accuracy_range=train[3],
        test_accuracy_mean=test[0], test_accuracy_ci95=test[1],
        test_accuracy_halfwidth=test[2], test_accuracy_range=test[3],
        success_rate=None if successes is None else successes / n,
        median_final_cost=median_nonfinite_last(final_cost),
        median_iterations_to_target=median_it if np.isfinite(median_it) else None,
        reached_target=int(reached.sum()), diverged=int((diverged_at >= 0).sum()),
        n_finite=int(finite.sum()),
        success_ci95=None if successes is None else wilson_ci95(successes, n),
        train_accuracy_ci_method=train[4], test_accuracy_ci_method=test[4])
