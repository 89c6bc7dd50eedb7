"""From a validated config to a runnable plan: data, network, and the experiment axis.

``build`` checks everything that needs a registry (data set, activations, loss, initializers,
layer sizes against the data) before anything runs or is written. ``initial_values`` draws the
starting weights of every experiment, stacked on the leading experiment axis E.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from initlab.engine import activations, losses
from initlab.engine.nn import Network
from initlab.errors import InitlabError
from initlab.experiments import datasets
from initlab.experiments.config import Experiment
from initlab.inits import laws as initializers
from initlab.inits import streams as rng

_TASK_LOSSES = {"binary": ("bce", "quadratic"), "multiclass": ("softmax_ce", "quadratic"),
                "regression": ("quadratic",)}


@dataclass(frozen=True)
class InitChoice:
    """A resolved initializer: display label, and either (name, params) or explicit values."""

    label: str
    name: str
    params: dict
    values: tuple[np.ndarray, ...] | None = None

    def formula(self) -> str:
        if self.values is not None:
            return "explicit values from the experiment file"
        return initializers.formula(self.name, self.params)

    def draw(self, shape: tuple[int, ...], layer: int, stream: rng.Rng, act: str) -> np.ndarray:
        if self.values is not None:
            return self.values[layer]
        return initializers.sample(self.name, self.params, shape, stream, activation=act)


@dataclass(frozen=True)
class Member:
    """One slice of the experiment axis: an initializer label and a seed."""

    init: str
    seed: int


@dataclass
class Plan:
    """Everything a run needs, validated."""

    config: Experiment
    dataset: datasets.Dataset
    net: Network
    weight_inits: dict[str, InitChoice]
    bias_init: InitChoice
    members: list[Member]

    @property
    def n_experiments(self) -> int:
        return len(self.members)


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


def resolve_init(spec: Any, shapes: list[tuple[int, ...]], what: str) -> InitChoice:
    """An ``init.weights``/``init.bias`` spec → InitChoice (names checked against the registry)."""
    if isinstance(spec, dict) and "values" in spec:
        extra = set(spec) - {"values"}
        if extra:
            raise InitlabError(f"init.{what}: explicit values take no other keys "
                               f"(got {sorted(extra)})")
        return InitChoice("values", "values", {}, _explicit(spec["values"], shapes, what))
    name, params = initializers.resolve(spec)
    return InitChoice(initializers.label(spec), name, params)


def build(cfg: Experiment, *, seeds: list[int] | None = None, inits: list[Any] | None = None,
          base_dir: Path | None = None) -> Plan:
    """Validate the experiment against the registries and lay out its experiment axis.

    ``seeds`` defaults to ``[cfg.seed]``; ``inits`` (specs) defaults to ``[cfg.init.weights]``.
    Experiments are ordered init-major: all seeds of the first initializer, then the next.
    """
    data = datasets.make(cfg.dataset.name, cfg.dataset.params(), base_dir=base_dir)
    acts = tuple(activations.get(a) for a in cfg.model.activations)
    loss = losses.get(cfg.train.loss)
    layers = tuple(cfg.model.layers)
    if layers[0] != data.n_features:
        raise InitlabError(f"model.layers starts with {layers[0]} inputs but data set "
                           f"{data.name} has {data.n_features} features")
    if layers[-1] != data.n_outputs:
        raise InitlabError(f"model.layers ends with {layers[-1]} outputs but data set "
                           f"{data.name} has {data.n_outputs} target column(s) ({data.task})")
    loss.check_output(acts[-1], layers[-1])
    if cfg.train.loss not in _TASK_LOSSES[data.task]:
        raise InitlabError(f"loss {cfg.train.loss} does not fit the {data.task} data set "
                           f"{data.name}; use {' or '.join(_TASK_LOSSES[data.task])}")
    if cfg.train.batch_size is not None and cfg.train.batch_size > data.n_train:
        raise InitlabError(f"train.batch_size {cfg.train.batch_size} is larger than the "
                           f"{data.n_train} training samples")
    if any(a.name == "softmax" for a in acts[:-1]):
        raise InitlabError("softmax is allowed only as the output activation")
    net = Network(layers, acts, loss, cfg.model.bias)
    w_shapes = [w for w, _ in net.shapes()]
    b_shapes = [b for _, b in net.shapes()]
    specs = inits if inits is not None else [cfg.init.weights]
    weight_inits: dict[str, InitChoice] = {}
    for spec in specs:
        choice = resolve_init(spec, w_shapes, "weights")
        if choice.label in weight_inits:
            raise InitlabError(f"initializer '{choice.label}' is listed twice")
        weight_inits[choice.label] = choice
    bias_init = resolve_init(cfg.init.bias, b_shapes, "bias")
    seed_list = seeds if seeds is not None else [cfg.seed]
    if not seed_list:
        raise InitlabError("at least one seed is needed")
    if len(set(seed_list)) != len(seed_list):
        raise InitlabError(f"seeds must be distinct, got {seed_list}")
    members = [Member(label, s) for label in weight_inits for s in seed_list]
    return Plan(cfg, data, net, weight_inits, bias_init, members)


def initial_values(plan: Plan, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
    """Starting parameters {'W1': (E, n_out, n_in), 'b1': (E, n_out), …} on the host, float64,
    of experiments [start, stop) (default: all).

    Each experiment draws from its own streams (``rng.layer_streams``), layer by layer, W_l then
    b_l, so slice e depends only on (initializer, seed) and not on the rest of the batch.
    """
    net = plan.net
    members = plan.members[start:stop]
    E = len(members)
    out: dict[str, np.ndarray] = {}
    for l, (w_shape, b_shape) in enumerate(net.shapes(), start=1):
        out[f"W{l}"] = np.empty((E, *w_shape))
        if net.bias:
            out[f"b{l}"] = np.empty((E, *b_shape))
    for e, member in enumerate(members):
        streams = rng.layer_streams(member.seed, plan.config.rng, net.depth)
        w_init = plan.weight_inits[member.init]
        for l, (w_shape, b_shape) in enumerate(net.shapes()):
            act = net.activations[l].name
            w_rng, b_rng = streams[l]
            out[f"W{l + 1}"][e] = w_init.draw(w_shape, l, w_rng, act)
            if net.bias:
                out[f"b{l + 1}"][e] = plan.bias_init.draw(b_shape, l, b_rng, act)
    return out
