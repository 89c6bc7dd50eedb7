"""`initlab sweep`: every point of a grid is one batched compare (or one probe), run in worker
processes — a local pool, or Ray tasks on a local or remote cluster — and sent back to the
driver, which writes each point's folder atomically as it arrives.

``plan`` validates every point (its config, data, network and memory) before anything runs.
``run_point`` is the whole job of one point: pure, so its numbers depend on the point alone —
never on the backend, the worker or the order (each point trains in one process, one BLAS
thread). Backends (``LocalPool``, ``RayPool``) only move ``PointTask`` out and ``PointOutcome``
back; a point that raises, or whose worker dies, comes back ``failed`` with its error and the
sweep goes on; ``--resume`` reruns the points not ``completed``.

Only ``max_in_flight`` points are submitted at a time, so the driver holds at most that many
results (each is written and dropped as it arrives) plus one small summary per point.
"""

from __future__ import annotations

import copy
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from initlab.commands import compare, meanfield, probe
from initlab.engine import memory
from initlab.engine.backend import get_backend
from initlab.errors import InitlabError, RunFailed
from initlab.experiments import config, runner
from initlab.experiments import sweep as sweep_file

BACKENDS = ("local", "ray")
STATUSES = ("completed", "failed", "interrupted", "pending")


@dataclass(frozen=True)
class PointTask:
    """What a worker needs for one point: the base file, the point's overrides, the run
    settings, the memory it may use, and where to leave its ``.running`` marker."""

    index: int
    kind: str
    base: str
    overrides: tuple[str, ...]
    inits: tuple[Any, ...] | None
    n_seeds: int | None
    seed_list: tuple[int, ...] | None
    metric: str
    memory_limit: int | None
    marker: str | None = None  # a file the worker writes its pid to while it runs

    def marked(self, path: Path) -> PointTask:
        """This task, its worker writing its pid to ``path`` while it runs."""
        return replace(self, marker=str(path))


@dataclass
class PointOutcome:
    """A point back from a worker: its status, error, seconds, the worker's pid, and the
    result to write (a CompareResult or a probe's list of InitProbe; None when failed)."""

    index: int
    status: str
    error: str | None = None
    seconds: float = 0.0
    pid: int = 0
    found: Any = None
    config_yaml: str = ""
    device: str = ""


# ------------------------------------------------------------------------------ planning

@dataclass
class PlannedPoint:
    point: sweep_file.Point
    task: PointTask
    experiments: int
    bytes: int  # memory one point needs at its peak (its chunk)


@dataclass
class SweepPlan:
    """The validated points, the device, and for a probe grid over sigma_w2 and sigma_b2 the
    theory the phase diagram draws (``phase_theory``)."""

    sweep: sweep_file.Sweep
    points: list[PlannedPoint]
    device: str
    theory: dict[str, Any] | None = None

    @property
    def experiments(self) -> int:
        return sum(p.experiments for p in self.points)


def plan(sweep: sweep_file.Sweep, *, workers: int = 1, limit: int | None = None,
         device: str | None = None) -> SweepPlan:
    """Validate every point (config, data, network, memory) before the sweep starts: a point
    that cannot fit ``limit`` (default: the free memory) shared by ``workers`` concurrent points
    is refused in one line naming it."""
    file = sweep.file
    if sweep.kind == "run" and file.metric not in compare.pairs.METRICS:
        raise InitlabError(f"{sweep.source}: metric {file.metric!r}; valid: "
                           f"{', '.join(compare.pairs.METRICS)}")
    n_seeds, seed_list = sweep_file.seeds(sweep)
    extra = [f"device={device}"] if device is not None else []
    share = None if limit is None else max(1, limit // max(1, workers))
    planned, device_label = [], ""
    for point in sweep.points:
        sets = tuple(sweep_file.overrides(sweep, point) + extra)
        task = PointTask(point.index, sweep.kind, str(sweep.base), sets,
                         tuple(file.inits) if file.inits else None, n_seeds,
                         tuple(seed_list) if seed_list else None, file.metric, share)
        try:
            if sweep.kind == "run":
                built = compare.setup(_options(task))
                backend = get_backend(built.config.device)
                room = share if share is not None else memory.budget(backend).bytes // max(
                    1, workers)
                chunks = runner.chunks_for(built, backend, room)
                need, n = chunks.size * chunks.per_experiment, built.n_experiments
            else:
                cfg = probe_config(task)
                backend = get_backend(cfg.device)
                need, n = probe.check_memory(cfg, backend, share), len(cfg.inits) * len(
                    cfg.seeds)
        except InitlabError as err:
            raise InitlabError(f"point {point.index} ({point.label()}): {err}") from None
        device_label = backend.label
        planned.append(PlannedPoint(point, task, n, need))
    theory = phase_theory(sweep, probe_config(planned[0].task)) if sweep.kind == "probe" else None
    return SweepPlan(sweep, planned, device_label, theory)


EDGE_POINTS = 31  # σ_b² values at which the phase diagram's edge of chaos is located
EDGE_RTOL = 1e-6  # … and its relative accuracy in σ_w² (a line on a picture)


def phase_theory(sweep: sweep_file.Sweep, first: config.ProbeConfig) -> dict[str, Any] | None:
    """For a probe grid over exactly sigma_w2 and sigma_b2: {"activation", "edge_of_chaos":
    [[σ_b², σ_w²], …]}, the line χ₁ = 1 (``meanfield.edge_of_chaos``) at EDGE_POINTS σ_b²
    across the grid's range, where it crosses the grid's σ_w² range; else None."""
    grid = sweep.file.grid
    if set(grid) != set(sweep_file.PHASE_KEYS):
        return None
    lo, hi = min(grid["sigma_w2"]), max(grid["sigma_w2"])
    b_lo, b_hi = min(grid["sigma_b2"]), max(grid["sigma_b2"])
    edge = []
    for k in range(EDGE_POINTS):
        sb2 = b_lo + (b_hi - b_lo) * k / (EDGE_POINTS - 1)
        try:
            edge.append([sb2, meanfield.edge_of_chaos(first.activation, sb2, lo, hi,
                                                           EDGE_RTOL)])
        except InitlabError:  # χ₁ = 1 lies outside [lo, hi] at this σ_b²
            continue
    return {"activation": first.activation, "edge_of_chaos": edge}


def _options(task: PointTask) -> compare.Options:
    return compare.Options(Path(task.base), list(task.inits) if task.inits else None,
                           task.n_seeds, list(task.seed_list) if task.seed_list else None,
                           list(task.overrides), metric=task.metric)


def probe_config(task: PointTask) -> config.ProbeConfig:
    """A probe point's config: the base probe file, its inits and seeds, the overrides."""
    data = copy.deepcopy(_read_base(task.base))
    if task.inits:
        data["inits"] = list(task.inits)
    if task.n_seeds is not None:
        data["seeds"] = list(range(task.n_seeds))
    elif task.seed_list:
        data["seeds"] = list(task.seed_list)
    for assignment in task.overrides:
        config.apply_override(data, assignment)
    return config.validate(data, task.base, config.ProbeConfig)


@functools.lru_cache(maxsize=4)
def _read_base(path: str) -> dict[str, Any]:
    """A base file's mapping, read once per process (``plan`` builds every point from it)."""
    return config.read(path)


# ------------------------------------------------------------------------------ one point

def run_point(task: PointTask) -> PointOutcome:
    """Run one point in this process and return what the driver writes; never raises for a
    bad point (its one-line error comes back as ``failed``)."""
    start, pid = time.perf_counter(), os.getpid()
    if task.marker:
        Path(task.marker).write_text(f"{pid}\n")
    try:
        if task.kind == "run":
            built = compare.setup(_options(task))
            backend = get_backend(built.config.device)
            found = compare.run(built, backend,
                                chunking=runner.chunks_for(built, backend, task.memory_limit),
                                metric=task.metric)
            status = found.run.status
            error = found.run.history.failure
            if status == "completed" and not any(s.finite for s in found.summaries):
                status, error = "failed", "every experiment diverged"
            yaml_text = config.dump(found.run.plan.config)
        else:
            cfg = probe_config(task)
            backend = get_backend(cfg.device)
            found, status, error, yaml_text = probe.run(cfg, backend.xp), "completed", None, \
                config.dump(cfg)
    except (InitlabError, RunFailed, MemoryError, OSError) as err:
        return PointOutcome(task.index, "failed", _one_line(err), time.perf_counter() - start,
                            pid)
    return PointOutcome(task.index, status, error, time.perf_counter() - start, pid, found,
                        yaml_text, backend.label)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    what = text[0] if text else ""
    return what if isinstance(err, InitlabError | RunFailed) else f"{type(err).__name__}: {what}"


# ------------------------------------------------------------------------------ backends

WORKER_DIED = "its worker process died (killed, or out of memory)"


class LocalPool:
    """Points in a pool of ``workers`` spawned processes (concurrent.futures)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = self._new()

    def _new(self) -> Any:
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    @property
    def slots(self) -> int:
        return self.workers

    def submit(self, task: PointTask) -> Any:
        return self._pool.submit(run_point, task)

    def wait(self, pending: dict[Any, PointTask], timeout: float) -> list[PointOutcome]:
        from concurrent.futures import FIRST_COMPLETED  # noqa: PLC0415
        from concurrent.futures import wait as wait_any  # noqa: PLC0415
        from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

        done, _ = wait_any(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
        out, broken = [], False
        for future in done:
            task = pending.pop(future)
            try:
                out.append(future.result())
            except BrokenProcessPool:
                broken = True
                out.append(PointOutcome(task.index, "failed", WORKER_DIED))
        if broken:  # a dead worker breaks the whole pool: its other points fail with it
            for future, task in list(pending.items()):
                pending.pop(future)
                out.append(PointOutcome(task.index, "failed", WORKER_DIED))
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new()
        return out

    def stop(self) -> None:
        """Stop the workers now (their points are lost: the caller marks them)."""
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)


class RayPool:
    """Points as Ray tasks on a local cluster (``ray.init()``) or a running one (``address``),
    each asking for ``cpus`` CPUs and ``gpus`` GPUs; Ray does not retry them (a failed point is
    recorded, and --resume reruns it)."""

    name = "ray"

    def __init__(self, address: str | None, cpus: float, gpus: float,
                 num_cpus: int | None = None) -> None:
        try:
            import ray  # noqa: PLC0415
        except ImportError:
            raise InitlabError("--backend ray needs Ray: pip install 'initlab[ray]' (or "
                               "pip install ray)") from None
        self.ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address, "log_to_driver": False,
                                      "include_dashboard": False, "logging_level": "ERROR"}
            if address is None and num_cpus is not None:
                kwargs["num_cpus"] = num_cpus
            ray.init(**kwargs)
        self._remote = ray.remote(run_point).options(num_cpus=cpus, num_gpus=gpus,
                                                     max_retries=0)
        total = ray.cluster_resources().get("CPU", 1.0)
        self._slots = max(1, int(total // max(cpus, 1e-9)))

    @property
    def slots(self) -> int:
        return self._slots

    def submit(self, task: PointTask) -> Any:
        return self._remote.remote(task)

    def wait(self, pending: dict[Any, PointTask], timeout: float) -> list[PointOutcome]:
        done, _ = self.ray.wait(list(pending), num_returns=1, timeout=timeout)
        out = []
        for ref in done:
            task = pending.pop(ref)
            try:
                out.append(self.ray.get(ref))
            except self.ray.exceptions.RayError as err:  # a dead worker, a lost node
                out.append(PointOutcome(task.index, "failed", _ray_error(err)))
        return out

    def stop(self) -> None:
        """Cancel what is in flight (force: the workers are killed)."""


def _ray_error(err: BaseException) -> str:
    name = type(err).__name__
    if "Crashed" in name or "Died" in name or "NodeDied" in name:
        return WORKER_DIED
    return f"{name}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"


# ------------------------------------------------------------------------------ the loop

@dataclass
class Progress:
    """Counts the live display shows."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    started: float = field(default_factory=time.perf_counter)


def execute(tasks: list[PointTask], pool: Any, on_outcome: Callable[[PointOutcome], None],
            stop_requested: Callable[[], bool], on_progress: Callable[[Progress], None] |
            None = None, max_in_flight: int | None = None) -> list[int]:
    """Run ``tasks`` on ``pool``, at most ``max_in_flight`` (default: the pool's slots) at a
    time, calling ``on_outcome`` for each as it arrives. A stop request stops submitting and
    ends the points in flight; returns the indices of the points it did not finish."""
    queue: Iterator[PointTask] = iter(tasks)
    pending: dict[Any, PointTask] = {}
    progress = Progress(len(tasks))
    limit = max_in_flight or pool.slots
    stopped = False
    while True:
        while not stopped and len(pending) < limit:
            task = next(queue, None)
            if task is None:
                break
            pending[pool.submit(task)] = task
        progress.running = len(pending)
        if on_progress:
            on_progress(progress)
        if not pending:
            break
        if not stopped and stop_requested():
            stopped = True
            pool.stop()
            return [t.index for t in pending.values()] + [t.index for t in queue]
        for outcome in pool.wait(pending, timeout=0.2):
            progress.done += 1
            progress.failed += outcome.status == "failed"
            on_outcome(outcome)
    return []
