"""Rich rendering: headers, per-layer tables, cost lines, final tables. No statistics here."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from initlab.engine.stats import mean_over_experiments

MAX_ROWS = 20  # experiments listed one per row before the final table summarises


def fmt(x: float | None, digits: int = 3) -> str:
    """Compact number: '—' for None, 3 significant digits, exponent for tiny/huge values."""
    if x is None:
        return "—"
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-2 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def pct(x: float | None) -> str:
    """Percentage, whole numbers except '<1%' for small non-zero shares."""
    if x is None:
        return "—"
    return "<1%" if 0 < x < 0.005 else f"{100 * x:.0f}%"


def _table(title: str) -> Table:
    return Table(title=escape(title), box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False,
                 title_justify="left", title_style="bold")


def header(console: Console, plan: Any, device_label: str) -> None:
    """The resolved experiment: architecture, initializer and formula, data, training, device."""
    cfg, net, data = plan.config, plan.net, plan.dataset
    arch = " → ".join(str(n) for n in net.layers)
    acts = ", ".join(a.label for a in net.activations)
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column()
    row = lambda key, text: t.add_row(key, escape(text))  # noqa: E731
    row("experiment", cfg.name)
    row("network", f"{arch}  ({acts}){'' if net.bias else ', no biases'}")
    for label, choice in plan.weight_inits.items():
        row("weights", f"{label}: {choice.formula()}")
    if net.bias:
        row("biases", f"{plan.bias_init.label}: {plan.bias_init.formula()}")
    row("data", data.description)
    tr = cfg.train
    batch = "full batch" if tr.batch_size is None else f"batch {tr.batch_size}"
    row("training", f"{tr.optimizer}, lr {tr.lr:g}, {tr.epochs} epochs ({batch}), "
                          f"loss {tr.loss}: {net.loss.law}")
    seeds = sorted({m.seed for m in plan.members})
    seed_text = str(seeds[0]) if len(seeds) == 1 else f"{len(seeds)} seeds ({seeds[0]}…{seeds[-1]})"
    row("seeds", f"{seed_text}, rng {cfg.rng}; {plan.n_experiments} experiment(s) batched")
    row("device", f"{device_label}, {cfg.dtype}")
    console.print(t)


def layer_table(console: Console, layers: list[list[dict]], title: str, symmetry: bool) -> None:
    """One row per layer (averaged over experiments when there are several)."""
    rows = mean_over_experiments(layers)
    if len(layers) > 1:
        title += f" (mean over {len(layers)} experiments)"
    t = _table(title)
    t.caption = ("sat/dead: share of tanh/sigmoid/softmax outputs within 0.01 of a bound, or of "
                 "ReLU units zero on every sample" + ("; distinct: units with different incoming "
                                                     "weights" if symmetry else ""))
    t.caption_justify = "left"
    t.add_column("layer", no_wrap=True)
    for name in ("z mean", "z std", "a mean", "a std", "sat/dead", "W std", "∇W std"):
        t.add_column(name, justify="right", no_wrap=True)
    if symmetry:
        t.add_column("distinct", justify="right", no_wrap=True)
    for r in rows:
        cells = [f"{r['layer']} {r['activation']}",
                 fmt(r["preactivation_mean"]), fmt(r["preactivation_std"]),
                 fmt(r["activation_mean"]), fmt(r["activation_std"]),
                 _sat_or_dead(r),
                 fmt(r["weight_std"]), fmt(r["grad_std"])]
        if symmetry:
            d = r["distinct_units"]
            cells.append(f"{d:.3g}/{r['units']}")
        t.add_row(*[escape(c) for c in cells])
    console.print(t)


def _sat_or_dead(r: dict) -> str:
    """The one of saturated/dead share that applies to the layer's activation."""
    if r["saturated_fraction"] is not None:
        return pct(r["saturated_fraction"])
    return pct(r["dead_fraction"])


def cost_line(iteration: int, costs: np.ndarray) -> str:
    """'cost after iteration 1000: 0.6879825919728063' (full precision for one experiment)."""
    if costs.size == 1:
        return f"cost after iteration {iteration}: {float(costs[0])!r}"
    finite = costs[np.isfinite(costs)]
    if finite.size == 0:
        return f"cost after iteration {iteration}: all {costs.size} experiments non-finite"
    bad = costs.size - finite.size
    tail = f", {bad} non-finite" if bad else ""
    return (f"cost after iteration {iteration}: median {np.median(finite):.6g}  "
            f"min {finite.min():.6g}  max {finite.max():.6g}{tail}")


def final_table(console: Console, result: Any) -> None:
    """Train/test accuracy, final cost and divergence, one row per experiment."""
    plan, hist = result.plan, result.history
    t = _table(f"Result after {hist.n_iterations} iterations"
               + (" (interrupted)" if hist.interrupted else ""))
    outs = result.train_outputs
    acc_cols = ("train acc", "test acc") if outs is None else ("outputs",)
    for name in ("init", "seed", *acc_cols, "final cost", "status"):
        t.add_column(name, justify="left" if name in ("init", "status") else "right")
    E = plan.n_experiments
    shown = range(E) if E <= MAX_ROWS else list(range(MAX_ROWS - 1)) + [E - 1]
    for e in shown:
        m = plan.members[e]
        div = int(hist.diverged_at[e])
        accs = ((_acc(result.train_accuracy, e), _acc(result.test_accuracy, e)) if outs is None
                else (" ".join(f"{v:.4f}" for v in outs[e].ravel()[:4]),))
        t.add_row(escape(m.init), str(m.seed), *accs, f"{result.final_cost[e]:.6g}",
                  f"diverged at iteration {div}" if div >= 0 else "ok")
    console.print(t)
    if E > MAX_ROWS:
        console.print(f"({E - MAX_ROWS} more rows in metrics.json)")
    if result.train_accuracy is not None and E > 1:
        acc = result.train_accuracy
        console.print(f"train accuracy over {E} experiments: mean {acc.mean():.4f}, "
                      f"min {acc.min():.4f}, max {acc.max():.4f}")


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
    t = _table(f"Over {n} seed(s) per initializer")
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


_GROUP = ("a std", "sat/dead", "∇W std", "distinct")
_GROUP_WIDTH = 34  # characters one initializer's column group needs


def _group_cells(r: dict) -> list[str]:
    return [fmt(r["activation_std"]), _sat_or_dead(r), fmt(r["grad_std"]),
            f"{r['distinct_units']:.3g}/{r['units']}"]


def init_side_by_side(console: Console, layers: list[list[dict]], labels: list[str]) -> None:
    """Per-layer statistics at initialization, one column group per initializer (mean over its
    seeds): activation std, saturated or dead share, ∇W std, distinct units. A terminal too
    narrow for the groups gets one row per (initializer, layer) instead."""
    inits = list(dict.fromkeys(labels))
    means = {i: mean_over_experiments([layers[e] for e, lab in enumerate(labels) if lab == i])
             for i in inits}
    t = _table("Per layer at initialization (mean over seeds)")
    t.caption = ("a std: activation std; sat/dead: saturated share (tanh/sigmoid/softmax) or "
                 "dead share (ReLU); distinct: units with different incoming weights")
    t.caption_justify = "left"
    side_by_side = console.width >= 14 + _GROUP_WIDTH * len(inits)
    if not side_by_side:
        t.add_column("init", no_wrap=True)
    t.add_column("layer", no_wrap=True)
    for i in inits if side_by_side else [None]:
        for k, name in enumerate(_GROUP):  # side by side: the init's name above its group
            head = name if i is None else f"{escape(i) if k == 0 else ''}\n{name}"
            t.add_column(head, justify="right", no_wrap=True)
    depth = len(means[inits[0]])
    if side_by_side:
        for l in range(depth):
            row = means[inits[0]][l]
            cells = [f"{row['layer']} {row['activation']}"]
            for i in inits:
                cells += _group_cells(means[i][l])
            t.add_row(*[escape(c) for c in cells])
    else:
        for i in inits:
            for l, r in enumerate(means[i]):
                t.add_row(*[escape(c) for c in [i if l == 0 else "", f"{r['layer']} "
                                                f"{r['activation']}", *_group_cells(r)]],
                          end_section=l == depth - 1)
    console.print(t)


def curve_sparkline(values: np.ndarray, width: int = 40) -> str:
    """A curve as one line of bars from its minimum (▁) to its maximum (█), resampled to
    ``width`` points; non-finite points are drawn as '×'."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.linspace(0, v.size - 1, min(width, v.size)).round().astype(int)]
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return "×" * v.size
    lo, hi = finite.min(), finite.max()
    span = hi - lo if hi > lo else 1.0
    return "".join("×" if not np.isfinite(x) else SPARK[1 + round(7 * (x - lo) / span)]
                   for x in v)


def curve_lines(console: Console, curves: dict[str, np.ndarray], iterations: list[int]) -> None:
    """Median cost curve per initializer: sparkline (scaled to its own range), start → end."""
    t = _table(f"Median cost over seeds, iterations 0–{iterations[-1]} "
               "(each line scaled to its own range)")
    for name in ("init", "curve", "start", "end"):
        t.add_column(name, justify="right" if name in ("start", "end") else "left",
                     no_wrap=True)
    for init, curve in curves.items():
        t.add_row(escape(init), curve_sparkline(curve), fmt(curve[0], 4), fmt(curve[-1], 4))
    console.print(t)


def _acc(values: np.ndarray | None, e: int) -> str:
    return "—" if values is None else f"{values[e]:.4f}"


def catalogue_table(console: Console, title: str, rows: list[dict], columns: list[str]) -> None:
    """A listing (initializers, data sets): one row per entry, the given keys as columns."""
    t = _table(title)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[escape(_cell(r.get(c))) for c in columns])
    console.print(t)


def _cell(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={val}" for k, val in v.items()) or "—"
    return "" if v is None else str(v)


SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    """Counts as a one-line bar chart, one character per bin, scaled to the largest bin."""
    top = max(counts) if counts and max(counts) > 0 else 1
    return "".join(SPARK[0 if c == 0 else max(1, round(8 * c / top))] for c in counts)


def probe_table(console: Console, result: Any, histograms: bool) -> None:
    """One init's layers: measured activation std beside theory, saturation, gradients, flags."""
    t = _table(f"{result.init}: {result.formula}")
    with_loss = result.layers[0].loss_grad_std is not None
    t.add_column("layer", justify="right")
    for name in ("a mean", "a std", "theory", "sat/dead", "∇a std", "theory",
                 *(["∇loss std"] if with_loss else []), "flag"):
        t.add_column(name, justify="left" if name == "flag" else "right", no_wrap=True)
    for r in result.layers:
        flag = "vanished" if r.vanished else "saturated" if r.saturated else ""
        share = r.saturated_fraction if r.saturated_fraction is not None else r.dead_fraction
        loss = [fmt(r.loss_grad_std)] if with_loss else []
        t.add_row(str(r.layer), fmt(r.activation_mean), fmt(r.activation_std),
                  fmt(r.predicted_std), pct(share), fmt(r.grad_std), fmt(r.predicted_grad_std),
                  *loss, flag)
    console.print(t)
    if histograms:
        h = _table("activation histograms")
        h.add_column("layer", justify="right")
        h.add_column("range", justify="right", no_wrap=True)
        h.add_column("distribution", no_wrap=True)
        for r in result.layers:
            counts, edges = r.histogram
            h.add_row(str(r.layer), f"{edges[0]:.3g} … {edges[-1]:.3g}", sparkline(counts))
        console.print(h)
    jac = ""
    if result.jacobian is not None:
        jac = (f"; Jacobian mean σ² {fmt(result.jacobian['mean_sq_singular_value'])}, "
               f"condition {fmt(result.jacobian['condition_number'])}")
    console.print(f"{result.init}: activation std last/first layer {fmt(result.forward_ratio)}, "
                  f"gradient std first/last layer {fmt(result.backward_ratio)}{jac}",
                  markup=False)
    console.print()


# ------------------------------------------------------------------ bench-rng (rngbench rows)

_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"


def _rng_time(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{1e3 * seconds:.1f} ms"


def _rng_cells(r: dict) -> list[str]:
    speedup = "" if r["speedup"] is None or r["distribution"] == "fill" else f"{r['speedup']:.2f}×"
    return [f"{r['ns_per_entry']:.2f}", f"{r['gb_per_s']:.2f}", pct(r["bandwidth_share"]),
            speedup]


def _rng_table(title: str, first: list[str]) -> Table:
    t = _table(title)
    t.add_column("method", no_wrap=True)
    for name in (*first, "ns/entry", "GB/s", "of bw", "× base"):
        t.add_column(name, justify="right", no_wrap=True)
    return t


def _rng_marked(r: dict, notes: dict[str, str]) -> str:
    """The method name with a footnote mark for its note (marks numbered in order of use)."""
    if not r["note"]:
        return escape(r["method"])
    mark = notes.setdefault(r["note"], _MARKS[len(notes) % len(_MARKS)])
    return f"{escape(r['method'])} {mark}"


def _rng_footer(console: Console, notes: dict[str, str]) -> None:
    if notes:
        console.print("  ".join(f"{mark} {note}" for note, mark in notes.items()), markup=False,
                      style="dim")
    console.print("of bw: share of the device's write bandwidth (ndarray.fill, same run); "
                  "× base: default_rng() on one thread, same distribution and dtype", markup=False,
                  style="dim")


def rng_generator_table(console: Console, rows: list[dict], title: str) -> None:
    """bench-rng's first table: one section per device × distribution × dtype."""
    t, notes, group = _rng_table(title, []), {}, None
    for r in (r for r in rows if r["table"] == "generators"):
        key = (r["device"], r["distribution"], r["dtype"])
        if key != group:
            if group is not None:
                t.add_section()
            if r["distribution"] != "fill":
                t.add_row(f"[bold]{escape(' · '.join(key))}[/bold]", "", "", "", "")
            group = key
        t.add_row(_rng_marked(r, notes), *_rng_cells(r))
    console.print(t)
    _rng_footer(console, notes)
    console.print()


def rng_network_table(console: Console, rows: list[dict], title: str) -> None:
    """bench-rng's second table: the article's network initialized end to end by each method,
    then one line per device on the fast fill against the goals (< 150 ms, ≥ 4× default_rng)."""
    net = [r for r in rows if r["table"] == "network"]
    if not net:
        return
    t, notes = _rng_table(title, ["device", "time"]), {}
    for r in net:
        t.add_row(_rng_marked(r, notes), r["device"], _rng_time(r["seconds"]), *_rng_cells(r))
    console.print(t)
    _rng_footer(console, notes)
    fast = [r for r in net if r["method"].startswith("initlab fast fill") and r["device"] == "cpu"]
    if fast:
        best = min(fast, key=lambda r: r["seconds"])
        ratio = "" if best["speedup"] is None else (
            f", {best['speedup']:.2f}× default_rng on one thread (goal ≥ 4×: "
            f"{'met' if best['speedup'] >= 4 else 'not met'})")
        threads = f"{best['threads']} thread{'s' if best['threads'] != 1 else ''}"
        console.print(f"fast fill, {threads}: {_rng_time(best['seconds'])} "
                      f"(goal < 150 ms: {'met' if best['seconds'] < 0.150 else 'not met'}){ratio}; "
                      f"{pct(best['bandwidth_share'])} of the write bandwidth", markup=False)
    gpu = [r for r in net if r["device"] == "gpu" and r["distribution"] == "normal"]
    if gpu:
        best = min(gpu, key=lambda r: r["seconds"])
        console.print(f"GPU best: {best['method']}, {_rng_time(best['seconds'])}, "
                      f"{pct(best['bandwidth_share'])} of the card's write bandwidth (goal > 50%: "
                      f"{'met' if best['bandwidth_share'] > 0.5 else 'not met'})", markup=False)
