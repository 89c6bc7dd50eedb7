"""Costs computed from the output pre-activation ``z`` (logits), so they are never inf.

Each loss returns the cost per experiment, ``(E,)``: summed over output units, averaged over the
``m`` samples. ``output_grad`` writes ``dz = ∂cost/∂z`` (the 1/m included) into a buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from initlab.engine.activations import Activation
from initlab.errors import InitlabError

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Loss:
    """A cost, its law, the output activations it is defined for (None: any but softmax), the
    data tasks it fits, and the task it is the natural readout of."""

    name: str
    law: str
    outputs: tuple[str, ...] | None
    fits: tuple[str, ...]
    native: str

    @property
    def output(self) -> str:
        """The output activation this loss is used with by default (probe's readout)."""
        return "linear" if self.outputs is None else self.outputs[0]

    def check_output(self, act: Activation, n_out: int) -> None:
        """Raise InitlabError when this loss does not fit the output layer."""
        if self.outputs is not None and act.name not in self.outputs:
            raise InitlabError(
                f"loss {self.name} needs output activation {' or '.join(self.outputs)}, "
                f"but the last layer uses {act.name}")
        if self.outputs is None and act.name == "softmax":
            raise InitlabError("output activation softmax needs loss softmax_ce")
        if self.name == "softmax_ce" and n_out < 2:
            raise InitlabError("loss softmax_ce needs at least 2 output units (one per class)")

    def cost(self, xp: Any, z: Any, a: Any, y: Any) -> Any:
        """Per-experiment cost (E,) from logits z and outputs a = φ(z), targets y (k, m)."""
        m = z.shape[-1]
        if self.name == "bce":  # softplus(z) − y·z = −y log σ(z) − (1−y) log(1−σ(z))
            per = xp.logaddexp(0.0, z)
            per -= y * z
        elif self.name == "softmax_ce":  # logsumexp(z) − Σ y·z
            zmax = z.max(axis=-2, keepdims=True)
            per = xp.log(xp.exp(z - zmax).sum(axis=-2, keepdims=True)) + zmax
            per = per - (y * z).sum(axis=-2, keepdims=True)
        else:  # quadratic: ½‖a − y‖²
            per = a - y
            per *= per
            per *= 0.5
        return per.sum(axis=(-2, -1)) / m

    def witness(self, xp: Any, z: Any, a: Any, y: Any, out: Any) -> Any:
        """out (E,) ← values finite exactly when the cost is, cheaper than the cost: bce and
        softmax_ce are finite for every finite logit, so the sum of the logits serves; a quadratic
        cost can overflow from finite outputs, so it is its own witness."""
        if self.name == "quadratic":
            out[...] = self.cost(xp, z, a, y)
            return out
        return xp.add.reduce(z, axis=(-2, -1), out=out)

    def output_grad(self, xp: Any, act: Activation, z: Any, a: Any, y: Any, out: Any) -> Any:
        """out ← ∂cost/∂z = (a − y)/m for bce and softmax_ce; (a − y)·φ'(z)/m for quadratic."""
        xp.subtract(a, y, out=out)
        out *= 1.0 / z.shape[-1]
        if self.name == "quadratic":
            act.backward(xp, z, a, out)
        return out


LOSSES: dict[str, Loss] = {
    "bce": Loss("bce", "−mean[y log σ(z) + (1−y) log(1−σ(z))], from logits", ("sigmoid",),
                ("binary",), "binary"),
    "quadratic": Loss("quadratic", "mean ½‖φ(z) − y‖²  (the Neanderthal article's cost)", None,
                      TASKS, "regression"),
    "softmax_ce": Loss("softmax_ce", "−mean Σ_k y_k log softmax(z)_k, from logits", ("softmax",),
                       ("multiclass",), "multiclass"),
}


def get(name: str) -> Loss:
    """Loss by name (bce | quadratic | softmax_ce)."""
    if name not in LOSSES:
        raise InitlabError(f"unknown loss '{name}'; valid: {', '.join(LOSSES)}")
    return LOSSES[name]


def fitting(task: str) -> list[str]:
    """The losses that fit a data task, its native one first: binary → bce, quadratic."""
    return sorted((n for n, loss in LOSSES.items() if task in loss.fits),
                  key=lambda n: LOSSES[n].native != task)


def native(task: str) -> Loss:
    """The loss a task is read out with by default (binary: bce, multiclass: softmax_ce,
    regression: quadratic)."""
    return next(loss for loss in LOSSES.values() if loss.native == task)
