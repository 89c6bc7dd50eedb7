"""The fused CPU engine: one training segment (forward, loss gradient, backward, update) per
experiment in compiled loops (numba), experiments spread over threads (``prange``, no GIL).

Each experiment is trained by one thread from start to end of the segment, its activations
kept in small per-experiment buffers that stay in cache, so its numbers do not depend on the
thread count, the batch around it or the chunking. They differ from the NumPy engine's only in
the order of additions inside the products (about 1e-16 relative per operation; the tests hold
the two within 1e-12 after 1000 iterations on well-conditioned cases).

Supported: every activation, every loss, and the full-batch optimizers gd, momentum and adam.
Mini-batch training (sgd, or any train.batch_size) runs on the NumPy engine
(``unsupported`` says why). numba is imported, and the kernel compiled or loaded from numba's
on-disk cache, on the first fused training of a process.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import numpy as np

ACTIVATION_CODES = {"linear": 0, "relu": 1, "leaky_relu": 2, "tanh": 3, "sigmoid": 4,
                    "selu": 5, "gelu": 6, "gelu_tanh": 7, "softmax": 8}
LOSS_CODES = {"bce": 0, "quadratic": 1, "softmax_ce": 2}
OPTIMIZER_CODES = {"gd": 0, "momentum": 1, "adam": 2}
ENGINES = ("auto", "fused", "numpy")


def available() -> bool:
    """Whether numba can be imported here."""
    return importlib.util.find_spec("numba") is not None


def unsupported(net: Any, train: Any, m: int, on_cpu: bool) -> str | None:
    """Why the fused engine cannot train this (one clause), or None when it can."""
    if not on_cpu:
        return "it runs on the CPU"
    if not available():
        return "numba is not installed (pip install numba)"
    if train.optimizer not in OPTIMIZER_CODES:
        return f"it trains full batch (gd, momentum, adam), not {train.optimizer}"
    if train.batch_size is not None and train.batch_size < m:
        return "it trains full batch; this file sets train.batch_size"
    return None


@functools.cache
def _kernel() -> Any:
    from initlab.engine import fused_kernel  # noqa: PLC0415 (imports numba)

    return fused_kernel.segment


def set_threads(n: int) -> None:
    """Threads for the next segments (at most numba's configured maximum)."""
    import numba  # noqa: PLC0415

    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


class FusedShard:
    """The fused counterpart of ``train._Shard`` for all experiments of a full-batch fit: the
    same ``run(start, stop)``, ``costs``, ``done`` and divergence tracking."""

    def __init__(self, net: Any, p: Any, X: Any, Y: Any, train: Any, tracker: Any) -> None:
        dtype = p.flat.dtype
        self.p, self.train, self.divergence = p, train, tracker
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        self.sizes = np.asarray(net.layers, dtype=np.int64)
        self.acts = np.asarray([ACTIVATION_CODES[a.name] for a in net.activations],
                               dtype=np.int64)
        self.slopes = np.asarray([a.params.get("slope", 0.0) for a in net.activations],
                                 dtype=np.float64)
        self.loss, self.bias = LOSS_CODES[net.loss.name], bool(net.bias)
        self.opt = OPTIMIZER_CODES[train.optimizer]
        stateful = self.opt != 0
        self.m1 = np.zeros_like(p.flat) if stateful else np.zeros(1, dtype=dtype)
        self.v1 = np.zeros_like(p.flat) if self.opt == 2 else np.zeros(1, dtype=dtype)
        self.costs: dict[int, np.ndarray] = {}
        self.done = 0
        self.last_finite: np.ndarray | None = None

    def run(self, start: int, stop: int) -> None:
        n, E, every = stop - start, self.p.n_exp, self.train.log_every
        logs = [it for it in range(start, stop) if it % every == 0]
        witness = np.empty((n, E), dtype=self.p.flat.dtype)
        costs = np.empty((max(1, len(logs)), E), dtype=self.p.flat.dtype)
        t = self.train
        _kernel()(self.p.flat, self.m1, self.v1, self.X, self.Y, self.sizes, self.acts,
                  self.slopes, self.loss, self.bias, self.opt, float(t.lr), float(t.momentum),
                  float(t.beta1), float(t.beta2), float(t.eps), start, stop, every, E,
                  witness, costs)
        for k, it in enumerate(range(start, stop)):
            self.divergence.slot(it)[...] = witness[k]
        for row, it in enumerate(logs):
            self.costs[it] = costs[row].copy()
        self.done = stop



def warm() -> float:
    """Compile the kernel for float64 and float32 into numba's on-disk cache (a no-op load when
    it is there already); seconds taken. ``make install`` runs it once per machine."""
    import time  # noqa: PLC0415

    t0 = time.perf_counter()
    for dtype in (np.float64, np.float32):
        one = np.ones((1, 1), dtype=dtype)
        flat = np.zeros(2, dtype=dtype)
        _kernel()(flat, flat.copy(), flat.copy(), one, one, np.array([1, 1], dtype=np.int64),
                  np.array([0], dtype=np.int64), np.zeros(1), 1, True, 0, 0.1, 0.9, 0.9,
                  0.999, 1e-8, 0, 1, 1, 1, np.empty((1, 1), dtype=dtype),
                  np.empty((1, 1), dtype=dtype))
    return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"fused engine compiled (or loaded) in {warm():.1f} s")
