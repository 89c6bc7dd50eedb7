"""One batched training of a plan, chunk by chunk: initial statistics, the fit, final
statistics, accuracies.

A run is a list of chunks of the experiment axis (``chunks_for``: as many experiments as fit the
memory budget, usually all of them in one chunk). Every chunk draws its starting weights and
computes its initial statistics once, trains, and reports through the same ``Callbacks``.
Chunking never changes a number.

A stop request (SIGINT or SIGTERM: ``initlab.engine.interrupts``) ends the chunk in flight after
its current segment; its statistics and accuracies are still computed. Chunks already finished
are kept whole, the interrupted chunk is kept at the iteration it reached (``History.iterations``
says how far each experiment got), chunks not started are left out. A worker process that dies
loses its shard's experiments only; the run ends after that chunk (``History.failure``).

An experiment is *finite* when its parameters and final cost are; one that is not has diverged,
and its accuracies are NaN (it is not a classifier any more: NaN outputs compare as "class 0").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from initlab.engine import interrupts, memory, nn, stats, train
from initlab.engine.backend import Backend, single_threaded_blas, to_numpy
from initlab.experiments.plan import Plan, starting_values
from initlab.inits.lsuv import LayerLog

WEIGHTS_KEEP_BYTES = 1 << 30  # chunked runs keep host weight copies up to this size
SHOW_OUTPUTS_UP_TO = 16  # regression sets this small report the network's outputs


@dataclass(frozen=True)
class Chunk:
    """Experiments [start, stop) of the axis, chunk ``index`` of ``count``."""

    index: int
    count: int
    start: int
    stop: int


@dataclass
class Callbacks:
    """What a run reports while it goes (each optional): a chunk's statistics at
    initialization, before it trains; a logged cost of a chunk's experiments (E_chunk,);
    iterations done out of the total over all chunks."""

    on_init_stats: Callable[[Chunk, stats.LayerStats], None] | None = None
    on_log: Callable[[Chunk, int, np.ndarray], None] | None = None
    on_step: Callable[[int, int], None] | None = None


@dataclass
class RunResult:
    """Host-side outcome of a run; ``*_accuracy`` and ``final_cost`` are (E,) arrays."""

    plan: Plan
    backend: Backend
    history: train.History
    weights_init: dict[str, np.ndarray] | None  # None: too large to keep (chunked runs)
    weights_final: dict[str, np.ndarray] | None
    layers_init: stats.LayerStats
    layers_final: stats.LayerStats
    train_accuracy: np.ndarray | None
    test_accuracy: np.ndarray | None
    final_cost: np.ndarray
    train_outputs: np.ndarray | None = None  # (E, k, m) for small regression sets
    workers: int = 1  # worker processes of the largest chunk
    chunks: list[Chunk] = field(default_factory=list)
    lsuv: list[list[LayerLog] | None] = field(default_factory=list)  # per experiment; None: no

    @property
    def status(self) -> str:
        """'failed' (a worker died), 'interrupted' (a stop request) or 'completed'."""
        if self.history.failure:
            return "failed"
        return "interrupted" if self.history.interrupted else "completed"


def accuracy(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any, Y: Any, task: str) -> Any:
    """Share of correct predictions per experiment (E,); None for regression or no samples.

    binary: output > 0.5 (as the seeds predict); multiclass: arg-max unit against the one-hot y."""
    if task == "regression" or X.shape[-1] == 0:
        return None
    out = nn.forward_fresh(xp, net, p, X).a[-1]  # (E, k, m)
    if task == "binary":
        correct = (out > 0.5) == (Y > 0.5)
        return to_numpy(correct.mean(axis=(-2, -1)))
    return to_numpy((out.argmax(axis=-2) == Y.argmax(axis=-2)).mean(axis=-1))


def outputs(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any) -> np.ndarray:
    """Network outputs a_L on X, (E, n_L, m), on the host."""
    return to_numpy(nn.forward_fresh(xp, net, p, X).a[-1]).astype(np.float64)


def chunks_for(plan: Plan, backend: Backend, limit: int | None = None) -> memory.ChunkPlan:
    """How the plan's experiments split into chunks that fit ``limit`` bytes (default:
    memory.BUDGET_SHARE of the device's free memory)."""
    data, cfg = plan.dataset, plan.config
    per = memory.bytes_per_experiment(plan.net.layers, data.n_train, data.n_test,
                                      train.batch_size(data.n_train, cfg.train),
                                      np.dtype(cfg.dtype).itemsize)
    room = memory.budget(backend, limit)
    memory.refuse_unless_fits(per, room, "one experiment (its activations on the training and "
                              "test sets, parameter copies)", "use fewer or narrower layers, "
                              "fewer samples or a smaller train.batch_size, or float32")
    return memory.plan_chunks(plan.n_experiments, per, room.bytes)


def worker_count(plan: Plan, backend: Backend, n_experiments: int, n_workers: int) -> int:
    """How many worker processes a chunk of ``n_experiments`` of this plan trains on."""
    m = plan.dataset.n_train
    if plan.engine == "fused" and backend.xp is np:  # threads in this process
        return max(1, min(n_workers, n_experiments))
    return train.worker_count(backend.xp, plan.net, n_experiments,
                              train.batch_size(m, plan.config.train), n_workers)


def execute(plan: Plan, backend: Backend, callbacks: Callbacks | None = None, *,
            n_workers: int = 1, chunks: memory.ChunkPlan | None = None) -> RunResult:
    """Draw the starting weights, train every experiment, and collect what to report, one chunk
    after another (``chunks``, default ``chunks_for``); ``n_workers`` CPU worker processes share
    each chunk. Neither changes the numbers."""
    callbacks = callbacks or Callbacks()
    bounds = (chunks or chunks_for(plan, backend)).bounds()
    data = _device_data(plan, backend)
    parts: list[RunResult] = []
    kept = 0  # bytes of host weight copies held so far
    with single_threaded_blas(backend.xp), interrupts.stop_requests():
        for k, (a, b) in enumerate(bounds):
            if parts and interrupts.requested():  # between chunks: the next is not started
                parts[-1].history.interrupted = True
                break
            part = _train_chunk(plan, backend, data, Chunk(k, len(bounds), a, b), callbacks,
                                n_workers)
            parts.append(part)
            kept += 2 * sum(v.nbytes for v in part.weights_init.values())
            if part.history.interrupted or part.history.failure:
                break
    if len(parts) > 1 and kept > WEIGHTS_KEEP_BYTES:  # past the limit, keep no host copies
        for part in parts:
            part.weights_init = part.weights_final = None
    return _concatenate(plan, parts)


def _device_data(plan: Plan, backend: Backend) -> tuple[Any, Any, Any, Any]:
    xp, data, dtype = backend.xp, plan.dataset, np.dtype(plan.config.dtype)
    return (xp.asarray(data.X_train, dtype=dtype), xp.asarray(data.y_train, dtype=dtype),
            xp.asarray(data.X_test, dtype=dtype), xp.asarray(data.y_test, dtype=dtype))


def _train_chunk(plan: Plan, backend: Backend, data: tuple[Any, Any, Any, Any], chunk: Chunk,
                 callbacks: Callbacks, n_workers: int) -> RunResult:
    """One batched training of experiments [chunk.start, chunk.stop)."""
    xp, cfg, net, task = backend.xp, plan.config, plan.net, plan.dataset.task
    X, Y, Xt, Yt = data
    p = nn.ParamStore(xp, net, chunk.stop - chunk.start, np.dtype(cfg.dtype))
    start = starting_values(plan, chunk.start, chunk.stop, xp)
    p.load(start.weights)
    weights_init = p.to_host()
    layers_init = stats.layer_stats(xp, net, p, X, Y)
    if callbacks.on_init_stats is not None:
        callbacks.on_init_stats(chunk, layers_init)
    on_log = None if callbacks.on_log is None else (
        lambda it, costs: callbacks.on_log(chunk, it, costs))
    on_step = None if callbacks.on_step is None else (
        lambda done, total: callbacks.on_step(chunk.index * total + done, chunk.count * total))
    history = train.fit(xp, net, p, X, Y, cfg.train, on_log=on_log, on_step=on_step,
                        n_workers=n_workers, engine=plan.engine)
    small_regression = task == "regression" and plan.dataset.n_train <= SHOW_OUTPUTS_UP_TO
    finite = finite_experiments(xp, p, history.log_costs[-1])
    part = RunResult(
        plan=plan.part(chunk.start, chunk.stop), backend=backend, history=history,
        weights_init=weights_init, weights_final=p.to_host(),
        layers_init=layers_init, layers_final=stats.layer_stats(xp, net, p, X, Y),
        train_accuracy=_where(finite, accuracy(xp, net, p, X, Y, task)),
        test_accuracy=_where(finite, accuracy(xp, net, p, Xt, Yt, task)),
        final_cost=history.log_costs[-1],
        train_outputs=outputs(xp, net, p, X) if small_regression else None,
        workers=worker_count(plan, backend, p.n_exp, n_workers),
        chunks=[chunk], lsuv=start.lsuv)
    return part if history.lost is None else _without(part, ~history.lost)


def finite_experiments(xp: Any, p: nn.ParamStore, final_cost: np.ndarray) -> np.ndarray:
    """(E,) True where an experiment's parameters and final cost are all finite."""
    finite = np.isfinite(final_cost)
    for block in p.Wb:  # the flat buffer is layer-major: experiment e is row e of each block
        finite &= to_numpy(xp.isfinite(block.reshape(p.n_exp, -1)).all(axis=1))
    return finite


def _where(finite: np.ndarray, values: np.ndarray | None) -> np.ndarray | None:
    """``values`` with NaN for the experiments that are not finite."""
    return None if values is None else np.where(finite, values, np.nan)


def _without(part: RunResult, keep: np.ndarray) -> RunResult:
    """A chunk's result without the experiments of lost workers (``keep`` False)."""
    rows = np.flatnonzero(keep)
    hist = part.history
    pick = (lambda a: None if a is None else a[rows])  # noqa: E731
    history = replace(hist, log_costs=[c[rows] for c in hist.log_costs],
                      diverged_at=hist.diverged_at[rows], lost=None,
                      iterations=pick(hist.iterations),
                      logged=None if hist.logged is None else hist.logged[:, rows])
    kept = [e for e, k in zip(part.plan.experiments, keep, strict=True) if k]
    return replace(
        part, plan=replace(part.plan, experiments=kept), history=history,
        weights_init={k: v[rows] for k, v in part.weights_init.items()},
        weights_final={k: v[rows] for k, v in part.weights_final.items()},
        layers_init=part.layers_init.take(rows), layers_final=part.layers_final.take(rows),
        train_accuracy=pick(part.train_accuracy), test_accuracy=pick(part.test_accuracy),
        final_cost=part.final_cost[rows], train_outputs=pick(part.train_outputs),
        lsuv=[part.lsuv[r] for r in rows])


def _concatenate(plan: Plan, parts: list[RunResult]) -> RunResult:
    """Chunk results → one result along the experiment axis."""
    first = parts[0]
    experiments = [e for part in parts for e in part.plan.experiments]

    def cat(get: Callable[[RunResult], Any]) -> Any:
        return None if get(first) is None else np.concatenate([get(part) for part in parts])

    def weights(get: Callable[[RunResult], Any]) -> dict[str, np.ndarray] | None:
        if get(first) is None:
            return None
        return {k: np.concatenate([get(part)[k] for part in parts]) for k in get(first)}

    return RunResult(
        plan=replace(plan, experiments=experiments), backend=first.backend,
        history=train.History.concat([part.history for part in parts]),
        weights_init=weights(lambda r: r.weights_init),
        weights_final=weights(lambda r: r.weights_final),
        layers_init=stats.LayerStats.concat([part.layers_init for part in parts]),
        layers_final=stats.LayerStats.concat([part.layers_final for part in parts]),
        train_accuracy=cat(lambda r: r.train_accuracy),
        test_accuracy=cat(lambda r: r.test_accuracy),
        final_cost=cat(lambda r: r.final_cost),
        train_outputs=cat(lambda r: r.train_outputs),
        workers=max(part.workers for part in parts),
        chunks=[part.chunks[0] for part in parts],
        lsuv=[log for part in parts for log in part.lsuv])
