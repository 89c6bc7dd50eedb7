"""Mean-field (infinite-width) theory of signal propagation at initialization.

``predicted_stds`` propagates the pre-activation variance q_l forward and the gradient variance
g_l backward through a deep stack, with the Gaussian expectations computed by composite
Gauss–Legendre quadrature (``engine.gaussian.nodes``), so any activation of the registry works.
``initlab probe`` prints its predictions beside the measured statistics.

The phase diagram (Poole et al. 2016, Schoenholz et al. 2017): ``q_map`` and its
``fixed_point`` q*, the correlation map ``c_map`` of two inputs and ``predicted_correlations``
through a stack, ``phase`` (q*, c*, χ₁, χ_c and the depth scales ξ_q, ξ_c) and
``edge_of_chaos`` (the σ_w² where χ₁ = 1). Two-input expectations by ``expect2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from initlab.engine import activations
from initlab.engine.activations import GELU_C, SELU_ALPHA, SELU_SCALE, Activation
from initlab.engine.backend import special
from initlab.engine.gaussian import H_MAX, Z_MAX, expect, legendre, nodes
from initlab.errors import InitlabError


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


# --------------------------------------------------------------------- phase-diagram theory
#
# Poole et al. 2016, "Exponential expressivity in deep neural networks through transient chaos"
# (arXiv:1606.05340, cited P) and Schoenholz et al. 2017, "Deep Information Propagation"
# (arXiv:1611.01232, cited S): two inputs through a deep stack with W_ij ~ N(0, σ_w²/n),
# b_i ~ N(0, σ_b²), at infinite width. Their pre-activations at layer l are centred Gaussian
# with lengths q_l (both inputs given the same length here) and correlation c_l =
# q12_l/√(q11_l q22_l), the uncentred normalised inner product of z_l(x1) and z_l(x2) over units.

Q_ZERO = 1e-12  # q* below this, with q = 0 a fixed point of the q-map, is a collapse: 0.0
Q_HUGE = 1e30  # a length beyond this counts as unbounded: inf
INNER_STEP = 1.0  # panel width in z of expect2's inner rule (its integer-u edges do the rest)
OUTER_STEP = 0.5  # the same for its outer rule (nodes() takes 0.25; no more accurate here)
SLOW = 0.9  # fixed_point: steps shrinking slower than this per iteration switch to brentq
MARGINAL = 1e-12  # |q_map(q)/q − 1| below this is rounding, not a sign of a fixed point


def _activation(act: str | dict | Activation) -> Activation:
    """An elementwise activation (the theory's φ acts unit by unit): not softmax."""
    act = act if isinstance(act, Activation) else activations.get(act)
    if act.name not in _SECOND:
        raise InitlabError(f"mean-field theory needs an elementwise activation, not {act.name}")
    return act


def _phi(act: Activation) -> Callable[[np.ndarray], np.ndarray]:
    return lambda h: act.forward(np, h, np.empty_like(h))


def _dphi(act: Activation) -> Callable[[np.ndarray], np.ndarray]:
    return lambda h: act.backward(np, h, act.forward(np, h, np.empty_like(h)), np.ones_like(h))


def _d2_zero(h: np.ndarray, p: dict) -> np.ndarray:
    return np.zeros_like(h)


def _d2_tanh(h: np.ndarray, p: dict) -> np.ndarray:  # φ'' = −2 tanh h · sech² h
    t = np.tanh(h)
    return -2.0 * t * (1.0 - t * t)


def _d2_sigmoid(h: np.ndarray, p: dict) -> np.ndarray:  # φ'' = σ(1 − σ)(1 − 2σ)
    s = special(np).expit(h)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _d2_selu(h: np.ndarray, p: dict) -> np.ndarray:  # φ'' = λα eʰ for h < 0, 0 for h > 0
    return np.where(h < 0, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(h, 0.0)), 0.0)


def _d2_gelu(h: np.ndarray, p: dict) -> np.ndarray:  # φ = hΦ(h), φ' = Φ + hN: φ'' = (2 − h²)N(h)
    return (2.0 - h * h) * np.exp(-0.5 * h * h) / math.sqrt(2.0 * math.pi)


def _d2_gelu_tanh(h: np.ndarray, p: dict) -> np.ndarray:
    # φ = ½h(1 + t), t = tanh u, u = k(h + a h³): φ'' = t' + ½h·t'', with t' = (1 − t²)u' and
    # t'' = (1 − t²)(u'' − 2t·u'²), u' = k(1 + 3a h²), u'' = 6k·a·h
    k, a = GELU_C, 0.044715
    t = np.tanh(k * (h + a * h ** 3))
    du, ddu = k * (1.0 + 3.0 * a * h * h), 6.0 * k * a * h
    sech2 = 1.0 - t * t
    return sech2 * du + 0.5 * h * sech2 * (ddu - 2.0 * t * du * du)


# φ'' in closed form, away from kinks. The Dirac part at a kink (relu, leaky_relu and selu at
# h = 0: a jump of φ') meets φ(0) = 0 in E[φ''(h)·φ(h)], the only place φ'' is used, so the
# almost-everywhere φ'' gives that expectation exactly.
_SECOND = {"linear": _d2_zero, "relu": _d2_zero, "leaky_relu": _d2_zero, "tanh": _d2_tanh,
           "sigmoid": _d2_sigmoid, "selu": _d2_selu, "gelu": _d2_gelu,
           "gelu_tanh": _d2_gelu_tanh}


def second_derivative(act: str | dict | Activation) -> Callable[[np.ndarray], np.ndarray]:
    """φ''(h) of an elementwise activation in closed form (not a finite difference of φ'):
    tanh −2 tanh·sech², sigmoid σ(1−σ)(1−2σ), selu λα·eʰ (h < 0), gelu (2 − h²)·N(h), gelu_tanh
    by the chain rule; 0 for linear and the relu family, whose Dirac part at the kink meets
    φ(0) = 0 in E[φ''φ]."""
    act = _activation(act)
    fn, params = _SECOND[act.name], act.params
    return lambda h: fn(np.asarray(h, dtype=np.float64), params)


def _inner_nodes(shift: np.ndarray, scale: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of points z and weights w, Σ_j w_ij·g(shift_i + scale·z_ij) ≈ E[g(shift_i +
    scale·z)], z ~ N(0, 1): composite Gauss–Legendre, ``n`` nodes per panel on z ∈ [−10, 10],
    edges every INNER_STEP and wherever shift_i + scale·z is an integer in [−40, 40] (the edges
    of ``engine.gaussian.nodes``, moved by the shift). Every row takes the same number of
    consecutive integers, from ⌊shift_i − 10·scale⌋ (kept within [−40, 40]); edges past
    z = ±10 are clipped there, empty panels of weight 0."""
    base = np.linspace(-Z_MAX, Z_MAX, int(2 * Z_MAX / INNER_STEP) + 1)
    edges = np.broadcast_to(base, (shift.size, base.size))
    if scale > 0:
        count = min(2 * H_MAX + 1, math.ceil(2 * Z_MAX * scale) + 2)
        start = np.clip(np.floor(shift - Z_MAX * scale), -H_MAX, H_MAX + 1 - count)
        k = start[:, None] + np.arange(count)
        moved = np.clip((k - shift[:, None]) / scale, -Z_MAX, Z_MAX)
        edges = np.sort(np.concatenate([edges, moved], axis=1), axis=1)
    x, w = legendre(n)
    mid, half = (edges[:, 1:] + edges[:, :-1]) / 2, (edges[:, 1:] - edges[:, :-1]) / 2
    z = half[..., None] * x
    z += mid[..., None]
    weights = z * z
    weights *= -0.5
    np.exp(weights, out=weights)
    weights *= half[..., None] * (w / math.sqrt(2.0 * math.pi))
    return z.reshape(shift.size, -1), weights.reshape(shift.size, -1)


def _outer_nodes(q: float, width: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``engine.gaussian.nodes(q, n)``'s rule (edges at every integer h in [−40, 40], and every
    OUTER_STEP in z) with more edges at h = ±width·2^j, j = −4 … 4. Given u1 = h, E[g(u2)] is g(c·h)
    smoothed over √(q(1 − c²)) in u2, i.e. over ``width`` = √(q(1 − c²))/|c| in h, so a jump
    of g at 0 (relu's φ') becomes a step of that width at h = 0, which c → 1 makes too narrow
    for the 0.25 panels: these edges resolve it."""
    s = math.sqrt(q)
    edges = np.linspace(-Z_MAX, Z_MAX, int(2 * Z_MAX / OUTER_STEP) + 1)
    if s > 0:
        h = np.concatenate([np.arange(-H_MAX, H_MAX + 1), width * 2.0 ** np.arange(-4, 5),
                            -width * 2.0 ** np.arange(-4, 5)]) / s
        edges = np.union1d(edges, h[np.abs(h) < Z_MAX])
    x, w = legendre(n)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    z = (mid[:, None] + half[:, None] * x).ravel()
    return s * z, (half[:, None] * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def expect2(f: Callable[[np.ndarray], np.ndarray], g: Callable[[np.ndarray], np.ndarray],
            q: float, c: float, n: int = 8) -> float:
    """E[f(u1)·g(u2)], u1 = √q z1, u2 = √q (c z1 + √(1−c²) z2), z1, z2 ~ N(0, 1) independent.

    Nested composite Gauss–Legendre rather than a product of Gauss–Hermite rules, which miss
    relu's kink and a saturated tanh's bend (``engine.gaussian.nodes``): given u1 = h,
    u2 ~ N(c·h, q(1 − c²)), and the inner rule puts its panel edges where u2 is an integer
    (``_inner_nodes``), so the kink at u2 = 0 and the bend at |u2| ≈ 1 sit on panel edges for
    every h, as they do for u1 in the outer rule (``_outer_nodes``: ``nodes(q)``'s edges, and
    more where the smoothed jump lies). c = ±1: u2 = ±u1, by ``nodes(q)``; c = 0: the product of
    two 1-D expectations."""
    if abs(c) >= 1.0:
        h, w = nodes(q, n)
        fh, gh = np.asarray(f(h), dtype=np.float64), np.asarray(g(math.copysign(1.0, c) * h))
        return float(w @ (fh * gh))
    if c == 0.0:
        return expect(f, q, n) * expect(g, q, n)
    scale = math.sqrt(q * (1.0 - c * c))
    h, w = _outer_nodes(q, scale / abs(c), n)
    fh, shift = np.asarray(f(h), dtype=np.float64), c * h
    z, wz = _inner_nodes(shift, scale, n)
    inner = np.einsum("ij,ij->i", wz, np.asarray(g(shift[:, None] + scale * z),
                                                 dtype=np.float64))
    return float(w @ (fh * inner))


def q_map(act: str | dict | Activation, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """The length map q_l = σ_w²·E[φ(√q_(l−1) z)²] + σ_b²; NaN when q is not finite."""
    act = _activation(act)
    if not math.isfinite(q):
        return math.nan
    phi = _phi(act)
    return sigma_w2 * expect(lambda h: phi(h) ** 2, q) + sigma_b2


def _brentq(f: Callable[[float], float], a: float, b: float, rtol: float = 1e-15) -> float:
    from scipy import optimize  # noqa: PLC0415 (slow to import; the quick commands need none)

    return float(optimize.brentq(f, a, b, xtol=1e-300, rtol=max(rtol, 4 * np.finfo(float).eps),
                                 maxiter=500))


def fixed_point(act: str | dict | Activation, sigma_w2: float, sigma_b2: float,
                q0: float = 1.0, tol: float = 1e-12, max_iter: int = 10000) -> float:
    """q* = q_map(q*), reached from ``q0`` by iterating the q-map, stopped once |Δq| ≤ tol·q.

    ``math.inf`` when q grows without bound (relu with σ_w² > 2, linear with σ_w² > 1): past
    Q_HUGE, or no fixed point ahead; 0.0 when it collapses: q = 0 is a fixed point (σ_b² = 0,
    φ(0) = 0) and q falls below Q_ZERO (tanh with σ_w² ≤ 1). The q-map increases with q, so the
    iterates are monotone; near a transition they crawl (tanh, σ_w² = 1, σ_b² = 0: q_l ≈
    1/(2l)), so once a step shrinks by less than SLOW against the last (from the 10th, or
    after ``max_iter`` steps), the next fixed point in the direction of motion is bracketed by
    doubling (halving) q and found by brentq."""
    act = _activation(act)
    if not all(math.isfinite(v) for v in (sigma_w2, sigma_b2, q0)) or q0 < 0:
        return math.nan

    def qmap(x: float) -> float:
        return q_map(act, sigma_w2, sigma_b2, x)

    zero_fixed = qmap(0.0) == 0.0
    q, last = float(q0), math.nan
    with np.errstate(all="ignore"):
        for i in range(max_iter):
            nxt = qmap(q)
            if not math.isfinite(nxt) or nxt > Q_HUGE:
                return math.inf
            if abs(nxt - q) <= tol * q:
                return nxt
            if zero_fixed and nxt < Q_ZERO:
                return 0.0
            step, q = nxt - q, nxt
            if i >= 10 and abs(step) > SLOW * abs(last):
                break
            last = step
        return _bracketed(qmap, q, qmap(q) > q, zero_fixed, tol)


def _bracketed(qmap: Callable[[float], float], q: float, up: bool, zero_fixed: bool,
               tol: float) -> float:
    """The first fixed point of ``qmap`` above (``up``) or below q, where F(x) = qmap(x)/x − 1
    turns from one sign to beyond ∓MARGINAL between x and 2x (x/2), found by brentq: inf when
    that does not happen below Q_HUGE (F within rounding of 0 is no fixed point: relu at
    σ_w² = 2 with σ_b² > 0 has F = σ_b²/x, 1e-16 at x = 1e15), 0.0 below Q_ZERO if 0 is fixed."""
    def F(x: float) -> float:  # noqa: N802
        return qmap(x) / x - 1.0

    lo, f_lo = q, F(q)
    while True:
        hi = lo * 2.0 if up else lo / 2.0
        if up and hi > Q_HUGE:
            return math.inf
        if not up and hi < Q_ZERO:  # q_map(0) > 0 (or 0 is the fixed point): root in [0, lo]
            return 0.0 if zero_fixed else _brentq(lambda x: qmap(x) - x, 0.0, lo, tol)
        f_hi = F(hi)
        if f_hi < -MARGINAL if up else f_hi > MARGINAL:
            if (f_lo > 0.0) != (f_hi > 0.0):
                return _brentq(F, min(lo, hi), max(lo, hi), tol)
            return lo  # F crossed 0 within rounding at lo
        lo, f_lo = hi, f_hi


def c_map(act: str | dict | Activation, sigma_w2: float, sigma_b2: float, q: float,
          c: float) -> float:
    """The correlation map: c_l = (σ_w²·E[φ(u1)φ(u2)] + σ_b²)/q_l for two inputs of length
    q = q_(l−1) and correlation c = c_(l−1), u1 = √q z1, u2 = √q (c z1 + √(1−c²) z2).
    q_l = q_map(q), which is q itself at the fixed point q = q*, so there this is the paper's
    c-map at length q*; elsewhere it stays a correlation (c_map(q, 1) = 1). NaN when q_l is 0
    or not finite."""
    act = _activation(act)
    nxt = q_map(act, sigma_w2, sigma_b2, q)
    if not (math.isfinite(nxt) and nxt > 0 and math.isfinite(c)):
        return math.nan
    phi = _phi(act)
    return (sigma_w2 * expect2(phi, phi, q, c) + sigma_b2) / nxt


def chi_c(act: str | dict | Activation, sigma_w2: float, q: float, c: float) -> float:
    """σ_w²·E[φ'(u1)φ'(u2)] at length q and correlation c: the slope
    ∂c_l/∂c_(l−1) of the c-map at the fixed point q*; at c = 1 it is χ₁."""
    act = _activation(act)
    dphi = _dphi(act)
    return sigma_w2 * expect2(dphi, dphi, q, c)


@dataclass(frozen=True)
class Phase:
    """Where (σ_w², σ_b²) sits in the phase diagram of an activation.

    q_star: the fixed point of the q-map, inf or 0.0 when q grows or collapses;
    c_star: the stable fixed point of the c-map reached from c = 0; 1 in the ordered phase;
    chi1 = σ_w²·E[φ'(√q* z)²]: < 1 ordered, > 1 chaotic, = 1 the edge;
    chi_c = σ_w²·E[φ'(u1*)φ'(u2*)] at c*, χ₁ when c* = 1;
    xi_q = −1/ln(χ₁ + σ_w²·E[φ''(√q* z)·φ(√q* z)]): |q_l − q*| ~ e^(−l/ξ_q);
    xi_c = −1/ln χ_c: |c_l − c*| ~ e^(−l/ξ_c); inf at the edge (χ_c = 1).
    A depth scale is inf where its rate is ≥ 1 (nothing decays exponentially). With q* = 0 or
    inf, the rest is taken in the limit, at q = Q_ZERO or Q_HUGE, where the c-map's slope is
    χ_c·q_(l−1)/q_l: 1 for relu or tanh without bias (σ_b² = 0), whose correlation then creeps
    (relu: c_l → 1 as a power of l) or freezes (tanh as q_l collapses), so ξ_c = inf."""

    q_star: float
    c_star: float
    chi1: float
    chi_c: float
    xi_q: float
    xi_c: float


def _depth_scale(rate: float) -> float:
    """−1/ln(rate): inf for rate ≥ 1, 0 for rate ≤ 0, NaN for NaN."""
    if math.isnan(rate):
        return math.nan
    if rate >= 1.0:
        return math.inf
    return 0.0 if rate <= 0.0 else -1.0 / math.log(rate)


def _c_star(act: Activation, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """The fixed point of the c-map that the iteration from c = 0 reaches, at length q.

    The c-map is absolutely monotone on [0, 1] (its k-th derivative in c is
    σ_w² q^k E[φ⁽ᵏ⁾(u1)φ⁽ᵏ⁾(u2)]/q_l ≥ 0, Price's theorem with the Mehler expansion), hence
    increasing and convex: from c = 0 the iterates rise to the smallest fixed point, and
    G(c) = c_map(c) − c has at most one root in [0, 1) besides c = 1. It is found by brentq
    (the iteration converges at rate χ_c, slowly near the edge): G(0) = 0 gives c* = 0 (odd φ,
    σ_b² = 0); else the first of 0.5, 0.9, 0.99, …, 1 − 10⁻¹² where G < 0 brackets it; none:
    c* = 1."""
    def G(c: float) -> float:  # noqa: N802
        return c_map(act, sigma_w2, sigma_b2, q, c) - c

    lo = 0.0
    if G(lo) <= 1e-15:
        return 0.0
    for hi in (0.5, *(1.0 - 10.0 ** -k for k in range(1, 13))):
        if G(hi) < 0.0:
            return _brentq(G, lo, hi)
        lo = hi
    return 1.0


def phase(act: str | dict | Activation, sigma_w2: float, sigma_b2: float) -> Phase:
    """q*, c*, χ₁, χ_c, ξ_q and ξ_c at (σ_w², σ_b²) (see ``Phase``). χ₁ ≤ 1 (to MARGINAL, so
    that rounding does not make linear or relu at the edge chaotic): c* = 1, χ_c = χ₁ (c = 1 is
    stable, the ordered phase); χ₁ > 1: c* by ``_c_star``. φ'' from ``second_derivative``
    (closed forms)."""
    act = _activation(act)
    q_star = fixed_point(act, sigma_w2, sigma_b2)
    if math.isnan(q_star):
        return Phase(*(math.nan,) * 6)
    q = min(max(q_star, Q_ZERO), Q_HUGE)
    phi, dphi, d2 = _phi(act), _dphi(act), second_derivative(act)
    chi1 = sigma_w2 * expect(lambda h: dphi(h) ** 2, q)
    c_star = 1.0 if chi1 <= 1.0 + MARGINAL else _c_star(act, sigma_w2, sigma_b2, q)
    chi = chi1 if c_star == 1.0 else chi_c(act, sigma_w2, q, c_star)
    if q != q_star:  # no finite q* > 0: the normalisation q_(l−1)/q_l of the c-map is not 1
        nxt = q_map(act, sigma_w2, sigma_b2, q)
        chi = chi * q / nxt if math.isfinite(nxt) and nxt > 0 else chi
        chi = 1.0 if abs(chi - 1.0) <= MARGINAL else chi  # exactly 1 in the limit, not rounded
    slope_q = chi1 + sigma_w2 * expect(lambda h: d2(h) * phi(h), q)  # dq_l/dq_(l−1) at q*
    return Phase(q_star, c_star, chi1, chi, _depth_scale(slope_q), _depth_scale(chi))


def _chi1(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    q = min(max(fixed_point(act, sigma_w2, sigma_b2), Q_ZERO), Q_HUGE)
    dphi = _dphi(act)
    return sigma_w2 * expect(lambda h: dphi(h) ** 2, q)


def edge_of_chaos(act: str | dict | Activation, sigma_b2: float, lo: float, hi: float,
                  rtol: float = 1e-13) -> float:
    """The σ_w² in [lo, hi] where χ₁(σ_w², σ_b²) = 1 (the critical line between order and
    chaos), by brentq to ``rtol``; χ₁ − 1 must change sign between lo and hi."""
    act = _activation(act)
    below, above = _chi1(act, lo, sigma_b2) - 1.0, _chi1(act, hi, sigma_b2) - 1.0
    if (below > 0) == (above > 0) and below != 0 and above != 0:
        raise InitlabError(f"χ₁ − 1 has one sign on σ_w² in [{lo:g}, {hi:g}] at σ_b² = "
                           f"{sigma_b2:g} ({below:+.3g}, {above:+.3g}); widen the interval")
    return _brentq(lambda s: _chi1(act, s, sigma_b2) - 1.0, lo, hi, rtol)


def predicted_correlations(activation: str | dict | Activation, sigma_w2: Sequence[float],
                           sigma_b2: Sequence[float], q0: float, c0: float) -> list[float]:
    """Mean-field correlation c_l of the pre-activations of two inputs of equal second moment q0
    and correlation c0 (uncentred: x1·x2/(|x1||x2|)), at every layer of a stack:
      q_1 = σ_w1²·q0 + σ_b1²,  c_1 = (σ_w1²·c0·q0 + σ_b1²)/q_1   (layer 1 is linear in x);
      c_l = c_map(σ_wl², σ_bl², q_(l−1), c_(l−1)),  q_l = q_map(σ_wl², σ_bl², q_(l−1)),
    with σ_wl², σ_bl² per layer as ``predicted_stds`` takes them. NaN from where q_l is 0 or not
    finite."""
    act = _activation(activation)
    with np.errstate(all="ignore"):
        q = sigma_w2[0] * q0 + sigma_b2[0]
        c = (sigma_w2[0] * c0 * q0 + sigma_b2[0]) / q if q > 0 else math.nan
        out = [float(c)]
        for l in range(1, len(sigma_w2)):
            c = c_map(act, sigma_w2[l], sigma_b2[l], q, c) if math.isfinite(q) else math.nan
            q = q_map(act, sigma_w2[l], sigma_b2[l], q)
            out.append(float(c))
    return out
