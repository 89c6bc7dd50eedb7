"""What ``initlab compare`` prints: per-layer statistics side by side, median cost curves, the
summary over seeds and the verdict."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from initlab.engine.stats import LayerStats
from initlab.reporting import run_tables
from initlab.reporting.fit import Col, break_labels, column_table, fit_tables, fits, print_all
from initlab.reporting.format import curve_sparkline, fmt, pct, table
from initlab.reporting.run_tables import layer_names, layer_names_broken, sat_or_dead

_GROUP = ("a std", "sat/dead", "∇W std", "distinct")
_GROUP_WIDTH = 34  # characters one initializer's column group needs
CURVE_WIDTH = 40  # characters of a cost curve's sparkline when the console has room
MIN_CURVE_WIDTH = 12  # narrowest sparkline drawn to make room


def _mean_ci(mean: float | None, half: float | None,
             ci: tuple[float, float] | None = None) -> str:
    """'0.968±0.033' (Student t), '0.980 [0.953,1.000]' (an interval that is not symmetric:
    bootstrap), '0.500' (no interval)."""
    if mean is None:
        return "—"
    if half is not None:
        return f"{mean:.3f}±{half:.3f}"
    return f"{mean:.3f}" if ci is None else f"{mean:.3f} [{ci[0]:.3f},{ci[1]:.3f}]"


def _train(s: Any) -> str:
    return _mean_ci(s.train_accuracy_mean, s.train_accuracy_halfwidth, s.train_accuracy_ci95)


def _test(s: Any) -> str:
    return _mean_ci(s.test_accuracy_mean, s.test_accuracy_halfwidth, s.test_accuracy_ci95)


def _success(s: Any) -> str:
    """'45% [31,60]': the success rate and its Wilson interval, in percent."""
    if s.success_rate is None:
        return "—"
    if s.success_ci95 is None:
        return pct(s.success_rate)
    lo, hi = s.success_ci95
    return f"{pct(s.success_rate)} [{100 * lo:.0f},{100 * hi:.0f}]"


def _span(r: tuple[float, float] | None) -> str:
    return "—" if r is None else f"{r[0]:.2f}–{r[1]:.2f}"


def _with_span(text: str, r: tuple[float, float] | None) -> str:
    """The accuracy above its min–max (alone when there is no range)."""
    return text if r is None else f"{text}\n{_span(r)}"


def _lines(text: str) -> str:
    """The mean above its '±half-width' or its '[low,high]'."""
    return text.replace("±", "\n±").replace(" [", "\n[")


def compare_table(console: Console, summaries: list[Any], best: int, success: float,
                  target: float, log_every: int) -> None:
    """One row per initializer: accuracy mean ± 95% CI half-width and range over seeds, success
    rate, median final cost, median iteration to the target cost, diverged seeds. A console too
    narrow for one line per row gets the range below the train accuracy (then the half-widths
    below the means), long init labels broken after '(' or ',', then the columns in two tables
    one above the other."""
    n = summaries[0].n_seeds
    title = f"Over {n} seed(s) per initializer"
    methods = {"t" for s in summaries if s.train_accuracy_halfwidth is not None} | {
        "BCa" for s in summaries if "BCa" in (s.train_accuracy_ci_method,
                                              s.test_accuracy_ci_method)}
    intervals = " or ".join([*(["± 95% CI half-width (Student t)"] if "t" in methods else []),
                             *(["[95% CI] (bootstrap BCa: some seed at 0 or 1, or --ci "
                                "bootstrap)"] if "BCa" in methods else [])]) or "(one seed)"
    caption = (f"acc: mean {intervals} and min–max over the seeds that did not diverge; "
               f"success: share of seeds with train acc ≥ {success:g} [95% Wilson interval]; "
               f"cost: median final cost; to <{target:g}: median first logged iteration with "
               f"cost < {target:g} (logged every {log_every}; 'never' if half the seeds never "
               "get there); best row in bold")
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
        cells = [_success(s), fmt(s.median_final_cost, 3), to_target, str(s.diverged)]
        rest.append(cells)
        t.add_row(escape(s.init), _train(s), _span(s.train_accuracy_range), _test(s), *cells,
                  style=style)
    if fits(console, t):
        console.print(t)
        return
    tail = [Col(name, [r[j] for r in rest])
            for j, name in enumerate(("success", "cost", f"to <{target:g}", "diverged"))]
    tail[0] = Col("success", [_lines(r[0]) for r in rest])
    train_head = "train acc\nmin–max"
    two_lines = [  # mean±half above min–max; test acc mean±half
        Col(train_head, [_with_span(_train(s), s.train_accuracy_range) for s in summaries],
            group="acc"),
        Col("test acc", [_test(s) for s in summaries], group="acc"), *tail]
    three_lines = [  # mean above ±half above min–max
        Col(train_head, [_with_span(_lines(_train(s)), s.train_accuracy_range)
                         for s in summaries], group="acc"),
        Col("test acc", [_lines(_test(s)) for s in summaries], group="acc"), *tail]
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


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "<1e-4" if value < 1e-4 else f"{value:.2g}"


def _diff(value: float, metric: str) -> str:
    if metric.endswith("accuracy"):
        return f"{value:+.3f}"
    return f"{value:+.0f}" if metric == "iterations_to_target" else f"{value:+.3g}"


def _result(pair: Any) -> str:
    if pair.beats:
        return "beaten"
    if pair.mean_diff is None:
        return "too few seeds"
    if pair.mean_diff == 0 and pair.sd_diff == 0:
        return "equal on every seed"
    if pair.seeds_needed is None:
        return "not separated"
    if pair.seeds_needed > 1_000_000:
        return "not separated: > 1e6 seeds"
    return f"not separated: ~{pair.seeds_needed:,} seeds"


def pairs_table(console: Console, found: Any) -> None:
    """The best against every other initializer, seed by seed: the mean paired difference with
    its 95% interval, both p-values and which is used, the Holm-adjusted p, the pairs, and the
    outcome (beaten, or the seeds the observed difference would need)."""
    best = found.summaries[found.best].init
    metric = found.metric.replace("_", " ")
    title = f"Seed by seed: {best} against the others ({metric}, {best} − other)"
    caption = ("Δ: mean paired difference [95% CI, paired t]; p: two-sided, paired t test and "
               "Wilcoxon signed-rank test (used: Wilcoxon when the differences tie or look "
               "non-normal); Holm: the used p adjusted for the comparisons; pairs: seeds with "
               "finite results on both sides (left out: diverged); seeds: how many would "
               "separate the observed difference (paired t, 5%, 80% power)")
    rows = found.pairs
    delta = ["—" if p.mean_diff is None else
             f"{_diff(p.mean_diff, found.metric)} [{_diff(p.ci95[0], found.metric)},"
             f"{_diff(p.ci95[1], found.metric)}]" for p in rows]
    cols = [Col("Δ", delta, group="d"), Col("p t", [_p(p.p_t) for p in rows], group="p"),
            Col("p Wilcoxon", [_p(p.p_wilcoxon) for p in rows], group="p"),
            Col("used", [p.test for p in rows], "left", group="p"),
            Col("Holm", [_p(p.p_adjusted) for p in rows]),
            Col("pairs", [f"{p.n_pairs}" + (f" ({p.excluded} out)" if p.excluded else "")
                          for p in rows]),
            Col("outcome", [_result(p) for p in rows], "left")]
    inits = [p.init for p in rows]
    whole, broken = [Col("init", inits, "left")], [Col("init", break_labels(inits), "left")]
    narrow = [replace(c, cells=[cell.replace(" [", "\n[").replace(": ", ":\n")
                                for cell in c.cells]) for c in cols]
    print_all(console, fit_tables(console, title, [(whole, cols), (whole, narrow),
                                                   (broken, narrow)], caption))


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
    curves, the summary over seeds, the best against the others seed by seed, and the verdict
    (``summary_only``: the last three). A run that did not finish heads every table with how
    far it got and has no verdict."""
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
    run_tables.lsuv_lines(console, result)
    compare_table(console, found.summaries, found.best, found.success, found.target_cost,
                  result.plan.config.train.log_every)
    if found.pairs:
        head()
        pairs_table(console, found)
    if stopped:
        console.print("verdict: none — the comparison did not finish", markup=False)
        return
    console.print(f"verdict: {found.verdict[0]}", markup=False)
    for line in found.verdict[1:]:
        console.print(f"  {line}", markup=False)
