"""One batched training of a plan: initial statistics, the fit, final statistics, accuracies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from initlab import config, nn, stats, train
from initlab.backend import Backend, get_backend, to_numpy
from initlab.experiment import Plan, build, initial_values


@dataclass
class RunResult:
    """Host-side outcome of a run; ``*_accuracy`` and ``final_cost`` are (E,) arrays."""

    plan: Plan
    backend: Backend
    history: train.History
    weights_init: dict[str, np.ndarray]
    weights_final: dict[str, np.ndarray]
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


SHOW_OUTPUTS_UP_TO = 16  # regression sets this small report the network's outputs


def outputs(xp: Any, net: nn.Network, p: nn.ParamStore, X: Any) -> np.ndarray:
    """Network outputs a_L on X, (E, n_L, m), on the host."""
    return to_numpy(nn.forward_fresh(xp, net, p, X).a[-1]).astype(np.float64)


def execute(plan: Plan, backend: Backend,
            on_log: Callable[[int, np.ndarray], None] | None = None,
            on_step: Callable[[int, int], None] | None = None,
            on_init_stats: Callable[[list[list[dict]]], None] | None = None) -> RunResult:
    """Draw the initial weights, train every experiment together, and collect what to report."""
    xp, cfg, data = backend.xp, plan.config, plan.dataset
    dtype = np.dtype(cfg.dtype)
    X, Y = xp.asarray(data.X_train, dtype=dtype), xp.asarray(data.y_train, dtype=dtype)
    Xt, Yt = xp.asarray(data.X_test, dtype=dtype), xp.asarray(data.y_test, dtype=dtype)
    p = nn.ParamStore(xp, plan.net, plan.n_experiments, dtype)
    p.load(initial_values(plan))
    weights_init = p.to_host()
    layers_init = stats.layer_stats(xp, plan.net, p, X, Y)
    if on_init_stats is not None:
        on_init_stats(layers_init)
    history = train.fit(xp, plan.net, p, X, Y, cfg.train, on_log=on_log, on_step=on_step)
    layers_final = stats.layer_stats(xp, plan.net, p, X, Y)
    return RunResult(
        plan=plan, backend=backend, history=history,
        weights_init=weights_init, weights_final=p.to_host(),
        layers_init=layers_init, layers_final=layers_final,
        train_accuracy=accuracy(xp, plan.net, p, X, Y, data.task),
        test_accuracy=accuracy(xp, plan.net, p, Xt, Yt, data.task),
        final_cost=history.log_costs[-1],
        train_outputs=outputs(xp, plan.net, p, X)
        if data.task == "regression" and data.n_train <= SHOW_OUTPUTS_UP_TO else None,
    )
