"""commands.meanfield's phase-diagram theory (Poole et al. 2016, Schoenholz et al. 2017) against
an independent computation written here with scipy.integrate (quad, dblquad) and brentq, relu's
closed forms, and the probe's measured two-input correlation against the c-map at finite width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from initlab.commands import meanfield, probe
from initlab.engine import activations
from initlab.errors import InitlabError
from initlab.experiments import config

from conftest import gauss


def normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def sech2(h: float) -> float:
    return 1.0 - math.tanh(h) ** 2


def gauss2(f, g, q: float, c: float) -> float:
    """E[f(u1)g(u2)], u1 = √q z1, u2 = √q(c z1 + √(1−c²) z2), by scipy's dblquad."""
    s, r = math.sqrt(q), math.sqrt(1.0 - c * c)
    return integrate.dblquad(lambda z2, z1: f(s * z1) * g(s * (c * z1 + r * z2))
                             * normal_pdf(z1) * normal_pdf(z2), -10, 10, -10, 10,
                             epsabs=1e-13, epsrel=1e-11)[0]


def scipy_q_map(sw2: float, sb2: float, q: float) -> float:
    return sw2 * gauss(lambda h: math.tanh(h) ** 2, q) + sb2


def scipy_q_star(sw2: float, sb2: float) -> float:
    """tanh's q* = q_map(q*): the q-map is concave with q_map(0) = σ_b², so one root in
    (σ_b²/2, σ_w² + σ_b² + 1) (q = 0 excluded when σ_b² = 0: then the bracket starts at 1e-3,
    above which q_map(q) > q for σ_w² > 1)."""
    lo = sb2 / 2 if sb2 > 0 else 1e-3
    return optimize.brentq(lambda q: scipy_q_map(sw2, sb2, q) - q, lo, sw2 + sb2 + 1,
                           xtol=1e-15, rtol=1e-14)


def scipy_chi1(sw2: float, q: float) -> float:
    return sw2 * gauss(lambda h: sech2(h) ** 2, q)


# ------------------------------------------------------------------ tanh: the edge of chaos

def test_tanh_without_bias_has_its_edge_of_chaos_at_unit_weight_variance():
    # σ_b² = 0: q = 0 is a fixed point of slope σ_w²·tanh'(0)² = σ_w²; at σ_w² = 1 it is
    # marginal, q* = 0 and χ₁ = σ_w²·E[tanh'(0)²] = 1
    assert meanfield.edge_of_chaos("tanh", 0.0, 0.5, 2.0) == pytest.approx(1.0, abs=1e-6)
    at_edge = meanfield.phase("tanh", 1.0, 0.0)
    assert meanfield.fixed_point("tanh", 1.0, 0.0) == 0.0 and at_edge.q_star == 0.0
    assert at_edge.chi1 == pytest.approx(1.0, abs=1e-9)
    assert at_edge.c_star == 1.0 and at_edge.xi_c > 1e9  # diverges at the edge
    # below it q collapses and χ₁ = σ_w² (the q → 0 limit); above it q* > 0 as scipy has it
    below = meanfield.phase("tanh", 0.9, 0.0)
    assert below.q_star == 0.0 and below.chi1 == pytest.approx(0.9, rel=1e-9)
    # … and the c-map tends to the identity (tanh is linear as q → 0): the correlation freezes
    assert below.chi_c == 1.0 and below.xi_c == math.inf
    assert meanfield.fixed_point("tanh", 1.2, 0.0) == pytest.approx(scipy_q_star(1.2, 0.0),
                                                                    rel=1e-9)


def test_tanh_edge_of_chaos_with_bias_matches_scipy():
    def chi1_minus_one(sw2: float) -> float:
        return scipy_chi1(sw2, scipy_q_star(sw2, 0.05)) - 1.0

    expected = optimize.brentq(chi1_minus_one, 1.0, 3.0, xtol=1e-12)
    assert expected == pytest.approx(1.7609546, abs=1e-6)  # the critical line at σ_b² = 0.05
    assert meanfield.edge_of_chaos("tanh", 0.05, 1.0, 3.0) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("sw2", "sb2"), [(1.5, 0.05), (2.5, 0.2), (0.8, 0.1), (500.0, 0.0)])
def test_tanh_fixed_point_and_chi1_match_scipy(sw2, sb2):
    q_star = scipy_q_star(sw2, sb2)
    got = meanfield.phase("tanh", sw2, sb2)
    assert meanfield.fixed_point("tanh", sw2, sb2) == pytest.approx(q_star, rel=1e-10)
    assert got.q_star == pytest.approx(q_star, rel=1e-10)
    assert got.chi1 == pytest.approx(scipy_chi1(sw2, q_star), rel=1e-9)
    assert meanfield.q_map("tanh", sw2, sb2, 0.7) == pytest.approx(scipy_q_map(sw2, sb2, 0.7),
                                                                   rel=1e-12)


def test_ordered_point_has_c_star_one_and_xi_c_from_chi1():
    # (1.5, 0.05) is below the critical line (σ_w² ≈ 1.761 there): χ₁ ≈ 0.939
    q_star = scipy_q_star(1.5, 0.05)
    chi1 = scipy_chi1(1.5, q_star)
    assert chi1 == pytest.approx(0.9386, abs=1e-4)
    got = meanfield.phase("tanh", 1.5, 0.05)
    assert got.c_star == 1.0 and got.chi_c == got.chi1
    assert got.xi_c == pytest.approx(-1 / math.log(chi1), rel=1e-8)


def test_chaotic_point_c_star_chi_c_and_depth_scales_match_scipy():
    sw2, sb2 = 2.5, 0.2
    q_star = scipy_q_star(sw2, sb2)

    def gap(c: float) -> float:  # scipy's c-map at q* minus c
        return (sw2 * gauss2(math.tanh, math.tanh, q_star, c) + sb2) / q_star - c

    assert gap(0.0) > 0 and gap(0.99) < 0  # one fixed point below 1, reached from c = 0
    c_star = optimize.brentq(gap, 0.0, 0.99, xtol=1e-13)
    chi_c = sw2 * gauss2(sech2, sech2, q_star, c_star)
    got = meanfield.phase("tanh", sw2, sb2)
    assert got.chi1 > 1 and c_star == pytest.approx(0.89000, abs=1e-5)
    assert got.c_star == pytest.approx(c_star, abs=1e-10)
    assert got.chi_c < 1 and got.chi_c == pytest.approx(chi_c, rel=1e-9)
    assert got.xi_c == pytest.approx(-1 / math.log(chi_c), rel=1e-7)
    # ξ_q: the q-map's slope at q*, by a central difference of scipy's q-map, is
    # χ₁ + σ_w²·E[φ''φ]
    step = 1e-4 * q_star
    slope = (scipy_q_map(sw2, sb2, q_star + step) - scipy_q_map(sw2, sb2, q_star - step)) / (
        2 * step)
    assert got.xi_q == pytest.approx(-1 / math.log(slope), rel=1e-6)
    phi2 = gauss(lambda h: -2 * math.tanh(h) ** 2 * sech2(h), q_star)
    assert got.xi_q == pytest.approx(-1 / math.log(scipy_chi1(sw2, q_star) + sw2 * phi2),
                                     rel=1e-9)


@pytest.mark.parametrize(("q", "c"), [(1.3, 0.89), (0.4, 0.3), (4.0, -0.6)])
def test_c_map_and_chi_c_off_the_fixed_point_match_dblquad(q, c):
    sw2, sb2 = 1.7, 0.1
    expected = (sw2 * gauss2(math.tanh, math.tanh, q, c) + sb2) / scipy_q_map(sw2, sb2, q)
    assert meanfield.c_map("tanh", sw2, sb2, q, c) == pytest.approx(expected, rel=1e-10)
    assert meanfield.chi_c("tanh", sw2, q, c) == pytest.approx(
        sw2 * gauss2(sech2, sech2, q, c), rel=1e-10)
    assert meanfield.c_map("tanh", sw2, sb2, q, 1.0) == pytest.approx(1.0, abs=1e-15)


# -------------------------------------------------------------------------------- relu

@pytest.mark.parametrize("sw2", [2.01, 2.5, 3.0, 4.0])
def test_relu_q_grows_without_bound_past_two(sw2):
    # E[relu(√q z)²] = q/2: q_l = (σ_w²/2)^l q_0
    assert meanfield.fixed_point("relu", sw2, 0.0) == math.inf
    got = meanfield.phase("relu", sw2, 0.0)
    assert got.q_star == math.inf and got.chi1 == pytest.approx(sw2 / 2, rel=1e-12)
    assert got.xi_q == math.inf


@pytest.mark.parametrize(("sw2", "sb2", "q_star"), [
    (1.5, 0.0, 0.0), (1.0, 0.0, 0.0), (1.5, 0.1, 0.4), (1.0, 0.3, 0.6), (2.0, 0.1, math.inf)])
def test_relu_fixed_point_and_chi1_in_closed_form(sw2, sb2, q_star):
    # q* = σ_b²/(1 − σ_w²/2) for σ_w² < 2; χ₁ = σ_w²·E[1{z > 0}] = σ_w²/2 whatever q*
    assert meanfield.fixed_point("relu", sw2, sb2) == pytest.approx(q_star, rel=1e-10)
    got = meanfield.phase("relu", sw2, sb2)
    assert got.chi1 == pytest.approx(sw2 / 2, rel=1e-12)
    if sw2 < 2 and sb2 == 0:  # relu is homogeneous: c_l = arc-cosine kernel of c_(l−1),
        # whatever σ_w², with slope 1 at c = 1: c_l → 1 as a power of l, no depth scale
        assert got.c_star == 1.0 and got.chi_c == 1.0 and got.xi_c == math.inf
    elif sw2 < 2:
        assert got.c_star == 1.0 and got.xi_c == pytest.approx(-1 / math.log(sw2 / 2),
                                                               rel=1e-10)
        # relu's φ'' is a Dirac at 0, where φ = 0: the q-map is linear, slope χ₁
        assert got.xi_q == pytest.approx(-1 / math.log(sw2 / 2), rel=1e-10)


@pytest.mark.parametrize("c", [-0.9, 0.0, 0.3, 0.9, 0.99, 0.999999])
@pytest.mark.parametrize("q", [0.5, 3.0, 482.0])
def test_relu_c_map_is_the_arc_cosine_kernel(q, c):
    # Cho & Saul 2009: E[relu(u1)relu(u2)] = q/(2π)(√(1−c²) + (π − arccos c)c) and
    # E[1{u1 > 0}1{u2 > 0}] = (π − arccos c)/(2π)
    kernel = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi
    assert meanfield.c_map("relu", 2.0, 0.0, q, c) == pytest.approx(kernel, abs=1e-13)
    assert meanfield.chi_c("relu", 2.0, q, c) == pytest.approx(
        (math.pi - math.acos(c)) / math.pi, abs=1e-12)


# ------------------------------------------------------------------------ φ'' and inputs

@pytest.mark.parametrize("name", ["tanh", "sigmoid", "selu", "gelu", "gelu_tanh", "relu",
                                  "leaky_relu", "linear"])
def test_second_derivative_is_the_central_difference_of_the_engines_first(name):
    act = activations.get(name)
    h = np.array([-3.1, -1.2, -0.4, 0.3, 0.9, 2.5])  # away from the kinks at 0
    step = 1e-5

    def d1(x: np.ndarray) -> np.ndarray:
        return act.backward(np, x, act.forward(np, x, np.empty_like(x)), np.ones_like(x))

    expected = (d1(h + step) - d1(h - step)) / (2 * step)
    np.testing.assert_allclose(meanfield.second_derivative(name)(h), expected, rtol=1e-7,
                               atol=1e-9)


def test_softmax_has_no_phase():
    with pytest.raises(InitlabError, match="elementwise"):
        meanfield.phase("softmax", 1.0, 0.0)


def test_predicted_correlations_of_a_linear_stack_are_exact():
    # z_l(x1)·z_l(x2) = σ_w²·(previous inner product) + σ_b², lengths likewise
    sw2, sb2, q0, c0 = [2.0, 0.5, 1.5], [0.0, 0.1, 0.2], 0.7, 0.3
    q, q12, expected = q0, c0 * q0, []
    for w, b in zip(sw2, sb2, strict=True):
        q, q12 = w * q + b, w * q12 + b
        expected.append(q12 / q)
    np.testing.assert_allclose(meanfield.predicted_correlations("linear", sw2, sb2, q0, c0),
                               expected, rtol=1e-12)


# ------------------------------------------------- the probe's correlation at finite width

WIDTH, DEPTH, SEEDS = 1000, 14, tuple(range(6))


def probed(sw2: float, sb2: float) -> probe.InitProbe:
    cfg = config.validate({"depth": DEPTH, "width": WIDTH, "activation": "tanh", "batch": 4,
                           "inits": [f"normal(std={math.sqrt(sw2 / WIDTH)!r})"],
                           "bias": f"normal(std={math.sqrt(sb2)!r})", "seeds": list(SEEDS)},
                          "probe", config.ProbeConfig)
    return probe.run(cfg)[0]


def finite_width_band(sw2: float, result: probe.InitProbe) -> np.ndarray:
    """Four standard errors of the seed-averaged measured correlation around the c-map.

    Given layer l − 1, the n units of z_l(x1), z_l(x2) are n independent pairs of centred
    Gaussians of correlation c_l, so their sample cosine is off by (1 − c_l²)/√n (the
    standard error of a correlation, known zero mean); an error δ at layer l − 1 reaches layer l
    times the c-map's slope χ_c(c_(l−1)) (``meanfield.chi_c`` at q*). Hence the variance
    v_l = χ_c² v_(l−1) + (1 − c_l²)²/n per seed, /S over seeds; the lengths q11, q22 fluctuate
    too (±√(2/n) per layer) and feed the c-map, ~20% more spread (12 seeds at the chaotic point:
    up to 0.056 per seed against 0.045 from v_l), hence the factor 1.25; 2/n covers the O(1/n)
    bias of finite width."""
    q_star = result.phase.q_star
    pred = [layer.predicted_correlation for layer in result.layers]
    v, band = 0.0, []
    for l, c in enumerate(pred):
        chi = meanfield.chi_c("tanh", sw2, q_star, pred[l - 1]) if l else 0.0
        v = chi * chi * v + (1 - c * c) ** 2 / WIDTH
        band.append(4 * 1.25 * math.sqrt(v / len(SEEDS)) + 2 / WIDTH)
    return np.array(band)


def test_probe_correlation_goes_to_one_in_the_ordered_phase():
    sw2, sb2 = 0.8, 0.1  # χ₁ ≈ 0.58: ordered, c* = 1, ξ_c ≈ 1.9
    result = probed(sw2, sb2)
    theory = meanfield.phase("tanh", sw2, sb2)
    assert result.phase.c_star == theory.c_star == 1.0
    assert result.phase.chi1 == pytest.approx(theory.chi1, rel=0.01)  # drawn σ_w² ± 0.1%
    measured = np.array([layer.correlation for layer in result.layers])
    predicted = np.array([layer.predicted_correlation for layer in result.layers])
    assert predicted[0] == pytest.approx((sw2 * 0.5 + sb2) / (sw2 + sb2), rel=0.01)  # c_1
    assert np.all(np.diff(predicted) > 0) and predicted[-1] > 0.999
    band = finite_width_band(sw2, result)
    assert band[-1] < 0.003 < band[1] < 0.05  # the band narrows as c → 1
    np.testing.assert_array_less(np.abs(measured - predicted), band)
    assert measured[-1] > 0.997


def test_measured_correlation_settles_where_the_c_map_does_in_the_ordered_phase():
    # χ₁ ≈ 0.58, ξ_c ≈ 1.9: c_l → 1 as 1 − c_l ~ e^(−l/ξ_c), within 1e-3 of 1 by layer ~12;
    # the measured curve (6 seeds × 1000 units) settles there too, give or take noise
    cfg = config.validate({"depth": 30, "width": WIDTH, "activation": "tanh", "batch": 4,
                           "inits": [f"normal(std={math.sqrt(0.8 / WIDTH)!r})"],
                           "bias": f"normal(std={math.sqrt(0.1)!r})", "seeds": list(SEEDS)},
                          "probe", config.ProbeConfig)
    result = probe.run(cfg)[0]
    predicted = [layer.predicted_correlation for layer in result.layers]
    expected = probe.settling_depth(predicted, relative=False)
    assert expected is not None and 8 <= expected <= 16
    assert result.depth_c is not None and abs(result.depth_c - expected) <= 2


def test_settling_depth_of_a_noisy_exponential_decay():
    # v_l = c* + 0.5·e^(−l/ξ) + noise: within tol = max(1e-3, 3σ) of c* once 0.5·e^(−l/ξ) < tol
    # (later with noise), i.e. l ≈ ξ·ln(0.5/tol); a value still drifting (the std of a
    # vanishing tanh signal, ~1/√l) is not settled
    rng = np.random.default_rng(0)
    layers = np.arange(1, 101)
    for xi, noise in ((3.0, 0.0), (5.0, 0.01), (10.0, 0.003)):
        v = 0.3 + 0.5 * np.exp(-layers / xi) + noise * rng.standard_normal(layers.size)
        tol = max(probe.CONVERGED, probe.NOISE_SIGMAS * noise)
        found = probe.settling_depth(list(v), relative=False)
        assert found is not None
        # noise delays it: the last layers in tol need their noise-free gap below tol − 2σ
        assert xi * math.log(0.5 / tol) - 2 <= found <= xi * math.log(0.5 / (tol - 2 * noise)) + 2
    assert probe.settling_depth(list(1.0 / np.sqrt(layers)), relative=True) is None  # drifts
    assert probe.settling_depth([0.5, 0.5, None, 0.5, 0.5, 0.5], relative=False) is None
    assert probe.settling_depth([0.5] * 8, relative=False) == 1


def test_probe_correlation_goes_to_c_star_below_one_in_the_chaotic_phase():
    sw2, sb2 = 8.0, 0.5  # χ₁ ≈ 1.68: chaotic, c* ≈ 0.335 < c0 = 0.5, ξ_c ≈ 4.0
    result = probed(sw2, sb2)
    theory = meanfield.phase("tanh", sw2, sb2)
    assert theory.c_star == pytest.approx(0.3353, abs=1e-3)
    assert result.phase.c_star == pytest.approx(theory.c_star, abs=0.01)
    measured = np.array([layer.correlation for layer in result.layers])
    predicted = np.array([layer.predicted_correlation for layer in result.layers])
    assert abs(predicted[-1] - theory.c_star) < 0.01  # 14 layers ≈ 3.5 ξ_c
    band = finite_width_band(sw2, result)
    assert np.all(band < 0.1)
    np.testing.assert_array_less(np.abs(measured - predicted), band)
    # the deep layers sit at c*, far from both c0 and 1
    deep = measured[DEPTH // 2:].mean()
    assert abs(deep - theory.c_star) < 0.05 and deep < 0.45


def test_edge_of_chaos_outside_the_interval_is_one_line():
    with pytest.raises(InitlabError, match="widen the interval") as err:
        meanfield.edge_of_chaos("tanh", 0.05, 0.5, 1.5)  # the edge is at 1.761
    assert "\n" not in str(err.value)


def test_probe_json_keeps_the_phase_and_report_reads_it_back(tmp_path):
    import json

    from initlab.commands import report

    from conftest import run_cli

    ran = run_cli(tmp_path, "probe", "--inits", "normal(std=0.1)", "--depth", "4", "--width",
                  "32", "--out", "OUT")
    assert ran.returncode == 0, ran.explain()
    saved = json.loads((tmp_path / "OUT" / "probe.json").read_text())["summary"][0]
    assert set(saved["phase"]) == {"q_star", "c_star", "chi1", "chi_c", "xi_q", "xi_c"}
    assert "depth_q" in saved and "depth_c" in saved
    back = report.load(tmp_path / "OUT").probe[0]
    assert back.phase.chi1 == saved["phase"]["chi1"]
    assert (back.depth_q, back.depth_c) == (saved["depth_q"], saved["depth_c"])
