"""`initlab bench-sweep`: what the sweep's engines cost, on one grid of ``points`` points
(he_circles, a learning-rate grid, 2 initializers × 2 seeds, ``epochs`` epochs each).

Rows, best of ``repeat``: the points one after another in this process (``run_point`` in a loop,
the baseline: no process, no pickling, no folder), then whole ``initlab sweep`` processes as a
user waits for them — the local pool with one worker and with ``workers``, and Ray (a local
cluster started by the process) when it is installed. Each row: seconds, the speed-up over the
baseline, and the overhead per point, (T − T_baseline/k)/points for k points at a time."""

from __future__ import annotations

import importlib.util
import math
import tempfile
import time
from pathlib import Path

from initlab.commands import sweep as command
from initlab.commands.bench_train import Bench, Timing, _initlab, _process
from initlab.experiments import config
from initlab.experiments import sweep as sweep_file


def _grid(folder: Path, points: int, epochs: int) -> Path:
    base = (config.SHIPPED / "he_circles.yaml").read_text().replace("epochs: 15000",
                                                                    f"epochs: {epochs}")
    (folder / "base.yaml").write_text(base)
    lrs = [round(0.005 * (k + 1), 4) for k in range(points)]
    (folder / "bench.yaml").write_text(f"base: base.yaml\ngrid: {{train.lr: {lrs}}}\n"
                                       "inits: [zeros, he]\nseeds: 2\n")
    return folder / "bench.yaml"


def run(points: int, epochs: int, workers: int, repeat: int) -> Bench:
    """The table (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        path = _grid(cwd, points, epochs)
        plan = command.plan(sweep_file.load(path))
        best = {"baseline": math.inf}
        for _ in range(repeat):
            start = time.perf_counter()
            for p in plan.points:
                if command.run_point(p.task).status != "completed":
                    raise RuntimeError(f"bench point {p.point.index} did not complete")
            best["baseline"] = min(best["baseline"], time.perf_counter() - start)
        runs = {"local pool, 1 worker": (1, ["--workers", "1"]),
                f"local pool, {workers} workers": (workers, ["--workers", str(workers)])}
        if importlib.util.find_spec("ray") is not None:
            runs[f"ray, local cluster, {workers} CPUs"] = (workers, ["--backend", "ray",
                                                                     "--workers", str(workers)])
        for k in range(repeat):
            for name, (_, extra) in runs.items():
                argv = [*_initlab(), "sweep", str(path), "--quiet", "--out",
                        str(cwd / f"out-{len(best)}-{k}"), *extra]
                best[name] = min(best.get(name, math.inf), _process(argv, cwd))
    base = best["baseline"]
    rows = [Timing(f"{points} points one after another, in one process (baseline)", points,
                   base, None, 1.0, target=f"{1e3 * base / points:.0f} ms")]
    for name, (at_once, _) in runs.items():
        t = best[name]
        overhead = (t - base / at_once) / points
        rows.append(Timing(f"initlab sweep, {name}", points, t, None, base / t,
                           target=f"overhead {1e3 * overhead:+.0f} ms"))
    return Bench(f"sweep engines, best of {repeat}: {points} points × 4 models (he_circles, "
                 f"{epochs} epochs), whole processes but the baseline", rows,
                 baseline="one process", note="per point")
