"""engine.train, the loop every command trains with: mini-batches, logging and divergence
against tiny hand-written loops."""

import math

import numpy as np
import pytest

from initlab.engine import activations, losses, nn, train
from initlab.experiments.config import TrainSection

# ----------------------------------------------------------------------------- fit: helpers

def linear_regression_net(bias=True):
    return nn.Network((2, 1), (activations.get("linear"),), losses.get("quadratic"), bias)


def regression_data(m, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([np.arange(m, dtype=float), rng.normal(size=m)])  # row 0 = sample id
    Y = 10.0 * np.arange(m, dtype=float)[None, :] + 1000.0  # Y identifies the sample too
    return X, Y


def tanh_net():
    net = nn.Network((2, 4, 1), (activations.get("tanh"), activations.get("sigmoid")),
                     losses.get("bce"), True)
    return net


def tanh_store(net, n_exp=2, seed=0):
    rng = np.random.default_rng(seed)
    p = nn.ParamStore(np, net, n_exp, np.float64)
    p.flat[:] = rng.normal(0, 0.8, size=p.flat.size)
    return p


def tanh_data(m=10, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


# ----------------------------------------------------------------------------- fit: mini-batches

@pytest.mark.parametrize(("m", "batch", "expected"),
                         [(10, 4, 3), (12, 4, 3), (13, 4, 4), (10, 1, 10), (10, 10, 1),
                          (10, 64, 1), (10, None, 1)])
def test_iterations_per_epoch_is_ceil(m, batch, expected):
    assert expected == (1 if batch is None else max(1, math.ceil(m / batch)))
    assert train.iterations_per_epoch(m, batch) == expected


def record_batches(monkeypatch):
    seen = []
    real = nn.backward

    def spy(xp, net, p, Y, ws, grads):
        seen.append((np.array(ws.x[0]), np.array(Y[0])))
        return real(xp, net, p, Y, ws, grads)

    monkeypatch.setattr(nn, "backward", spy)
    return seen


@pytest.mark.parametrize(("m", "batch"), [(10, 4), (12, 3), (7, 7), (9, 2)])
def test_sgd_visits_every_sample_once_per_epoch(monkeypatch, m, batch):
    seen = record_batches(monkeypatch)
    net = linear_regression_net()
    p = nn.ParamStore(np, net, 2, np.float64)
    X, Y = regression_data(m)
    epochs = 4
    hist = train.fit(np, net, p, X, Y, TrainSection(epochs=epochs, lr=1e-6, optimizer="sgd",
                                                    batch_size=batch, log_every=1000))
    per_epoch = math.ceil(m / batch)
    assert hist.n_iterations == hist.planned_iterations == epochs * per_epoch
    assert len(seen) == epochs * per_epoch
    orders = []
    for k in range(epochs):
        chunk = seen[k * per_epoch:(k + 1) * per_epoch]
        sizes = [len(ids) for ids, _ in chunk]
        assert sizes == [batch] * (m // batch) + ([m % batch] if m % batch else [])
        ids = np.concatenate([ids for ids, _ in chunk])
        ys = np.concatenate([ys for _, ys in chunk])
        assert sorted(ids.tolist()) == list(range(m))  # every sample exactly once
        np.testing.assert_array_equal(ys, 10.0 * ids + 1000.0)  # targets follow their samples
        orders.append(ids.tolist())
    if per_epoch > 1:
        assert len({tuple(o) for o in orders}) > 1  # shuffled anew each epoch


def test_sgd_is_reproducible_with_data_seed():
    net = tanh_net()
    X, Y = tanh_data(m=23)

    def run(seed):
        p = tanh_store(net)
        train.fit(np, net, p, X, Y, TrainSection(epochs=5, lr=0.5, optimizer="sgd",
                                                 batch_size=4, data_seed=seed, log_every=3))
        return p.flat.copy()

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, tanh_store(net).flat)  # it trained


def test_sgd_matches_hand_written_minibatch_loop():
    """Plain SGD on linear regression, same batch order as a PCG64(data_seed) permutation."""
    net = linear_regression_net()
    X, Y = regression_data(10)
    X = X / 10.0
    Y = Y / 1000.0
    p = nn.ParamStore(np, net, 1, np.float64)
    p.W[0][...] = [[[0.3, -0.2]]]
    p.b[0][...] = [[0.1]]
    lr, batch, epochs, seed = 0.1, 4, 3, 5
    train.fit(np, net, p, X, Y, TrainSection(epochs=epochs, lr=lr, optimizer="sgd",
                                             batch_size=batch, data_seed=seed))
    w, b = np.array([0.3, -0.2]), 0.1
    rng = np.random.Generator(np.random.PCG64(seed))
    for _ in range(epochs):
        order = rng.permutation(10)
        for s in range(0, 10, batch):
            idx = order[s:s + batch]
            xb, yb = X[:, idx], Y[0, idx]
            r = w @ xb + b - yb
            w, b = w - lr * (xb @ r) / len(idx), b - lr * r.mean()
    np.testing.assert_allclose(p.W[0][0, 0], w, rtol=1e-12)
    np.testing.assert_allclose(p.b[0][0, 0], b, rtol=1e-12)


# ----------------------------------------------------------------------------- fit: logging

def sigmoid_bce_loop(W, b, X, Y, lr, iters):
    """Hand-written full-batch GD for one sigmoid unit with bce; costs before each update."""
    m = X.shape[1]
    costs = []
    for _ in range(iters):
        a = 1 / (1 + np.exp(-(W @ X + b)))
        costs.append(-np.mean(Y * np.log(a) + (1 - Y) * np.log(1 - a)))
        W, b = W - lr * ((a - Y) @ X.T) / m, b - lr * np.mean(a - Y)
    a = 1 / (1 + np.exp(-(W @ X + b)))
    costs.append(-np.mean(Y * np.log(a) + (1 - Y) * np.log(1 - a)))
    return W, b, costs


@pytest.mark.parametrize(("epochs", "log_every", "expected"), [
    (25, 10, [0, 10, 20, 25]), (20, 10, [0, 10, 20]), (5, 1, [0, 1, 2, 3, 4, 5]),
    (7, 100, [0, 7]), (1, 1, [0, 1]),
])
def test_gd_logs_0_every_log_every_and_final_with_hand_costs(epochs, log_every, expected):
    net = nn.Network((2, 1), (activations.get("sigmoid"),), losses.get("bce"), True)
    X, Y = tanh_data(m=9)
    W0 = np.array([[[0.4, -0.3]], [[-1.0, 0.2]]])
    b0 = np.array([[0.1], [-0.2]])
    p = nn.ParamStore(np, net, 2, np.float64)
    p.load({"W1": W0, "b1": b0})
    logged = []
    hist = train.fit(np, net, p, X, Y, TrainSection(epochs=epochs, lr=0.5, log_every=log_every),
                     on_log=lambda it, c: logged.append(it))
    assert hist.log_iterations == expected == logged
    assert hist.n_iterations == epochs and not hist.interrupted
    np.testing.assert_array_equal(hist.diverged_at, [-1, -1])
    for e in range(2):
        W, b, costs = sigmoid_bce_loop(W0[e], b0[e], X, Y, 0.5, epochs)
        np.testing.assert_allclose(p.W[0][e], W, rtol=1e-12)
        np.testing.assert_allclose(p.b[0][e], b, rtol=1e-12)
        curve = hist.cost_curve(e)
        assert [it for it, _ in curve] == expected
        np.testing.assert_allclose([c for _, c in curve], [costs[i] for i in expected],
                                   rtol=1e-12)


def test_sgd_logs_full_training_cost_and_final_iteration():
    net = linear_regression_net()
    X, Y = regression_data(10)
    X, Y = X / 10.0, Y / 1000.0
    p = nn.ParamStore(np, net, 1, np.float64)
    p.W[0][...] = [[[0.3, -0.2]]]
    hist = train.fit(np, net, p, X, Y, TrainSection(epochs=7, lr=0.05, optimizer="sgd",
                                                    batch_size=4, log_every=5))
    assert hist.log_iterations == [0, 5, 10, 15, 20, 21]  # 7 epochs × ⌈10/4⌉ = 21
    # cost at iteration 0: ½·mean (w·x − y)² over all 10 samples with the initial weights
    r0 = np.array([0.3, -0.2]) @ X - Y[0]
    assert hist.log_costs[0][0] == pytest.approx(0.5 * np.mean(r0**2), rel=1e-13)
    rf = p.W[0][0, 0] @ X + p.b[0][0, 0] - Y[0]
    assert hist.log_costs[-1][0] == pytest.approx(0.5 * np.mean(rf**2), rel=1e-13)


# ----------------------------------------------------------------------------- fit: divergence

def deep_linear_costs(w, X, Y, lr, iters):
    """Hand GD on z = w2·w1·x, cost mean ½(z − y)², both weights starting at w; costs before
    each update and after the last."""
    w1 = w2 = w
    costs = []
    with np.errstate(all="ignore"):
        for _ in range(iters):
            r = w2 * w1 * X - Y
            costs.append(np.mean(0.5 * r * r))
            w1, w2 = w1 - lr * np.mean(r * w2 * X), w2 - lr * np.mean(r * w1 * X)
        r = w2 * w1 * X - Y
        costs.append(np.mean(0.5 * r * r))
    return np.array(costs)


def first_from_which_nonfinite(costs):
    finite = np.isfinite(costs)
    for i in range(len(costs)):
        if not finite[i:].any():
            return i
    return -1


@pytest.mark.parametrize("w_big", [10.0, 30.0, 100.0, 1000.0])
def test_diverged_at_marks_only_the_exploding_experiment(w_big):
    net = nn.Network((1, 1, 1), (activations.get("linear"), activations.get("linear")),
                     losses.get("quadratic"), False)
    X = np.array([[1.0, -0.5, 0.8, 0.3]])
    Y = 0.7 * X
    p = nn.ParamStore(np, net, 2, np.float64)
    for W in p.W:
        W[...] = np.array([0.5, w_big])[:, None, None]  # slice 0 sane, slice 1 huge
    iters, lr = 30, 0.1
    hist = train.fit(np, net, p, X, Y, TrainSection(epochs=iters, lr=lr, log_every=1))

    ok = deep_linear_costs(0.5, X, Y, lr, iters)
    bad = deep_linear_costs(w_big, X, Y, lr, iters)
    expected = first_from_which_nonfinite(bad)
    assert 0 < expected < iters  # the hand loop really explodes, and starts finite
    assert first_from_which_nonfinite(ok) == -1

    costs = np.array(hist.log_costs)  # (iters + 1, 2)
    assert hist.log_iterations == list(range(iters + 1))
    np.testing.assert_allclose(costs[:, 0], ok, rtol=1e-10)  # the sane slice trains normally
    assert costs[-1, 0] < 0.5 * costs[0, 0]
    assert np.all(np.isfinite(costs[:expected, 1]))
    assert not np.any(np.isfinite(costs[expected:, 1]))
    assert hist.diverged_at.tolist() == [-1, expected]


@pytest.mark.parametrize("n_iterations", [1, 255, 256, 257, 600])
def test_divergence_tracker_across_chunk_boundaries(n_iterations):
    tracker = train.DivergenceTracker(np, 3, np.float64)
    # experiment 0 always finite; 1 non-finite from iteration 100 on; 2 finite only at 0 and 256
    expected = [n_iterations - 1, min(99, n_iterations - 1), 256 if n_iterations > 256 else 0]
    for it in range(n_iterations):
        row = tracker.slot(it)
        row[:] = [1.0, np.nan if it >= 100 else 1.0, 1.0 if it in (0, 256) else np.inf]
    assert list(tracker.last_finite(n_iterations)) == expected
