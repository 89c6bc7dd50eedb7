"""Training benchmark: the batched engine against the notebook-style one-model NumPy loop.

Both train the he_circles experiment (2 → 10 → 5 → 1, 300 samples, float64, full-batch gradient
descent) from the same starting weights, timed in the same process, interleaved, best of
``repeat``. Ratios are baseline time / initlab time, so > 1 means initlab is faster.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from initlab import nn, reference, runner, train
from initlab.experiment import initial_values

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "he_circles.yaml"
BATCH_SEEDS = 20


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def train_benchmark(console: Console, iterations: int, repeat: int) -> dict[str, float]:
    """Print and return best times (s): baseline loop, engine E = 1, engine E = 20 seeds."""
    overrides = [f"train.epochs={iterations}", f"train.log_every={iterations}"]
    plan1, backend = runner.prepare(CONFIG, overrides)
    planN, _ = runner.prepare(CONFIG, overrides, n_seeds=BATCH_SEEDS)
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
        best["engine"] = min(best["engine"], _time(lambda: engine(plan1, start1)))
        best["engine_batched"] = min(best["engine_batched"], _time(lambda: engine(planN, startN)))

    base = best["baseline"]
    t = Table(title=f"he_circles, {iterations} iterations, float64, best of {repeat} "
                    f"({backend.label})", title_justify="left")
    for col in ("method", "models", "time (s)", "µs / iteration", "per model vs loop"):
        t.add_column(col, justify="left" if col == "method" else "right")
    rows = [("notebook-style NumPy loop (baseline)", 1, base),
            ("initlab batched engine, E = 1", 1, best["engine"]),
            (f"initlab batched engine, E = {BATCH_SEEDS} seeds", BATCH_SEEDS,
             best["engine_batched"])]
    for name, models, secs in rows:
        t.add_row(name, str(models), f"{secs:.3f}", f"{1e6 * secs / iterations:.1f}",
                  f"{base * models / secs:.2f}×")
    console.print(t)
    return best
