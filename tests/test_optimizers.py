"""engine.optimizers: every update rule against its hand-written formula."""


import numpy as np
import pytest

from initlab.engine import optimizers
from initlab.experiments.config import TrainSection

N = 37  # flat buffer length
STEPS = 8


def grad_sequence(seed, scale=1.0, steps=STEPS):
    rng = np.random.default_rng(seed)
    g = [scale * (rng.normal(size=N) + 0.3) for _ in range(steps)]
    for gi in g:
        gi[:3] = 0.0  # exact zero gradients
    return g


# ----------------------------------------------------------------------------- update rules

def test_gd_matches_hand_formula_over_steps():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=N)
    ref = theta.copy()
    lr = 0.07
    opt = optimizers.Optimizer(np, theta, lr)
    for g in grad_sequence(1):
        opt.step(theta, g)
        ref = ref - lr * g
        np.testing.assert_allclose(theta, ref, rtol=1e-15, atol=0)


def test_momentum_matches_hand_formula_over_steps():
    rng = np.random.default_rng(2)
    theta = rng.normal(size=N)
    ref, v = theta.copy(), np.zeros(N)
    lr, mu = 0.05, 0.8
    opt = optimizers.Momentum(np, theta, lr, mu)
    for g in grad_sequence(3):
        opt.step(theta, g)
        v = mu * v + g
        ref = ref - lr * v
        np.testing.assert_allclose(theta, ref, rtol=1e-14, atol=1e-15)


def test_momentum_first_step_is_plain_gd_and_second_accumulates():
    theta = np.array([1.0, -2.0])
    opt = optimizers.Momentum(np, theta, 0.1, 0.5)
    opt.step(theta, np.array([1.0, 1.0]))
    np.testing.assert_allclose(theta, [0.9, -2.1], rtol=1e-15)
    opt.step(theta, np.array([1.0, -2.0]))  # v = 0.5·[1, 1] + [1, −2] = [1.5, −1.5]
    np.testing.assert_allclose(theta, [0.75, -1.95], rtol=1e-15)


def textbook_adam_updates(grads, lr, b1, b2, eps):
    """θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ); returns each step's Δθ."""
    m, v, out = np.zeros(N), np.zeros(N), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        out.append(-lr * m_hat / (np.sqrt(v_hat) + eps))
    return out


@pytest.mark.parametrize(("scale", "b1", "b2", "eps"), [
    (1.0, 0.9, 0.999, 1e-8),  # the defaults, gradients ≫ ε
    (1e-8, 0.9, 0.999, 1e-8),  # gradients ~ ε: the ε term (and its correction) matters
    (1e-3, 0.5, 0.9, 1e-3),
    (3.0, 0.0, 0.0, 1e-8),  # β = 0: sign-like steps lr·g/(|g| + ε)
])
def test_adam_steps_equal_textbook_bias_corrected_form(scale, b1, b2, eps):
    """Each step's update, read from a fresh zero θ (0 − Δ is exact), equals the textbook form."""
    lr = 0.01
    grads = grad_sequence(4, scale)
    opt = optimizers.Adam(np, np.zeros(N), lr, b1, b2, eps)
    for t, (g, expected) in enumerate(
            zip(grads, textbook_adam_updates(grads, lr, b1, b2, eps), strict=True), start=1):
        delta = np.zeros(N)
        opt.step(delta, g)
        np.testing.assert_allclose(delta, expected, rtol=1e-12, atol=0, err_msg=f"step {t}")
    assert np.all(delta[:3] == 0.0) and np.abs(delta).max() > 0


def test_adam_in_place_on_theta_over_steps():
    rng = np.random.default_rng(5)
    theta = rng.normal(size=N)
    theta0 = theta.copy()
    grads = grad_sequence(6)
    opt = optimizers.Adam(np, theta, 0.02, 0.9, 0.999, 1e-8)
    for g in grads:
        opt.step(theta, g)
    expected = theta0 + np.sum(textbook_adam_updates(grads, 0.02, 0.9, 0.999, 1e-8), axis=0)
    np.testing.assert_allclose(theta, expected, rtol=1e-13, atol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    """Step 1: m̂ = g, v̂ = g², so Δθ = −lr·g/(|g| + ε) ≈ −lr·sign(g)."""
    theta = np.zeros(3)
    optimizers.Adam(np, theta, 0.1, 0.9, 0.999, 1e-8).step(theta, np.array([2.0, -0.5, 0.0]))
    np.testing.assert_allclose(theta, [-0.1 * 2 / (2 + 1e-8), 0.1 * 0.5 / (0.5 + 1e-8), 0.0],
                               rtol=1e-14)


def test_make_picks_the_rule_and_its_hyperparameters():
    flat = np.zeros(4)
    ts = TrainSection(epochs=1, lr=0.3, optimizer="momentum", momentum=0.7)
    opt = optimizers.make(np, flat, ts)
    assert isinstance(opt, optimizers.Momentum) and opt.lr == 0.3 and opt.mu == 0.7
    ts = TrainSection(epochs=1, lr=0.2, optimizer="adam", beta1=0.8, beta2=0.99, eps=1e-6)
    opt = optimizers.make(np, flat, ts)
    assert isinstance(opt, optimizers.Adam)
    assert (opt.lr, opt.b1, opt.b2, opt.eps) == (0.2, 0.8, 0.99, 1e-6)
    for name in ("gd", "sgd"):
        opt = optimizers.make(np, flat, TrainSection(epochs=1, lr=0.5, optimizer=name))
        assert type(opt) is optimizers.Optimizer and opt.lr == 0.5
