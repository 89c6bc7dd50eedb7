"""Finite-difference checks of nn.forward/nn.backward, activation and loss formulas, and the
independence of the experiment axis. Every expected value is computed here, independently."""

import math
import zlib

import numpy as np
import pytest
import scipy.special

from initlab.engine import activations, losses, nn

E = 3  # experiments, each with its own random weights
H = 1e-6  # central-difference step
RTOL, ATOL = 1e-6, 1e-8  # ATOL ~ 50× the rounding noise eps·|cost|/h of a central difference
KINK = 1e-4  # no pre-activation closer than this to 0 (relu / leaky_relu / selu kinks)

# Independent constants (Klambauer et al. 2017; Hendrycks & Gimpel 2016).
LAMBDA = 1.0507009873554804934193349852946
ALPHA = 1.6732632423543772848170429916717

HIDDEN = ["linear", "relu", {"name": "leaky_relu", "slope": 0.2}, "tanh", "sigmoid", "selu",
          "gelu", "gelu_tanh"]
HIDDEN_IDS = ["linear", "relu", "leaky_relu0.2", "tanh", "sigmoid", "selu", "gelu", "gelu_tanh"]

# (output activation, loss, output units): every loss with every output it fits.
OUTPUTS = [("sigmoid", "bce", 2), ("softmax", "softmax_ce", 3)] + [
    (act, "quadratic", 2) for act in HIDDEN]
OUTPUT_IDS = ["sigmoid-bce", "softmax-softmax_ce"] + [f"{i}-quadratic" for i in HIDDEN_IDS]


# ----------------------------------------------------------------------------- independent math

def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_softmax(z):  # over units, axis −2
    e = np.exp(z - z.max(axis=-2, keepdims=True))
    return e / e.sum(axis=-2, keepdims=True)


REFERENCE = {
    "linear": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "tanh": np.tanh,
    "sigmoid": np_sigmoid,
    "selu": lambda z: np.where(z > 0, LAMBDA * z, LAMBDA * ALPHA * (np.exp(z) - 1.0)),
    "gelu": lambda z: 0.5 * z * (1.0 + scipy.special.erf(z / math.sqrt(2.0))),
    "gelu_tanh": lambda z: 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi)
                                                    * (z + 0.044715 * z**3))),
    "softmax": np_softmax,
}


def name_of(spec):
    return spec["name"] if isinstance(spec, dict) else spec


# ----------------------------------------------------------------------------- helpers

def make_net(hidden, out_act, loss, n_out, bias, layers_in=(3, 4, 3)):
    layers = (*layers_in, n_out)
    acts = tuple(activations.get(hidden) for _ in layers_in[1:]) + (activations.get(out_act),)
    net = nn.Network(layers, acts, losses.get(loss), bias)
    net.loss.check_output(net.activations[-1], n_out)
    return net


def targets(loss, n_out, m, rng):
    if loss == "bce":
        return rng.integers(0, 2, size=(n_out, m)).astype(np.float64)
    if loss == "softmax_ce":
        return np.eye(n_out)[:, rng.integers(0, n_out, size=m)]
    return rng.normal(0.0, 0.7, size=(n_out, m))


def run_forward(net, p, X):
    ws = nn.Workspace(np, net, p.n_exp, X.shape[-1], np.float64)
    nn.forward(np, net, p, X, ws)
    return ws


def cost_of(net, p, X, Y):
    ws = run_forward(net, p, X)
    return np.array(nn.cost(net, np, ws, Y), dtype=np.float64)


def analytic_grads(net, p, X, Y):
    ws = run_forward(net, p, X)
    g = nn.ParamStore(np, net, p.n_exp, np.float64)
    nn.backward(np, net, p, Y, ws, g)
    return g


def experiment_of_each_entry(net, n_exp):
    """Flat index → experiment, built by writing e into slice e of every array."""
    tag = nn.ParamStore(np, net, n_exp, np.float64)
    for arr in tag.arrays():
        arr[...] = np.arange(n_exp).reshape((n_exp,) + (1,) * (arr.ndim - 1))
    return tag.flat.astype(int)


def random_store(net, rng, n_exp=E, scale=1.0):
    """Random float64 weights (different per experiment) and biases, no |z| < KINK anywhere."""
    X = rng.normal(size=(net.layers[0], 5))
    for _ in range(200):
        p = nn.ParamStore(np, net, n_exp, np.float64)
        for l, (w, n_in) in enumerate(zip(p.W, net.layers[:-1], strict=True)):
            w[...] = rng.normal(0.0, scale * 1.3 / math.sqrt(n_in), size=w.shape)
            if net.bias:
                p.b[l][...] = rng.normal(0.0, 0.4, size=p.b[l].shape)
        ws = run_forward(net, p, X)
        if all(np.abs(z).min() >= KINK for z in ws.z):
            return p, X
    raise AssertionError("could not draw parameters away from the kinks")


def finite_difference(net, p, X, Y):
    owner = experiment_of_each_entry(net, p.n_exp)
    fd = np.empty_like(p.flat)
    base = cost_of(net, p, X, Y)
    for j in range(p.flat.size):
        old = p.flat[j]
        p.flat[j] = old + H
        plus = cost_of(net, p, X, Y)
        p.flat[j] = old - H
        minus = cost_of(net, p, X, Y)
        p.flat[j] = old
        e = owner[j]
        fd[j] = (plus[e] - minus[e]) / (2 * H)
        others = np.arange(p.n_exp) != e  # a parameter of slice e moves only cost[e]
        np.testing.assert_array_equal(plus[others], base[others])
        np.testing.assert_array_equal(minus[others], base[others])
    return fd


# ----------------------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize(("out_act", "loss", "n_out"), OUTPUTS, ids=OUTPUT_IDS)
@pytest.mark.parametrize("hidden", HIDDEN, ids=HIDDEN_IDS)
def test_backward_matches_central_differences(hidden, out_act, loss, n_out, bias):
    rng = np.random.default_rng(zlib.crc32(f"{hidden}{out_act}{loss}{bias}".encode()))
    net = make_net(hidden, out_act, loss, n_out, bias)
    p, X = random_store(net, rng)
    Y = targets(loss, n_out, X.shape[-1], rng)
    # the experiments really are different networks
    assert not np.allclose(p.W[0][0], p.W[0][1]) and not np.allclose(p.W[0][1], p.W[0][2])
    g = analytic_grads(net, p, X, Y)
    fd = finite_difference(net, p, X, Y)
    assert np.abs(fd).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(g.flat, fd, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_gradient_check_on_a_deeper_mixed_network(bias):
    """Different activations per layer, so a layer-index mix-up in backward shows."""
    specs = ["tanh", "relu", {"name": "leaky_relu", "slope": 0.2}, "gelu", "selu", "softmax"]
    layers = (4, 5, 4, 4, 3, 3, 3)
    net = nn.Network(layers, tuple(activations.get(s) for s in specs), losses.get("softmax_ce"),
                     bias)
    rng = np.random.default_rng(7)
    p, X = random_store(net, rng)
    Y = targets("softmax_ce", 3, X.shape[-1], rng)
    g = analytic_grads(net, p, X, Y)
    fd = finite_difference(net, p, X, Y)
    np.testing.assert_allclose(g.flat, fd, rtol=RTOL, atol=ATOL)


def test_gradient_check_bias_flag_changes_parameter_count():
    on = make_net("tanh", "sigmoid", "bce", 2, True)
    off = make_net("tanh", "sigmoid", "bce", 2, False)
    n_on = sum(o * i + o for i, o in zip(on.layers[:-1], on.layers[1:], strict=True))
    n_off = sum(o * i for i, o in zip(off.layers[:-1], off.layers[1:], strict=True))
    assert nn.ParamStore(np, on, E, np.float64).flat.size == E * n_on
    assert nn.ParamStore(np, off, E, np.float64).flat.size == E * n_off


# ----------------------------------------------------------------------------- activations

ACT_SPECS = HIDDEN + ["softmax"]
ACT_IDS = HIDDEN_IDS + ["softmax"]


@pytest.mark.parametrize("spec", ACT_SPECS, ids=ACT_IDS)
def test_activation_forward_matches_numpy_formula(spec):
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 3, size=(2, 4, 7)),
                        np.linspace(-6, 6, 2 * 4 * 5).reshape(2, 4, 5)], axis=-1)
    out = np.empty_like(z)
    got = activations.get(spec).forward(np, z.copy(), out)
    np.testing.assert_allclose(got, REFERENCE[name_of(spec)](z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, REFERENCE[name_of(spec)](z), rtol=1e-12, atol=1e-15)


def test_activation_forward_spot_values():
    """A few values worked out by hand."""
    z = np.array([[[-2.0, -0.5, 0.5, 3.0]]])

    def fwd(spec):
        return activations.get(spec).forward(np, z, np.empty_like(z))[0, 0]

    np.testing.assert_allclose(fwd("relu"), [0, 0, 0.5, 3.0])
    np.testing.assert_allclose(fwd({"name": "leaky_relu", "slope": 0.2}), [-0.4, -0.1, 0.5, 3.0])
    np.testing.assert_allclose(fwd("leaky_relu"), [-0.02, -0.005, 0.5, 3.0])  # default 0.01
    np.testing.assert_allclose(fwd("sigmoid")[2], 0.6224593312018546, rtol=1e-15)
    np.testing.assert_allclose(fwd("selu")[3], 3.0 * LAMBDA, rtol=1e-15)
    np.testing.assert_allclose(fwd("selu")[0], LAMBDA * ALPHA * (math.exp(-2.0) - 1), rtol=1e-14)
    # gelu at 1: exact Φ(1) = ½(1 + erf(1/√2)); gelu_tanh: ½(1 + tanh(√(2/π)·1.044715))
    one = np.array([[[1.0]]])
    gelu1 = activations.get("gelu").forward(np, one, np.empty_like(one))[0, 0, 0]
    tanh1 = activations.get("gelu_tanh").forward(np, one, np.empty_like(one))[0, 0, 0]
    assert gelu1 == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), rel=1e-15)
    assert tanh1 == pytest.approx(0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715)),
                                  rel=1e-15)
    assert gelu1 != pytest.approx(tanh1, rel=1e-6)


@pytest.mark.parametrize("spec", HIDDEN, ids=HIDDEN_IDS)
def test_activation_backward_matches_derivative_of_reference(spec):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2.5, size=(2, 3, 40))
    z[np.abs(z) < 1e-3] = 0.5
    ref = REFERENCE[name_of(spec)]
    h = 1e-6
    deriv = (ref(z + h) - ref(z - h)) / (2 * h)
    act = activations.get(spec)
    a = act.forward(np, z, np.empty_like(z))
    da = rng.normal(size=z.shape)
    expected = da * deriv
    got = act.backward(np, z, a, da.copy())
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- losses

def loss_cost(name, z, y, act):
    with np.errstate(over="ignore"):  # σ(−1000) = 1/(1 + e^1000) = 0 exactly, by design
        a = activations.get(act).forward(np, z, np.empty_like(z))
    return np.asarray(losses.get(name).cost(np, z, a, y))


def test_bce_equals_textbook_formula_for_moderate_logits():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, size=(E, 2, 9))
    y = rng.integers(0, 2, size=(2, 9)).astype(float)
    s = np_sigmoid(z)
    expected = -(y * np.log(s) + (1 - y) * np.log(1 - s)).sum(axis=1).mean(axis=-1)
    np.testing.assert_allclose(loss_cost("bce", z, y, "sigmoid"), expected, rtol=1e-12)


def test_bce_with_soft_targets_equals_textbook_formula():
    z = np.array([[[0.3, -1.2, 2.0]]])
    y = np.array([[0.25, 0.5, 0.9]])
    s = np_sigmoid(z)
    expected = -(y * np.log(s) + (1 - y) * np.log(1 - s)).sum(axis=1).mean(axis=-1)
    np.testing.assert_allclose(loss_cost("bce", z, y, "sigmoid"), expected, rtol=1e-12)


def test_softmax_ce_equals_textbook_formula_for_moderate_logits():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, size=(E, 4, 9))
    y = np.eye(4)[:, rng.integers(0, 4, size=9)]
    expected = -(y * np.log(np_softmax(z))).sum(axis=1).mean(axis=-1)
    np.testing.assert_allclose(loss_cost("softmax_ce", z, y, "softmax"), expected, rtol=1e-12)


def test_quadratic_equals_textbook_formula():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(E, 3, 6))
    y = rng.normal(size=(3, 6))
    expected = (0.5 * (np.tanh(z) - y) ** 2).sum(axis=1).mean(axis=-1)
    np.testing.assert_allclose(loss_cost("quadratic", z, y, "tanh"), expected, rtol=1e-12)


def test_bce_is_finite_and_exact_for_logits_of_1000():
    # columns: (z, y) = (1000, 1), (1000, 0), (−1000, 1), (−1000, 0)
    z = np.array([[[1000.0, 1000.0, -1000.0, -1000.0]]])
    y = np.array([[1.0, 0.0, 1.0, 0.0]])
    # −log σ(1000) ≈ e^−1000 ≈ 0, −log(1 − σ(1000)) = 1000 + log(1 + e^−1000) = 1000, etc.
    per_sample = np.array([0.0, 1000.0, 1000.0, 0.0])
    got = loss_cost("bce", z, y, "sigmoid")
    assert np.all(np.isfinite(got))
    assert got[0] == pytest.approx(per_sample.mean(), rel=1e-15)


def test_softmax_ce_is_finite_and_exact_for_logits_of_1000():
    z = np.array([[[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, 0.0]]])  # 3 classes, 2 samples
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # sample 0: logsumexp = 1000, target logit −1000 → 2000; sample 1: 1000 − 0 = 1000
    got = loss_cost("softmax_ce", z, y, "softmax")
    assert np.all(np.isfinite(got))
    assert got[0] == pytest.approx((2000.0 + 1000.0) / 2, rel=1e-15)


@pytest.mark.parametrize(("out_act", "loss", "n_out"),
                         [("sigmoid", "bce", 1), ("softmax", "softmax_ce", 2)])
def test_huge_logits_through_the_network_give_finite_cost_and_gradients(out_act, loss, n_out):
    net = nn.Network((1, n_out), (activations.get(out_act),), losses.get(loss), True)
    p = nn.ParamStore(np, net, 2, np.float64)
    p.W[0][...] = 1000.0 * np.array([1.0, -1.0][:n_out])[None, :, None] * np.array(
        [1.0, -1.0])[:, None, None]
    X = np.array([[1.0, -1.0]])
    Y = np.array([[0.0, 1.0]]) if n_out == 1 else np.array([[0.0, 1.0], [1.0, 0.0]])
    with np.errstate(over="ignore"):
        ws = run_forward(net, p, X)
    assert np.abs(ws.z[-1]).max() == 1000.0
    c = np.asarray(nn.cost(net, np, ws, Y))
    assert np.all(np.isfinite(c)) and c.max() >= 999.0
    with np.errstate(over="ignore"):
        g = analytic_grads(net, p, X, Y)
    assert np.all(np.isfinite(g.flat))


# ----------------------------------------------------------------------------- experiment axis

INDEPENDENCE_CASES = [("tanh", "sigmoid", "bce", 2), ("relu", "softmax", "softmax_ce", 3),
                      ("gelu", "linear", "quadratic", 2)]


@pytest.mark.parametrize("e", range(E))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize(("hidden", "out_act", "loss", "n_out"), INDEPENDENCE_CASES,
                         ids=[c[1] + "-" + c[2] for c in INDEPENDENCE_CASES])
def test_perturbing_one_experiment_changes_only_its_slice(hidden, out_act, loss, n_out, bias, e):
    rng = np.random.default_rng(11 + e)
    net = make_net(hidden, out_act, loss, n_out, bias)
    p, X = random_store(net, rng)
    Y = targets(loss, n_out, X.shape[-1], rng)
    c0 = cost_of(net, p, X, Y)
    g0 = {k: v.copy() for k, v in zip(p.names(), analytic_grads(net, p, X, Y).arrays(),
                                      strict=True)}
    for arr in p.arrays():
        arr[e] += rng.normal(0, 0.3, size=arr[e].shape)
    c1 = cost_of(net, p, X, Y)
    g1 = dict(zip(p.names(), analytic_grads(net, p, X, Y).arrays(), strict=True))
    others = [i for i in range(E) if i != e]
    np.testing.assert_array_equal(c1[others], c0[others])
    assert c1[e] != c0[e]
    for k in g0:
        np.testing.assert_array_equal(g1[k][others], g0[k][others])
    assert any(not np.allclose(g1[k][e], g0[k][e]) for k in g0)


def test_each_slice_equals_a_single_experiment_network():
    """Slice e of a batched run equals the same network run alone (E = 1)."""
    rng = np.random.default_rng(12)
    net = make_net("selu", "softmax", "softmax_ce", 3, True)
    p, X = random_store(net, rng)
    Y = targets("softmax_ce", 3, X.shape[-1], rng)
    c = cost_of(net, p, X, Y)
    g = analytic_grads(net, p, X, Y).to_host()
    for e in range(E):
        one = nn.ParamStore(np, net, 1, np.float64)
        one.load({k: v[e:e + 1] for k, v in p.to_host().items()})
        np.testing.assert_allclose(cost_of(net, one, X, Y), c[e:e + 1], rtol=1e-14)
        ge = analytic_grads(net, one, X, Y).to_host()
        for k in g:
            np.testing.assert_allclose(ge[k][0], g[k][e], rtol=1e-13, atol=1e-16)


def test_reused_workspace_follows_new_inputs():
    """One Workspace used for two different X arrays gives each its own result."""
    rng = np.random.default_rng(13)
    net = make_net("tanh", "sigmoid", "bce", 2, True)
    p, X1 = random_store(net, rng)
    X2 = rng.normal(size=X1.shape)
    Y = targets("bce", 2, X1.shape[-1], rng)
    ws = nn.Workspace(np, net, E, X1.shape[-1], np.float64)
    for X in (X1, X2, X1):
        nn.forward(np, net, p, X, ws)
        np.testing.assert_array_equal(nn.cost(net, np, ws, Y), cost_of(net, p, X, Y))
        a = X
        for l, act in enumerate(net.activations):  # independent forward, slice by slice
            z = p.W[l] @ a + p.b[l][:, :, None]
            a = REFERENCE[act.name](z)
        np.testing.assert_allclose(ws.a[-1], a, rtol=1e-13)
