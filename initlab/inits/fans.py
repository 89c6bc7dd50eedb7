"""Fans and gains: the two numbers every variance-scaling law is built from.

Layout: a weight matrix has shape ``(n_out, n_in)`` like PyTorch's ``Linear``, so
``fan_in = shape[1]`` and ``fan_out = shape[0]``. A bias ``(n_out,)`` has ``fan_in = fan_out =
n_out``. Shapes ``(n_out, n_in, *kernel)`` multiply both fans by the kernel size, as PyTorch does.

Two kinds of gain, never mixed:

- the **table** (``gain``, ``gain_squared``): only the values PyTorch's
  ``torch.nn.init.calculate_gain`` returns (PyTorch 2.x, ``torch/nn/init.py``): linear (and
  identity) 1, sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)), selu 3/4. PyTorch
  has no gain for gelu or softmax (it raises ValueError), so neither has the table;
- the **computed** gain (``auto_gain``), for any activation of the registry:
  g = 1/√E[φ(z)²], z ~ N(0, 1), the gain that keeps a unit second moment through the layer
  (E[(Wx)_i²] = g²·E[φ²] = 1 with Var W = g²/fan_in and unit-second-moment pre-activations).
  relu: √2 and linear: 1, as in the table; gelu (exact): 1.5335 (E[gelu(z)²] = 0.42522);
  tanh: 1.5925, 4.5% below PyTorch's 5/3 — PyTorch's 5/3 is a heuristic, not this expectation.
  The expectation is the composite Gauss–Legendre rule of ``engine.gaussian``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from initlab.engine import activations
from initlab.engine.activations import Activation
from initlab.engine.gaussian import expect
from initlab.errors import InitlabError, suggest

PYTORCH_GAIN_SOURCE = "PyTorch 2.x torch/nn/init.py, calculate_gain"

# PyTorch's table, squared: the exact source of truth (relu: 2.0, so he_normal ==
# randn * sqrt(2./n_in) bit for bit).
_GAIN_SQUARED = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 25.0 / 9.0,
                 "relu": 2.0, "selu": 9.0 / 16.0}
_GAIN_TEXT = {"tanh": "5/3", "relu": "√2", "selu": "3/4"}
NONLINEARITIES: tuple[str, ...] = tuple(sorted([*_GAIN_SQUARED, "leaky_relu"]))  # the table's
DEFAULT_SLOPE = 0.01  # leaky_relu's negative slope when none is given (PyTorch's default)


def _no_table_gain(name: str) -> str:
    return (f"PyTorch's calculate_gain has no gain for {name} (it raises), so initlab's table "
            f"has none; use nonlinearity=auto (or gain=auto) for the computed 1/√E[φ(z)²]")


def gain_squared(nonlinearity: str | None, slope: float | None = None) -> float:
    """gain² of a nonlinearity from PyTorch's table (None: linear); leaky_relu: 2/(1 + slope²).
    An activation the table lacks (gelu, softmax) is an InitlabError suggesting ``auto``."""
    nl = "linear" if nonlinearity is None else str(nonlinearity).strip().lower()
    if nl == "leaky_relu":
        s = DEFAULT_SLOPE if slope is None else float(slope)
        return 2.0 / (1.0 + s * s)
    if nl in _GAIN_SQUARED:
        return _GAIN_SQUARED[nl]
    if nl in activations.ACTIVATION_NAMES:
        raise InitlabError(_no_table_gain(nl))
    raise InitlabError(f"unknown nonlinearity {nonlinearity!r}; valid: "
                       f"{', '.join(NONLINEARITIES)}{suggest(nl, NONLINEARITIES)}")


def gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain of a nonlinearity: PyTorch's ``calculate_gain`` table.

    ==================  =========================================
    nonlinearity        gain
    ==================  =========================================
    linear, identity    1
    sigmoid             1
    tanh                5/3
    relu                √2
    leaky_relu          √(2 / (1 + slope²)), slope = param or 0.01
    selu                3/4
    ==================  =========================================

    Returned as the square root of the exact squared-gain table that the initializers use.
    gelu, softmax and any other name raise InitlabError (PyTorch raises ValueError)."""
    return math.sqrt(gain_squared(nonlinearity, param))


def gain_text(nonlinearity: str, slope: float | None, fmt=str) -> str:
    """How a formula shows a gain: '√2 (relu)', '√(2/(1+0.2²)) (leaky_relu)'."""
    if nonlinearity == "auto":
        return "1/√E[φ(z)²] (auto, the layer's activation)"
    if nonlinearity == "leaky_relu":
        return f"√(2/(1+{fmt(DEFAULT_SLOPE if slope is None else slope)}²)) (leaky_relu)"
    return f"{_GAIN_TEXT.get(nonlinearity, '1')} ({nonlinearity})"


# -------------------------------------------------------------------------- computed gains

def _activation(spec: Any) -> Activation:
    if isinstance(spec, Activation):
        return spec
    return activations.get("linear" if spec is None else spec)


@functools.lru_cache(maxsize=64)
def _second_moment(name: str, params: tuple[tuple[str, float], ...]) -> float:
    act = activations.get({"name": name, **dict(params)})

    def square(z: np.ndarray) -> np.ndarray:
        a = act.forward(np, z, np.empty_like(z))
        return a * a

    return expect(square)


def second_moment(activation: Any) -> float:
    """E[φ(z)²], z ~ N(0, 1), for an activation name, spec or ``Activation`` (None: linear)."""
    act = _activation(activation)
    if act.name == "softmax":
        raise InitlabError("softmax has no computed gain: it is not elementwise (it normalises "
                           "over the units of the output layer)")
    return _second_moment(act.name, tuple(sorted(act.params.items())))


def auto_gain_squared(activation: Any) -> float:
    """g² = 1/E[φ(z)²], z ~ N(0, 1): the computed gain of any elementwise activation."""
    return 1.0 / second_moment(activation)


def auto_gain(activation: Any) -> float:
    """g = 1/√E[φ(z)²], z ~ N(0, 1) (relu √2, linear 1, gelu 1.5335, tanh 1.5925)."""
    return math.sqrt(auto_gain_squared(activation))


def auto_gain_line(activation: Any) -> str:
    """'tanh 1.5925 (PyTorch's table: 5/3 = 1.6667)', 'gelu 1.5335 (PyTorch's table: none)'."""
    act = _activation(activation)
    pytorch = "none"
    if act.name in _GAIN_SQUARED or act.name == "leaky_relu":
        slope = act.params.get("slope")
        text = gain_text(act.name, slope, fmt=lambda v: f"{v:g}").split(" (")[0]
        table = math.sqrt(gain_squared(act.name, slope))
        pytorch = text if text == "1" else f"{text} = {table:.4f}"
    return f"{act.label} {auto_gain(act):.4f} (PyTorch's table: {pytorch})"


def gain_table() -> list[dict]:
    """One row per activation of the registry: ``name``, ``pytorch`` (calculate_gain's value,
    None where PyTorch has none), ``auto`` (1/√E[φ(z)²], None for softmax), ``source`` (of the
    PyTorch value) and a ``note``."""
    rows = []
    for name in activations.ACTIVATION_NAMES:
        table = (math.sqrt(gain_squared(name)) if name in _GAIN_SQUARED or name == "leaky_relu"
                 else None)
        auto = None if name == "softmax" else auto_gain(name)
        note = ""
        if name == "leaky_relu":
            note = f"slope {DEFAULT_SLOPE:g} (the default); √(2/(1 + slope²)) in general"
        elif table is not None and auto is not None and abs(auto / table - 1) > 1e-9:
            note = f"auto is {100 * (auto / table - 1):+.2f}% from PyTorch's value"
            if name == "sigmoid":
                note += " (E[φ²] includes sigmoid's mean ½)"
            elif name == "selu":
                note += " (E[selu(z)²] = 1: self-normalising)"
        elif name == "softmax":
            note = "output layer only; not elementwise, so no computed gain"
        rows.append({"name": name, "pytorch": table, "auto": auto,
                     "source": PYTORCH_GAIN_SOURCE if table is not None
                     else "none: PyTorch's calculate_gain raises ValueError", "note": note})
    return rows


# ----------------------------------------------------------------------------------- fans

def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(n_out, n_in, *kernel)`` shape; a 1-D ``(n,)`` gives ``(n, n)``."""
    dims = tuple(int(s) for s in shape)
    if not dims or min(dims) < 1:
        raise InitlabError(f"cannot initialise shape {dims}: need at least one axis, all >= 1")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive
