"""What ``initlab probe`` prints: per layer, measured statistics beside mean-field theory."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from initlab.reporting.fit import Col, fit_tables, print_all, prints_whole
from initlab.reporting.format import fmt, pct, sparkline, table


def probe_table(console: Console, result: Any, histograms: bool) -> None:
    """One init's layers: measured activation std beside theory, saturation, gradients, flags.
    A console too narrow for the columns gets them in two tables one above the other (the
    activations, then the gradients and flags), each with the layer column."""
    title = f"{result.init}: {result.formula}"
    t = table(title)
    with_loss = result.layers[0].loss_grad_std is not None
    headers = ["a mean", "a std", "theory", "sat/dead", "∇a std", "theory",
               *(["∇loss std"] if with_loss else []), "flag"]
    t.add_column("layer", justify="right")
    for name in headers:
        t.add_column(name, justify="left" if name == "flag" else "right", no_wrap=True)
    rows = []
    for r in result.layers:
        flag = "vanished" if r.vanished else "saturated" if r.saturated else ""
        share = r.saturated_fraction if r.saturated_fraction is not None else r.dead_fraction
        loss = [fmt(r.loss_grad_std)] if with_loss else []
        rows.append([str(r.layer), fmt(r.activation_mean), fmt(r.activation_std),
                     fmt(r.predicted_std), pct(share), fmt(r.grad_std),
                     fmt(r.predicted_grad_std), *loss, flag])
        t.add_row(*rows[-1])
    if prints_whole(console, t):
        console.print(t)
    else:  # a split keeps each std with its theory: activations | gradients | flag
        groups = ["a", "a", "a", "a", "grad", "grad", *(["grad"] if with_loss else []), None]
        cols = [Col(name, [row[j + 1] for row in rows], "left" if name == "flag" else "right",
                    groups[j]) for j, name in enumerate(headers)]
        print_all(console, fit_tables(console, title, [
            ([Col("layer", [row[0] for row in rows])], cols)]))
    if histograms:
        _histogram_table(console, result)
    probe_summary(console, result)
    console.print()


def probe_summary(console: Console, result: Any) -> None:
    """One line per initializer: how the signal and the gradient changed through the stack."""
    jac = ""
    if result.jacobian is not None:
        jac = (f"; Jacobian mean σ² {fmt(result.jacobian['mean_sq_singular_value'])}, "
               f"condition {fmt(result.jacobian['condition_number'])}")
    console.print(f"{result.init}: activation std last/first layer {fmt(result.forward_ratio)}, "
                  f"gradient std first/last layer {fmt(result.backward_ratio)}{jac}",
                  markup=False)


def _histogram_table(console: Console, result: Any) -> None:
    """Per layer the range of its activations and their histogram as a line of bars; the range
    over two lines when the console is too narrow for one."""
    h = table("activation histograms")
    h.add_column("layer", justify="right")
    h.add_column("range", justify="right", no_wrap=True)
    h.add_column("distribution", no_wrap=True)
    layers, ranges, bars = [], [], []
    for r in result.layers:
        counts, edges = r.histogram
        layers.append(str(r.layer))
        ranges.append((f"{edges[0]:.3g}", f"{edges[-1]:.3g}"))
        bars.append(sparkline(counts))
        h.add_row(layers[-1], f"{ranges[-1][0]} … {ranges[-1][1]}", bars[-1])
    if prints_whole(console, h):
        console.print(h)
        return
    print_all(console, fit_tables(console, "activation histograms", [(
        [Col("layer", layers)],
        [Col("range", [f"{lo} …\n{hi}" for lo, hi in ranges], group="histogram"),
         Col("distribution", bars, "left", group="histogram")])]))
