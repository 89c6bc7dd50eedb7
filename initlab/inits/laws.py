"""Weight initializers: every law with its parameters, its formula and its sampler.

Each law registers a sampler ``draw(p, shape, rng, activation)``, a display formula and a
pydantic model of its parameters (``initlab.params``: one validation for every registry). Shapes
follow ``initlab.inits.fans``: ``(n_out, n_in)``, fan_in = n_in.

Every sampler draws float64 from the caller's stream: an ``initlab.inits.fastrng.FastStream``
(what ``rng: numpy`` uses), a ``numpy.random.Generator`` or a legacy ``RandomState``; the normal
family draws ``rng.standard_normal(shape)`` once and scales it, so a legacy ``RandomState``
reproduces the classic ``randn(n_out, n_in) * std`` notebooks bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, PlainValidator, WithJsonSchema, model_validator

from initlab.errors import InitlabError
from initlab.inits.fans import NONLINEARITIES, fans, gain, gain_squared, gain_text
from initlab.inits.fastrng import FastStream
from initlab.params import NoParams, Params, Registry, fmt_value, number

__all__ = ["INITIALIZER_NAMES", "REGISTRY", "catalogue", "fans", "formula", "gain", "label",
           "resolve", "sample"]

Rng = FastStream | np.random.Generator | np.random.RandomState


# ------------------------------------------------------------------------ parameter models

def _gain(value: Any) -> float | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number > 0 or 'auto'")
    return float(value)


Real = number()
Gain = Annotated[float | str, PlainValidator(_gain), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "auto"}]})]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Mode = Annotated[Literal["fan_in", "fan_out"], BeforeValidator(_lower)]
Nonlinearity = Annotated[Literal[(*NONLINEARITIES, "auto")], BeforeValidator(_lower)]
StdOf = Annotated[Literal["parent", "realised"], BeforeValidator(_lower)]


class ConstantParams(Params):
    """W = value everywhere."""
    value: Real = 0.0


class UniformParams(Params):
    """W ~ U(low, high)."""
    low: Real = -0.05
    high: Real = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> UniformParams:
        if self.low >= self.high:
            raise ValueError(f"parameter 'low' must be < 'high', got low={fmt_value(self.low)}, "
                             f"high={fmt_value(self.high)}")
        return self


class NormalParams(Params):
    """W ~ N(mean, std²)."""
    mean: Real = 0.0
    std: number(gt=0.0) = 1.0


class TruncatedParams(Params):
    """W ~ N(mean, σ²) redrawn outside mean ± cut·σ; std_of: whose std ``std`` is."""
    mean: Real = 0.0
    std: number(gt=0.0) = 1.0
    cut: number(ge=0.1) = 2.0
    std_of: StdOf = "parent"


class GainParams(Params):
    """gain: a number > 0, or 'auto' for the gain of the layer's activation."""
    gain: Gain = 1.0


class HeParams(Params):
    """σ² = gain(nonlinearity)²/fan, fan = fan_in or fan_out by mode."""
    mode: Mode = "fan_in"
    nonlinearity: Nonlinearity = "relu"
    slope: number(ge=0.0) = 0.01


# -------------------------------------------------------------------------------- the laws

@dataclass(frozen=True)
class Law:
    """A sampler, its display formula (text with {param} fields, or a function of the
    parameters) and its note for ``initlab inits``."""

    draw: Callable[..., np.ndarray]
    formula: str | Callable[[dict], str]
    note: str


LAWS: dict[str, Law] = {}
_MODELS: dict[str, type[Params]] = {}


def _register(name: str, formula: str | Callable[[dict], str], model: type[Params] = NoParams):
    """Register a sampler ``fn(params, shape, rng, activation)``; its docstring is the law."""
    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        LAWS[name], _MODELS[name] = Law(fn, formula, fn.__doc__.strip()), model
        return fn
    return deco


def _from_std(rng: Rng, shape: tuple[int, ...], std: float, uniform: bool, mean: float = 0.0):
    """One draw with standard deviation ``std``: z·std (+ mean), or U(-b, b) with b = √3·std."""
    if uniform:
        bound = math.sqrt(3.0) * std
        return rng.uniform(-bound, bound, shape)
    z = rng.standard_normal(shape) * std
    return z + mean if mean != 0 else z


def _auto_gain_squared(g: float | str, activation: str | None) -> float:
    return gain_squared(activation) if g == "auto" else g * g


def _family(prefix: str, std_text: str, model: type[Params] = NoParams, normal_note: str = ""):
    """Register ``prefix_normal`` (N(0, σ²)) and ``prefix_uniform`` (U(-√3σ, √3σ)) from one σ;
    ``normal_note`` is appended to the normal variant's note only."""
    def deco(std: Callable[[dict, tuple[int, ...], str | None], float]):
        gain_part = "  [gain={gain}]" if model is not NoParams else ""
        for uniform, law in ((True, "U(-b, b), b = √3 · σ"), (False, "N(0, σ²)")):
            def draw(p, shape, rng, act, uniform=uniform):
                return _from_std(rng, shape, std(p, shape, act), uniform)
            name = f"{prefix}_{'uniform' if uniform else 'normal'}"
            note = f"W ~ {law}, {std.__doc__.strip().rstrip('.')}{'' if uniform else normal_note}"
            LAWS[name], _MODELS[name] = Law(draw, f"{law}, σ = {std_text}{gain_part}", note), model
        return std
    return deco


def _truncated_factor(cut: float) -> float:
    """Var[Z | |Z| <= c] for Z ~ N(0, 1): 1 - 2c·φ(c)/(2Φ(c) - 1), with 2Φ(c) - 1 = erf(c/√2)."""
    phi = math.exp(-0.5 * cut * cut) / math.sqrt(2.0 * math.pi)
    return 1.0 - 2.0 * cut * phi / math.erf(cut / math.sqrt(2.0))


def _truncated_formula(p: dict) -> str:
    std, factor = fmt_value(p["std"]), _truncated_factor(p["cut"])
    sigma = (f"σ = {std}, sample std = σ·√{factor:.4f}" if p["std_of"] == "parent"
             else f"σ = {std}/√{factor:.4f}, sample std = {std}")
    return (f"N(μ, σ²) redrawn outside μ ± {fmt_value(p['cut'])}σ, μ = {fmt_value(p['mean'])}, "
            f"{sigma}")


@_register("zeros", "W = 0")
def _zeros(p, shape, rng, act):
    """W = 0 everywhere (every unit stays identical: the symmetry failure)."""
    return np.zeros(shape)


@_register("ones", "W = 1")
def _ones(p, shape, rng, act):
    """W = 1 everywhere."""
    return np.ones(shape)


@_register("constant", "W = {value}", ConstantParams)
def _constant(p, shape, rng, act):
    """W = value everywhere."""
    return np.full(shape, p["value"], dtype=np.float64)


@_register("uniform", "U({low}, {high})", UniformParams)
def _uniform(p, shape, rng, act):
    """W ~ U(low, high): mean (low + high)/2, variance (high - low)²/12."""
    return rng.uniform(p["low"], p["high"], shape)


@_register("normal", "N(μ, σ²), μ = {mean}, σ = {std}", NormalParams)
def _normal(p, shape, rng, act):
    """W ~ N(mean, std²), drawn as z·std + mean with z ~ N(0, 1)."""
    return _from_std(rng, shape, p["std"], False, p["mean"])


@_register("truncated_normal", _truncated_formula, TruncatedParams)
def _truncated_normal(p, shape, rng, act):
    """W ~ N(mean, σ²) kept to |W - mean| <= cut·σ; Var = σ²·(1 - 2c·φ(c)/(2Φ(c) - 1)), c = cut."""
    sigma = p["std"]
    if p["std_of"] == "realised":
        sigma = p["std"] / math.sqrt(_truncated_factor(p["cut"]))
    z = rng.standard_normal(shape)
    bad = np.abs(z) > p["cut"]
    while bad.any():  # redraw only the rejected entries, in order: deterministic for a seeded rng
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > p["cut"]
    z = z * sigma
    return z + p["mean"] if p["mean"] != 0 else z


@_family("xavier", "gain · √(2/(fan_in+fan_out))", GainParams)
def _xavier_std(p, shape, act):
    """σ² = gain²·2/(fan_in + fan_out) (Glorot & Bengio 2010)."""
    fan_in, fan_out = fans(shape)
    return math.sqrt(_auto_gain_squared(p["gain"], act) * 2.0 / (fan_in + fan_out))


@_family("he", "gain/√{fan}", HeParams)
def _he_std(p, shape, act):
    """σ² = gain²/fan, fan = fan_in or fan_out by mode (He et al. 2015)."""
    nl = act if p["nonlinearity"] == "auto" else p["nonlinearity"]
    fan_in, fan_out = fans(shape)
    return math.sqrt(gain_squared(nl, p["slope"]) / (fan_in if p["mode"] == "fan_in" else fan_out))


@_family("lecun", "1/√fan_in", normal_note="; the N(0,1)/√fan_in that CS231n calls 'Xavier'")
def _lecun_std(p, shape, act):
    """σ² = 1/fan_in (LeCun et al. 1998)."""
    return math.sqrt(1.0 / fans(shape)[0])


@_register("orthogonal", "W = gain · Q, Q orthonormal from QR of N(0,1)  [gain={gain}]",
           GainParams)
def _orthogonal(p, shape, rng, act):
    """W = gain·Q, Q from the QR of a Gaussian matrix: orthonormal rows if wide, columns if tall."""
    if len(shape) < 2:
        raise InitlabError(f"orthogonal needs a matrix shape (n_out, n_in), got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    a = rng.standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (q * math.sqrt(_auto_gain_squared(p["gain"], act))).reshape(shape)


@_register("identity", "W = gain · I(n_out, n_in)  [gain={gain}]", GainParams)
def _identity(p, shape, rng, act):
    """W = gain·I(n_out, n_in): ones on the main diagonal, zeros elsewhere."""
    if len(shape) != 2:
        raise InitlabError(f"identity needs a matrix shape (n_out, n_in), got {tuple(shape)}")
    return np.eye(*shape) * math.sqrt(_auto_gain_squared(p["gain"], act))


_ALIASES: dict[str, tuple[str, dict, str]] = {
    "random": ("normal", {"std": 10.0}, "Coursera 'random' init: randn·10, deliberately too large"),
    "small": ("normal", {"std": 0.01}, "CS231n 'small random numbers': 0.01·randn"),
    "big": ("normal", {"std": 1.0}, "CS231n: plain randn, saturates tanh in deep nets"),
    "xavier": ("xavier_normal", {}, "Glorot/Xavier normal"),
    "glorot": ("xavier_normal", {}, "Glorot/Xavier normal"),
    "glorot_normal": ("xavier_normal", {}, "Keras name of xavier_normal"),
    "glorot_uniform": ("xavier_uniform", {}, "Keras name of xavier_uniform"),
    "he": ("he_normal", {}, "He/Kaiming normal, relu gain, fan_in"),
    "kaiming": ("he_normal", {}, "He/Kaiming normal, relu gain, fan_in"),
    "kaiming_normal": ("he_normal", {}, "PyTorch name of he_normal"),
    "kaiming_uniform": ("he_uniform", {}, "PyTorch name of he_uniform"),
    "lecun": ("lecun_normal", {}, "LeCun normal, the N(0,1)/√fan_in CS231n calls 'Xavier'"),
}

REGISTRY = Registry("initializer", _MODELS, {a: (t, p) for a, (t, p, _) in _ALIASES.items()})
INITIALIZER_NAMES: tuple[str, ...] = REGISTRY.names


def resolve(spec: str | dict) -> tuple[str, dict]:
    """Spec ('he', 'normal(std=0.5)' or {'name': 'normal', 'std': 0.5}) -> (canonical, params)."""
    found = REGISTRY.resolve(spec)
    return found.name, found.params


def label(spec: str | dict) -> str:
    """Short display label keeping the name as written: 'he', 'random', 'normal(std=0.5)'."""
    return REGISTRY.resolve(spec).label


def sample(name: str, params: dict, shape: tuple[int, ...], rng: Rng,
           activation: str | None = None) -> np.ndarray:
    """Float64 array of ``shape`` drawn from ``rng``; ``activation`` feeds only 'auto' gains."""
    canonical, full = resolve({**params, "name": name})
    dims = tuple(int(s) for s in shape)
    fans(dims)  # validates the shape
    out = LAWS[canonical].draw(full, dims, rng, activation)
    return np.asarray(out, dtype=np.float64)


def formula(name: str, params: dict) -> str:
    """Human-readable law, e.g. 'N(0, σ²), σ = gain/√fan_in  [gain=√2 (relu)]'."""
    canonical, p = resolve({**params, "name": name})
    template = LAWS[canonical].formula
    if callable(template):
        return template(p)
    ctx = {k: fmt_value(v) for k, v in p.items()}
    if "gain" in p:
        ctx["gain"] = "auto = gain(activation)" if p["gain"] == "auto" else fmt_value(p["gain"])
    if "nonlinearity" in p:
        ctx["gain"] = gain_text(p["nonlinearity"], p["slope"], fmt_value)
        ctx["fan"] = p["mode"]
    return template.format(**ctx)


def catalogue() -> list[dict]:
    """One entry per canonical initializer, then one per alias, for ``initlab inits``."""
    rows = [{"name": n, "kind": "init", "params": resolve(n)[1], "formula": formula(n, {}),
             "note": law.note} for n, law in LAWS.items()]
    for alias, (target, _, note) in _ALIASES.items():
        canonical, params = resolve(alias)
        rows.append({"name": alias, "kind": "alias", "params": params,
                     "formula": formula(canonical, params), "note": f"alias of {target}: {note}"})
    return rows
