"""The training loop shared by every command: all experiments step together.

Arrays stay on the device; only the per-experiment cost crosses to the host, once per log step.
A cost that turns NaN/inf never stops the run: ``diverged_at`` records the first iteration after
which the network's output (and so the cost) never came back to finite values. The cost itself is
computed at log steps only (it costs more than a forward pass); finiteness is checked every
iteration with one reduction of the output layer.
"""

from __future__ import annotations

from collections.abc import Callable
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
        return [[it, float(c[e])] for it, c in zip(self.log_iterations, self.log_costs, strict=True)]


def iterations_per_epoch(m: int, batch_size: int | None) -> int:
    """Full batch: 1; mini-batch: ⌈m / batch_size⌉."""
    return 1 if batch_size is None or batch_size >= m else -(-m // batch_size)


def full_cost(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any) -> Any:
    """Cost (E,) of the current parameters on all of (X, Y)."""
    ws = nn.Workspace(xp, net, p.n_exp, X.shape[-1], p.flat.dtype)
    nn.forward(xp, net, p, X, ws)
    return nn.cost(net, xp, ws, Y)


def fit(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any, train: TrainSection,
        on_log: Callable[[int, np.ndarray], None] | None = None,
        on_step: Callable[[int, int], None] | None = None) -> History:
    """Train all experiments in ``p`` for ``train.epochs`` epochs; Ctrl-C ends it cleanly.

    The cost logged at iteration i is the training cost before the i-th update (as the seeds log
    it); the last point of the curve is the cost of the final parameters.
    """
    m = X.shape[-1]
    per_epoch = iterations_per_epoch(m, train.batch_size)
    total = train.epochs * per_epoch
    dtype = p.flat.dtype
    grads = nn.ParamStore(xp, net, p.n_exp, dtype)
    opt = optimizers.make(xp, p.flat, train)
    hist = History(planned_iterations=total)
    last_finite = xp.full(p.n_exp, -1, dtype=np.int64)
    finite = xp.empty(p.n_exp, dtype=bool)
    order_rng = np.random.Generator(np.random.PCG64(train.data_seed))
    spaces: dict[int, nn.Workspace] = {}
    progress_every = max(1, total // 200)

    def log(it: int, cost: Any) -> None:
        host = to_numpy(cost).astype(np.float64)
        hist.log_iterations.append(it)
        hist.log_costs.append(host)
        if on_log is not None:
            on_log(it, host)

    it = 0
    try:
        with np.errstate(all="ignore"):
            for _epoch in range(train.epochs):
                batches = _batches(m, train.batch_size, order_rng)
                for idx in batches:
                    Xb, Yb = (X, Y) if idx is None else (X[:, xp.asarray(idx)], Y[:, xp.asarray(idx)])
                    mb = Xb.shape[-1]
                    ws = spaces.get(mb) or spaces.setdefault(
                        mb, nn.Workspace(xp, net, p.n_exp, mb, dtype))
                    nn.forward(xp, net, p, Xb, ws)
                    xp.isfinite(ws.z[-1].sum(axis=(-2, -1)), out=finite)
                    xp.copyto(last_finite, it, where=finite)
                    if it % train.log_every == 0:
                        log(it, nn.cost(net, xp, ws, Yb) if idx is None
                            else full_cost(xp, net, p, X, Y))
                    nn.backward(xp, net, p, Xb, Yb, ws, grads)
                    opt.step(p.flat, grads.flat)
                    it += 1
                    if on_step is not None and it % progress_every == 0:
                        on_step(it, total)
    except KeyboardInterrupt:
        hist.interrupted = True
    hist.n_iterations = it
    with np.errstate(all="ignore"):
        final = full_cost(xp, net, p, X, Y)
    if not hist.log_iterations or hist.log_iterations[-1] != it:
        log(it, final)
    lf = to_numpy(last_finite)
    final_ok = np.isfinite(to_numpy(final))
    hist.diverged_at = np.where(final_ok, -1, lf + 1).astype(np.int64)
    return hist


def _batches(m: int, batch_size: int | None, rng: np.random.Generator) -> list[Any]:
    """Index arrays for one epoch ([None] = the full batch, no copy)."""
    if batch_size is None or batch_size >= m:
        return [None]
    order = rng.permutation(m)
    return [order[i:i + batch_size] for i in range(0, m, batch_size)]
