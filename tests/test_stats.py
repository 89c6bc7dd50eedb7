"""stats.distinct_units on constructed weights, stats.layer_stats on hand-built networks."""

import math

import numpy as np
import pytest

from initlab.engine import activations, losses, nn, stats
from initlab.reporting.records import layer_records


def records(layers: stats.LayerStats) -> list[list[dict]]:
    """The public per-layer records of every experiment (what metrics.json holds)."""
    return [layer_records(layers, e) for e in range(layers.n_experiments)]

# ----------------------------------------------------------------------------- distinct_units


def units(W, b=None, **kw):
    return np.asarray(stats.distinct_units(np, np.asarray(W, float),
                                           None if b is None else np.asarray(b, float), **kw))


def test_all_rows_equal_is_one_unit():
    rng = np.random.default_rng(0)
    row = rng.normal(size=4)
    W = np.tile(row, (2, 6, 1))  # (E=2, 6 units, 4 inputs)
    b = np.full((2, 6), 0.3)
    assert units(W, b).tolist() == [1, 1]
    assert units(W).tolist() == [1, 1]


def test_all_rows_zero_is_one_unit():
    assert units(np.zeros((1, 5, 3)), np.zeros((1, 5))).tolist() == [1]


def test_rows_equal_within_1e_13_are_merged():
    rng = np.random.default_rng(1)
    W = np.tile(rng.normal(size=5), (1, 8, 1))
    W = W + rng.uniform(-5e-14, 5e-14, size=W.shape)  # pairwise max-abs gap ≤ 1e-13
    b = 0.7 + rng.uniform(-5e-14, 5e-14, size=(1, 8))
    assert np.abs(W[0, :, None] - W[0, None, :]).max() <= 1e-13
    assert len({tuple(r) for r in W[0]}) == 8  # not bit-identical
    assert units(W, b).tolist() == [1]


def test_rows_differing_by_1e_9_are_distinct():
    W = np.array([[[0.5, -1.0, 2.0], [0.5, -1.0 + 1e-9, 2.0], [0.5, -1.0, 2.0]]])
    assert units(W).tolist() == [2]
    assert units(W, tol=1e-8).tolist() == [1]  # a looser tolerance merges them


def test_bias_alone_separates_units():
    W = np.tile([1.0, 2.0], (1, 3, 1))
    assert units(W, [[0.0, 0.0, 1e-9]]).tolist() == [2]
    assert units(W, [[0.0, 1.0, 2.0]]).tolist() == [3]
    assert units(W).tolist() == [1]


def test_two_groups_in_any_order_count_two():
    rng = np.random.default_rng(2)
    r1, r2 = rng.normal(size=4), rng.normal(size=4)
    for perm_seed in range(5):
        rows = np.array([r1] * 4 + [r2] * 3)
        rows = rows[np.random.default_rng(perm_seed).permutation(7)]
        rows = rows + rng.uniform(-1e-14, 1e-14, size=rows.shape)
        assert units(rows[None]).tolist() == [2]


def test_distinct_units_is_per_experiment():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(6, 3))
    W = np.stack([
        np.tile(base[0], (6, 1)),  # 1 unit
        np.array([base[0]] * 3 + [base[1]] * 3),  # 2 units
        base,  # 6 units
        np.array([base[0], base[1], base[0], base[2], base[2], base[1]]),  # 3 units
    ])
    b = np.zeros((4, 6))
    assert units(W, b).tolist() == [1, 2, 6, 3]
    b[0, 5] = 0.25  # only experiment 0 changes
    assert units(W, b).tolist() == [2, 2, 6, 3]


def test_random_rows_are_all_distinct():
    rng = np.random.default_rng(4)
    assert units(rng.normal(size=(3, 50, 7)), rng.normal(size=(3, 50))).tolist() == [50] * 3


# ----------------------------------------------------------------------------- layer_stats

# Inputs (2 features, 4 samples) and a sigmoid output trained with bce on Y.
X = np.array([[1.0, -1.0, 2.0, 0.5], [0.5, 1.0, -1.0, 0.0]])
Y = np.array([[1.0, 0.0, 1.0, 0.0]])
W2 = np.array([[[0.7, -0.4, 0.3]], [[-0.5, 0.6, 0.2]]])  # (E=2, 1, 3)
B2 = np.array([[0.1], [-0.2]])

HAND_DERIVATIVE = {  # φ'(z), written here
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2,
    "relu": lambda z: (z > 0).astype(float),
    "linear": lambda z: np.ones_like(z),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.2),
}
HAND_FORWARD = {
    "tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z,
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
}


def build(hidden, W1, b1, bias=True):
    spec = {"name": "leaky_relu", "slope": 0.2} if hidden == "leaky_relu" else hidden
    net = nn.Network((2, 3, 1), (activations.get(spec), activations.get("sigmoid")),
                     losses.get("bce"), bias)
    p = nn.ParamStore(np, net, 2, np.float64)
    values = {"W1": W1, "W2": W2}
    if bias:
        values.update(b1=b1, b2=B2)
    p.load(values)
    return net, p


def hand_pass(hidden, W1, b1, bias=True):
    """Forward and backward written out for one tanh/sigmoid/relu… layer and a sigmoid+bce
    output: returns z1, a1, z2, a2, dW1, dW2 per experiment."""
    out = []
    m = X.shape[1]
    for e in range(2):
        z1 = W1[e] @ X + (b1[e][:, None] if bias else 0.0)
        a1 = HAND_FORWARD[hidden](z1)
        z2 = W2[e] @ a1 + (B2[e][:, None] if bias else 0.0)
        a2 = 1.0 / (1.0 + np.exp(-z2))
        dz2 = (a2 - Y) / m  # ∂(mean bce)/∂z2
        dW2 = dz2 @ a1.T
        dz1 = (W2[e].T @ dz2) * HAND_DERIVATIVE[hidden](z1)
        dW1 = dz1 @ X.T
        out.append((z1, a1, z2, a2, dW1, dW2))
    return out


# tanh: |a| ≥ 0.99 ⇔ |z| ≥ atanh(0.99) ≈ 2.647.
# exp 0 rows: [4, 0] → z = [4, −4, 8, 2] (3 saturated); [0, 0.1] → none; [0, 3] →
# z = [1.5, 3, −3, 0] (2 saturated): 5 of 12. exp 1: tiny weights, none saturated.
W1_TANH = np.array([[[4.0, 0.0], [0.0, 0.1], [0.0, 3.0]],
                    [[0.01, 0.0], [0.0, 0.01], [0.01, 0.01]]])
# sigmoid: a ≤ 0.01 or a ≥ 0.99 ⇔ |z| ≥ logit(0.99) ≈ 4.595.
# exp 0 rows: [6, 0] → z = [6, −6, 12, 3] (3); [0, 5] → z = [2.5, 5, −5, 0] (2); [1, 1] → none.
# exp 1 rows: [0, 0] with b = −5 → σ(−5) ≈ 0.0067 on all 4 samples (4); others small (0): 4/12.
W1_SIGMOID = np.array([[[6.0, 0.0], [0.0, 5.0], [1.0, 1.0]],
                       [[0.0, 0.0], [0.1, 0.0], [0.0, 0.1]]])
B1_SIGMOID = np.array([[0.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
# relu: exp 0 rows: [0, 0], b −1 → z = −1 everywhere (dead); [1, 0] → z = [1, −1, 2, .5]
# (alive); [−1, 0], b −3 → z = [−4, −2, −5, −3.5] (dead): 2/3 dead.
# exp 1: [1, 0] alive, [0, 1] → z = [.5, 1, −1, 0] alive, all-zero row and bias → a ≡ 0 (dead): 1/3.
W1_RELU = np.array([[[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]],
                    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
B1_RELU = np.array([[-1.0, 0.0, -3.0], [0.0, 0.0, 0.0]])


def check_common(rec, hand, W1):
    """Moments, weight and gradient spreads against the hand pass, both layers, both exps."""
    for e in range(2):
        z1, a1, z2, a2, dW1, dW2 = hand[e]
        first, second = rec[e]
        assert (first["layer"], first["units"], second["layer"], second["units"]) == (1, 3, 2, 1)
        for r, z, a, W, dW in ((first, z1, a1, W1[e], dW1), (second, z2, a2, W2[e], dW2)):
            assert r["preactivation_mean"] == pytest.approx(z.mean(), rel=1e-12, abs=1e-15)
            assert r["preactivation_std"] == pytest.approx(z.std(), rel=1e-12, abs=1e-15)
            assert r["activation_mean"] == pytest.approx(a.mean(), rel=1e-12, abs=1e-15)
            assert r["activation_std"] == pytest.approx(a.std(), rel=1e-12, abs=1e-15)
            assert r["weight_std"] == pytest.approx(W.std(), rel=1e-12, abs=1e-15)
            assert r["grad_std"] == pytest.approx(dW.std(), rel=1e-10, abs=1e-15)
            assert r["grad_std"] > 0


def test_tanh_saturation_moments_and_gradients():
    b1 = np.zeros((2, 3))
    net, p = build("tanh", W1_TANH, b1)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    hand = hand_pass("tanh", W1_TANH, b1)
    assert rec[0][0]["saturated_fraction"] == pytest.approx(5 / 12, abs=1e-15)
    assert rec[1][0]["saturated_fraction"] == 0.0
    for e in range(2):
        a1 = hand[e][1]
        assert rec[e][0]["saturated_fraction"] == pytest.approx(
            np.mean(np.abs(a1) >= 0.99), abs=1e-15)
        assert rec[e][0]["dead_fraction"] is None  # tanh units do not die
        assert rec[e][0]["activation"] == "tanh"
    check_common(rec, hand, W1_TANH)


def test_sigmoid_saturation_counts_both_ends():
    net, p = build("sigmoid", W1_SIGMOID, B1_SIGMOID)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    hand = hand_pass("sigmoid", W1_SIGMOID, B1_SIGMOID)
    assert rec[0][0]["saturated_fraction"] == pytest.approx(5 / 12, abs=1e-15)
    assert rec[1][0]["saturated_fraction"] == pytest.approx(4 / 12, abs=1e-15)
    for e in range(2):
        a1 = hand[e][1]
        assert rec[e][0]["saturated_fraction"] == pytest.approx(
            np.mean((a1 <= 0.01) | (a1 >= 0.99)), abs=1e-15)
        assert rec[e][0]["dead_fraction"] is None
        a2 = hand[e][3]  # the sigmoid output layer has a saturation statistic too
        assert rec[e][1]["saturated_fraction"] == pytest.approx(
            np.mean((a2 <= 0.01) | (a2 >= 0.99)), abs=1e-15)
        assert rec[e][1]["dead_fraction"] is None
    check_common(rec, hand, W1_SIGMOID)


def test_relu_dead_fraction():
    net, p = build("relu", W1_RELU, B1_RELU)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    hand = hand_pass("relu", W1_RELU, B1_RELU)
    assert rec[0][0]["dead_fraction"] == pytest.approx(2 / 3, abs=1e-15)
    assert rec[1][0]["dead_fraction"] == pytest.approx(1 / 3, abs=1e-15)
    for e in range(2):
        a1 = hand[e][1]
        assert rec[e][0]["dead_fraction"] == pytest.approx(np.mean(np.all(a1 == 0, axis=1)))
        assert rec[e][0]["saturated_fraction"] is None  # relu has no upper bound
    check_common(rec, hand, W1_RELU)


@pytest.mark.parametrize("hidden", ["linear", "leaky_relu", "selu", "gelu"])
def test_statistics_that_do_not_apply_are_none(hidden):
    rng = np.random.default_rng(5)
    W1 = rng.normal(size=(2, 3, 2))
    b1 = np.array([[-9.0, -9.0, -9.0], [0.0, 0.0, 0.0]])  # would look "dead" for relu
    net, p = build(hidden, W1, b1)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    for e in range(2):
        assert rec[e][0]["saturated_fraction"] is None
        assert rec[e][0]["dead_fraction"] is None
        assert set(stats.STAT_KEYS) <= set(rec[e][0])
        others = [k for k in stats.STAT_KEYS if k not in ("saturated_fraction", "dead_fraction")]
        assert all(isinstance(rec[e][0][k], (int, float)) for k in others)
    if hidden == "leaky_relu":
        assert rec[0][0]["activation"] == "leaky_relu(slope=0.2)"
        check_common(rec, hand_pass("leaky_relu", W1, b1), W1)


def test_linear_hidden_without_bias_matches_hand_pass():
    rng = np.random.default_rng(6)
    W1 = rng.normal(size=(2, 3, 2))
    net, p = build("linear", W1, None, bias=False)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    check_common(rec, hand_pass("linear", W1, None, bias=False), W1)


def test_layer_stats_reports_distinct_hidden_units():
    W1 = np.array([[[1.0, 2.0], [1.0, 2.0], [0.5, 0.1]],  # two copies + one: 2 distinct
                   [[0.3, 0.3], [0.3, 0.3], [0.3, 0.3]]])  # constant init: 1 distinct
    b1 = np.zeros((2, 3))
    net, p = build("tanh", W1, b1)
    rec = records(stats.layer_stats(np, net, p, X, Y))
    assert [rec[e][0]["distinct_units"] for e in range(2)] == [2, 1]
    assert [rec[e][1]["distinct_units"] for e in range(2)] == [1, 1]
    assert all(isinstance(rec[e][0]["distinct_units"], int) for e in range(2))
    b1[0, 1] = 0.5  # the bias tells the copies apart
    net, p = build("tanh", W1, b1)
    assert stats.layer_stats(np, net, p, X, Y)["distinct_units"][0, 0] == 3


def test_layer_stats_are_arrays_with_nan_where_a_statistic_does_not_apply():
    net, p = build("relu", W1_RELU, B1_RELU)
    layers = stats.layer_stats(np, net, p, X, Y)
    assert (layers.n_experiments, layers.depth) == (2, 2)
    assert layers.units == (3, 1) and layers.activations == ("relu", "sigmoid")
    assert all(layers[k].shape == (2, 2) and layers[k].dtype == np.float64
               for k in stats.STAT_KEYS)
    assert np.isnan(layers["saturated_fraction"][:, 0]).all()  # relu: no bound
    assert np.isnan(layers["dead_fraction"][:, 1]).all()  # sigmoid units cannot die
    assert not np.isnan(layers["dead_fraction"][:, 0]).any()


def test_mean_over_a_group_keeps_nan_where_nothing_applies():
    net, p = build("relu", W1_RELU, B1_RELU)
    layers = stats.layer_stats(np, net, p, X, Y)
    mean = layers.mean()
    assert mean["dead_fraction"][0] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert np.isnan(mean["saturated_fraction"][0])
    assert mean["weight_std"][0] == pytest.approx((W1_RELU[0].std() + W1_RELU[1].std()) / 2)
    assert math.isfinite(mean["grad_std"][1])
    assert layers.mean(slice(1, 2))["dead_fraction"][0] == pytest.approx(1 / 3)


def test_take_and_concat_rebuild_the_axis_and_equality_sees_every_value():
    net, p = build("tanh", W1_TANH, np.zeros((2, 3)))
    layers = stats.layer_stats(np, net, p, X, Y)
    again = stats.LayerStats.concat([layers.take(slice(0, 1)), layers.take(slice(1, 2))])
    assert again == layers
    changed = layers.take(slice(None))
    changed.values["grad_std"] = changed["grad_std"] + 1e-15
    assert changed != layers


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_std_is_numpys_std_bit_for_bit(dtype):
    a = np.random.default_rng(3).normal(2.0, 3.0, size=(4, 7, 33)).astype(dtype)
    mean, std = stats.mean_std(np, a, np.empty_like(a))
    np.testing.assert_array_equal(mean, a.mean(axis=(-2, -1)))
    np.testing.assert_array_equal(std, a.std(axis=(-2, -1)))
    view = a[:, :, :20]  # a strided view, no scratch
    np.testing.assert_array_equal(stats.mean_std(np, view)[1], view.std(axis=(-2, -1)))
