"""commands.meanfield: the mean-field predictions against exact propagation and adaptive
quadrature (scipy.integrate), including the saturated regime where Gauss–Hermite fails."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.commands import meanfield

from conftest import gauss


def test_predicted_linear_is_exact_variance_propagation():
    sw2, sb2, q0 = [2.0, 0.5, 1.5, 3.0], [0.0, 0.1, 0.0, 0.2], 0.7
    act_std, grad_std = meanfield.predicted_stds("linear", sw2, sb2, q0)
    q, expected = q0, []
    for w, b in zip(sw2, sb2, strict=True):
        q = w * q + b
        expected.append(math.sqrt(q))
    np.testing.assert_allclose(act_std, expected, rtol=1e-12)
    np.testing.assert_allclose(grad_std, np.sqrt([0.5 * 1.5 * 3.0, 1.5 * 3.0, 3.0, 1.0]),
                               rtol=1e-12)
    no_bias = meanfield.predicted_stds("linear", [2.0] * 5, [0.0] * 5, 1.0)[0]
    np.testing.assert_allclose(no_bias, np.sqrt(2.0 ** np.arange(1, 6)), rtol=1e-12)


def test_predicted_relu_uses_half_the_variance():
    sw2, q0 = [2.0, 3.0, 1.0], 1.3
    act_std, grad_std = meanfield.predicted_stds("relu", sw2, [0.0] * 3, q0)
    q1 = 2.0 * q0
    q2 = 3.0 * q1 / 2  # E[relu(√q z)²] = q/2
    q3 = 1.0 * q2 / 2
    var = [q * (0.5 - 1 / (2 * math.pi)) for q in (q1, q2, q3)]  # E[relu]² = q/(2π)
    np.testing.assert_allclose(act_std, np.sqrt(var), rtol=1e-10)
    np.testing.assert_allclose(grad_std, np.sqrt([3.0 / 2 * 1.0 / 2, 1.0 / 2, 1.0]), rtol=1e-10)


def sech(h: float) -> float:
    return 2 * math.exp(-abs(h)) / (1 + math.exp(-2 * abs(h)))


@pytest.mark.parametrize("q", [0.01, 1.0, 482.0, 1e5])
def test_predicted_tanh_matches_adaptive_quadrature_even_when_saturated(q):
    # σ_w² = q in both layers, q0 = 1: q_1 = q, q_2 = q·E[tanh²]; at q = 482 this is the
    # article's saturated case, where 101-node Gauss–Hermite gives E[sech⁴] = 0.124 (true 0.024)
    second = gauss(lambda h: math.tanh(h) ** 2, q)  # tanh is odd: E[tanh] = 0
    q2 = q * second
    act_std, grad_std = meanfield.predicted_stds("tanh", [q, q], [0.0, 0.0], 1.0)
    assert act_std[0] == pytest.approx(math.sqrt(second), rel=1e-7)
    assert act_std[1] == pytest.approx(math.sqrt(gauss(lambda h: math.tanh(h) ** 2, q2)),
                                       rel=1e-7)
    assert grad_std[0] == pytest.approx(math.sqrt(q * gauss(lambda h: sech(h) ** 4, q2)),
                                        rel=1e-7)
    assert grad_std[1] == 1.0


def test_predicted_width_ratio_scales_the_gradient():
    _, grad_std = meanfield.predicted_stds("linear", [1.0, 1.0], [0.0, 0.0], 1.0, widths=[100, 400])
    assert grad_std == pytest.approx([2.0, 1.0])


