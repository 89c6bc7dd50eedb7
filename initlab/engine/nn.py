"""The batched MLP: every experiment of a run is one slice of the same arrays.

Shapes: ``E`` experiments, layer sizes ``n_0 … n_L``, ``m`` samples (samples are columns).
``W_l``: (E, n_l, n_{l-1}), ``b_l``: (E, n_l), ``X``: (n_0, m) shared by all experiments,
``z_l, a_l``: (E, n_l, m). One ``xp.matmul`` per layer serves all experiments. Parameters and
gradients are views into one flat buffer each, so an optimizer step is a few whole-buffer ops.

Every product is a stack of per-experiment GEMMs of one shape, never E matrices stacked into one
tall GEMM: OpenBLAS picks its kernel (and summation order) by the matrix size, so a tall product's
rows for experiment e would change in the last bit with E (seen with the AVX-512 kernels), and
slice e of a batch would no longer equal experiment e alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.engine.activations import Activation
from initlab.engine.losses import Loss


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
    """Every layer's [W_l | b_l] as one (E, n_out, n_in + 1) block of one flat buffer ``flat``.

    Biases are the last column, so ``[W | b] @ [a; 1]`` is one matmul forward and
    ``dz @ [a; 1]ᵀ`` gives ∂W and ∂b in one matmul backward. ``W[l]`` (E, n_out, n_in) and
    ``b[l]`` (E, n_out) are views; without biases the block is just W.
    """

    def __init__(self, xp: Any, net: Network, n_exp: int, dtype: Any) -> None:
        extra = 1 if net.bias else 0
        shapes = [(n_exp, o, i + extra) for i, o in zip(net.layers[:-1], net.layers[1:],
                                                         strict=True)]
        self.xp, self.net, self.n_exp = xp, net, n_exp
        self.flat = xp.zeros(sum(int(np.prod(s)) for s in shapes), dtype=dtype)
        self.Wb: list[Any] = []
        start = 0
        for shape in shapes:
            n = int(np.prod(shape))
            self.Wb.append(self.flat[start:start + n].reshape(shape))
            start += n
        n_in = net.layers[:-1]
        self.W = [wb[:, :, :k] for wb, k in zip(self.Wb, n_in, strict=True)]
        self.b = [wb[:, :, k] for wb, k in zip(self.Wb, n_in, strict=True)] if net.bias else []
        self.WT = [w.swapaxes(-1, -2) for w in self.W]  # (E, n_in, n_out) views

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

    def take(self, start: int, stop: int) -> ParamStore:
        """A new store holding a copy of experiments [start, stop)."""
        part = ParamStore(self.xp, self.net, stop - start, self.flat.dtype)
        for mine, theirs in zip(self.Wb, part.Wb, strict=True):
            theirs[...] = mine[start:stop]
        return part

    def put(self, start: int, part: ParamStore) -> None:
        """Copy ``part``'s experiments back into experiments [start, start + part.n_exp)."""
        for mine, theirs in zip(self.Wb, part.Wb, strict=True):
            mine[start:start + part.n_exp] = theirs

    def to_host(self) -> dict[str, np.ndarray]:
        """Host copies (never views of the live parameters), keyed W1, b1, …, E first."""
        from initlab.engine.backend import to_numpy  # noqa: PLC0415

        return {n: np.array(to_numpy(v), order="C", copy=True)
                for n, v in zip(self.names(), self.arrays(), strict=True)}


class Workspace:
    """Preallocated buffers for a batch of ``m`` samples.

    ``x``: inputs [X; 1] (n_0 + 1, m); ``a_in[l]``: [a_l; 1] (E, n_l + 1, m), whose first n_l
    rows ``a[l]`` hold the activations; ``z[l]``, ``d[l]``: (E, n_l, m). The ones rows (present
    only with biases) are written once.
    """

    def __init__(self, xp: Any, net: Network, n_exp: int, m: int, dtype: Any) -> None:
        extra = 1 if net.bias else 0
        self.m, self.n_in = m, net.layers[0]
        self.x = xp.ones((net.layers[0] + extra, m), dtype=dtype)
        self.a_in = [xp.ones((n_exp, n + extra, m), dtype=dtype) for n in net.layers[1:]]
        self.a = [a[:, :n, :] for a, n in zip(self.a_in, net.layers[1:], strict=True)]
        self.z = [xp.empty((n_exp, n, m), dtype=dtype) for n in net.layers[1:]]
        self.d = [xp.empty((n_exp, n, m), dtype=dtype) for n in net.layers[1:]]
        self.xT = self.x.T
        self.a_inT = [a.swapaxes(-1, -2) for a in self.a_in]  # (E, m, n + 1) views for ∂W

    def load_inputs(self, X: Any) -> None:
        """Copy X (n_0, m) into the input buffer (the rows above the ones row)."""
        self.x[:self.n_in] = X


def forward(xp: Any, net: Network, p: ParamStore, X: Any | None, ws: Workspace) -> Any:
    """z_l = W_l a_{l-1} + b_l, a_l = φ_l(z_l) for every layer; returns a_L (E, n_L, m).

    X (n_0, m) is copied into ``ws``; ``X=None`` reuses the inputs already loaded there (the
    training loop loads a full batch once)."""
    if X is not None:
        ws.load_inputs(X)
    for l, act in enumerate(net.activations):
        inputs = ws.x if l == 0 else ws.a_in[l - 1]  # (n_0 + 1, m) shared, or (E, n + 1, m)
        xp.matmul(p.Wb[l], inputs, out=ws.z[l])  # (E, n_l, m): one GEMM per experiment
        act.forward(xp, ws.z[l], ws.a[l])
    return ws.a[-1]


def forward_fresh(xp: Any, net: Network, p: ParamStore, X: Any) -> Workspace:
    """A new workspace sized for X (n_0, m) after a forward pass on it (NaN/inf tolerated)."""
    ws = Workspace(xp, net, p.n_exp, X.shape[-1], p.flat.dtype)
    with np.errstate(all="ignore"):
        forward(xp, net, p, X, ws)
    return ws


def cost(net: Network, xp: Any, ws: Workspace, Y: Any) -> Any:
    """Cost per experiment (E,) of the last ``forward`` against targets Y (n_L, m)."""
    return net.loss.cost(xp, ws.z[-1], ws.a[-1], Y)


def backward(xp: Any, net: Network, p: ParamStore, Y: Any, ws: Workspace,
             grads: ParamStore) -> None:
    """Fill ``grads`` with ∂cost/∂W_l, ∂cost/∂b_l for targets Y after ``forward`` into ``ws``."""
    last = net.depth - 1
    dz = net.loss.output_grad(xp, net.activations[last], ws.z[last], ws.a[last], Y, ws.d[last])
    for l in range(last, -1, -1):
        inputsT = ws.xT if l == 0 else ws.a_inT[l - 1]
        xp.matmul(dz, inputsT, out=grads.Wb[l])  # (E, n_l, n_{l-1} + 1): [∂W | ∂b]
        if l == 0:
            break
        if net.layers[l + 1] == 1:  # W_lᵀ δ_l is an outer product: a broadcast multiply
            da = xp.multiply(p.WT[l], dz, out=ws.d[l - 1])
        else:
            da = xp.matmul(p.WT[l], dz, out=ws.d[l - 1])  # (E, n_{l-1}, m)
        dz = net.activations[l - 1].backward(xp, ws.z[l - 1], ws.a[l - 1], da)
