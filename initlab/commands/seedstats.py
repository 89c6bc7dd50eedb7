"""Statistics over seeds, one summary per initializer: what `initlab compare` reports.

A seed is one sample of "train this network from this initializer", so an initializer's figures
are estimates with sampling error: means carry a Student-t 95% confidence interval, successes a
share, costs and times-to-target a median (robust to the few seeds that diverge or stall).

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
    """One initializer over its seeds. ``*_ci95`` is the t-interval (low, high) clipped to
    [0, 1]; ``*_halfwidth`` its unclipped half-width t·s/√n. ``None`` where a figure does not
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


def _accuracy(values: np.ndarray | None) -> tuple:
    """(mean, CI clipped to [0, 1] as an accuracy cannot leave it, half-width, (min, max)) over
    the finite values."""
    if values is None:
        return None, None, None, None
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None, None, None
    mean, lo, hi = mean_ci95(values)
    if np.isnan(lo):
        return mean, None, None, (float(values.min()), float(values.max()))
    return (mean, (max(0.0, lo), min(1.0, hi)), (hi - lo) / 2,
            (float(values.min()), float(values.max())))


def summarize_init(init: str, train_acc: np.ndarray | None, test_acc: np.ndarray | None,
                   final_cost: np.ndarray, to_target: np.ndarray, diverged_at: np.ndarray,
                   success: float) -> InitSummary:
    """Summary of one initializer from its seeds' (n,) arrays; ``to_target`` −1 = never."""
    n = len(final_cost)
    finite = np.isfinite(final_cost) if train_acc is None else np.isfinite(train_acc)
    train = _accuracy(train_acc)
    test = _accuracy(test_acc)
    reached = to_target >= 0
    median_it = median_nonfinite_last(np.where(reached, to_target, np.inf))
    return InitSummary(
        init=init, n_seeds=n,
        train_accuracy_mean=train[0], train_accuracy_ci95=train[1],
        train_accuracy_halfwidth=train[2], train_accuracy_range=train[3],
        test_accuracy_mean=test[0], test_accuracy_ci95=test[1],
        test_accuracy_halfwidth=test[2], test_accuracy_range=test[3],
        success_rate=None if train_acc is None else float((train_acc >= success).mean()),
        median_final_cost=median_nonfinite_last(final_cost),
        median_iterations_to_target=median_it if np.isfinite(median_it) else None,
        reached_target=int(reached.sum()), diverged=int((diverged_at >= 0).sum()),
        n_finite=int(finite.sum()))


def best(summaries: list[InitSummary]) -> int | None:
    """Index of the best initializer: highest mean train accuracy, then success rate, then
    lowest median final cost (lowest median final cost alone when there is no accuracy); None
    when no initializer has a finite result to rank."""
    def key(s: InitSummary) -> tuple:
        acc = -1.0 if s.train_accuracy_mean is None else s.train_accuracy_mean
        rate = -1.0 if s.success_rate is None else s.success_rate
        return (acc, rate, -s.median_final_cost)
    ranked = [i for i, s in enumerate(summaries) if s.finite > 0]
    return max(ranked, key=lambda i: key(summaries[i])) if ranked else None


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def verdict(summaries: list[InitSummary]) -> str:
    """One line naming the best initializer and, honestly, which others it is not separated from
    (95% CIs of mean train accuracy overlap; overlapping CIs mean 'not shown different')."""
    i = best(summaries)
    if i is None:
        return ("no initializer can be ranked: every experiment diverged (non-finite parameters "
                "or cost); lower the learning rate or the initial scale")
    top = summaries[i]
    if len(summaries) == 1:
        return f"only one initializer ({top.init}); give --inits a,b,… to compare"
    if top.train_accuracy_mean is None:
        return (f"{top.init} has the lowest median final cost ({top.median_final_cost:.4g}); "
                "no accuracy for a regression task, so no confidence intervals")
    if top.finite < 2 or top.train_accuracy_ci95 is None:
        return (f"{top.init} has the highest train accuracy ({top.train_accuracy_mean:.4f}) "
                "on one seed each: no confidence intervals, try --seeds 20")
    others = sorted((s for j, s in enumerate(summaries) if j != i and s.finite > 0),
                    key=lambda s: -s.train_accuracy_mean)
    lost = [s.init for s in summaries if s.finite == 0]
    tied = [s.init for s in others if _overlap(s.train_accuracy_ci95, top.train_accuracy_ci95)
            or s.train_accuracy_mean == top.train_accuracy_mean]
    beaten = [s.init for s in others if s.init not in tied]
    lo, hi = top.train_accuracy_ci95
    head = (f"{top.init} has the highest mean train accuracy ({top.train_accuracy_mean:.4f}, "
            f"95% CI {lo:.4f}–{hi:.4f}, {top.finite} seeds)")
    parts = []
    if beaten:
        parts.append(f"its CI lies above {', '.join(beaten)}")
    if tied:
        parts.append(f"but overlaps {', '.join(tied)}: not separated at this number of seeds")
    if lost:
        parts.append(f"{', '.join(lost)} diverged on every seed")
    return head + ("; " + "; ".join(parts) if parts else "")
