"""``initlab sweep``: grid points as batched compares in worker processes (a local pool, or Ray
tasks on a real local Ray cluster), written as they arrive; each point equal to the compare it
stands for, whatever the backend; a dead worker recorded and the sweep going on; --resume
rerunning only what did not complete; one-line refusals before anything runs."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from initlab.commands import compare, meanfield
from initlab.engine.backend import get_backend
from initlab.experiments import runner
from initlab.experiments import sweep as sweep_file

from conftest import HE, INITLAB, cli_env, run_cli

BASE = HE.read_text().replace("epochs: 15000", "epochs: 300")
GRID = """base: base.yaml
grid:
  model.depth: [1, 2]
  train.lr: [0.01, 0.1]
inits: [zeros, he]
seeds: 2
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    assert "epochs: 300" in BASE
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "grid.yaml").write_text(GRID)
    return tmp_path


def _sweep(path: Path) -> dict:
    return json.loads((path / "sweep.json").read_text())


def _metrics(path: Path, point: int) -> dict:
    return json.loads((path / "points" / f"p{point:04d}" / "metrics.json").read_text())


# ------------------------------------------------------------------------------ the grid

def test_points_are_the_product_first_key_slowest_and_depth_rewrites_the_stack(folder):
    sweep = sweep_file.load(folder / "grid.yaml")
    assert [p.values for p in sweep.points] == [
        {"model.depth": 1, "train.lr": 0.01}, {"model.depth": 1, "train.lr": 0.1},
        {"model.depth": 2, "train.lr": 0.01}, {"model.depth": 2, "train.lr": 0.1}]
    assert sweep_file.overrides(sweep, sweep.points[2]) == [
        "model.layers=[2, 10, 10, 1]", 'model.activations=["relu", "relu", "sigmoid"]',
        "train.lr=0.01"]


def test_a_local_sweep_writes_each_point_as_the_compare_it_stands_for(folder):
    ran = run_cli(folder, "sweep", "grid.yaml", "--out", "OUT", "--workers", "2", "--plot",
                  columns=120)
    assert ran.returncode == 0, ran.explain()
    for k in (0, 1):  # a heatmap per initializer, PNG and SVG
        assert (folder / "OUT" / f"sweep_heatmap_{k}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (folder / "OUT" / f"sweep_heatmap_{k}.svg").read_bytes()[:500]
    assert not (folder / "OUT" / "sweep_heatmap_2.png").exists()
    record = _sweep(folder / "OUT")
    assert record["status"] == "completed"
    assert [p["status"] for p in record["points"]] == ["completed"] * 4
    sweep = sweep_file.load(folder / "grid.yaml")
    for point in sweep.points:
        opts = compare.Options(folder / "base.yaml", ["zeros", "he"], 2, None,
                               sweep_file.overrides(sweep, point))
        built = compare.setup(opts)
        alone = compare.run(built, get_backend("cpu"),
                            chunking=runner.chunks_for(built, get_backend("cpu")))
        saved = _metrics(folder / "OUT", point.index)
        assert [e["final_cost"] for e in saved["experiments"]] == \
            [float(c) for c in alone.run.final_cost]
        assert [s["train_accuracy_mean"] for s in saved["summary"]] == \
            [s.train_accuracy_mean for s in alone.summaries]
    # the table: a row per point, a column per init, and sweep.csv one row per point × init
    assert "zeros" in ran.stdout and "he" in ran.stdout and "results: OUT" in ran.stdout
    import pandas as pd

    csv = pd.read_csv(folder / "OUT" / "sweep.csv")
    assert len(csv) == 8 and list(csv.columns[:5]) == ["point", "model.depth", "train.lr",
                                                        "status", "init"]
    assert csv["train_accuracy_mean"].dtype == float


def test_dry_run_lists_the_points_and_their_memory_and_writes_nothing(folder):
    ran = run_cli(folder, "sweep", "grid.yaml", "--dry-run")
    assert ran.returncode == 0, ran.explain()
    assert "4 point(s) (model.depth × train.lr: 2 × 2), 16 models" in ran.stdout
    assert "point 3: model.depth=2, train.lr=0.1  (4 models" in ran.stdout
    assert ran.after == ran.before


@pytest.mark.parametrize(("grid", "words"), [
    ("grid: {train.lrr: [0.1]}", "point 0 (train.lrr=0.1): "),
    ("grid: {train.lr: [0.1, -1]}", "point 1 (train.lr=-1): "),
    ("grid: {train.lr: [0.1, 0.1]}", "lists a value twice"),
    ("grid: {}", "grid"),
    ("grid: {model.depth: [2.5]}", "model.depth must be a whole number"),
])
def test_bad_grids_are_one_line_before_anything_runs(folder, grid, words):
    (folder / "bad.yaml").write_text(f"base: base.yaml\n{grid}\n")
    ran = run_cli(folder, "sweep", "bad.yaml")
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], ran.stderr
    assert ran.after == ran.before


def test_a_point_that_diverges_fails_and_the_sweep_goes_on_then_resume_reruns_only_it(folder):
    (folder / "grid.yaml").write_text(GRID.replace("train.lr: [0.01, 0.1]",
                                                   "train.lr: [0.01, 1.0e+300]")
                                      .replace("[zeros, he]", "[he]"))
    ran = run_cli(folder, "sweep", "grid.yaml", "--out", "OUT")
    assert ran.returncode == 1, ran.explain()
    assert "2 of 4 point(s) failed; initlab sweep grid.yaml --resume OUT reruns them" in \
        ran.stderr
    record = _sweep(folder / "OUT")
    assert [p["status"] for p in record["points"]] == ["completed", "failed"] * 2
    assert record["points"][1]["error"] == "every experiment diverged"
    kept = (folder / "OUT" / "points" / "p0000" / "metrics.json").stat().st_mtime_ns
    again = run_cli(folder, "sweep", "grid.yaml", "--resume", "OUT")
    assert again.returncode == 1, again.explain()
    assert (folder / "OUT" / "points" / "p0000" / "metrics.json").stat().st_mtime_ns == kept
    assert [p["status"] for p in _sweep(folder / "OUT")["points"]] == ["completed",
                                                                       "failed"] * 2


def test_resume_refuses_a_different_grid(folder):
    assert run_cli(folder, "sweep", "grid.yaml", "--out", "OUT").returncode == 0
    (folder / "grid.yaml").write_text(GRID.replace("[1, 2]", "[1, 3]"))
    ran = run_cli(folder, "sweep", "grid.yaml", "--resume", "OUT")
    assert ran.returncode == 2 and "grid differs" in ran.stderr, ran.explain()


def test_a_probe_base_sweeps_its_own_keys(tmp_path):
    (tmp_path / "p.yaml").write_text("base: deep_tanh_probe\ngrid: {depth: [3, 6]}\n"
                                     "inits: [lecun_normal, he]\nseeds: 1\n")
    ran = run_cli(tmp_path, "sweep", "p.yaml", "--out", "OUT", "--plot", columns=120)
    assert ran.returncode == 0, ran.explain()
    record = _sweep(tmp_path / "OUT")
    assert record["kind"] == "probe" and len(record["points"]) == 2
    probe = json.loads((tmp_path / "OUT" / "points" / "p0001" / "probe.json").read_text())
    assert max(r["layer"] for r in probe["layers"]) == 6
    assert "activation std last/first layer" in " ".join(ran.stdout.split())
    assert (tmp_path / "OUT" / "sweep_lines.png").read_bytes()[:4] == b"\x89PNG"


PHASE = """base: deep_tanh_probe
set: {depth: 24, width: 128, batch: 16}
grid:
  sigma_w2: {linspace: [0.5, 3, 3]}
  sigma_b2: [0, 0.2]
seeds: 2
"""


def test_a_phase_grid_probes_each_sigma_pair_beside_theory_and_draws_the_diagram(tmp_path):
    (tmp_path / "phase.yaml").write_text(PHASE)
    ran = run_cli(tmp_path, "sweep", "phase.yaml", "--out", "OUT", "--plot", columns=120)
    assert ran.returncode == 0, ran.explain()
    record = _sweep(tmp_path / "OUT")
    assert record["grid"]["sigma_w2"] == [0.5, 1.75, 3.0]  # the linspace, written out
    assert [p["values"] for p in record["points"][:2]] == [
        {"sigma_w2": 0.5, "sigma_b2": 0}, {"sigma_w2": 0.5, "sigma_b2": 0.2}]
    point = record["points"][5]  # σ_w² = 3, σ_b² = 0.2: chaotic
    cfg = (tmp_path / "OUT" / point["folder"] / "config.yaml").read_text()
    assert "depth: 24" in cfg and "width: 128" in cfg  # the file's set
    assert "variance_scaling(scale=3.0, mode=fan_in, distribution=normal)" in cfg
    assert f"normal(std={math.sqrt(0.2)!r})" in cfg
    summary = point["summary"][0]
    theory = meanfield.phase("tanh", 3.0, 0.2)
    assert theory.chi1 > 1 and summary["phase"]["chi1"] == pytest.approx(theory.chi1, rel=0.05)
    assert summary["measured_xi_c"] == pytest.approx(theory.xi_c, rel=0.5)
    # the edge of chaos: χ₁ = 1 through σ_w² = 1 at σ_b² = 0, to larger σ_w² as σ_b² grows
    edge = record["theory"]["edge_of_chaos"]
    assert edge[0] == [0.0, pytest.approx(1.0, abs=1e-5)] and edge[-1][0] == pytest.approx(0.2)
    assert all(b[1] > a[1] for a, b in zip(edge, edge[1:], strict=False))
    text = " ".join(ran.stdout.split())
    assert "measured settling depths beside mean-field theory" in text and "ξ_c fit" in text
    assert (tmp_path / "OUT" / "sweep_phase.png").read_bytes()[:4] == b"\x89PNG"
    header, *rows = (tmp_path / "OUT" / "sweep.csv").read_text().splitlines()
    assert header.split(",")[-7:] == ["measured_xi_c", "q_star", "c_star", "chi1", "chi_c",
                                      "xi_q", "xi_c"]
    assert len(rows) == 6


@pytest.mark.parametrize(("grid", "words"), [
    ("grid: {sigma_w2: [1.0]}\ninits: [he]", "drop inits"),
    ("grid: {sigma_w2: [0, 1]}", "sigma_w2 takes numbers > 0, got 0"),
    ("grid: {sigma_b2: [-0.1]}", "sigma_b2 takes numbers >= 0"),
    ("grid: {sigma_b2: [0.1]}\nset: {bias: zeros}", "drop bias"),
    ("grid: {depth: [3]}\nset: {depth: 4}", "depth is both a grid key and in set"),
    ("grid: {model.depth: [3]}", "model.depth is a key of experiment files"),
    ("grid: {sigma_w2: {linspace: [1, 2]}}", "a range is {linspace: [from, to, count]}"),
    ("grid: {sigma_w2: {geomspace: [0, 2, 3]}}", "from, to > 0"),
])
def test_bad_probe_grids_are_one_line(tmp_path, grid, words):
    (tmp_path / "bad.yaml").write_text(f"base: deep_tanh_probe\n{grid}\n")
    ran = run_cli(tmp_path, "sweep", "bad.yaml", "--dry-run")
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], ran.stderr


def test_sigma_keys_belong_to_probe_bases(folder):
    (folder / "bad.yaml").write_text("base: base.yaml\ngrid: {sigma_w2: [1.0]}\n")
    ran = run_cli(folder, "sweep", "bad.yaml", "--dry-run")
    assert ran.returncode == 2 and "sigma_w2 is a key of probe files" in ran.stderr, \
        ran.explain()


def test_a_width_grid_draws_the_coordinate_check_from_the_points(folder):
    (folder / "coord.yaml").write_text("base: base.yaml\nset: {train.epochs: 5}\n"
                                       "grid: {model.width: [4, 16, 64]}\ninits: [he]\n"
                                       "seeds: 2\n")
    ran = run_cli(folder, "sweep", "coord.yaml", "--out", "OUT", "--plot")
    assert ran.returncode == 0, ran.explain()
    record = _sweep(folder / "OUT")
    assert record["set"] == {"train.epochs": 5}
    metrics = _metrics(folder / "OUT", 2)
    assert metrics["iterations"] == 5 and [r["units"] for r in
                                           metrics["experiments"][0]["layers_init"]] == [64, 64, 1]
    assert (folder / "OUT" / "sweep_coord.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "OUT" / "sweep_lines.png").exists()


def test_coordinate_check_reads_each_layers_std_per_init_and_moment(folder, tmp_path):
    from initlab.reporting import sweep_plots

    (folder / "coord.yaml").write_text("base: base.yaml\nset: {train.epochs: 3}\n"
                                       "grid: {model.width: [4, 8]}\ninits: [he, zeros]\n"
                                       "seeds: 3\n")
    assert run_cli(folder, "sweep", "coord.yaml", "--out", "OUT").returncode == 0
    got = sweep_plots._layer_stds(folder / "OUT" / "points" / "p0001", "run")
    experiments = _metrics(folder / "OUT", 1)["experiments"]
    for init in ("he", "zeros"):
        for moment in ("init", "final"):
            mine = [e[f"layers_{moment}"] for e in experiments if e["init"] == init]
            expected = [sum(m[l]["activation_std"] for m in mine) / 3 for l in range(3)]
            assert got[(init, moment)] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------- dead workers, interrupts

def _wait_for(path: Path, proc: subprocess.Popen, what: str, deadline_s: float = 90) -> None:
    """Until ``path`` exists (the synchronisation point the sweep writes), or fail."""
    deadline = time.monotonic() + deadline_s
    while not path.exists():
        assert proc.poll() is None, f"the sweep exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {deadline_s} s"
        time.sleep(0.01)


def _during_point_1(folder: Path, argv: list[str], action,
                    capture: bool = True) -> tuple[int, str]:
    """Start ``initlab ARGV`` in ``folder``, call ``action(proc, marker)`` once point 1's
    .running file exists, and wait for the sweep to end: (exit code, its output). Without
    ``capture`` the output is discarded (a killed driver's workers would hold the pipes)."""
    where = subprocess.PIPE if capture else subprocess.DEVNULL
    proc = subprocess.Popen([INITLAB, *argv], cwd=folder, env=cli_env(80), stdout=where,
                            stderr=where, text=True)
    try:
        marker = folder / "OUT" / "points" / ".p0001.running"
        _wait_for(marker, proc, "point 1 started")
        action(proc, marker)
        out, err = proc.communicate(timeout=120)
        out, err = out or "", err or ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out + err


def _kill_the_worker(proc: subprocess.Popen, marker: Path) -> None:
    pid = None
    while pid is None:  # the file is created, then its pid written
        pid = int(marker.read_text() or "0") or None
    os.kill(pid, signal.SIGKILL)


def _long_middle(folder: Path) -> None:
    (folder / "grid.yaml").write_text("base: base.yaml\ngrid: {train.epochs: [300, 60000, "
                                      "301]}\ninits: [zeros, he]\nseeds: 1\n")


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_killed_worker_fails_its_point_and_resume_completes_the_grid(folder, backend):
    """Point 1 runs for seconds; the test kills its worker (the pid the worker writes to the
    point's .running file), the sweep records the point failed and finishes point 2; --resume
    runs point 1 alone, and its numbers equal the local backend's."""
    _long_middle(folder)
    code, output = _during_point_1(folder, ["sweep", "grid.yaml", "--out", "OUT", "--backend",
                                            backend, "--workers", "1"], _kill_the_worker)
    assert code == 1, output
    record = _sweep(folder / "OUT")
    assert [p["status"] for p in record["points"]] == ["completed", "failed", "completed"]
    assert "worker process died" in record["points"][1]["error"]
    journal = [json.loads(line) for line in
               (folder / "OUT" / "points.jsonl").read_text().splitlines()]
    assert sorted(p["index"] for p in journal) == [0, 1, 2]
    again = run_cli(folder, "sweep", "grid.yaml", "--resume", "OUT", "--backend", backend,
                    "--workers", "1", timeout=180)
    assert again.returncode == 0, again.explain()
    assert [p["status"] for p in _sweep(folder / "OUT")["points"]] == ["completed"] * 3
    local = run_cli(folder, "sweep", "grid.yaml", "--out", "LOCAL", timeout=180)
    assert local.returncode == 0, local.explain()
    for i in range(3):
        assert _metrics(folder / "OUT", i)["experiments"] == \
            _metrics(folder / "LOCAL", i)["experiments"]


def test_ctrl_c_keeps_the_finished_points_and_resume_completes(folder):
    _long_middle(folder)
    code, output = _during_point_1(folder, ["sweep", "grid.yaml", "--out", "OUT", "--workers",
                                            "1"], lambda proc, _: proc.send_signal(signal.SIGINT))
    assert code == 130, output
    record = _sweep(folder / "OUT")
    assert record["status"] == "interrupted"
    assert [p["status"] for p in record["points"]] == ["completed", "interrupted",
                                                       "interrupted"]
    assert not list((folder / "OUT" / "points").glob(".*.running"))
    again = run_cli(folder, "sweep", "grid.yaml", "--resume", "OUT", timeout=180)
    assert again.returncode == 0, again.explain()
    assert _sweep(folder / "OUT")["status"] == "completed"


def test_bench_sweep_times_every_engine_against_one_process(tmp_path):
    ran = run_cli(tmp_path, "bench-sweep", "--points", "2", "--epochs", "5", "--workers", "2",
                  columns=200, timeout=180)
    assert ran.returncode == 0, ran.explain()
    for row in ("2 points one after another, in one process (baseline)",
                "initlab sweep, local pool, 1 worker", "initlab sweep, local pool, 2 workers",
                "initlab sweep, ray, local cluster, 2 CPUs"):
        assert row in ran.stdout, ran.stdout
    assert ran.stdout.count("overhead") == 3


def test_a_killed_driver_loses_only_the_point_in_flight(folder):
    """SIGKILL to the sweep itself while point 1 runs: point 0 is in the journal, and --resume
    runs points 1 and 2 only."""
    _long_middle(folder)
    code, _ = _during_point_1(folder, ["sweep", "grid.yaml", "--out", "OUT", "--workers", "1"],
                              lambda proc, _: proc.kill(), capture=False)
    assert code == -signal.SIGKILL
    assert _sweep(folder / "OUT")["status"] == "running"  # never finished
    kept = (folder / "OUT" / "points" / "p0000" / "metrics.json").stat().st_mtime_ns
    again = run_cli(folder, "sweep", "grid.yaml", "--resume", "OUT", timeout=180)
    assert again.returncode == 0, again.explain()
    assert [p["status"] for p in _sweep(folder / "OUT")["points"]] == ["completed"] * 3
    assert (folder / "OUT" / "points" / "p0000" / "metrics.json").stat().st_mtime_ns == kept
