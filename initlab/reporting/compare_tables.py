"""What ``initlab compare`` prints: per-layer statistics side by side, median cost curves, the
summary over seeds and the verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from initlab.engine.stats import LayerStats
from initlab.reporting.format import curve_sparkline, fmt, pct, table
from initlab.reporting.run_tables import sat_or_dead

_GROUP = ("a std", "sat/dead", "∇W std", "distinct")
_GROUP_WIDTH = 34  # characters one initializer's column group needs


def _mean_ci(mean: float | None, half: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.3f}" if half is None else f"{mean:.3f}±{half:.3f}"


def _span(r: tuple[float, float] | None) -> str:
    return "—" if r is None else f"{r[0]:.2f}–{r[1]:.2f}"


def compare_table(console: Console, summaries: list[Any], best: int, success: float,
                  target: float, log_every: int) -> None:
    """One row per initializer: accuracy mean ± 95% CI half-width and range over seeds, success
    rate, median final cost, median iteration to the target cost, diverged seeds."""
    n = summaries[0].n_seeds
    t = table(f"Over {n} seed(s) per initializer")
    t.caption = (f"acc: mean ± 95% CI half-width (Student t) and min–max over seeds; "
                 f"success: share of seeds with train acc ≥ {success:g}; cost: median final "
                 f"cost; to <{target:g}: median first logged iteration with cost < {target:g} "
                 f"(logged every {log_every}; 'never' if half the seeds never get there); "
                 "best row in bold")
    t.caption_justify = "left"
    for name in ("init", "train acc", "min–max", "test acc", "success", "cost",
                 f"to <{target:g}", "diverged"):
        t.add_column(name, justify="left" if name == "init" else "right", no_wrap=True)
    for i, s in enumerate(summaries):
        to_target = ("never" if s.median_iterations_to_target is None
                     else f"{s.median_iterations_to_target:.0f}")
        t.add_row(escape(s.init), _mean_ci(s.train_accuracy_mean, s.train_accuracy_halfwidth),
                  _span(s.train_accuracy_range),
                  _mean_ci(s.test_accuracy_mean, s.test_accuracy_halfwidth),
                  "—" if s.success_rate is None else pct(s.success_rate),
                  fmt(s.median_final_cost, 3), to_target, str(s.diverged),
                  style="bold green" if i == best else None)
    console.print(t)


def _group_cells(mean: dict[str, np.ndarray], l: int, units: int) -> list[str]:
    return [fmt(mean["activation_std"][l]), sat_or_dead(mean, l), fmt(mean["grad_std"][l]),
            f"{mean['distinct_units'][l]:.3g}/{units}"]


def init_side_by_side(console: Console, layers: LayerStats, groups: dict[str, slice]) -> None:
    """Per-layer statistics at initialization, one column group per initializer (mean over its
    seeds): activation std, saturated or dead share, ∇W std, distinct units. A terminal too
    narrow for the groups gets one row per (initializer, layer) instead."""
    means = {init: layers.mean(rows) for init, rows in groups.items()}
    t = table("Per layer at initialization (mean over seeds)")
    t.caption = ("a std: activation std; sat/dead: saturated share (tanh/sigmoid/softmax) or "
                 "dead share (ReLU); distinct: units with different incoming weights")
    t.caption_justify = "left"
    side_by_side = console.width >= 14 + _GROUP_WIDTH * len(means)
    if not side_by_side:
        t.add_column("init", no_wrap=True)
    t.add_column("layer", no_wrap=True)
    for init in means if side_by_side else [None]:
        for k, name in enumerate(_GROUP):  # side by side: the init's name above its group
            head = name if init is None else f"{escape(init) if k == 0 else ''}\n{name}"
            t.add_column(head, justify="right", no_wrap=True)
    names = [f"{l + 1} {act}" for l, act in enumerate(layers.activations)]
    if side_by_side:
        for l, name in enumerate(names):
            cells = [name]
            for mean in means.values():
                cells += _group_cells(mean, l, layers.units[l])
            t.add_row(*[escape(c) for c in cells])
    else:
        for init, mean in means.items():
            for l, name in enumerate(names):
                cells = [init if l == 0 else "", name, *_group_cells(mean, l, layers.units[l])]
                t.add_row(*[escape(c) for c in cells], end_section=l == layers.depth - 1)
    console.print(t)


def curve_lines(console: Console, curves: dict[str, np.ndarray], iterations: list[int]) -> None:
    """Median cost curve per initializer: sparkline (scaled to its own range), start → end."""
    t = table(f"Median cost over seeds, iterations 0–{iterations[-1]} "
              "(each line scaled to its own range)")
    for name in ("init", "curve", "start", "end"):
        t.add_column(name, justify="right" if name in ("start", "end") else "left",
                     no_wrap=True)
    for init, curve in curves.items():
        t.add_row(escape(init), curve_sparkline(curve), fmt(curve[0], 4), fmt(curve[-1], 4))
    console.print(t)


def render(console: Console, found: Any) -> None:
    """A ``commands.compare.CompareResult``: the initial layers side by side, the median cost
    curves, the summary over seeds and the verdict."""
    result = found.run
    init_side_by_side(console, result.layers_init, result.plan.groups)
    curve_lines(console, found.curves, result.history.log_iterations)
    compare_table(console, found.summaries, found.best, found.success, found.target_cost,
                  result.plan.config.train.log_every)
    console.print(f"verdict: {found.verdict}", markup=False)
