"""The training loop shared by every command: all experiments step together.

Arrays stay on the device; only the per-experiment cost crosses to the host, once per log step.
A cost that turns NaN/inf never stops the run: ``diverged_at`` records the first iteration after
which the cost never came back to a finite value. The cost itself is computed at log steps only
(for bce it costs more than a forward pass); its finiteness is checked every iteration through
the loss's cheap witness (``Loss.witness``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab import nn, optimizers
from initlab.backend import to_numpy
from initlab.config import TrainSection


@dataclass
class History:
    """What a training left behind, on the host."""

    log_iterations: list[int] = field(default_factory=list)
    log_costs: list[np.ndarray] = field(default_factory=list)  # each (E,)
    n_iterations: int = 0  # iterations completed
    planned_iterations: int = 0
    diverged_at: np.ndarray | None = None  # (E,) int, −1 = never
    interrupted: bool = False

    def cost_curve(self, e: int) -> list[list[float]]:
        """[[iteration, cost], …] for experiment e."""
        pairs = zip(self.log_iterations, self.log_costs, strict=True)
        return [[it, float(c[e])] for it, c in pairs]


def iterations_per_epoch(m: int, batch_size: int | None) -> int:
    """Full batch: 1; mini-batch: ⌈m / batch_size⌉."""
    return 1 if batch_size is None or batch_size >= m else -(-m // batch_size)


def full_cost(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any) -> Any:
    """Cost (E,) of the current parameters on all of (X, Y)."""
    return nn.cost(net, xp, nn.forward_fresh(xp, net, p, X), Y)


def fit(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any, train: TrainSection,
        on_log: Callable[[int, np.ndarray], None] | None = None,
        on_step: Callable[[int, int], None] | None = None) -> History:
    """Train all experiments in ``p`` for ``train.epochs`` epochs; Ctrl-C ends it cleanly.

    The cost logged at iteration i is the training cost before the i-th update (as the seeds log
    it); the last point of the curve is the cost of the final parameters.
    """
    m = X.shape[-1]
    total = train.epochs * iterations_per_epoch(m, train.batch_size)
    grads = nn.ParamStore(xp, net, p.n_exp, p.flat.dtype)
    opt = optimizers.make(xp, p.flat, train)
    hist = History(planned_iterations=total)
    divergence = DivergenceTracker(xp, p.n_exp, p.flat.dtype)
    progress_every = max(1, total // 200)

    def log(it: int, cost: Any) -> None:
        host = to_numpy(cost).astype(np.float64)
        hist.log_iterations.append(it)
        hist.log_costs.append(host)
        if on_log is not None:
            on_log(it, host)

    try:
        with np.errstate(all="ignore"):
            for it, (Yb, ws, full) in enumerate(_batches(xp, net, p, X, Y, train)):
                nn.forward(xp, net, p, None, ws)
                net.loss.witness(xp, ws.z[-1], ws.a[-1], Yb, out=divergence.slot(it))
                if it % train.log_every == 0:
                    log(it, nn.cost(net, xp, ws, Yb) if full else full_cost(xp, net, p, X, Y))
                nn.backward(xp, net, p, Yb, ws, grads)
                opt.step(p.flat, grads.flat)
                hist.n_iterations = it + 1
                if on_step is not None and hist.n_iterations % progress_every == 0:
                    on_step(hist.n_iterations, total)
    except KeyboardInterrupt:
        hist.interrupted = True
    with np.errstate(all="ignore"):
        final = full_cost(xp, net, p, X, Y)
    if not hist.log_iterations or hist.log_iterations[-1] != hist.n_iterations:
        log(hist.n_iterations, final)
    final_ok = np.isfinite(to_numpy(final))
    last_finite = divergence.last_finite(hist.n_iterations)
    hist.diverged_at = np.where(final_ok, -1, last_finite + 1).astype(np.int64)
    return hist


class DivergenceTracker:
    """The last iteration at which each experiment's cost was finite.

    Every iteration writes its cost witness (E,) into a slot of a (CHUNK, E) buffer; a full
    buffer is folded into ``last`` with a few whole-array operations, so the check costs one
    small reduction per iteration."""

    CHUNK = 256

    def __init__(self, xp: Any, n_exp: int, dtype: Any) -> None:
        self.xp = xp
        self.buf = xp.empty((self.CHUNK, n_exp), dtype=dtype)
        self.last = xp.full(n_exp, -1, dtype=np.int64)
        self.folded = 0  # iterations already folded into ``last``; row k holds folded + k

    def slot(self, it: int) -> Any:
        """The row for iteration ``it`` (folding the previous chunk when it starts a new one)."""
        k = it % self.CHUNK
        if k == 0 and it > self.folded:
            self._fold(it)
        return self.buf[k]

    def _fold(self, upto: int) -> None:
        xp, n = self.xp, upto - self.folded
        finite = xp.isfinite(self.buf[:n])  # (n, E)
        offset = n - 1 - xp.argmax(finite[::-1], axis=0)  # last finite row per experiment
        self.last = xp.where(finite.any(axis=0), self.folded + offset, self.last)
        self.folded = upto

    def last_finite(self, n_iterations: int) -> np.ndarray:
        """(E,) last iteration < n_iterations with a finite cost, −1 if none."""
        if n_iterations > self.folded:
            self._fold(n_iterations)
        return to_numpy(self.last)


def _batches(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any,
             train: TrainSection) -> Iterator[tuple[Any, nn.Workspace, bool]]:
    """(Y_batch, workspace holding X_batch, is_full_batch) for every iteration of every epoch.

    Mini-batch order comes from ``train.data_seed`` alone, so every experiment of a run (and
    every initializer compared) sees the same sequence of batches."""
    m, dtype = X.shape[-1], p.flat.dtype
    if iterations_per_epoch(m, train.batch_size) == 1:
        ws = nn.Workspace(xp, net, p.n_exp, m, dtype)
        ws.load_inputs(X)
        step = (Y, ws, True)
        for _ in range(train.epochs):
            yield step
        return
    order_rng = np.random.Generator(np.random.PCG64(train.data_seed))
    spaces: dict[int, nn.Workspace] = {}
    for _ in range(train.epochs):
        order = order_rng.permutation(m)
        for start in range(0, m, train.batch_size):
            idx = xp.asarray(order[start:start + train.batch_size])
            ws = spaces.get(len(idx)) or spaces.setdefault(
                len(idx), nn.Workspace(xp, net, p.n_exp, len(idx), dtype))
            xp.take(X, idx, axis=1, out=ws.x[:ws.n_in])
            yield Y[:, idx], ws, False
