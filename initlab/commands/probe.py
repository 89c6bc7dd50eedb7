"""Signal propagation at initialization (``initlab probe``): a deep stack, no training.

``depth`` layers of ``width`` units, one activation, several initializers × seeds (a
``ProbeConfig``). Experiment e = i·S + s (init i, seed s) is one slice of a leading axis E, so
each layer is one ``xp.matmul`` for all: W_l (E, n_l, n_{l−1}), z_l and a_l (E, n_l, m),
a_0 = X (n_0, m).

Forward: z_l = W_l a_{l−1} (+ b_l), a_l = φ(z_l). Backward: a random dL/da_L ~ N(0, 1) is pushed
down the same stack, da_{l−1} = W_lᵀ (da_l ⊙ φ'(z_l)), over the first ``grad_samples`` samples
(all when None). Measurements sit beside the mean-field predictions (``meanfield``).

Weights and biases are drawn as ``run`` draws them (``inits.draw.StartingWeights``, streams of
seed s, the same for every init: common random numbers); gaussian inputs come from
PCG64(SeedSequence([s, 1])), the injected gradient from [s, 2], a data set's readout from [s, 3].

Two inputs x1, x2 of the input dimension (from [s, 4], so the batch's numbers do not change) with
uncentred correlation x1·x2/(|x1||x2|) = PAIR_CORRELATION exactly and the batch's second moment
per coordinate go through the same weights; per layer ``correlation`` is the cosine of
z_l(x1) and z_l(x2) over units, uncentred as the c-map of mean-field theory describes it
(``meanfield.c_map``: q12/√(q11·q22), the bias's shared part included), beside
``predicted_correlation`` (``meanfield.predicted_correlations`` from c0 = PAIR_CORRELATION).

Memory: the current layer's z and a, plus φ'(z_l) of layers 2…L for the backward pass, stored
(not recomputed) in the cheapest form (``Activation.derivative``): nothing for linear, bool for
relu, floats otherwise, i.e. at most 8·E·(L−1)·width·grad_samples bytes. Weights are kept for
the backward pass while they take at most ``KEEP_WEIGHTS_BYTES``; beyond that each W_l is drawn
again from a copy of its stream taken before the first draw (the same numbers). Histograms are
binned layer by layer, on the fly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.commands import meanfield
from initlab.engine import activations, losses, memory
from initlab.engine.activations import Activation
from initlab.engine.backend import to_numpy
from initlab.engine.stats import dead_share, mean_std, saturated_share
from initlab.experiments import datasets
from initlab.experiments.config import ProbeConfig
from initlab.inits import draw, fans

HIST_BINS = 30
VANISH_FACTOR = 1e-3  # a layer has vanished when its activation std < 1e-3 × the input std
KEEP_WEIGHTS_BYTES = 1 << 30
STREAM_INPUT, STREAM_GRADIENT, STREAM_READOUT, STREAM_PAIR = 1, 2, 3, 4
PAIR_CORRELATION = 0.5  # c0 of the two inputs whose correlation is followed through the stack
PAIRS = 16  # such pairs per seed, their cosines averaged (finite-width noise down by √PAIRS)
CONVERGED = 1e-3  # depth_q, depth_c: the least tolerance around the settled value (settling_depth)
SETTLED_TAIL = 0.25  # … the share of the last layers whose mean is the settled value
SETTLED_RUN = 3  # … how many layers in a row must lie within the tolerance
NOISE_SIGMAS = 3.0  # … and the tolerance in units of their layer-to-layer noise
DECAY_MAX = 10.0  # decay_length: a fitted ξ of this many stacks' depth or more is "no decay"
DECAY_SPREAD = 0.5  # … and a ξ whose standard error exceeds this share of it is not measured


@dataclass
class LayerProbe:
    """One init, one layer (1-based), averaged over seeds. ``grad_std``: std of dL/da_l for the
    injected N(0, 1) gradient; ``loss_grad_std``: the same for a data set's loss (else None);
    ``histogram``: (counts, bin edges) of a_l over all seeds, when asked for; ``correlation``:
    the uncentred cosine of z_l(x1), z_l(x2), averaged over the PAIRS input pairs of each seed;
    ``predicted_correlation`` the c-map's (both None for a 1-dimensional input, which has no
    pair at PAIR_CORRELATION)."""

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
    correlation: float | None = None
    predicted_correlation: float | None = None


@dataclass
class InitProbe:
    """One init. forward_ratio: activation std layer L / layer 1; backward_ratio: grad std layer
    1 / layer L; jacobian: {'mean_sq_singular_value', 'condition_number', 'points'} or None.
    phase: ``meanfield.phase`` at the stack's σ_w², σ_b² (the drawn values, averaged over the
    seeds and layers 2…L) when layers 2…L share one weight law and one bias law, else None.
    depth_q, depth_c: ``settling_depth`` of the activation std (relative) and of the measured
    correlation: the layer from which it stays at its settled value, within noise; None if it
    does not settle within the stack. Where a quantity decays as e^(−l/ξ) this is about
    ξ·ln(initial gap / tolerance), so it follows theory's ξ_q, ξ_c up to that factor.
    xi_c: the measured correlation's ``decay_length``, beside theory's phase.xi_c."""

    init: str
    formula: str
    layers: list[LayerProbe]
    forward_ratio: float
    backward_ratio: float
    jacobian: dict | None
    phase: meanfield.Phase | None = None
    depth_q: int | None = None
    depth_c: int | None = None
    xi_c: float | None = None


def _stream(seed: int, tag: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, tag])))


def _inputs(cfg: ProbeConfig) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """(X (S or 1, n_0, m), labels (k, m) or None, task or None)."""
    if cfg.input == "gaussian":
        n0 = cfg.input_dim or cfg.width
        X = np.stack([_stream(s, STREAM_INPUT).standard_normal((n0, cfg.batch))
                      for s in cfg.seeds])
        return X, None, None
    found = datasets.REGISTRY.resolve(cfg.input)
    data = datasets.make(found.name, {k: found.params[k] for k in found.user})
    return data.X_train[None], data.y_train, data.task


def _pair(cfg: ProbeConfig, n0: int, q0: np.ndarray) -> np.ndarray | None:
    """(S, n0, 2·PAIRS): per seed s, from stream [s, 4], PAIRS pairs (columns 2j, 2j+1) x1, x2
    with x1·x2/(|x1||x2|) = PAIR_CORRELATION exactly and |x|²/n0 = q0 (the batch's mean
    square, per seed or one for a data set): Gram–Schmidt on two N(0, I) draws each. None when
    n0 < 2."""
    if n0 < 2:
        return None
    c = PAIR_CORRELATION
    out = np.empty((len(cfg.seeds), n0, 2 * PAIRS))
    for i, s in enumerate(cfg.seeds):
        g = _stream(s, STREAM_PAIR).standard_normal((n0, 2 * PAIRS))
        u = g[:, 0::2] / np.linalg.norm(g[:, 0::2], axis=0)
        v = g[:, 1::2] - (u * g[:, 1::2]).sum(axis=0) * u
        v /= np.linalg.norm(v, axis=0)
        r = math.sqrt(n0 * q0[i % len(q0)])
        out[i, :, 0::2], out[i, :, 1::2] = r * u, r * (c * u + math.sqrt(1.0 - c * c) * v)
    return out


def _cosine(xp: Any, z: Any) -> Any:
    """(E,) the uncentred cosine over units of columns 2j and 2j+1 of z (E, n, 2·PAIRS),
    averaged over the pairs j."""
    a, b = z[..., 0::2], z[..., 1::2]
    return ((a * b).sum(axis=1) / xp.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))).mean(
        axis=-1)


def _histogram(xp: Any, act: Activation, values: Any) -> tuple[list[int], list[float]]:
    """30 bins over the activation's bounds (tanh (−1, 1), sigmoid (0, 1)), else min…max."""
    values = values[xp.isfinite(values)]
    lo, hi = act.bounds or ((float(values.min()), float(values.max())) if values.size else (0, 1))
    counts, edges = xp.histogram(values, bins=HIST_BINS, range=(lo, hi))
    return [int(c) for c in to_numpy(counts)], [float(e) for e in to_numpy(edges)]


def starting_weights(cfg: ProbeConfig, n0: int, snapshots: bool = False) -> draw.StartingWeights:
    """The probe's weights (and biases), experiment e = i·S + s drawn by initializer i from
    seed s's streams, exactly as ``run`` draws a layer; ``n0`` is the input dimension."""
    S, n, L = len(cfg.seeds), cfg.width, cfg.depth
    shapes = [(n, n0)] + [(n, n)] * (L - 1)
    inits = [draw.resolve_layers(spec, cfg.bias, shapes, cfg.bias is not None)
             for spec in cfg.inits]
    act = activations.get(cfg.activation).name
    return draw.StartingWeights([inits[e // S] for e in range(len(inits) * S)],
                                [cfg.seeds[e % S] for e in range(len(inits) * S)], cfg.rng,
                                shapes, [act] * L, snapshots=snapshots)


class _Stack:
    """The probed stack of one config: its inputs, weights (drawn once, kept or redrawn), and
    what the forward pass leaves for the backward passes."""

    def __init__(self, cfg: ProbeConfig, xp: Any) -> None:
        self.cfg, self.xp, self.act = cfg, xp, activations.get(cfg.activation)
        self.X, self.Y, self.task = _inputs(cfg)
        self.I, self.S, self.L, self.n = len(cfg.inits), len(cfg.seeds), cfg.depth, cfg.width
        self.E, self.n0, self.m = self.I * self.S, self.X.shape[1], self.X.shape[2]
        self.k = min(self.m, cfg.grad_samples or self.m)  # samples of the backward passes
        self.keep = self.E * self.n * self.n * (self.L - 1) * 8 <= KEEP_WEIGHTS_BYTES
        self.weights = starting_weights(cfg, self.n0, snapshots=not self.keep)
        self.inits = self.weights.inits[::self.S]
        self.kept: dict[int, Any] = {}
        self.dphi: list[Any] = [None] * self.L
        self.sw2, self.sb2 = np.zeros((self.E, self.L)), np.zeros((self.E, self.L))
        self.q0 = (self.X * self.X).mean(axis=(1, 2))  # per seed, or one for a data set
        self.pair = _pair(cfg, self.n0, self.q0)
        self.correlation: np.ndarray | None = None  # (E, L) after forward
        self.on_layer: Callable[[int], None] | None = None
        self.layers_done = 0

    def _step(self) -> None:
        self.layers_done += 1
        if self.on_layer is not None:
            self.on_layer(self.layers_done)

    def _draw(self, l: int) -> tuple[Any, Any]:
        """W_l and b_l on the device; σ_w² = fan_in·mean(W²) and σ_b² = mean(b²) recorded."""
        W, b = self.weights.layer(l)
        self.sw2[:, l] = np.einsum("eij,eij->e", W, W) / W.shape[1]
        if b is not None:
            self.sb2[:, l] = np.mean(b * b, axis=1)
        W = self.xp.asarray(W)
        if self.keep and l > 0:
            self.kept[l] = W
        return W, None if b is None else self.xp.asarray(b)

    def _again(self, l: int) -> Any:
        return self.kept[l] if self.keep else self.xp.asarray(self.weights.redraw(l))

    def forward(self) -> tuple[np.ndarray, list, Any, Any]:
        """Through every layer: (stats (4, L, E) of mean, std, saturated and dead share,
        histograms [init][layer], the top activations a_L, the forward-mode Jacobian or None)."""
        xp, act, cfg = self.xp, self.act, self.cfg
        I, S, E, n, n0, m = self.I, self.S, self.E, self.n, self.n0, self.m
        P, first = min(cfg.jacobian_points, m), slice(0, E, S)
        z, scratch = xp.empty((E, n, m)), xp.empty((E, n, m))
        bufs, cols, J = [xp.empty((E, n, m)), xp.empty((E, n, m))], [], None
        hists: list[list[Any]] = [[None] * self.L for _ in range(I)]
        a = xp.asarray(self.X)
        pair, corr = None if self.pair is None else xp.asarray(self.pair), []
        for l in range(self.L):
            W, b = self._draw(l)
            if l == 0:  # (I, S, n, n0) @ (S or 1, n0, m): each seed's own input
                xp.matmul(W.reshape(I, S, n, n0), a, out=z.reshape(I, S, n, m))
            else:
                xp.matmul(W, a, out=z)
            if b is not None:
                z += b[:, :, None]
            if pair is not None:  # the pairs: their own small arrays, the batch's untouched
                zp = (xp.matmul(W.reshape(I, S, n, n0), pair).reshape(E, n, 2 * PAIRS) if l == 0
                      else xp.matmul(W, pair))
                if b is not None:
                    zp += b[:, :, None]
                corr.append(_cosine(xp, zp))
                pair = act.forward(xp, zp, xp.empty_like(zp))
            a = act.forward(xp, z, bufs[l % 2])
            cols.append(xp.stack([*mean_std(xp, a, scratch), saturated_share(xp, act, a),
                                  dead_share(xp, act, a)]))
            if l > 0:
                self.dphi[l] = act.derivative(xp, z[..., :self.k], a[..., :self.k])
            if cfg.histograms:
                for i in range(I):
                    hists[i][l] = _histogram(xp, act, a[i * S:(i + 1) * S])
            if cfg.jacobian:  # forward mode: J_l = D_l W_l J_{l−1}, (I, P, n, n0)
                d = act.derivative(xp, z[first, :, :P], a[first, :, :P])
                d = 1.0 if d is None else d.swapaxes(-1, -2)[..., None]
                Wf = W[first][:, None]
                J = d * (xp.broadcast_to(Wf, (I, P, n, n0)) if J is None else xp.matmul(Wf, J))
            self._step()
        self.scratch, self.bufs = scratch, bufs
        if corr:
            self.correlation = to_numpy(xp.stack(corr, axis=1))
        return to_numpy(xp.stack(cols, axis=1)), hists, a, J

    def backward(self, da: Any) -> np.ndarray:
        """Std of dL/da_l at every layer, (E, L), for dL/da_L = ``da`` (E, n, k), overwritten."""
        xp, E, n, k = self.xp, self.E, self.n, self.k

        def head(buf: Any) -> Any:  # a contiguous (E, n, k) view on a forward buffer
            return buf.reshape(-1)[:E * n * k].reshape(E, n, k)

        stds = []
        for l in range(self.L - 1, -1, -1):
            stds.append(mean_std(xp, da, head(self.scratch))[1])
            if l > 0:
                if self.dphi[l] is not None:
                    da *= self.dphi[l]
                da = xp.matmul(self._again(l).swapaxes(-1, -2), da, out=head(self.bufs[l % 2]))
            self._step()
        return to_numpy(xp.stack(stds[::-1], axis=-1))

    def injected_gradient(self) -> Any:
        """dL/da_L ~ N(0, 1), (E, n, k), the same for every init of a seed."""
        top = self.xp.empty((self.E, self.n, self.k))
        top.reshape(self.I, self.S, self.n, self.k)[...] = self.xp.asarray(np.stack(
            [_stream(s, STREAM_GRADIENT).standard_normal((self.n, self.k))
             for s in self.cfg.seeds]))
        return top

    def loss_gradient(self, a_top: Any) -> Any:
        """dL/da_L of the data set's loss through a readout R ~ N(0, 1/width) (stream [s, 3]):
        logits R·a_L, the task's native loss (``losses.native``) averaged over all m samples,
        restricted to the first k samples. (E, n, k)."""
        xp, I, S, n, k, m = self.xp, self.I, self.S, self.n, self.k, self.m
        loss = losses.native(self.task)
        out_act = activations.get(loss.output)
        R = xp.asarray(np.stack([_stream(s, STREAM_READOUT).standard_normal((self.Y.shape[0], n))
                                 for s in self.cfg.seeds]) / math.sqrt(n))
        logits = xp.matmul(R, a_top[..., :k].reshape(I, S, n, k)).reshape(self.E, -1, k)
        dlog = loss.output_grad(xp, out_act, logits, out_act.forward(
            xp, logits, xp.empty_like(logits)), xp.asarray(self.Y[:, :k]), xp.empty_like(logits))
        dlog *= k / m  # ∂(mean cost over all m samples)/∂logits, restricted to the first k
        top = xp.matmul(R.swapaxes(-1, -2), dlog.reshape(I, S, -1, k)).reshape(self.E, n, k)
        return xp.ascontiguousarray(top)

    def theory(self) -> list[tuple[list[float], list[float]]]:
        """Mean-field (activation stds, gradient stds) of every experiment."""
        q0 = self.q0
        return [meanfield.predicted_stds(self.act, self.sw2[e], self.sb2[e], q0[e % len(q0)])
                for e in range(self.E)]

    def correlation_theory(self) -> np.ndarray | None:
        """Mean-field correlation of the pair at every layer, (I, L): per init, at its seeds'
        mean σ_w², σ_b² per layer and mean q0 (the seeds' own predictions differ from it by
        O(1/width²), and the two-input quadrature is the probe's dearest step); None without
        a pair."""
        if self.pair is None:
            return None
        q0 = np.resize(np.asarray(self.q0, dtype=np.float64), self.S)
        out = []
        for i in range(self.I):
            rows = slice(i * self.S, (i + 1) * self.S)
            out.append(meanfield.predicted_correlations(
                self.act, self.sw2[rows].mean(axis=0), self.sb2[rows].mean(axis=0),
                float(q0.mean()), PAIR_CORRELATION))
        return np.array(out)

    def phase(self, i: int) -> meanfield.Phase | None:
        """``meanfield.phase`` of init i at the mean over its seeds and layers 2…L of the drawn
        σ_w², σ_b², when those layers share one weight law and one bias law (the same resolved
        Initializer, not explicit arrays); else None."""
        init = self.inits[i]
        if self.L < 2 or not _one_law(init.weights[1:]) or (
                init.biases is not None and not _one_law(init.biases[1:])):
            return None
        rows = slice(i * self.S, (i + 1) * self.S)
        sw2, sb2 = float(self.sw2[rows, 1:].mean()), float(self.sb2[rows, 1:].mean())
        if not (math.isfinite(sw2) and math.isfinite(sb2)):
            return None
        return meanfield.phase(self.act, sw2, sb2)


def _one_law(inits: tuple[draw.Initializer, ...]) -> bool:
    """Every layer the same resolved law (``resolve_layers`` gives one object per spec)."""
    return all(x is inits[0] for x in inits) and inits[0].values is None


def _input_shape(cfg: ProbeConfig) -> tuple[int, int, int]:
    """(input dimension n0, samples m, copies of X) without making the data."""
    if cfg.input == "gaussian":
        return cfg.input_dim or cfg.width, cfg.batch, len(cfg.seeds)
    data = _inputs(cfg)[0]
    return data.shape[1], data.shape[2], 1


def peak_bytes(cfg: ProbeConfig) -> int:
    """Memory the probe needs at its peak, in bytes: the inputs, four (E, width, m) buffers
    (z, a, its scratch and the next a), φ'(z) of layers 2…L for the backward pass, a layer's
    weights drawn on the host and on the device, the weights kept (at most KEEP_WEIGHTS_BYTES),
    the forward-mode Jacobian and the input pairs' z, a and a temporary, (E, width, 2·PAIRS)
    each."""
    n0, m, copies = _input_shape(cfg)
    E, n, L = len(cfg.inits) * len(cfg.seeds), cfg.width, cfg.depth
    k = min(m, cfg.grad_samples or m)
    act = activations.get(cfg.activation)
    dphi = 0 if act.name == "linear" else 1 if act.name == "relu" else 8
    kept = min(E * (L - 1) * n * n * 8, KEEP_WEIGHTS_BYTES)
    jac = 2 * len(cfg.inits) * min(cfg.jacobian_points, m) * n * n0 * 8 if cfg.jacobian else 0
    return (8 * copies * n0 * m + 4 * 8 * E * n * m + dphi * (L - 1) * E * n * k
            + 2 * 8 * E * n * max(n0, n) + kept + jac + 3 * 8 * E * n * 2 * PAIRS)


def check_memory(cfg: ProbeConfig, backend: Any, limit: int | None = None) -> int:
    """``peak_bytes``, refused in one line when it exceeds the memory budget (--max-memory, or a
    quarter of what is free) — before anything is allocated."""
    need = peak_bytes(cfg)
    memory.refuse_unless_fits(need, memory.budget(backend, limit), "this probe",
                              "use a smaller --width, --batch or --depth, fewer --seeds or "
                              "initializers, or no --jacobian")
    return need


def describe(cfg: ProbeConfig, device_label: str, need: int) -> str:
    """The header line: what is probed, on what, with how much memory."""
    return (f"probe: {cfg.depth} × {cfg.width} {cfg.activation}, input {cfg.input}, "
            f"{len(cfg.seeds)} seed(s), {device_label}; ~{memory.human_bytes(need)} at the peak")


def run(cfg: ProbeConfig, xp: Any = np,
        on_step: Callable[[int, int], None] | None = None) -> list[InitProbe]:
    """Probe every init of ``cfg`` (see the module docstring); one result per init, in order.
    ``on_step(done, total)`` after every layer of every pass."""
    stack = _Stack(cfg, xp)
    passes = 2 if stack.Y is None else 3
    stack.on_layer = None if on_step is None else (
        lambda done: on_step(done, passes * cfg.depth))
    with np.errstate(all="ignore"):
        measured, hists, a_top, J = stack.forward()
        loss_grads = None if stack.Y is None else stack.backward(stack.loss_gradient(a_top))
        grads = stack.backward(stack.injected_gradient())
        theory = stack.theory()
        corr = (stack.correlation, stack.correlation_theory())
        phases = [stack.phase(i) for i in range(stack.I)]
    jac = None if J is None else _jacobian_summary(to_numpy(J), J.shape[1])
    x_std = float(stack.X.std(axis=(1, 2)).mean())
    return [_assemble(cfg, stack.inits[i], stack.act, i, measured, grads, loss_grads, theory,
                      hists[i], x_std, None if jac is None else jac[i], corr, phases[i])
            for i in range(stack.I)]


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


def settling_depth(values: list[float | None], relative: bool) -> int | None:
    """The first layer l (1-based) from which SETTLED_RUN layers in a row lie within tol of the
    stack's settled value v∞, the mean of its last SETTLED_TAIL share of layers (at least 3).

    tol = max(CONVERGED, NOISE_SIGMAS·σ), σ the std of those tail layers about their straight
    line fit (a finite width's fluctuation, correlated from layer to layer as χ_c nears 1);
    ``relative``: the values divided by v∞ first. None — not settled within the stack — when
    the tail still drifts (its fitted line moves by more than tol across it) or l falls inside
    it; None too for fewer than 6 layers or a missing or non-finite value."""
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    tail = max(3, int(v.size * SETTLED_TAIL))
    if v.size < 2 * tail or not np.isfinite(v).all():
        return None
    ref = float(v[-tail:].mean())
    if relative:
        if ref <= 0:
            return None
        v, ref = v / ref, 1.0
    x = np.arange(tail, dtype=np.float64)
    slope, offset = np.polyfit(x, v[-tail:], 1)
    tol = max(CONVERGED, NOISE_SIGMAS * float(np.std(v[-tail:] - (slope * x + offset))))
    if abs(slope) * (tail - 1) > tol:
        return None
    near = np.abs(v - ref) <= tol
    for l in range(v.size - tail):
        if near[l:l + SETTLED_RUN].all():
            return l + 1
    return None


def decay_length(values: list[float | None]) -> float | None:
    """ξ of the least-squares fit v_l ≈ v∞ + A·e^(−(l−1)/ξ) over layers l = 1…L
    (scipy.optimize.curve_fit): the measured counterpart of theory's ξ_c. ``math.inf`` when the
    best ξ reaches DECAY_MAX·L (no decay measurable within the stack: the edge of chaos); None
    when the decay is not resolved: the fit's move over the stack, |A|·(1 − e^(−(L−1)/ξ)), is
    below max(CONVERGED, NOISE_SIGMAS × the residuals' std) (the values start at their settled
    value, or barely move), so is what is left of it after the first layer, |A|·e^(−1/ξ) (a
    one-layer drop fits any short ξ), or ξ's standard error exceeds DECAY_SPREAD·ξ; None too
    for a missing value, fewer than 4 layers, or a failed fit."""
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    if v.size < 4 or not np.isfinite(v).all():
        return None
    from scipy import optimize  # noqa: PLC0415 (slow to import; the quick commands need none)

    layers = np.arange(v.size, dtype=np.float64)
    tail = float(v[-max(2, v.size // 4):].mean())
    top = DECAY_MAX * v.size

    def model(l: np.ndarray, end: float, gap: float, xi: float) -> np.ndarray:
        return end + gap * np.exp(-l / xi)

    try:
        (end, gap, xi), cov = optimize.curve_fit(
            model, layers, v, p0=(tail, v[0] - tail, max(1.0, v.size / 4)),
            bounds=((-np.inf, -np.inf, 1e-3), (np.inf, np.inf, top)), maxfev=2000)
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        return None
    noise = float(np.std(v - model(layers, end, gap, xi)))
    change = abs(gap) * -math.expm1(-(v.size - 1) / xi)  # the fit's move over the stack
    left = abs(gap) * math.exp(-1.0 / xi)  # … and what of it is left after the first layer
    if min(change, left) < max(CONVERGED, NOISE_SIGMAS * noise):
        return None
    if xi >= top * (1 - 1e-6):
        return math.inf
    spread = math.sqrt(cov[2, 2]) if np.isfinite(cov[2, 2]) and cov[2, 2] >= 0 else math.inf
    return float(xi) if spread <= DECAY_SPREAD * xi else None


def _assemble(cfg: ProbeConfig, init: draw.LayerInits, act: Activation, i: int,
              stats: np.ndarray, grads: np.ndarray, loss_grads: np.ndarray | None, theory: list,
              hists: list, x_std: float, jac: dict | None,
              corr: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
              phase: meanfield.Phase | None = None) -> InitProbe:
    """Average init ``i``'s experiments (e = i·S … i·S + S − 1) over seeds."""
    S = len(cfg.seeds)
    rows = slice(i * S, (i + 1) * S)
    pred = np.mean([t[0] for t in theory[rows]], axis=0)
    pred_g = np.mean([t[1] for t in theory[rows]], axis=0)
    g, lg = grads[rows].mean(axis=0), None if loss_grads is None else loss_grads[rows].mean(0)
    c_meas = None if corr[0] is None else corr[0][rows].mean(axis=0)
    c_pred = None if corr[1] is None else corr[1][i]
    layers = []
    for l in range(cfg.depth):
        mean, std, sat, dead = (float(v) for v in stats[:, l, rows].sum(axis=-1) / S)
        layers.append(LayerProbe(
            init=init.label, layer=l + 1, activation_mean=mean, activation_std=std,
            predicted_std=float(pred[l]),
            saturated_fraction=sat if act.bounds is not None else None,
            dead_fraction=dead if act.can_die else None,
            grad_std=float(g[l]), predicted_grad_std=float(pred_g[l]),
            loss_grad_std=None if lg is None else float(lg[l]),
            vanished=bool(std < VANISH_FACTOR * x_std),
            saturated=bool(act.bounds is not None and sat > 0.5), histogram=hists[l],
            correlation=None if c_meas is None else float(c_meas[l]),
            predicted_correlation=None if c_pred is None else float(c_pred[l])))
    with np.errstate(all="ignore"):
        fwd = float(np.float64(layers[-1].activation_std) / layers[0].activation_std)
        bwd = float(np.float64(layers[0].grad_std) / layers[-1].grad_std)
    formula = init.formula()
    if init.auto_gain_layers():
        formula += f"; auto gain {fans.auto_gain_line(act)}"
    return InitProbe(init.label, formula, layers, fwd, bwd, jac, phase,
                     settling_depth([r.activation_std for r in layers], relative=True),
                     settling_depth([r.correlation for r in layers], relative=False),
                     decay_length([r.correlation for r in layers]))
