"""`initlab compare` from the command line: output, result folder, bad input, chunking, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import CONFIGS, INITLAB, Ran, cli_env, run_cli

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
        "environment.json"}
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


def test_ctrl_c_keeps_what_finished(tmp_path):
    proc = subprocess.Popen([INITLAB, "compare", "--inits", "zeros,he", "--seeds", "20",
                             "--workers", "2", "--set", "train.epochs=10000000", "--out", "OUT"],
                            cwd=tmp_path, env=cli_env(120), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if line.startswith("batching:"):
                break
            assert time.monotonic() < deadline
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    assert m["status"] == "interrupted"
    assert 0 < m["iterations"] < m["planned_iterations"]
    assert len(m["experiments"]) == 40
    assert {len(e["cost_curve"]) for e in m["experiments"]} == {len(
        m["experiments"][0]["cost_curve"])}
    assert all(e["cost_curve"][-1][0] == m["iterations"] for e in m["experiments"])
