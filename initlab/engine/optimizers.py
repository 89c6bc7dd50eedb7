"""Update rules on the flat parameter buffer (all layers and experiments at once)."""

from __future__ import annotations

from typing import Any, Protocol

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")


class OptimizerSettings(Protocol):
    """What ``make`` reads (the run config's ``train`` section has these keys)."""

    optimizer: str
    lr: float
    momentum: float
    beta1: float
    beta2: float
    eps: float


class Optimizer:
    """Plain gradient descent: θ ← θ − lr·g (full batch ``gd`` or mini-batch ``sgd``)."""

    def __init__(self, xp: Any, flat: Any, lr: float) -> None:
        self.xp, self.lr = xp, lr
        self.tmp = xp.empty_like(flat)

    def step(self, theta: Any, g: Any) -> None:
        self.xp.multiply(g, self.lr, out=self.tmp)
        theta -= self.tmp


class Momentum(Optimizer):
    """Heavy ball (PyTorch form): v ← μ·v + g, θ ← θ − lr·v."""

    def __init__(self, xp: Any, flat: Any, lr: float, mu: float) -> None:
        super().__init__(xp, flat, lr)
        self.mu = mu
        self.v = xp.zeros_like(flat)

    def step(self, theta: Any, g: Any) -> None:
        self.v *= self.mu
        self.v += g
        self.xp.multiply(self.v, self.lr, out=self.tmp)
        theta -= self.tmp


class Adam(Optimizer):
    """Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂/(√v̂ + ε), bias-corrected."""

    def __init__(self, xp: Any, flat: Any, lr: float, b1: float, b2: float, eps: float) -> None:
        super().__init__(xp, flat, lr)
        self.b1, self.b2, self.eps, self.t = b1, b2, eps, 0
        self.m = xp.zeros_like(flat)
        self.v = xp.zeros_like(flat)

    def step(self, theta: Any, g: Any) -> None:
        xp, self.t = self.xp, self.t + 1
        self.m *= self.b1
        self.m += (1.0 - self.b1) * g
        self.v *= self.b2
        self.v += (1.0 - self.b2) * (g * g)
        step = self.lr * (1.0 - self.b2**self.t) ** 0.5 / (1.0 - self.b1**self.t)
        xp.sqrt(self.v, out=self.tmp)
        self.tmp += self.eps * (1.0 - self.b2**self.t) ** 0.5
        xp.divide(self.m, self.tmp, out=self.tmp)
        self.tmp *= step
        theta -= self.tmp


def make(xp: Any, flat: Any, train: OptimizerSettings) -> Optimizer:
    """The update rule ``train.optimizer`` (one of OPTIMIZERS) for the buffer ``flat``."""
    if train.optimizer == "momentum":
        return Momentum(xp, flat, train.lr, train.momentum)
    if train.optimizer == "adam":
        return Adam(xp, flat, train.lr, train.beta1, train.beta2, train.eps)
    return Optimizer(xp, flat, train.lr)
