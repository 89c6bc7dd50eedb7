"""commands.probe: the CS231n 10-layer tanh numbers, measurements beside theory, gradients,
Jacobians, the validation of a probe config, and weights drawn exactly as `run` draws them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.commands import meanfield, probe
from initlab.engine import activations
from initlab.errors import InitlabError
from initlab.experiments import config, datasets
from initlab.experiments import plan as plans
from initlab.inits import laws as initializers
from initlab.inits import streams as rngs
from initlab.reporting import records


def probe_config(**fields) -> config.ProbeConfig:
    """A validated probe config, as a probe file with these keys would give."""
    return config.validate(fields, "probe", config.ProbeConfig)

# CS231n-style article (seed 003): 1000 N(0, 1) inputs of dimension 500, 10 tanh layers of 500
# units, no bias, one unseeded draw. Published per-layer activation stds.
ARTICLE = {
    "small": [0.213260, 0.047572, 0.010630, 0.002386, 0.000535, 0.000119, 0.000027, 0.000006,
              0.000001, 0.000000],
    "big": [0.982053, 0.981789, 0.981715, 0.981523, 0.981463, 0.981712, 0.981718, 0.981858,
            0.981687, 0.981719],
    "lecun_normal": [0.627422, 0.486087, 0.408522, 0.357302, 0.320092, 0.293146, 0.271269,
                     0.256240, 0.242764, 0.230877],
}


def article(*inits: str, seeds: tuple[int, ...] = (0,), **kw) -> list[probe.InitProbe]:
    return probe.run(probe_config(depth=10, width=500, activation="tanh", inits=inits, batch=1000,
                               seeds=seeds, **kw))


@pytest.fixture(scope="module")
def cs231n() -> dict[str, probe.InitProbe]:
    return {r.init: r for r in article("small", "big", "lecun_normal")}


def stds(result: probe.InitProbe, key: str = "activation_std") -> np.ndarray:
    return np.array([getattr(layer, key) for layer in result.layers])


# ------------------------------------------------------------------------ the article's numbers

def test_small_init_layers_1_to_4_match_the_article(cs231n):
    np.testing.assert_allclose(stds(cs231n["small"])[:4], ARTICLE["small"][:4], rtol=0.02)


def test_small_init_decays_by_the_articles_ratio_at_every_layer(cs231n):
    published = np.array(ARTICLE["small"][:5])
    ratio = float(np.mean(published[1:] / published[:-1]))  # 0.2236 from the article
    assert abs(ratio - 0.2236) < 0.002
    measured = stds(cs231n["small"])
    np.testing.assert_allclose(measured[1:] / measured[:-1], ratio, rtol=0.02)


def test_big_init_matches_the_article_at_every_layer_and_saturates(cs231n):
    np.testing.assert_allclose(stds(cs231n["big"]), ARTICLE["big"], rtol=0.02)
    assert all(layer.saturated and layer.saturated_fraction > 0.85
               for layer in cs231n["big"].layers)
    assert not any(layer.saturated for layer in cs231n["lecun_normal"].layers)


def test_lecun_normal_the_articles_xavier_matches_at_every_layer():
    # one draw fluctuates ~0.7 % at layer 10 (the article's own draw sits ~1.5 % above the
    # average); the average over 8 seeds is compared
    result = article("lecun_normal", seeds=tuple(range(8)))[0]
    np.testing.assert_allclose(stds(result), ARTICLE["lecun_normal"], rtol=0.02)


def test_vanished_flags_follow_the_article_threshold(cs231n):
    # input std 1: a layer has vanished below 1e-3, i.e. from layer 5 (0.000535) on
    assert [layer.vanished for layer in cs231n["small"].layers] == [False] * 4 + [True] * 6
    assert not any(layer.vanished for layer in cs231n["big"].layers)


def test_results_carry_labels_formulas_and_no_histograms_by_default(cs231n):
    assert list(cs231n) == ["small", "big", "lecun_normal"]
    assert "σ = 0.01" in cs231n["small"].formula
    for result in cs231n.values():
        assert len(result.layers) == 10 and result.jacobian is None
        assert all(layer.histogram is None and layer.loss_grad_std is None
                   and layer.dead_fraction is None for layer in result.layers)


# --------------------------------------------------------------------- theory vs measurement

def test_relu_he_std_is_constant_in_theory_and_measured_within_5_percent():
    # One draw wanders ~√(L/n): relu activations share a mean direction, so a realisation's
    # gain does not average out over the batch (layer 10 of width 512: ±11 % per seed). The
    # mean over 8 seeds is what the infinite-width theory describes.
    result = probe.run(probe_config(depth=10, width=512, activation="relu", inits=("he",),
                                 batch=500, seeds=tuple(range(8))))[0]
    predicted = stds(result, "predicted_std")
    # q0 = 1, σ_w² = 2: q_l = 2 for every l; std = √(q/2 − q/(2π)) = 0.8257
    np.testing.assert_allclose(predicted, math.sqrt(1 - 1 / math.pi), rtol=0.02)
    np.testing.assert_allclose(stds(result), predicted, rtol=0.05)
    # centred inputs: a layer-1 unit is dead with probability 2^-500; deeper, the inputs
    # correlate and some units die
    assert result.layers[0].dead_fraction == 0.0
    assert 0.0 < result.layers[-1].dead_fraction < 0.5


def test_tanh_small_follows_the_geometric_decay_of_theory(cs231n):
    result = cs231n["small"]
    np.testing.assert_allclose(stds(result), stds(result, "predicted_std"), rtol=0.03)


def test_linear_unit_variance_weights_keep_the_input_std():
    result = probe.run(probe_config(depth=10, width=500, activation="linear",
                                 inits=("normal(std=0.044721359549995794)",)))[0]
    measured, predicted = stds(result), stds(result, "predicted_std")
    np.testing.assert_allclose(measured, predicted, rtol=0.03)
    np.testing.assert_allclose(predicted, 1.0, rtol=0.05)  # σ_w² = 500/500 ± sampling
    np.testing.assert_allclose(stds(result, "grad_std"), 1.0, rtol=0.1)


# -------------------------------------------------------------------------------- gradients

def test_relu_he_gradients_stay_of_order_one():
    result = probe.run(probe_config(depth=10, width=512, activation="relu", inits=("he",)))[0]
    assert 0.5 <= result.backward_ratio <= 2.0
    np.testing.assert_allclose(stds(result, "predicted_grad_std"), 1.0, rtol=0.05)


def test_tanh_big_gradients_explode_towards_the_input(cs231n):
    # Saturated tanh: q ≈ 500·E[tanh²] ≈ 482; E[sech⁴(h)] ≈ (4/3)/√(2πq) for h ~ N(0, q),
    # so χ = σ_w²·E[φ'²] ≈ 500·0.0242 ≈ 12 > 1: dL/da grows by √χ ≈ 3.5 per layer downwards.
    q = 500 * 0.9636  # E[tanh²] ≈ 1 − E[sech²] ≈ 1 − 2/√(2πq)·… ≈ 0.964
    growth = math.sqrt(500 * (4 / 3) / math.sqrt(2 * math.pi * q))
    result = cs231n["big"]
    g = stds(result, "grad_std")
    per_layer = (g[0] / g[-1]) ** (1 / 9)
    assert abs(per_layer - growth) / growth < 0.05
    predicted = stds(result, "predicted_grad_std")
    assert abs((predicted[0] / predicted[-1]) ** (1 / 9) - growth) / growth < 0.03
    assert result.backward_ratio > 1e4


def test_tanh_small_gradients_vanish_by_the_same_factor_as_activations(cs231n):
    # near the linear regime χ = σ_w² = 500·1e-4 = 0.05: factor √0.05 = 0.2236 per layer
    assert abs(cs231n["small"].backward_ratio / 0.05 ** 4.5 - 1) < 0.1


def reference(spec: probe_config) -> list[list[tuple[float, float, float]]]:
    """Plain per-experiment loops with the documented streams: [(mean, std, grad std)]."""
    act = activations.get(spec.activation)
    out = []
    for init in spec.inits:
        name, params = initializers.resolve(init)
        rows = []
        for seed in spec.seeds:
            streams = rngs.layer_streams(seed, spec.rng, spec.depth)
            gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1])))
            a = gen.standard_normal((spec.input_dim or spec.width, spec.batch))
            Ws, dphi, stats = [], [], []
            for w_rng, b_rng in streams:
                W = initializers.sample(name, params, (spec.width, a.shape[0]), w_rng, act.name)
                z = W @ a
                if spec.bias is not None:
                    z = z + initializers.sample(*initializers.resolve(spec.bias), (spec.width,),
                                                b_rng, act.name)[:, None]
                a = act.forward(np, z, np.empty_like(z))
                Ws.append(W)
                dphi.append(act.backward(np, z, a, np.ones_like(z)))
                stats.append([a.mean(), a.std()])
            gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2])))
            k = min(spec.batch, spec.grad_samples or spec.batch)
            da = gen.standard_normal((spec.width, k))
            for l in range(spec.depth - 1, -1, -1):
                stats[l].append(da.std())
                da = Ws[l].T @ (da * dphi[l][:, :k])
            rows.append(stats)
        out.append(np.mean(rows, axis=0))
    return out


@pytest.mark.parametrize("kind", ["numpy", "legacy"])
def test_batched_run_equals_plain_loops_per_experiment(kind):
    spec = probe_config(depth=4, width=24, activation="sigmoid", inits=("he", "uniform"),
                     batch=40, input_dim=7, seeds=(3, 5), bias="normal(std=0.3)", rng=kind,
                     grad_samples=16)
    for result, expected in zip(probe.run(spec), reference(spec), strict=True):
        got = np.column_stack([stds(result, "activation_mean"), stds(result),
                               stds(result, "grad_std")])
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_redrawing_weights_gives_the_same_numbers_as_keeping_them(monkeypatch):
    spec = probe_config(depth=5, width=16, activation="tanh", inits=("orthogonal", "xavier_normal"),
                     batch=20, seeds=(0, 1), rng="legacy", bias="uniform", input="iris")
    kept = probe.run(spec)
    monkeypatch.setattr(probe, "KEEP_WEIGHTS_BYTES", 0)
    redrawn = probe.run(spec)
    for a, b in zip(kept, redrawn, strict=True):
        assert a.layers == b.layers


def test_common_random_numbers_make_equal_laws_give_equal_results():
    lecun, same = probe.run(probe_config(depth=3, width=50, activation="tanh", batch=30,
                                      inits=("lecun_normal", f"normal(std={50 ** -0.5!r})")))
    np.testing.assert_allclose(stds(lecun), stds(same), rtol=1e-12)
    np.testing.assert_allclose(stds(lecun, "grad_std"), stds(same, "grad_std"), rtol=1e-12)


def test_dataset_input_reports_the_readout_loss_gradient():
    data = datasets.make("iris")
    spec = probe_config(depth=2, width=16, activation="relu", inits=("he",), input="iris",
                     seeds=(4,), grad_samples=40)  # the first 40 of 105 samples
    result = probe.run(spec)[0]
    # independent: readout R ~ N(0, 1/16) from stream [seed, 3], softmax CE averaged over m
    streams = rngs.layer_streams(4, "numpy", 2)
    W1 = initializers.sample("he_normal", initializers.resolve("he")[1], (16, 4), streams[0][0])
    W2 = initializers.sample("he_normal", initializers.resolve("he")[1], (16, 16), streams[1][0])
    z1 = W1 @ data.X_train
    z2 = W2 @ np.maximum(z1, 0)
    a2 = np.maximum(z2, 0)
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([4, 3])))
    R = gen.standard_normal((3, 16)) / 4.0
    logits = R @ a2
    p = np.exp(logits - logits.max(axis=0))
    p /= p.sum(axis=0)
    da2 = (R.T @ (p - data.y_train) / data.n_train)[:, :40]  # ∂(mean over all 105)/∂a_2
    da1 = W2.T @ (da2 * (z2[:, :40] > 0))
    np.testing.assert_allclose(stds(result, "loss_grad_std"), [da1.std(), da2.std()], rtol=1e-10)
    np.testing.assert_allclose(result.layers[0].activation_std, np.maximum(z1, 0).std(),
                               rtol=1e-10)


# --------------------------------------------------------------------------------- Jacobian

def test_orthogonal_linear_jacobian_is_an_isometry():
    result = probe.run(probe_config(depth=6, width=64, activation="linear", inits=("orthogonal",),
                                 batch=10, jacobian=True, jacobian_points=3))[0]
    assert result.jacobian["points"] == 3
    assert result.jacobian["mean_sq_singular_value"] == pytest.approx(1.0, abs=1e-10)
    assert result.jacobian["condition_number"] == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu"])
def test_jacobian_matches_the_explicit_matrix_product(activation):
    spec = probe_config(depth=3, width=12, activation=activation, inits=("xavier_normal", "he"),
                     batch=9, input_dim=8, seeds=(2, 7), jacobian=True, jacobian_points=2)
    act = activations.get(activation)
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([2, 1])))
    X = gen.standard_normal((8, 9))
    for init, result in zip(spec.inits, probe.run(spec), strict=True):
        name, params = initializers.resolve(init)
        Ws = [initializers.sample(name, params, (12, 8 if l == 0 else 12), w, activation)
              for l, (w, _) in enumerate(rngs.layer_streams(2, "numpy", 3))]
        sq, cond = [], []
        for p in range(2):
            a, J = X[:, p], np.eye(8)
            for W in Ws:
                z = W @ a
                a = act.forward(np, z, np.empty_like(z))
                J = np.diag(act.backward(np, z, a, np.ones_like(z))) @ W @ J
            sv = np.linalg.svd(J, compute_uv=False)
            sq.append(np.mean(sv ** 2))
            cond.append(sv[0] / sv[-1] if sv[-1] > 0 else np.inf)
        assert result.jacobian["mean_sq_singular_value"] == pytest.approx(np.mean(sq), rel=1e-10)
        assert result.jacobian["condition_number"] == pytest.approx(np.mean(cond), rel=1e-8)


# ----------------------------------------------------------------------------- validation

@pytest.mark.parametrize(("change", "words"), [
    ({"depth": 0}, "depth"), ({"width": 0}, "width"), ({"batch": 0}, "batch"),
    ({"activation": "swish"}, "unknown activation"), ({"activation": "softmax"}, "softmax"),
    ({"inits": ("hee",)}, "unknown initializer"), ({"inits": ("he", "he")}, "twice"),
    ({"inits": ()}, "at least 1"), ({"seeds": ()}, "seeds"), ({"rng": "mt"}, "rng"),
    ({"input": "mnist"}, "unknown input"), ({"bias": "nope"}, "unknown initializer"),
    ({"input_dim": 0}, "input_dim"),
])
def test_validate_rejects_with_one_line(change, words):
    with pytest.raises(InitlabError) as err:
        probe_config(**{"depth": 3, "width": 8, "activation": "tanh", "inits": ("he",), **change})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_validate_accepts_a_good_spec():
    cfg = probe_config(depth=2, width=4, activation={"name": "leaky_relu", "slope": 0.2},
                    inits=("he", "normal(std=0.1)"), bias="zeros", input="moons")
    assert probe.run(cfg)[1].init == "normal(std=0.1)"


# ------------------------------------------------------------------ histograms and memory

def test_histograms_bin_every_activation_of_every_seed():
    tanh, relu = (probe.run(probe_config(depth=3, width=20, activation=act, inits=("he",),
                                      batch=50, seeds=(0, 1), histograms=True))[0]
                  for act in ("tanh", "relu"))
    for layer in tanh.layers:
        counts, edges = layer.histogram
        assert len(counts) == 30 and sum(counts) == 20 * 50 * 2
        assert edges[0] == -1.0 and edges[-1] == 1.0
    counts, edges = relu.layers[0].histogram
    assert sum(counts) == 2000 and edges[0] == 0.0 and edges[-1] > 0


def test_zero_weights_kill_every_relu_unit():
    result = probe.run(probe_config(depth=2, width=10, activation="relu", inits=("zeros",),
                                 batch=20))[0]
    assert [layer.dead_fraction for layer in result.layers] == [1.0, 1.0]
    assert result.layers[0].vanished


def test_deep_wide_probe_runs_without_keeping_activations():
    # speed is measured by benchmarks, never asserted here; this checks the deep, wide path works
    result = probe.run(probe_config(depth=100, width=1024, activation="relu", inits=("he",),
                                 batch=256))[0]
    assert len(result.layers) == 100
    assert all(layer.histogram is None for layer in result.layers)
    assert 0.5 < result.forward_ratio < 2 and np.isfinite(result.backward_ratio)


@pytest.mark.parametrize("kind", ["numpy", "legacy"])
def test_a_probe_layer_holds_the_weights_run_draws_for_that_seed_and_initializer(kind):
    cfg = probe_config(depth=2, width=4, activation="relu", inits=("he", "xavier_normal"),
                       seeds=(7, 8), rng=kind)
    weights = probe.starting_weights(cfg, n0=2)
    W1, _ = weights.layer(0)
    W2, _ = weights.layer(1)
    for i, init in enumerate(cfg.inits):
        for s, seed in enumerate(cfg.seeds):
            run_cfg = config.validate({
                "name": "x", "seed": seed, "rng": kind, "dataset": {"name": "xor"},
                "model": {"layers": [2, 4, 4, 1], "activations": ["relu", "relu", "sigmoid"]},
                "init": {"weights": init}, "train": {"epochs": 1, "lr": 0.1}}, "run")
            start = plans.initial_values(plans.build(run_cfg))
            np.testing.assert_array_equal(W1[i * 2 + s], start["W1"][0])
            np.testing.assert_array_equal(W2[i * 2 + s], start["W2"][0])


# ------------------------------------------------------- two-input correlation and phase

def _without_pair_fields(result: probe.InitProbe) -> list[dict]:
    return [{k: v for k, v in vars(layer).items()
             if k not in ("correlation", "predicted_correlation")} for layer in result.layers]


def test_the_input_pair_leaves_every_batch_number_unchanged(monkeypatch):
    spec = probe_config(depth=4, width=24, activation="tanh", inits=("he", "xavier_normal"),
                        batch=30, seeds=(3, 5), bias="normal(std=0.3)", jacobian=True,
                        jacobian_points=2, histograms=True)
    first = probe.run(spec)
    monkeypatch.setattr(probe, "PAIR_CORRELATION", 0.9)
    monkeypatch.setattr(probe, "STREAM_PAIR", 7)
    second = probe.run(spec)
    for a, b in zip(first, second, strict=True):
        assert _without_pair_fields(a) == _without_pair_fields(b)
        assert (a.jacobian, a.forward_ratio, a.backward_ratio) == (
            b.jacobian, b.forward_ratio, b.backward_ratio)
        assert a.layers[0].correlation != b.layers[0].correlation


def test_orthogonal_linear_stack_keeps_the_pairs_correlation_exactly():
    # W orthogonal preserves inner products: z_l(x1)·z_l(x2)/(|z_l(x1)||z_l(x2)|) = c0 at every
    # layer, and σ_w² = 1 exactly, so the c-map of a linear unit (the identity) predicts c0
    result = probe.run(probe_config(depth=8, width=40, activation="linear",
                                    inits=("orthogonal",), batch=10, seeds=(0, 1)))[0]
    np.testing.assert_allclose(stds(result, "correlation"), probe.PAIR_CORRELATION, rtol=1e-12)
    np.testing.assert_allclose(stds(result, "predicted_correlation"), probe.PAIR_CORRELATION,
                               rtol=1e-12)
    assert result.depth_c == 1  # settled from the first layer on
    assert result.xi_c is None  # nothing to fit: the correlation never moves
    assert result.phase.chi1 == pytest.approx(1.0, rel=1e-12)  # linear, σ_w² = 1: critical


def test_pair_has_the_batchs_length_and_correlation_through_layer_one():
    # layer 1 is linear in x: predicted c_1 = (σ_w²·c0·q0 + σ_b²)/(σ_w²·q0 + σ_b²)
    spec = probe_config(depth=2, width=600, activation="relu", inits=("he",), batch=50,
                        seeds=(0, 1, 2, 3), bias="normal(std=0.5)")
    result = probe.run(spec)[0]
    layer = result.layers[0]
    assert layer.predicted_correlation == pytest.approx((2 * 0.5 + 0.25) / (2 + 0.25), rel=0.01)
    # 4 seeds × 600 units: standard error (1 − c²)/√2400 ≈ 0.008
    assert layer.correlation == pytest.approx(layer.predicted_correlation, abs=0.035)


def test_a_one_dimensional_input_has_no_pair():
    result = probe.run(probe_config(depth=3, width=8, activation="tanh", inits=("he",),
                                    input_dim=1, batch=5))[0]
    assert all(layer.correlation is None and layer.predicted_correlation is None
               for layer in result.layers)
    assert result.depth_c is None


def test_phase_needs_one_law_past_the_first_layer():
    mixed, same = probe.run(probe_config(depth=3, width=30, activation="tanh", batch=10,
                                         inits=({"default": "he", "last": "zeros"},
                                                {"default": "he", "first": "zeros"})))
    assert mixed.phase is None
    # layers 2 and 3 are he: σ_w² = 2 (drawn: ± a few %), tanh without bias: chaotic, c* = 0
    assert same.phase.chi1 > 1 and same.phase.c_star == 0.0
    assert same.phase.q_star == pytest.approx(meanfield.fixed_point("tanh", 2.0, 0.0), rel=0.1)


def test_probe_json_layers_carry_the_correlations():
    found = probe.run(probe_config(depth=2, width=10, activation="tanh", inits=("he",),
                                   batch=5))
    record = records.probe_record(found)
    assert all({"correlation", "predicted_correlation"} <= set(row) for row in record["layers"])
    # the keys probe.json had (no histograms asked for), in their order, then the new ones
    assert list(record["layers"][0]) == [
        "init", "layer", "activation_mean", "activation_std", "predicted_std",
        "saturated_fraction", "dead_fraction", "grad_std", "predicted_grad_std", "loss_grad_std",
        "vanished", "saturated", "correlation", "predicted_correlation"]
