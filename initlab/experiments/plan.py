"""From a validated run config to a runnable plan: data, network, and the experiment axis.

``build`` checks everything that needs the data set (layer sizes, the loss against the task, the
batch size) before anything runs or is written, and lays out the experiment axis init-major: all
seeds of the first initializer, then the next; ``Plan.groups`` gives each initializer's slice.
``starting_values`` draws the starting weights of experiments [start, stop) and rescales those of
LSUV experiments on their training batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from initlab.engine import activations, fused, losses, memory, train
from initlab.engine.nn import Network
from initlab.errors import InitlabError, shown
from initlab.experiments import config, datasets
from initlab.inits import draw, lsuv
from initlab.inits.streams import check_seed


@dataclass(frozen=True)
class Experiment:
    """One slice of the experiment axis: an initializer label and a seed."""

    init: str
    seed: int


@dataclass
class Plan:
    """Everything a run needs, validated."""

    config: config.RunConfig
    dataset: datasets.Dataset
    net: Network
    inits: dict[str, draw.LayerInits]  # label → weight and bias laws, layer by layer
    experiments: list[Experiment]
    engine: str = "numpy"  # the training engine chosen (``choose_engine``)
    engine_note: str = ""  # why auto chose numpy, when it did

    @property
    def n_experiments(self) -> int:
        return len(self.experiments)

    @property
    def groups(self) -> dict[str, slice]:
        """{initializer label: its experiments' slice of the axis}, in the order given."""
        out: dict[str, slice] = {}
        for e, exp in enumerate(self.experiments):
            if exp.init not in out:
                out[exp.init] = slice(e, e + 1)
            elif out[exp.init].stop == e:
                out[exp.init] = slice(out[exp.init].start, e + 1)
            else:
                raise AssertionError("the experiment axis is not init-major")
        return out

    def part(self, start: int, stop: int) -> Plan:
        """The same plan restricted to experiments [start, stop)."""
        return replace(self, experiments=self.experiments[start:stop])


def _check_fits(cfg: config.RunConfig, net: Network, data: datasets.Dataset) -> None:
    """One-line errors for a network, loss or batch that the data set cannot take."""
    layers, acts = net.layers, net.activations
    if layers[0] != data.n_features:
        raise InitlabError(f"model.layers starts with {layers[0]} inputs but data set "
                           f"{data.name} has {data.n_features} features")
    if layers[-1] != data.n_outputs:
        raise InitlabError(f"model.layers ends with {layers[-1]} outputs but data set "
                           f"{data.name} has {data.n_outputs} target column(s) ({data.task})")
    net.loss.check_output(acts[-1], layers[-1])
    fitting = losses.fitting(data.task)
    if cfg.train.loss not in fitting:
        raise InitlabError(f"loss {cfg.train.loss} does not fit the {data.task} data set "
                           f"{data.name}; use {' or '.join(fitting)}")
    if cfg.train.batch_size is not None and cfg.train.batch_size > data.n_train:
        raise InitlabError(f"train.batch_size {cfg.train.batch_size} is larger than the "
                           f"{data.n_train} training samples")
    if any(a.name == "softmax" for a in acts[:-1]):
        raise InitlabError("softmax is allowed only as the output activation")


def log_points(cfg: config.RunConfig, n_train: int) -> int:
    """How many costs an experiment logs: every log_every iterations, and the final one."""
    total = cfg.train.epochs * train.iterations_per_epoch(n_train, cfg.train.batch_size)
    return -(-total // cfg.train.log_every) + 1


def build(cfg: config.RunConfig, *, seeds: Sequence[int] | None = None,
          inits: list[Any] | None = None, base_dir: Path | None = None) -> Plan:
    """Validate the config against its data set and lay out its experiment axis.

    ``seeds`` (a list or a range) defaults to ``[cfg.seed]``; ``inits`` (specs) defaults to
    ``[cfg.init.weights]``. Experiments are ordered init-major: all seeds of the first
    initializer, then the next. What the experiments would keep on the host until they are
    saved is checked against the memory budget before the axis is laid out.
    """
    data = datasets.make(cfg.dataset.name, cfg.dataset.params(), base_dir=base_dir)
    acts = tuple(activations.get(a) for a in cfg.model.activations)
    net = Network(tuple(cfg.model.layers), acts, losses.get(cfg.train.loss), cfg.model.bias)
    _check_fits(cfg, net, data)
    w_shapes = [w for w, _ in net.shapes()]
    chosen: dict[str, draw.LayerInits] = {}
    for spec in inits if inits is not None else [cfg.init.weights]:
        choice = draw.resolve_layers(spec, cfg.init.bias, w_shapes, net.bias)
        if choice.lsuv is not None:
            lsuv.check(net, choice.lsuv)
        if choice.label in chosen:
            raise InitlabError(f"initializer '{choice.label}' is listed twice")
        chosen[choice.label] = choice
    seed_list = seeds if seeds is not None else [cfg.seed]
    if not seed_list:
        raise InitlabError("at least one seed is needed")
    n_seeds = seed_list.stop - seed_list.start if isinstance(seed_list, range) else len(seed_list)
    n = len(chosen) * n_seeds
    memory.refuse_unless_fits(
        n * memory.host_bytes_per_experiment(net.depth, log_points(cfg, data.n_train)),
        memory.host_budget(), f"keeping the results of {n:,} experiment{'s' if n != 1 else ''}",
        "use fewer seeds or initializers, or log less often (train.log_every)")
    if not isinstance(seed_list, range) and len(set(seed_list)) != len(seed_list):
        raise InitlabError(f"seeds must be distinct, got {shown(list(seed_list))}")
    check_seed(seed_list[0] if isinstance(seed_list, range) else min(seed_list), cfg.rng)
    check_seed(seed_list[-1] if isinstance(seed_list, range) else max(seed_list), cfg.rng)
    experiments = [Experiment(label, s) for label in chosen for s in seed_list]
    engine, note = choose_engine(cfg, net, data.n_train)
    return Plan(cfg, data, net, chosen, experiments, engine, note)


def choose_engine(cfg: config.RunConfig, net: Network, m: int) -> tuple[str, str]:
    """(engine, why not fused): ``engine: fused`` where ``engine.fused`` supports the file
    (else one line saying why), ``numpy`` as asked, ``auto`` fused where supported."""
    why = fused.unsupported(net, cfg.train, m, cfg.device != "gpu")
    if cfg.engine == "numpy":
        return "numpy", ""
    if why is None:
        return "fused", ""
    if cfg.engine == "fused":
        raise InitlabError(f"engine fused: {why}; use engine: numpy (or auto)")
    return "numpy", f"the fused engine is not used: {why}"


def from_file(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
              n_seeds: int | None = None) -> Plan:
    """Load an experiment file with ``--set`` overrides, validate it and build its plan;
    ``n_seeds`` lays out seeds ``seed … seed + n_seeds − 1`` on the experiment axis."""
    cfg = config.load(path, overrides)
    seeds = range(cfg.seed, cfg.seed + n_seeds) if n_seeds else None
    return build(cfg, seeds=seeds, base_dir=Path(path).parent)


@dataclass
class StartingValues:
    """Starting parameters {'W1': (E, n_out, n_in), 'b1': (E, n_out), …} (host, float64) and,
    per experiment, its LSUV log (one ``lsuv.LayerLog`` per layer; None: not an LSUV init)."""

    weights: dict[str, np.ndarray]
    lsuv: list[list[lsuv.LayerLog] | None]


def starting_values(plan: Plan, start: int = 0, stop: int | None = None,
                    xp: Any = np) -> StartingValues:
    """The starting parameters of experiments [start, stop) (default: all): drawn by
    ``inits.draw.StartingWeights``, then, for an LSUV initializer, rescaled layer by layer on a
    batch of the training inputs of each experiment's seed (``inits.lsuv.rescale``, on ``xp``)."""
    net, chosen = plan.net, plan.experiments[start:stop]
    weights = draw.StartingWeights(
        [plan.inits[e.init] for e in chosen], [e.seed for e in chosen], plan.config.rng,
        [w for w, _ in net.shapes()], [a.name for a in net.activations]).all_layers()
    logs: list[list[lsuv.LayerLog] | None] = [None] * len(chosen)
    for label, init in plan.inits.items():
        rows = [i for i, e in enumerate(chosen) if e.init == label]
        if init.lsuv is None or not rows:
            continue
        found = lsuv.rescale(xp, net, weights, plan.dataset.X_train, rows,
                             [chosen[i].seed for i in rows], init.lsuv)
        for i, log in zip(rows, found, strict=True):
            logs[i] = log
    return StartingValues(weights, logs)


def initial_values(plan: Plan, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
    """``starting_values(plan, start, stop).weights``, on the host."""
    return starting_values(plan, start, stop).weights
