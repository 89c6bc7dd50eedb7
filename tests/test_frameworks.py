"""initlab's laws against the frameworks whose names they carry: Keras 3's and JAX's
variance_scaling and their presets (keras.he_normal, jax.lecun_normal, …), PyTorch's untruncated
he/xavier/lecun, trunc_normal_ (a, b) and JAX's truncated_normal (lower, upper), sparse_,
nn.Linear's defaults, exact GELU, parameter aliases, the retired bare xavier/glorot, and the
one-line refusals. Large layers, fixed seeds; statistical thresholds at 6 standard errors; every
expected value computed here (scipy.stats.truncnorm for the truncated laws)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from initlab.commands import export
from initlab.engine import activations
from initlab.errors import InitlabError
from initlab.experiments import config
from initlab.inits import fans, laws
from initlab.inits.fastrng import FastStream
from initlab.params import Registry

from conftest import CONFIGS

SHAPE = (2000, 1000)  # (n_out, n_in): fan_in 1000, fan_out 2000, fan_avg 1500
N = SHAPE[0] * SHAPE[1]
FAN = {"fan_in": 1000, "fan_out": 2000, "fan_avg": 1500}
K = 6  # standard errors


def draw(spec, shape=SHAPE, seed=0, rng=None, **kw):
    name, params = laws.resolve(spec)
    return laws.sample(name, params, shape, rng or np.random.default_rng(seed), **kw)


def one_line(spec) -> str:
    with pytest.raises(InitlabError) as err:
        laws.resolve(spec)
    msg = str(err.value)
    assert msg and "\n" not in msg, msg
    return msg


def check_moments(w, mean, std, kurtosis=3.0):
    """Sample mean and std against the law's, within K standard errors (the std's standard
    error σ·√((κ − 1)/(4n)), κ the law's kurtosis; 3 bounds every law here but sparse)."""
    n = w.size
    assert abs(w.mean() - mean) < K * std / math.sqrt(n), (w.mean(), mean)
    assert abs(w.std() - std) < K * std * math.sqrt((kurtosis - 1) / (4 * n)), (w.std(), std)


def check_reaches(w, low, high, density_low, density_high):
    """low <= w <= high, and both ends reached: no sample within δ of an end has probability
    exp(−n·f·δ) = e^−40 with δ = 40/(n·f), f the density at that end."""
    assert w.min() >= low and w.max() <= high, (w.min(), low, w.max(), high)
    assert w.min() < low + 40 / (w.size * density_low)
    assert w.max() > high - 40 / (w.size * density_high)


# -------------------------------------------------------------------------- variance_scaling

TRUNC = stats.truncnorm(-2, 2)


def test_the_constant_is_the_std_of_a_unit_normal_cut_at_two():
    assert abs(laws.TRUNCATED_STD / TRUNC.std() - 1) < 1e-15


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_variance_scaling_modes_and_distributions(mode, distribution):
    scale = 2.0
    sigma = math.sqrt(scale / FAN[mode])
    w = draw(f"variance_scaling(scale={scale}, mode={mode}, distribution={distribution})")
    assert w.shape == SHAPE and w.dtype == np.float64
    if distribution == "truncated_normal":
        parent = sigma / 0.87962566103423978
        check_moments(w, 0.0, sigma)
        f = TRUNC.pdf(2.0) / parent  # density of w at ±2σ'
        check_reaches(w, -2 * parent, 2 * parent, f, f)
        assert stats.kstest(w.ravel()[:200_000] / parent, TRUNC.cdf).pvalue > 1e-4
    elif distribution == "normal":
        check_moments(w, 0.0, sigma)
        assert np.abs(w).max() > 2 * sigma / 0.87962566103423978  # untruncated
        assert stats.kstest(w.ravel()[:200_000] / sigma, "norm").pvalue > 1e-4
    else:
        bound = math.sqrt(3 * sigma**2)
        check_moments(w, 0.0, sigma, kurtosis=1.8)
        check_reaches(w, -bound, bound, 1 / (2 * bound), 1 / (2 * bound))


def test_keras_untruncated_normal_is_accepted_as_normal():
    assert laws.resolve("variance_scaling(distribution=untruncated_normal)") == \
        laws.resolve("variance_scaling(distribution=normal)")


# Keras 3.8 random_initializers.py (HeNormal, …: VarianceScaling subclasses) and JAX
# jax/_src/nn/initializers.py (he_normal, …: variance_scaling specialisations), read there.
PRESETS = {
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
}
JAX_ALIASES = {"xavier_normal": "glorot_normal", "xavier_uniform": "glorot_uniform",
               "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform"}
FRAMEWORK_NAMES = ([(f"keras.{n}", p) for n, p in PRESETS.items()]
                   + [(f"jax.{n}", p) for n, p in PRESETS.items()]
                   + [(f"jax.{n}", PRESETS[t]) for n, t in JAX_ALIASES.items()])


@pytest.mark.parametrize(("name", "preset"), FRAMEWORK_NAMES, ids=[n for n, _ in FRAMEWORK_NAMES])
def test_keras_and_jax_names_are_their_variance_scaling(name, preset):
    scale, mode, distribution = preset
    explicit = f"variance_scaling(scale={scale}, mode={mode}, distribution={distribution})"
    assert laws.resolve(name) == laws.resolve(explicit)
    np.testing.assert_array_equal(draw(name, shape=(300, 200), seed=3),
                                  draw(explicit, shape=(300, 200), seed=3))
    assert name in laws.INITIALIZER_NAMES
    note = next(r["note"] for r in laws.catalogue() if r["name"] == name)
    assert "variance_scaling" in note and ("Keras 3" in note or "JAX" in note)


def test_every_keras_and_jax_preset_is_listed():
    dotted = {n for n in laws.INITIALIZER_NAMES if "." in n}
    assert dotted == {n for n, _ in FRAMEWORK_NAMES}


@pytest.mark.parametrize(("ours", "theirs", "std"), [
    ("he_normal", "keras.he_normal", math.sqrt(2 / 1000)),
    ("xavier_normal", "keras.glorot_normal", math.sqrt(2 / 3000)),
    ("lecun_normal", "jax.lecun_normal", math.sqrt(1 / 1000)),
])
def test_pytorch_names_stay_untruncated_and_the_framework_names_are_cut(ours, theirs, std):
    plain, cut = draw(ours, seed=1), draw(theirs, seed=1)
    check_moments(plain, 0.0, std)
    check_moments(cut, 0.0, std)
    limit = 2 * std / laws.TRUNCATED_STD
    assert np.abs(cut).max() <= limit < np.abs(plain).max()
    assert (np.abs(plain) > limit).mean() == pytest.approx(2 * stats.norm.sf(limit / std),
                                                           rel=0.05)


def test_notes_say_which_is_which():
    notes = {r["name"]: r["note"] for r in laws.catalogue()}
    assert "kaiming_normal_" in notes["he_normal"] and "untruncated" in notes["he_normal"]
    assert "keras.he_normal" in notes["he_normal"]
    assert "xavier_normal_" in notes["xavier_normal"] and "keras.glorot_normal" in notes[
        "xavier_normal"]
    assert "Keras name of xavier_normal" not in notes["glorot_normal"]
    assert "untruncated" in notes["glorot_normal"]


def test_glorot_uniform_is_one_law_in_pytorch_keras_and_jax():
    a = draw("xavier_uniform", shape=(400, 300), seed=9)
    for name in ("glorot_uniform", "keras.glorot_uniform", "jax.glorot_uniform",
                 "jax.xavier_uniform"):
        np.testing.assert_allclose(draw(name, shape=(400, 300), seed=9), a, rtol=1e-14, atol=0)


# ------------------------------------------------------------------------- truncated normals

def bounds_of(p):
    """(α, β): the truncation in parent-σ units, as each framework states it."""
    if p.get("a") is not None:
        return (p["a"] - p["mean"]) / p["std"], (p["b"] - p["mean"]) / p["std"]
    if p.get("lower") is not None:
        return p["lower"], p["upper"]
    return -p["cut"], p["cut"]


SCHEMES = [
    ("truncated_normal(mean=1, std=0.5, cut=2)", {"mean": 1, "std": 0.5, "cut": 2}),
    ("truncated_normal(std=0.2, cut=1)", {"mean": 0, "std": 0.2, "cut": 1}),
    ("truncated_normal(mean=0.5, std=2, a=-1, b=3)", {"mean": 0.5, "std": 2, "a": -1, "b": 3}),
    ("truncated_normal(a=-0.5)", {"mean": 0, "std": 1, "a": -0.5, "b": 2}),  # PyTorch's b = 2
    ("truncated_normal(stddev=0.3, lower=-1, upper=2)",
     {"mean": 0, "std": 0.3, "lower": -1, "upper": 2}),
    ("truncated_normal(std=0.3, upper=0.5)", {"mean": 0, "std": 0.3, "lower": -2, "upper": 0.5}),
]


@pytest.mark.parametrize(("spec", "p"), SCHEMES, ids=[s for s, _ in SCHEMES])
def test_each_truncation_scheme_draws_its_law(spec, p):
    alpha, beta = bounds_of(p)
    law = stats.truncnorm(alpha, beta, loc=p["mean"], scale=p["std"])
    # the closed form of the brief: σ²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²]
    phi, z = stats.norm.pdf, stats.norm.cdf(beta) - stats.norm.cdf(alpha)
    closed = p["std"] * math.sqrt(1 + (alpha * phi(alpha) - beta * phi(beta)) / z
                                  - ((phi(alpha) - phi(beta)) / z) ** 2)
    assert closed == pytest.approx(law.std(), rel=1e-12)
    assert laws.realised_std(*laws.resolve(spec)) == pytest.approx(law.std(), rel=1e-12)
    assert f"{law.std():.4g}" in laws.formula(*laws.resolve(spec))
    w = draw(spec, seed=2)
    check_moments(w, law.mean(), law.std())
    low, high = law.support()
    check_reaches(w, low, high, law.pdf(low), law.pdf(high))
    assert stats.kstest(w.ravel()[:200_000], law.cdf).pvalue > 1e-4


@pytest.mark.parametrize(("spec", "alpha", "beta"), [
    ("truncated_normal(mean=1, std=0.2, cut=1.5, std_of=realised)", -1.5, 1.5),
    ("truncated_normal(std=0.2, lower=-0.5, upper=3, std_of=realised)", -0.5, 3.0),
])
def test_std_of_realised_makes_std_the_drawn_std(spec, alpha, beta):
    _, p = laws.resolve(spec)
    parent = p["std"] / stats.truncnorm(alpha, beta).std()
    law = stats.truncnorm(alpha, beta, loc=p["mean"], scale=parent)
    assert law.std() == pytest.approx(0.2, rel=1e-12)
    assert laws.realised_std(*laws.resolve(spec)) == pytest.approx(0.2, rel=1e-12)
    w = draw(spec, seed=6)
    check_moments(w, law.mean(), 0.2)
    assert w.min() >= law.support()[0] and w.max() <= law.support()[1]


def test_the_cut_scheme_keeps_its_old_draws_bit_for_bit():
    """Legacy stream: N(0, 1) draws, rejected entries redrawn in order, then ×σ + mean."""
    got = draw("truncated_normal(mean=0.1, std=0.2, cut=1)", shape=(30, 20),
               rng=np.random.RandomState(5))
    rs = np.random.RandomState(5)
    z = rs.randn(30, 20)
    while (np.abs(z) > 1).any():
        bad = np.abs(z) > 1
        z[bad] = rs.standard_normal(int(bad.sum()))
    np.testing.assert_array_equal(got, z * 0.2 + 0.1)


def test_the_default_is_a_cut_at_two():
    assert laws.resolve("truncated_normal")[1]["cut"] == 2.0
    assert laws.resolve("truncated_normal(lower=-1)")[1]["upper"] == 2.0  # JAX's default
    assert laws.resolve("truncated_normal(b=1)")[1]["a"] == -2.0  # PyTorch's default


@pytest.mark.parametrize(("spec", "words"), [
    ("truncated_normal(cut=2, a=-1)", ["cut", "a, b", "one truncation"]),
    ("truncated_normal(cut=2, upper=1)", ["cut", "lower, upper"]),
    ("truncated_normal(a=-1, lower=-1)", ["a, b", "lower, upper"]),
    ("truncated_normal(a=1, b=1)", ["'a'", "'b'"]),
    ("truncated_normal(lower=1, upper=0)", ["'lower'", "'upper'"]),
    ("truncated_normal(a=-1, b=1, std_of=realised)", ["std_of=realised", "a, b"]),
    ("truncated_normal(lower=4, upper=5)", ["%", "widen"]),
    ("truncated_normal(mean=10, a=-1, b=1)", ["%", "widen"]),
])
def test_bad_truncations_are_one_line(spec, words):
    msg = one_line(spec)
    assert all(w in msg for w in words), msg


# ------------------------------------------------------------------------------- sparse_

@pytest.mark.parametrize(("shape", "sparsity"), [((1000, 300), 0.1), ((7, 5), 0.3),
                                                  ((50, 40), 0.0), ((9, 4), 1.0),
                                                  ((33, 20), 0.5)])
def test_sparse_zeroes_ceil_sparsity_rows_in_every_column(shape, sparsity):
    w = draw(f"sparse(sparsity={sparsity}, std=0.05)", shape=shape, seed=1)
    zeros = (w == 0).sum(axis=0)
    assert (zeros == math.ceil(sparsity * shape[0])).all(), zeros


def test_sparse_values_and_rows():
    w = draw("sparse(sparsity=0.2, stddev=0.05)", shape=(1000, 1000), seed=3)
    values = w[w != 0]
    check_moments(values, 0.0, 0.05)
    pattern = w == 0
    assert not (pattern == pattern[:, :1]).all()  # each column its own rows
    # every row is zero in about 20% of the columns (binomial(1000, 0.2): sd 12.6)
    assert np.abs(pattern.sum(axis=1) - 200).max() < K * math.sqrt(1000 * 0.2 * 0.8)


@pytest.mark.parametrize("make", [np.random.default_rng, np.random.RandomState, FastStream])
def test_sparse_is_deterministic_from_its_stream(make):
    a = draw("sparse", shape=(40, 30), rng=make(7))
    assert np.array_equal(a, draw("sparse", shape=(40, 30), rng=make(7)))
    assert not np.array_equal(a == 0, draw("sparse", shape=(40, 30), rng=make(8)) == 0)


def test_sparse_needs_a_matrix():
    with pytest.raises(InitlabError, match="sparse"):
        draw("sparse", shape=(6,))


# ------------------------------------------------------------------------ nn.Linear's laws

def test_fan_in_uniform_takes_the_weights_fan_in():
    b = draw("fan_in_uniform", shape=(400_000,), seed=4, weight_shape=(400_000, 400))
    bound = 1 / math.sqrt(400)
    check_moments(b, 0.0, bound / math.sqrt(3), kurtosis=1.8)
    check_reaches(b, -bound, bound, 1 / (2 * bound), 1 / (2 * bound))
    small = draw("fan_in_uniform", shape=(5,), seed=4, weight_shape=(5, 16))
    assert np.abs(small).max() <= 0.25


def test_fan_in_uniform_refuses_without_the_weight_shape():
    with pytest.raises(InitlabError) as err:
        draw("fan_in_uniform", shape=(5,))
    msg = str(err.value)
    assert "\n" not in msg and "weight" in msg and "fan_in_uniform" in msg


def test_other_laws_give_a_bias_its_own_fans():
    b = draw("he_normal", shape=(200_000,), seed=1, weight_shape=(200_000, 9))
    check_moments(b, 0.0, math.sqrt(2 / 200_000))
    np.testing.assert_array_equal(b, draw("he_normal", shape=(200_000,), seed=1))


def test_torch_linear_is_kaiming_uniform_with_a_sqrt5():
    _, p = laws.resolve("torch_linear")
    assert p["nonlinearity"] == "leaky_relu" and p["slope"] == math.sqrt(5)
    gain2 = 2 / (1 + 5)  # calculate_gain('leaky_relu', √5)²
    bound = math.sqrt(3) * math.sqrt(gain2) / math.sqrt(1000)
    assert bound == pytest.approx(1 / math.sqrt(1000), rel=1e-15)
    w = draw("torch_linear", seed=5)
    assert np.abs(w).max() <= bound * (1 + 1e-12)
    check_reaches(w, -bound * (1 + 1e-12), bound * (1 + 1e-12), 1 / (2 * bound), 1 / (2 * bound))
    check_moments(w, 0.0, bound / math.sqrt(3), kurtosis=1.8)


# --------------------------------------------------------------------------- parameter aliases

@pytest.mark.parametrize(("alias", "canonical"), [
    ("normal(stddev=0.3)", "normal(std=0.3)"),
    ("truncated_normal(stddev=0.3)", "truncated_normal(std=0.3)"),
    ("uniform(minval=-1, maxval=2)", "uniform(low=-1, high=2)"),
    ("sparse(stddev=0.1)", "sparse(std=0.1)"),
    ("he(negative_slope=0.2)", "he(slope=0.2)"),
    ("he(a=0.2)", "he(slope=0.2)"),
    ("he(a=0.2)", "he(nonlinearity=leaky_relu, slope=0.2)"),
    ({"name": "normal", "stddev": 0.3}, "normal(std=0.3)"),
])
def test_parameter_aliases_are_their_parameters(alias, canonical):
    assert laws.resolve(alias) == laws.resolve(canonical)
    if "nonlinearity" not in str(canonical):  # labels use the parameter's own name
        assert laws.label(alias) == laws.label(canonical)


def test_kaimings_a_is_pytorchs_default_meaning():
    """kaiming_normal_(a=0, nonlinearity='leaky_relu'), PyTorch's default: gain √(2/(1+0)) = √2,
    the same draw as he; a = 0.2 gives the leaky gain."""
    np.testing.assert_array_equal(draw("he(a=0)", shape=(50, 40)), draw("he", shape=(50, 40)))
    w = draw("kaiming_normal(a=0.2)")
    check_moments(w, 0.0, math.sqrt(2 / (1 + 0.04) / 1000))


def test_the_activation_takes_negative_slope():
    act = activations.get("leaky_relu(negative_slope=0.2)")
    assert act.params == {"slope": 0.2} and act.label == "leaky_relu(slope=0.2)"


@pytest.mark.parametrize("spec", ["normal(std=1, stddev=2)", "uniform(low=-1, minval=-2)",
                                  "he(a=0.1, slope=0.1)", "he(a=0.1, negative_slope=0.1)",
                                  {"name": "normal", "std": 1, "stddev": 2}])
def test_an_alias_and_its_parameter_together_are_refused(spec):
    msg = one_line(spec)
    assert "same parameter" in msg


def test_an_alias_and_its_parameter_in_an_activation_are_refused():
    with pytest.raises(InitlabError, match="same parameter"):
        activations.get("leaky_relu(slope=0.1, negative_slope=0.2)")


def test_unknown_parameters_list_the_aliases():
    msg = one_line("normal(sdev=1)")
    assert "std (alias stddev)" in msg and "did you mean" in msg


@pytest.mark.parametrize("spec", ["he(slope=0.2, nonlinearity=relu)", "he(gain=2, slope=0.1)",
                                  "he(nonlinearity=auto, a=0.3)"])
def test_a_slope_without_leaky_relu_is_refused(spec):
    assert "slope" in one_line(spec)


def test_aliases_are_in_the_json_schema():
    schema = laws.REGISTRY.json_schema()
    normal = next(s for s in schema["anyOf"] if s.get("title") == "normal")
    assert normal["properties"]["stddev"]["description"] == "alias of std"
    assert "default" not in normal["properties"]["stddev"]


# -------------------------------------------------------------------------- names with dots

def test_dotted_names_parse_with_parameters_and_spaces():
    assert laws.resolve(" Keras.He_Normal ( scale = 3 ) ")[1]["scale"] == 3.0
    assert laws.label("jax.lecun_normal") == "jax.lecun_normal"


@pytest.mark.parametrize("spec", ["keras..he_normal", ".he", "keras.", "keras. he_normal"])
def test_malformed_dotted_names_are_one_line(spec):
    assert "malformed" in one_line(spec)


def test_dotted_names_are_in_the_schemas_pattern():
    import re  # noqa: PLC0415

    schema = laws.REGISTRY.json_schema()
    pattern = schema["anyOf"][1]["pattern"]
    assert re.match(pattern, "keras.he_normal(scale=2)")
    assert not re.match(pattern, "kerasXhe_normal(scale=2)")


# ------------------------------------------------------------------------- retired names

@pytest.mark.parametrize("spec", ["xavier", "glorot", "Xavier", "xavier(gain=2)",
                                  {"name": "glorot", "gain": 1}])
def test_bare_xavier_and_glorot_are_retired_in_one_line(spec):
    msg = one_line(spec)
    assert "ambiguous" in msg
    assert all(n in msg for n in ("xavier_normal", "xavier_uniform", "lecun_normal"))
    assert "CS231n" in msg and "Keras" in msg


def test_retired_names_are_not_offered():
    assert "xavier" not in laws.INITIALIZER_NAMES and "glorot" not in laws.INITIALIZER_NAMES
    assert {r["name"] for r in laws.catalogue()}.isdisjoint({"xavier", "glorot"})
    schema = laws.REGISTRY.json_schema()
    assert {"xavier", "glorot"}.isdisjoint(schema["anyOf"][0]["enum"])
    assert {"xavier", "glorot"}.isdisjoint(s.get("title") for s in schema["anyOf"][2:])
    assert "(xavier|" not in schema["anyOf"][1]["pattern"]
    assert "|xavier|" not in schema["anyOf"][1]["pattern"]


def test_a_registry_can_retire_any_name():
    reg = Registry("thing", {"a": laws.REGISTRY.entries["zeros"]}, retired={"b": "is gone"})
    with pytest.raises(InitlabError, match="^thing 'b' is gone$"):
        reg.resolve("b")
    assert reg.names == ("a",)


def test_the_experiment_file_refuses_bare_xavier():
    with pytest.raises(InitlabError) as err:
        config.load(CONFIGS / "he_circles.yaml", ["init.weights=xavier"])
    assert "ambiguous" in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------- describe

def test_describe_gives_law_parameters_formula_realised_std_note_and_source():
    lines = dict(laws.describe("truncated_normal(stddev=0.5, a=-1, b=1)"))
    assert lines["law"].startswith("truncated_normal")
    assert lines["parameter std (alias stddev)"] == "0.5"
    assert lines["parameter mean"] == "0 (default)"
    assert lines["formula"] == laws.formula(*laws.resolve("truncated_normal(std=0.5, a=-1, b=1)"))
    law = stats.truncnorm(-2, 2, scale=0.5)
    assert float(lines["realised std"]) == pytest.approx(law.std(), rel=1e-5)
    assert "trunc_normal_" in lines["source"] and "torch/nn/init.py" in lines["source"]
    assert "note" in lines


def test_describe_an_alias():
    lines = dict(laws.describe("keras.he_normal"))
    assert lines["alias of"].startswith("variance_scaling(scale=2")
    assert "Keras 3" in lines["alias note"] and "random_initializers.py" in lines["source"]
    assert "realised std" not in lines  # depends on the shape
    he = dict(laws.describe("he(a=0.3)"))
    assert he["parameter nonlinearity"] == "leaky_relu (implied)"
    assert "calculate_gain" in he["gains"]


# ----------------------------------------------------------------------------- exact GELU

def test_gelu_is_exact_and_gelu_tanh_is_the_approximation():
    z = np.linspace(-8, 8, 2001).reshape(1, 1, -1)
    gelu = activations.get("gelu").forward(np, z, np.empty_like(z))
    np.testing.assert_allclose(gelu, z * special.ndtr(z), rtol=1e-12, atol=1e-300)
    assert gelu[0, 0, 1500] == pytest.approx(4 * special.ndtr(4), rel=1e-15)
    tanh = activations.get("gelu_tanh").forward(np, z, np.empty_like(z))
    ref = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    np.testing.assert_allclose(tanh, ref, rtol=1e-12, atol=1e-15)
    assert 1e-5 < np.abs(gelu - tanh).max() < 1e-3  # close, and not the same function


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh"])
def test_gelu_derivatives(name):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2.5, size=(2, 3, 40))
    act = activations.get(name)
    h = 1e-6
    fwd = lambda x: act.forward(np, x, np.empty_like(x))  # noqa: E731
    numeric = (fwd(z + h) - fwd(z - h)) / (2 * h)
    da = rng.normal(size=z.shape)
    got = act.backward(np, z, fwd(z), da.copy())
    np.testing.assert_allclose(got, da * numeric, rtol=1e-6, atol=1e-9)
    if name == "gelu":  # Φ(z) + z·φ(z), written out
        np.testing.assert_allclose(act.derivative(np, z, fwd(z)),
                                   special.ndtr(z) + z * stats.norm.pdf(z), rtol=1e-12,
                                   atol=1e-16)


def test_export_maps_say_which_gelu():
    assert export._TORCH["gelu"] == "nn.GELU()"
    assert export._TORCH["gelu_tanh"] == 'nn.GELU(approximate="tanh")'
    assert "approximate=False" in export._KERAS["gelu"]
    assert "approximate=True" in export._KERAS["gelu_tanh"]
    assert "approximate=False" in export._FLAX["gelu"] and export._FLAX["gelu_tanh"] == "nn.gelu"
    code = f"x = {export._FLAX['gelu']}(nn.Dense(4)(x))"
    compile(code, "snippet", "exec")  # the Flax entry is a callable expression
    for table in (export._TORCH, export._KERAS, export._FLAX):
        assert set(table) == set(activations.ACTIVATION_NAMES) - {"leaky_relu"}


def test_the_gelu_gain_is_not_in_the_pytorch_table():
    with pytest.raises(InitlabError):
        fans.gain("gelu")
