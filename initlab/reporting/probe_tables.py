"""What ``initlab probe`` prints: per layer, measured statistics beside mean-field theory."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from initlab.reporting.format import fmt, pct, sparkline, table


def probe_table(console: Console, result: Any, histograms: bool) -> None:
    """One init's layers: measured activation std beside theory, saturation, gradients, flags."""
    t = table(f"{result.init}: {result.formula}")
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
        h = table("activation histograms")
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
