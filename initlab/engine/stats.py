"""Per-layer statistics of a batched network: activations, saturation, dead units, gradients,
symmetry. All reductions run on the device over the experiment axis; one host copy at the end."""

from __future__ import annotations

from typing import Any

import numpy as np

from initlab.engine import nn
from initlab.engine.backend import to_numpy

SATURATION_MARGIN = 0.01  # a unit is saturated when within 0.01 of a bound of tanh/sigmoid
SYMMETRY_TOL = 1e-12  # units whose incoming weights (and bias) agree within this count as one

STAT_KEYS = ("preactivation_mean", "preactivation_std", "activation_mean", "activation_std",
             "saturated_fraction", "dead_fraction", "weight_std", "grad_std", "distinct_units")


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


def layer_stats(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any) -> list[list[dict]]:
    """Statistics of every layer for every experiment, from one forward and one backward pass
    over (X, Y): ``result[e][l]`` is a dict with ``layer`` (1-based), ``units``, ``activation``
    and the STAT_KEYS (``None`` where a statistic does not apply to the activation)."""
    ws = nn.forward_fresh(xp, net, p, X)
    grads = nn.ParamStore(xp, net, p.n_exp, p.flat.dtype)
    with np.errstate(all="ignore"):
        nn.backward(xp, net, p, Y, ws, grads)
        columns = []
        for l, act in enumerate(net.activations):
            z, a = ws.z[l], ws.a[l]
            nan = xp.full(p.n_exp, np.nan)
            if act.bounds is not None:
                lo, hi = act.bounds
                near = (a <= lo + SATURATION_MARGIN) | (a >= hi - SATURATION_MARGIN)
                saturated = near.mean(axis=(-2, -1))
            else:
                saturated = nan
            dead = (a <= 0).all(axis=-1).mean(axis=-1) if act.can_die else nan
            bias = p.b[l] if net.bias else None
            columns.append(xp.stack([
                z.mean(axis=(-2, -1)), z.std(axis=(-2, -1)),
                a.mean(axis=(-2, -1)), a.std(axis=(-2, -1)),
                saturated, dead,
                p.W[l].std(axis=(-2, -1)), grads.W[l].std(axis=(-2, -1)),
                distinct_units(xp, p.W[l], bias).astype(z.dtype),
            ], axis=-1))  # (E, k)
    table = to_numpy(xp.stack(columns, axis=1)).astype(np.float64)  # (E, L, k)
    return [[_record(l, net, table[e, l]) for l in range(net.depth)] for e in range(p.n_exp)]


def _record(l: int, net: nn.Network, values: np.ndarray) -> dict:
    rec: dict[str, Any] = {"layer": l + 1, "units": net.layers[l + 1],
                           "activation": net.activations[l].label}
    for key, v in zip(STAT_KEYS, values, strict=True):
        if key == "distinct_units":
            rec[key] = int(v)
        else:
            rec[key] = None if np.isnan(v) and key in ("saturated_fraction", "dead_fraction") \
                else float(v)
    return rec


def mean_over_experiments(layers: list[list[dict]]) -> list[dict]:
    """Average each statistic over experiments (``None`` stays ``None``) for one summary table."""
    out = []
    for l, first in enumerate(layers[0]):
        rec = {k: first[k] for k in ("layer", "units", "activation")}
        for key in STAT_KEYS:
            vals = [exp[l][key] for exp in layers if exp[l][key] is not None]
            rec[key] = float(np.mean(vals)) if vals else None
        out.append(rec)
    return out
