"""The batched MLP: every experiment of a run is one slice of the same arrays.

Shapes: ``E`` experiments, layer sizes ``n_0 … n_L``, ``m`` samples (samples are columns).
``W_l``: (E, n_l, n_{l-1}), ``b_l``: (E, n_l), ``X``: (n_0, m) shared by all experiments,
``z_l, a_l``: (E, n_l, m). One ``xp.matmul`` per layer serves all experiments. Parameters and
gradients are views into one flat buffer each, so an optimizer step is a few whole-buffer ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.activations import Activation
from initlab.losses import Loss


@dataclass(frozen=True)
class Network:
    """Architecture: layer sizes, one activation per weight layer, the loss, biases on/off."""

    layers: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    bias: bool = True

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        """[(W_l shape (n_out, n_in), b_l shape (n_out,)), …] for l = 1 … L."""
        return [((o, i), (o,)) for i, o in zip(self.layers[:-1], self.layers[1:], strict=True)]


class ParamStore:
    """W_l (E, n_out, n_in) and b_l (E, n_out) as views of one flat buffer ``flat``."""

    def __init__(self, xp: Any, net: Network, n_exp: int, dtype: Any) -> None:
        sizes = []
        for (w_shape, b_shape) in net.shapes():
            sizes.append((n_exp, *w_shape))
            if net.bias:
                sizes.append((n_exp, *b_shape))
        total = sum(int(np.prod(s)) for s in sizes)
        self.xp, self.net, self.n_exp = xp, net, n_exp
        self.flat = xp.zeros(total, dtype=dtype)
        views, start = [], 0
        for shape in sizes:
            n = int(np.prod(shape))
            views.append(self.flat[start:start + n].reshape(shape))
            start += n
        step = 2 if net.bias else 1
        self.W: list[Any] = views[::step]
        self.b: list[Any] = views[1::2] if net.bias else []
        self.WT = [w.swapaxes(-1, -2) for w in self.W]  # (E, n_in, n_out) views
        self.b_col = [b[:, :, None] for b in self.b]  # (E, n_out, 1) views, broadcast over m

    def names(self) -> list[str]:
        """Array names in layer order: W1, b1, W2, b2, … (b only with biases)."""
        out = []
        for l in range(1, self.net.depth + 1):
            out += [f"W{l}", f"b{l}"] if self.net.bias else [f"W{l}"]
        return out

    def arrays(self) -> list[Any]:
        out = []
        for l in range(self.net.depth):
            out += [self.W[l], self.b[l]] if self.net.bias else [self.W[l]]
        return out

    def load(self, values: dict[str, np.ndarray]) -> None:
        """Copy host arrays {'W1': (E, n_out, n_in), 'b1': (E, n_out), …} into the store."""
        for name, view in zip(self.names(), self.arrays(), strict=True):
            view[...] = self.xp.asarray(values[name], dtype=view.dtype)

    def to_host(self) -> dict[str, np.ndarray]:
        """Host copies, keyed W1, b1, …, experiment axis first."""
        from initlab.backend import to_numpy  # noqa: PLC0415

        return {n: to_numpy(v).copy() for n, v in zip(self.names(), self.arrays(), strict=True)}


class Workspace:
    """Preallocated z_l, a_l and gradient buffers for a batch of ``m`` samples."""

    def __init__(self, xp: Any, net: Network, n_exp: int, m: int, dtype: Any) -> None:
        self.m = m
        self.z = [xp.empty((n_exp, n, m), dtype=dtype) for n in net.layers[1:]]
        self.a = [xp.empty((n_exp, n, m), dtype=dtype) for n in net.layers[1:]]
        self.d = [xp.empty((n_exp, n, m), dtype=dtype) for n in net.layers[1:]]
        self.aT = [a.swapaxes(-1, -2) for a in self.a]  # (E, m, n) views for ∂W


def forward(xp: Any, net: Network, p: ParamStore, X: Any, ws: Workspace) -> Any:
    """z_l = W_l a_{l-1} + b_l, a_l = φ_l(z_l) for every layer; returns a_L (E, n_L, m)."""
    a_prev = X  # (n_0, m), broadcast over E
    for l, act in enumerate(net.activations):
        z = xp.matmul(p.W[l], a_prev, out=ws.z[l])  # (E, n_l, m)
        if net.bias:
            z += p.b_col[l]
        a_prev = act.forward(xp, z, ws.a[l])
    return a_prev


def cost(net: Network, xp: Any, ws: Workspace, Y: Any) -> Any:
    """Cost per experiment (E,) of the last ``forward`` against targets Y (n_L, m)."""
    return net.loss.cost(xp, ws.z[-1], ws.a[-1], Y)


def backward(xp: Any, net: Network, p: ParamStore, X: Any, Y: Any, ws: Workspace,
             grads: ParamStore) -> None:
    """Fill ``grads`` with ∂cost/∂W_l, ∂cost/∂b_l after ``forward``."""
    last = net.depth - 1
    dz = net.loss.output_grad(xp, net.activations[last], ws.z[last], ws.a[last], Y, ws.d[last])
    for l in range(last, -1, -1):
        a_prev_T = X.T if l == 0 else ws.aT[l - 1]
        xp.matmul(dz, a_prev_T, out=grads.W[l])  # (E, n_l, n_{l-1})
        if net.bias:
            dz.sum(axis=-1, out=grads.b[l])
        if l > 0:
            da = xp.matmul(p.WT[l], dz, out=ws.d[l - 1])  # (E, n_{l-1}, m)
            dz = net.activations[l - 1].backward(xp, ws.z[l - 1], ws.a[l - 1], da)
