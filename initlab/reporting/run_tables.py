"""What ``initlab run`` prints: the resolved experiment, per-layer tables, cost lines, results."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from initlab.engine.memory import ChunkPlan, human_bytes
from initlab.engine.stats import LayerStats
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
    seeds = list(dict.fromkeys(e.seed for e in plan.experiments))
    row("seeds", f"{seeds_text(seeds)}, rng {cfg.rng}; {plan.n_experiments} experiment(s) "
                 "batched")
    row("device", f"{device_label}, {cfg.dtype}")
    console.print(t)


def chunking_line(chunks: ChunkPlan, workers: int) -> str:
    """'batching: 9 experiment(s) in one batch (…); 2 worker(s)'."""
    budget = f"{human_bytes(chunks.budget)} budget, ~{human_bytes(chunks.per_experiment)} each"
    if chunks.count == 1:
        text = f"{chunks.n_experiments} experiment(s) in one batch (≤ {chunks.size} fit: {budget})"
    else:
        text = (f"{chunks.n_experiments} experiments in {chunks.count} chunks of ≤ {chunks.size} "
                f"(memory: {budget})")
    return f"batching: {text}; {workers} worker process(es)"


def sat_or_dead(row: dict[str, np.ndarray], l: int) -> str:
    """The one of saturated/dead share that applies to layer ``l``'s activation."""
    saturated = row["saturated_fraction"][l]
    return pct(row["dead_fraction"][l] if np.isnan(saturated) else saturated)


def layer_table(console: Console, layers: LayerStats, title: str, symmetry: bool) -> None:
    """One row per layer (averaged over experiments when there are several)."""
    mean = layers.mean()
    if layers.n_experiments > 1:
        title += f" (mean over {layers.n_experiments} experiments)"
    t = table(title)
    t.caption = ("sat/dead: share of tanh/sigmoid/softmax outputs within 0.01 of a bound, or of "
                 "ReLU units zero on every sample" + ("; distinct: units with different incoming "
                                                     "weights" if symmetry else ""))
    t.caption_justify = "left"
    t.add_column("layer", no_wrap=True)
    for name in ("z mean", "z std", "a mean", "a std", "sat/dead", "W std", "∇W std"):
        t.add_column(name, justify="right", no_wrap=True)
    if symmetry:
        t.add_column("distinct", justify="right", no_wrap=True)
    for l in range(layers.depth):
        cells = [f"{l + 1} {layers.activations[l]}",
                 *(fmt(mean[key][l]) for key in ("preactivation_mean", "preactivation_std",
                                                  "activation_mean", "activation_std")),
                 sat_or_dead(mean, l), fmt(mean["weight_std"][l]), fmt(mean["grad_std"][l])]
        if symmetry:
            cells.append(f"{mean['distinct_units'][l]:.3g}/{layers.units[l]}")
        t.add_row(*[escape(c) for c in cells])
    console.print(t)


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


def final_table(console: Console, result: Any) -> None:
    """Train/test accuracy, final cost and divergence, one row per experiment."""
    plan, hist = result.plan, result.history
    t = table(f"Result after {hist.n_iterations} iterations"
              + (" (interrupted)" if hist.interrupted else ""))
    outs = result.train_outputs
    acc_cols = ("train acc", "test acc") if outs is None else ("outputs",)
    for name in ("init", "seed", *acc_cols, "final cost", "status"):
        t.add_column(name, justify="left" if name in ("init", "status") else "right")
    E = plan.n_experiments
    shown = range(E) if E <= MAX_ROWS else list(range(MAX_ROWS - 1)) + [E - 1]
    for e in shown:
        exp = plan.experiments[e]
        div = int(hist.diverged_at[e])
        accs = ((_acc(result.train_accuracy, e), _acc(result.test_accuracy, e)) if outs is None
                else (" ".join(f"{v:.4f}" for v in outs[e].ravel()[:4]),))
        t.add_row(escape(exp.init), str(exp.seed), *accs, f"{result.final_cost[e]:.6g}",
                  f"diverged at iteration {div}" if div >= 0 else "ok")
    console.print(t)
    if E > MAX_ROWS:
        console.print(f"({E - MAX_ROWS} more rows in metrics.json)")
    if result.train_accuracy is not None and E > 1:
        acc = result.train_accuracy
        console.print(f"train accuracy over {E} experiments: mean {acc.mean():.4f}, "
                      f"min {acc.min():.4f}, max {acc.max():.4f}")
