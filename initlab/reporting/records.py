"""What the run folder's files hold: ``metrics.json``, ``history.csv`` rows and ``probe.json``,
built from results (arrays become JSON values here, at the edge)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from initlab.commands.pairs import Pair
from initlab.engine.stats import OPTIONAL_KEYS, STAT_KEYS, LayerStats

HISTORY_HEADER = ["iteration", "experiment", "init", "seed", "cost"]


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def layer_records(layers: LayerStats, e: int) -> list[dict[str, Any]]:
    """Experiment e's layers as the public records: ``layer`` (1-based), ``units``,
    ``activation`` and every statistic (saturated/dead share None where it does not apply)."""
    out = []
    for l in range(layers.depth):
        rec: dict[str, Any] = {"layer": l + 1, "units": layers.units[l],
                               "activation": layers.activations[l]}
        for key in STAT_KEYS:
            v = float(layers[key][e, l])
            if key == "distinct_units":
                rec[key] = int(v)
            else:
                rec[key] = None if key in OPTIONAL_KEYS and np.isnan(v) else v
        out.append(rec)
    return out


def metrics(result: Any, interrupted: bool = False) -> dict[str, Any]:
    """The public ``metrics.json`` shape: run status and one entry per experiment, with the
    iterations it completed. ``interrupted``: a stop request came before the results were
    saved (the status says so even when every experiment had finished)."""
    plan, hist = result.plan, result.history
    done = hist.iterations_done(plan.n_experiments)
    status = "interrupted" if interrupted and result.status == "completed" else result.status
    experiments = []
    for e, exp in enumerate(plan.experiments):
        div = int(hist.diverged_at[e])
        experiments.append({
            "init": exp.init, "seed": exp.seed,
            "train_accuracy": None if result.train_accuracy is None
            else _num(result.train_accuracy[e]),
            "test_accuracy": None if result.test_accuracy is None
            else _num(result.test_accuracy[e]),
            "final_cost": _num(result.final_cost[e]),
            "diverged_at": None if div < 0 else div,
            "iterations": int(done[e]),
            "cost_curve": hist.cost_curve(e),
            "layers_init": layer_records(result.layers_init, e),
            "layers_final": layer_records(result.layers_final, e),
        })
        if result.train_outputs is not None:
            experiments[-1]["train_outputs"] = result.train_outputs[e].tolist()
    out = {"name": plan.config.name, "status": status,
           "iterations": hist.n_iterations, "planned_iterations": hist.planned_iterations,
           "device": result.backend.label,
           "weights_saved": result.weights_init is not None, "experiments": experiments}
    if hist.failure:
        out["failure"] = hist.failure
    return out


def compare_extra(found: Any) -> dict[str, Any]:
    """What a comparison adds to ``metrics.json``: one ``summary`` per initializer and the
    ``compare`` settings."""
    return {"summary": [s.record() for s in found.summaries],
            "pairs": [p.record() for p in found.pairs],
            "verdict": found.verdict,
            "compare": {"success_threshold": found.success, "target_cost": found.target_cost,
                        "metric": found.metric,
                        "log_every": found.run.plan.config.train.log_every,
                        "chunk_size": found.chunking.size, "chunks": found.chunking.count}}


def _empty_header(kind: str) -> list[str]:
    """The CSV header of a list with no records (a comparison of one initializer: no pairs)."""
    if kind != "pairs":
        return []
    names = [f.name for f in dataclasses.fields(Pair)]
    return [part for n in names for part in ((f"{n}_low", f"{n}_high") if n == "ci95" else (n,))]


def rows(records: list[dict[str, Any]], kind: str = "") -> tuple[list[str], list[list[Any]]]:
    """Records (one dict each, the same keys) as a CSV header and rows; [a, b] pairs split into
    key_low and key_high columns, None as an empty cell. No records: ``kind``'s header."""
    if not records:
        return _empty_header(kind), []
    header: list[str] = []
    for key, value in records[0].items():
        header += [f"{key}_low", f"{key}_high"] if isinstance(value, list | tuple) or (
            value is None and any(isinstance(r[key], list | tuple) for r in records)) else [key]
    out = []
    for r in records:
        row: list[Any] = []
        for key, value in r.items():
            if f"{key}_low" in header:
                row += list(value) if value is not None else ["", ""]
            else:
                row.append("" if value is None else value)
        out.append(row)
    return header, out


def history_rows(result: Any) -> list[list[Any]]:
    """``history.csv`` in long format: [iteration, experiment, init, seed, cost] per logged
    cost, iteration by iteration."""
    hist, experiments = result.history, result.plan.experiments
    return [[it, e, exp.init, exp.seed, float(costs[e])]
            for t, (it, costs) in enumerate(zip(hist.log_iterations, hist.log_costs, strict=True))
            for e, exp in enumerate(experiments) if hist.logged is None or hist.logged[t, e]]


def probe_record(found: list[Any]) -> dict[str, Any]:
    """``probe.json``: one row per init and layer under ``layers``, one summary per init."""
    layers, summary = [], []
    for res in found:
        for r in res.layers:
            row = dataclasses.asdict(r)
            if row["histogram"] is None:
                row.pop("histogram")
            else:
                row["histogram"] = {"counts": list(r.histogram[0]),
                                    "edges": [float(e) for e in r.histogram[1]]}
            layers.append(row)
        summary.append({"init": res.init, "formula": res.formula,
                        "forward_ratio": res.forward_ratio, "backward_ratio": res.backward_ratio,
                        "jacobian": res.jacobian})
    return {"layers": layers, "summary": summary}
