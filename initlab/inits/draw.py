"""Starting weights of a list of experiments, drawn on the host, layer by layer.

``Initializer`` is a resolved ``init.weights`` / ``init.bias`` entry: a law from ``laws`` with its
parameters, or explicit arrays. ``StartingWeights`` draws W_l (E, n_out, n_in) and b_l (E, n_out)
for E experiments, each from its own streams (``streams.layer_streams(seed, kind, L)``), W_l
then b_l, layer after layer, so slice e depends only on its (initializer, seed) and never on the
rest of the batch. ``run``, ``compare`` and ``probe`` all draw through it: a probe layer and a
run layer of the same shape, initializer and seed hold the same weights.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.errors import InitlabError
from initlab.inits import laws, streams


@dataclass(frozen=True)
class Initializer:
    """A resolved initializer: display label, and either (name, params) or explicit values."""

    label: str
    name: str
    params: dict
    values: tuple[np.ndarray, ...] | None = None

    def formula(self) -> str:
        if self.values is not None:
            return "explicit values from the experiment file"
        return laws.formula(self.name, self.params)

    def draw(self, shape: tuple[int, ...], layer: int, stream: streams.Rng,
             activation: str | None) -> np.ndarray:
        """Layer ``layer``'s array of ``shape`` (float64), drawn from ``stream``."""
        if self.values is not None:
            return self.values[layer]
        return laws.sample(self.name, self.params, shape, stream, activation=activation)


def _explicit(values: Any, shapes: list[tuple[int, ...]], what: str) -> tuple[np.ndarray, ...]:
    if not isinstance(values, list) or len(values) != len(shapes):
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise InitlabError(f"init.{what}.values needs one entry per layer ({len(shapes)}), "
                           f"got {got}")
    out = []
    for l, (v, shape) in enumerate(zip(values, shapes, strict=True), start=1):
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise InitlabError(f"init.{what}.values layer {l}: not a numeric array") from None
        if arr.shape != shape:
            raise InitlabError(f"init.{what}.values layer {l} has shape {arr.shape}, "
                               f"expected {shape} (n_out, n_in)")
        out.append(arr)
    return tuple(out)


def resolve(spec: Any, shapes: list[tuple[int, ...]], what: str = "weights") -> Initializer:
    """An ``init.weights``/``init.bias`` spec → Initializer; ``shapes`` check explicit values."""
    if isinstance(spec, dict) and "values" in spec:
        extra = set(spec) - {"values"}
        if extra:
            raise InitlabError(f"init.{what}: explicit values take no other keys "
                               f"(got {sorted(extra)})")
        return Initializer("values", "values", {}, _explicit(spec["values"], shapes, what))
    found = laws.REGISTRY.resolve(spec)
    return Initializer(found.label, found.name, found.params)


class StartingWeights:
    """Draws the starting weights of E experiments: experiment e uses ``inits[e]`` for its
    weights and ``seeds[e]`` for its streams; ``bias`` None draws no biases. ``layer(l)`` must be
    called for l = 0, 1, … in order (a legacy stream serves every layer of its experiment). With
    ``snapshots``, each weight stream is copied before it draws, and ``redraw(l)`` gives W_l
    again without keeping it."""

    def __init__(self, inits: Sequence[Initializer], seeds: Sequence[int], kind: str,
                 shapes: Sequence[tuple[int, int]], activations: Sequence[str | None],
                 bias: Initializer | None = None, snapshots: bool = False) -> None:
        self.inits, self.bias, self.shapes = list(inits), bias, list(shapes)
        self.activations = list(activations)
        self.streams = [streams.layer_streams(s, kind, len(self.shapes)) for s in seeds]
        self.snapshots: dict[int, list[Any]] | None = {} if snapshots else None

    @property
    def n_experiments(self) -> int:
        return len(self.inits)

    def layer(self, l: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(W_l (E, n_out, n_in), b_l (E, n_out) or None), float64."""
        shape, act, E = self.shapes[l], self.activations[l], self.n_experiments
        W = np.empty((E, *shape))
        b = None if self.bias is None else np.empty((E, shape[0]))
        if self.snapshots is not None:
            self.snapshots[l] = [copy.deepcopy(s[l][0]) for s in self.streams]
        for e, (init, own) in enumerate(zip(self.inits, self.streams, strict=True)):
            w_rng, b_rng = own[l]
            W[e] = init.draw(shape, l, w_rng, act)
            if b is not None:
                b[e] = self.bias.draw(shape[:1], l, b_rng, act)
        return W, b

    def redraw(self, l: int) -> np.ndarray:
        """W_l once more, from copies of the streams as they were before ``layer(l)``."""
        if self.snapshots is None or l not in self.snapshots:
            raise RuntimeError(f"layer {l} was not drawn with snapshots")
        shape, act = self.shapes[l], self.activations[l]
        return np.stack([init.draw(shape, l, copy.deepcopy(rng), act)
                         for init, rng in zip(self.inits, self.snapshots[l], strict=True)])

    def all_layers(self) -> dict[str, np.ndarray]:
        """{'W1': (E, n_out, n_in), 'b1': (E, n_out), …} for every layer (b only with a bias)."""
        out: dict[str, np.ndarray] = {}
        for l in range(len(self.shapes)):
            W, b = self.layer(l)
            out[f"W{l + 1}"] = W
            if b is not None:
                out[f"b{l + 1}"] = b
        return out
