"""LSUV: layer-sequential unit-variance initialization (Mishkin & Matas 2015, "All you need is a
good init", arXiv:1511.06422), on the host values of the experiment axis.

Algorithm (``rescale``), for each experiment e of ``rows`` on its own batch X_B (``batch``
training samples, ``batch_indices(seed_e, …)``), after the pre-initialisation ``init`` has drawn
W_l, b_l:

    a_0 = X_B                                          (n_0, B)
    for l = 1 … L:                                     first to last; a_{l-1} fixed meanwhile
        repeat, at most max_iter rescalings:
            z_l = W_l a_{l-1} + b_l                    (n_l, B); no b_l without biases
            u   = z_l (statistic: pre) or φ_l(z_l) (statistic: post)
            σ_u² = Var(u), μ_z = Mean(z_l)             over all n_l·B entries (ddof 0)
            s   = σ_u² (target: variance) or σ_u (target: std)
            stop if |s − 1| < tol  [and, mean_correction, |μ_z| ≤ tol·σ_z]
            c   = 1/σ_u                                (= 1/√s for variance, 1/s for std)
            W_l ← c·W_l
            b_l ← c·(b_l − μ_z)   with mean_correction; b_l unchanged without
        a_l = φ_l(z_l) of the final W_l, b_l

Both targets rescale by the same factor 1/σ_u; ``target`` only chooses what is compared with 1
(the paper's |Var − 1| < tol, or LSUV-pytorch's |std − 1| < tol). Every rescaling is measured
again, so the logged statistic is that of the final weights, and a layer stops only at a
measurement. With ``pre`` and zero biases one rescaling is exact (z is linear in W); ``post``
is a fixed-point iteration, and pushes saturating units into saturation: tanh reaches Var(a) ≥
0.9 only near σ_z ≈ 8, after about 15 rescalings at tol 0.1.

``mean_correction`` centres the pre-activation z_l (not a_l, even with ``post``) through the
bias: b_l ← b_l − μ_z makes Mean(z_l) = 0 exactly for the fixed input, and the joint rescaling
c·(b_l − μ_z) keeps it there. Without biases there is nothing to shift z_l by: ``check`` refuses
``mean_correction: true`` on a network without biases (rather than silently doing nothing or
bending W_l by a rank-one term, which would undo the orthogonal pre-initialisation).

Contract:

- It reads training inputs only: ``rescale`` takes ``X_train`` (n_0, m) and no targets, no test
  set. A batch of ``batch`` samples (all of them, in order, if fewer) is drawn per experiment
  from its seed alone, ``SeedSequence([seed, BATCH_TAG])``, so slice e of a batched run equals
  that seed run alone, and initializers compared on one seed see the same batch.
- It works per experiment slice, vectorised over the selected rows (in blocks of
  ``block_size`` experiments: cache-sized on NumPy, all at once on CuPy): each slice has its own
  batch and its own convergence; converged slices are masked out of later iterations; rows not
  listed are never written. Neither the block size nor the other rows change a bit.
  Computation is float64 on ``xp``; the host arrays are updated in place.
- It never fails on a layer: a layer that does not converge is logged (``LayerLog.reason``):
  ``max_iter`` (budget spent), ``dead`` (σ_u = 0 on the batch, e.g. every ReLU unit off, or zero
  weights: no factor can fix it), ``non-finite`` (a NaN or inf statistic) or ``unreachable`` (a
  bounded activation whose statistic can never come within tol of 1 — sigmoid and softmax
  outputs lie in (0, 1), so Var ≤ 1/4 and std ≤ 1/2 — such a layer is measured once and left as
  pre-initialised instead of being driven into saturation).
- Bad input is one ``InitlabError`` line: no training data, an invalid parameter (``resolve``
  goes through the params machinery), mean_correction without biases.

Knobs, and whose choice each follows (ducha-aiki/LSUVinit tools/extra/lsuv_init.py: the
authors' Caffe script; ducha-aiki/LSUV-pytorch LSUV.py; glassroom/torch_lsuv_init
torch_lsuv_init.py; fastai/course-v3 nbs/dl2/07a_lsuv.ipynb):

- tol = 0.1, max_iter = 10: the paper's Algorithm 1 (tol_var 0.1, T_max 10), LSUV-pytorch and
  torch_lsuv_init; the Caffe script uses margin 0.02 and 20, fastai 1e-3 and no limit.
- target variance: the paper and the Caffe script; ``std`` is LSUV-pytorch's and
  torch_lsuv_init's test.
- statistic pre: the Caffe script measures the layer's own output before an in-place ReLU
  (``var_before_relu_if_inplace``), as do the PyTorch ports (hooks on Linear/Conv); ``post`` is
  fastai's (its hook sits on conv + ReLU).
- init orthogonal: the paper (orthonormal pre-initialisation, Saxe et al.); fastai keeps the
  framework's default (here: any spec of the registry).
- update W ← W/σ_u: the paper; the ports add 1e-8 or 1e-6 to σ, here a zero σ_u stops the layer
  as ``dead`` instead.
- mean_correction: off in the paper and the Caffe script; LSUV-pytorch shifts the bias by the
  output's mean at every rescaling, fastai subtracts it first; here b ← c·(b − μ_z), jointly
  with the rescaling.
- batch = 512: fastai's batch size (the Caffe script recommends large batches); max_iter counts
  rescalings, each one measured again (LSUV-pytorch and the Caffe script allow max_iter + 1;
  torch_lsuv_init does not measure its last one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field

from initlab.engine.backend import to_numpy
from initlab.engine.nn import Network
from initlab.engine.stats import mean_std
from initlab.errors import InitlabError
from initlab.inits import laws
from initlab.params import Params, Registry, integer, number

__all__ = ["BATCH_TAG", "BLOCK_BYTES", "MAX_ITER_LIMIT", "REGISTRY", "LayerLog", "LsuvParams",
           "batch_indices", "block_size", "check", "describe", "is_lsuv", "record", "rescale",
           "resolve", "summary"]

BATCH_TAG = 0x4C535556  # "LSUV": the second word of the batch's SeedSequence([seed, BATCH_TAG])
MAX_ITER_LIMIT = 1000  # one forward pass of one layer per rescaling; far past any convergent case
BLOCK_BYTES = 4 << 20  # NumPy: work arrays of one vectorised block, to stay in cache
DEVICE_BLOCK_BYTES = 1 << 30  # CuPy: one block up to this size (all experiments, usually)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _tol(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"must be a number with 0 < tol < 1, got {value:g} (the statistic is "
                         "≥ 0, so tol ≥ 1 would accept a vanished signal)")
    return value


def _init_spec(value: Any) -> str:
    """A pre-initialiser: any spec of ``laws.REGISTRY`` except lsuv itself, kept as its label."""
    if not isinstance(value, str | dict):
        raise ValueError("must be an initializer spec, e.g. orthogonal or 'normal(std=0.5)'")
    try:
        name = laws.REGISTRY.parse(value)[0]
        if name == "lsuv":
            raise ValueError("must be an initializer other than lsuv (lsuv cannot "
                             "pre-initialise itself)")
        return laws.REGISTRY.resolve(value).label
    except InitlabError as err:
        raise ValueError(f"must be an initializer spec: {err}") from None


class LsuvParams(Params):
    """LSUV: pre-initialise with init, then rescale each layer until its statistic is within tol
    of 1.

    tol is in (0, 1): the statistic is ≥ 0, so with tol ≥ 1 the test |s − 1| < tol would accept
    s = 0 (a vanished signal) as "unit variance"; tol < 1 makes every accepted s > 1 − tol > 0.
    max_iter (1 … 1000) bounds the rescalings per layer; batch is the number of training samples
    (all of them if fewer)."""

    tol: Annotated[number(), AfterValidator(_tol)] = 0.1
    max_iter: integer(ge=1, le=MAX_ITER_LIMIT) = 10
    target: Annotated[Literal["variance", "std"], BeforeValidator(_lower)] = "variance"
    statistic: Annotated[Literal["pre", "post"], BeforeValidator(_lower)] = "pre"
    init: Annotated[str, BeforeValidator(_init_spec)] = "orthogonal"
    batch: integer(ge=1) = 512
    mean_correction: Annotated[bool, Field(strict=True)] = False


REGISTRY = Registry("initializer", {"lsuv": LsuvParams})


def is_lsuv(spec: Any) -> bool:
    """True when ``spec`` (a name, 'name(…)' or a mapping) names lsuv; never raises."""
    try:
        return REGISTRY.parse(spec)[0] == "lsuv"
    except InitlabError:
        return False


def resolve(spec: Any = "lsuv") -> LsuvParams:
    """'lsuv(tol=0.05)' or {name: lsuv, init: {name: normal, std: 0.5}} → LsuvParams; a bad key
    or value is one InitlabError line ("initializer 'lsuv': parameter 'tol' must be …")."""
    return LsuvParams(**REGISTRY.resolve(spec).params)


def check(net: Network, params: LsuvParams) -> None:
    """InitlabError unless ``params`` can run on ``net`` (mean_correction needs biases)."""
    if params.mean_correction and not net.bias:
        raise InitlabError("lsuv mean_correction needs biases (model.bias: true): without a bias "
                           "there is nothing to shift z_l by; set mean_correction=false")


# -------------------------------------------------------------------------------------- logs

@dataclass(frozen=True)
class LayerLog:
    """One layer of one experiment: rescalings used, the final statistic (of the final weights,
    on the batch), the final pre-activation mean, and why it stopped: 'converged', 'max_iter',
    'dead', 'non-finite' or 'unreachable'. ``layer`` counts from 1, as W1, W2, …"""

    layer: int
    iterations: int
    statistic: float
    converged: bool
    reason: str = "converged"
    mean: float = 0.0

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> LayerLog:
        """The inverse of ``record`` (None floats become NaN)."""
        return cls(**{k: (math.nan if v is None and k in ("statistic", "mean") else v)
                      for k, v in rec.items()})

    def record(self) -> dict[str, Any]:
        """JSON-ready: non-finite floats become None."""
        out = asdict(self)
        for key in ("statistic", "mean"):
            out[key] = out[key] if math.isfinite(out[key]) else None
        return out


def record(log: Sequence[LayerLog]) -> list[dict[str, Any]]:
    """One experiment's log as JSON-ready dicts, layer by layer."""
    return [layer.record() for layer in log]


def describe(log: Sequence[LayerLog], params: LsuvParams | None = None) -> str:
    """One line: 'lsuv: 3 layers converged in ≤ 2 rescalings' or 'lsuv: layer 3 did not
    converge (unreachable, variance 0.25)'; ``params`` names the statistic."""
    what = "statistic" if params is None else (
        f"{'a' if params.statistic == 'post' else 'z'} {params.target}")
    bad = [f"layer {x.layer} ({x.reason}, {what} {x.statistic:.3g})" for x in log
           if not x.converged]
    if bad:
        return f"lsuv: did not converge: {', '.join(bad)}"
    most = max((x.iterations for x in log), default=0)
    return f"lsuv: {len(log)} layers converged in ≤ {most} rescaling{'s' if most != 1 else ''}"


def summary(logs: Sequence[Sequence[LayerLog]], params: LsuvParams | None = None) -> str:
    """One line over the experiments of one LSUV initializer: ``describe`` for one, else 'lsuv:
    4 layers converged in all 10 seeds, ≤ 2 rescalings' or 'lsuv: did not converge in 2 of 10
    seeds: layer 3 (max_iter) in 2'."""
    if len(logs) == 1:
        return describe(logs[0], params)
    failed = [log for log in logs if not all(x.converged for x in log)]
    if not failed:
        most = max((x.iterations for log in logs for x in log), default=0)
        return (f"lsuv: {len(logs[0])} layers converged in all {len(logs)} seeds, ≤ {most} "
                f"rescaling{'s' if most != 1 else ''}")
    where: dict[tuple[int, str], int] = {}
    for log in failed:
        for x in log:
            if not x.converged:
                where[(x.layer, x.reason)] = where.get((x.layer, x.reason), 0) + 1
    parts = ", ".join(f"layer {layer} ({reason}) in {n}"
                      for (layer, reason), n in sorted(where.items()))
    return f"lsuv: did not converge in {len(failed)} of {len(logs)} seeds: {parts}"


# ------------------------------------------------------------------------------------ batch

def batch_indices(seed: int, n_train: int, batch: int) -> np.ndarray:
    """The training samples an experiment of ``seed`` rescales on: ``batch`` distinct indices
    into [0, n_train), in increasing order, from a permutation by
    ``Generator(PCG64(SeedSequence([seed, BATCH_TAG])))``; all of them if ``batch ≥ n_train``."""
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InitlabError(f"lsuv needs a seed >= 0, got {seed!r}")
    if n_train < 1:
        raise InitlabError("lsuv needs training data: the training set has 0 samples")
    if batch >= n_train:
        return np.arange(n_train)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), BATCH_TAG])))
    return np.sort(rng.permutation(n_train)[:batch])


# ---------------------------------------------------------------------------------- rescale

def _sup(act: Any, target: str) -> float:
    """The largest statistic a bounded activation's output can approach (inf if unbounded)."""
    if act.bounds is None:
        return math.inf
    half = (act.bounds[1] - act.bounds[0]) / 2.0  # Var ≤ (half-range)², std ≤ half-range
    return half * half if target == "variance" else half


def rescale(xp: Any, net: Network, weights: dict[str, np.ndarray], X_train: Any,
            rows: Sequence[int], seeds: Sequence[int], params: LsuvParams) -> list[list[LayerLog]]:
    """LSUV on experiments ``rows`` of ``weights`` ({'W1': (E, n_out, n_in), 'b1': (E, n_out),
    …}, host float64, as ``plan.initial_values`` returns), in place; experiment rows[i] uses the
    batch of seeds[i] from ``X_train`` (n_0, m), host or ``xp``. Returns, per row, one LayerLog
    per layer. Other rows are not touched."""
    check(net, params)
    rows, seeds = [int(r) for r in rows], [int(s) for s in seeds]
    if len(rows) != len(seeds):
        raise ValueError(f"rows ({len(rows)}) and seeds ({len(seeds)}) must pair up")
    if len(set(rows)) != len(rows):
        raise ValueError("rows must be distinct")
    if X_train is None or len(X_train.shape) != 2 or X_train.shape[-1] == 0:
        got = "none" if X_train is None else f"inputs of shape {tuple(X_train.shape)}"
        raise InitlabError(f"lsuv needs training data: a batch of training inputs "
                           f"(n_in, m ≥ 1), got {got}")
    if X_train.shape[0] != net.layers[0]:
        raise InitlabError(f"lsuv needs training inputs with {net.layers[0]} features, "
                           f"got {X_train.shape[0]}")
    if not rows:
        return []
    n_exp = weights["W1"].shape[0]
    if min(rows) < 0 or max(rows) >= n_exp:
        raise ValueError(f"rows must lie in [0, {n_exp}), got {rows}")

    X = xp.asarray(X_train, dtype=xp.float64)
    picks = [batch_indices(s, X.shape[1], params.batch) for s in seeds]
    logs: list[list[LayerLog]] = []
    step = block_size(xp, net, len(picks[0]))
    with np.errstate(all="ignore"):  # dead and overflowing layers are logged, not warned about
        for first in range(0, len(rows), step):
            logs += _block(xp, net, weights, X, rows[first:first + step],
                           picks[first:first + step], params)
    return logs


def block_size(xp: Any, net: Network, batch: int) -> int:
    """How many experiments one vectorised pass takes: on NumPy as many as keep the three
    (R, n, B) float64 work arrays of the widest layer within BLOCK_BYTES (the per-experiment
    GEMMs then run from cache: measured 4× faster than one pass over 200 digits experiments);
    on other backends (CuPy) all of them, up to DEVICE_BLOCK_BYTES."""
    per = 3 * 8 * max(net.layers) * batch
    budget = BLOCK_BYTES if xp is np else DEVICE_BLOCK_BYTES
    return max(1, budget // per)


def _block(xp: Any, net: Network, weights: dict[str, np.ndarray], X: Any, rows: list[int],
           picks: list[np.ndarray], params: LsuvParams) -> list[list[LayerLog]]:
    """LSUV of the experiments ``rows``, vectorised over them, layer after layer."""
    # every experiment takes all samples, in order: one shared (n_0, m); else (R, n_0, B)
    everything = len(picks[0]) == X.shape[1]
    inputs = X if everything else xp.stack([X[:, xp.asarray(p)] for p in picks])
    sel = np.asarray(rows)
    logs: list[list[LayerLog]] = [[] for _ in rows]
    for l, act in enumerate(net.activations):
        W = xp.asarray(weights[f"W{l + 1}"][sel], dtype=xp.float64)  # (R, n_l, n_{l-1})
        b = xp.asarray(weights[f"b{l + 1}"][sel], dtype=xp.float64) if net.bias else None
        inputs, layer_logs = _layer(xp, act, W, b, inputs, params, l + 1)
        weights[f"W{l + 1}"][sel] = to_numpy(W)
        if b is not None:
            weights[f"b{l + 1}"][sel] = to_numpy(b)
        for own, entry in zip(logs, layer_logs, strict=True):
            own.append(entry)
    return logs


def _layer(xp: Any, act: Any, W: Any, b: Any | None, inputs: Any, params: LsuvParams,
           layer: int) -> tuple[Any, list[LayerLog]]:
    """Rescale one layer of R experiments in place (W (R, n, k), b (R, n) or None) on their
    inputs ((k, B) shared, or (R, k, B)); returns (a_l (R, n, B) of the final weights, logs)."""
    R, n = W.shape[0], W.shape[1]
    B = inputs.shape[-1]
    shared = inputs.ndim == 2
    out = xp.empty((R, n, B), dtype=xp.float64)  # a_l, written at each slice's last measurement
    stat, mean = np.full(R, np.nan), np.full(R, np.nan)
    iters = np.zeros(R, dtype=np.int64)
    reason = [""] * R
    active = np.ones(R, dtype=bool)
    unreachable = params.statistic == "post" and _sup(act, params.target) <= 1.0 - params.tol
    for t in range(params.max_iter + 1):
        live = np.flatnonzero(active)
        if live.size == 0:
            break
        if live.size == R:  # every slice still live: the arrays themselves, no copies
            z = xp.matmul(W, inputs)  # per-experiment GEMMs
            if b is not None:
                z += b[:, :, None]
            out = act.forward(xp, z, out)
        else:
            idx = xp.asarray(live)
            z = xp.matmul(W[idx], inputs if shared else inputs[idx])
            if b is not None:
                z += b[idx][:, :, None]
            out[idx] = a = act.forward(xp, z, xp.empty_like(z))
        mu_z, sd_z = (to_numpy(v) for v in mean_std(xp, z))
        u = z if params.statistic == "pre" else (out if live.size == R else a)
        sd_u = sd_z if u is z else to_numpy(mean_std(xp, u)[1])
        s = sd_u * sd_u if params.target == "variance" else sd_u
        stat[live], mean[live] = s, mu_z
        ok = np.abs(s - 1.0) < params.tol
        if params.mean_correction:
            ok &= np.abs(mu_z) <= params.tol * sd_z
        factor = 1.0 / sd_u
        why = np.where(ok, "converged", np.where(
            ~np.isfinite(s) | ~np.isfinite(mu_z), "non-finite",
            np.where((sd_u == 0) | ~np.isfinite(factor), "dead",
                     "unreachable" if unreachable else ("max_iter" if t == params.max_iter
                                                        else ""))))
        for i, w in zip(live, why, strict=True):
            reason[i] = str(w)
        go = why == ""
        active[live[~go]] = False
        if not go.any():
            continue
        rescaled = xp.asarray(live[go])
        c = xp.asarray(factor[go])
        W[rescaled] = W[rescaled] * c[:, None, None]
        if params.mean_correction:  # b ← c·(b − μ_z): z ← c·(z − μ_z) for the fixed input
            b[rescaled] = (b[rescaled] - xp.asarray(mu_z[go])[:, None]) * c[:, None]
        iters[live[go]] += 1
    logs = [LayerLog(layer, int(iters[i]), float(stat[i]), reason[i] == "converged", reason[i],
                     float(mean[i])) for i in range(R)]
    return out, logs
