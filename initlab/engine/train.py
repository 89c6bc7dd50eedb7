"""The training loop shared by every command: all experiments step together.

Arrays stay on the device; only the per-experiment cost crosses to the host, once per log step.
A cost that turns NaN/inf never stops the run: ``diverged_at`` records the first iteration after
which the cost never came back to a finite value. The cost itself is computed at log steps only
(for bce it costs more than a forward pass); its finiteness is checked every iteration through
the loss's cheap witness (``Loss.witness``).

On the CPU the experiment axis can be split into contiguous shards trained by parallel worker
processes (``initlab.engine.workers``). Each shard owns its parameters, gradients, optimizer
state and workspaces, and computes every experiment exactly as a single shard would (BLAS runs
single-threaded), so results do not depend on the number of workers. Shards advance in lock-step
segments; the log costs are gathered between segments.

Stopping: a SIGINT or SIGTERM is a request (``initlab.engine.interrupts``), honoured after the
segment in flight, so all experiments stop after the same iteration (``History.interrupted``). A
worker that dies ends the training too: its experiments are marked ``History.lost`` and the
others are kept (``History.failure`` says what happened).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from initlab.engine import fused, interrupts, nn, optimizers, workers
from initlab.engine.backend import single_threaded_blas, to_numpy


class TrainSettings(optimizers.OptimizerSettings, Protocol):
    """What the loop reads (the run config's ``train`` section has these keys)."""

    epochs: int
    batch_size: int | None
    log_every: int
    data_seed: int


MIN_SHARD_ELEMENTS = 1 << 16  # a worker's shard holds at least this many activations per step
SEGMENT = 64  # iterations between gathers (and worker syncs): bounds the wait after Ctrl-C


@dataclass
class History:
    """What a training left behind, on the host.

    ``log_costs[t]`` (E,) holds every experiment's cost at ``log_iterations[t]``. A history
    joined from chunks (``concat``) of an interrupted run can hold experiments trained to
    different iterations: ``iterations`` (E,) then says how far each got, and ``logged`` (T, E)
    which entries of ``log_costs`` exist (the others are NaN). Both are None when every
    experiment ran ``n_iterations`` and every entry exists."""

    log_iterations: list[int] = field(default_factory=list)
    log_costs: list[np.ndarray] = field(default_factory=list)  # each (E,)
    n_iterations: int = 0  # iterations completed (the most any experiment completed)
    planned_iterations: int = 0
    diverged_at: np.ndarray | None = None  # (E,) int, −1 = never
    interrupted: bool = False
    iterations: np.ndarray | None = None  # (E,) int, None: all n_iterations
    logged: np.ndarray | None = None  # (T, E) bool, None: all
    failure: str | None = None  # why the training ended early other than by a stop request
    lost: np.ndarray | None = None  # (E,) bool: experiments of workers that died

    def cost_curve(self, e: int) -> list[list[float]]:
        """[[iteration, cost], …] for experiment e."""
        rows = range(len(self.log_iterations)) if self.logged is None else np.flatnonzero(
            self.logged[:, e])
        return [[self.log_iterations[t], float(self.log_costs[t][e])] for t in rows]

    def iterations_done(self, n_experiments: int) -> np.ndarray:
        """(E,) iterations each experiment completed."""
        if self.iterations is not None:
            return self.iterations
        return np.full(n_experiments, self.n_iterations, dtype=np.int64)

    @staticmethod
    def concat(parts: list[History]) -> History:
        """Histories of consecutive parts of one experiment axis as one; their log grids are
        merged (they differ only when a part was interrupted)."""
        if len(parts) == 1:
            return parts[0]
        grid = sorted({it for part in parts for it in part.log_iterations})
        row = {it: t for t, it in enumerate(grid)}
        sizes = [len(part.diverged_at) for part in parts]
        costs = np.full((len(grid), sum(sizes)), np.nan)
        logged = np.zeros(costs.shape, dtype=bool)
        offset = 0
        for part, size in zip(parts, sizes, strict=True):
            rows = [row[it] for it in part.log_iterations]
            costs[rows, offset:offset + size] = np.stack(part.log_costs)
            logged[rows, offset:offset + size] = True
            offset += size
        iterations = np.concatenate([p.iterations_done(n) for p, n in zip(parts, sizes,
                                                                           strict=True)])
        uniform = bool(logged.all())
        return History(log_iterations=grid, log_costs=list(costs),
                       n_iterations=int(iterations.max()),
                       planned_iterations=parts[0].planned_iterations,
                       diverged_at=np.concatenate([p.diverged_at for p in parts]),
                       interrupted=any(p.interrupted for p in parts),
                       iterations=None if uniform else iterations,
                       logged=None if uniform else logged,
                       failure=next((p.failure for p in parts if p.failure), None))


def iterations_per_epoch(m: int, batch_size: int | None) -> int:
    """Full batch: 1; mini-batch: ⌈m / batch_size⌉."""
    return 1 if batch_size is None or batch_size >= m else -(-m // batch_size)


def full_cost(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any) -> Any:
    """Cost (E,) of the current parameters on all of (X, Y)."""
    return nn.cost(net, xp, nn.forward_fresh(xp, net, p, X), Y)


def shard_bounds(net: nn.Network, n_exp: int, batch: int, n_workers: int) -> list[tuple[int, int]]:
    """Contiguous experiment ranges [(start, stop), …], one per worker, each large enough
    (≥ MIN_SHARD_ELEMENTS activations per step) to outweigh a worker's overhead."""
    per_exp = sum(net.layers[1:]) * batch
    k = max(1, min(n_workers, n_exp, (n_exp * per_exp) // MIN_SHARD_ELEMENTS))
    edges = [round(i * n_exp / k) for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def batch_size(m: int, train: TrainSettings) -> int:
    """Samples per iteration: m for full batch, else min(m, train.batch_size)."""
    return m if train.batch_size is None else min(m, train.batch_size)


def _shards(xp: Any, net: nn.Network, n_exp: int, batch: int,
            n_workers: int) -> list[tuple[int, int]]:
    """The shards ``fit`` trains: worker processes for NumPy where fork exists, else one."""
    parallel = xp is np and workers.parallel_available()
    return shard_bounds(net, n_exp, batch, n_workers if parallel else 1)


def worker_count(xp: Any, net: nn.Network, n_exp: int, batch: int, n_workers: int) -> int:
    """How many worker processes ``fit`` uses for ``n_exp`` experiments (1: in this process)."""
    return len(_shards(xp, net, n_exp, batch, n_workers))


def fit(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any, train: TrainSettings,
        on_log: Callable[[int, np.ndarray], None] | None = None,
        on_step: Callable[[int, int], None] | None = None, n_workers: int = 1,
        engine: str = "numpy") -> History:
    """Train all experiments in ``p`` for ``train.epochs`` epochs; a stop request ends it after
    the segment in flight.

    The cost logged at iteration i is the training cost before the i-th update (as the seeds log
    it); the last point of the curve is the cost of the final parameters. ``n_workers`` > 1 splits
    the experiments across up to that many CPU worker processes (``worker_count``); the numbers
    are the same. ``engine`` 'fused' (CPU, full batch: ``engine.fused``) trains every
    experiment in compiled loops on up to ``n_workers`` threads instead, in this process.
    """
    m = X.shape[-1]
    engine = engine if xp is np else "numpy"  # device auto that found a GPU
    total = train.epochs * iterations_per_epoch(m, train.batch_size)
    bounds = [(0, p.n_exp)] if engine == "fused" else _shards(xp, net, p.n_exp,
                                                               batch_size(m, train), n_workers)
    hist = History(planned_iterations=total)
    with single_threaded_blas(xp), interrupts.stop_requests():
        if engine == "fused":
            fused.set_threads(n_workers)
            shards = [fused.FusedShard(net, p, X, Y, train,
                                       DivergenceTracker(xp, p.n_exp, p.flat.dtype))]
            team = workers.Inline(shards[0])
        elif len(bounds) == 1:
            shards = [_Shard(xp, net, p, X, Y, train)]
            team = workers.Inline(shards[0])
        else:  # each worker trains its own copy of a contiguous range of experiments
            parts = [p.take(a, b) for a, b in bounds]
            shards = [_Remote(part) for part in parts]
            team = workers.Forked(shards, _Shard.build,
                                  [ShardSpec(net, part.n_exp, part.flat, X, Y, train)
                                   for part in parts])
        try:
            _segments(team, shards, hist, total, on_log, on_step)
            team.finish(hist.n_iterations)
        finally:
            team.close()
    if len(bounds) > 1:
        for i, ((a, _), s) in enumerate(zip(bounds, shards, strict=True)):
            if i not in team.lost:
                p.put(a, s.p)
    with np.errstate(all="ignore"):
        final = to_numpy(full_cost(xp, net, p, X, Y)).astype(np.float64)
    if not hist.log_iterations or hist.log_iterations[-1] != hist.n_iterations:
        _log(hist, hist.n_iterations, final, on_log)
    last_finite = np.concatenate([np.full(s.p.n_exp, -1) if s.last_finite is None
                                  else s.last_finite for s in shards])
    hist.diverged_at = np.where(np.isfinite(final), -1, last_finite + 1).astype(np.int64)
    if team.lost:
        hist.lost = np.concatenate([np.full(s.p.n_exp, i in team.lost)
                                    for i, s in enumerate(shards)])
    return hist


def _log(hist: History, it: int, costs: np.ndarray,
         on_log: Callable[[int, np.ndarray], None] | None) -> None:
    hist.log_iterations.append(it)
    hist.log_costs.append(costs)
    if on_log is not None:
        on_log(it, costs)


def _segments(team: Any, shards: list[Any], hist: History, total: int,
              on_log: Callable[[int, np.ndarray], None] | None,
              on_step: Callable[[int, int], None] | None) -> None:
    """Advance every shard SEGMENT iterations at a time, gathering the logged costs after each
    segment, until done, a stop request (``hist.interrupted``) or a lost worker
    (``hist.failure``); the costs of a lost worker's experiments are logged as NaN."""
    def gather() -> None:
        live = [s for i, s in enumerate(shards) if i not in team.lost]
        for it in sorted(live[0].costs):
            _log(hist, it, np.concatenate([
                np.full(s.p.n_exp, np.nan) if i in team.lost
                else to_numpy(s.costs.pop(it)).astype(np.float64)
                for i, s in enumerate(shards)]), on_log)

    for start in range(0, total, SEGMENT):
        stop = min(total, start + SEGMENT)
        try:
            team.advance(start, stop)
        except workers.WorkerLost as exc:
            hist.failure = str(exc)
            if len(team.lost) == len(shards):
                return
        gather()
        hist.n_iterations = min(s.done for i, s in enumerate(shards) if i not in team.lost)
        if on_step is not None:
            on_step(hist.n_iterations, total)
        if hist.failure is not None:
            return
        if interrupts.requested():
            hist.interrupted = True
            return


@dataclass(frozen=True)
class ShardSpec:
    """What a worker process needs to build its shard (picklable, for the spawn start
    method): the network, the shard's parameter buffer, the data and the training settings."""

    net: nn.Network
    n_exp: int
    flat: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    train: TrainSettings


class _Remote:
    """The parent's view of a shard trained in a worker: its parameters (filled at the end),
    the costs it reported and how far it got."""

    def __init__(self, p: nn.ParamStore) -> None:
        self.p = p
        self.costs: dict[int, np.ndarray] = {}
        self.done = 0
        self.last_finite: np.ndarray | None = None


class _Shard:
    """A contiguous range of experiments with its own gradients, optimizer state, divergence
    tracker and batch sequence (same ``data_seed``, so every shard sees the same batches)."""

    def __init__(self, xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any,
                 train: TrainSettings) -> None:
        self.xp, self.net, self.p, self.X, self.Y, self.train = xp, net, p, X, Y, train
        self.grads = nn.ParamStore(xp, net, p.n_exp, p.flat.dtype)
        self.opt = optimizers.make(xp, p.flat, train)
        self.divergence = DivergenceTracker(xp, p.n_exp, p.flat.dtype)
        self.steps = _batches(xp, net, p, X, Y, train)
        self.costs: dict[int, np.ndarray] = {}  # log iteration → (E_shard,) cost, on the host
        self.done = 0
        self.last_finite: np.ndarray | None = None  # set when the training finishes

    @staticmethod
    def build(spec: ShardSpec) -> _Shard:
        """The shard of a worker process, from its spec (NumPy)."""
        p = nn.ParamStore(np, spec.net, spec.n_exp, spec.flat.dtype)
        p.flat[...] = spec.flat
        return _Shard(np, spec.net, p, spec.X, spec.Y, spec.train)

    def run(self, start: int, stop: int) -> None:
        xp, net, p, log_every = self.xp, self.net, self.p, self.train.log_every
        with np.errstate(all="ignore"):
            for it in range(start, stop):
                Yb, ws, full = next(self.steps)
                nn.forward(xp, net, p, None, ws)
                net.loss.witness(xp, ws.z[-1], ws.a[-1], Yb, out=self.divergence.slot(it))
                if it % log_every == 0:
                    self.costs[it] = to_numpy(nn.cost(net, xp, ws, Yb) if full
                                              else full_cost(xp, net, p, self.X, self.Y))
                nn.backward(xp, net, p, Yb, ws, self.grads)
                self.opt.step(p.flat, self.grads.flat)
                self.done = it + 1


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
             train: TrainSettings) -> Iterator[tuple[Any, nn.Workspace, bool]]:
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
