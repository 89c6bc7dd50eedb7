"""Per-layer statistics of a batched network: activations, saturation, dead units, gradients,
symmetry. All reductions run on the device over the experiment axis; one host copy at the end.

``LayerStats`` keeps them as arrays — one (E, L) float64 array per statistic — until the JSON
edge; ``mean(rows)`` averages a group of experiments (an initializer's seeds). The moment and
saturation helpers are shared with ``initlab probe``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.engine import nn
from initlab.engine.activations import Activation
from initlab.engine.backend import to_numpy

SATURATION_MARGIN = 0.01  # a unit is saturated when within 0.01 of a bound of tanh/sigmoid
SYMMETRY_TOL = 1e-12  # units whose incoming weights (and bias) agree within this count as one

STAT_KEYS = ("preactivation_mean", "preactivation_std", "activation_mean", "activation_std",
             "saturated_fraction", "dead_fraction", "weight_std", "grad_std", "distinct_units")
OPTIONAL_KEYS = ("saturated_fraction", "dead_fraction")  # NaN where the activation has none


@dataclass(frozen=True, eq=False)
class LayerStats:
    """Statistics of E experiments × L layers: ``values[key]`` is an (E, L) float64 array for
    every key of STAT_KEYS (NaN where it does not apply: saturation of unbounded units, dead
    share of units that cannot die); ``units`` and ``activations`` describe the L layers."""

    units: tuple[int, ...]
    activations: tuple[str, ...]
    values: dict[str, np.ndarray]

    @property
    def n_experiments(self) -> int:
        return int(self.values[STAT_KEYS[0]].shape[0])

    @property
    def depth(self) -> int:
        return len(self.units)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LayerStats) and self.units == other.units
                and self.activations == other.activations
                and all(np.array_equal(self.values[k], other.values[k], equal_nan=True)
                        for k in STAT_KEYS))

    __hash__ = None  # mutable arrays inside

    def take(self, rows: slice | np.ndarray) -> LayerStats:
        """The statistics of the experiments ``rows`` (a slice or an index/bool array)."""
        return LayerStats(self.units, self.activations,
                          {k: v[rows] for k, v in self.values.items()})

    def mean(self, rows: slice | np.ndarray = slice(None)) -> dict[str, np.ndarray]:
        """{key: (L,) mean over the experiments ``rows``}; NaN stays NaN where a key does not
        apply to a layer."""
        return {k: v[rows].mean(axis=0) for k, v in self.values.items()}

    @staticmethod
    def concat(parts: Sequence[LayerStats]) -> LayerStats:
        """Parts of one experiment axis, joined in order."""
        first = parts[0]
        return LayerStats(first.units, first.activations,
                          {k: np.concatenate([p.values[k] for p in parts]) for k in STAT_KEYS})


def mean_std(xp: Any, a: Any, scratch: Any = None) -> tuple[Any, Any]:
    """(mean, std), each (E,), over units × samples of a (E, n, m) array, computed as NumPy's
    ``std`` computes it (mean, then the mean of squared deviations); ``scratch``, an array like
    ``a``, holds the deviations instead of a temporary."""
    count = a.shape[-2] * a.shape[-1]
    mean = a.sum(axis=(-2, -1), keepdims=True)
    mean /= count
    dev = xp.subtract(a, mean, out=scratch)
    dev *= dev
    var = dev.sum(axis=(-2, -1))
    var /= count
    return mean[:, 0, 0], xp.sqrt(var)


def saturated_share(xp: Any, act: Activation, a: Any) -> Any:
    """(E,) share of the entries of a = φ(z) within SATURATION_MARGIN of a bound of φ; NaN for
    activations without bounds."""
    if act.bounds is None:
        return xp.full(a.shape[0], np.nan)
    lo, hi = act.bounds
    near = (a <= lo + SATURATION_MARGIN) | (a >= hi - SATURATION_MARGIN)
    return near.mean(axis=(-2, -1))


def dead_share(xp: Any, act: Activation, a: Any) -> Any:
    """(E,) share of units zero on every sample (ReLU); NaN for units that cannot die."""
    if not act.can_die:
        return xp.full(a.shape[0], np.nan)
    return (a <= 0).all(axis=-1).mean(axis=-1)


def distinct_units(xp: Any, W: Any, b: Any | None, tol: float = SYMMETRY_TOL) -> Any:
    """Number of distinct units per experiment, (E,): rows of [W | b] equal within ``tol``
    (max-abs) count once. Rows are ordered by a fixed generic projection and neighbours compared,
    O(E·n·d); exact whenever no third unit projects between two equal ones."""
    rows = W if b is None else xp.concatenate([W, b[:, :, None]], axis=-1)  # (E, n, d)
    d = rows.shape[-1]
    direction = xp.asarray(2.0 + np.cos(np.arange(d) * 2.399963229728653), dtype=rows.dtype)
    order = xp.argsort(rows @ direction, axis=-1)  # (E, n)
    ordered = xp.take_along_axis(rows, order[:, :, None], axis=1)
    same = xp.abs(ordered[:, 1:] - ordered[:, :-1]).max(axis=-1) <= tol  # (E, n−1)
    return rows.shape[1] - same.sum(axis=-1)


def layer_stats(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any) -> LayerStats:
    """Statistics of every layer for every experiment, from one forward and one backward pass
    over (X, Y)."""
    ws = nn.forward_fresh(xp, net, p, X)
    grads = nn.ParamStore(xp, net, p.n_exp, p.flat.dtype)
    with np.errstate(all="ignore"):
        nn.backward(xp, net, p, Y, ws, grads)
        columns = []
        for l, act in enumerate(net.activations):
            z, a = ws.z[l], ws.a[l]
            bias = p.b[l] if net.bias else None
            columns.append(xp.stack([
                *mean_std(xp, z), *mean_std(xp, a),
                saturated_share(xp, act, a), dead_share(xp, act, a),
                mean_std(xp, p.W[l])[1], mean_std(xp, grads.W[l])[1],
                distinct_units(xp, p.W[l], bias).astype(z.dtype),
            ], axis=-1))  # (E, k)
    table = to_numpy(xp.stack(columns, axis=1)).astype(np.float64)  # (E, L, k)
    values = {key: np.ascontiguousarray(table[:, :, k]) for k, key in enumerate(STAT_KEYS)}
    return LayerStats(tuple(net.layers[1:]), tuple(a.label for a in net.activations), values)
