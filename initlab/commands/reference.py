"""The Coursera notebook's one-model NumPy loop, written the way the notebook writes it.

Two uses: the baseline that ``initlab bench-train`` measures the batched engine against, and an
independent oracle for tests (it shares no code with ``initlab.nn`` or ``initlab.train``).
Architecture: LINEAR→RELU→…→LINEAR→SIGMOID, cross-entropy cost, full-batch gradient descent.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(0, x)


def forward_propagation(X: np.ndarray, parameters: dict) -> tuple[np.ndarray, list]:
    L = len(parameters) // 2
    caches, A = [], X
    for l in range(1, L + 1):
        Z = np.dot(parameters["W" + str(l)], A) + parameters["b" + str(l)]
        caches.append((A, Z))
        A = sigmoid(Z) if l == L else relu(Z)
    return A, caches


def compute_loss(a3: np.ndarray, Y: np.ndarray) -> float:
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.nansum(logprobs)


def backward_propagation(AL: np.ndarray, Y: np.ndarray, caches: list, parameters: dict) -> dict:
    m = Y.shape[1]
    L = len(caches)
    grads = {}
    dZ = 1.0 / m * (AL - Y)
    for l in range(L, 0, -1):
        A_prev, _ = caches[l - 1]
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T)
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA = np.dot(parameters["W" + str(l)].T, dZ)
            dZ = np.multiply(dA, np.int64(caches[l - 2][1] > 0))
    return grads


def update_parameters(parameters: dict, grads: dict, learning_rate: float) -> dict:
    L = len(parameters) // 2
    for k in range(L):
        parameters["W" + str(k + 1)] = parameters["W" + str(k + 1)] - learning_rate * grads[
            "dW" + str(k + 1)]
        parameters["b" + str(k + 1)] = parameters["b" + str(k + 1)] - learning_rate * grads[
            "db" + str(k + 1)]
    return parameters


def initialize_parameters(layers_dims: list[int], scale: str | float, seed: int) -> dict:
    """Notebook init: 'zeros', 'he' (randn·√(2/fan_in)) or a number k (randn·k), seeded globally
    in the notebook; here with a local RandomState(seed), which draws the same numbers."""
    rs = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):
        shape = (layers_dims[l], layers_dims[l - 1])
        if scale == "zeros":
            parameters["W" + str(l)] = np.zeros(shape)
        elif scale == "he":
            parameters["W" + str(l)] = rs.randn(*shape) * np.sqrt(2.0 / layers_dims[l - 1])
        else:
            parameters["W" + str(l)] = rs.randn(*shape) * float(scale)
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def model(X: np.ndarray, Y: np.ndarray, parameters: dict, learning_rate: float = 0.01,
          num_iterations: int = 15000, log_every: int = 1000) -> tuple[dict, list]:
    """Train one model; returns (parameters, [(iteration, cost), …])."""
    costs = []
    for i in range(num_iterations):
        a3, caches = forward_propagation(X, parameters)
        cost = compute_loss(a3, Y)
        grads = backward_propagation(a3, Y, caches, parameters)
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % log_every == 0:
            costs.append((i, cost))
    return parameters, costs


def predict_accuracy(X: np.ndarray, Y: np.ndarray, parameters: dict) -> float:
    a3, _ = forward_propagation(X, parameters)
    return float(np.mean((a3 > 0.5) == (Y > 0.5)))


def main() -> None:
    """The notebook as a script (``python -m initlab.commands.reference``): its circles data
    (scikit-learn's make_circles, as the notebook loads it), He initialization with seed 3, 15 000
    iterations at lr 0.01; prints the cost every 1000 iterations and the accuracies. The
    whole-process baseline of ``initlab bench-train``."""
    from sklearn.datasets import make_circles  # noqa: PLC0415 (the notebook's own data)

    X, y = make_circles(n_samples=300, noise=0.05, random_state=np.random.RandomState(1))
    Xt, yt = make_circles(n_samples=100, noise=0.05, random_state=np.random.RandomState(2))
    X, Y, Xt, Yt = X.T, y.reshape(1, -1), Xt.T, yt.reshape(1, -1)
    parameters = initialize_parameters([2, 10, 5, 1], "he", seed=3)
    parameters, costs = model(X, Y, parameters, 0.01, 15000, log_every=1000)
    for i, cost in costs:
        print(f"Cost after iteration {i}: {cost}")
    print(f"train accuracy {predict_accuracy(X, Y, parameters):.4f}, "
          f"test accuracy {predict_accuracy(Xt, Yt, parameters):.4f}")


if __name__ == "__main__":
    main()
