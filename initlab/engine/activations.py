"""Activations φ and their derivatives, for arrays of either backend.

Each activation writes ``a = φ(z)`` into a buffer and turns an upstream gradient ``da`` into
``dz = da · φ'(z)`` in place. All work elementwise on ``(E, units, samples)`` arrays.

``gelu`` is the exact z·Φ(z) (PyTorch's ``nn.GELU()`` and Keras's ``gelu(approximate=False)``);
``gelu_tanh`` the tanh approximation (``nn.GELU(approximate="tanh")``, Flax's ``nn.gelu``).
NumPy has no erf: erfc (Φ(z) = ½erfc(−z/√2), exact for z < 0 too) comes from
``backend.special(xp)`` (scipy.special or cupyx.scipy.special), imported on the first call, so
loading this module loads no SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from initlab.engine.backend import special
from initlab.errors import InitlabError
from initlab.params import NoParams, Params, Registry, number

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
GELU_C = math.sqrt(2.0 / math.pi)
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """An activation with its law, its parameters and its saturation bounds (if any)."""

    name: str
    law: str
    params: dict[str, float] = field(default_factory=dict)
    bounds: tuple[float, float] | None = None  # saturating units: (low, high)
    can_die: bool = False  # ReLU units can be zero on every sample

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({inner})"

    def forward(self, xp: Any, z: Any, out: Any) -> Any:
        """out ← φ(z)."""
        return _FORWARD[self.name](xp, z, out, self.params)

    def backward(self, xp: Any, z: Any, a: Any, da: Any) -> Any:
        """da ← da · φ'(z), in place (``a`` = φ(z) from the forward pass)."""
        return _BACKWARD[self.name](xp, z, a, da, self.params)

    def derivative(self, xp: Any, z: Any, a: Any) -> Any:
        """φ'(z) as a new array shaped like z, in the cheapest form that multiplies right: None
        where φ' ≡ 1 (linear), a bool mask for relu, else floats."""
        shortcut = _DERIVATIVE.get(self.name)
        if shortcut is not None:
            return shortcut(xp, z, a)
        return None if self.name == "linear" else self.backward(xp, z, a, xp.ones_like(z))


def _linear(xp: Any, z: Any, out: Any, p: dict) -> Any:
    xp.copyto(out, z)
    return out


def _relu(xp: Any, z: Any, out: Any, p: dict) -> Any:
    # NumPy: max(z, 0) against a zeros array of the trailing (n, m) block rather than the scalar
    # 0 runs one contiguous SIMD loop per block, 3× faster into the strided ``out``. CuPy needs no
    # such help, and an allocation per call would cost it a kernel launch.
    zero = np.zeros(z.shape[-2:], dtype=z.dtype) if xp is np else 0.0
    return xp.maximum(z, zero, out=out)


def _leaky_relu(xp: Any, z: Any, out: Any, p: dict) -> Any:
    xp.multiply(z, p["slope"], out=out)
    xp.copyto(out, z, where=z > 0)
    return out


def _tanh(xp: Any, z: Any, out: Any, p: dict) -> Any:
    return xp.tanh(z, out=out)


def _sigmoid(xp: Any, z: Any, out: Any, p: dict) -> Any:  # 1/(1 + e^(−z)), one ufunc call
    return special(xp).expit(z, out=out)


def _selu(xp: Any, z: Any, out: Any, p: dict) -> Any:
    xp.minimum(z, 0, out=out)
    xp.expm1(out, out=out)
    out *= SELU_ALPHA
    xp.copyto(out, z, where=z > 0)
    out *= SELU_SCALE
    return out


def _gelu_tanh_arg(z: Any) -> Any:
    return GELU_C * (z + 0.044715 * z * z * z)


def _gelu(xp: Any, z: Any, out: Any, p: dict) -> Any:  # z·Φ(z), Φ(z) = ½erfc(−z/√2), exact
    t = special(xp).erfc(z * -SQRT_HALF)  # erfc, not 1 + erf: no cancellation for z < 0
    xp.multiply(z, t, out=out)
    out *= 0.5
    return out


def _gelu_tanh(xp: Any, z: Any, out: Any, p: dict) -> Any:
    t = xp.tanh(_gelu_tanh_arg(z))
    t += 1.0
    xp.multiply(z, t, out=out)
    out *= 0.5
    return out


def _softmax(xp: Any, z: Any, out: Any, p: dict) -> Any:  # over units (axis −2), max-shifted
    xp.subtract(z, z.max(axis=-2, keepdims=True), out=out)
    xp.exp(out, out=out)
    out /= out.sum(axis=-2, keepdims=True)
    return out


def _d_linear(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:
    return da


def _d_relu(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:
    return xp.multiply(da, z > 0, out=da)


def _d_leaky_relu(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:
    return xp.multiply(da, xp.where(z > 0, 1.0, p["slope"]), out=da)


def _d_tanh(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:  # φ' = 1 − φ²
    da *= 1.0 - a * a
    return da


def _d_sigmoid(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:  # φ' = φ(1 − φ)
    da *= a * (1.0 - a)
    return da


def _d_selu(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:  # φ' = λ (z > 0), φ + λα else
    return xp.multiply(da, xp.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA), out=da)


def _d_gelu(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:  # φ' = Φ(z) + z·φ(z)
    cdf = special(xp).erfc(z * -SQRT_HALF)
    cdf *= 0.5
    da *= cdf + z * xp.exp(-0.5 * z * z) * INV_SQRT_2PI
    return da


def _d_gelu_tanh(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:
    t = xp.tanh(_gelu_tanh_arg(z))
    da *= 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * z * z)
    return da


def _d_softmax(xp: Any, z: Any, a: Any, da: Any, p: dict) -> Any:
    raise InitlabError("softmax is only differentiated together with loss softmax_ce")


_FORWARD = {"linear": _linear, "relu": _relu, "leaky_relu": _leaky_relu, "tanh": _tanh,
            "sigmoid": _sigmoid, "selu": _selu, "gelu": _gelu, "gelu_tanh": _gelu_tanh,
            "softmax": _softmax}
_BACKWARD = {"linear": _d_linear, "relu": _d_relu, "leaky_relu": _d_leaky_relu, "tanh": _d_tanh,
             "sigmoid": _d_sigmoid, "selu": _d_selu, "gelu": _d_gelu, "gelu_tanh": _d_gelu_tanh,
             "softmax": _d_softmax}


def _tanh_derivative(xp: Any, z: Any, a: Any) -> Any:  # 1 − a², one temporary
    d = xp.multiply(a, a)
    return xp.subtract(1.0, d, out=d)


_DERIVATIVE = {"relu": lambda xp, z, a: z > 0, "tanh": _tanh_derivative}


_LAWS = {
    "linear": ("φ(z) = z", None, False),
    "relu": ("φ(z) = max(0, z)", None, True),
    "leaky_relu": ("φ(z) = z if z > 0 else slope·z", None, False),
    "tanh": ("φ(z) = tanh z", (-1.0, 1.0), False),
    "sigmoid": ("φ(z) = 1 / (1 + e^(−z))", (0.0, 1.0), False),
    "selu": ("φ(z) = λz if z > 0 else λα(e^z − 1)  (λ≈1.0507, α≈1.6733)", None, False),
    "gelu": ("φ(z) = z·Φ(z) = ½z(1 + erf(z/√2))  (exact, PyTorch's and Keras's default)", None,
             False),
    "gelu_tanh": ("φ(z) = ½z(1 + tanh(√(2/π)(z + 0.044715z³)))  (tanh approximation, Flax's "
                  "default)", None, False),
    "softmax": ("φ(z)_i = e^(z_i) / Σ_j e^(z_j)  (output layer, with softmax_ce)", (0.0, 1.0),
                False),
}


class LeakyReluParams(Params):
    """slope: the factor of negative inputs (alias negative_slope, PyTorch's and Keras's name)."""

    ALIASES: ClassVar[dict[str, str]] = {"negative_slope": "slope"}
    slope: number() = 0.01


REGISTRY = Registry("activation", {name: LeakyReluParams if name == "leaky_relu" else NoParams
                                   for name in _LAWS})
ACTIVATION_NAMES: tuple[str, ...] = tuple(_LAWS)


def get(spec: str | dict[str, Any]) -> Activation:
    """``"tanh"``, ``"leaky_relu(slope=0.2)"`` or ``{"name": "leaky_relu", "slope": 0.2}`` →
    Activation (one-line errors list the names and parameters)."""
    found = REGISTRY.resolve(spec)
    law, bounds, can_die = _LAWS[found.name]
    return Activation(found.name, law, found.params, bounds, can_die)
