"""Fans and gains: the two numbers every variance-scaling law is built from.

Layout: a weight matrix has shape ``(n_out, n_in)`` like PyTorch's ``Linear``, so
``fan_in = shape[1]`` and ``fan_out = shape[0]``. A bias ``(n_out,)`` has ``fan_in = fan_out =
n_out``. Shapes ``(n_out, n_in, *kernel)`` multiply both fans by the kernel size, as PyTorch does.
"""

from __future__ import annotations

import math

from initlab.errors import InitlabError

# Squared gains are the exact source of truth (relu: 2.0, so he_normal == randn * sqrt(2./n_in)).
_GAIN_SQUARED = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "softmax": 1.0, "gelu": 1.0,
                 "tanh": 25.0 / 9.0, "relu": 2.0, "selu": 9.0 / 16.0}
_GAIN_TEXT = {"tanh": "5/3", "relu": "√2", "selu": "3/4"}
NONLINEARITIES: tuple[str, ...] = tuple(sorted([*_GAIN_SQUARED, "leaky_relu"]))
DEFAULT_SLOPE = 0.01  # leaky_relu's negative slope when none is given (PyTorch's default)


def gain_squared(nonlinearity: str | None, slope: float | None = None) -> float:
    """gain² of a nonlinearity (None: linear); leaky_relu: 2/(1 + slope²)."""
    nl = "linear" if nonlinearity is None else str(nonlinearity).strip().lower()
    if nl == "leaky_relu":
        s = DEFAULT_SLOPE if slope is None else float(slope)
        return 2.0 / (1.0 + s * s)
    if nl not in _GAIN_SQUARED:
        raise InitlabError(f"unknown nonlinearity {nonlinearity!r}; valid: "
                           f"{', '.join(NONLINEARITIES)}")
    return _GAIN_SQUARED[nl]


def gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain of a nonlinearity (PyTorch ``calculate_gain`` table).

    ===================================  =========================================
    nonlinearity                         gain
    ===================================  =========================================
    linear, identity, sigmoid, softmax,  1
    gelu
    tanh                                 5/3
    relu                                 √2
    leaky_relu                           √(2 / (1 + slope²)), slope = param or 0.01
    selu                                 3/4
    ===================================  =========================================

    Returned as the square root of the exact squared-gain table that the initializers use.
    """
    return math.sqrt(gain_squared(nonlinearity, param))


def gain_text(nonlinearity: str, slope: float, fmt=str) -> str:
    """How a formula shows a gain: '√2 (relu)', '√(2/(1+0.2²)) (leaky_relu)'."""
    if nonlinearity == "auto":
        return "gain(activation)"
    if nonlinearity == "leaky_relu":
        return f"√(2/(1+{fmt(slope)}²)) (leaky_relu)"
    return f"{_GAIN_TEXT.get(nonlinearity, '1')} ({nonlinearity})"


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(n_out, n_in, *kernel)`` shape; a 1-D ``(n,)`` gives ``(n, n)``."""
    dims = tuple(int(s) for s in shape)
    if not dims or min(dims) < 1:
        raise InitlabError(f"cannot initialise shape {dims}: need at least one axis, all >= 1")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive
