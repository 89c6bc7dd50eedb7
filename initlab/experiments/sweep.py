"""A sweep file: a base experiment (a run or a probe file) and a grid over any of its keys.

    base: digits_tanh            # a path (relative to the sweep file) or a shipped name
    grid:
      model.depth: [2, 4, 8]     # any dotted key of the base; depth/width: uniform hidden stacks
      train.lr: [0.01, 0.1]
    inits: [xavier_normal, he]   # on the batched experiment axis inside every point
    seeds: 5                     # N (seeds seed … seed+N−1) or a list
    metric: train_accuracy       # run bases: what the summary table shows

The points are the grid's Cartesian product, the first key varying slowest. A point is the base
with ``--set``-style overrides (``key=<value as JSON>``), so a point's folder is exactly what
``initlab compare BASE --set …`` (or ``initlab probe BASE --set …``) writes, and every point is
validated, with its memory, before the sweep starts.

``model.depth`` and ``model.width`` (run bases) rewrite ``model.layers`` as [n_in, width × depth,
n_out] and ``model.activations`` as the base's first hidden activation × depth, then its output
activation: ``depth`` counts hidden layers. A probe base takes its own ``depth``, ``width``,
``activation``, ``batch``, … keys directly.
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


class SweepFile(config._Section):
    """The sweep file's keys (see the module docstring)."""

    name: str = Field(default="sweep", pattern=config.NAME_PATTERN, max_length=100)
    base: str
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(min_length=1)
    inits: list[config.InitSpec] | None = Field(default=None, min_length=1)
    seeds: integer(ge=1) | list[integer(ge=0)] | None = None
    metric: str = "train_accuracy"

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
    if kind == "probe":
        bad = [k for k in keys if k in STACK_KEYS]
        if bad:
            raise InitlabError(f"{path}: grid key {bad[0]} is for experiment files; a probe "
                               f"base sweeps its own keys: depth, width, activation, …")
    points = [Point(i, dict(zip(keys, combo, strict=True)))
              for i, combo in enumerate(itertools.product(*cfg.grid.values()))]
    return Sweep(cfg, path, base, kind, points)


def _base_path(sweep_path: Path, base: str) -> Path:
    """The base file: relative to the sweep file's folder, else a shipped name."""
    near = sweep_path.parent / base
    return near if near.exists() else config.locate(base)


def overrides(sweep: Sweep, point: Point) -> list[str]:
    """The point as ``--set`` assignments on the base (values written as JSON, which YAML
    reads back exactly); depth and width of a run base become model.layers/activations."""
    values = dict(point.values)
    out = []
    if sweep.kind == "run" and any(k in values for k in STACK_KEYS):
        base = config.load(sweep.base, [f"{k}={_json(v)}" for k, v in values.items()
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
