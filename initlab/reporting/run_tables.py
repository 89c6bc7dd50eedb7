"""What ``initlab run`` prints: the resolved experiment, per-layer tables, cost lines, results."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from initlab.engine.memory import ChunkPlan, human_bytes
from initlab.engine.stats import LayerStats
from initlab.inits import fans, lsuv
from initlab.reporting.fit import Col, break_labels, fit_tables, fits, print_all, prints_whole
from initlab.reporting.format import fmt, pct, table

MAX_ROWS = 20  # experiments listed one per row before the final table summarises
SEEDS_LISTED = 8  # a seed list longer than this is shown by its count and range


def seeds_text(seeds: list[int]) -> str:
    """'3', '20 seeds (3…22)' for a contiguous run, '3 seeds (0, 7, 19)' otherwise."""
    if len(seeds) == 1:
        return str(seeds[0])
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{len(seeds)} seeds ({seeds[0]}…{seeds[-1]})"
    listed = ", ".join(map(str, seeds[:SEEDS_LISTED])) + (", …" if len(seeds) > SEEDS_LISTED
                                                          else "")
    return f"{len(seeds)} seeds ({listed})"


def lsuv_lines(console: Console, result: Any) -> None:
    """Per LSUV initializer, one line: did every layer of every seed reach its target, and in
    how many rescalings (``inits.lsuv.summary``); nothing without LSUV."""
    if not result.lsuv:
        return
    for label, where in result.plan.groups.items():
        logs = [log for log in result.lsuv[where] if log is not None]
        if logs:
            text = lsuv.summary(logs, result.plan.inits[label].lsuv)
            if len(result.plan.groups) > 1:  # 'lsuv(tol=0.05): 3 layers converged …'
                text = f"{label}: {text.removeprefix('lsuv: ')}"
            console.print(text, markup=False)


def auto_gain_text(acts: list[Any]) -> str:
    """'tanh 1.5925 (PyTorch's table: 5/3 = 1.6667); …' for each distinct activation, or ''."""
    distinct = {a.label: a for a in acts}
    return "; ".join(fans.auto_gain_line(a) for a in distinct.values())


def header(console: Console, plan: Any, device_label: str) -> None:
    """The resolved experiment: architecture, initializer and formula, data, training, device."""
    cfg, net, data = plan.config, plan.net, plan.dataset
    arch = " → ".join(str(n) for n in net.layers)
    acts = ", ".join(a.label for a in net.activations)
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")  # wraps at spaces; a word wider than the console folds
    row = lambda key, text: t.add_row(key, escape(text))  # noqa: E731
    row("experiment", cfg.name)
    row("network", f"{arch}  ({acts}){'' if net.bias else ', no biases'}")
    for choice in plan.inits.values():
        row("weights", f"{choice.label}: {choice.formula()}")
    auto = auto_gain_text([net.activations[l] for c in plan.inits.values()
                           for l in c.auto_gain_layers()])
    if auto:
        row("auto gain", auto)
    if net.bias:  # a preset's row above names its biases too
        own = {label: c.bias_formula() for label, c in plan.inits.items() if c.preset is None}
        for label, text in own.items():
            row("biases", text if len(set(own.values())) == 1 else f"{label}: {text}")
            if len(set(own.values())) == 1:
                break
    row("data", data.description)
    tr = cfg.train
    batch = "full batch" if tr.batch_size is None else f"batch {tr.batch_size}"
    row("training", f"{tr.optimizer}, lr {tr.lr:g}, {tr.epochs} epochs ({batch}), "
                    f"loss {tr.loss}: {net.loss.law}")
    seeds = list(dict.fromkeys(e.seed for e in plan.experiments))
    row("seeds", f"{seeds_text(seeds)}, rng {cfg.rng}; {plan.n_experiments} experiment(s) "
                 "batched")
    row("device", f"{device_label}, {cfg.dtype}, engine {plan.engine}"
                  + (f" ({plan.engine_note})" if plan.engine_note else ""))
    console.print(t)


def chunking_line(chunks: ChunkPlan, workers: int, engine: str = "numpy") -> str:
    """'batching: 9 experiment(s) in one batch (…); 2 worker process(es)' (threads for the
    fused engine)."""
    budget = f"{human_bytes(chunks.budget)} budget, ~{human_bytes(chunks.per_experiment)} each"
    if chunks.count == 1:
        text = f"{chunks.n_experiments} experiment(s) in one batch (≤ {chunks.size} fit: {budget})"
    else:
        text = (f"{chunks.n_experiments} experiments in {chunks.count} chunks of ≤ {chunks.size} "
                f"(memory: {budget})")
    unit = "thread(s)" if engine == "fused" else "worker process(es)"
    return f"batching: {text}; {workers} {unit}"


def sat_or_dead(row: dict[str, np.ndarray], l: int) -> str:
    """The one of saturated/dead share that applies to layer ``l``'s activation."""
    saturated = row["saturated_fraction"][l]
    return pct(row["dead_fraction"][l] if np.isnan(saturated) else saturated)


_LAYER_COLUMNS = ("z mean", "z std", "a mean", "a std", "sat/dead", "W std", "∇W std")
_LAYER_GROUPS = ("z", "z", "a", "a", None, None, None, None)  # z mean/std and a mean/std pair


def layer_names(layers: LayerStats) -> list[str]:
    """'1 relu', '2 tanh', … one per layer."""
    return [f"{l + 1} {layers.activations[l]}" for l in range(layers.depth)]


def layer_names_broken(layers: LayerStats) -> list[str]:
    """The layer names with long activation labels over several lines ('2 leaky_relu(' above
    'alpha=0.01)')."""
    acts = break_labels(list(layers.activations))
    return [f"{l + 1} {act}" for l, act in enumerate(acts)]


def layer_table(console: Console, layers: LayerStats, title: str, symmetry: bool) -> None:
    """One row per layer (averaged over experiments when there are several). A console too
    narrow for the columns gets them in two or more tables one above the other, each with the
    layer column."""
    mean = layers.mean()
    if layers.n_experiments > 1:
        title += f" (mean over {layers.n_experiments} experiments)"
    caption = ("sat/dead: share of tanh/sigmoid/softmax outputs within 0.01 of a bound, or of "
               "ReLU units zero on every sample" + ("; distinct: units with different incoming "
                                                   "weights" if symmetry else ""))
    names = layer_names(layers)
    rows = []
    for l in range(layers.depth):
        cells = [*(fmt(mean[key][l]) for key in ("preactivation_mean", "preactivation_std",
                                                 "activation_mean", "activation_std")),
                 sat_or_dead(mean, l), fmt(mean["weight_std"][l]), fmt(mean["grad_std"][l])]
        if symmetry:
            cells.append(f"{mean['distinct_units'][l]:.3g}/{layers.units[l]}")
        rows.append(cells)
    headers = [*_LAYER_COLUMNS, *(["distinct"] if symmetry else [])]
    t = table(title)
    t.caption = caption
    t.caption_justify = "left"
    t.add_column("layer", no_wrap=True)
    for name in headers:
        t.add_column(name, justify="right", no_wrap=True)
    for name, cells in zip(names, rows, strict=True):
        t.add_row(*[escape(c) for c in [name, *cells]])
    if fits(console, t):
        console.print(t)
        return
    cols = [Col(name, [r[j] for r in rows], group=_LAYER_GROUPS[j])
            for j, name in enumerate(headers)]
    print_all(console, fit_tables(console, title, [
        ([Col("layer", names, "left")], cols),
        ([Col("layer", layer_names_broken(layers), "left")], cols)], caption))


def cost_line(iteration: int, costs: np.ndarray, where: str = "") -> str:
    """'cost after iteration 1000: 0.6879825919728063' (full precision for one experiment);
    ``where`` ('chunk 2/3') prefixes it."""
    head = f"{where}: " if where else ""
    if costs.size == 1:
        return f"{head}cost after iteration {iteration}: {float(costs[0])!r}"
    finite = costs[np.isfinite(costs)]
    if finite.size == 0:
        return f"{head}cost after iteration {iteration}: all {costs.size} experiments non-finite"
    bad = costs.size - finite.size
    tail = f", {bad} non-finite" if bad else ""
    return (f"{head}cost after iteration {iteration}: median {np.median(finite):.6g}  "
            f"min {finite.min():.6g}  max {finite.max():.6g}{tail}")


def _acc(values: np.ndarray | None, e: int) -> str:
    return "—" if values is None else f"{values[e]:.4f}"


def _status(diverged_at: int, lines: int = 1) -> str:
    text = f"diverged at iteration {diverged_at}" if diverged_at >= 0 else "ok"
    return text.replace(" iteration", "\niteration") if lines > 1 else text


def _outputs(values: np.ndarray, per_line: int = 4) -> str:
    shown = [f"{v:.4f}" for v in values.ravel()[:4]]
    return "\n".join(" ".join(shown[i:i + per_line]) for i in range(0, len(shown), per_line))


def final_table(console: Console, result: Any) -> None:
    """Train/test accuracy, final cost and divergence, one row per experiment. A console too
    narrow for one line per row gets the status over two lines, long init labels broken after
    '(' or ',', then the columns in two tables one above the other, each with init and seed."""
    plan, hist = result.plan, result.history
    title = (f"Result after {hist.n_iterations} iterations"
             + (" (interrupted)" if hist.interrupted else ""))
    t = table(title)
    outs = result.train_outputs
    acc_cols = ("train acc", "test acc") if outs is None else ("outputs",)
    for name in ("init", "seed", *acc_cols, "final cost", "status"):
        t.add_column(name, justify="left" if name in ("init", "status") else "right")
    E = plan.n_experiments
    shown = range(E) if E <= MAX_ROWS else list(range(MAX_ROWS - 1)) + [E - 1]
    inits, seeds, costs, diverged = [], [], [], []
    accs: list[list[str]] = [[] for _ in acc_cols]
    outputs_narrow = []
    for e in shown:
        exp = plan.experiments[e]
        div = int(hist.diverged_at[e])
        row_accs = ((_acc(result.train_accuracy, e), _acc(result.test_accuracy, e))
                    if outs is None else (_outputs(outs[e]),))
        t.add_row(escape(exp.init), str(exp.seed), *row_accs, f"{result.final_cost[e]:.6g}",
                  _status(div))
        inits.append(exp.init)
        seeds.append(str(exp.seed))
        for column, cell in zip(accs, row_accs, strict=True):
            column.append(cell)
        if outs is not None:
            outputs_narrow.append(_outputs(outs[e], per_line=2))
        costs.append(f"{result.final_cost[e]:.6g}")
        diverged.append(div)
    if prints_whole(console, t):
        console.print(t)
    else:
        if outs is None:
            value_cols = [Col(name, cells, group="acc") for name, cells in zip(acc_cols, accs,
                                                                                strict=True)]
        else:
            value_cols = [Col("outputs", outputs_narrow)]
        cols = [*value_cols, Col("final cost", costs),
                Col("status", [_status(d, lines=2) for d in diverged], "left")]
        seed_col = Col("seed", seeds)
        print_all(console, fit_tables(console, title, [
            ([Col("init", inits, "left"), seed_col], cols),
            ([Col("init", break_labels(inits), "left"), seed_col], cols)]))
    if E > MAX_ROWS:
        console.print(f"({E - MAX_ROWS} more rows in metrics.json)")
    if result.train_accuracy is not None and E > 1:
        acc = result.train_accuracy
        console.print(f"train accuracy over {E} experiments: mean {acc.mean():.4f}, "
                      f"min {acc.min():.4f}, max {acc.max():.4f}")
