"""Training benchmarks: the batched engine against the notebook-style one-model NumPy loop
(measurements only; ``reporting.bench_tables`` prints them).

Both train the he_circles experiment (2 → 10 → 5 → 1, 300 samples, full-batch gradient descent)
from the same starting weights, timed in the same process, interleaved, best of ``repeat``.
Ratios are baseline time / initlab time, so > 1 means initlab is faster.

- ``train_benchmark``: one model (E = 1) and 20 seeds, against the loop on one model.
- ``compare_benchmark``: ``initlab compare --inits zeros,random,he --seeds 20`` (60 models, the
  whole compare pipeline: initial draws, statistics, training, accuracies) against the loop
  training the same 60 models one after another, in float64 on one core and on all cores
  (worker processes), and in float32. The last column counts the models whose train accuracy
  equals the loop's (random×10 models saturate and depend on rounding; see the README).
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from initlab.commands import compare, reference
from initlab.commands.run import prepare
from initlab.engine import nn, train
from initlab.engine.backend import get_backend
from initlab.experiments import runner
from initlab.experiments.plan import initial_values

CONFIG = compare.DEFAULT_CONFIG
BATCH_SEEDS = 20
COMPARE_INITS = ["zeros", "random", "he"]


@dataclass(frozen=True)
class Timing:
    """One benchmarked method: best time over the repeats, models trained, the speed-up over
    the baseline per model (baseline s/model ÷ this s/model) and, for compare rows, how many
    models ended with the loop's train accuracy."""

    method: str
    models: int
    seconds: float
    us_per_iteration: float | None
    speedup: float
    same_accuracy: int | None = None
    target: str = ""


@dataclass(frozen=True)
class Bench:
    """A benchmark table: what was timed (``title``) and one Timing per method, baseline first."""

    title: str
    rows: list[Timing]
    baseline: str = "loop"  # the speed-up column's heading: 'vs loop'
    note: str = "target"  # the last column's heading


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _tick(on_step: Callable[[int, int], None] | None, total: int) -> Callable[[], None]:
    done = [0]

    def tick() -> None:
        done[0] += 1
        if on_step is not None:
            on_step(done[0], total)
    return tick


def _process(argv: list[str], cwd: Path) -> float:
    """Wall time of a whole process, start to exit (its output discarded)."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


def _initlab() -> list[str]:
    beside = Path(sys.executable).parent / "initlab"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "initlab"]


HELP_TARGET_S, RUN_TARGET_RATIO = 0.3, 0.7
PLOT_TARGET_S = 1.0  # what --plot may add to `initlab run he_circles`, whole process


def process_benchmark(repeat: int, on_step: Callable[[int, int], None] | None = None) -> Bench:
    """Whole processes, as a user waits for them, best of ``repeat``, interleaved: the notebook
    loop as its own script (``python -m initlab.commands.reference``: he_circles, 15 000
    iterations, its own data loading), ``initlab run he_circles`` (the same training, reported
    and saved), the same with ``--plot`` when matplotlib is installed (what the pictures and
    report.html add, against PLOT_TARGET_S) and ``initlab --help``."""
    runs = [("loop", [sys.executable, "-m", "initlab.commands.reference"]),
            ("run", [*_initlab(), "run", "he_circles", "--quiet", "--out", "run-{k}"])]
    if importlib.util.find_spec("matplotlib") is not None:
        runs.append(("plot", [*_initlab(), "run", "he_circles", "--quiet", "--plot", "--out",
                              "plot-{k}"]))
    runs.append(("help", [*_initlab(), "--help"]))
    tick = _tick(on_step, len(runs) * repeat)
    best = dict.fromkeys((name for name, _ in runs), math.inf)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for k in range(repeat):
            for name, argv in runs:
                best[name] = min(best[name], _process([a.format(k=k) for a in argv], cwd))
                tick()
    loop, run = best["loop"], best["run"]
    rows = [Timing("notebook loop as a script (baseline)", 1, loop, None, 1.0),
            Timing("initlab run he_circles", 1, run, None, loop / run,
                   target=f"≤ {RUN_TARGET_RATIO}× the loop: "
                          f"{'met' if run <= RUN_TARGET_RATIO * loop else 'not met'} "
                          f"({run / loop:.2f}×)")]
    if "plot" in best:
        extra = best["plot"] - run
        rows.append(Timing("initlab run he_circles --plot", 1, best["plot"], None,
                           loop / best["plot"],
                           target=f"pictures + page < {PLOT_TARGET_S} s: "
                                  f"{'met' if extra < PLOT_TARGET_S else 'not met'} "
                                  f"(+{extra:.2f} s)"))
    rows.append(Timing("initlab --help", 1, best["help"], None, loop / best["help"],
                       target=f"< {HELP_TARGET_S} s: "
                              f"{'met' if best['help'] < HELP_TARGET_S else 'not met'}"))
    return Bench(f"whole processes, best of {repeat} (he_circles, 15000 iterations)", rows)


def train_benchmark(iterations: int, repeat: int,
                    on_step: Callable[[int, int], None] | None = None) -> Bench:
    """Best times of the baseline loop, the engine at E = 1 and at E = 20 seeds."""
    tick = _tick(on_step, 3 * repeat)
    overrides = [f"train.epochs={iterations}", f"train.log_every={iterations}"]
    plan1, backend = prepare(CONFIG, overrides)
    planN, _ = prepare(CONFIG, overrides, n_seeds=BATCH_SEEDS)
    data, cfg = plan1.dataset, plan1.config
    X, Y = data.X_train, data.y_train
    start1, startN = initial_values(plan1), initial_values(planN)

    def baseline() -> None:
        params = {k: (v[0] if k.startswith("W") else v[0][:, None]) for k, v in start1.items()}
        reference.model(X, Y, params, cfg.train.lr, iterations, log_every=iterations)

    def engine(plan, start) -> None:
        p = nn.ParamStore(np, plan.net, plan.n_experiments, np.float64)
        p.load(start)
        train.fit(np, plan.net, p, X, Y, cfg.train)

    best = {"baseline": np.inf, "engine": np.inf, "engine_batched": np.inf}
    for _ in range(repeat):
        best["baseline"] = min(best["baseline"], _time(baseline))
        tick()
        best["engine"] = min(best["engine"], _time(lambda: engine(plan1, start1)))
        tick()
        best["engine_batched"] = min(best["engine_batched"], _time(lambda: engine(planN, startN)))
        tick()
    base = best["baseline"]
    rows = [("notebook-style NumPy loop (baseline)", 1, base),
            ("initlab batched engine, E = 1", 1, best["engine"]),
            (f"initlab batched engine, E = {BATCH_SEEDS} seeds", BATCH_SEEDS,
             best["engine_batched"])]
    return Bench(f"he_circles, {iterations} iterations, float64, best of {repeat} "
                 f"({backend.label})",
                 [Timing(name, models, secs, 1e6 * secs / iterations, base * models / secs)
                  for name, models, secs in rows])


def _loop_one_by_one(plan, iterations: int) -> np.ndarray:
    """Train every member of ``plan`` with the notebook loop, one after another; (E,) train
    accuracies."""
    data, lr = plan.dataset, plan.config.train.lr
    acc = np.empty(plan.n_experiments)
    for e in range(plan.n_experiments):
        start = initial_values(plan, e, e + 1)
        params = {k: (v[0] if k.startswith("W") else v[0][:, None]) for k, v in start.items()}
        params, _ = reference.model(data.X_train, data.y_train, params, lr, iterations,
                                    log_every=1000)
        acc[e] = reference.predict_accuracy(data.X_train, data.y_train, params)
        reference.predict_accuracy(data.X_test, data.y_test, params)
    return acc


def compare_benchmark(iterations: int, repeat: int, n_workers: int,
                      on_step: Callable[[int, int], None] | None = None) -> Bench:
    """Best times of the loop over 60 models and of the batched compare, 3 ways."""
    tick = _tick(on_step, 4 * repeat)
    def plan_for(dtype: str):
        opts = compare.Options(CONFIG, COMPARE_INITS, BATCH_SEEDS, None,
                               [f"train.epochs={iterations}", f"dtype={dtype}",
                                "engine=numpy"])
        return compare.setup(opts)

    plan64, plan32 = plan_for("float64"), plan_for("float32")
    backend = get_backend("cpu")
    variants = {"float64, 1 worker": (plan64, 1),
                f"float64, {n_workers} workers": (plan64, n_workers),
                f"float32, {n_workers} workers": (plan32, n_workers)}
    best = {"loop": np.inf} | {k: np.inf for k in variants}
    outcome: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        outcome["loop"] = _loop_one_by_one(plan64, iterations)
        best["loop"] = min(best["loop"], time.perf_counter() - t0)
        tick()
        for name, (plan, workers) in variants.items():
            t0 = time.perf_counter()
            outcome[name] = runner.execute(plan, backend, n_workers=workers).train_accuracy
            best[name] = min(best[name], time.perf_counter() - t0)
            tick()
    E, base = plan64.n_experiments, best["loop"]
    per = 1e6 / (E * iterations)
    rows = [Timing("notebook-style loop, one model at a time (float64)", E, base, per * base, 1.0)]
    rows += [Timing(f"initlab compare, batched, {name}", E, best[name], per * best[name],
                    base / best[name], int((outcome[name] == outcome["loop"]).sum()))
             for name in variants]
    return Bench(f"compare --inits {','.join(COMPARE_INITS)} --seeds {BATCH_SEEDS} on "
                 f"he_circles: {E} models × {iterations} iterations, best of {repeat}", rows)


FLOOR_US = 2.0  # µs per model-iteration at the products' floor on two AVX2 cores (float64):
# ~180 kFLOP per he_circles model-iteration at ~90 GFLOP/s


def _jax_process(plan, iterations: int, devices: int, dtype: str, tmp: Path) -> dict | None:
    """The JAX peer as its own process on ``plan``'s starting weights: its JSON line and
    ``wall_s`` (the whole process), or None when jax is not importable."""
    if importlib.util.find_spec("jax") is None:
        return None
    import json  # noqa: PLC0415

    start = initial_values(plan)
    path = tmp / f"peer-{dtype}.npz"
    np.savez(path, X=plan.dataset.X_train, Y=plan.dataset.y_train,
             lr=plan.config.train.lr, steps=iterations,
             **{k: v.astype(dtype) for k, v in start.items()})
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "initlab.commands.jax_peer", str(path),
                           str(devices)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"the JAX peer failed: {done.stderr[-500:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["wall_s"] = wall
    found["weights"] = dict(np.load(str(path).replace(".npz", "-out.npz")))
    return found


def peer_benchmark(iterations: int, repeat: int, n_workers: int,
                   on_step: Callable[[int, int], None] | None = None) -> Bench:
    """compare --inits zeros,random,he --seeds 20 (60 models) × ``iterations``, compute only:
    the NumPy engine on forked workers and the fused engine on threads, float64 and float32,
    beside the JAX peer (``jax_peer``, its compile excluded) when jax is importable; best of
    ``repeat``. Baseline: JAX float64 where present, else the NumPy engine. The last column:
    the share of the FLOOR_US floor reached (float64), or JAX's compile time."""
    variants = [("NumPy engine", "numpy", "float64"), ("fused engine", "fused", "float64"),
                ("NumPy engine", "numpy", "float32"), ("fused engine", "fused", "float32")]
    jax_here = importlib.util.find_spec("jax") is not None
    tick = _tick(on_step, (len(variants) + 2 * jax_here) * repeat)
    backend = get_backend("cpu")
    plans = {}
    for _, engine, dtype in variants:
        opts = compare.Options(CONFIG, COMPARE_INITS, BATCH_SEEDS, None,
                               [f"train.epochs={iterations}", f"train.log_every={iterations}",
                                f"dtype={dtype}", f"engine={engine}"])
        plans[engine, dtype] = compare.setup(opts)
    best: dict[str, float] = {}
    results: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        for name, engine, dtype in variants:
            plan = plans[engine, dtype]
            t0 = time.perf_counter()
            res = runner.execute(plan, backend, n_workers=n_workers)
            key = f"{name}, {dtype}"
            best[key] = min(best.get(key, math.inf), time.perf_counter() - t0)
            results[key] = res.weights_final["W1"]
            tick()
    peers: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("float64", "float32") if jax_here else ():
            for _ in range(repeat):
                got = _jax_process(plans["numpy", dtype], iterations, n_workers, dtype, Path(tmp))
                if dtype not in peers or got["train_s"] < peers[dtype]["train_s"]:
                    peers[dtype] = got
                tick()
    E = plans["numpy", "float64"].n_experiments
    per = 1e6 / (E * iterations)
    base_name = "JAX vmap+jit, float64" if peers else "NumPy engine, float64"
    base = peers["float64"]["train_s"] if peers else best["NumPy engine, float64"]
    rows = []
    for dtype, got in peers.items():
        rows.append(Timing(f"JAX vmap+jit, hand-written backward, {got['devices']} host "
                           f"devices, {dtype}", E, got["train_s"], per * got["train_s"],
                           base / got["train_s"],
                           target=f"compile {got['compile_s']:.2f} s, process "
                                  f"{got['wall_s']:.2f} s"))
    for key, secs in best.items():
        us = per * secs
        note = f"{FLOOR_US / us:.0%} of the ~{FLOOR_US:g} µs floor" if key.endswith("64") else ""
        if key.startswith("fused") and peers:
            ratio = secs / peers[key.rsplit(', ', 1)[1]]["train_s"]
            note = f"{ratio:.2f}× JAX's time (target ≤ 0.8×)" + (f"; {note}" if note else "")
        rows.append(Timing(f"initlab {key}, {n_workers} "
                           f"{'threads' if key.startswith('fused') else 'workers'}", E, secs,
                           us, base / secs, target=note))
    return Bench(f"{E} models (compare --inits {','.join(COMPARE_INITS)} --seeds {BATCH_SEEDS}"
                 f", he_circles) × {iterations} iterations, compute only, best of {repeat}; "
                 f"baseline: {base_name}", rows, baseline="baseline", note="note")
