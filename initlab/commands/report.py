"""``initlab report``: a saved results folder read back into the results its command printed.

Nothing is trained or probed again: the plan is rebuilt from ``config.yaml`` (the data set is
regenerated, which is cheap and seeded), the numbers come from ``metrics.json`` (or
``probe.json``), the weights from the ``.npz`` files when they were kept. Strict JSON wrote
NaN and ±inf as null; they come back as NaN.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from initlab.commands import compare, meanfield, pairs, probe, seedstats
from initlab.engine import memory, stats, train
from initlab.engine.backend import get_backend
from initlab.errors import InitlabError, reason
from initlab.experiments import config, plan, runner
from initlab.inits import lsuv

KINDS = ("run", "compare", "probe")


@dataclass
class Saved:
    """One results folder, read back. ``kind`` is 'run', 'compare' or 'probe'; ``run`` is set
    for run and compare, ``compare`` for compare, ``probe``/``probe_config`` for probe;
    ``device`` the device label the command printed, ``overrides`` its --set options."""

    kind: str
    folder: Path
    device: str
    overrides: list[str]
    run: runner.RunResult | None = None
    compare: compare.CompareResult | None = None
    probe: list[probe.InitProbe] | None = None
    probe_config: config.ProbeConfig | None = None


def read_json(path: Path) -> Any:
    """A JSON file of a results folder; one-line InitlabError when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InitlabError(f"cannot read {path}: {reason(exc)}") from None



def read_weights(path: Path) -> tuple[list[tuple[str, int]] | None, dict[str, np.ndarray]]:
    """([(init, seed)] from the file's label arrays, or None for a file written before them;
    the parameters W1, b1, …) of a weights file; one-line InitlabError when unreadable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InitlabError(f"cannot read {path}: {reason(exc)}") from None
    if "init" not in arrays or "seed" not in arrays:
        return None, arrays
    labels = [(str(i), int(s)) for i, s in zip(arrays.pop("init"), arrays.pop("seed"),
                                                strict=True)]
    return labels, arrays


def load(folder: Path) -> Saved:
    """The results folder ``folder`` as the command left it; one-line InitlabError when it is
    not an initlab results folder or its files disagree."""
    if not folder.is_dir():
        raise InitlabError(f"no results folder at {folder}")
    for name in ("config.yaml",):
        if not (folder / name).is_file():
            raise InitlabError(f"{folder} is not an initlab results folder: no {name}")
    env_path = folder / "environment.json"
    env = read_json(env_path) if env_path.is_file() else {}
    overrides = [str(o) for o in env.get("overrides", [])]
    if (folder / "probe.json").is_file():
        cfg = config.validate(config.read(folder / "config.yaml"), str(folder / "config.yaml"),
                              config.ProbeConfig)
        return Saved("probe", folder, str(env.get("device", cfg.device)), overrides,
                     probe=probe_results(read_json(folder / "probe.json")), probe_config=cfg)
    if not (folder / "metrics.json").is_file():
        raise InitlabError(f"{folder} is not an initlab results folder: no metrics.json or "
                           "probe.json")
    found = read_json(folder / "metrics.json")
    result = run_result(folder, found)
    saved = Saved("run", folder, str(found.get("device", result.backend.label)), overrides,
                  run=result)
    if "summary" in found:
        saved.kind, saved.compare = "compare", compare_result(result, found)
    return saved


def _array(values: list[Any]) -> np.ndarray:
    """JSON numbers (null: a non-finite value) as float64, null → NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _plan(folder: Path, experiments: list[dict[str, Any]]) -> plan.Plan:
    """The plan of ``config.yaml`` (a run's seeds counted from its ``seed``, a comparison's in
    its ``compare`` section), checked against the experiments metrics.json lists."""
    cfg = config.load(folder / "config.yaml")
    labels = [(str(e["init"]), int(e["seed"])) for e in experiments]
    if cfg.compare is not None:
        seeds, inits = cfg.compare.seeds, cfg.compare.inits
    else:  # run --seeds N: seed … seed + N − 1
        seeds, inits = range(cfg.seed, cfg.seed + len(labels)), None
    built = plan.build(cfg, seeds=seeds, inits=inits, base_dir=folder)
    if [(e.init, e.seed) for e in built.experiments] != labels:
        raise InitlabError(f"{folder}: config.yaml and metrics.json describe different "
                           "experiments; the folder was edited")
    return built


def _history(found: dict[str, Any], experiments: list[dict[str, Any]]) -> train.History:
    """The training history from every experiment's ``cost_curve``."""
    grid = sorted({int(it) for e in experiments for it, _ in e["cost_curve"]})
    row = {it: t for t, it in enumerate(grid)}
    costs = np.full((len(grid), len(experiments)), np.nan)
    logged = np.zeros(costs.shape, dtype=bool)
    for e, exp in enumerate(experiments):
        for it, cost in exp["cost_curve"]:
            costs[row[int(it)], e] = np.nan if cost is None else cost
            logged[row[int(it)], e] = True
    done = np.array([int(e["iterations"]) for e in experiments], dtype=np.int64)
    n_iterations = int(found["iterations"])
    uniform = bool(logged.all()) and bool((done == n_iterations).all())
    return train.History(
        log_iterations=grid, log_costs=list(costs), n_iterations=n_iterations,
        planned_iterations=int(found["planned_iterations"]),
        diverged_at=np.array([-1 if e["diverged_at"] is None else int(e["diverged_at"])
                              for e in experiments], dtype=np.int64),
        interrupted=found["status"] == "interrupted", iterations=None if uniform else done,
        logged=None if uniform else logged, failure=found.get("failure"))


def layer_stats(experiments: list[dict[str, Any]], key: str) -> stats.LayerStats:
    """The per-layer statistics under ``key`` ('layers_init' or 'layers_final') as LayerStats."""
    first = experiments[0][key]
    values = {k: np.array([[np.nan if r[k] is None else r[k] for r in e[key]]
                           for e in experiments], dtype=np.float64) for k in stats.STAT_KEYS}
    return stats.LayerStats(tuple(int(r["units"]) for r in first),
                            tuple(str(r["activation"]) for r in first), values)


def _weights(path: Path, labels: list[tuple[str, int]]) -> dict[str, np.ndarray] | None:
    """The parameters of a weights file (None when the run did not keep them), checked against
    the experiments of metrics.json when the file labels its axis."""
    if not path.is_file():
        return None
    found, arrays = read_weights(path)
    if found is not None and found != labels:
        raise InitlabError(f"{path} and metrics.json describe different experiments; the "
                           "folder was edited")
    return arrays


def run_result(folder: Path, found: dict[str, Any]) -> runner.RunResult:
    """A run's RunResult from its folder (``found`` is its metrics.json)."""
    experiments = found.get("experiments") or []
    if not experiments:
        raise InitlabError(f"{folder / 'metrics.json'} lists no experiments")
    built = _plan(folder, experiments)
    labels = [(e.init, e.seed) for e in built.experiments]
    accuracies = {key: None if all(e[key] is None for e in experiments)
                  else _array([e[key] for e in experiments])
                  for key in ("train_accuracy", "test_accuracy")}
    outputs = (np.array([e["train_outputs"] for e in experiments], dtype=np.float64)
               if "train_outputs" in experiments[0] else None)
    return runner.RunResult(
        built, get_backend("cpu"), _history(found, experiments),
        _weights(folder / "weights_init.npz", labels),
        _weights(folder / "weights_final.npz", labels),
        layer_stats(experiments, "layers_init"), layer_stats(experiments, "layers_final"),
        accuracies["train_accuracy"], accuracies["test_accuracy"],
        _array([e["final_cost"] for e in experiments]), outputs,
        lsuv=[None if "lsuv" not in e else
              [lsuv.LayerLog.from_record(x) for x in e["lsuv"]["layers"]] for e in experiments])


def _tuples(record: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}


def compare_result(result: runner.RunResult, found: dict[str, Any]) -> compare.CompareResult:
    """A comparison as it was printed: its saved summaries, pairs and verdict, and the median
    cost curves of its history."""
    settings = found["compare"]
    summaries = [seedstats.InitSummary(**_tuples(s)) for s in found["summary"]]
    paired = [pairs.Pair(**_tuples(p)) for p in found.get("pairs", [])]
    metric, target_cost = settings["metric"], float(settings["target_cost"])
    best = pairs.best_init(compare.metric_values(result, metric, target_cost), metric)
    index = next((i for i, s in enumerate(summaries) if s.init == best), None)
    n = result.plan.n_experiments
    chunking = memory.ChunkPlan(n, int(settings.get("chunk_size", n)), 0, 0)
    return compare.CompareResult(result, summaries, index, metric, paired,
                                 list(found["verdict"]), compare.median_curves(result),
                                 float(settings["success_threshold"]), target_cost, chunking)


_OPTIONAL_PROBE = {"saturated_fraction", "dead_fraction", "loss_grad_std", "histogram",
                   "correlation", "predicted_correlation"}


def probe_results(found: dict[str, Any]) -> list[probe.InitProbe]:
    """``probe.json`` back as one InitProbe per initializer (null → NaN where a number is
    always present, None where it may be absent)."""
    by_init: dict[str, list[probe.LayerProbe]] = {}
    for row in found["layers"]:
        row = dict(row)
        hist = row.get("histogram")
        row["histogram"] = None if hist is None else (list(hist["counts"]),
                                                      [float(e) for e in hist["edges"]])
        for key, value in row.items():
            if value is None and key not in _OPTIONAL_PROBE:
                row[key] = np.nan
        by_init.setdefault(row["init"], []).append(probe.LayerProbe(**row))
    return [probe.InitProbe(s["init"], s["formula"], by_init.get(s["init"], []),
                            np.nan if s["forward_ratio"] is None else s["forward_ratio"],
                            np.nan if s["backward_ratio"] is None else s["backward_ratio"],
                            s["jacobian"], phase=_phase(s.get("phase")),
                            depth_q=s.get("depth_q"), depth_c=s.get("depth_c"),
                            xi_c=s.get("measured_xi_c"))
            for s in found["summary"]]


def _phase(saved: dict[str, Any] | None) -> meanfield.Phase | None:
    """A saved phase back (a depth scale or q* saved as null — infinite — comes back NaN)."""
    if saved is None:
        return None
    return meanfield.Phase(**{k: np.nan if v is None else v for k, v in saved.items()})
