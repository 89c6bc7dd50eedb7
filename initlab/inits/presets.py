"""What a dense layer of each framework starts from when nothing is specified: weights *and*
biases, as initlab laws, each with the framework version whose source the formula follows.

A preset name stands where an initializer does (``init.weights: torch_default``, ``--inits
torch_default,keras_default``, or one entry of a per-layer list or mapping) and sets that
layer's bias law too, whatever ``init.bias`` says: it is the framework's whole layer default.
Its weight law alone (``torch_linear``, ``xavier_uniform``, ``jax.lecun_normal``) goes with any
bias.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """A framework's dense-layer default: the weight and bias laws (initlab specs), in words,
    and the source they follow."""

    weights: str
    bias: str
    law: str
    source: str


# Haiku's TruncatedNormal(stddev) is N(0, stddev²) cut at ±2 stddev with no correction: a
# variance_scaling truncated normal, whose parent std is √(scale/fan_in)/TRUNCATED_STD, with
# scale = TRUNCATED_STD².
TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated to [−2, 2]

PRESETS: dict[str, Preset] = {
    "torch_default": Preset(
        "torch_linear", "fan_in_uniform",
        "W ~ U(±1/√fan_in) (kaiming_uniform_ with a = √5), b ~ U(±1/√fan_in of W)",
        "PyTorch 2.x torch/nn/modules/linear.py, Linear.reset_parameters"),
    "keras_default": Preset(
        "xavier_uniform", "zeros",
        "W ~ U(±√(6/(fan_in + fan_out))) (glorot_uniform), b = 0",
        "Keras 3 keras/src/layers/core/dense.py, Dense(kernel_initializer='glorot_uniform', "
        "bias_initializer='zeros')"),
    "flax_default": Preset(
        "jax.lecun_normal", "zeros",
        "W ~ N(0, σ²) cut at ±2σ, σ = 1/(0.8796·√fan_in) (lecun_normal, truncated), b = 0",
        "Flax 0.8+ flax/linen/linear.py, Dense: default_kernel_init = lecun_normal(), "
        "bias_init zeros"),
    "haiku_default": Preset(
        f"variance_scaling(scale={TRUNCATED_STD ** 2!r}, mode=fan_in, "
        "distribution=truncated_normal)", "zeros",
        "W ~ N(0, 1/fan_in) cut at ±2/√fan_in, no variance correction "
        "(TruncatedNormal(1/√fan_in)), b = 0",
        "dm-haiku 0.0.12 haiku/_src/basic.py, Linear: w_init = TruncatedNormal(stddev = "
        "1/√input_size), b_init zeros"),
}


def get(spec: object) -> Preset | None:
    """The preset a spec names ('torch_default', any case and spacing), else None."""
    if not isinstance(spec, str):
        return None
    return PRESETS.get(spec.strip().lower())
