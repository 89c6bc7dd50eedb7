"""A sweep file: a base experiment (a run or a probe file) and a grid over any of its keys.

    base: digits_tanh            # a path (relative to the sweep file) or a shipped name
    grid:
      model.depth: [2, 4, 8]     # any dotted key of the base; depth/width: uniform hidden stacks
      train.lr: [0.01, 0.1]
      sigma_w2: {linspace: [0.5, 4, 30]}   # or {geomspace: [a, b, n]}: n values, ends included
    inits: [xavier_normal, he]   # on the batched experiment axis inside every point
    seeds: 5                     # N (seeds seed … seed+N−1) or a list
    metric: train_accuracy       # run bases: what the summary table shows
    set: {train.epochs: 200}     # overrides every point shares (not grid keys)

The points are the grid's Cartesian product, the first key varying slowest. A point is the base
with ``--set``-style overrides (``key=<value as JSON>``), so a point's folder is exactly what
``initlab compare BASE --set …`` (or ``initlab probe BASE --set …``) writes, and every point is
validated, with its memory, before the sweep starts.

``model.depth`` and ``model.width`` (run bases) rewrite ``model.layers`` as [n_in, width × depth,
n_out] and ``model.activations`` as the base's first hidden activation × depth, then its output
activation: ``depth`` counts hidden layers. A probe base takes its own ``depth``, ``width``,
``activation``, ``batch``, … keys directly, and the phase-diagram keys ``sigma_w2`` (σ_w²: every
layer's weights N(0, σ_w²/fan_in), replacing the inits) and ``sigma_b2`` (σ_b²: biases
N(0, σ_b²), zeros at 0), the parametrisation of Poole et al. 2016 and Schoenholz et al. 2017.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator

from initlab.errors import InitlabError, shown
from initlab.experiments import config
from initlab.params import integer

MAX_POINTS = 100_000  # a grid larger than this is refused (sweep.json keeps one entry each)
STACK_KEYS = ("model.depth", "model.width")  # convenience keys of a run base
PHASE_KEYS = ("sigma_w2", "sigma_b2")  # convenience keys of a probe base (the phase diagram)


class SweepFile(config._Section):
    """The sweep file's keys (see the module docstring)."""

    name: str = Field(default="sweep", pattern=config.NAME_PATTERN, max_length=100)
    base: str
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(min_length=1)
    inits: list[config.InitSpec] | None = Field(default=None, min_length=1)
    seeds: integer(ge=1) | list[integer(ge=0)] | None = None
    metric: str = "train_accuracy"
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")

    @field_validator("grid", mode="before")
    @classmethod
    def _ranges(cls, grid: Any) -> Any:
        if not isinstance(grid, dict):
            return grid
        return {k: spaced(k, v) if isinstance(v, dict) else v for k, v in grid.items()}

    @field_validator("grid")
    @classmethod
    def _grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"grid key {key!r} must be a dotted key such as train.lr")
            texts = [json.dumps(v, sort_keys=True) for v in values]
            if len(set(texts)) != len(texts):
                raise ValueError(f"grid key {key!r} lists a value twice")
        size = math.prod(len(v) for v in grid.values())
        if size > MAX_POINTS:
            raise ValueError(f"the grid has {size:,} points; at most {MAX_POINTS:,}")
        return grid


SPACINGS = ("linspace", "geomspace")


def spaced(key: str, spec: dict[str, Any]) -> list[float]:
    """``{linspace: [a, b, n]}`` → n evenly spaced values from a to b (numpy.linspace);
    ``{geomspace: [a, b, n]}`` → n values in geometric progression (numpy.geomspace, a, b > 0);
    each rounded to 12 significant digits, so that labels read 0.1, not 0.10000000000000002."""
    import numpy as np  # noqa: PLC0415

    how = next(iter(spec), None)
    args = spec.get(how) if len(spec) == 1 else None
    ok = (how in SPACINGS and isinstance(args, list) and len(args) == 3
          and all(isinstance(x, int | float) and not isinstance(x, bool) for x in args)
          and isinstance(args[2], int) and args[2] >= 1 and all(map(math.isfinite, args[:2])))
    if ok and how == "geomspace" and min(args[:2]) <= 0:
        ok = False
    if not ok:
        raise ValueError(f"grid key {key!r}: a range is {{linspace: [from, to, count]}} or "
                         f"{{geomspace: [from, to, count]}} (from, to > 0), got {shown(spec)}")
    values = getattr(np, how)(args[0], args[1], args[2])
    return [float(f"{v:.12g}") for v in values]


@dataclass(frozen=True)
class Point:
    """One grid point: its index (grid order) and {key: value}."""

    index: int
    values: dict[str, Any]

    @property
    def folder(self) -> str:
        """Its folder inside the sweep folder: 'points/p0007'."""
        return f"points/p{self.index:04d}"

    def label(self) -> str:
        """'model.depth=4, train.lr=0.1'."""
        return ", ".join(f"{k}={_text(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file: its settings, the base file and its kind ('run' or 'probe'), and
    the points."""

    file: SweepFile
    source: Path
    base: Path
    kind: str
    points: list[Point]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def kind_of(data: dict[str, Any]) -> str:
    """'run' for an experiment file (it has a ``model`` section), else 'probe'."""
    return "run" if "model" in data else "probe"


def load(path: str | Path) -> Sweep:
    """Read and validate a sweep file and lay out its points (one-line errors)."""
    path = config.locate(path)
    data = config.read(path)
    cfg = config.validate(data, str(path), SweepFile)
    base = _base_path(path, cfg.base)
    base_data = config.read(base)
    kind = kind_of(base_data)
    keys = list(cfg.grid)
    _check_keys(path, cfg, kind)
    points = [Point(i, dict(zip(keys, combo, strict=True)))
              for i, combo in enumerate(itertools.product(*cfg.grid.values()))]
    return Sweep(cfg, path, base, kind, points)


def _check_keys(path: Path, cfg: SweepFile, kind: str) -> None:
    """The grid's and ``set``'s keys fit the base's kind and each other (one-line errors)."""
    keys = list(cfg.grid)
    both = [k for k in keys if k in cfg.fixed]
    if both:
        raise InitlabError(f"{path}: {both[0]} is both a grid key and in set; give it once")
    wrong, other = (STACK_KEYS, "experiment") if kind == "probe" else (PHASE_KEYS, "probe")
    bad = [k for k in [*keys, *cfg.fixed] if k in wrong]
    if bad:
        own = ("depth, width, activation, sigma_w2, sigma_b2, …" if kind == "probe"
               else "model.depth, model.width, train.lr, …")
        raise InitlabError(f"{path}: {bad[0]} is a key of {other} files; a {kind} base sweeps "
                           f"{own}")
    if kind != "probe":
        return
    if "sigma_w2" in keys and (cfg.inits or "inits" in cfg.fixed or "inits" in keys):
        raise InitlabError(f"{path}: grid key sigma_w2 sets every point's weights to "
                           f"N(0, σ_w²/fan_in); drop inits (sweep inits, or sigma_w2)")
    if "sigma_b2" in keys and ("bias" in cfg.fixed or "bias" in keys):
        raise InitlabError(f"{path}: grid key sigma_b2 sets every point's biases to "
                           f"N(0, σ_b²); drop bias (sweep bias, or sigma_b2)")
    for key, low in (("sigma_w2", "> 0"), ("sigma_b2", ">= 0")):
        for v in cfg.grid.get(key, ()):
            number = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not number or v < 0 or (v == 0 and key == "sigma_w2"):
                raise InitlabError(f"{path}: grid key {key} takes numbers {low}, got {shown(v)}")


def weight_law(sigma_w2: float) -> str:
    """σ_w² as a law: N(0, σ_w²/fan_in), untruncated."""
    return f"variance_scaling(scale={float(sigma_w2)!r}, mode=fan_in, distribution=normal)"


def bias_law(sigma_b2: float) -> str:
    """σ_b² as a bias law: N(0, σ_b²), or zeros at 0."""
    return "zeros" if sigma_b2 == 0 else f"normal(std={math.sqrt(sigma_b2)!r})"


def _base_path(sweep_path: Path, base: str) -> Path:
    """The base file: relative to the sweep file's folder, else a shipped name."""
    near = sweep_path.parent / base
    return near if near.exists() else config.locate(base)


def overrides(sweep: Sweep, point: Point) -> list[str]:
    """The point as ``--set`` assignments on the base (values written as JSON, which YAML
    reads back exactly), after the file's ``set``; depth and width of a run base become
    model.layers/activations, sigma_w2 and sigma_b2 of a probe base its inits and bias."""
    values = dict(point.values)
    out = [f"{k}={_json(v)}" for k, v in sweep.file.fixed.items()]
    if sweep.kind == "probe":
        if "sigma_w2" in values:
            out.append(f"inits={_json([weight_law(values.pop('sigma_w2'))])}")
        if "sigma_b2" in values:
            out.append(f"bias={_json(bias_law(values.pop('sigma_b2')))}")
    if sweep.kind == "run" and any(k in values for k in STACK_KEYS):
        base = config.load(sweep.base, [a for a in out if a.startswith("model.")]
                           + [f"{k}={_json(v)}" for k, v in values.items()
                              if k not in STACK_KEYS and k.startswith("model.")])
        layers, acts = base.model.layers, base.model.activations
        depth = values.pop("model.depth", len(layers) - 2)
        width = values.pop("model.width", layers[1] if len(layers) > 2 else None)
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
            raise InitlabError(f"{sweep.source}: model.depth must be a whole number >= 0, got "
                               f"{shown(depth)}")
        if depth > 0 and (not isinstance(width, int) or isinstance(width, bool) or width < 1):
            raise InitlabError(f"{sweep.source}: model.width must be a whole number >= 1, got "
                               f"{shown(width)}")
        hidden = acts[0] if len(acts) > 1 else "relu"
        out += [f"model.layers={_json([layers[0], *[width] * depth, layers[-1]])}",
                f"model.activations={_json([hidden] * depth + [acts[-1]])}"]
    out += [f"{k}={_json(v)}" for k, v in values.items()]
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def seeds(sweep: Sweep) -> tuple[int | None, list[int] | None]:
    """(--seeds N, --seed-list) of every point, from the file's ``seeds``."""
    s = sweep.file.seeds
    return (s, None) if isinstance(s, int) or s is None else (None, list(s))
