"""What ``initlab compare`` prints: per-layer statistics side by side, median cost curves, the
summary over seeds and the verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from initlab.engine.stats import LayerStats
from initlab.reporting.fit import Col, break_labels, column_table, fit_tables, fits, print_all
from initlab.reporting.format import curve_sparkline, fmt, pct, table
from initlab.reporting.run_tables import layer_names, layer_names_broken, sat_or_dead

_GROUP = ("a std", "sat/dead", "∇W std", "distinct")
_GROUP_WIDTH = 34  # characters one initializer's column group needs
CURVE_WIDTH = 40  # characters of a cost curve's sparkline when the console has room
MIN_CURVE_WIDTH = 12  # narrowest sparkline drawn to make room


def _mean_ci(mean: float | None, half: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.3f}" if half is None else f"{mean:.3f}±{half:.3f}"


def _span(r: tuple[float, float] | None) -> str:
    return "—" if r is None else f"{r[0]:.2f}–{r[1]:.2f}"


def _with_span(text: str, r: tuple[float, float] | None) -> str:
    """The accuracy above its min–max (alone when there is no range)."""
    return text if r is None else f"{text}\n{_span(r)}"


def _mean_ci_lines(mean: float | None, half: float | None) -> str:
    """Mean above '±half-width'."""
    return _mean_ci(mean, half).replace("±", "\n±")


def compare_table(console: Console, summaries: list[Any], best: int, success: float,
                  target: float, log_every: int) -> None:
    """One row per initializer: accuracy mean ± 95% CI half-width and range over seeds, success
    rate, median final cost, median iteration to the target cost, diverged seeds. A console too
    narrow for one line per row gets the range below the train accuracy (then the half-widths
    below the means), long init labels broken after '(' or ',', then the columns in two tables
    one above the other."""
    n = summaries[0].n_seeds
    title = f"Over {n} seed(s) per initializer"
    caption = (f"acc: mean ± 95% CI half-width (Student t) and min–max over seeds; "
               f"success: share of seeds with train acc ≥ {success:g}; cost: median final "
               f"cost; to <{target:g}: median first logged iteration with cost < {target:g} "
               f"(logged every {log_every}; 'never' if half the seeds never get there); "
               "best row in bold")
    t = table(title)
    t.caption = caption
    t.caption_justify = "left"
    for name in ("init", "train acc", "min–max", "test acc", "success", "cost",
                 f"to <{target:g}", "diverged"):
        t.add_column(name, justify="left" if name == "init" else "right", no_wrap=True)
    styles = ["bold green" if i == best else None for i in range(len(summaries))]
    rest = []
    for s, style in zip(summaries, styles, strict=True):
        to_target = ("never" if s.median_iterations_to_target is None
                     else f"{s.median_iterations_to_target:.0f}")
        cells = ["—" if s.success_rate is None else pct(s.success_rate),
                 fmt(s.median_final_cost, 3), to_target, str(s.diverged)]
        rest.append(cells)
        t.add_row(escape(s.init), _mean_ci(s.train_accuracy_mean, s.train_accuracy_halfwidth),
                  _span(s.train_accuracy_range),
                  _mean_ci(s.test_accuracy_mean, s.test_accuracy_halfwidth), *cells,
                  style=style)
    if fits(console, t):
        console.print(t)
        return
    tail = [Col(name, [r[j] for r in rest])
            for j, name in enumerate(("success", "cost", f"to <{target:g}", "diverged"))]
    train_head = "train acc\nmin–max"
    two_lines = [  # mean±half above min–max; test acc mean±half
        Col(train_head, [_with_span(_mean_ci(s.train_accuracy_mean, s.train_accuracy_halfwidth),
                                    s.train_accuracy_range) for s in summaries], group="acc"),
        Col("test acc", [_mean_ci(s.test_accuracy_mean, s.test_accuracy_halfwidth)
                         for s in summaries], group="acc"), *tail]
    three_lines = [  # mean above ±half above min–max
        Col(train_head, [_with_span(_mean_ci_lines(s.train_accuracy_mean,
                                                   s.train_accuracy_halfwidth),
                                    s.train_accuracy_range) for s in summaries], group="acc"),
        Col("test acc", [_mean_ci_lines(s.test_accuracy_mean, s.test_accuracy_halfwidth)
                         for s in summaries], group="acc"), *tail]
    inits = [s.init for s in summaries]
    whole, broken = [Col("init", inits, "left")], [Col("init", break_labels(inits), "left")]
    print_all(console, fit_tables(console, title, [
        (whole, two_lines), (whole, three_lines), (broken, two_lines), (broken, three_lines)],
        caption, row_styles=styles))


def _group_cells(mean: dict[str, np.ndarray], l: int, units: int) -> list[str]:
    return [fmt(mean["activation_std"][l]), sat_or_dead(mean, l), fmt(mean["grad_std"][l]),
            f"{mean['distinct_units'][l]:.3g}/{units}"]


def init_side_by_side(console: Console, layers: LayerStats, groups: dict[str, slice]) -> None:
    """Per-layer statistics at initialization, one column group per initializer (mean over its
    seeds): activation std, saturated or dead share, ∇W std, distinct units. A terminal too
    narrow for the groups gets one row per (initializer, layer) instead (a long init label over
    the rows of its layers), and one narrower still a table per initializer."""
    means = {init: layers.mean(rows) for init, rows in groups.items()}
    title = "Per layer at initialization (mean over seeds)"
    caption = ("a std: activation std; sat/dead: saturated share (tanh/sigmoid/softmax) or "
               "dead share (ReLU); distinct: units with different incoming weights")
    names = layer_names(layers)
    if console.width >= 14 + _GROUP_WIDTH * len(means):
        t = _side_by_side(title, caption, names, layers, means)
        if fits(console, t):
            console.print(t)
            return
    for broken in (False, True):
        t = _init_rows(title, caption, names, layers, means, broken)
        if fits(console, t):
            console.print(t)
            return
    console.print(Text(title, style="bold"))
    last = list(means)[-1]
    for init, mean in means.items():
        rows = [_group_cells(mean, l, layers.units[l]) for l in range(layers.depth)]
        cols = [Col(name, [r[j] for r in rows], stack=False)  # alike in every init's table
                for j, name in enumerate(_GROUP)]
        print_all(console, fit_tables(console, init, [
            ([Col("layer", names, "left")], cols),
            ([Col("layer", layer_names_broken(layers), "left")], cols)],
            caption if init == last else None))


def _side_by_side(title: str, caption: str, names: list[str], layers: LayerStats,
                  means: dict[str, dict[str, np.ndarray]]) -> Table:
    """One row per layer, one column group per initializer, its name above its group."""
    t = table(title)
    t.caption = caption
    t.caption_justify = "left"
    t.add_column("layer", no_wrap=True)
    for init in means:
        for k, name in enumerate(_GROUP):
            t.add_column(f"{escape(init) if k == 0 else ''}\n{name}", justify="right",
                         no_wrap=True)
    for l, name in enumerate(names):
        cells = [name]
        for mean in means.values():
            cells += _group_cells(mean, l, layers.units[l])
        t.add_row(*[escape(c) for c in cells])
    return t


def _init_rows(title: str, caption: str, names: list[str], layers: LayerStats,
               means: dict[str, dict[str, np.ndarray]], broken: bool) -> Table:
    """One row per (initializer, layer), the init's name on its first layer's row (``broken``:
    a long name over the rows of its layers, broken after '(' or ',')."""
    t = table(title)
    t.caption = caption
    t.caption_justify = "left"
    t.add_column("init", no_wrap=True)
    t.add_column("layer", no_wrap=True)
    for name in _GROUP:
        t.add_column(name, justify="right", no_wrap=True)
    labels = break_labels(list(means)) if broken else list(means)
    for label, mean in zip(labels, means.values(), strict=True):
        lines = label.split("\n")
        if len(lines) > layers.depth:  # more lines than rows: all in the first row
            lines = [label]
        lines += [""] * (layers.depth - len(lines))
        for l, name in enumerate(names):
            cells = [lines[l], name, *_group_cells(mean, l, layers.units[l])]
            t.add_row(*[escape(c) for c in cells], end_section=l == layers.depth - 1)
    return t


def curve_lines(console: Console, curves: dict[str, np.ndarray], iterations: list[int]) -> None:
    """Median cost curve per initializer: sparkline (scaled to its own range), start → end. A
    console too narrow for 40-character sparklines gets shorter ones (and long init labels
    broken after '(' or ',' when that leaves them at least 12 characters), one narrower still
    start and end in a second table."""
    title = (f"Median cost over seeds, iterations 0–{iterations[-1]} "
             "(each line scaled to its own range)")
    t = table(title)
    for name in ("init", "curve", "start", "end"):
        t.add_column(name, justify="right" if name in ("start", "end") else "left",
                     no_wrap=True)
    for init, curve in curves.items():
        t.add_row(escape(init), curve_sparkline(curve), fmt(curve[0], 4), fmt(curve[-1], 4))
    if fits(console, t):
        console.print(t)
        return
    inits = list(curves)
    ends = [Col("start", [fmt(c[0], 4) for c in curves.values()]),
            Col("end", [fmt(c[-1], 4) for c in curves.values()])]
    for labels in (inits, break_labels(inits)):
        for width in range(CURVE_WIDTH - 1, MIN_CURVE_WIDTH - 1, -1):
            t = column_table(title, [
                Col("init", labels, "left"),
                Col("curve", [curve_sparkline(c, width) for c in curves.values()], "left"),
                *ends])
            if fits(console, t):
                console.print(t)
                return
    # narrower still: the shortest sparklines, start and end in a table below
    sparks = Col("curve", [curve_sparkline(c, MIN_CURVE_WIDTH) for c in curves.values()], "left")
    print_all(console, fit_tables(console, title, [
        ([Col("init", labels, "left")], [sparks, *ends]) for labels in (inits,
                                                                         break_labels(inits))]))


def stopped_line(result: Any) -> str | None:
    """'interrupted at iteration k of n' (or 'stopped … : a worker died') for a run that did not
    finish, None for one that did."""
    hist = result.history
    if not (hist.interrupted or hist.failure):
        return None
    why = "stopped" if hist.failure else "interrupted"
    return (f"{why} at iteration {hist.n_iterations} of {hist.planned_iterations}"
            f"{': a worker died' if hist.failure else ''} — these are models trained part of the "
            "way")


def render(console: Console, found: Any, summary_only: bool = False) -> None:
    """A ``commands.compare.CompareResult``: the initial layers side by side, the median cost
    curves, the summary over seeds and the verdict (``summary_only``: the last two). A run that
    did not finish heads every table with how far it got and has no verdict."""
    result = found.run
    stopped = stopped_line(result)

    def head() -> None:
        if stopped:
            console.print(stopped, markup=False, style="bold")

    if not summary_only:
        head()
        init_side_by_side(console, result.layers_init, result.plan.groups)
        head()
        curve_lines(console, found.curves, result.history.log_iterations)
    head()
    compare_table(console, found.summaries, found.best, found.success, found.target_cost,
                  result.plan.config.train.log_every)
    if stopped:
        console.print("verdict: none — the comparison did not finish", markup=False)
    else:
        console.print(f"verdict: {found.verdict}", markup=False)
