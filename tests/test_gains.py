"""Gains: PyTorch's calculate_gain table as PyTorch documents it, and the computed gain
g = 1/√E[φ(z)²], z ~ N(0, 1), against scipy's adaptive quadrature; what it does to a deep gelu
stack, layer by layer and over 50 layers. Every expected value is computed here, independently
of initlab's quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from initlab.commands import meanfield, probe
from initlab.engine import activations, gaussian
from initlab.errors import InitlabError
from initlab.experiments import config
from initlab.inits import fans, laws

LAMBDA = 1.0507009873554804934193349852946  # SELU (Klambauer et al. 2017)
ALPHA = 1.6732632423543772848170429916717

# φ of every elementwise activation, written here (scalar functions for scipy.integrate.quad)
PHI = {
    "linear": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "tanh": math.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "selu": lambda z: LAMBDA * z if z > 0 else LAMBDA * ALPHA * math.expm1(z),
    "gelu": lambda z: z * special.ndtr(z),
    "gelu_tanh": lambda z: 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi)
                                                    * (z + 0.044715 * z**3))),
}


def quad_second_moment(phi, q: float = 1.0) -> float:
    """E[φ(√q z)²], z ~ N(0, 1), by adaptive quadrature, the kink at 0 as a break point."""
    s = math.sqrt(q)

    def f(z):
        return phi(s * z) ** 2 * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    return integrate.quad(f, -40, 40, points=[0.0], limit=400, epsabs=1e-15, epsrel=1e-13)[0]


# ------------------------------------------------------------------------- the quadrature

@pytest.mark.parametrize(("q", "f", "expected"), [
    (1.0, lambda h: h * h, 1.0), (1.0, lambda h: h**4, 3.0), (4.0, lambda h: h * h, 4.0),
    (2.5, lambda h: h**4, 3 * 2.5**2), (1.0, lambda h: np.ones_like(h), 1.0),
    (1.0, lambda h: (h > 0).astype(float), 0.5),
])
def test_gaussian_expect_gives_normal_moments(q, f, expected):
    assert gaussian.expect(f, q) == pytest.approx(expected, rel=1e-12)


def test_meanfield_uses_the_shared_rule_not_a_copy():
    assert meanfield.nodes is gaussian.nodes
    assert not hasattr(meanfield, "_nodes")


# ------------------------------------------------------------------------- computed gains

def test_auto_gain_of_relu_and_linear_to_1e9():
    assert fans.auto_gain("relu") == pytest.approx(math.sqrt(2), abs=1e-9)
    assert fans.auto_gain("linear") == pytest.approx(1.0, abs=1e-9)
    assert fans.auto_gain(None) == pytest.approx(1.0, abs=1e-9)  # no activation: linear


def test_auto_gain_of_tanh_is_scipys_quadrature_and_below_pytorchs_five_thirds():
    expected = 1 / math.sqrt(quad_second_moment(math.tanh))
    assert fans.auto_gain("tanh") == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(1.5925, abs=1e-4)
    assert fans.auto_gain("tanh") / (5 / 3) - 1 == pytest.approx(-0.0445, abs=5e-4)


def test_auto_gain_of_exact_gelu():
    second = quad_second_moment(PHI["gelu"])
    assert second == pytest.approx(0.42522, abs=5e-6)
    assert fans.second_moment("gelu") == pytest.approx(second, abs=1e-10)
    assert fans.auto_gain("gelu") == pytest.approx(1 / math.sqrt(second), abs=1e-9)
    assert fans.auto_gain("gelu") == pytest.approx(1.5335, abs=1e-4)


@pytest.mark.parametrize("name", list(PHI))
def test_auto_gain_of_every_elementwise_activation(name):
    assert fans.auto_gain(name) == pytest.approx(1 / math.sqrt(quad_second_moment(PHI[name])),
                                                 rel=1e-9)


def test_auto_gain_reads_the_activations_own_parameters():
    slope = 0.2  # E[leaky(z)²] = (1 + s²)/2: the table's √(2/(1 + s²)) exactly
    spec = f"leaky_relu(slope={slope})"
    assert fans.auto_gain(spec) == pytest.approx(math.sqrt(2 / (1 + slope**2)), rel=1e-12)
    assert fans.auto_gain(activations.get(spec)) == fans.auto_gain(spec)
    assert fans.auto_gain({"name": "leaky_relu", "negative_slope": slope}) == fans.auto_gain(spec)


def test_softmax_has_no_computed_gain():
    with pytest.raises(InitlabError) as err:
        fans.auto_gain("softmax")
    assert "softmax" in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------- PyTorch's table

# torch.nn.init.calculate_gain's documented table (PyTorch 2.x torch/nn/init.py)
PYTORCH = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0),
           "leaky_relu": math.sqrt(2.0 / (1 + 0.01**2)), "selu": 3 / 4}


@pytest.mark.parametrize(("name", "value"), PYTORCH.items())
def test_the_table_is_pytorchs(name, value):
    assert fans.gain(name) == pytest.approx(value, rel=1e-15)


def test_the_table_takes_leaky_relus_slope():
    assert fans.gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "softmax"])
def test_what_pytorch_lacks_the_table_lacks_and_says_auto(name):
    with pytest.raises(InitlabError) as err:
        fans.gain(name)
    msg = str(err.value)
    assert "\n" not in msg and "calculate_gain" in msg and "auto" in msg


def test_gain_table_has_one_row_per_activation():
    rows = fans.gain_table()
    assert [r["name"] for r in rows] == list(activations.ACTIVATION_NAMES)
    by = {r["name"]: r for r in rows}
    for name, value in PYTORCH.items():
        assert by[name]["pytorch"] == pytest.approx(value, rel=1e-15)
        assert "calculate_gain" in by[name]["source"]
    for name in ("gelu", "gelu_tanh", "softmax"):
        assert by[name]["pytorch"] is None
    assert by["softmax"]["auto"] is None
    for name in PHI:
        assert by[name]["auto"] == pytest.approx(fans.auto_gain(name), rel=1e-15)
    assert "-4.45%" in by["tanh"]["note"]


# ------------------------------------------------------------------------- gains in laws

def test_he_gain_auto_is_the_computed_gain():
    n, rng = 2000, np.random.default_rng(4)
    w = laws.sample(*laws.resolve("he(gain=auto)"), (n, n), rng, activation="gelu")
    expected = fans.auto_gain("gelu") / math.sqrt(n)
    assert w.std() == pytest.approx(expected, abs=6 * expected / math.sqrt(2 * w.size))
    same = laws.sample(*laws.resolve("he(nonlinearity=auto)"), (n, n), np.random.default_rng(4),
                       activation="gelu")
    np.testing.assert_array_equal(w, same)


def test_he_takes_a_number_as_gain():
    w = laws.sample(*laws.resolve("he(gain=2.5)"), (1000, 500), np.random.default_rng(0))
    assert w.std() == pytest.approx(2.5 / math.sqrt(500), abs=6 * 2.5 / math.sqrt(500 * 2e6))


@pytest.mark.parametrize(("spec", "words"), [
    ("he(nonlinearity=gelu)", ["gelu", "auto"]),
    ("he_uniform(nonlinearity=softmax)", ["softmax", "auto"]),
    ("he(gain=2, nonlinearity=relu)", ["gain", "nonlinearity", "not both"]),
    ("he(gain=auto, nonlinearity=tanh)", ["not both"]),
])
def test_he_refuses_a_missing_table_gain_and_two_gains(spec, words):
    with pytest.raises(InitlabError) as err:
        laws.resolve(spec)
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


# ------------------------------------------------------------------------- a deep gelu stack

WIDTH, BATCH, DEPTH = 256, 500, 50


def gelu(z):
    return z * special.ndtr(z)


def stack_stds(spec: str, seed: int, first: str | None = None) -> np.ndarray:
    """Activation std of every layer of a DEPTH-layer gelu stack, weights from ``spec`` (layer 1
    from ``first`` when given), inputs N(0, 1); forward written here."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((WIDTH, BATCH))
    out = []
    for l in range(DEPTH):
        name, params = laws.resolve(first if (first and l == 0) else spec)
        w = laws.sample(name, params, (WIDTH, WIDTH), rng, activation="gelu")
        a = gelu(w @ a)
        out.append(a.std())
    return np.array(out)


def test_one_layer_with_the_auto_gain_keeps_a_unit_second_moment():
    """The defining property, at finite width: unit-second-moment pre-activations z, W from
    he(gain=auto), then W·gelu(z) has second moment 1; with he(gain=1) it has E[gelu²]."""
    n, m = 2000, 2000
    rng = np.random.default_rng(8)
    a = gelu(rng.standard_normal((n, m)))
    for spec, expected in (("he(gain=auto)", 1.0), ("he(gain=1)", 0.42522)):
        w = laws.sample(*laws.resolve(spec), (n, n), rng, activation="gelu")
        second = float(np.mean((w @ a) ** 2))
        # the second moment of a sum over n = 2000 inputs: its spread is that of the row norms
        # of W (relative 1/√(2n/2) per row, averaged over n rows) and of the sample: ≤ 1%
        assert second == pytest.approx(expected, rel=0.01), spec


def test_mean_field_the_auto_gain_is_a_fixed_point_and_gain_one_vanishes():
    """Infinite width (commands.meanfield): layer 1 linear on N(0, 1) inputs (σ_w² = 1), then
    σ_w² = auto gain²: q_l = 1 at every layer, so every activation std is the first's; with gain 1
    it falls by E[gelu²]-ish per layer, below 1e-3 of the first well before layer 50."""
    g2 = fans.auto_gain_squared("gelu")
    stds, _ = meanfield.predicted_stds("gelu", [1.0] + [g2] * (DEPTH - 1), [0.0] * DEPTH, 1.0)
    np.testing.assert_allclose(stds, stds[0], rtol=1e-9)
    stds, _ = meanfield.predicted_stds("gelu", [1.0] * DEPTH, [0.0] * DEPTH, 1.0)
    assert stds[-1] < 1e-3 * stds[0]


def test_the_gelu_fixed_point_is_unstable():
    """Why no finite stack keeps its std within a factor 2 over 50 layers: the map
    q ↦ g²·E[gelu(√q z)²] has slope 1.144 at its fixed point q = 1 (E[gelu(√q z)²]/q grows
    from ¼ to ½ with q), so a deviation grows ×1.144 per layer, ×730 over 49 layers; computed
    here with scipy's quadrature."""
    g2 = 1 / quad_second_moment(PHI["gelu"])
    h = 1e-4
    slope = g2 * (quad_second_moment(PHI["gelu"], 1 + h) - quad_second_moment(PHI["gelu"], 1 - h))
    slope /= 2 * h
    assert slope == pytest.approx(1.144, abs=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_50_layer_gelu_stack_keeps_its_signal_with_auto_and_loses_it_with_gain_one(seed):
    """Width 256, batch 500, layer 1 lecun_normal (gain 1: its inputs are N(0, 1), not gelu
    outputs), then he(gain=auto): no layer's std falls below half the first's (the fixed point
    being unstable, it drifts up instead: finite-width noise through a convex map, see above);
    he(gain=1), the old table gain of gelu, ends below 1e-3 of its first layer."""
    auto = stack_stds("he(gain=auto)", seed, first="lecun_normal")
    assert auto.min() > 0.5 * auto[0], auto
    old = stack_stds("he(gain=1)", seed, first="lecun_normal")
    assert old[-1] < 1e-3 * old[0], old


def test_probe_sees_the_same_through_initlab_commands_probe():
    cfg = config.validate({"depth": DEPTH, "width": WIDTH, "activation": "gelu", "batch": BATCH,
                           "inits": ["he(gain=auto)", "he(gain=1)"], "seeds": [0],
                           "grad_samples": 32}, "probe", config.ProbeConfig)
    auto, old = probe.run(cfg)
    first = auto.layers[0].activation_std
    assert min(layer.activation_std for layer in auto.layers) > 0.5 * first
    assert old.layers[-1].activation_std < 1e-3 * old.layers[0].activation_std
    assert old.forward_ratio < 1e-3
