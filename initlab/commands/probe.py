"""Signal propagation at initialization (``initlab probe``): a deep stack, no training.

``depth`` layers of ``width`` units, one activation, several initializers × seeds. Experiment
e = i·S + s (init i, seed s) is one slice of a leading axis E, so each layer is one
``xp.matmul`` for all: W_l (E, n_l, n_{l−1}), z_l and a_l (E, n_l, m), a_0 = X (n_0, m).

Forward: z_l = W_l a_{l−1} (+ b_l), a_l = φ(z_l). Backward: a random dL/da_L ~ N(0, 1) is pushed
down the same stack, da_{l−1} = W_lᵀ (da_l ⊙ φ'(z_l)), over the first ``grad_samples`` samples
(all when None). Measurements sit beside the mean-field predictions of ``predicted_stds``.

Streams of seed s, the same for every init (common random numbers): weights and biases from
``rng.layer_streams(s, spec.rng, depth)``; gaussian inputs from PCG64(SeedSequence([s, 1])), the
injected gradient from [s, 2], a data set's readout from [s, 3].

Memory: the current layer's z and a, plus φ'(z_l) of layers 2…L for the backward pass, stored
(not recomputed): nothing for linear, bool for relu, float64 otherwise, i.e. at most
8·E·(L−1)·width·grad_samples bytes. Weights are kept for the backward pass while they take at
most ``KEEP_WEIGHTS_BYTES``; beyond that each W_l is drawn again from a copy of its stream taken
before the first draw (the same numbers). Histograms are binned layer by layer, on the fly.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.engine import activations, losses
from initlab.engine.activations import Activation
from initlab.engine.backend import to_numpy
from initlab.engine.stats import SATURATION_MARGIN
from initlab.errors import InitlabError
from initlab.experiments import datasets
from initlab.inits import laws as initializers
from initlab.inits import streams as rngs

HIST_BINS = 30
VANISH_FACTOR = 1e-3  # a layer has vanished when its activation std < 1e-3 × the input std
KEEP_WEIGHTS_BYTES = 1 << 30
RNG_KINDS = ("numpy", "legacy")
_Z_MAX, _Z_STEP, _H_MAX = 10.0, 0.25, 40  # quadrature panels, see _nodes
_OUTPUT = {"binary": ("sigmoid", "bce"), "multiclass": ("softmax", "softmax_ce"),
           "regression": ("linear", "quadratic")}


@dataclass(frozen=True)
class ProbeSpec:
    """What to probe. ``input``: 'gaussian' (N(0, 1), (input_dim, batch), input_dim = width by
    default) or a data set (name, or {'name': …, params}) whose X_train is used as given;
    ``input_dim`` and ``batch`` are then ignored and a loss gradient is reported too: readout
    R ~ N(0, 1/width) (stream [s, 3]), logits R·a_L, the data set's cost averaged over all m
    samples (binary: BCE of sigmoid; multiclass: softmax CE; regression: ½‖R·a_L − y‖²),
    backpropagated to every a_l. ``bias`` None: no bias, as in the CS231n article.
    ``grad_samples``: backward passes use the first k samples (None: all)."""

    depth: int
    width: int
    activation: str | dict
    inits: tuple[str | dict, ...]
    batch: int = 1000
    input_dim: int | None = None
    seeds: tuple[int, ...] = (0,)
    bias: str | dict | None = None
    input: str | dict = "gaussian"
    rng: str = "numpy"
    histograms: bool = False
    jacobian: bool = False
    jacobian_points: int = 4
    grad_samples: int | None = 256


@dataclass
class LayerProbe:
    """One init, one layer (1-based), averaged over seeds. ``grad_std``: std of dL/da_l for the
    injected N(0, 1) gradient; ``loss_grad_std``: the same for a data set's loss (else None);
    ``histogram``: (counts, bin edges) of a_l over all seeds, when asked for."""

    init: str
    layer: int
    activation_mean: float
    activation_std: float
    predicted_std: float
    saturated_fraction: float | None
    dead_fraction: float | None
    grad_std: float
    predicted_grad_std: float
    loss_grad_std: float | None
    vanished: bool
    saturated: bool
    histogram: tuple[list[int], list[float]] | None


@dataclass
class InitProbe:
    """One init. forward_ratio: activation std layer L / layer 1; backward_ratio: grad std layer
    1 / layer L; jacobian: {'mean_sq_singular_value', 'condition_number', 'points'} or None."""

    init: str
    formula: str
    layers: list[LayerProbe]
    forward_ratio: float
    backward_ratio: float
    jacobian: dict | None


def _activation(spec: str | dict) -> Activation:
    act = activations.get(spec)
    if act.name == "softmax":
        raise InitlabError("probe: softmax is an output activation; use a hidden-layer one "
                           "(linear, relu, leaky_relu, tanh, sigmoid, selu, gelu)")
    return act


def _positive(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InitlabError(f"probe: {key} must be an integer >= 1, got {value!r}")


def validate(spec: ProbeSpec) -> None:
    """Raise a one-line InitlabError for anything ``run`` cannot do."""
    for key in ("depth", "width", "batch", "jacobian_points", "input_dim", "grad_samples"):
        if getattr(spec, key) is not None or key not in ("input_dim", "grad_samples"):
            _positive(key, getattr(spec, key))
    if not spec.seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0
                             for s in spec.seeds):
        raise InitlabError(f"probe: seeds must be integers >= 0 (at least one), got {spec.seeds}")
    _activation(spec.activation)
    if not spec.inits:
        raise InitlabError("probe: give at least one initializer")
    seen: set[str] = set()
    for init in spec.inits:
        name = initializers.label(init)  # resolves: unknown names and bad parameters raise
        if name in seen:
            raise InitlabError(f"probe: initializer '{name}' is given twice")
        seen.add(name)
    if spec.bias is not None:
        initializers.resolve(spec.bias)
    if spec.rng not in RNG_KINDS:
        raise InitlabError(f"probe: unknown rng '{spec.rng}'; valid: {', '.join(RNG_KINDS)}")
    name = spec.input.get("name") if isinstance(spec.input, dict) else spec.input
    if name != "gaussian" and name not in datasets.DATASET_NAMES:
        raise InitlabError(f"probe: unknown input {name!r}; valid: gaussian, "
                           f"{', '.join(datasets.DATASET_NAMES)}")


# ------------------------------------------------------------------------- mean-field theory

def _nodes(q: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points h and weights w with Σ w·f(h) ≈ E[f(√q z)], z ~ N(0, 1).

    Composite Gauss–Legendre, ``n`` nodes per panel, on z ∈ [−10, 10] (mass outside: 1.5e-23)
    against the normal density. Panel edges every 0.25 in z and at every integer h = √q·z in
    [−40, 40]. A global Gauss–Hermite rule fails here: for tanh at q ≈ 500 (N(0, 1) weights,
    width 500) E[sech⁴] lives within |z| < 0.05, between Hermite nodes (101 nodes: 0.124, true
    0.0242), and an odd rule puts a node on relu's kink (E[1{z>0}] = 0.438). Here 0 is always an
    edge, so piecewise smooth units are integrated to machine precision."""
    s = math.sqrt(q)
    edges = np.linspace(-_Z_MAX, _Z_MAX, int(2 * _Z_MAX / _Z_STEP) + 1)
    if s > 0:
        h = np.arange(-_H_MAX, _H_MAX + 1) / s
        edges = np.union1d(edges, h[np.abs(h) < _Z_MAX])
    x, w = np.polynomial.legendre.leggauss(n)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    z = (mid[:, None] + half[:, None] * x).ravel()
    return s * z, (half[:, None] * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _moments(act: Activation, q: float, n: int) -> tuple[float, float, float]:
    """(Var φ(h), E[φ(h)²], E[φ'(h)²]) for h ~ N(0, q); NaN when q is not finite."""
    if not math.isfinite(q):
        return math.nan, math.nan, math.nan
    h, w = _nodes(q, n)
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

    Expectations by ``_nodes`` (``n_quad`` Gauss–Legendre nodes per panel).
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


# --------------------------------------------------------------------------------- measuring

def _stream(seed: int, tag: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, tag])))


class _Weights:
    """W_l, b_l of every experiment, drawn on the host; σ_w², σ_b² recorded at the first draw.
    ``again(l)`` gives W_l back: kept, or redrawn from a copy of its stream (see module doc)."""

    def __init__(self, spec: ProbeSpec, act: Activation, dims: list[int], xp: Any) -> None:
        self.inits = [initializers.resolve(s) for s in spec.inits]
        self.bias = None if spec.bias is None else initializers.resolve(spec.bias)
        self.act, self.dims, self.xp, self.S = act.name, dims, xp, len(spec.seeds)
        E, L = len(self.inits) * self.S, spec.depth
        self.streams = [rngs.layer_streams(spec.seeds[e % self.S], spec.rng, L) for e in range(E)]
        self.keep = E * sum(dims[l] * dims[l + 1] for l in range(1, L)) * 8 <= KEEP_WEIGHTS_BYTES
        self.kept: dict[int, Any] = {}
        self.snaps: dict[tuple[int, int], Any] = {}
        self.sw2, self.sb2 = np.zeros((E, L)), np.zeros((E, L))

    def draw(self, l: int, again: bool = False) -> tuple[Any, Any]:
        if again and self.keep:
            return self.kept[l], None
        shape, Ws, bs = (self.dims[l + 1], self.dims[l]), [], []
        for e, (w_rng, b_rng) in enumerate(s[l] for s in self.streams):
            if again:  # a fresh copy each time: the backward pass may run twice
                w_rng = copy.deepcopy(self.snaps[e, l])
            elif not self.keep:
                self.snaps[e, l] = copy.deepcopy(w_rng)
            name, params = self.inits[e // self.S]
            Ws.append(initializers.sample(name, params, shape, w_rng, activation=self.act))
            if self.bias is not None and not again:
                bs.append(initializers.sample(*self.bias, shape[:1], b_rng, activation=self.act))
        W = np.stack(Ws)
        if not again:
            self.sw2[:, l] = np.einsum("eij,eij->e", W, W) / shape[0]
            self.sb2[:, l] = [float(np.mean(b * b)) for b in bs] if bs else 0.0
        W = self.xp.asarray(W)
        if self.keep and l > 0:
            self.kept[l] = W
        return W, (self.xp.asarray(np.stack(bs)) if bs else None)


def _inputs(spec: ProbeSpec) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """(X (S or 1, n_0, m), labels (k, m) or None, task or None)."""
    if spec.input == "gaussian":
        n0 = spec.input_dim or spec.width
        return np.stack([_stream(s, 1).standard_normal((n0, spec.batch)) for s in spec.seeds]), \
            None, None
    params = dict(spec.input) if isinstance(spec.input, dict) else {"name": spec.input}
    data = datasets.make(params.pop("name"), params)
    return data.X_train[None], data.y_train, data.task


def _dphi(xp: Any, act: Activation, z: Any, a: Any) -> Any:
    """φ'(z): None for linear (all ones), bool for relu, 1 − a² for tanh, else float."""
    if act.name == "linear":
        return None
    if act.name == "relu":
        return z > 0
    if act.name == "tanh":
        d = xp.multiply(a, a)
        return xp.subtract(1.0, d, out=d)
    return act.backward(xp, z, a, xp.ones_like(z))


def _mean_std(xp: Any, a: Any, scratch: Any) -> tuple[Any, Any]:
    """Per-experiment mean and std over units × samples (two-pass), each (E,)."""
    count = a.shape[-2] * a.shape[-1]
    mean = a.sum(axis=(-2, -1)) / count
    xp.subtract(a, mean[:, None, None], out=scratch)
    return mean, xp.sqrt(xp.einsum("eij,eij->e", scratch, scratch) / count)


def _histogram(xp: Any, act: Activation, values: Any) -> tuple[list[int], list[float]]:
    """30 bins over the activation's bounds (tanh (−1, 1), sigmoid (0, 1)), else min…max."""
    values = values[xp.isfinite(values)]
    lo, hi = act.bounds or ((float(values.min()), float(values.max())) if values.size else (0, 1))
    counts, edges = xp.histogram(values, bins=HIST_BINS, range=(lo, hi))
    return [int(c) for c in to_numpy(counts)], [float(e) for e in to_numpy(edges)]


def run(spec: ProbeSpec, xp: Any = np) -> list[InitProbe]:
    """Probe every init of ``spec`` (see the module docstring); one result per init, in order."""
    validate(spec)
    act = _activation(spec.activation)
    X, Y, task = _inputs(spec)
    I, S, L, n = len(spec.inits), len(spec.seeds), spec.depth, spec.width
    E, n0, m = I * S, X.shape[1], X.shape[2]
    k, P, first = min(m, spec.grad_samples or m), min(spec.jacobian_points, m), slice(0, E, S)
    weights = _Weights(spec, act, [n0] + [n] * L, xp)
    z, scratch = xp.empty((E, n, m)), xp.empty((E, n, m))
    bufs, dphi, cols, J = [xp.empty((E, n, m)), xp.empty((E, n, m))], [None] * L, [], None
    hists: list[list[Any]] = [[None] * L for _ in range(I)]
    with np.errstate(all="ignore"):
        a = xp.asarray(X)
        for l in range(L):
            W, b = weights.draw(l)
            if l == 0:  # (I, S, n, n0) @ (S or 1, n0, m): each seed's own input
                xp.matmul(W.reshape(I, S, n, n0), a, out=z.reshape(I, S, n, m))
            else:
                xp.matmul(W, a, out=z)
            if b is not None:
                z += b[:, :, None]
            a = act.forward(xp, z, bufs[l % 2])
            mean, std = _mean_std(xp, a, scratch)
            sat = dead = xp.full(E, np.nan)
            if act.bounds is not None:
                near = (a <= act.bounds[0] + SATURATION_MARGIN) | (a >= act.bounds[1]
                                                                   - SATURATION_MARGIN)
                sat = xp.count_nonzero(near, axis=(-2, -1)) / (n * m)
            if act.can_die:
                dead = (a <= 0).all(axis=-1).mean(axis=-1)
            cols.append(xp.stack([mean, std, sat, dead]))
            if l > 0:
                dphi[l] = _dphi(xp, act, z[..., :k], a[..., :k])
            if spec.histograms:
                for i in range(I):
                    hists[i][l] = _histogram(xp, act, a[i * S:(i + 1) * S])
            if spec.jacobian:  # forward mode: J_l = D_l W_l J_{l−1}, (I, P, n, n0)
                d = _dphi(xp, act, z[first, :, :P], a[first, :, :P])
                d = 1.0 if d is None else d.swapaxes(-1, -2)[..., None]
                Wf = W[first][:, None]
                J = d * (xp.broadcast_to(Wf, (I, P, n, n0)) if J is None else xp.matmul(Wf, J))

        def head(buf: Any) -> Any:  # a contiguous (E, n, k) view on a forward buffer
            return buf.reshape(-1)[:E * n * k].reshape(E, n, k)

        def backward(da: Any) -> np.ndarray:  # da: dL/da_L (E, n, k), overwritten
            stds = []
            for l in range(L - 1, -1, -1):
                stds.append(_mean_std(xp, da, head(scratch))[1])
                if l > 0:
                    if dphi[l] is not None:
                        da *= dphi[l]
                    W = weights.draw(l, again=True)[0]
                    da = xp.matmul(W.swapaxes(-1, -2), da, out=head(bufs[l % 2]))
            return to_numpy(xp.stack(stds[::-1], axis=-1))  # (E, L)

        loss_grads = None
        if Y is not None:  # readout R ~ N(0, 1/n), the data set's loss, backpropagated
            out_act, loss = (f(name) for f, name in zip((activations.get, losses.get),
                                                        _OUTPUT[task], strict=True))
            R = xp.asarray(np.stack([_stream(s, 3).standard_normal((Y.shape[0], n))
                                     for s in spec.seeds]) / math.sqrt(n))
            logits = xp.matmul(R, a[..., :k].reshape(I, S, n, k)).reshape(E, -1, k)
            dlog = loss.output_grad(xp, out_act, logits, out_act.forward(
                xp, logits, xp.empty_like(logits)), xp.asarray(Y[:, :k]), xp.empty_like(logits))
            dlog *= k / m  # ∂(mean cost over all m samples)/∂logits, restricted to the first k
            top = xp.matmul(R.swapaxes(-1, -2), dlog.reshape(I, S, -1, k)).reshape(E, n, k)
            loss_grads = backward(xp.ascontiguousarray(top))
        top = xp.empty((E, n, k))
        top.reshape(I, S, n, k)[...] = xp.asarray(
            np.stack([_stream(s, 2).standard_normal((n, k)) for s in spec.seeds]))
        grads, stats = backward(top), to_numpy(xp.stack(cols, axis=1))  # (E, L), (4, L, E)
        jac = None if J is None else _jacobian_summary(to_numpy(J), P)
        q0 = (X * X).mean(axis=(1, 2))
        theory = [predicted_stds(act, weights.sw2[e], weights.sb2[e], q0[e % len(q0)])
                  for e in range(E)]
        x_std = float(X.std(axis=(1, 2)).mean())
    return [_assemble(spec, act, i, stats, grads, loss_grads, theory, hists[i], x_std,
                      None if jac is None else jac[i]) for i in range(I)]


def _jacobian_summary(J: np.ndarray, points: int) -> list[dict]:
    """Per init, averaged over points: mean of σ² and σ_max/σ_min (inf when σ_min = 0) of J."""
    out = []
    for Ji in J:
        try:
            sv = np.linalg.svd(Ji, compute_uv=False)  # (P, min(n, n0)), descending
            sq = float(np.mean(sv * sv))
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = float(np.mean(np.where(sv[:, -1] > 0, sv[:, 0] / sv[:, -1], np.inf)))
        except np.linalg.LinAlgError:  # non-finite entries
            sq = cond = math.nan
        out.append({"mean_sq_singular_value": sq, "condition_number": cond, "points": points})
    return out


def _assemble(spec: ProbeSpec, act: Activation, i: int, stats: np.ndarray, grads: np.ndarray,
              loss_grads: np.ndarray | None, theory: list, hists: list, x_std: float,
              jac: dict | None) -> InitProbe:
    """Average init ``i``'s experiments (e = i·S … i·S + S − 1) over seeds."""
    rows, S = slice(i * len(spec.seeds), (i + 1) * len(spec.seeds)), len(spec.seeds)
    pred = np.mean([t[0] for t in theory[rows]], axis=0)
    pred_g = np.mean([t[1] for t in theory[rows]], axis=0)
    g, lg = grads[rows].mean(axis=0), None if loss_grads is None else loss_grads[rows].mean(0)
    label, layers = initializers.label(spec.inits[i]), []
    for l in range(spec.depth):
        mean, std, sat, dead = (float(v) for v in stats[:, l, rows].sum(axis=-1) / S)
        layers.append(LayerProbe(
            init=label, layer=l + 1, activation_mean=mean, activation_std=std,
            predicted_std=float(pred[l]),
            saturated_fraction=sat if act.bounds is not None else None,
            dead_fraction=dead if act.can_die else None,
            grad_std=float(g[l]), predicted_grad_std=float(pred_g[l]),
            loss_grad_std=None if lg is None else float(lg[l]),
            vanished=bool(std < VANISH_FACTOR * x_std),
            saturated=bool(act.bounds is not None and sat > 0.5), histogram=hists[l]))
    with np.errstate(all="ignore"):
        fwd = float(np.float64(layers[-1].activation_std) / layers[0].activation_std)
        bwd = float(np.float64(layers[0].grad_std) / layers[-1].grad_std)
    name, params = initializers.resolve(spec.inits[i])
    return InitProbe(label, initializers.formula(name, params), layers, fwd, bwd, jac)
