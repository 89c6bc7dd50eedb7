"""Mean-field (infinite-width) theory of signal propagation at initialization.

``predicted_stds`` propagates the pre-activation variance q_l forward and the gradient variance
g_l backward through a deep stack, with the Gaussian expectations computed by composite
Gauss–Legendre quadrature (``engine.gaussian.nodes``), so any activation of the registry works.
``initlab probe`` prints its predictions beside the measured statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from initlab.engine import activations
from initlab.engine.activations import Activation
from initlab.engine.gaussian import nodes


def _moments(act: Activation, q: float, n: int) -> tuple[float, float, float]:
    """(Var φ(h), E[φ(h)²], E[φ'(h)²]) for h ~ N(0, q); NaN when q is not finite."""
    if not math.isfinite(q):
        return math.nan, math.nan, math.nan
    h, w = nodes(q, n)
    a = act.forward(np, h, np.empty_like(h))
    d = act.backward(np, h, a, np.ones_like(h))
    mean = float(w @ a)
    return float(w @ (a - mean) ** 2), float(w @ (a * a)), float(w @ (d * d))


def predicted_stds(activation: str | dict | Activation, sigma_w2: Sequence[float],
                   sigma_b2: Sequence[float], q0: float, n_quad: int = 8,
                   widths: Sequence[int] | None = None) -> tuple[list[float], list[float]]:
    """Mean-field (infinite-width) activation std and gradient std of every layer.

    Forward, q_l = variance of a pre-activation of layer l, z ~ N(0, 1):
      q_1 = σ_w1²·q0 + σ_b1²,  q0 = mean of x² over the inputs (second moment per coordinate);
      q_l = σ_wl²·E[φ(√q_{l−1} z)²] + σ_bl²;   std_l = √(E[φ(√q_l z)²] − E[φ(√q_l z)]²),
    with σ_wl² = fan_in·mean(W_l²) (the drawn weights, mean² included), σ_bl² = mean(b_l²).

    Backward, dL/da_L with i.i.d. unit-variance entries, da_l = W_{l+1}ᵀ(da_{l+1} ⊙ φ'(z_{l+1})):
    entry j sums n_{l+1} terms W_{l+1}[k, j]·da_{l+1}[k]·φ'(z_{l+1}[k]); with the three factors
    independent (the gradient-independence assumption) and E[W²] = σ_w(l+1)²/n_l, the variance
    g_l of dL/da_l obeys
      g_L = 1,   g_l = g_{l+1}·σ_w(l+1)²·E[φ'(√q_{l+1} z)²]·n_{l+1}/n_l,
    the width ratio being 1 unless ``widths`` (n_1 … n_L) says otherwise; grad std_l = √g_l.
    χ_l = σ_wl²·E[φ'(√q_l z)²] > 1: gradients grow towards the input; < 1: they vanish.

    Expectations by ``engine.gaussian.nodes`` (``n_quad`` Gauss–Legendre nodes per panel).
    Returns (activation stds, gradient stds), one per layer."""
    act = activation if isinstance(activation, Activation) else activations.get(activation)
    depth, n = len(sigma_w2), list(widths) if widths is not None else [1] * len(sigma_w2)
    stds, dsq, g = [], [], [1.0] * depth
    with np.errstate(all="ignore"):
        q = sigma_w2[0] * q0 + sigma_b2[0]
        for l in range(depth):
            var, second, d2 = _moments(act, q, n_quad)
            stds.append(math.sqrt(var) if var >= 0 else math.nan)
            dsq.append(d2)
            if l + 1 < depth:
                q = sigma_w2[l + 1] * second + sigma_b2[l + 1]
        for l in range(depth - 2, -1, -1):
            g[l] = g[l + 1] * sigma_w2[l + 1] * dsq[l + 1] * n[l + 1] / n[l]
    return stds, [math.sqrt(v) if v >= 0 else math.nan for v in g]
