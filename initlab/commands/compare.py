"""`initlab compare`: one experiment file under several initializers × seeds, trained as one
batch.

``options`` checks the command line's shapes, ``setup`` turns them into a validated plan (the
experiment axis laid out init-major: all seeds of the first initializer, then the next), ``run``
trains it and reduces it to one ``InitSummary`` per initializer (``seedstats``), the median cost
curves and a verdict: a ``CompareResult``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from initlab.commands import pairs, seedstats
from initlab.engine import memory, train
from initlab.engine.backend import Backend
from initlab.errors import InitlabError, suggest
from initlab.experiments import config, runner
from initlab.experiments.plan import Plan, build

DEFAULT_CONFIG = config.SHIPPED / "he_circles.yaml"
DEFAULT_INITS = "zeros,random,he"
CURVE_POINTS = 100  # compare logs the cost about this many times (the time-to-target grid)


DEFAULT_SUCCESS, DEFAULT_TARGET_COST = 0.9, 0.3


@dataclass(frozen=True)
class Options:
    """The command's choices, already parsed from text; None: the experiment file's
    ``compare`` section decides, else the defaults."""

    config: Path
    inits: list[str] | None
    n_seeds: int | None
    seed_list: list[int] | None
    overrides: list[str]
    success: float | None = None
    target_cost: float | None = None
    metric: str = "train_accuracy"
    ci: str = "auto"


def parse_seed_list(text: str) -> list[int]:
    """'0,7,19' → [0, 7, 19] (non-negative, distinct), else one-line error."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise InitlabError(f"--seed-list: {part!r} is not a non-negative integer; "
                               "write e.g. --seed-list 0,7,19")
        seeds.append(int(part))
    if len(set(seeds)) != len(seeds):
        dup = sorted({s for s in seeds if seeds.count(s) > 1})
        raise InitlabError(f"--seed-list: seed(s) {dup} listed twice; seeds must be distinct")
    return seeds


def options(config_path: Path | None, inits: str | None, n_seeds: int | None,
            seed_list: str | None, overrides: list[str], success: float | None = None,
            target_cost: float | None = None, metric: str = "train_accuracy",
            ci: str = "auto") -> Options:
    """Check the command line's shapes (no registries yet): one-line errors."""
    if metric not in pairs.METRICS:
        raise InitlabError(f"--metric: unknown metric {metric!r}; valid: "
                           f"{', '.join(pairs.METRICS)}{suggest(metric, pairs.METRICS)}")
    if ci not in seedstats.CI_METHODS:
        raise InitlabError(f"--ci: unknown interval {ci!r}; valid: "
                           f"{', '.join(seedstats.CI_METHODS)}{suggest(ci, seedstats.CI_METHODS)}")
    if n_seeds is not None and seed_list is not None:
        raise InitlabError("give --seeds N or --seed-list a,b,…, not both")
    if n_seeds is not None and n_seeds < 1:
        raise InitlabError(f"--seeds must be at least 1, got {n_seeds}")
    path = config.locate(config_path) if config_path is not None else DEFAULT_CONFIG
    return Options(path, config.split_specs(inits) if inits is not None else None,
                   n_seeds, parse_seed_list(seed_list) if seed_list is not None else None,
                   list(overrides), success, target_cost, metric, ci)


def log_grid(cfg: config.RunConfig, n_train: int) -> int:
    """Log step for compare: the file's ``log_every``, refined to about CURVE_POINTS points."""
    total = cfg.train.epochs * train.iterations_per_epoch(n_train, cfg.train.batch_size)
    return max(1, min(cfg.train.log_every, -(-total // CURVE_POINTS)))


def setup(opts: Options) -> Plan:
    """The validated plan: inits × seeds on one experiment axis, cost logged on a fine grid.
    What was left unsaid comes from the file's ``compare`` section, else the defaults; the
    plan's config records the comparison in its ``compare`` section."""
    cfg = config.load(opts.config, opts.overrides)
    saved = cfg.compare
    if opts.seed_list is not None:
        seeds = opts.seed_list
    elif opts.n_seeds is None and saved is not None:
        seeds = saved.seeds
    else:
        seeds = range(cfg.seed, cfg.seed + (opts.n_seeds or 1))
    inits = opts.inits or (saved.inits if saved is not None else
                           config.split_specs(DEFAULT_INITS))
    plan = build(cfg, seeds=seeds, inits=inits, base_dir=opts.config.parent)
    chosen = config.CompareSection(
        inits=inits, seeds=list(seeds),
        success=_first(opts.success, saved and saved.success, DEFAULT_SUCCESS),
        target_cost=_first(opts.target_cost, saved and saved.target_cost, DEFAULT_TARGET_COST))
    update = {"compare": chosen}
    fine = log_grid(cfg, plan.dataset.n_train)
    if fine != cfg.train.log_every:
        update["train"] = cfg.train.model_copy(update={"log_every": fine})
    plan.config = cfg.model_copy(update=update)
    return plan


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


@dataclass
class CompareResult:
    """A finished (or interrupted) comparison: the run, one summary per initializer in the order
    given, the index of the best (by ``metric``), the best against every other initializer seed
    by seed (``pairs``), the verdict's lines, and each initializer's median cost curve."""

    run: runner.RunResult
    summaries: list[seedstats.InitSummary]
    best: int | None
    metric: str
    pairs: list[pairs.Pair]
    verdict: list[str]
    curves: dict[str, np.ndarray]
    success: float
    target_cost: float
    chunking: memory.ChunkPlan


def run(plan: Plan, backend: Backend, *, chunking: memory.ChunkPlan,
        callbacks: runner.Callbacks | None = None, n_workers: int = 1,
        metric: str = "train_accuracy", ci: str = "auto") -> CompareResult:
    """Train every init × seed of the plan in ``chunking``'s chunks, summarize each initializer
    (success threshold and target cost from the plan) and compare the best on ``metric`` with
    the others, seed by seed (accuracy metrics fall back to final_cost for a regression task)."""
    success, target_cost = plan.config.compare.success, plan.config.compare.target_cost
    result = runner.execute(plan, backend, callbacks, n_workers=n_workers, chunks=chunking)
    summaries = summarize(result, success, target_cost, ci)
    if metric.endswith("accuracy") and result.train_accuracy is None:
        metric = "final_cost"
    best, paired = pairs.against_best(metric_values(result, metric, target_cost), metric)
    index = next((i for i, s in enumerate(summaries) if s.init == best), None)
    return CompareResult(result, summaries, index, metric, paired,
                         pairs.verdict(best, paired, metric), median_curves(result), success,
                         target_cost, chunking)


def metric_values(result: runner.RunResult, metric: str,
                  target_cost: float) -> dict[str, dict[int, float]]:
    """{init: {seed: value}} of ``metric`` (one of ``pairs.METRICS``): NaN for an experiment that
    diverged (accuracies, final cost); a target never reached counts as the run's length."""
    hist = result.history
    if metric in ("train_accuracy", "test_accuracy"):
        values = getattr(result, metric)
    elif metric == "final_cost":
        values = np.where(np.isfinite(result.final_cost), result.final_cost, np.nan)
    else:
        first = seedstats.first_below(hist.log_iterations, np.stack(hist.log_costs), target_cost)
        values = np.where(first >= 0, first, hist.planned_iterations).astype(np.float64)
    experiments = result.plan.experiments
    return {init: {experiments[e].seed: float(values[e]) for e in range(rows.start, rows.stop)}
            for init, rows in result.plan.groups.items()}


def summarize(result: runner.RunResult, success: float, target_cost: float,
              ci: str = "auto") -> list[seedstats.InitSummary]:
    """One summary per initializer, in the order given, from a finished (or interrupted) run."""
    hist = result.history
    to_target = seedstats.first_below(hist.log_iterations, np.stack(hist.log_costs), target_cost)
    return [seedstats.summarize_init(
        init, _pick(result.train_accuracy, rows), _pick(result.test_accuracy, rows),
        result.final_cost[rows], to_target[rows], hist.diverged_at[rows], success, ci)
        for init, rows in result.plan.groups.items()]


def _pick(values: np.ndarray | None, rows: slice) -> np.ndarray | None:
    return None if values is None else values[rows]


def median_curves(result: runner.RunResult) -> dict[str, np.ndarray]:
    """{init: median cost over its seeds at every log step (non-finite counts as +inf)}."""
    costs = np.stack(result.history.log_costs)
    costs = np.where(np.isfinite(costs), costs, np.inf)
    return {init: np.median(costs[:, rows], axis=1)
            for init, rows in result.plan.groups.items()}
