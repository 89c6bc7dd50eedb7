"""``initlab bench-train CONFIG``: one experiment file's initialisation and training timed at
several batch sizes E on a device, beside the same network trained by a direct PyTorch loop on
the same device when torch is importable — measurements only (``reporting.bench_tables``
prints them).

Per row: the starting weights drawn (on the host, as every run draws them) and moved to the
device; the training (``engine.train.fit``, the data already on the device), synchronised; the
work, 6·m·Σ n_l·n_(l−1) FLOP per model-iteration (forward 2, backward 4: the weight and the
input gradients), as GFLOP/s and, on a GPU whose peak is known (``PEAKS``), its share. The
speed-up column is per model against E = 1 of the same run; the PyTorch row's against initlab
at E = 1 — the loop a user would write instead.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from initlab.commands.run import prepare
from initlab.engine import nn, train
from initlab.engine.backend import Backend
from initlab.experiments.config import locate
from initlab.experiments.plan import Plan, initial_values

# dense peak TFLOP/s by GPU name (NVIDIA data sheets, SXM parts): FP32 on CUDA cores, TF32 on
# tensor cores without sparsity
PEAKS = {"H200": (67.0, 494.7), "H100": (67.0, 494.7), "A100": (19.5, 156.0)}


@dataclass(frozen=True)
class ConfigTiming:
    """One row: method, models E, init and train seconds (best of the repeats), µs per
    iteration and per model-iteration, GFLOP/s, share of the device's peak (None: unknown),
    speed-up per model against the baseline row, the final cost of experiment 0."""

    method: str
    models: int
    init_s: float
    train_s: float
    us_per_iteration: float
    us_per_model_iteration: float
    gflops: float
    peak_share: float | None
    speedup: float
    final_cost: float


@dataclass(frozen=True)
class ConfigBench:
    title: str
    rows: list[ConfigTiming]
    notes: list[str]


def flop_per_iteration(plan: Plan) -> float:
    """6·m·Σ n_l·n_(l−1) for one model: forward 2·n_l·n_(l−1)·m per layer, backward twice
    that (∂W and ∂a_(l−1)); elementwise work not counted."""
    layers, m = plan.config.model.layers, plan.dataset.X_train.shape[-1]
    return 6.0 * m * sum(a * b for a, b in zip(layers[:-1], layers[1:], strict=True))


def peak(backend: Backend, tf32: bool) -> float | None:
    """The device's dense peak in TFLOP/s for this run's precision, when PEAKS knows it."""
    if backend.name != "gpu":
        return None
    for name, (fp32, tensor) in PEAKS.items():
        if name in backend.label:
            return tensor if tf32 else fp32
    return None


def _synced(backend: Backend, fn: Callable[[], object]) -> tuple[float, object]:
    backend.synchronize()
    start = time.perf_counter()
    out = fn()
    backend.synchronize()
    return time.perf_counter() - start, out


def _initlab_once(plan: Plan, backend: Backend) -> tuple[float, float, float]:
    """(init s, train s, final cost of experiment 0) of one timed repetition."""
    xp, cfg = backend.xp, plan.config
    dtype = np.dtype(cfg.dtype)

    def draw() -> nn.ParamStore:
        p = nn.ParamStore(xp, plan.net, plan.n_experiments, dtype)
        p.load(initial_values(plan))
        return p

    init_s, p = _synced(backend, draw)
    X = backend.asarray(plan.dataset.X_train, dtype=dtype)
    Y = backend.asarray(plan.dataset.y_train, dtype=dtype)
    train_s, hist = _synced(backend, lambda: train.fit(xp, plan.net, p, X, Y, cfg.train))
    return init_s, train_s, float(hist.log_costs[-1][0])


def torch_loop(plan: Plan, device: str, tf32: bool) -> tuple[float, float, float]:
    """(init s, train s, final cost): experiment 0 of ``plan`` in a direct PyTorch loop —
    the same starting weights (copied in, timed as init), full-batch gradient descent, the
    quadratic cost mean ½‖a − y‖² or bce from the logits, gradients by autograd — on
    ``device`` ('cpu' or 'cuda')."""
    import torch  # noqa: PLC0415

    torch.backends.cuda.matmul.allow_tf32 = tf32
    cfg = plan.config
    dtype = torch.float32 if cfg.dtype == "float32" else torch.float64
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "linear": lambda z: z}
    names = cfg.model.activations
    kind = cfg.train.loss
    if any(a not in acts for a in names) or kind not in ("quadratic", "bce") or \
            cfg.train.optimizer != "gd":
        raise ValueError("the PyTorch loop covers tanh/sigmoid/relu/linear layers, the quadratic "
                         "and bce costs and full-batch gd")

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    start = initial_values(plan, 0, 1)
    sync()
    t0 = time.perf_counter()
    params = [torch.tensor(start[k][0], dtype=dtype, device=device, requires_grad=True)
              for k in sorted(start, key=lambda k: (int(k[1:]), k[0] == "b"))]
    sync()
    init_s = time.perf_counter() - t0
    X = torch.tensor(plan.dataset.X_train, dtype=dtype, device=device)
    Y = torch.tensor(plan.dataset.y_train, dtype=dtype, device=device)
    m, lr = X.shape[1], cfg.train.lr

    def cost() -> torch.Tensor:
        a = X
        for l, act in enumerate(names):
            z = params[2 * l] @ a + params[2 * l + 1][:, None]
            if l == len(names) - 1 and kind == "bce":  # from the logits, as initlab's bce
                return torch.nn.functional.binary_cross_entropy_with_logits(
                    z, Y, reduction="sum") / m
            a = acts[act](z)
        return 0.5 * ((a - Y) ** 2).sum() / m

    sync()
    t0 = time.perf_counter()
    for _ in range(cfg.train.epochs):
        grads = torch.autograd.grad(cost(), params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    sync()
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        final = float(cost())
    return init_s, train_s, final


def config_benchmark(config: str | Path, device: str | None, experiments: list[int],
                     repeat: int, tf32: bool = False, iterations: int | None = None,
                     on_step: Callable[[int, int], None] | None = None) -> ConfigBench:
    """Best of ``repeat`` at every E in ``experiments``, then the PyTorch loop when torch is
    importable; ``iterations`` overrides the file's epochs; ``tf32`` allows TF32 matmuls
    (CuPy's CUPY_TF32, torch's allow_tf32) on a GPU."""
    config = locate(config)
    if tf32:
        os.environ["CUPY_TF32"] = "1"
    overrides = ([f"device={device}"] if device else []) + (
        [f"train.epochs={iterations}", f"train.log_every={iterations}"] if iterations else [])
    torch_here = importlib.util.find_spec("torch") is not None
    total = (len(experiments) + torch_here) * repeat
    done = [0]

    def tick() -> None:
        done[0] += 1
        if on_step is not None:
            on_step(done[0], total)

    rows: list[ConfigTiming] = []
    notes: list[str] = []
    first: Plan | None = None
    for E in experiments:
        plan, backend = prepare(config, overrides, n_seeds=E)
        first = first or plan
        best = (math.inf, math.inf, math.nan)
        for _ in range(repeat):
            got = _initlab_once(plan, backend)
            best = (min(best[0], got[0]), min(best[1], got[1]), got[2])
            tick()
        rows.append(_row(f"initlab E={E}", plan, backend, E, *best, tf32, rows))
    if torch_here and first is not None:
        where = "cuda" if backend.name == "gpu" else "cpu"
        try:
            best = (math.inf, math.inf, math.nan)
            for _ in range(repeat):
                got = torch_loop(first, where, tf32)
                best = (min(best[0], got[0]), min(best[1], got[1]), got[2])
                tick()
            rows.append(_row(f"PyTorch loop, {where}", first, backend, 1, *best, tf32,
                             rows))
        except ValueError as exc:
            notes.append(f"no PyTorch row: {exc}")
    elif not torch_here:
        notes.append("no PyTorch row: torch is not importable here")
    cfg = rows and first.config
    title = (f"bench-train {cfg.name}: {cfg.train.epochs} iterations, {cfg.dtype}"
             f"{', TF32 allowed' if tf32 and backend.name == 'gpu' else ''}, on {backend.label}, "
             f"best of {repeat}")
    return ConfigBench(title, rows, notes)


def _row(method: str, plan: Plan, backend: Backend, models: int, init_s: float, train_s: float,
         final: float, tf32: bool, before: list[ConfigTiming]) -> ConfigTiming:
    iterations = plan.config.train.epochs
    work = flop_per_iteration(plan) * models * iterations
    gflops = work / train_s / 1e9
    top = peak(backend, tf32)
    base = before[0] if before else None
    per_model = train_s / models
    speedup = 1.0 if base is None else (base.train_s / base.models) / per_model
    return ConfigTiming(method, models, init_s, train_s, 1e6 * train_s / iterations,
                        1e6 * per_model / iterations, gflops,
                        None if top is None else gflops / 1e3 / top, speedup, final)
