"""inits.lsuv: every layer reaches a unit statistic on its batch (checked by an independent
per-experiment forward pass), non-convergence is logged rather than raised, slices are
independent bit for bit, only training inputs are read, and bad input is one line."""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pytest

from initlab.engine import activations, losses
from initlab.engine.nn import Network
from initlab.errors import InitlabError
from initlab.experiments import config
from initlab.experiments import plan as plans
from initlab.inits import laws, lsuv

from conftest import CONFIGS

REFERENCE_PHI = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


def network(layers, acts, bias=True) -> Network:
    return Network(tuple(layers), tuple(activations.get(a) for a in acts),
                   losses.get("quadratic"), bias)


def draw(net: Network, n_exp: int, init: str = "orthogonal", bias_std: float = 0.0,
         tag: int = 0) -> dict[str, np.ndarray]:
    """{'W1': (E, n_out, n_in), 'b1': (E, n_out), …}: experiment e from its own generator."""
    found = laws.REGISTRY.resolve(init)
    out: dict[str, np.ndarray] = {}
    for l, (w_shape, b_shape) in enumerate(net.shapes(), start=1):
        rngs = [np.random.default_rng([tag, e, l]) for e in range(n_exp)]
        out[f"W{l}"] = np.stack([laws.sample(found.name, found.params, w_shape, r)
                                 for r in rngs])
        if net.bias:
            out[f"b{l}"] = np.stack([r.normal(0.0, bias_std, b_shape) if bias_std else
                                     np.zeros(b_shape) for r in rngs])
    return out


def inputs(n_in: int, m: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_in, m))


def copy(weights):
    return {k: v.copy() for k, v in weights.items()}


def reference(net: Network, weights, e: int, X: np.ndarray):
    """[(z_l, a_l)] of experiment e on X (n_0, B): plain NumPy, one matrix at a time."""
    a, out = X, []
    for l, act in enumerate(net.activations, start=1):
        z = weights[f"W{l}"][e] @ a
        if net.bias:
            z = z + weights[f"b{l}"][e][:, None]
        a = REFERENCE_PHI[act.name](z)
        out.append((z, a))
    return out


def statistic(z, a, params):
    u = z if params.statistic == "pre" else a
    return np.var(u) if params.target == "variance" else np.std(u)


# ------------------------------------------------------------------ unit statistic reached

@pytest.mark.parametrize("act", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("statistic_", ["pre", "post"])
@pytest.mark.parametrize("target", ["variance", "std"])
def test_every_layer_reaches_a_unit_statistic_on_its_batch(act, bias, statistic_, target):
    net = network((6, 12, 12, 3), (act, act, "linear"), bias)
    weights = draw(net, 3, bias_std=0.3)
    X = inputs(6, 200)
    params = lsuv.resolve({"name": "lsuv", "target": target, "statistic": statistic_,
                           "max_iter": 40, "batch": 64})
    seeds = [5, 6, 7]
    logs = lsuv.rescale(np, net, weights, X, [0, 1, 2], seeds, params)
    assert [len(log) for log in logs] == [3, 3, 3]
    for e, (seed, log) in enumerate(zip(seeds, logs, strict=True)):
        batch = X[:, lsuv.batch_indices(seed, 200, 64)]
        for (z, a), entry in zip(reference(net, weights, e, batch), log, strict=True):
            s = statistic(z, a, params)
            assert entry.converged and entry.reason == "converged", entry
            assert abs(s - 1.0) < params.tol, (entry, s)
            assert entry.statistic == pytest.approx(s, rel=1e-9, abs=1e-12)
            assert entry.mean == pytest.approx(z.mean(), rel=1e-9, abs=1e-12)
            assert 0 <= entry.iterations <= params.max_iter
        assert log[0].iterations >= 1  # 6 → 12 orthogonal halves the variance: it had to act


def test_the_weights_actually_change_and_pre_with_zero_bias_takes_one_rescaling():
    net = network((6, 12, 12, 3), ("relu", "relu", "linear"), True)
    before = draw(net, 2, init="normal(std=0.05)")
    after = copy(before)
    logs = lsuv.rescale(np, net, after, inputs(6, 100), [0, 1], [0, 1], lsuv.resolve())
    for name in ("W1", "W2", "W3"):
        ratio = after[name] / before[name]  # W_l ← c·W_l: one factor per experiment and layer
        assert not np.allclose(ratio, 1.0)
        np.testing.assert_allclose(ratio, ratio[:, :1, :1] * np.ones_like(ratio), rtol=1e-12)
    assert {entry.iterations for log in logs for entry in log} == {1}  # z is linear in W
    np.testing.assert_array_equal(after["b1"], before["b1"])  # no mean_correction: b untouched


def test_mean_correction_centres_z_through_the_bias():
    net = network((6, 12, 12, 3), ("relu", "relu", "linear"), True)
    weights = draw(net, 2, bias_std=0.5)
    X = inputs(6, 150)
    params = lsuv.resolve("lsuv(mean_correction=true, statistic=post, max_iter=40)")
    logs = lsuv.rescale(np, net, weights, X, [0, 1], [3, 4], params)
    for e, seed in enumerate([3, 4]):
        ref = reference(net, weights, e, X[:, lsuv.batch_indices(seed, 150, 512)])
        for (z, a), entry in zip(ref, logs[e], strict=True):
            assert entry.converged
            assert abs(z.mean()) <= params.tol * z.std()
            assert abs(np.var(a) - 1.0) < params.tol


def test_mean_correction_without_biases_is_refused_in_one_line():
    net = network((4, 5, 1), ("relu", "linear"), bias=False)
    with pytest.raises(InitlabError, match="mean_correction needs biases") as err:
        lsuv.rescale(np, net, draw(net, 1), inputs(4, 10), [0], [0],
                     lsuv.resolve("lsuv(mean_correction=true)"))
    assert "\n" not in str(err.value)


# -------------------------------------------------------------- not converging is logged

def test_max_iter_reached_is_logged_not_raised():
    net = network((6, 12, 3), ("tanh", "linear"), True)
    weights = draw(net, 1)
    params = lsuv.resolve("lsuv(statistic=post, max_iter=3)")  # tanh needs ~15 rescalings
    (log,) = lsuv.rescale(np, net, weights, inputs(6, 100), [0], [0], params)
    assert (log[0].layer, log[0].iterations, log[0].converged, log[0].reason) == (
        1, 3, False, "max_iter")
    assert log[0].statistic < 1 - params.tol
    assert log[1].converged  # the next layer still gets its turn
    assert "layer 1 (max_iter" in lsuv.describe(log, params)


def test_post_variance_one_is_impossible_for_a_sigmoid_and_the_layer_says_so():
    # sigmoid outputs lie in (0, 1): Var(a) ≤ 1/4, so |Var − 1| ≥ 3/4 whatever the scale
    net = network((6, 12, 12, 1), ("relu", "sigmoid", "sigmoid"), True)
    before = draw(net, 2)
    after = copy(before)
    params = lsuv.resolve("lsuv(statistic=post, max_iter=40)")
    logs = lsuv.rescale(np, net, after, inputs(6, 100), [0, 1], [0, 1], params)
    for log in logs:
        assert log[0].converged
        for entry in log[1:]:
            assert (entry.converged, entry.reason, entry.iterations) == (
                False, "unreachable", 0)
            assert 0 < entry.statistic <= 0.25
        assert lsuv.describe(log, params) == (
            f"lsuv: did not converge: layer 2 (unreachable, a variance {log[1].statistic:.3g}), "
            f"layer 3 (unreachable, a variance {log[2].statistic:.3g})")
    for name in ("W2", "b2", "W3", "b3"):  # left as pre-initialised, not driven to saturation
        np.testing.assert_array_equal(after[name], before[name])


def test_the_sigmoid_bound_is_exact_not_a_blanket_refusal():
    # with tol 0.8 a variance above 0.2 is accepted, and a sigmoid gets there below 1/4
    net = network((6, 12, 1), ("sigmoid", "linear"), True)
    params = lsuv.resolve("lsuv(statistic=post, max_iter=40, tol=0.8)")
    (log,) = lsuv.rescale(np, net, draw(net, 1), inputs(6, 100), [0], [0], params)
    assert log[0].converged and log[0].iterations >= 1
    assert 0.2 < log[0].statistic < 0.25


def test_a_dead_layer_stops_without_dividing_by_zero():
    net = network((4, 8, 8, 1), ("relu", "relu", "linear"), True)
    X = np.abs(inputs(4, 60)) + 0.1
    weights = draw(net, 2)
    weights["W1"][0] = -np.abs(weights["W1"][0])  # experiment 0: every z_1 < 0, every a_1 = 0
    weights["W1"][1] = 0.0  # experiment 1: z_1 = b_1 = 0
    params = lsuv.resolve("lsuv(statistic=post)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division-by-zero warning either
        logs = lsuv.rescale(np, net, weights, X, [0, 1], [0, 1], params)
    for log in logs:
        assert [(x.reason, x.converged, x.statistic) for x in log[:2]] == [
            ("dead", False, 0.0), ("dead", False, 0.0)]  # layer 2 sees a dead input
    assert np.all(weights["W1"][1] == 0.0) and np.isfinite(weights["W2"]).all()
    assert "layer 1 (dead" in lsuv.describe(logs[0])


def test_a_non_finite_statistic_is_logged_and_records_as_null():
    net = network((4, 8, 1), ("tanh", "linear"), True)
    weights = draw(net, 1)
    weights["W1"] *= 1e308  # z_1 overflows to ±inf on the batch
    (log,) = lsuv.rescale(np, net, weights, 10 * inputs(4, 50), [0], [0], lsuv.resolve())
    assert (log[0].reason, log[0].converged) == ("non-finite", False)
    text = json.dumps(lsuv.record(log), allow_nan=False)  # JSON-ready: NaN became null
    assert json.loads(text)[0]["statistic"] is None


# --------------------------------------------------------------- slices, data, determinism

@pytest.fixture
def mixed():
    """5 experiments whose layers converge after different numbers of rescalings."""
    net = network((6, 10, 10, 2), ("tanh", "tanh", "linear"), True)
    weights = draw(net, 5, init="normal(std=0.3)", bias_std=0.2)
    for e in range(5):
        weights["W1"][e] *= 0.2 + 0.6 * e
    params = lsuv.resolve("lsuv(statistic=post, max_iter=30, batch=40)")
    return net, weights, inputs(6, 120), params


def test_slices_are_independent_bit_for_bit(mixed):
    net, weights, X, params = mixed
    seeds = [11, 12, 13]
    batched = copy(weights)
    logs = lsuv.rescale(np, net, batched, X, [0, 1, 2], seeds, params)
    assert len({log[0].iterations for log in logs}) > 1  # convergence did differ per slice
    for i, seed in enumerate(seeds):
        one = copy(weights)  # the same five, only row i rescaled
        assert lsuv.rescale(np, net, one, X, [i], [seed], params) == [logs[i]]
        alone = {k: v[i:i + 1].copy() for k, v in weights.items()}  # that experiment alone
        assert lsuv.rescale(np, net, alone, X, [0], [seed], params) == [logs[i]]
        for name in weights:
            np.testing.assert_array_equal(batched[name][i], one[name][i], err_msg=name)
            np.testing.assert_array_equal(batched[name][i], alone[name][0], err_msg=name)
    for name in weights:  # rows not listed are untouched
        np.testing.assert_array_equal(batched[name][3:], weights[name][3:], err_msg=name)
    shuffled = copy(weights)  # the order of rows does not matter either
    back = lsuv.rescale(np, net, shuffled, X, [2, 0, 1], [13, 11, 12], params)
    assert back == [logs[2], logs[0], logs[1]]
    for name in weights:
        np.testing.assert_array_equal(shuffled[name], batched[name], err_msg=name)


@pytest.mark.parametrize("block", [1, 2])
def test_blocks_of_experiments_change_no_number(mixed, monkeypatch, block):
    net, weights, X, params = mixed
    whole = copy(weights)
    logs = lsuv.rescale(np, net, whole, X, range(5), range(30, 35), params)
    assert lsuv.block_size(np, net, params.batch) >= 5  # one block by default here
    per = 3 * 8 * max(net.layers) * params.batch
    monkeypatch.setattr(lsuv, "BLOCK_BYTES", block * per)
    assert lsuv.block_size(np, net, params.batch) == block
    parts = copy(weights)
    assert lsuv.rescale(np, net, parts, X, range(5), range(30, 35), params) == logs
    for name in weights:
        np.testing.assert_array_equal(parts[name], whole[name], err_msg=name)


def test_only_the_training_batch_is_read(mixed):
    net, weights, X, params = mixed
    names = list(inspect.signature(lsuv.rescale).parameters)
    assert names == ["xp", "net", "weights", "X_train", "rows", "seeds", "params"]  # no test set
    clean, poisoned = copy(weights), copy(weights)
    X_poisoned = np.full_like(X, np.nan)  # every sample outside seed 11's batch is NaN
    picked = lsuv.batch_indices(11, X.shape[1], params.batch)
    X_poisoned[:, picked] = X[:, picked]
    assert lsuv.rescale(np, net, clean, X, [0], [11], params) == lsuv.rescale(
        np, net, poisoned, X_poisoned, [0], [11], params)
    for name in weights:
        np.testing.assert_array_equal(clean[name], poisoned[name])
        assert np.isfinite(poisoned[name]).all()


def test_same_seed_same_result_another_seed_another_batch(mixed):
    net, weights, X, params = mixed
    first, again, other = copy(weights), copy(weights), copy(weights)
    assert lsuv.rescale(np, net, first, X, [1], [21], params) == lsuv.rescale(
        np, net, again, X, [1], [21], params)
    lsuv.rescale(np, net, other, X, [1], [22], params)
    for name in weights:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["W1"], other["W1"])


def test_batch_indices():
    picked = lsuv.batch_indices(3, 1000, 100)
    assert picked.shape == (100,) and len(set(picked.tolist())) == 100
    assert np.all(np.diff(picked) > 0) and picked.min() >= 0 and picked.max() < 1000
    np.testing.assert_array_equal(picked, lsuv.batch_indices(3, 1000, 100))
    assert not np.array_equal(picked, lsuv.batch_indices(4, 1000, 100))
    expected = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence([3, lsuv.BATCH_TAG]))).permutation(1000)[:100]
    np.testing.assert_array_equal(picked, np.sort(expected))
    np.testing.assert_array_equal(lsuv.batch_indices(3, 50, 512), np.arange(50))
    with pytest.raises(InitlabError, match="seed >= 0"):
        lsuv.batch_indices(-1, 10, 5)


def test_digits_through_the_plan():
    cfg = config.load(CONFIGS / "digits_tanh.yaml", ["init.weights=orthogonal"])
    plan = plans.build(cfg, seeds=[0, 1])
    weights = plans.initial_values(plan)
    logs = lsuv.rescale(np, plan.net, weights, plan.dataset.X_train, [0, 1], [0, 1],
                        lsuv.resolve())
    for e, log in enumerate(logs):
        assert all(x.converged for x in log), log
        X = plan.dataset.X_train[:, lsuv.batch_indices(e, plan.dataset.n_train, 512)]
        for (z, _), entry in zip(reference_digits(plan.net, weights, e, X), log, strict=True):
            assert abs(np.var(z) - 1.0) < 0.1
            assert entry.statistic == pytest.approx(np.var(z), rel=1e-9)


def reference_digits(net, weights, e, X):
    """z_l of experiment e (tanh hidden layers, softmax output: z is what pre measures)."""
    a, out = X, []
    for l, act in enumerate(net.activations, start=1):
        z = weights[f"W{l}"][e] @ a + weights[f"b{l}"][e][:, None]
        out.append((z, None))
        a = np.tanh(z) if act.name == "tanh" else z
    return out


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("spec", "words"), [
    ("lsuv(tol=0)", "parameter 'tol' must be a number with 0 < tol < 1"),
    ("lsuv(tol=-0.1)", "parameter 'tol' must be a number with 0 < tol < 1"),
    ("lsuv(tol=1)", "parameter 'tol' must be a number with 0 < tol < 1, got 1 "),
    ("lsuv(max_iter=0)", "parameter 'max_iter' must be an integer >= 1"),
    ("lsuv(max_iter=2.5)", "parameter 'max_iter' must be an integer"),
    ("lsuv(batch=0)", "parameter 'batch' must be an integer >= 1"),
    ("lsuv(init=lsuv)", "parameter 'init' must be an initializer other than lsuv"),
    ({"name": "lsuv", "init": "lsuv(tol=0.2)"}, "other than lsuv"),
    ("lsuv(init=xavierr)", "unknown initializer 'xavierr'"),
    ("lsuv(init=normal(std=0))", "parameter 'std' must be a number > 0"),
    ("lsuv(target=var)", "parameter 'target' must be one of variance, std"),
    ("lsuv(statistic=both)", "parameter 'statistic' must be one of pre, post"),
    ("lsuv(mean_correction=1)", "parameter 'mean_correction' must be true or false"),
    ("lsuv(tolerance=0.1)", "has no parameter 'tolerance'"),
])
def test_bad_parameters_are_one_line(spec, words):
    with pytest.raises(InitlabError) as err:
        lsuv.resolve(spec)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("initializer 'lsuv'")


def test_good_parameters_and_nested_specs():
    p = lsuv.resolve({"name": "lsuv", "init": {"name": "uniform", "low": -1, "high": 1},
                      "target": "STD"})
    assert (p.init, p.target, p.tol, p.max_iter, p.statistic, p.batch, p.mean_correction) == (
        "uniform(low=-1, high=1)", "std", 0.1, 10, "pre", 512, False)
    assert lsuv.resolve("lsuv(init=he_normal)").init == "he_normal"
    assert lsuv.is_lsuv("lsuv(tol=0.2)") and lsuv.is_lsuv({"name": "LSUV"})
    assert not lsuv.is_lsuv("orthogonal") and not lsuv.is_lsuv(3)


@pytest.mark.parametrize("X", [None, np.empty((4, 0))])
def test_no_training_data_is_one_line(X):
    net = network((4, 5, 1), ("relu", "linear"))
    with pytest.raises(InitlabError, match="^lsuv needs training data: ") as err:
        lsuv.rescale(np, net, draw(net, 1), X, [0], [0], lsuv.resolve())
    assert "\n" not in str(err.value)


def test_inputs_of_the_wrong_width_are_one_line():
    net = network((4, 5, 1), ("relu", "linear"))
    with pytest.raises(InitlabError, match="4 features, got 3"):
        lsuv.rescale(np, net, draw(net, 1), inputs(3, 10), [0], [0], lsuv.resolve())
