"""``initlab run``: one experiment file, one seed or N seeds as slices of one batched training."""

from __future__ import annotations

from pathlib import Path

from initlab.engine import memory
from initlab.engine.backend import Backend, get_backend
from initlab.experiments import plan, runner


def prepare(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
            n_seeds: int | None = None) -> tuple[plan.Plan, Backend]:
    """The validated plan of an experiment file (``--set`` overrides applied; ``n_seeds``
    seeds from the file's ``seed`` on) and the device it asks for."""
    built = plan.from_file(path, overrides, n_seeds)
    return built, get_backend(built.config.device)


def run(built: plan.Plan, backend: Backend, callbacks: runner.Callbacks | None = None,
        n_workers: int = 1, chunks: memory.ChunkPlan | None = None) -> runner.RunResult:
    """Train every experiment of the plan; see ``experiments.runner.execute``."""
    return runner.execute(built, backend, callbacks, n_workers=n_workers, chunks=chunks)
