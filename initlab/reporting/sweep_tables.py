"""What ``initlab sweep`` prints: the grid, and one summary table — a row per grid point, a column
per initializer, the metric's mean ± 95% half-width in each cell and the best of the row in bold;
pivoted to one row per point × initializer when that does not fit the console."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.text import Text

from initlab.reporting.fit import fits
from initlab.reporting.format import fmt, table

# metric → (summary key of the value, key of its half-width, +1 larger is better / −1 smaller)
RUN_CELLS = {"train_accuracy": ("train_accuracy_mean", "train_accuracy_halfwidth", 1),
             "test_accuracy": ("test_accuracy_mean", "test_accuracy_halfwidth", 1),
             "final_cost": ("median_final_cost", None, -1),
             "iterations_to_target": ("median_iterations_to_target", None, -1)}


def grid_line(plan: Any) -> str:
    """'12 points (model.depth × train.lr: 6 × 2), 4 inits × 5 seeds = 240 models, ~3.1 MiB
    per point at most, on cpu (NumPy 2.4.6)'."""
    from initlab.engine.memory import human_bytes  # noqa: PLC0415

    grid = plan.sweep.file.grid
    shape = " × ".join(str(len(v)) for v in grid.values())
    peak = max(p.bytes for p in plan.points)
    return (f"{len(plan.points)} point(s) ({' × '.join(grid)}: {shape}), {plan.experiments:,} "
            f"models, ~{human_bytes(peak)} per point at most, on {plan.device}")


def _value(record: dict[str, Any], kind: str, metric: str) -> tuple[float | None, str]:
    """(the value ranked, its text) of one init's summary at a point."""
    if kind == "probe":
        v = record.get("forward_ratio")
        return (None if v is None or not math.isfinite(v) or v <= 0 else -abs(math.log(v)),
                "—" if v is None else fmt(v))
    key, half, _ = RUN_CELLS[metric]
    v = record.get(key)
    if v is None or not math.isfinite(v):
        return None, "—"
    h = record.get(half) if half else None
    text = f"{v:.3f}" if metric.endswith("accuracy") else fmt(v)
    return v * RUN_CELLS[metric][2], text + (f"±{h:.3f}" if h is not None else "")


def _cells(point: dict[str, Any], inits: list[str], kind: str,
           metric: str) -> list[Text]:
    if point["status"] != "completed" or not point["summary"]:
        return [Text(point["status"])] * len(inits)
    by_init = {s["init"]: _value(s, kind, metric) for s in point["summary"]}
    ranked = [v for v, _ in by_init.values() if v is not None]
    best = max(ranked) if ranked else None
    return [Text(by_init[i][1], style="bold" if by_init[i][0] == best and best is not None
                 else "") if i in by_init else Text("—") for i in inits]


PHASE_CELLS = [("depth_q", "depth_q"), ("ξ_q", "xi_q"), ("depth_c", "depth_c"),
               ("ξ_c fit", "measured_xi_c"), ("ξ_c", "xi_c"), ("χ₁", "chi1"),
               ("c*", "c_star")]  # (heading, summary key or theory key)
MEASURED = ("depth_q", "depth_c", "measured_xi_c")  # … the ones the probe measured


def is_phase(record: dict[str, Any]) -> bool:
    """A probe grid over sigma_w2: one law per point, so a phase table, not init columns."""
    return record["kind"] == "probe" and "sigma_w2" in record["grid"]


def phase_table(console: Console, record: dict[str, Any]) -> None:
    """A row per point: the grid values, the measured depths at which the signal's std
    (depth_q) and two inputs' correlation (depth_c) settle and the correlation's fitted decay
    length, beside theory's ξ_q, ξ_c, χ₁, c*."""
    keys = list(record["grid"])
    out = table(f"Sweep {record['name']}: measured settling depths beside mean-field theory "
                f"(depths: — not settled within the stack; ξ: ∞ or — no decay within it)")
    for key in keys:
        out.add_column(key, no_wrap=True)
    for heading, _ in PHASE_CELLS:
        out.add_column(heading, justify="right")
    for p in record["points"]:
        row = [_short(p["values"][k]) for k in keys]
        if p["status"] != "completed" or not p["summary"]:
            out.add_row(*row, *[p["status"]] * len(PHASE_CELLS))
            continue
        s = p["summary"][0]
        theory = s.get("phase") or {}
        cells = [s.get(key) if key in MEASURED else theory.get(key)
                 for _, key in PHASE_CELLS]
        out.add_row(*row, *[_phase_cell(v, key) for v, (_, key) in zip(cells, PHASE_CELLS,
                                                                         strict=True)])
    console.print(out)


def _phase_cell(value: Any, key: str) -> str:
    if value is None:  # sweep.json keeps inf as null: a depth scale that does not decay
        return "—" if key in MEASURED else "∞"
    return str(value) if isinstance(value, int) else fmt(value)


def summary_table(console: Console, record: dict[str, Any]) -> None:
    """The sweep's results (``sweep.json``'s record), wide or pivoted to fit the console; a
    phase grid as ``phase_table``."""
    if is_phase(record):
        phase_table(console, record)
        return
    kind, metric, keys = record["kind"], record["metric"], list(record["grid"])
    inits = list(dict.fromkeys(s["init"] for p in record["points"] for s in p["summary"]))
    what = "activation std last/first layer (best: nearest 1)" if kind == "probe" else (
        f"{metric.replace('_', ' ')} (mean ± 95% half-width)" if RUN_CELLS[metric][1]
        else metric.replace("_", " ") + " (median)")
    title = f"Sweep {record['name']}: {what}; best of each point in bold"
    wide = table(title)
    for key in keys:
        wide.add_column(key, no_wrap=True)
    for init in inits:
        wide.add_column(init, justify="right")
    for p in record["points"]:
        wide.add_row(*[_short(p["values"][k]) for k in keys],
                     *_cells(p, inits, kind, metric))
    if not inits or fits(console, wide):
        console.print(wide)
        return
    long = table(title)
    for key in keys:
        long.add_column(key, no_wrap=True)
    long.add_column("init")
    long.add_column("value", justify="right")
    for p in record["points"]:
        for init, cell in zip(inits, _cells(p, inits, kind, metric), strict=True):
            long.add_row(*[_short(p["values"][k]) for k in keys], init, cell)
    console.print(long)


def _short(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def failed_lines(console: Console, record: dict[str, Any]) -> None:
    """One line per point that did not complete: its grid values and error."""
    for p in record["points"]:
        if p["status"] != "completed":
            values = ", ".join(f"{k}={v}" for k, v in p["values"].items())
            console.print(f"point {p['index']} ({values}): {p['status']}"
                          f"{': ' + p['error'] if p.get('error') else ''}", markup=False)



