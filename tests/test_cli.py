"""End-to-end tests of the ``initlab`` command line, each run as a real subprocess.

Every independent invocation is declared in ``JOBS`` and started together (one worker per core)
the first time a test asks for it, because most of a CLI call is interpreter start-up and
imports; each test then only waits for and checks its own result. The expected values are
computed here independently (legacy ``RandomState`` draws, sklearn's ``make_circles`` and a NumPy
forward pass), never read back from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import make_circles

from initlab.engine.activations import ACTIVATION_NAMES
from initlab.experiments import config as config_mod
from initlab.experiments.datasets import DATASET_NAMES
from initlab.inits.laws import INITIALIZER_NAMES
from initlab.reporting import folder as results_mod

from conftest import HE, INITLAB, NO_CUPY, RUN_FILES, TIMEOUT, Ran, cli_env, run_cli

RUN_DIR_RE = re.compile(r"^(\d{8}-\d{6}-\d{3})-he_circles$")
HISTORY_HEADER = ["iteration", "experiment", "init", "seed", "cost"]
LAYER_KEYS = {"layer", "activation_mean", "activation_std", "saturated_fraction", "dead_fraction",
              "grad_std", "distinct_units"}
# The cost of the Coursera notebook's He initialisation at iteration 0 (configs/he_circles.yaml).
NOTEBOOK_COST_0 = 0.8830537463419761


# ------------------------------------------------------------------------------- the job table

@dataclass
class Job:
    """``setup(cwd)`` writes any input files and returns the CLI arguments."""

    setup: Callable[[Path], list[str]]
    columns: int = 80
    python_code: str | None = None


JOBS: dict[str, Job] = {}


def job(name: str, setup: Callable[[Path], list[str]], **kw) -> str:
    assert name not in JOBS, name
    JOBS[name] = Job(setup, **kw)
    return name


@dataclass
class Batch:
    futures: dict[str, Future] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Ran:
        return self.futures[name].result(timeout=4 * TIMEOUT)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Start every job of JOBS at once; tests wait for their own."""
    workers = max(2, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count() or 2))
    pool = ThreadPoolExecutor(max_workers=workers)
    out = Batch()

    def work(spec: Job, cwd: Path) -> Ran:
        return run_cli(cwd, *spec.setup(cwd), columns=spec.columns, python_code=spec.python_code)

    for name, spec in JOBS.items():
        cwd = tmp_path_factory.mktemp(re.sub(r"\W", "_", name))
        out.futures[name] = pool.submit(work, spec, cwd)
    yield out
    pool.shutdown(wait=True, cancel_futures=True)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


TINY = {"name": "tiny", "seed": 3,
        "dataset": {"name": "circles", "n_train": 40, "n_test": 20},
        "model": {"layers": [2, 4, 1], "activations": ["relu", "sigmoid"]},
        "train": {"epochs": 20, "lr": 0.1}}


def _tiny_with(edit: Callable[[dict], None]) -> Callable[[Path], list[str]]:
    def setup(cwd: Path) -> list[str]:
        data = json.loads(json.dumps(TINY))
        edit(data)
        _write(cwd / "exp.yaml", yaml.safe_dump(data, sort_keys=False))
        return ["run", "exp.yaml"]
    return setup


def _he(*extra: str) -> Callable[[Path], list[str]]:
    return lambda cwd: ["run", str(HE), *extra]


# ------------------------------------------------------------------------------ 1. bad input

INDENT_YAML = """\
name: bad_indent
seed: 0
model:
  layers: [2, 1]
   activations: [sigmoid]
train: {epochs: 20, lr: 0.1}
"""
BRACKET_LINE = "train: {epochs: [20, lr: 0.1}"
BRACKET_YAML = f"name: bad_bracket\nseed: 0\n{BRACKET_LINE}\n"


def _rename(section: str | None, old: str, new: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        node = data if section is None else data[section]
        node[new] = node.pop(old)
    return edit


def _somefile(cwd: Path) -> list[str]:
    _write(cwd / "somefile.txt", "not a folder\n")
    return ["run", str(HE), "--set", "train.epochs=20", "--out", "somefile.txt/sub"]


@dataclass(frozen=True)
class Bad:
    job: str
    must_contain: tuple[str, ...]
    pattern: str | None = None
    listed: tuple[str, ...] = ()  # the names the "valid: …" list must hold exactly


BAD = [
    Bad(job("missing config", lambda cwd: ["run", "no_such_experiment.yaml"]),
        ("no_such_experiment.yaml",)),
    Bad(job("missing config, closing-tag name", lambda cwd: ["run", "[/x].yaml"]),
        ("[/x].yaml",)),
    Bad(job("malformed YAML, bad indentation",
            lambda cwd: ["run", _write(cwd / "indent.yaml", INDENT_YAML).name]),
        ("indent.yaml", "column"), pattern=r"\bline 5\b"),
    Bad(job("malformed YAML, mismatched bracket",
            lambda cwd: ["run", _write(cwd / "bracket.yaml", BRACKET_YAML).name]),
        ("bracket.yaml", f"line 3, column {BRACKET_LINE.index('}') + 1}")),
    Bad(job("unknown top-level key in file", _tiny_with(lambda d: d.update(seeds=2))),
        ("'seeds'", "did you mean 'seed'")),
    Bad(job("misspelt top-level key in file", _tiny_with(_rename(None, "model", "modle"))),
        ("'modle'", "did you mean 'model'")),
    Bad(job("misspelt nested key in file", _tiny_with(_rename("train", "lr", "lrr"))),
        ("'train.lrr'", "did you mean 'train.lr'")),
    Bad(job("unknown nested key via --set", _he("--set", "train.lrr=1")),
        ("'train.lrr'", "did you mean 'train.lr'")),
    Bad(job("unknown initializer", _he("--set", "init.weights=hee")),
        ("'hee'", "did you mean 'he'"), listed=INITIALIZER_NAMES),
    Bad(job("unknown activation", _he("--set", "model.activations=[relu,relux,sigmoid]")),
        ("'relux'",), listed=ACTIVATION_NAMES),
    Bad(job("unknown dataset", _he("--set", "dataset.name=circlez")),
        ("'circlez'",), listed=DATASET_NAMES),
    Bad(job("layers do not match the data", _he("--set", "model.layers=[3,10,5,1]")),
        ("model.layers", "3")),
    Bad(job("activations of the wrong length", _he("--set", "model.activations=[relu,sigmoid]")),
        ("model.activations",)),
    Bad(job("loss does not fit the output", _he("--set", "train.loss=softmax_ce")),
        ("softmax_ce",)),
    Bad(job("lr zero", _he("--set", "train.lr=0")), ("train.lr",)),
    Bad(job("lr negative", _he("--set", "train.lr=-1")), ("train.lr",)),
    Bad(job("epochs zero", _he("--set", "train.epochs=0")), ("train.epochs",)),
    Bad(job("seeds zero", _he("--seeds", "0")), ("--seeds",)),
    Bad(job("--set without =", _he("--set", "train.lr")), ("--set", "train.lr")),
    Bad(job("--out under a regular file", _somefile), ("somefile.txt",)),
    Bad(job("--device gpu without CuPy", _he("--set", "train.epochs=20", "--device", "gpu"),
            python_code=NO_CUPY),
        ("CuPy", "pip install 'initlab[gpu]'")),
    # usage errors come from click (standalone or vendored by typer): one line all the same
    Bad(job("misspelt option", _he("--seed", "5")), ("--seed", "--seeds")),
    Bad(job("unknown command", lambda cwd: ["runn"]), ("runn", "Did you mean 'run'")),
    Bad(job("option value not a number", _he("--seeds", "abc")), ("--seeds", "integer")),
    Bad(job("missing argument", lambda cwd: ["run"]), ("Missing argument 'config'",)),
    Bad(job("unknown shipped name", lambda cwd: ["run", "he_circle"]),
        ("he_circle", "did you mean 'he_circles'")),
    Bad(job("unbounded YAML alias expansion", lambda cwd: ["run", _write(cwd / "bomb.yaml", (
        "name: bomb\na: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + "dataset: {name: xor, noise: *i}\n")).name]), ("bomb.yaml", "alias")),
    Bad(job("not UTF-8", lambda cwd: ["run", _write_bytes(cwd / "latin.yaml",
                                                          "name: caf\xe9\n".encode("latin-1"))
                                      .name]), ("latin.yaml", "UTF-8")),
    Bad(job("seed beyond what legacy RandomState takes", _he("--set", "seed=4294967296",
                                                             "--dry-run")), ("seed", "2^32")),
    Bad(job("infinite learning rate", _he("--set", "train.lr=.inf")), ("train.lr", "finite")),
]


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _valid_list(line: str) -> set[str]:
    match = re.search(r"valid: ([\w., ]+?)(?:; | \(|$)", line)
    assert match, f"no 'valid: …' list in {line!r}"
    return {name.strip() for name in match.group(1).split(",")}


def _assert_one_error_line(ran: Ran) -> str:
    assert ran.returncode == 2, ran.explain()
    assert "Traceback" not in ran.output, ran.explain()
    lines = [line for line in ran.output.splitlines() if line.strip()]
    assert len(lines) == 1, ran.explain()
    assert lines[0].startswith("error:"), ran.explain()
    return lines[0]


@pytest.mark.parametrize("case", BAD, ids=[b.job for b in BAD])
def test_bad_input_is_one_error_line_and_writes_nothing(batch, case):
    ran = batch[case.job]
    line = _assert_one_error_line(ran)
    for text in case.must_contain:
        assert text in line, f"{text!r} missing from {line!r}"
    if case.pattern:
        assert re.search(case.pattern, line), f"{case.pattern!r} does not match {line!r}"
    if case.listed:
        assert _valid_list(line) == set(case.listed), line
    assert ran.after == ran.before, f"files appeared: {sorted(ran.after - ran.before)}"
    assert not (ran.cwd / "results").exists()


# ------------------------------------------------------------------------------ 2. a good run

GOOD_EPOCHS = 50
GOOD_SETS = [f"train.epochs={GOOD_EPOCHS}", "train.log_every=10"]
GOOD_ITERATIONS = [0, 10, 20, 30, 40, 50]  # every log_every, then the final parameters
GOOD = job("good run", lambda cwd: ["run", str(HE), *[a for kv in GOOD_SETS for a in ("--set", kv)],
                                    "--out", "OUT"])
SEEDS4 = job("four seeds", lambda cwd: ["run", str(HE), "--seeds", "4",
                                        *[a for kv in GOOD_SETS for a in ("--set", kv)],
                                        "--out", "OUT"])
DEFAULT = job("default folder, quiet", _he("--set", "train.epochs=20", "--quiet"))


def _notebook_he_weights(seed: int) -> dict[str, np.ndarray]:
    """The Coursera notebook's initialize_parameters_he, written out here."""
    np_rng = np.random.RandomState(seed)
    dims = [2, 10, 5, 1]
    out = {}
    for l in range(1, len(dims)):
        out[f"W{l}"] = np_rng.randn(dims[l], dims[l - 1]) * np.sqrt(2 / dims[l - 1])
        out[f"b{l}"] = np.zeros(dims[l])
    return out


def _circles() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's data: make_circles(300) after seed 1, make_circles(100) after seed 2."""
    X, y = make_circles(n_samples=300, noise=0.05, random_state=1)
    Xt, yt = make_circles(n_samples=100, noise=0.05, random_state=2)
    return X.T, y, Xt.T, yt


def _forward(w: dict[str, np.ndarray], e: int, X: np.ndarray) -> list[np.ndarray]:
    """Activations [A1, A2, A3] of experiment e: relu, relu, sigmoid."""
    a, acts = X, []
    for l in (1, 2, 3):
        z = w[f"W{l}"][e] @ a + w[f"b{l}"][e][:, None]
        a = np.maximum(z, 0) if l < 3 else 1 / (1 + np.exp(-z))
        acts.append(a)
    return acts


def _bce(a: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


def _history(folder: Path) -> tuple[list[str], list[list[str]]]:
    with (folder / "history.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def good(batch) -> Path:
    ran = batch[GOOD]
    assert ran.returncode == 0, ran.explain()
    return ran.cwd / "OUT"


def test_good_run_writes_every_file_and_no_temporaries(good):
    names = {p.name for p in good.iterdir()}
    assert names == RUN_FILES
    assert not [n for n in names if n.startswith(".")]
    assert all((good / n).stat().st_size > 0 for n in names)


def test_good_run_metrics_shape(good):
    m = _metrics(good)
    assert m["name"] == "he_circles"
    assert m["status"] == "completed"
    assert len(m["experiments"]) == 1
    exp = m["experiments"][0]
    assert {"init", "seed", "train_accuracy", "test_accuracy", "final_cost", "diverged_at",
            "cost_curve", "layers_init", "layers_final"} <= set(exp)
    assert exp["init"] == "he"
    assert exp["seed"] == 3
    assert exp["diverged_at"] is None
    assert [pt[0] for pt in exp["cost_curve"]] == GOOD_ITERATIONS
    assert all(len(pt) == 2 for pt in exp["cost_curve"])
    assert exp["cost_curve"][0][1] == pytest.approx(NOTEBOOK_COST_0, rel=1e-12)
    for key in ("layers_init", "layers_final"):
        layers = exp[key]
        assert [rec["layer"] for rec in layers] == [1, 2, 3]
        for rec in layers:
            assert set(rec) >= LAYER_KEYS, rec


def test_good_run_initial_weights_are_the_notebooks_legacy_draws(good):
    w = _load_npz(good / "weights_init.npz")
    expected = _notebook_he_weights(3)
    assert set(w) == set(expected) | {"init", "seed"}
    assert w["W1"].shape == (1, 10, 2)
    assert w["b1"].shape == (1, 10)
    assert w["W2"].shape == (1, 5, 10)
    assert w["W3"].shape == (1, 1, 5)
    assert w["b3"].shape == (1, 1)
    np.testing.assert_array_equal(w["W1"][0], np.random.RandomState(3).randn(10, 2) * np.sqrt(1))
    for key, value in expected.items():
        np.testing.assert_array_equal(w[key][0], value, err_msg=key)


def test_good_run_final_weights_trained_and_agree_with_reported_numbers(good):
    w0, w = _load_npz(good / "weights_init.npz"), _load_npz(good / "weights_final.npz")
    assert {k: v.shape for k, v in w.items()} == {k: v.shape for k, v in w0.items()}
    assert not np.array_equal(w["W1"], w0["W1"])
    X, y, Xt, yt = _circles()
    a3 = _forward(w, 0, X)[-1][0]
    exp = _metrics(good)["experiments"][0]
    assert exp["train_accuracy"] == pytest.approx(np.mean((a3 > 0.5) == (y == 1)), abs=1e-12)
    at3 = _forward(w, 0, Xt)[-1][0]
    assert exp["test_accuracy"] == pytest.approx(np.mean((at3 > 0.5) == (yt == 1)), abs=1e-12)
    assert exp["final_cost"] == pytest.approx(_bce(a3, y), rel=1e-9)
    assert exp["cost_curve"][-1][1] == pytest.approx(_bce(a3, y), rel=1e-9)
    assert exp["cost_curve"][0][1] == pytest.approx(_bce(_forward(w0, 0, X)[-1][0], y), rel=1e-9)


@pytest.mark.parametrize(("key", "weights"), [("layers_init", "weights_init.npz"),
                                              ("layers_final", "weights_final.npz")])
def test_good_run_layer_statistics_match_a_numpy_forward_pass(good, key, weights):
    X = _circles()[0]
    acts = _forward(_load_npz(good / weights), 0, X)
    layers = _metrics(good)["experiments"][0][key]
    for rec, a in zip(layers, acts, strict=True):
        assert rec["activation_mean"] == pytest.approx(a.mean(), rel=1e-9, abs=1e-12)
        assert rec["activation_std"] == pytest.approx(a.std(), rel=1e-9, abs=1e-12)
    for rec, a in zip(layers[:2], acts[:2], strict=True):  # relu layers
        assert rec["dead_fraction"] == pytest.approx(np.mean((a <= 0).all(axis=1)), abs=1e-12)
        assert rec["saturated_fraction"] is None
    out = acts[2]
    assert layers[2]["saturated_fraction"] == pytest.approx(
        np.mean((out <= 0.01) | (out >= 0.99)), abs=1e-12)
    assert layers[2]["dead_fraction"] is None


def test_good_run_history_csv(good):
    header, rows = _history(good)
    assert header == HISTORY_HEADER
    assert len(rows) == len(GOOD_ITERATIONS) * 1
    assert [int(r[0]) for r in rows] == GOOD_ITERATIONS
    assert {(r[1], r[2], r[3]) for r in rows} == {("0", "he", "3")}
    curve = _metrics(good)["experiments"][0]["cost_curve"]
    assert [float(r[4]) for r in rows] == pytest.approx([c for _, c in curve], rel=1e-15)


def test_good_run_config_yaml_reloads_to_the_same_experiment(good):
    saved = config_mod.load(good / "config.yaml")
    assert saved == config_mod.load(HE, GOOD_SETS)
    assert saved.train.epochs == GOOD_EPOCHS
    assert saved.train.lr == 0.01
    assert saved.model.layers == [2, 10, 5, 1]
    assert saved.rng == "legacy"


def test_good_run_environment_json(good):
    env = json.loads((good / "environment.json").read_text(encoding="utf-8"))
    assert env["overrides"] == GOOD_SETS
    assert "run" in env["command"]
    assert env["device"].startswith("cpu")


def test_good_run_files_respect_the_umask(good, tmp_path):
    reference = _write(tmp_path / "reference.txt", "x")  # created under the same umask
    expected = reference.stat().st_mode & 0o777
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in good.iterdir()}
    assert modes == {name: oct(expected) for name in RUN_FILES}


def test_good_run_console_output(batch):
    ran = batch[GOOD]
    assert "cost after iteration 0:" in ran.stdout
    assert "Per layer at initialization" in ran.stdout
    assert "Per layer after training" in ran.stdout
    assert f"Result after {GOOD_EPOCHS} iterations" in ran.stdout
    assert ran.stderr.strip() == ""


def test_default_run_folder_is_one_timestamped_folder_under_results(batch):
    ran = batch[DEFAULT]
    assert ran.returncode == 0, ran.explain()
    folders = list((ran.cwd / "results").iterdir())
    assert len(folders) == 1, folders
    match = RUN_DIR_RE.match(folders[0].name)
    assert match, folders[0].name
    stamp = dt.datetime.strptime(match.group(1) + "000", "%Y%m%d-%H%M%S-%f")
    assert abs((dt.datetime.now() - stamp).total_seconds()) < 15 * 60
    assert {p.name for p in folders[0].iterdir()} == RUN_FILES
    assert ran.after - ran.before == {"results", f"results/{folders[0].name}",
                                      *(f"results/{folders[0].name}/{n}" for n in RUN_FILES)}


def test_two_quick_runs_never_collide(tmp_path):
    assert INITLAB, "initlab console script not found"
    argv = [INITLAB, "run", str(HE), "--set", "train.epochs=1", "--quiet"]
    procs = [subprocess.Popen(argv, cwd=tmp_path, env=cli_env(80), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, out + err
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2, folders
    for folder in folders:
        assert re.match(r"^\d{8}-\d{6}-\d{3}-he_circles(-\d+)?$", folder.name), folder.name
        assert _metrics(folder)["status"] == "completed"


def test_run_folders_in_the_same_millisecond_get_distinct_names(tmp_path, monkeypatch):
    frozen = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)

    class FrozenClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen

    monkeypatch.setattr(results_mod.dt, "datetime", FrozenClock)
    made = [results_mod.new_run_dir(tmp_path, "he_circles") for _ in range(3)]
    assert [p.name for p in made] == ["20240506-070809-123-he_circles",
                                      "20240506-070809-123-he_circles-1",
                                      "20240506-070809-123-he_circles-2"]
    assert all(p.is_dir() and p.parent == tmp_path for p in made)


SLASH = job("name with a slash", _he("--set", "name=group/he", "--set", "train.epochs=5"))


def test_run_name_with_a_path_separator_stays_one_folder_under_results(batch):
    ran = batch[SLASH]
    if ran.returncode == 2:  # refusing the name is fine, as one line
        assert "name" in _assert_one_error_line(ran)
        return
    assert ran.returncode == 0, ran.explain()
    folders = list((ran.cwd / "results").iterdir())
    assert len(folders) == 1, folders
    assert {p.name for p in folders[0].iterdir()} == RUN_FILES, sorted(ran.after)


# -------------------------------------------------------------------------------- 3. --seeds

def test_four_seeds_are_four_slices_of_one_run(batch, good):
    ran = batch[SEEDS4]
    assert ran.returncode == 0, ran.explain()
    folder = ran.cwd / "OUT"
    m = _metrics(folder)
    assert [e["seed"] for e in m["experiments"]] == [3, 4, 5, 6]
    assert {e["init"] for e in m["experiments"]} == {"he"}
    w = _load_npz(folder / "weights_init.npz")
    assert w["W1"].shape == (4, 10, 2)
    assert w["b1"].shape == (4, 10)
    assert w["W2"].shape == (4, 5, 10)
    assert w["W3"].shape == (4, 1, 5)
    for e, seed in enumerate([3, 4, 5, 6]):
        for key, value in _notebook_he_weights(seed).items():
            np.testing.assert_array_equal(w[key][e], value, err_msg=f"{key} seed {seed}")
    assert _load_npz(folder / "weights_final.npz")["W2"].shape == (4, 5, 10)
    header, rows = _history(folder)
    assert header == HISTORY_HEADER
    assert len(rows) == len(GOOD_ITERATIONS) * 4
    assert sorted({(int(r[1]), int(r[3])) for r in rows}) == [(0, 3), (1, 4), (2, 5), (3, 6)]
    # slice seed 3 of the batch trains exactly like seed 3 alone
    alone = _metrics(good)["experiments"][0]
    assert m["experiments"][0]["final_cost"] == pytest.approx(alone["final_cost"], rel=1e-9)


# ---------------------------------------------------------------- 4. --dry-run, --quiet, echo

DRY = job("dry run", lambda cwd: ["run", str(HE), "--dry-run", "--set", "train.lr=0.05",
                                   "--out", "OUT"])


def test_dry_run_prints_the_header_and_writes_nothing(batch):
    ran = batch[DRY]
    assert ran.returncode == 0, ran.explain()
    assert "he_circles" in ran.stdout
    assert "2 → 10 → 5 → 1" in ran.stdout
    assert "dry run" in ran.stdout
    assert "cost after iteration" not in ran.stdout
    assert ran.after == ran.before
    assert not (ran.cwd / "OUT").exists()
    assert not (ran.cwd / "results").exists()


def test_quiet_prints_the_final_table_only(batch):
    ran = batch[DEFAULT]
    assert ran.returncode == 0, ran.explain()
    assert "Result after 20 iterations" in ran.stdout
    assert "Per layer" not in ran.stdout
    assert "cost after iteration" not in ran.stdout
    assert "network" not in ran.stdout  # no header either
    assert "results: results/" in ran.stdout


ACTS = "model.activations=[relu,relu,sigmoid]"
ECHO = [(DRY, "train.lr=0.05", "lr 0.05"),
        (job("echo a list value", lambda cwd: ["run", str(HE), "--dry-run", "--set", ACTS]),
         ACTS, "(relu, relu, sigmoid)")]


@pytest.mark.parametrize(("name", "override", "in_header"), ECHO, ids=[e[1] for e in ECHO])
def test_set_values_echo_in_the_output(batch, name, override, in_header):
    ran = batch[name]
    assert ran.returncode == 0, ran.explain()
    assert in_header in ran.stdout
    echoed = [line for line in ran.stdout.splitlines() if line.startswith("overrides:")]
    assert echoed == [f"overrides: {override}"], ran.stdout


# --------------------------------------------------------------------- 5. listings and help

INITS = job("inits", lambda cwd: ["inits"], columns=400)
DATASETS = job("datasets", lambda cwd: ["datasets"], columns=400)
HELP = job("help", lambda cwd: ["--help"])
RUN_HELP = job("run help", lambda cwd: ["run", "--help"])


def _rows(stdout: str) -> dict[str, str]:
    """First cell → whole line, for the one-line rows of a wide Rich table."""
    rows = {}
    for line in stdout.splitlines():
        match = re.match(r"^ (\S+)\s", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_inits_lists_every_initializer(batch):
    ran = batch[INITS]
    assert ran.returncode == 0, ran.explain()
    rows = _rows(ran.stdout)
    assert set(INITIALIZER_NAMES) <= set(rows), set(INITIALIZER_NAMES) - set(rows)
    assert "CS231n" in rows["lecun_normal"] and "Xavier" in rows["lecun_normal"]


def test_inits_gives_the_cs231n_xavier_note_only_to_the_normal_lecun(batch):
    """CS231n's 'Xavier' is randn/√fan_in, a normal law; lecun_uniform is U(-b, b)."""
    rows = _rows(batch[INITS].stdout)
    assert "N(0,1)/√fan_in that CS231n calls" not in rows["lecun_uniform"], rows["lecun_uniform"]


def test_datasets_lists_every_dataset(batch):
    ran = batch[DATASETS]
    assert ran.returncode == 0, ran.explain()
    rows = _rows(ran.stdout)
    assert set(DATASET_NAMES) <= set(rows), set(DATASET_NAMES) - set(rows)


def test_help(batch):
    top, run = batch[HELP], batch[RUN_HELP]
    assert top.returncode == 0, top.explain()
    for command in ("run", "inits", "datasets"):
        assert re.search(rf"^\W*{command}\s", top.stdout, re.M), command
    assert run.returncode == 0, run.explain()
    for option in ("--seeds", "--set", "--device", "--out", "--dry-run", "--quiet"):
        assert option in run.stdout, option


# --------------------------------------------------------------------------------- 6. Ctrl-C

def _pump(stream, sink: queue.Queue) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


def test_ctrl_c_saves_a_complete_interrupted_run(tmp_path):
    assert INITLAB, "initlab console script not found"
    out = tmp_path / "OUT"
    proc = subprocess.Popen([INITLAB, "run", str(HE), "--set", "train.epochs=2000000",
                             "--out", str(out)], cwd=tmp_path, env=cli_env(80),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    errs: list[str] = []
    threads = [threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True),
               threading.Thread(target=lambda: errs.extend(proc.stderr), daemon=True)]
    for t in threads:
        t.start()
    seen = []
    try:
        deadline = time.monotonic() + 30
        while not any("cost after iteration 0:" in s for s in seen):
            left = deadline - time.monotonic()
            assert left > 0, f"no 'cost after iteration 0' within 30 s:\n{''.join(seen)}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, f"exited early ({proc.wait()}):\n{''.join(seen)}"
            seen.append(line)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in threads:
        t.join(timeout=10)
    stderr = "".join(errs)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    assert {p.name for p in out.iterdir()} == RUN_FILES
    m = _metrics(out)
    assert m["status"] == "interrupted"
    assert 0 <= m["iterations"] < m["planned_iterations"] == 2000000
    curve = m["experiments"][0]["cost_curve"]
    assert curve[0][0] == 0 and curve[-1][0] == m["iterations"]
    json.loads((out / "environment.json").read_text(encoding="utf-8"))
    assert config_mod.load(out / "config.yaml").train.epochs == 2000000
    for name in ("weights_init.npz", "weights_final.npz"):
        w = _load_npz(out / name)
        assert w["W1"].shape == (1, 10, 2)
        assert all(np.isfinite(w[k]).all() for k in w if k not in ("init", "seed"))
    header, rows = _history(out)
    assert header == HISTORY_HEADER and len(rows) == len(curve)


# ---------------------------------------------------------------------------- 7. divergence

DIVERGE = job("diverging", _he("--set", "init.weights=normal(std=1e100)", "--set", "train.lr=10",
                               "--set", "train.epochs=20", "--set", "train.log_every=1",
                               "--out", "OUT"), columns=200)


def test_a_diverging_experiment_is_reported_not_fatal(batch):
    ran = batch[DIVERGE]
    assert ran.returncode == 0, ran.explain()
    assert "Traceback" not in ran.output
    m = _metrics(ran.cwd / "OUT")
    assert m["status"] == "completed"
    exp = m["experiments"][0]
    at = exp["diverged_at"]
    assert isinstance(at, int) and not isinstance(at, bool), at
    costs = [c for _, c in exp["cost_curve"]]
    assert [pt[0] for pt in exp["cost_curve"]] == list(range(21))
    def finite(c):  # metrics.json is strict JSON: a NaN/inf cost is written as null
        return c is not None and math.isfinite(c)

    first_bad = next(i for i, c in enumerate(costs) if not finite(c))
    assert all(not finite(c) for c in costs[first_bad:])
    assert at == first_bad
    assert f"diverged at iteration {at}" in ran.stdout


# ------------------------------------------------------------------------- the console script

VERSION = job("--version", lambda cwd: ["--version"])
BARE = job("bare initlab", lambda cwd: [])
CONFIGS_LIST = job("configs", lambda cwd: ["configs"], columns=200)
IMPORTS = ("import atexit, sys\n"
           "atexit.register(lambda: sys.stderr.write('HEAVY ' + ' '.join(sorted(m for m in "
           "sys.modules if m.split('.')[0] in ('sklearn', 'scipy'))) + '\\n'))\n"
           "from initlab.__main__ import main\nmain()\n")
LIGHT = {name: job(f"imports of {name}", (lambda a: lambda cwd: a)(args), python_code=IMPORTS)
         for name, args in (("--help", ["--help"]), ("inits", ["inits"]),
                            ("datasets", ["datasets"]),
                            ("run --dry-run", ["run", "he_circles", "--dry-run"]),
                            ("compare --dry-run", ["compare", "--dry-run"]))}


def test_click_is_installed_beside_typer_as_in_many_environments():
    import importlib.util  # noqa: PLC0415

    assert importlib.util.find_spec("click") is not None  # the usage-error cases above need it


def test_version_and_bare_initlab(batch):
    ran = batch[VERSION]
    assert ran.returncode == 0 and ran.stdout.strip() == "initlab 0.1.0", ran.explain()
    ran = batch[BARE]
    assert ran.returncode == 0 and "Usage: initlab" in ran.stdout and ran.stderr == "", \
        ran.explain()


def test_shipped_configs_are_listed_with_what_they_reproduce(batch):
    ran = batch[CONFIGS_LIST]
    assert ran.returncode == 0, ran.explain()
    for name in ("he_circles", "zeros_circles", "random_circles", "deep_tanh_probe",
                 "digits_tanh", "xor_constant"):
        assert name in ran.stdout
    assert "Coursera" in ran.stdout and "CS231n" in ran.stdout


@pytest.mark.parametrize("name", list(LIGHT))
def test_quick_commands_import_neither_scikit_learn_nor_scipy(batch, name):
    ran = batch[LIGHT[name]]
    assert ran.returncode == 0, ran.explain()
    heavy = next(line for line in ran.stderr.splitlines() if line.startswith("HEAVY"))
    assert heavy == "HEAVY ", heavy
