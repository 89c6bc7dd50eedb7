"""The numbers behind the pictures of ``--plot`` and ``initlab report``: everything a figure
shows, computed here; ``initlab.reporting.plots`` only draws it.

- ``boundaries``: for a 2-D classification data set, the class each initializer's network
  predicts on a grid (its median-train-accuracy seed when there are several), the training points
  and the common axes (the Coursera notebook's [−1.5, 1.5]², or the data's padded range when the
  points do not fit in it);
- ``cost_curves``: cost against iteration per initializer — the median over seeds with a
  10–90% band, and where each diverged seed diverged;
- ``layer_lines``: per layer, activation std and the saturated or dead share at initialization
  and after training, averaged over each initializer's seeds;
- ``depth_lines``, ``histograms``: a probe's measurements against depth beside the mean-field
  predictions, and its activation histograms.

Nothing here imports matplotlib.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from initlab.engine import nn

if TYPE_CHECKING:
    from initlab.commands.probe import InitProbe
    from initlab.experiments.runner import RunResult

GRID_POINTS = 200  # grid points per axis of a decision-boundary panel
NOTEBOOK_BOX = (-1.5, 1.5, -1.5, 1.5)  # the notebook's axes: x_min, x_max, y_min, y_max
PAD = 0.1  # share of the data's span added on each side when the points leave NOTEBOOK_BOX
BAND = (0.1, 0.9)  # quantiles of the band around the median cost
LOG_RANGE = 30.0  # a log scale when the largest positive value is more than 30× the smallest
HISTOGRAM_COLUMNS = 10  # at most this many layers (evenly spaced) in a histogram figure
GRID_BYTES = 32 << 20  # activations held at once while a grid is evaluated
NO_CLASS = -1  # grid class where the network's output is not finite (a diverged experiment)


# ------------------------------------------------------------------------------ scales

def scale_for(*arrays: np.ndarray) -> str:
    """'log' when the positive finite values span more than LOG_RANGE and none is ≤ 0;
    'symlog' when they span that much but zeros (or negatives) occur too; else 'linear'."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values)]
    positive = values[values > 0]
    if positive.size < 2 or positive.max() <= LOG_RANGE * positive.min():
        return "linear"
    return "log" if positive.size == values.size else "symlog"


def smallest_positive(*arrays: np.ndarray) -> float:
    """The smallest positive finite value (1.0 when there is none): a symlog's linear range."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    return float(values.min()) if values.size else 1.0


def _nanquantile(values: np.ndarray, q: float, axis: int) -> np.ndarray:
    """np.nanquantile, NaN (and no warning) where a slice has no finite value."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, q, axis=axis)


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _finite_or_none(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _title(result: RunResult) -> str:
    return f"{result.plan.config.name} ({result.plan.dataset.name})"


# ------------------------------------------------------------------ decision boundaries

@dataclass
class Boundary:
    """One panel: an initializer's chosen experiment and the class its network predicts at
    every grid point, ``classes`` (len(ys), len(xs)) int, NO_CLASS where the output is not
    finite. ``n_seeds`` > 1: ``seed`` is the one with the median train accuracy."""

    init: str
    experiment: int
    seed: int
    n_seeds: int
    train_accuracy: float | None
    test_accuracy: float | None
    classes: np.ndarray

    @property
    def diverged(self) -> bool:
        return self.train_accuracy is None

    @property
    def predicted(self) -> set[int]:
        """The classes the network predicts somewhere on the grid."""
        return {int(c) for c in np.unique(self.classes) if c != NO_CLASS}


@dataclass
class Boundaries:
    """A decision-boundary figure: the grid (``xs``, ``ys``, ``extent`` = x_min, x_max, y_min,
    y_max, the same for every panel), one ``Boundary`` per initializer, and the training points
    ``points`` (2, m) with their classes ``labels`` (m,)."""

    title: str
    extent: tuple[float, float, float, float]
    xs: np.ndarray
    ys: np.ndarray
    panels: list[Boundary]
    points: np.ndarray
    labels: np.ndarray
    n_classes: int


def has_boundary(result: RunResult) -> bool:
    """A decision boundary can be drawn: 2 input features, a classification task, and the
    final weights kept (huge chunked runs keep none)."""
    data = result.plan.dataset
    return (data.n_features == 2 and data.task in ("binary", "multiclass")
            and result.weights_final is not None and result.train_accuracy is not None)


def median_experiment(accuracy: np.ndarray, rows: slice) -> int:
    """The experiment of ``rows`` (an initializer's seeds) whose train accuracy is the median:
    the lower median (an accuracy one seed really reached), diverged seeds (NaN) counting as
    the worst; of equal accuracies the first on the axis."""
    values = np.where(np.isnan(accuracy[rows]), -np.inf, accuracy[rows])
    order = np.argsort(values, kind="stable")
    target = values[order[(len(values) - 1) // 2]]
    return rows.start + int(np.flatnonzero(values == target)[0])


def grid_extent(points: np.ndarray) -> tuple[float, float, float, float]:
    """NOTEBOOK_BOX when every point (2, m) lies in it, else the points' range padded by PAD of
    its span on each side (±0.5 when a coordinate is constant)."""
    x0, x1, y0, y1 = NOTEBOOK_BOX
    finite = points[:, np.isfinite(points).all(axis=0)]
    if finite.size == 0:
        return NOTEBOOK_BOX
    lo, hi = finite.min(axis=1), finite.max(axis=1)
    if lo[0] >= x0 and hi[0] <= x1 and lo[1] >= y0 and hi[1] <= y1:
        return NOTEBOOK_BOX
    span = hi - lo
    pad = np.where(span > 0, PAD * span, 0.5)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]),
            float(hi[1] + pad[1]))


def predict_classes(net: nn.Network, weights: dict[str, np.ndarray], X: np.ndarray,
                    task: str) -> np.ndarray:
    """The class each experiment of ``weights`` ({'W1': (E, n_out, n_in), …}) predicts for
    every column of X (n_0, N), (E, N) int, as the run's accuracy predicts: output > 0.5 for a
    binary task, the arg-max unit otherwise; NO_CLASS where an output is not finite. Evaluated
    in float64, in column blocks of at most GRID_BYTES of activations."""
    E = next(iter(weights.values())).shape[0]
    p = nn.ParamStore(np, net, E, np.float64)
    p.load(weights)
    N = X.shape[1]
    per_column = 8 * (E * 3 * sum(net.layers[1:]) + net.layers[0] + 1)  # z, a, δ and inputs
    step = max(1, GRID_BYTES // per_column)
    out = np.empty((E, N), dtype=np.int64)
    for a in range(0, N, step):
        top = nn.forward_fresh(np, net, p, np.ascontiguousarray(X[:, a:a + step],
                                                               dtype=np.float64)).a[-1]
        classes = (top[:, 0, :] > 0.5).astype(np.int64) if task == "binary" else (
            top.argmax(axis=1))
        classes[~np.isfinite(top).all(axis=1)] = NO_CLASS
        out[:, a:a + step] = classes
    return out


def class_labels(y: np.ndarray, task: str) -> np.ndarray:
    """(m,) class of every sample: y > 0.5 for binary (1, m) targets, the one-hot arg-max
    otherwise."""
    return (y[0] > 0.5).astype(np.int64) if task == "binary" else y.argmax(axis=0)


def boundaries(result: RunResult, points: int = GRID_POINTS) -> Boundaries | None:
    """The decision-boundary figure of a run or compare, or None when ``has_boundary`` is
    false: one panel per initializer, the median-train-accuracy seed of each."""
    if not has_boundary(result):
        return None
    data, plan = result.plan.dataset, result.plan
    extent = grid_extent(np.concatenate([data.X_train, data.X_test], axis=1))
    xs = np.linspace(extent[0], extent[1], points)
    ys = np.linspace(extent[2], extent[3], points)
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx): row = y
    grid = np.stack([gx.ravel(), gy.ravel()])
    groups = plan.groups
    chosen = [median_experiment(result.train_accuracy, rows) for rows in groups.values()]
    weights = {k: v[chosen] for k, v in result.weights_final.items()}
    classes = predict_classes(plan.net, weights, grid, data.task)
    test = result.test_accuracy
    panels = [
        Boundary(init=init, experiment=e, seed=plan.experiments[e].seed,
                 n_seeds=rows.stop - rows.start,
                 train_accuracy=_finite_or_none(result.train_accuracy[e]),
                 test_accuracy=None if test is None else _finite_or_none(test[e]),
                 classes=classes[i].reshape(gx.shape))
        for i, ((init, rows), e) in enumerate(zip(groups.items(), chosen, strict=True))]
    n_classes = 2 if data.task == "binary" else data.n_outputs
    return Boundaries(title=_title(result), extent=extent, xs=xs, ys=ys, panels=panels,
                      points=data.X_train, labels=class_labels(data.y_train, data.task),
                      n_classes=n_classes)


# -------------------------------------------------------------------------------- cost

@dataclass(frozen=True)
class Divergence:
    """Where a seed diverged: the iteration, and the cost to put its mark at (its last finite
    logged cost before then, or None when it had none)."""

    seed: int
    iteration: int
    cost: float | None


@dataclass
class CostCurve:
    """One initializer: at every logged iteration the median cost and the BAND quantiles over
    the seeds whose cost is finite there (NaN where none is); ``curves`` (S, T) each seed's."""

    init: str
    iterations: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    curves: np.ndarray
    seeds: list[int]
    diverged: list[Divergence] = field(default_factory=list)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


@dataclass
class CostFigure:
    title: str
    loss: str
    curves: list[CostCurve]
    scale: str  # 'linear', 'log' or 'symlog'
    linthresh: float  # the linear range of a symlog scale
    band: tuple[float, float] = BAND

    @property
    def n_seeds(self) -> int:
        return max(c.n_seeds for c in self.curves)

    @property
    def n_diverged(self) -> int:
        return sum(len(c.diverged) for c in self.curves)


def cost_curves(result: RunResult) -> CostFigure:
    """The cost figure: per initializer the median and the 10–90% band over its seeds at every
    logged iteration (over the seeds whose cost is finite there), and each diverged seed's
    iteration."""
    hist, plan = result.history, result.plan
    iterations = np.asarray(hist.log_iterations, dtype=np.int64)
    costs = np.stack(hist.log_costs).astype(np.float64)  # (T, E); NaN where not logged
    if hist.logged is not None:
        costs = np.where(hist.logged, costs, np.nan)
    costs = np.where(np.isfinite(costs), costs, np.nan)
    diverged_at = (hist.diverged_at if hist.diverged_at is not None
                   else np.full(costs.shape[1], -1))
    curves = []
    for init, rows in plan.groups.items():
        own = costs[:, rows]  # (T, S)
        marks = []
        for e in range(rows.start, rows.stop):
            at = int(diverged_at[e])
            if at < 0:
                continue
            before = np.flatnonzero((iterations <= at) & np.isfinite(costs[:, e]))
            marks.append(Divergence(plan.experiments[e].seed, at,
                                    float(costs[before[-1], e]) if before.size else None))
        curves.append(CostCurve(
            init=init, iterations=iterations, median=_nanquantile(own, 0.5, axis=1),
            low=_nanquantile(own, BAND[0], axis=1), high=_nanquantile(own, BAND[1], axis=1),
            curves=own.T.copy(), seeds=[plan.experiments[e].seed
                                        for e in range(rows.start, rows.stop)],
            diverged=marks))
    shown = [a for c in curves for a in (c.low, c.median, c.high)]
    return CostFigure(title=_title(result), loss=plan.config.train.loss, curves=curves,
                      scale=scale_for(*shown), linthresh=smallest_positive(*shown))


# ------------------------------------------------------------------------------ layers

@dataclass
class LayerLine:
    """One initializer, averaged over its seeds (diverged ones left out): per layer (L,) the
    activation std and the saturated or dead share (NaN where neither applies), at
    initialization and after training."""

    init: str
    n_seeds: int
    std_init: np.ndarray
    std_final: np.ndarray
    share_init: np.ndarray
    share_final: np.ndarray


@dataclass
class LayersFigure:
    title: str
    units: tuple[int, ...]
    activations: tuple[str, ...]
    share_kind: list[str | None]  # per layer: 'saturated', 'dead' or None
    lines: list[LayerLine]
    std_scale: str
    std_linthresh: float

    @property
    def layers(self) -> np.ndarray:
        return np.arange(1, len(self.units) + 1)

    @property
    def has_share(self) -> bool:
        return any(kind is not None for kind in self.share_kind)


def _share(values: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str | None]]:
    """(E, L) saturated share where it applies, else dead share, else NaN; and its kind."""
    sat, dead = values["saturated_fraction"], values["dead_fraction"]
    kinds: list[str | None] = []
    for l in range(sat.shape[1]):
        kinds.append("saturated" if not np.isnan(sat[:, l]).all() else
                     "dead" if not np.isnan(dead[:, l]).all() else None)
    share = np.where(np.array([k == "saturated" for k in kinds]), sat, dead)
    return share, kinds


def layer_lines(result: RunResult) -> LayersFigure:
    """The per-layer figure: for every initializer, the mean over its seeds (a diverged seed's
    NaN statistics left out) of the activation std and the saturated/dead share, at
    initialization and after training."""
    first, last = result.layers_init, result.layers_final
    share_init, kinds = _share(first.values)
    share_final, _ = _share(last.values)
    lines = []
    for init, rows in result.plan.groups.items():
        lines.append(LayerLine(
            init=init, n_seeds=rows.stop - rows.start,
            std_init=_nanmean(first.values["activation_std"][rows], axis=0),
            std_final=_nanmean(last.values["activation_std"][rows], axis=0),
            share_init=_nanmean(share_init[rows], axis=0),
            share_final=_nanmean(share_final[rows], axis=0)))
    stds = [a for line in lines for a in (line.std_init, line.std_final)]
    return LayersFigure(title=_title(result), units=first.units, activations=first.activations,
                        share_kind=kinds, lines=lines, std_scale=scale_for(*stds),
                        std_linthresh=smallest_positive(*stds))


# ------------------------------------------------------------------------------- probe

@dataclass
class DepthLine:
    """One probed initializer against depth (L,): measured activation mean and std, the
    mean-field std, measured and predicted gradient std."""

    init: str
    formula: str
    mean: np.ndarray
    std: np.ndarray
    predicted_std: np.ndarray
    grad_std: np.ndarray
    predicted_grad_std: np.ndarray


@dataclass
class DepthFigure:
    lines: list[DepthLine]
    depth: int
    std_scale: str
    std_linthresh: float

    @property
    def layers(self) -> np.ndarray:
        return np.arange(1, self.depth + 1)


def depth_lines(found: list[InitProbe]) -> DepthFigure:
    """The probe's depth figure: measurements of every initializer and their predictions."""
    def column(probe: InitProbe, key: str) -> np.ndarray:
        return np.array([math.nan if getattr(layer, key) is None else getattr(layer, key)
                         for layer in probe.layers], dtype=np.float64)

    lines = [DepthLine(p.init, p.formula, column(p, "activation_mean"),
                       column(p, "activation_std"), column(p, "predicted_std"),
                       column(p, "grad_std"), column(p, "predicted_grad_std"))
             for p in found]
    stds = [a for line in lines for a in (line.std, line.predicted_std)]
    return DepthFigure(lines=lines, depth=max(len(p.layers) for p in found),
                       std_scale=scale_for(*stds), std_linthresh=smallest_positive(*stds))


@dataclass
class Histogram:
    """One layer of one initializer: the share of its activations in each bin."""

    layer: int
    shares: np.ndarray
    edges: np.ndarray


@dataclass
class HistogramFigure:
    """A row per initializer, a column per layer shown (all of them, or HISTOGRAM_COLUMNS
    evenly spaced ones from the first to the last)."""

    inits: list[str]
    layers: list[int]
    rows: list[list[Histogram]]
    depth: int


def shown_layers(depth: int, most: int = HISTOGRAM_COLUMNS) -> list[int]:
    """Layers (1-based) of a histogram figure: all of them, or ``most`` evenly spaced from the
    first to the last."""
    if depth <= most:
        return list(range(1, depth + 1))
    return [int(i) + 1 for i in np.unique(np.round(np.linspace(0, depth - 1, most)))]


def histograms(found: list[InitProbe]) -> HistogramFigure | None:
    """The probe's histogram figure, or None when the results carry no histograms."""
    if not found or any(layer.histogram is None for p in found for layer in p.layers):
        return None
    depth = max(len(p.layers) for p in found)
    layers = shown_layers(depth)
    rows = []
    for p in found:
        row = []
        for l in layers:
            counts, edges = p.layers[l - 1].histogram
            counts = np.asarray(counts, dtype=np.float64)
            total = counts.sum()
            row.append(Histogram(l, counts / total if total > 0 else counts,
                                 np.asarray(edges, dtype=np.float64)))
        rows.append(row)
    return HistogramFigure(inits=[p.init for p in found], layers=layers, rows=rows, depth=depth)
