"""The tables a command printed, printed again from its saved folder (``commands.report.Saved``):
the same functions, in the same order, as the live command."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from initlab.commands import probe
from initlab.reporting import compare_tables, probe_tables, run_tables


def tables(console: Console, saved: Any) -> None:
    """Everything the command printed on stdout but its progress bar and its last line
    (``results: …``), and the chunking line, whose memory figures were not saved."""
    if saved.kind == "probe":
        cfg = saved.probe_config
        console.print(probe.describe(cfg, saved.device, probe.peak_bytes(cfg)), markup=False)
        for result in saved.probe:
            probe_tables.probe_table(console, result, cfg.histograms)
        return
    result = saved.run
    run_tables.header(console, result.plan, saved.device)
    if saved.kind == "compare":
        compare_tables.render(console, saved.compare, summary_only=False)
        return
    if saved.overrides:
        console.print(f"overrides: {' '.join(saved.overrides)}", markup=False, style="dim")
    run_tables.layer_table(console, result.layers_init, "Per layer at initialization",
                           symmetry=True)
    hist = result.history
    for t, iteration in enumerate(hist.log_iterations):
        costs = hist.log_costs[t] if hist.logged is None else hist.log_costs[t][hist.logged[t]]
        console.print(run_tables.cost_line(iteration, costs, ""), markup=False)
    run_tables.lsuv_lines(console, result)
    run_tables.layer_table(console, result.layers_final, "Per layer after training",
                           symmetry=True)
    run_tables.final_table(console, result)
