"""A sweep's pictures, from its ``sweep.json`` record (PNG and SVG, headless matplotlib):

- one grid key: the metric against the key, one line per initializer with its 95% interval as a
  band (``sweep_lines``); a key whose values are positive and span a factor ≥ 10 (widths,
  learning rates) on a log axis;
- more keys: one heatmap per initializer (``sweep_heatmap_<k>``), a column per value of the last
  key and a row per combination of the others, each cell written out, the colour scale shared.

A probe sweep's value is the activation std of the last layer over the first's, on a log scale.

- a probe grid over exactly sigma_w2 and sigma_b2: the phase diagram (``sweep_phase``), the
  decay length of two inputs' correlation fitted to the measured layers beside theory's ξ_c
  over (σ_w², σ_b²), the edge of chaos χ₁ = 1 drawn over both;
- a grid over width alone (``width`` of a probe, ``model.width`` of a run): the coordinate check
  (``sweep_coord``), each layer's activation std against width, log-log, at init (and, for a
  run, after its training steps), one panel per initializer and moment, read from the points'
  folders."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from initlab.reporting import plots
from initlab.reporting.sweep_tables import RUN_CELLS, is_phase

WIDTH_KEYS = ("width", "model.width")  # a grid over one of these alone: the coordinate check


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
    extra = []
    if is_phase(record) and set(keys) == {"sigma_w2", "sigma_b2"}:
        return [_phase(folder, record)]
    if len(keys) == 1 and keys[0] in WIDTH_KEYS:
        extra = [_coord(folder, record, keys[0])]
    if len(keys) == 1:
        return [_lines(folder, record, keys[0], what, by_init), *extra]
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


def _edges(values: list[float]) -> np.ndarray:
    """Cell edges around sorted grid values (midpoints; the ends mirrored)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _phase(folder: Path, record: dict[str, Any]) -> Path:
    """The correlation's decay length over (σ_w², σ_b²): fitted to the measured layers beside
    theory's ξ_c, one log colour scale, the edge of chaos χ₁ = 1 over both."""
    sw, sb = sorted(record["grid"]["sigma_w2"]), sorted(record["grid"]["sigma_b2"])
    measured, theory = np.full((len(sb), len(sw)), np.nan), np.full((len(sb), len(sw)), np.nan)
    for p in record["points"]:
        if p["status"] != "completed" or not p["summary"]:
            continue
        r, c = sb.index(p["values"]["sigma_b2"]), sw.index(p["values"]["sigma_w2"])
        s = p["summary"][0]
        xi = (s.get("phase") or {}).get("xi_c")
        fit = s.get("measured_xi_c")
        measured[r, c] = math.nan if fit is None else fit
        theory[r, c] = math.inf if xi is None else xi
    fitted = measured[np.isfinite(measured) & (measured > 0)]
    every = np.concatenate([fitted, theory[np.isfinite(theory) & (theory > 0)]])
    low = float(every.min()) if every.size else 0.1
    # the top: twice the longest fitted ξ (a stack cannot show much longer ones); theory's
    # longer ξ_c near the edge, and ∞ on it, are drawn at the top
    high = 2 * float(fitted.max()) if fitted.size else float(every.max()) if every.size else 10
    high = max(high, low * 10)
    fig = plots._new_figure(11.5, 4.6)
    x, y = _edges(sw), _edges(sb)
    edge = np.array((record.get("theory") or {}).get("edge_of_chaos") or [], dtype=float)
    panels = [("measured: ξ of c_l ≈ c∞ + A·e^(−l/ξ), fitted", measured,
               "grey: no decay within the stack"),
              ("theory: ξ_c = −1/ln χ_c (mean field)", np.minimum(theory, high),
               "longer ones and ∞ at the top")]
    from matplotlib.colors import LogNorm  # noqa: PLC0415

    for k, (title, values, note) in enumerate(panels):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.pcolormesh(x, y, np.where(np.isnan(values), 1.0, np.nan), cmap="Greys", vmin=0,
                      vmax=4, shading="flat")
        mesh = ax.pcolormesh(x, y, values, cmap="viridis", norm=LogNorm(low, high),
                             shading="flat")
        if edge.size:
            ax.plot(edge[:, 1], edge[:, 0], color="white", linestyle="--", linewidth=2,
                    label="χ₁ = 1 (edge of chaos)")
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(y[0], y[-1])
        ax.set_xlabel("σ_w²")
        ax.set_ylabel("σ_b²")
        ax.set_title(title, fontsize=9)
        fig.colorbar(mesh, ax=ax).set_label(f"ξ_c (layers); {note}", fontsize=8)
    activation = (record.get("theory") or {}).get("activation", "")
    plots._suptitle(fig, f"Sweep {record['name']}: how deep two inputs' correlation travels in "
                         f"{activation} at initialization; ordered left of the line, chaotic "
                         f"right")
    return plots._save(fig, folder, "sweep_phase")


def _layer_stds(path: Path, kind: str) -> dict[tuple[str, str], list[float]]:
    """{(init, moment): activation std per layer, mean over seeds} of one point's folder."""
    if kind == "probe":
        rows = json.loads((path / "probe.json").read_text(encoding="utf-8"))["layers"]
        out: dict[tuple[str, str], list[float]] = {}
        for row in rows:
            out.setdefault((row["init"], "init"), []).append(row["activation_std"])
        return out
    sums: dict[tuple[str, str], list[list[float]]] = {}
    for exp in json.loads((path / "metrics.json").read_text(encoding="utf-8"))["experiments"]:
        for moment in ("init", "final"):
            stds = [math.nan if r["activation_std"] is None else r["activation_std"]
                    for r in exp[f"layers_{moment}"]]
            sums.setdefault((exp["init"], moment), []).append(stds)
    return {k: list(np.nanmean(np.array(v, dtype=float), axis=0)) for k, v in sums.items()}


def _coord(folder: Path, record: dict[str, Any], key: str) -> Path:
    """μP's coordinate check: per layer, activation std against width, log-log."""
    widths = record["grid"][key]
    by_point = {p["index"]: _layer_stds(folder / p["folder"], record["kind"])
                for p in record["points"] if p["status"] == "completed"}
    panels = sorted({k for stds in by_point.values() for k in stds},
                    key=lambda k: (k[0], k[1] != "init"))
    inits = list(dict.fromkeys(k[0] for k in panels))
    moments = list(dict.fromkeys(k[1] for k in panels))
    fig = plots._new_figure(4.2 * len(moments), 3.4 * len(inits))
    for (init, moment) in panels:
        ax = fig.add_subplot(len(inits), len(moments),
                             inits.index(init) * len(moments) + moments.index(moment) + 1)
        depth = max(len(s.get((init, moment), [])) for s in by_point.values())
        for layer in range(depth):
            ys = [by_point.get(p["index"], {}).get((init, moment), [])
                  for p in record["points"]]
            ys = [s[layer] if layer < len(s) else math.nan for s in ys]
            ax.plot(widths, ys, color=plots._colour(layer), marker="o", markersize=3,
                    label=f"layer {layer + 1}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set_xlabel(key)
        ax.set_ylabel("activation std")
        when = "at init" if moment == "init" else "after training"
        ax.set_title(f"{init}, {when}", fontsize=9)
        ax.grid(alpha=0.3)
        if depth <= 12:
            ax.legend(fontsize=7)
    plots._suptitle(fig, f"Sweep {record['name']}: coordinate check, activation std per layer "
                         f"against width (flat lines: width-independent)")
    return plots._save(fig, folder, "sweep_coord")
