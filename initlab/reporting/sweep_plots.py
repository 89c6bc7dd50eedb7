"""A sweep's pictures, from its ``sweep.json`` record (PNG and SVG, headless matplotlib):

- one grid key: the metric against the key, one line per initializer with its 95% interval as a
  band (``sweep_lines``); a key whose values are positive and span a factor ≥ 10 (widths,
  learning rates) on a log axis;
- more keys: one heatmap per initializer (``sweep_heatmap_<k>``), a column per value of the last
  key and a row per combination of the others, each cell written out, the colour scale shared.

A probe sweep's value is the activation std of the last layer over the first's, on a log scale."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from initlab.reporting import plots
from initlab.reporting.sweep_tables import RUN_CELLS


def _values(record: dict[str, Any]) -> tuple[str, dict[str, dict[int, tuple[float, ...]]]]:
    """(what the value is, {init: {point index: (value, low, high)}}), NaN where missing."""
    kind, metric = record["kind"], record["metric"]
    if kind == "probe":
        what, key, ci = "activation std, last / first layer", "forward_ratio", None
    else:
        key = RUN_CELLS[metric][0]
        ci = key.replace("_mean", "_ci95") if key.endswith("_mean") else None
        what = metric.replace("_", " ") + ("" if ci else " (median)")
    out: dict[str, dict[int, tuple[float, ...]]] = {}
    for p in record["points"]:
        for s in p["summary"] if p["status"] == "completed" else []:
            v = s.get(key)
            band = s.get(ci) if ci else None
            v = math.nan if v is None else float(v)
            lo, hi = (band if band else (math.nan, math.nan))
            out.setdefault(s["init"], {})[p["index"]] = (v, float(lo), float(hi))
    return what, out


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def draw(folder: Path, record: dict[str, Any]) -> list[Path]:
    """The sweep's pictures into ``folder``; their PNG paths."""
    plots._require()
    what, by_init = _values(record)
    keys = list(record["grid"])
    if not by_init:
        return []
    if len(keys) == 1:
        return [_lines(folder, record, keys[0], what, by_init)]
    every = np.array([v[0] for cells in by_init.values() for v in cells.values()])
    every = every[np.isfinite(every) & (every > 0 if record["kind"] == "probe" else True)]
    if record["kind"] == "probe":
        every = np.log10(every)
    scale = (float(every.min()), float(every.max())) if every.size else (0.0, 1.0)
    return [_heatmap(folder, record, keys, what, init, cells, k, scale)
            for k, (init, cells) in enumerate(by_init.items())]


def _lines(folder: Path, record: dict[str, Any], key: str, what: str,
           by_init: dict[str, dict[int, tuple[float, ...]]]) -> Path:
    xs = record["grid"][key]
    numeric = _numeric(xs)
    fig = plots._new_figure(7.0, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    position = (np.asarray(xs, dtype=float) if numeric else np.arange(len(xs)))
    for i, (init, cells) in enumerate(by_init.items()):
        rows = np.array([cells.get(p["index"], (math.nan,) * 3) for p in record["points"]])
        ax.plot(position, rows[:, 0], color=plots._colour(i), label=init, **plots._marker(i))
        if np.isfinite(rows[:, 1:]).any():
            ax.fill_between(position, rows[:, 1], rows[:, 2], color=plots._colour(i), alpha=0.2,
                            linewidth=0)
    if numeric and min(xs) > 0 and max(xs) / min(xs) >= 10:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(position, [str(x) for x in xs])
    if record["kind"] == "probe":
        ax.set_yscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(what)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    plots._suptitle(fig, f"Sweep {record['name']}: {what} against {key}"
                    + ("; bands: 95% interval over seeds" if record["kind"] == "run" else ""))
    return plots._save(fig, folder, "sweep_lines")


def _heatmap(folder: Path, record: dict[str, Any], keys: list[str], what: str, init: str,
             cells: dict[int, tuple[float, ...]], k: int, scale: tuple[float, float]) -> Path:
    last, rest = keys[-1], keys[:-1]
    columns = record["grid"][last]
    rows = list(itertools.product(*[record["grid"][r] for r in rest]))
    grid = np.full((len(rows), len(columns)), np.nan)
    for p in record["points"]:
        r = rows.index(tuple(p["values"][key] for key in rest))
        c = columns.index(p["values"][last])
        grid[r, c] = cells.get(p["index"], (math.nan,))[0]
    shown = np.log10(grid) if record["kind"] == "probe" else grid
    fig = plots._new_figure(1.2 * len(columns) + 3.0, 0.5 * len(rows) + 2.2)
    ax = fig.add_subplot(1, 1, 1)
    low, high = scale
    image = ax.imshow(shown, aspect="auto", cmap="viridis", vmin=low,
                      vmax=high if high > low else low + 1)
    for (r, c), v in np.ndenumerate(grid):
        light = math.isfinite(shown[r, c]) and (shown[r, c] - low) > 0.6 * (high - low)
        ax.text(c, r, "—" if not math.isfinite(v) else f"{v:.3g}", ha="center", va="center",
                fontsize=8, color="black" if light else "white")
    ax.set_xticks(range(len(columns)), [str(v) for v in columns])
    ax.set_yticks(range(len(rows)), [", ".join(str(v) for v in row) for row in rows])
    ax.set_xlabel(last)
    ax.set_ylabel(", ".join(rest))
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(("log10 " if record["kind"] == "probe" else "") + what)
    plots._suptitle(fig, f"Sweep {record['name']}, {init}: {what}")
    return plots._save(fig, folder, f"sweep_heatmap_{k}")
