"""`initlab compare` from the command line: output, result folder, bad input, chunking, Ctrl-C."""

from __future__ import annotations

import csv
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import CONFIGS, Ran, hooked_cli, run_cli

SUMMARY_KEYS = {"init", "n_seeds", "train_accuracy_mean", "train_accuracy_ci95",
                "test_accuracy_mean", "success_rate", "median_final_cost", "diverged"}


def call(cwd: Path, *args: str) -> Ran:
    return run_cli(cwd, "compare", *args, columns=120, timeout=300)


def test_small_compare_prints_tables_and_writes_a_run_folder(tmp_path):
    ran = call(tmp_path, "--inits", "zeros,he,normal(std=0.5)", "--seeds", "3",
               "--set", "train.epochs=200", "--out", "OUT")
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    for text in ("Per layer at initialization", "Median cost over seeds", "Over 3 seed(s)",
                 "verdict:", "batching: 9 experiment(s) in one batch"):
        assert text in out, text
    folder = tmp_path / "OUT"
    assert {p.name for p in folder.iterdir()} == {
        "config.yaml", "metrics.json", "history.csv", "weights_init.npz", "weights_final.npz",
        "environment.json", "summary.csv", "pairs.csv", "experiments.csv", "layers.csv"}
    m = json.loads((folder / "metrics.json").read_text())
    assert len(m["experiments"]) == 9
    assert [(e["init"], e["seed"]) for e in m["experiments"][:4]] == [
        ("zeros", 3), ("zeros", 4), ("zeros", 5), ("he", 3)]
    assert [s["init"] for s in m["summary"]] == ["zeros", "he", "normal(std=0.5)"]
    for s in m["summary"]:
        assert set(s) >= SUMMARY_KEYS
        accs = [e["train_accuracy"] for e in m["experiments"] if e["init"] == s["init"]]
        assert s["n_seeds"] == 3
        assert s["train_accuracy_mean"] == pytest.approx(sum(accs) / 3, abs=1e-12)
        assert s["success_rate"] == sum(a >= 0.9 for a in accs) / 3
    assert m["compare"]["log_every"] == 2 and m["compare"]["chunks"] == 1
    assert not (tmp_path / "results").exists()
    best = m["summary"][max(range(3), key=lambda i: m["summary"][i]["train_accuracy_mean"])]
    assert {p["vs"] for p in m["pairs"]} == {best["init"]} and len(m["pairs"]) == 2
    for p in m["pairs"]:
        assert set(p) >= {"init", "vs", "metric", "mean_diff", "ci95", "p_t", "p_wilcoxon",
                          "p_adjusted", "n_pairs", "seeds_needed", "test", "beats"}
        assert p["metric"] == "train_accuracy" and p["n_pairs"] == 3
    assert m["verdict"][0].startswith(f"{best['init']} is best on train accuracy")
    with (folder / "pairs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["init"] for r in rows] == [p["init"] for p in m["pairs"]]
    assert float(rows[0]["ci95_low"]) == pytest.approx(m["pairs"][0]["ci95"][0])
    with (folder / "summary.csv").open() as fh:
        summary = list(csv.DictReader(fh))
    assert [r["init"] for r in summary] == ["zeros", "he", "normal(std=0.5)"]
    assert {"success_ci95_low", "success_ci95_high", "train_accuracy_ci_method"} <= set(summary[0])


def test_seed_list_and_default_results_folder(tmp_path):
    ran = call(tmp_path, "--inits", "he", "--seed-list", "0,7", "--set", "train.epochs=20")
    assert ran.returncode == 0, ran.stderr
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.endswith("-he_circles-compare")
    m = json.loads((folder / "metrics.json").read_text())
    assert [e["seed"] for e in m["experiments"]] == [0, 7]
    assert "only one initializer" in ran.stdout


BAD = [
    (["--inits", "he,hee"], ["unknown initializer 'hee'", "xavier_normal", "did you mean 'he'"]),
    (["--inits", "normal(std=)"], ["malformed initializer spec", "has no value"]),
    (["--inits", "normal(std=0.5"], ["unbalanced '('"]),
    (["--inits", "he,,zeros"], ["empty name"]),
    (["--inits", "normal(sd=2)"], ["has no parameter 'sd'"]),
    (["--seeds", "0"], ["--seeds must be at least 1"]),
    (["--inits", "he,zeros,he"], ["'he' is listed twice"]),
    (["--seed-list", "1,1"], ["listed twice"]),
    (["--seed-list", "1,x"], ["'x' is not a non-negative integer"]),
    (["--seeds", "2", "--seed-list", "1,2"], ["not both"]),
    (["--max-memory", "12XB"], ["--max-memory", "cannot read '12XB'"]),
    (["--success", "1.5"], ["--success", "less than or equal to 1"]),
    (["no_such.yaml"], ["experiment file not found: no_such.yaml"]),
    (["--set", "train.lrr=0.1"], ["unknown key 'train.lrr'", "did you mean 'train.lr'"]),
]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every bad invocation, started together (most of a call is interpreter start-up)."""
    dirs = [tmp_path_factory.mktemp("bad") for _ in BAD]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda ad: call(ad[1], *ad[0][0]), zip(BAD, dirs, strict=True)))
    return dict(zip((" ".join(a) for a, _ in BAD), zip(runs, dirs, strict=True), strict=True))


@pytest.mark.parametrize(("args", "expected"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(bad_runs, args, expected):
    ran, cwd = bad_runs[" ".join(args)]
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert list(cwd.iterdir()) == []


def test_dry_run_states_the_chunking_of_a_huge_comparison(tmp_path):
    ran = call(tmp_path, str(CONFIGS / "digits_tanh.yaml"), "--inits", "he",
               "--seeds", "100000", "--max-memory", "1GiB", "--dry-run")
    assert ran.returncode == 0, ran.stderr
    line = next(s for s in ran.stdout.splitlines() if s.startswith("batching:"))
    words = line.split()
    count = int(words[words.index("chunks") - 1])
    size = int(words[words.index("≤") + 1])
    assert words[1] == "100000" and count > 1 and size * count >= 100000 > size * (count - 1)
    assert "1.0 GiB budget" in line
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_every_worker_after_the_same_iteration(tmp_path):
    # the parent sends itself SIGINT as it starts the third segment of the two workers
    code = hooked_cli("initlab.engine.workers:Forked.advance",
                      "os.kill(os.getpid(), signal.SIGINT)", nth=3)
    ran = run_cli(tmp_path, "compare", "--engine", "numpy", "--inits", "zeros,he", "--seeds",
                  "20", "--workers", "2",
                  "--set", "train.epochs=10000000", "--out", "OUT", columns=120,
                  python_code=code)
    assert ran.returncode == 130, ran.explain()
    assert "Traceback" not in ran.stderr and "interrupted" in ran.stderr
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    assert m["status"] == "interrupted"
    assert m["iterations"] == 3 * 64 < m["planned_iterations"]
    assert len(m["experiments"]) == 40
    assert {len(e["cost_curve"]) for e in m["experiments"]} == {len(
        m["experiments"][0]["cost_curve"])}
    assert all(e["cost_curve"][-1][0] == e["iterations"] == m["iterations"]
               for e in m["experiments"])


SKEWED = """\
name: skewed
seed: 0
dataset: {name: file, path: skewed.csv, target: y}
model: {layers: [2, 10, 5, 1], activations: [linear, linear, sigmoid]}
train: {epochs: 200, lr: 100000}
"""


def test_diverged_seeds_fail_and_leave_no_best(tmp_path):
    # 95% of the labels are 0: a model gone NaN predicts "0" everywhere and would score 0.95
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 2)), (rng.random(200) < 0.05).astype(int)
    rows = "\n".join(f"{a:.6f},{b:.6f},{c}" for (a, b), c in zip(X, y, strict=True))
    (tmp_path / "skewed.csv").write_text("a,b,y\n" + rows + "\n")
    (tmp_path / "skewed.yaml").write_text(SKEWED)
    ran = call(tmp_path, "skewed.yaml", "--inits", "he,xavier_normal", "--seeds", "5",
               "--out", "OUT")
    assert ran.returncode == 0, ran.explain()
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    assert all(e["train_accuracy"] is None and e["diverged_at"] is not None
               for e in m["experiments"])
    for s in m["summary"]:
        assert s["success_rate"] == 0.0 and s["n_finite"] == 0 and s["diverged"] == 5
        assert s["train_accuracy_mean"] is None and s["train_accuracy_ci95"] is None
    assert "no initializer can be ranked" in ran.stdout


def test_a_saved_comparison_runs_again_from_its_config(tmp_path):
    first = call(tmp_path, "--inits", "zeros,normal(std=0.5)", "--seed-list", "4,9",
                 "--success", "0.6", "--target-cost", "0.65", "--set", "train.epochs=120",
                 "--out", "A")
    assert first.returncode == 0, first.explain()
    again = call(tmp_path, "A/config.yaml", "--out", "B")
    assert again.returncode == 0, again.explain()
    a, b = (json.loads((tmp_path / f / "metrics.json").read_text()) for f in "AB")
    assert [(e["init"], e["seed"]) for e in b["experiments"]] == [
        ("zeros", 4), ("zeros", 9), ("normal(std=0.5)", 4), ("normal(std=0.5)", 9)]
    assert b["experiments"] == a["experiments"] and b["summary"] == a["summary"]
    assert b["compare"]["success_threshold"] == 0.6 and b["compare"]["target_cost"] == 0.65
    assert (tmp_path / "A" / "config.yaml").read_text() == (
        tmp_path / "B" / "config.yaml").read_text()


def test_json_prints_what_is_saved(tmp_path):
    ran = call(tmp_path, "--inits", "he", "--seeds", "2", "--set", "train.epochs=30", "--json",
               "--out", "OUT")
    assert ran.returncode == 0, ran.explain()
    assert json.loads(ran.stdout) == json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    assert "results: OUT" in ran.stderr
