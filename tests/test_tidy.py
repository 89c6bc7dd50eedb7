"""The tidy files of a run folder: experiments.csv, layers.csv (long format), history.csv,
summary.csv and pairs.csv of a compare, probe_layers.csv of a probe, and the init/seed labels of
the weight files. Every CSV loads with plain ``pandas.read_csv`` and ``polars.read_csv``, numeric
columns as numbers, the values those of metrics.json / probe.json, null as an empty cell —
including runs where experiments diverged and NaN/inf costs occur."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from initlab.commands import compare, probe
from initlab.experiments import config as config_mod
from initlab.experiments import runner
from initlab.reporting import folder, records

from conftest import CPU, HE, run_config

LINEAR = ["model.activations=[linear,linear,linear]", "train.loss=quadratic", "train.lr=0.05",
          "train.epochs=200"]  # normal(std=3) diverges within a few iterations here

EXPERIMENT_NUMBERS = ["experiment", "seed", "train_accuracy", "test_accuracy", "final_cost",
                      "diverged_at", "iterations"]
LAYER_NUMBERS = ["experiment", "seed", "layer", "units", "value"]
HISTORY_NUMBERS = ["iteration", "experiment", "seed", "cost"]
PROBE_NUMBERS = ["layer", "activation_mean", "activation_std", "predicted_std",
                 "saturated_fraction", "dead_fraction", "grad_std", "predicted_grad_std",
                 "loss_grad_std"]
NOT_NUMBERS = {"inf", "-inf", "+inf", "infinity", "-infinity", "nan", "-nan", "none", "null"}


def _save(path: Path, result: runner.RunResult, extra: dict | None = None) -> Path:
    path.mkdir(parents=True)
    folder.save_run(path, result, config_mod.dump(result.plan.config), {"test": "tidy"},
                    extra=extra)
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A compare of he (finite) and normal(std=3) (diverges at iteration 3 or 4) × 3 seeds."""
    plan = compare.setup(compare.Options(HE, ["he", "normal(std=3)"], 3, None, LINEAR))
    found = compare.run(plan, CPU, chunking=runner.chunks_for(plan, CPU))
    path = _save(tmp_path_factory.mktemp("mixed") / "run", found.run,
                 records.compare_extra(found))
    return path, found.run


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    """A run whose three experiments all diverge: accuracies and final costs all null."""
    result = run_config("he_circles", *LINEAR, "init.weights=normal(std=3)", seeds=3)
    return _save(tmp_path_factory.mktemp("diverged") / "run", result), result


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """A run where nothing diverges: diverged_at is null everywhere."""
    result = run_config("he_circles", "train.epochs=300", "train.log_every=50", seeds=2)
    return _save(tmp_path_factory.mktemp("healthy") / "run", result), result


RUNS = ["mixed", "diverged", "healthy"]


def _metrics(path: Path) -> dict:
    return json.loads((path / "metrics.json").read_text(encoding="utf-8"))


def _cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _frames(path: Path) -> tuple[pd.DataFrame, pl.DataFrame]:
    """The file as plain pandas and polars read it: no options."""
    return pd.read_csv(path), pl.read_csv(path)


def _py(value):
    """A pandas/polars cell as a Python value; NaN (pandas' missing) and None as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(path: Path) -> tuple[list[dict], list[dict]]:
    pdf, pldf = _frames(path)
    as_pandas = [{k: _py(v) for k, v in r.items()} for r in pdf.to_dict("records")]
    return as_pandas, pldf.to_dicts()


def check_loads(path: Path, numeric: list[str], strict: bool = True) -> None:
    """Both readers give every ``numeric`` column a number dtype (int or float). ``strict``
    False: a column with no value at all (every cell empty) is all-null in polars, which has
    no number to infer a dtype from (it calls such a column String); pandas gives float NaN."""
    header, rows = _cells(path)
    pdf, pldf = _frames(path)
    assert list(pdf.columns) == list(pldf.columns) == header
    assert len(pdf) == pldf.height == len(rows)
    for col in numeric:
        i = header.index(col)
        filled = [r[i] for r in rows if r[i] != ""]
        assert pdf[col].dtype.kind in "iuf", (path.name, col, pdf[col].dtype)
        if filled or strict:
            assert pldf[col].dtype.is_numeric(), (path.name, col, pldf[col].dtype)
        else:
            assert pldf[col].null_count() == pldf.height, (path.name, col)
        # never the text of a non-finite number or of None
        assert not [c for c in filled if c.strip().lower() in NOT_NUMBERS], (path.name, col)


def _same(got, want) -> bool:
    """CSV value against the metrics.json value, exactly (None: an empty cell)."""
    return got is None if want is None else got == want


# --------------------------------------------------------------------------- experiments.csv

def test_the_mixed_run_has_nulls_and_numbers_in_every_numeric_column(mixed):
    path, _ = mixed
    m = _metrics(path)
    exps = m["experiments"]
    assert any(e["diverged_at"] is None for e in exps) and any(e["diverged_at"] for e in exps)
    assert any(e["final_cost"] is None for e in exps)
    assert any(e["train_accuracy"] is not None for e in exps)
    assert any(c is None for e in exps for _, c in e["cost_curve"])  # NaN costs occurred
    for name, numeric in [("experiments.csv", EXPERIMENT_NUMBERS), ("layers.csv", LAYER_NUMBERS),
                          ("history.csv", HISTORY_NUMBERS)]:
        check_loads(path / name, numeric, strict=True)


@pytest.mark.parametrize("run", RUNS)
def test_every_csv_loads_with_pandas_and_polars_with_numeric_columns(run, request):
    path, _ = request.getfixturevalue(run)
    check_loads(path / "experiments.csv", EXPERIMENT_NUMBERS, strict=False)
    check_loads(path / "layers.csv", LAYER_NUMBERS, strict=True)
    check_loads(path / "history.csv", HISTORY_NUMBERS, strict=True)
    pdf, pldf = _frames(path / "layers.csv")
    for col in ("init", "phase", "activation", "statistic"):
        assert pldf[col].dtype == pl.String and not pd.api.types.is_numeric_dtype(pdf[col])


@pytest.mark.parametrize("run", RUNS)
def test_experiments_csv_holds_metrics_json_experiments(run, request):
    path, _ = request.getfixturevalue(run)
    m = _metrics(path)
    header, rows = _cells(path / "experiments.csv")
    assert header == ["experiment", "init", "seed", "train_accuracy", "test_accuracy",
                      "final_cost", "diverged_at", "iterations", "status"]
    for got in _records(path / "experiments.csv"):
        assert len(got) == len(m["experiments"])
        for e, (row, want) in enumerate(zip(got, m["experiments"], strict=True)):
            assert row["experiment"] == e and row["status"] == m["status"]
            for key in header[1:-1]:
                assert _same(row[key], want[key]), (e, key, row[key], want[key])
    for r, want in zip(rows, m["experiments"], strict=True):  # null ↔ an empty cell
        for key in ("train_accuracy", "test_accuracy", "final_cost", "diverged_at"):
            assert (r[header.index(key)] == "") == (want[key] is None)


def test_a_stop_request_during_the_save_marks_experiments_csv_as_metrics_json(tmp_path):
    result = run_config("he_circles", "train.epochs=100", "train.log_every=50")
    answers = iter([False, True])  # no request when first asked, one by the second time
    folder.save_run(tmp_path, result, config_mod.dump(result.plan.config), {},
                    interrupted=lambda: next(answers, True))
    m = _metrics(tmp_path)
    assert m["status"] == "interrupted"
    assert [r["status"] for r in _records(tmp_path / "experiments.csv")[1]] == ["interrupted"]


# ------------------------------------------------------------------------------- layers.csv

@pytest.mark.parametrize("run", RUNS)
def test_layers_csv_is_one_row_per_statistic_with_metrics_json_values(run, request):
    path, result = request.getfixturevalue(run)
    m = _metrics(path)
    header, cells = _cells(path / "layers.csv")
    assert header == ["experiment", "init", "seed", "phase", "layer", "activation", "units",
                      "statistic", "value"]
    want = {}
    for e, exp in enumerate(m["experiments"]):
        for phase in ("init", "final"):
            for rec in exp[f"layers_{phase}"]:
                for key, value in rec.items():
                    if key not in ("layer", "units", "activation"):
                        want[(e, phase, rec["layer"], key)] = (
                            exp["init"], exp["seed"], rec["activation"], rec["units"], value)
    n_stats = len(m["experiments"][0]["layers_init"][0]) - 3
    assert n_stats == 9
    assert len(cells) == len(want) == (result.plan.n_experiments * 2 * result.plan.net.depth
                                       * n_stats)
    assert any(v[-1] is None for v in want.values())  # saturated/dead share of linear/relu
    for rows in _records(path / "layers.csv"):
        seen = set()
        for row in rows:
            k = (row["experiment"], row["phase"], row["layer"], row["statistic"])
            init, seed, activation, units, value = want[k]
            assert (row["init"], row["seed"], row["activation"], row["units"]) == (
                init, seed, activation, units)
            assert _same(row["value"], value), (k, row["value"], value)
            seen.add(k)
        assert seen == set(want)
    i = header.index("value")
    assert sum(r[i] == "" for r in cells) == sum(v[-1] is None for v in want.values())


def test_layers_csv_follows_the_tidy_shape_a_group_by_needs(mixed):
    path, _ = mixed
    df = pl.read_csv(path / "layers.csv")
    per = (df.filter((pl.col("phase") == "init") & (pl.col("statistic") == "activation_std"))
           .group_by("init", "layer").agg(pl.col("value").mean()).sort("init", "layer"))
    m = _metrics(path)
    for init, layer, value in per.iter_rows():
        mine = [e["layers_init"][layer - 1]["activation_std"] for e in m["experiments"]
                if e["init"] == init]
        assert value == pytest.approx(np.mean(mine), rel=1e-12)


# ------------------------------------------------------------------------------ history.csv

@pytest.mark.parametrize("run", RUNS)
def test_history_csv_has_empty_cells_for_non_finite_costs(run, request):
    path, _ = request.getfixturevalue(run)
    m = _metrics(path)
    for rows in _records(path / "history.csv"):
        for e, exp in enumerate(m["experiments"]):
            mine = [(r["iteration"], r["cost"]) for r in rows if r["experiment"] == e]
            assert {(r["init"], r["seed"]) for r in rows if r["experiment"] == e} == {
                (exp["init"], exp["seed"])}
            assert len(mine) == len(exp["cost_curve"])
            for (it, cost), (want_it, want_cost) in zip(mine, exp["cost_curve"], strict=True):
                assert it == want_it and _same(cost, want_cost), (e, it, cost, want_cost)


def test_the_diverged_costs_are_empty_cells_not_inf_or_nan_text(diverged):
    path, _ = diverged
    header, rows = _cells(path / "history.csv")
    costs = [r[header.index("cost")] for r in rows]
    assert "" in costs and all(c == "" or math.isfinite(float(c)) for c in costs)
    assert pl.read_csv(path / "history.csv")["cost"].dtype == pl.Float64


# ---------------------------------------------------------------------- summary.csv, pairs.csv

def test_compare_summary_and_pairs_csv_load_and_keep_their_interval_columns(mixed):
    path, _ = mixed
    m = _metrics(path)
    header, _ = _cells(path / "summary.csv")
    for key in ("train_accuracy_ci95", "test_accuracy_ci95", "train_accuracy_range",
                "test_accuracy_range", "success_ci95"):  # split even where all are null
        assert f"{key}_low" in header and f"{key}_high" in header and key not in header
    words = {"init", "train_accuracy_ci_method", "test_accuracy_ci_method"}
    check_loads(path / "summary.csv", [h for h in header if h not in words], strict=False)
    header, _ = _cells(path / "pairs.csv")
    assert "ci95_low" in header and "ci95" not in header
    words = {"init", "vs", "metric", "test", "paired", "beats"}
    check_loads(path / "pairs.csv", [h for h in header if h not in words], strict=False)
    for rows in _records(path / "summary.csv"):
        for row, want in zip(rows, m["summary"], strict=True):
            for key, value in want.items():
                if isinstance(value, list) or key in records.INTERVAL_KEYS:
                    low, high = value or (None, None)
                    assert _same(row[f"{key}_low"], low) and _same(row[f"{key}_high"], high)
                else:
                    assert _same(row[key], value), (key, row[key], value)


# ---------------------------------------------------------------------------- weight labels

@pytest.mark.parametrize("run", RUNS)
def test_weight_files_label_the_experiment_axis(run, request):
    path, result = request.getfixturevalue(run)
    m = _metrics(path)
    for name, arrays in (("weights_init.npz", result.weights_init),
                         ("weights_final.npz", result.weights_final)):
        with np.load(path / name, allow_pickle=False) as w:
            assert w.files == [*arrays, "init", "seed"]  # W1, b1, …, then the labels
            init, seed = w["init"], w["seed"]
            assert init.dtype.kind == "U" and seed.dtype == np.int64
            assert init.shape == seed.shape == (len(m["experiments"]),)
            assert init.tolist() == [e["init"] for e in m["experiments"]]
            assert seed.tolist() == [e["seed"] for e in m["experiments"]]
            for key, value in arrays.items():
                np.testing.assert_array_equal(w[key], value)
            labels = list(zip(init.tolist(), seed.tolist(), strict=True))
            for e, exp in enumerate(result.plan.experiments):  # a slice found by its labels
                np.testing.assert_array_equal(w["W2"][labels.index((exp.init, exp.seed))],
                                              arrays["W2"][e])


# ------------------------------------------------------------------------- probe_layers.csv

@pytest.fixture(scope="module", params=["tanh", "relu-circles"])
def probed(request, tmp_path_factory):
    activation, _, data = request.param.partition("-")
    fields = {"name": "tidy_probe", "depth": 4, "width": 30, "activation": activation,
              "inits": ["small", "lecun_normal", "normal(std=0.5)"], "batch": 200,
              "seeds": [0, 1], "histograms": True}
    if data:
        fields["input"] = data
    cfg = config_mod.validate(fields, "probe", config_mod.ProbeConfig)
    path = tmp_path_factory.mktemp("probe") / "run"
    path.mkdir()
    folder.save_probe(path, probe.run(cfg), config_mod.dump(cfg), {})
    return path


def test_probe_layers_csv_holds_probe_json_layers_without_histograms(probed):
    record = json.loads((probed / "probe.json").read_text(encoding="utf-8"))
    assert all("histogram" in row for row in record["layers"])
    header, cells = _cells(probed / "probe_layers.csv")
    assert header == [k for k in record["layers"][0] if k != "histogram"]
    assert len(cells) == len(record["layers"]) == 3 * 4
    check_loads(probed / "probe_layers.csv", PROBE_NUMBERS, strict=False)
    pdf, pldf = _frames(probed / "probe_layers.csv")
    for col in ("vanished", "saturated"):
        assert pdf[col].dtype == bool and pldf[col].dtype == pl.Boolean
    assert pldf["init"].dtype == pl.String
    for rows in _records(probed / "probe_layers.csv"):
        for row, want in zip(rows, record["layers"], strict=True):
            for key in header:
                assert _same(row[key], want[key]), (key, row[key], want[key])


def test_a_probe_with_a_data_set_fills_the_loss_gradient_column(tmp_path_factory):
    cfg = config_mod.validate({"depth": 3, "width": 20, "activation": "relu", "inits": ["he"],
                               "input": "circles"}, "probe", config_mod.ProbeConfig)
    path = tmp_path_factory.mktemp("probe_input")
    folder.save_probe(path, probe.run(cfg), config_mod.dump(cfg), {})
    df = pl.read_csv(path / "probe_layers.csv")
    assert df["loss_grad_std"].dtype == pl.Float64 and df["loss_grad_std"].null_count() == 0
    assert df["dead_fraction"].dtype == pl.Float64
