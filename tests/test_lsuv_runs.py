"""LSUV through the product: init.weights: lsuv in run and compare (rescaled on each experiment's
own training batch, batched slice = that seed alone), its log printed and saved in metrics.json,
read back by ``initlab report``, and the one-line refusals (probe has no data, lsuv inside a
per-layer list or as a bias law)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from initlab.engine.backend import get_backend
from initlab.errors import InitlabError
from initlab.experiments import config, runner
from initlab.experiments import plan as plans
from initlab.inits import lsuv

from conftest import CONFIGS, run_cli

# digits, a 5-layer tanh MLP: the shipped file's data, deeper
DEEP_TANH = ["model.layers=[64, 64, 64, 64, 64, 10]",
             "model.activations=[tanh, tanh, tanh, tanh, softmax]", "train.epochs=2"]
SEEDS = [0, 1, 2]


def _plan(*overrides: str, seeds=SEEDS, inits=None) -> plans.Plan:
    cfg = config.load(CONFIGS / "digits_tanh.yaml", [*DEEP_TANH, *overrides])
    return plans.build(cfg, seeds=seeds, inits=inits)


def _pre_activations(net, weights, e, X):
    """z_l of experiment e on inputs X, written here (tanh hidden layers)."""
    a, out = X, []
    for l in range(1, net.depth + 1):
        z = weights[f"W{l}"][e] @ a + weights[f"b{l}"][e][:, None]
        out.append(z)
        a = np.tanh(z)
    return out


@pytest.fixture(scope="module")
def batched():
    built = _plan(inits=["lsuv", "orthogonal"])
    return built, runner.execute(built, get_backend("cpu"))


def test_every_layer_has_unit_variance_on_the_batch_of_its_seed(batched):
    built, result = batched
    X = built.dataset.X_train
    for e, exp in enumerate(built.experiments):
        if exp.init != "lsuv":
            assert result.lsuv[e] is None
            continue
        batch = X[:, lsuv.batch_indices(exp.seed, X.shape[1], 512)]
        log = result.lsuv[e]
        for l, (z, entry) in enumerate(zip(_pre_activations(built.net, result.weights_init, e,
                                                            batch), log, strict=True), start=1):
            assert entry.layer == l and entry.converged
            assert abs(np.var(z) - 1.0) < 0.1, (exp, l)
            assert entry.statistic == pytest.approx(np.var(z), rel=1e-9)


def test_lsuv_starts_from_its_pre_initialiser_rescaled(batched):
    """Layer by layer W_lsuv = c_l · W_orthogonal for one positive factor c_l (no mean
    correction): the same streams drew both."""
    built, result = batched
    groups = built.groups
    for s, (a, b) in enumerate(zip(range(groups["lsuv"].start, groups["lsuv"].stop),
                                   range(groups["orthogonal"].start, groups["orthogonal"].stop),
                                   strict=True)):
        for l in range(1, built.net.depth + 1):
            w, o = result.weights_init[f"W{l}"][a], result.weights_init[f"W{l}"][b]
            c = float(np.sum(w * o) / np.sum(o * o))
            assert c > 0 and c != pytest.approx(1.0, abs=1e-3), (s, l)
            np.testing.assert_allclose(w, c * o, rtol=1e-12, atol=0)


def test_a_batched_slice_equals_that_seed_alone(batched):
    built, result = batched
    alone = runner.execute(_plan(seeds=[SEEDS[1]], inits=["lsuv"]), get_backend("cpu"))
    e = built.experiments.index(plans.Experiment("lsuv", SEEDS[1]))
    for key, value in alone.weights_init.items():
        np.testing.assert_array_equal(value[0], result.weights_init[key][e])
    assert alone.lsuv[0] == result.lsuv[e]


def test_the_run_prints_and_saves_the_log_and_report_reads_it_back(tmp_path):
    ran = run_cli(tmp_path, "run", "digits_tanh", "--set", "init.weights=lsuv(tol=0.05)",
                  *(f"--set={o}" for o in DEEP_TANH), "--out", "OUT", columns=200)
    assert ran.returncode == 0, ran.explain()
    assert "lsuv: 5 layers converged in ≤ 1 rescaling" in ran.stdout
    assert "weights     lsuv(tol=0.05): LSUV (Mishkin & Matas 2015): orthogonal: " in ran.stdout
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    saved = m["experiments"][0]["lsuv"]
    assert saved["params"]["tol"] == 0.05 and saved["params"]["init"] == "orthogonal"
    assert saved["converged"] is True and [x["layer"] for x in saved["layers"]] == [1, 2, 3, 4, 5]
    assert all(abs(x["statistic"] - 1) < 0.05 for x in saved["layers"])
    again = run_cli(tmp_path, "report", "OUT", columns=200)
    assert again.returncode == 0, again.explain()
    assert "lsuv: 5 layers converged in ≤ 1 rescaling" in again.stdout


def test_compare_names_the_layers_that_did_not_converge(tmp_path):
    """Var(tanh(z)) < 1 for every σ_z (it passes 0.9 near σ_z ≈ 8, past 10 rescalings), and a
    softmax output's variance is at most 1/4: every seed says so, layer by layer."""
    ran = run_cli(tmp_path, "compare", "digits_tanh", *(f"--set={o}" for o in DEEP_TANH),
                  "--inits", "lsuv(statistic=post),orthogonal", "--seeds", "3", "--out", "OUT",
                  columns=200)
    assert ran.returncode == 0, ran.explain()
    assert ("lsuv(statistic=post): did not converge in 3 of 3 seeds: layer 1 (max_iter) "
            "in 3") in ran.stdout
    assert "layer 5 (unreachable) in 3" in ran.stdout
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    logs = [e["lsuv"] for e in m["experiments"] if e["init"] == "lsuv(statistic=post)"]
    assert len(logs) == 3 and not any(x["converged"] for x in logs)
    assert all("lsuv" not in e for e in m["experiments"] if e["init"] == "orthogonal")


@pytest.mark.parametrize(("args", "words"), [
    (["probe", "--inits", "he,lsuv", "--depth", "3"], "lsuv needs training data"),
    (["run", "he_circles", "--set", "init.weights=[he, lsuv, he]"],
     "cannot be one entry of a per-layer list"),
    (["run", "he_circles", "--set", "init.bias=lsuv"], "init.bias: lsuv rescales weights"),
    (["run", "he_circles", "--set", "init.weights=lsuv(tol=0)"], "0 < tol < 1"),
    (["run", "he_circles", "--set", "init.weights=lsuv(init=lsuv)"],
     "lsuv cannot pre-initialise itself"),
    (["run", "he_circles", "--set", "init.weights=lsuv(mean_correction=true)",
      "--set", "model.bias=false"], "mean_correction needs biases"),
])
def test_bad_lsuv_input_is_one_line_exit_2(tmp_path, args, words):
    ran = run_cli(tmp_path, *args)
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in ran.stderr, ran.stderr
    assert ran.after == ran.before


def test_the_pre_initialiser_is_validated_with_the_file():
    with pytest.raises(InitlabError, match="unknown initializer 'orthogonl'"):
        config.load(CONFIGS / "he_circles.yaml", ["init.weights=lsuv(init=orthogonl)"])


def test_the_schema_offers_lsuv_for_the_weights():
    props = config.schema(config.RunConfig)["$defs"]["InitSection"]["properties"]
    enums = [set(s.get("enum", ())) for s in props["weights"]["anyOf"]]
    assert any("lsuv" in e for e in enums)
    titled = [s for s in props["weights"]["anyOf"] if s.get("title") == "lsuv"]
    assert titled and "tol" in titled[0]["properties"]
