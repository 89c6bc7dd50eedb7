"""What the run folder's files hold: ``metrics.json``, ``probe.json`` and the tidy CSV files beside
them (``history.csv``, ``experiments.csv``, ``layers.csv``, ``probe_layers.csv``, and a compare's
``summary.csv`` and ``pairs.csv``), built from results (arrays become JSON values here, at the
edge).

Every CSV cell is a number, a word or empty: None and non-finite numbers (NaN, ±inf) are empty
cells, never the text ``nan``/``inf`` (which polars would read as a string column), so
``pandas.read_csv(path)`` and ``polars.read_csv(path)`` give numeric columns with no options.
One case no CSV can type: a column empty in all of the first 100 rows polars infers from (say
``diverged_at`` when nothing diverged) is float NaN in pandas but String (all null) in polars."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from initlab.commands.pairs import Pair
from initlab.commands.seedstats import InitSummary
from initlab.engine.stats import OPTIONAL_KEYS, STAT_KEYS, LayerStats
from initlab.inits import lsuv

HISTORY_HEADER = ["iteration", "experiment", "init", "seed", "cost"]
EXPERIMENTS_HEADER = ["experiment", "init", "seed", "train_accuracy", "test_accuracy",
                      "final_cost", "diverged_at", "iterations", "status"]
LAYERS_HEADER = ["experiment", "init", "seed", "phase", "layer", "activation", "units",
                 "statistic", "value"]
PHASES = ("init", "final")  # layers.csv's phase: metrics.json's layers_init, layers_final


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
        log = result.lsuv[e] if result.lsuv else None
        if log is not None:
            params = plan.inits[exp.init].lsuv
            experiments[-1]["lsuv"] = {"params": params.model_dump(),
                                       "converged": all(x.converged for x in log),
                                       "layers": lsuv.record(log)}
    out = {"name": plan.config.name, "status": status,
           "iterations": hist.n_iterations, "planned_iterations": hist.planned_iterations,
           "device": result.backend.label, "engine": plan.engine,
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


# the (low, high) fields of summaries and pairs: always two columns, key_low and key_high, so
# the header of summary.csv and pairs.csv never depends on which intervals exist in this run
INTERVAL_KEYS = frozenset(f.name for kind in (InitSummary, Pair) for f in dataclasses.fields(kind)
                          if str(f.type).startswith("tuple"))


def _empty_header(kind: str) -> list[str]:
    """The CSV header of a list with no records (a comparison of one initializer: no pairs)."""
    if kind != "pairs":
        return []
    names = [f.name for f in dataclasses.fields(Pair)]
    return [part for n in names
            for part in ((f"{n}_low", f"{n}_high") if n in INTERVAL_KEYS else (n,))]


def rows(records: list[dict[str, Any]], kind: str = "") -> tuple[list[str], list[list[Any]]]:
    """Records (one dict each, the same keys) as a CSV header and rows; [a, b] pairs (and the
    INTERVAL_KEYS, even where every record has None) split into key_low and key_high columns,
    None and non-finite numbers as empty cells. No records: ``kind``'s header."""
    if not records:
        return _empty_header(kind), []
    split = {key for key in records[0] if key in INTERVAL_KEYS
             or any(isinstance(r[key], list | tuple) for r in records)}
    header: list[str] = []
    for key in records[0]:
        header += [f"{key}_low", f"{key}_high"] if key in split else [key]
    out = []
    for r in records:
        row: list[Any] = []
        for key, value in r.items():
            if key in split:
                row += [cell(v) for v in value] if value is not None else ["", ""]
            else:
                row.append(cell(value))
        out.append(row)
    return header, out


def cell(value: Any) -> Any:
    """A CSV cell: None and non-finite numbers empty, NumPy scalars as Python numbers."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return value


def history_rows(result: Any) -> list[list[Any]]:
    """``history.csv`` in long format: [iteration, experiment, init, seed, cost] per logged
    cost, iteration by iteration."""
    hist, experiments = result.history, result.plan.experiments
    return [[it, e, exp.init, exp.seed, cell(float(costs[e]))]
            for t, (it, costs) in enumerate(zip(hist.log_iterations, hist.log_costs, strict=True))
            for e, exp in enumerate(experiments) if hist.logged is None or hist.logged[t, e]]


def experiment_rows(record: dict[str, Any]) -> list[list[Any]]:
    """``experiments.csv`` (EXPERIMENTS_HEADER): one row per experiment of a ``metrics`` record,
    its index on the axis first and the run's ``status`` last."""
    return [[e, exp["init"], exp["seed"]] + [cell(exp[key]) for key in EXPERIMENTS_HEADER[3:-1]]
            + [record["status"]] for e, exp in enumerate(record["experiments"])]


def layer_rows(record: dict[str, Any]) -> list[list[Any]]:
    """``layers.csv`` (LAYERS_HEADER), long format: one row per experiment, phase (init, final),
    layer and statistic of a ``metrics`` record, in that order (STAT_KEYS within a layer)."""
    out = []
    for e, exp in enumerate(record["experiments"]):
        for phase in PHASES:
            for rec in exp[f"layers_{phase}"]:
                head = [e, exp["init"], exp["seed"], phase, rec["layer"], rec["activation"],
                        rec["units"]]
                out += [[*head, key, cell(rec[key])] for key in STAT_KEYS]
    return out


def probe_layer_rows(record: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """``probe_layers.csv``: one row per init and layer of a ``probe_record``, its ``layers``
    columns in order, histograms left out."""
    layers = record["layers"]
    header = [key for key in (layers[0] if layers else {}) if key != "histogram"]
    return header, [[cell(row.get(key)) for key in header] for row in record["layers"]]


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
                        "jacobian": res.jacobian,
                        "phase": None if res.phase is None else dataclasses.asdict(res.phase),
                        "depth_q": res.depth_q, "depth_c": res.depth_c,
                        "measured_xi_c": res.xi_c})
    return {"layers": layers, "summary": summary}
