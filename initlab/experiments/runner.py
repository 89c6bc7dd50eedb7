"""One batched training of a plan: initial statistics, the fit, final statistics, accuracies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from initlab.engine import memory, nn, stats, train
from initlab.engine.backend import Backend, get_backend, single_threaded_blas, to_numpy
from initlab.experiments import config
from initlab.experiments.plan import Plan, build, initial_values


@dataclass
class RunResult:
    """Host-side outcome of a run; ``*_accuracy`` and ``final_cost`` are (E,) arrays."""

    plan: Plan
    backend: Backend
    history: train.History
    weights_init: dict[str, np.ndarray] | None  # None: too large to keep (chunked runs)
    weights_final: dict[str, np.ndarray] | None
    layers_init: list[list[dict]]
    layers_final: list[list[dict]]
    train_accuracy: np.ndarray | None
    test_accuracy: np.ndarray | None
    final_cost: np.ndarray
    train_outputs: np.ndarray | None = None  # (E, k, m) for small regression sets

    @property
    def status(self) -> str:
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


def prepare(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
            n_seeds: int | None = None) -> tuple[Plan, Backend]:
    """Load an experiment file with overrides, validate it, and pick its device.

    ``n_seeds`` runs seeds ``seed … seed + n_seeds − 1`` as slices of one batched training."""
    cfg = config.load(path, overrides)
    seeds = list(range(cfg.seed, cfg.seed + n_seeds)) if n_seeds else None
    plan = build(cfg, seeds=seeds, base_dir=Path(path).parent)
    return plan, get_backend(cfg.device)


WEIGHTS_KEEP_BYTES = 1 << 30  # chunked runs keep host weight copies up to this size
SHOW_OUTPUTS_UP_TO = 16  # regression sets this small report the network's outputs


def outputs(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any) -> np.ndarray:
    """Network outputs a_L on X, (E, n_L, m), on the host."""
    return to_numpy(nn.forward_fresh(xp, net, p, X).a[-1]).astype(np.float64)


def execute(plan: Plan, backend: Backend,
            on_log: Callable[[int, np.ndarray], None] | None = None,
            on_step: Callable[[int, int], None] | None = None,
            on_init_stats: Callable[[list[list[dict]]], None] | None = None, *,
            n_workers: int = 1, chunks: memory.ChunkPlan | None = None) -> RunResult:
    """Draw the initial weights, train every experiment together, and collect what to report.

    Experiments are trained ``chunks.size`` at a time (default: as many as fit in a quarter of
    the free memory); ``n_workers`` CPU worker processes share each chunk. Neither changes the
    numbers.
    With several chunks, ``on_log`` is not called (the costs are in the history) and ``on_step``
    counts iterations over all chunks. A Ctrl-C keeps the chunks already finished (or the
    partial first chunk)."""
    chunks = chunks if chunks is not None else memory.chunk_plan(plan, backend)
    with single_threaded_blas(backend.xp):
        return _execute_chunks(plan, backend, chunks, on_log, on_step, on_init_stats, n_workers)


def _execute_chunks(plan: Plan, backend: Backend, chunks: memory.ChunkPlan,
                    on_log: Callable[[int, np.ndarray], None] | None,
                    on_step: Callable[[int, int], None] | None,
                    on_init_stats: Callable[[list[list[dict]]], None] | None,
                    n_workers: int) -> RunResult:
    bounds = chunks.bounds()
    if len(bounds) == 1:
        return _execute_chunk(plan, backend, 0, plan.n_experiments, on_log, on_step,
                              on_init_stats, n_workers)
    if on_init_stats is not None:
        on_init_stats([rec for a, b in bounds for rec in _init_stats(plan, backend, a, b)])
    parts: list[RunResult] = []
    kept = 0  # bytes of host weight copies held so far
    for k, (a, b) in enumerate(bounds):
        step = None if on_step is None else (
            lambda done, total, k=k: on_step(k * total + done, len(bounds) * total))
        part = _execute_chunk(plan, backend, a, b, None, step, None, n_workers)
        if part.history.interrupted and parts:
            parts[-1].history.interrupted = True
            break
        parts.append(part)
        kept += sum(v.nbytes for v in part.weights_init.values()) * 2
        if kept > WEIGHTS_KEEP_BYTES:  # past the limit, drop every chunk's host copies
            for done in parts:
                done.weights_init = done.weights_final = None
        if part.history.interrupted:
            break
    return _concatenate(plan, parts)


def _device_data(plan: Plan, backend: Backend) -> tuple[Any, Any, Any, Any]:
    xp, data, dtype = backend.xp, plan.dataset, np.dtype(plan.config.dtype)
    return (xp.asarray(data.X_train, dtype=dtype), xp.asarray(data.y_train, dtype=dtype),
            xp.asarray(data.X_test, dtype=dtype), xp.asarray(data.y_test, dtype=dtype))


def _load(plan: Plan, backend: Backend, start: int, stop: int) -> nn.ParamStore:
    p = nn.ParamStore(backend.xp, plan.net, stop - start, np.dtype(plan.config.dtype))
    p.load(initial_values(plan, start, stop))
    return p


def _init_stats(plan: Plan, backend: Backend, start: int, stop: int) -> list[list[dict]]:
    X, Y, _, _ = _device_data(plan, backend)
    return stats.layer_stats(backend.xp, plan.net, _load(plan, backend, start, stop), X, Y)


def _execute_chunk(plan: Plan, backend: Backend, start: int, stop: int,
                   on_log: Callable[[int, np.ndarray], None] | None,
                   on_step: Callable[[int, int], None] | None,
                   on_init_stats: Callable[[list[list[dict]]], None] | None,
                   n_workers: int) -> RunResult:
    """One batched training of experiments [start, stop)."""
    xp, cfg, data = backend.xp, plan.config, plan.dataset
    X, Y, Xt, Yt = _device_data(plan, backend)
    p = _load(plan, backend, start, stop)
    weights_init = p.to_host()
    layers_init = stats.layer_stats(xp, plan.net, p, X, Y)
    if on_init_stats is not None:
        on_init_stats(layers_init)
    history = train.fit(xp, plan.net, p, X, Y, cfg.train, on_log=on_log, on_step=on_step,
                        n_workers=n_workers)
    layers_final = stats.layer_stats(xp, plan.net, p, X, Y)
    part = replace(plan, members=plan.members[start:stop]) if (start, stop) != (
        0, plan.n_experiments) else plan
    return RunResult(
        plan=part, backend=backend, history=history,
        weights_init=weights_init, weights_final=p.to_host(),
        layers_init=layers_init, layers_final=layers_final,
        train_accuracy=accuracy(xp, plan.net, p, X, Y, data.task),
        test_accuracy=accuracy(xp, plan.net, p, Xt, Yt, data.task),
        final_cost=history.log_costs[-1],
        train_outputs=outputs(xp, plan.net, p, X)
        if data.task == "regression" and data.n_train <= SHOW_OUTPUTS_UP_TO else None,
    )


def _concatenate(plan: Plan, parts: list[RunResult]) -> RunResult:
    """Chunk results → one result along the experiment axis (weights None past the limit)."""
    first = parts[0]
    members = [m for part in parts for m in part.plan.members]
    keep = all(part.weights_init is not None for part in parts)
    cat = lambda get: None if get(first) is None else np.concatenate(  # noqa: E731
        [get(part) for part in parts])
    history = train.History(
        log_iterations=first.history.log_iterations,
        log_costs=[np.concatenate(c) for c in zip(*(p.history.log_costs for p in parts),
                                                   strict=True)],
        n_iterations=first.history.n_iterations,
        planned_iterations=first.history.planned_iterations,
        diverged_at=cat(lambda r: r.history.diverged_at),
        interrupted=parts[-1].history.interrupted)
    weights = lambda get: {k: np.concatenate([get(p)[k] for p in parts])  # noqa: E731
                           for k in get(first)} if keep else None
    return RunResult(
        plan=replace(plan, members=members), backend=first.backend, history=history,
        weights_init=weights(lambda r: r.weights_init),
        weights_final=weights(lambda r: r.weights_final),
        layers_init=[rec for p in parts for rec in p.layers_init],
        layers_final=[rec for p in parts for rec in p.layers_final],
        train_accuracy=cat(lambda r: r.train_accuracy),
        test_accuracy=cat(lambda r: r.test_accuracy),
        final_cost=cat(lambda r: r.final_cost),
        train_outputs=cat(lambda r: r.train_outputs))
