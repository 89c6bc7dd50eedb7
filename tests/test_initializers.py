"""Tests for initlab.initializers: laws, bit-exactness with the classic notebooks, spec parsing."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from initlab.errors import InitlabError
from initlab.inits.laws import (
    INITIALIZER_NAMES,
    catalogue,
    fans,
    formula,
    gain,
    label,
    resolve,
    sample,
)

BIG = (2000, 1000)  # (n_out, n_in): fan_in = 1000, fan_out = 2000


def draw(spec, shape=BIG, seed=0, activation=None):
    name, params = resolve(spec)
    return sample(name, params, shape, np.random.default_rng(seed), activation)


# ----------------------------------------------------------------------------- fans and gains

def test_fans_follow_the_n_out_n_in_layout():
    assert fans((3, 7)) == (7, 3)
    assert fans((5,)) == (5, 5)
    assert fans((4, 2, 3, 3)) == (2 * 9, 4 * 9)


@pytest.mark.parametrize("shape", [(), (0, 3), (3, -1)])
def test_fans_rejects_degenerate_shapes(shape):
    with pytest.raises(InitlabError):
        fans(shape)


def auto(phi):
    """1/√E[φ(z)²], z ~ N(0, 1), by scipy's adaptive quadrature (independent of initlab's)."""
    second = integrate.quad(lambda z: phi(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                            -40, 40, points=[0.0], limit=200, epsabs=1e-14, epsrel=1e-13)[0]
    return 1 / math.sqrt(second)


@pytest.mark.parametrize(("name", "param", "expected"), [
    ("linear", None, 1.0), ("identity", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))), ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
])
def test_gain_table(name, param, expected):
    assert gain(name, param) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "softmax"])
def test_the_table_has_no_gain_pytorch_lacks(name):
    with pytest.raises(InitlabError) as err:
        gain(name)
    msg = str(err.value)
    assert name in msg and "auto" in msg and "\n" not in msg


def test_gain_unknown_lists_valid_names():
    with pytest.raises(InitlabError) as err:
        gain("swish")
    msg = str(err.value)
    assert "swish" in msg and "relu" in msg and "tanh" in msg and "\n" not in msg


# ----------------------------------------------------------------------------- laws on large draws

@pytest.mark.parametrize(("spec", "std"), [
    ("normal(std=0.5)", 0.5),
    ("small", 0.01),
    ("he_normal", math.sqrt(2 / 1000)),
    ("he_normal(mode=fan_out)", math.sqrt(2 / 2000)),
    ("he_normal(nonlinearity=tanh)", (5 / 3) / math.sqrt(1000)),
    ("he_normal(nonlinearity=selu)", 0.75 / math.sqrt(1000)),
    ("he_normal(nonlinearity=leaky_relu, slope=0.2)", math.sqrt(2 / 1.04 / 1000)),
    ("he_normal(nonlinearity=linear)", 1 / math.sqrt(1000)),
    ("xavier_normal", math.sqrt(2 / 3000)),
    ("xavier_normal(gain=2)", 2 * math.sqrt(2 / 3000)),
    ("lecun_normal", 1 / math.sqrt(1000)),
])
def test_normal_family_std(spec, std):
    w = draw(spec)
    assert w.shape == BIG and w.dtype == np.float64
    assert abs(w.mean()) < 0.01 * std
    assert w.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize(("spec", "bound"), [
    ("uniform(low=-0.3, high=0.3)", 0.3),
    ("xavier_uniform", math.sqrt(6 / 3000)),
    ("xavier_uniform(gain=3)", 3 * math.sqrt(6 / 3000)),
    ("he_uniform", math.sqrt(3) * math.sqrt(2 / 1000)),
    ("he_uniform(mode=fan_out)", math.sqrt(6 / 2000)),
    ("lecun_uniform", math.sqrt(3 / 1000)),
])
def test_uniform_family_bounds_and_std(spec, bound):
    w = draw(spec)
    assert w.max() <= bound and w.min() >= -bound
    assert w.max() == pytest.approx(bound, rel=1e-3)
    assert w.min() == pytest.approx(-bound, rel=1e-3)
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_uniform_off_centre():
    w = draw("uniform(low=1, high=3)")
    assert w.min() >= 1 and w.max() <= 3
    assert w.mean() == pytest.approx(2, rel=1e-3)


def test_normal_with_mean():
    w = draw("normal(mean=3, std=0.5)")
    assert w.mean() == pytest.approx(3, abs=0.002)
    assert w.std() == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize(("spec", "scale", "law"), [
    ("normal(std=2)", 2.0, "norm"),
    ("he_normal", math.sqrt(2 / 1000), "norm"),
    ("he_uniform", math.sqrt(6 / 1000), "uniform"),
    ("xavier_uniform", math.sqrt(6 / 3000), "uniform"),
])
def test_ks_against_reference_law(spec, scale, law):
    x = draw(spec, seed=11).ravel()[:200_000] / scale
    args = (-1, 2) if law == "uniform" else ()
    assert stats.kstest(x, law, args=args).pvalue > 1e-3


def test_ks_detects_a_wrong_scale():
    x = draw("he_normal", seed=11).ravel()[:200_000] / math.sqrt(1 / 1000)  # wrong: forgot gain
    assert stats.kstest(x, "norm").pvalue < 1e-3


@pytest.mark.parametrize(("init", "activation", "g"), [
    ("xavier_normal", "relu", math.sqrt(2)),
    ("xavier_normal", "tanh", auto(math.tanh)),  # computed: 1.5925, not the table's 5/3
    ("xavier_normal", None, 1.0),
])
def test_auto_gain_uses_the_activation(init, activation, g):
    w = draw({"name": init, "gain": "auto"}, activation=activation)
    assert w.std() == pytest.approx(g * math.sqrt(2 / 3000), rel=0.01)


def test_he_auto_nonlinearity_uses_the_activation():
    w = draw("he_normal(nonlinearity=auto)", activation="tanh")
    assert w.std() == pytest.approx(auto(math.tanh) / math.sqrt(1000), rel=0.01)
    assert abs(w.std() - (5 / 3) / math.sqrt(1000)) > 0.02 * w.std()  # not the table's 5/3


# ----------------------------------------------------------------------------- truncated normal

def truncated_factor(c):
    return stats.truncnorm(-c, c).var()


@pytest.mark.parametrize("cut", [1.0, 2.0, 3.0])
def test_truncated_normal_parent(cut):
    w = draw(f"truncated_normal(std=0.2, cut={cut})")
    assert np.abs(w).max() <= cut * 0.2
    assert w.std() == pytest.approx(0.2 * math.sqrt(truncated_factor(cut)), rel=0.01)


@pytest.mark.parametrize("cut", [0.5, 1.0, 2.0])
def test_truncated_normal_realised(cut):
    w = draw(f"truncated_normal(mean=1, std=0.2, cut={cut}, std_of=realised)")
    parent = 0.2 / math.sqrt(truncated_factor(cut))
    assert np.abs(w - 1).max() <= cut * parent
    assert w.std() == pytest.approx(0.2, rel=0.01)
    assert w.mean() == pytest.approx(1, abs=0.002)


def test_truncated_normal_is_deterministic():
    a = draw("truncated_normal(cut=0.5)", shape=(300, 200), seed=5)
    b = draw("truncated_normal(cut=0.5)", shape=(300, 200), seed=5)
    assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- deterministic inits

@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5)])
@pytest.mark.parametrize("g", [1.0, 2.5])
def test_orthogonal(shape, g):
    w = draw({"name": "orthogonal", "gain": g}, shape=shape)
    n_out, n_in = shape
    gram = w @ w.T if n_out <= n_in else w.T @ w
    assert np.allclose(gram, g**2 * np.eye(min(shape)), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(3, 7), (7, 3)])
def test_orthogonal_follows_torch_sign_convention(shape, seed):
    """Q·sign(diag R): Wᵀ·A (tall orientation) is upper triangular with a positive diagonal."""
    w = draw("orthogonal", shape=shape, seed=seed)
    a = np.random.default_rng(seed).standard_normal(shape)
    w_tall, a_tall = (w.T, a.T) if shape[0] < shape[1] else (w, a)
    r = w_tall.T @ a_tall
    assert np.all(np.diag(r) > 0)
    assert np.allclose(np.tril(r, -1), 0, atol=1e-12)


def test_orthogonal_auto_gain():
    w = draw("orthogonal(gain=auto)", shape=(4, 6), activation="tanh")
    assert np.allclose(w @ w.T, auto(math.tanh) ** 2 * np.eye(4), atol=1e-9)


def test_identity_zeros_ones_constant_exact():
    assert np.array_equal(draw("identity", shape=(3, 5)), np.eye(3, 5))
    assert np.array_equal(draw("identity(gain=2)", shape=(4, 2)), 2 * np.eye(4, 2))
    assert np.array_equal(draw("zeros", shape=(3, 4)), np.zeros((3, 4)))
    assert np.array_equal(draw("ones", shape=(3,)), np.ones(3))
    assert np.array_equal(draw("constant(value=0.1)", shape=(2, 3)), np.full((2, 3), 0.1))


MATRIX_ONLY = ("orthogonal", "identity", "sparse")


@pytest.mark.parametrize("init", MATRIX_ONLY)
def test_matrix_only_inits_reject_bias_shapes(init):
    with pytest.raises(InitlabError, match=init):
        draw(init, shape=(5,))


VECTOR_OK = [n for n in INITIALIZER_NAMES if n not in (*MATRIX_ONLY, "fan_in_uniform")]


@pytest.mark.parametrize("name", VECTOR_OK)
def test_every_init_draws_biases(name):
    b = draw(name, shape=(6,))
    assert b.shape == (6,) and b.dtype == np.float64 and np.all(np.isfinite(b))


# ----------------------------------------------------------------------------- bit-exactness

@pytest.mark.parametrize("shape", [(10, 2), (5, 10), (1, 5)])
def test_legacy_normal_is_bit_exact(shape):
    got = sample("normal", {"mean": 0, "std": 10}, shape, np.random.RandomState(3))
    assert np.array_equal(got, np.random.RandomState(3).randn(*shape) * 10)
    name, params = resolve("random")
    got = sample(name, params, shape, np.random.RandomState(3))
    assert np.array_equal(got, np.random.RandomState(3).randn(*shape) * 10)


def test_legacy_he_is_bit_exact_over_a_network():
    layers_dims = [2, 10, 5, 1]  # Coursera "Initialization" notebook
    rs_ours, rs_ref = np.random.RandomState(3), np.random.RandomState(3)
    name, params = resolve("he")
    for n_in, n_out in zip(layers_dims[:-1], layers_dims[1:], strict=True):
        ours = sample(name, params, (n_out, n_in), rs_ours)
        ref = rs_ref.randn(n_out, n_in) * np.sqrt(2.0 / n_in)
        assert np.array_equal(ours, ref)


@pytest.mark.parametrize(("spec", "var"), [
    ("lecun_normal", lambda n_in, n_out: 1.0 / n_in),
    ("xavier_normal", lambda n_in, n_out: 2.0 / (n_in + n_out)),
])
def test_legacy_lecun_and_xavier_are_bit_exact(spec, var):
    name, params = resolve(spec)
    ours = sample(name, params, (7, 3), np.random.RandomState(1))
    assert np.array_equal(ours, np.random.RandomState(1).randn(7, 3) * np.sqrt(var(3, 7)))


def test_uniform_family_uses_rng_uniform():
    ours = sample("uniform", {"low": -0.2, "high": 0.5}, (4, 3), np.random.RandomState(2))
    assert np.array_equal(ours, np.random.RandomState(2).uniform(-0.2, 0.5, (4, 3)))
    ours = draw("xavier_uniform", shape=(4, 3), seed=2)
    bound = math.sqrt(6 / 7)
    ref = np.random.default_rng(2).uniform(-bound, bound, (4, 3))
    assert np.allclose(ours, ref, rtol=1e-14, atol=0)


@pytest.mark.parametrize("make", [np.random.default_rng, np.random.RandomState])
@pytest.mark.parametrize("spec", ["he_normal", "xavier_uniform", "orthogonal", "truncated_normal"])
def test_seeds(make, spec):
    name, params = resolve(spec)
    a = sample(name, params, (20, 10), make(7))
    b = sample(name, params, (20, 10), make(7))
    c = sample(name, params, (20, 10), make(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


# ----------------------------------------------------------------------------- resolve / label

@pytest.mark.parametrize(("alias", "canonical", "expected"), [
    ("random", "normal", {"mean": 0.0, "std": 10.0}),
    ("small", "normal", {"mean": 0.0, "std": 0.01}),
    ("big", "normal", {"mean": 0.0, "std": 1.0}),
    ("glorot_normal", "xavier_normal", {"gain": 1.0}),
    ("glorot_uniform", "xavier_uniform", {"gain": 1.0}),
    ("he", "he_normal", {"mode": "fan_in", "nonlinearity": "relu", "slope": None, "gain": None}),
    ("kaiming_uniform", "he_uniform",
     {"mode": "fan_in", "nonlinearity": "relu", "slope": None, "gain": None}),
    ("lecun", "lecun_normal", {}),
])
def test_aliases(alias, canonical, expected):
    assert resolve(alias) == (canonical, expected)
    assert label(alias) == alias


def test_lecun_note_mentions_cs231n_xavier():
    notes = {row["name"]: row["note"] for row in catalogue()}
    assert "CS231n" in notes["lecun_normal"] and "Xavier" in notes["lecun_normal"]


def test_parenthesised_syntax_with_several_params():
    name, params = resolve(" he_uniform( mode = fan_out, nonlinearity=leaky_relu, slope=0.2 ) ")
    assert name == "he_uniform"
    assert params == {"mode": "fan_out", "nonlinearity": "leaky_relu", "slope": 0.2, "gain": None}
    assert resolve("truncated_normal(std=0.1, cut=3, std_of='realised')")[1] == {
        "mean": 0.0, "std": 0.1, "cut": 3.0, "a": None, "b": None, "lower": None, "upper": None,
        "std_of": "realised"}
    assert resolve("he(mode=fan_out)") == ("he_normal", {**resolve("he")[1], "mode": "fan_out"})
    assert resolve("random(std=5)")[1]["std"] == 5.0


def test_mapping_syntax():
    assert resolve({"name": "normal", "std": 0.01}) == ("normal", {"mean": 0.0, "std": 0.01})
    assert resolve({"name": "xavier_normal", "gain": "auto"}) == ("xavier_normal", {"gain": "auto"})
    assert resolve({"name": "uniform", "low": "-1", "high": 2}) == (
        "uniform", {"low": -1.0, "high": 2.0})


def test_labels():
    assert label("he") == "he"
    assert label("normal(std=0.5)") == "normal(std=0.5)"
    assert label(" normal( std = 5e-1 ) ") == "normal(std=0.5)"
    assert label({"name": "normal", "std": 0.01}) == "normal(std=0.01)"
    assert label("random") == "random"


def one_line_error(spec):
    with pytest.raises(InitlabError) as err:
        resolve(spec)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_unknown_initializer_suggests():
    msg = one_line_error("hee")
    assert "unknown initializer 'hee'" in msg and "did you mean 'he'?" in msg
    assert all(name in msg for name in INITIALIZER_NAMES)
    assert "did you mean" not in one_line_error("qqqqqqq")


def test_unknown_parameter():
    msg = one_line_error("normal(sd=1)")
    assert "normal" in msg and "'sd'" in msg and "mean" in msg and "std" in msg
    msg = one_line_error({"name": "he", "std": 1})
    assert "he_normal" in msg and "'std'" in msg and "mode" in msg
    assert "'a'" in one_line_error("zeros(a=1)")


@pytest.mark.parametrize(("spec", "names"), [
    ("normal(std=)", ["std", "name(key=value"]),
    ("normal(0.5)", ["0.5", "name(key=value"]),
    ("normal(std=1", ["normal(std=1", "name(key=value"]),
    ("normal std=1", ["normal std=1", "name(key=value"]),
    ("", ["name(key=value"]),
    ("normal(std=1, std=2)", ["std", "twice"]),
    ({"std": 1}, ["name"]),
])
def test_malformed_syntax(spec, names):
    msg = one_line_error(spec)
    assert all(n in msg for n in names), msg


@pytest.mark.parametrize(("spec", "param", "allowed"), [
    ("normal(std=0)", "std", "> 0"),
    ("normal(std=-1)", "std", "> 0"),
    ("normal(std=abc)", "std", "number"),
    ("normal(std=nan)", "std", "number"),
    ("normal(mean=true)", "mean", "number"),
    ("uniform(low=1, high=0)", "low", "< 'high'"),
    ("uniform(low=1, high=1)", "low", "< 'high'"),
    ("he(mode=fan_avg)", "mode", "fan_in, fan_out"),
    ("he(nonlinearity=swish)", "nonlinearity", "relu"),
    ("he(slope=-1)", "slope", ">= 0"),
    ("truncated_normal(cut=0)", "cut", ">="),
    ("truncated_normal(std_of=both)", "std_of", "parent, realised"),
    ("xavier_normal(gain=-1)", "gain", "auto"),
    ("orthogonal(gain=big)", "gain", "auto"),
    ("constant(value=x)", "value", "number"),
])
def test_bad_values(spec, param, allowed):
    msg = one_line_error(spec)
    assert f"'{param}'" in msg and allowed in msg, msg


# ----------------------------------------------------------------------------- formula / catalogue

def test_catalogue_covers_every_name():
    rows = catalogue()
    names = [row["name"] for row in rows]
    assert sorted(names) == sorted(INITIALIZER_NAMES) and len(set(names)) == len(names)
    for row in rows:
        assert row["kind"] in ("init", "alias")
        assert row["formula"] and row["note"]
        canonical, params = resolve(row["name"])
        assert row["params"] == params
        assert (row["kind"] == "init") == (canonical == row["name"])


def test_formulas_reflect_params():
    assert "fan_in" in formula("he_normal", {}) and "√2" in formula("he_normal", {})
    assert "fan_out" in formula("he_normal", {"mode": "fan_out"})
    assert "5/3" in formula("he_uniform", {"nonlinearity": "tanh"})
    assert "fan_in+fan_out" in formula("xavier_uniform", {})
    assert "0.5" in formula("normal", {"std": 0.5})
    assert f"{truncated_factor(2.0):.4f}" in formula("truncated_normal", {})
    assert formula("random", {}) == formula("normal", {"std": 10})
