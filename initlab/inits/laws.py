"""Weight initializers: every law with its parameters, its formula, its sampler and its source.

Each law registers a sampler ``draw(p, shape, rng, activation, weight_shape)``, a display
formula, a pydantic model of its parameters (``initlab.params``: one validation for every
registry) and the framework source its formula follows. Shapes follow ``initlab.inits.fans``:
``(n_out, n_in)``, fan_in = n_in, PyTorch's layout.

Names. The plain names are PyTorch's laws, untruncated: ``he_normal`` is
``kaiming_normal_``, ``xavier_normal`` (alias ``glorot_normal``) is ``xavier_normal_``,
``lecun_normal`` is N(0, 1/fan_in). Keras and JAX use the same words for *truncated* normals
(``variance_scaling`` presets), so their laws carry the framework in a dotted name:
``keras.he_normal``, ``jax.lecun_normal``, … — each an alias of ``variance_scaling`` with that
framework's preset. Bare ``xavier`` and ``glorot`` are retired: they meant three different laws
in three sources.

Every sampler draws float64 from the caller's stream: an ``initlab.inits.fastrng.FastStream``
(what ``rng: numpy`` uses), a ``numpy.random.Generator`` or a legacy ``RandomState``; the normal
family draws ``rng.standard_normal(shape)`` once and scales it, so a legacy ``RandomState``
reproduces the classic ``randn(n_out, n_in) * std`` notebooks bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BeforeValidator, PlainValidator, WithJsonSchema, model_validator

from initlab.engine.activations import ACTIVATION_NAMES
from initlab.errors import InitlabError, suggest
from initlab.inits.fans import (
    NONLINEARITIES,
    PYTORCH_GAIN_SOURCE,
    auto_gain_squared,
    fans,
    gain,
    gain_squared,
    gain_text,
)
from initlab.inits.fastrng import FastStream
from initlab.params import NoParams, Params, Registry, fmt_value, number

__all__ = ["INITIALIZER_NAMES", "REGISTRY", "RETIRED", "TRUNCATED_STD", "catalogue", "describe",
           "fans", "formula", "gain", "label", "realised_std", "resolve", "sample",
           "truncated_moments"]

Rng = FastStream | np.random.Generator | np.random.RandomState

# std of N(0, 1) truncated to [−2, 2]: Keras 3 and JAX divide by it in variance_scaling
TRUNCATED_STD = 0.87962566103423978
MIN_MASS = 0.05  # a truncation must keep this share of the normal (the sampler rejects the rest)

_PT = "PyTorch 2.x torch/nn/init.py"
_KERAS = "Keras 3.8 keras/src/initializers/random_initializers.py"
_JAX = "JAX 0.4 jax/_src/nn/initializers.py"


# ------------------------------------------------------------------------ parameter models

def _gain(value: Any) -> float | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number > 0 or 'auto'")
    return float(value)


def _nonlinearity(value: Any) -> str:
    choices = (*NONLINEARITIES, "auto")
    word = value.strip().lower() if isinstance(value, str) else value
    if word in choices:
        return word
    if word in ACTIVATION_NAMES:
        raise ValueError(f"has no table gain for {word}: PyTorch's calculate_gain has none; "
                         f"use nonlinearity=auto for the computed 1/√E[φ(z)²]")
    raise ValueError(f"must be one of {', '.join(choices)}{suggest(word, choices)}")


def _distribution(value: Any) -> Any:
    word = value.strip().lower() if isinstance(value, str) else value
    return "normal" if word == "untruncated_normal" else word  # Keras 3's name for it


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Real = number()
Gain = Annotated[float | str, PlainValidator(_gain), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "auto"}]})]
Nonlinearity = Annotated[str, PlainValidator(_nonlinearity), WithJsonSchema(
    {"enum": [*NONLINEARITIES, "auto"]})]
Mode = Annotated[Literal["fan_in", "fan_out"], BeforeValidator(_lower)]
ScalingMode = Annotated[Literal["fan_in", "fan_out", "fan_avg"], BeforeValidator(_lower)]
Distribution = Annotated[Literal["truncated_normal", "normal", "uniform"],
                         BeforeValidator(_distribution), WithJsonSchema(
    {"enum": ["truncated_normal", "normal", "untruncated_normal", "uniform"]})]
StdOf = Annotated[Literal["parent", "realised"], BeforeValidator(_lower)]


class ConstantParams(Params):
    """W = value everywhere."""
    value: Real = 0.0


class UniformParams(Params):
    """W ~ U(low, high); minval, maxval: Keras's names."""
    ALIASES: ClassVar[dict[str, str]] = {"minval": "low", "maxval": "high"}
    low: Real = -0.05
    high: Real = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> UniformParams:
        if self.low >= self.high:
            raise ValueError(f"parameter 'low' must be < 'high', got low={fmt_value(self.low)}, "
                             f"high={fmt_value(self.high)}")
        return self


class NormalParams(Params):
    """W ~ N(mean, std²); stddev: Keras's and JAX's name of std."""
    ALIASES: ClassVar[dict[str, str]] = {"stddev": "std"}
    mean: Real = 0.0
    std: number(gt=0.0) = 1.0


_CUTS = {"cut": ("cut",), "a, b": ("a", "b"), "lower, upper": ("lower", "upper")}


class TruncatedParams(Params):
    """W ~ N(mean, std²) redrawn outside the bounds: cut (±cut·std), or a, b (absolute, PyTorch's
    trunc_normal_), or lower, upper (in std units, JAX's truncated_normal); std_of: whose std
    ``std`` is."""
    ALIASES: ClassVar[dict[str, str]] = {"stddev": "std"}
    mean: Real = 0.0
    std: number(gt=0.0) = 1.0
    cut: number(ge=0.1) | None = None
    a: Real | None = None
    b: Real | None = None
    lower: Real | None = None
    upper: Real | None = None
    std_of: StdOf = "parent"

    @model_validator(mode="before")
    @classmethod
    def _one_scheme(cls, data: Any) -> Any:
        """Exactly one bound scheme; none given is cut = 2; a lone bound takes its framework's
        default partner (PyTorch: a = −2, b = 2; JAX: lower = −2, upper = 2)."""
        if not isinstance(data, dict):
            return data
        d = dict(data)
        given = [s for s, keys in _CUTS.items() if any(d.get(k) is not None for k in keys)]
        if len(given) > 1:
            raise ValueError(f"give one truncation: cut, (a, b) or (lower, upper); got "
                             f"{' and '.join(given)}")
        if not given:
            d["cut"] = 2.0
        elif given[0] != "cut":
            low, high = _CUTS[given[0]]
            d[low] = -2.0 if d.get(low) is None else d[low]
            d[high] = 2.0 if d.get(high) is None else d[high]
        return d

    @model_validator(mode="after")
    def _bounds(self) -> TruncatedParams:
        for low, high in (("a", "b"), ("lower", "upper")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and lo >= hi:
                raise ValueError(f"parameter '{low}' must be < '{high}', got {low}={fmt_value(lo)}"
                                 f", {high}={fmt_value(hi)}")
        if self.a is not None and self.std_of == "realised":
            raise ValueError("std_of=realised needs bounds in std units (cut, or lower and "
                             "upper): with absolute a, b the realised std is set by a, b and std")
        alpha, beta = _std_bounds(self.model_dump())
        mass = _mass(alpha, beta)
        if mass < MIN_MASS:
            raise ValueError(f"the bounds keep {100 * mass:.2g}% of the normal, below "
                             f"{100 * MIN_MASS:g}%: widen them or move the mean inside")
        return self


class GainParams(Params):
    """gain: a number > 0, or 'auto' for 1/√E[φ(z)²] of the layer's activation."""
    gain: Gain = 1.0


class HeParams(Params):
    """σ = gain/√fan, fan = fan_in or fan_out by mode; the gain from nonlinearity (PyTorch's
    calculate_gain table, or auto) or given as gain (a number or auto), not both; slope (alias a,
    negative_slope): leaky_relu's, and alone it means nonlinearity=leaky_relu, as PyTorch's
    kaiming_normal_(a=…) does."""
    ALIASES: ClassVar[dict[str, str]] = {"a": "slope", "negative_slope": "slope"}
    mode: Mode = "fan_in"
    nonlinearity: Nonlinearity | None = "relu"
    slope: number(ge=0.0) | None = None
    gain: Gain | None = None

    @model_validator(mode="before")
    @classmethod
    def _which_gain(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        d = dict(data)
        nl, g, slope = d.get("nonlinearity"), d.get("gain"), d.get("slope")
        if g is not None:
            if nl is not None:
                raise ValueError("give gain or nonlinearity, not both (gain replaces the "
                                 "nonlinearity's gain)")
            d["nonlinearity"] = None
        elif nl is None:
            d["nonlinearity"] = "leaky_relu" if slope is not None else "relu"
        return d

    @model_validator(mode="after")
    def _slope_fits(self) -> HeParams:
        if self.slope is not None and self.nonlinearity != "leaky_relu":
            now = f"gain={fmt_value(self.gain)}" if self.gain is not None else (
                f"nonlinearity={self.nonlinearity}")
            raise ValueError(f"parameter 'slope' is leaky_relu's negative slope and has no use "
                             f"with {now}; give nonlinearity=leaky_relu or drop it")
        return self


class VarianceScalingParams(Params):
    """σ² = scale/n, n = fan_in, fan_out or (fan_in + fan_out)/2; distribution truncated_normal
    (cut at ±2σ', σ' = σ/0.8796), normal (untruncated; Keras: untruncated_normal) or uniform."""
    scale: number(gt=0.0) = 1.0
    mode: ScalingMode = "fan_in"
    distribution: Distribution = "truncated_normal"


class SparseParams(Params):
    """A ceil(sparsity·rows) share of each column zero, the rest N(0, std²)."""
    ALIASES: ClassVar[dict[str, str]] = {"stddev": "std"}
    sparsity: number(ge=0.0, le=1.0) = 0.1
    std: number(gt=0.0) = 0.01


# -------------------------------------------------------------------------------- the laws

@dataclass(frozen=True)
class Law:
    """A sampler, its display formula (text with {param} fields, or a function of the
    parameters), its note for ``initlab inits`` and the source whose formula it follows."""

    draw: Callable[..., np.ndarray]
    formula: str | Callable[[dict], str]
    note: str
    source: str = ""
    title: str = ""


LAWS: dict[str, Law] = {}
_MODELS: dict[str, type[Params]] = {}


def _words(text: str) -> str:
    return " ".join(text.split())


def _register(name: str, formula: str | Callable[[dict], str], model: type[Params] = NoParams,
              source: str = "", title: str = ""):
    """Register a sampler ``fn(params, shape, rng, activation, weight_shape)``; its docstring is
    the law's note, ``title`` the law in a few words."""
    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        LAWS[name] = Law(fn, formula, _words(fn.__doc__), source, title or name)
        _MODELS[name] = model
        return fn
    return deco


def _from_std(rng: Rng, shape: tuple[int, ...], std: float, uniform: bool, mean: float = 0.0):
    """One draw with standard deviation ``std``: z·std (+ mean), or U(-b, b) with b = √3·std."""
    if uniform:
        bound = math.sqrt(3.0) * std
        return rng.uniform(-bound, bound, shape)
    z = rng.standard_normal(shape) * std
    return z + mean if mean != 0 else z


def _gain_squared(g: float | str, activation: Any) -> float:
    return auto_gain_squared(activation) if g == "auto" else g * g


def _family(prefix: str, std_text: str, model: type[Params] = NoParams, normal_note: str = "",
            sources: tuple[str, str] = ("", ""), title: str = ""):
    """Register ``prefix_normal`` (N(0, σ²)) and ``prefix_uniform`` (U(-√3σ, √3σ)) from one σ;
    ``normal_note`` is appended to the normal variant's note only; ``sources`` (normal,
    uniform); ``title`` the family's name ('He/Kaiming')."""
    def deco(std: Callable[[dict, tuple[int, ...], Any], float]):
        gain_part = "  [gain={gain}]" if model is not NoParams else ""
        for uniform, law in ((True, "U(-b, b), b = √3 · σ"), (False, "N(0, σ²)")):
            def draw(p, shape, rng, act, weight_shape=None, uniform=uniform):
                return _from_std(rng, shape, std(p, shape, act), uniform)
            name = f"{prefix}_{'uniform' if uniform else 'normal'}"
            note = f"W ~ {law}, {_words(std.__doc__).rstrip('.')}{'' if uniform else normal_note}"
            kind = "uniform" if uniform else "normal, untruncated"
            LAWS[name] = Law(draw, f"{law}, σ = {std_text}{gain_part}", note,
                             sources[1 if uniform else 0], f"{title} {kind}")
            _MODELS[name] = model
        return std
    return deco


# ----------------------------------------------------------------------- truncated normals

def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _mass(alpha: float, beta: float) -> float:
    """Z = Φ(β) − Φ(α), the share of N(0, 1) in [α, β]."""
    return _cdf(beta) - _cdf(alpha)


def truncated_moments(alpha: float, beta: float) -> tuple[float, float]:
    """(mean, variance) of N(0, 1) truncated to [α, β]: mean (φ(α) − φ(β))/Z, variance
    1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)², Z = Φ(β) − Φ(α)."""
    z = _mass(alpha, beta)
    pa, pb = _pdf(alpha), _pdf(beta)
    mean = (pa - pb) / z
    return mean, 1.0 + (alpha * pa - beta * pb) / z - mean * mean


def _truncated_factor(cut: float) -> float:
    """Var[Z | |Z| <= c] for Z ~ N(0, 1): 1 - 2c·φ(c)/(2Φ(c) - 1), with 2Φ(c) - 1 = erf(c/√2)."""
    return 1.0 - 2.0 * cut * _pdf(cut) / math.erf(cut / math.sqrt(2.0))


def _std_bounds(p: dict) -> tuple[float, float]:
    """The truncation [α, β] in units of the parent σ = std (std_of=parent)."""
    if p.get("cut") is not None:
        return -p["cut"], p["cut"]
    if p.get("lower") is not None:
        return p["lower"], p["upper"]
    return (p["a"] - p["mean"]) / p["std"], (p["b"] - p["mean"]) / p["std"]


def _parent_sigma(p: dict) -> float:
    """σ of the normal before truncation: std, or std/√Var[truncated N(0,1)] (std_of=realised)."""
    if p["std_of"] == "parent":
        return p["std"]
    if p.get("cut") is not None:  # the symmetric closed form: keeps the old numbers bit for bit
        return p["std"] / math.sqrt(_truncated_factor(p["cut"]))
    return p["std"] / math.sqrt(truncated_moments(*_std_bounds(p))[1])


def _truncated_z(rng: Rng, shape: tuple[int, ...], alpha: float, beta: float) -> np.ndarray:
    """z ~ N(0, 1) kept to [α, β]: draw, then redraw only the rejected entries, in order
    (deterministic for a seeded stream)."""
    z = rng.standard_normal(shape)
    bad = (z < alpha) | (z > beta)
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = (z < alpha) | (z > beta)
    return z


def _truncated_realised(p: dict) -> tuple[float, float]:
    """(mean, std) of the drawn values, closed form."""
    alpha, beta = _std_bounds(p)
    sigma = _parent_sigma(p)
    m, var = truncated_moments(alpha, beta)
    return p["mean"] + sigma * m, sigma * math.sqrt(var)


def _truncated_formula(p: dict) -> str:
    sigma, (mean, realised) = _parent_sigma(p), _truncated_realised(p)
    if p.get("cut") is not None:
        where = f"outside μ ± {fmt_value(p['cut'])}σ"
    elif p.get("a") is not None:
        where = f"outside [a, b] = [{fmt_value(p['a'])}, {fmt_value(p['b'])}]"
    else:
        ends = [f"μ {'-' if v < 0 else '+'} {fmt_value(abs(v))}σ" for v in (p["lower"], p["upper"])]
        where = f"outside [{ends[0]}, {ends[1]}]"
    parent = (f"σ = {fmt_value(p['std'])}" if p["std_of"] == "parent"
              else f"σ = {sigma:.4g} (std_of=realised)")
    shift = "" if abs(mean - p["mean"]) < 1e-12 * max(1.0, sigma) else f", sample mean {mean:.4g}"
    factor = realised / sigma
    return (f"N(μ, σ²) redrawn {where}, μ = {fmt_value(p['mean'])}, {parent}, "
            f"sample std = σ·√{factor * factor:.4f} = {realised:.4g}{shift}")


# --------------------------------------------------------------------------- the registry

@_register("zeros", "W = 0", source=f"{_PT}, zeros_", title="zeros")
def _zeros(p, shape, rng, act, weight_shape=None):
    """W = 0 everywhere (every unit stays identical: the symmetry failure)."""
    return np.zeros(shape)


@_register("ones", "W = 1", source=f"{_PT}, ones_", title="ones")
def _ones(p, shape, rng, act, weight_shape=None):
    """W = 1 everywhere."""
    return np.ones(shape)


@_register("constant", "W = {value}", ConstantParams, f"{_PT}, constant_", "a constant")
def _constant(p, shape, rng, act, weight_shape=None):
    """W = value everywhere."""
    return np.full(shape, p["value"], dtype=np.float64)


@_register("uniform", "U({low}, {high})", UniformParams,
           f"{_PT}, uniform_(a, b); {_KERAS}, RandomUniform(minval, maxval)", "uniform")
def _uniform(p, shape, rng, act, weight_shape=None):
    """W ~ U(low, high): mean (low + high)/2, variance (high - low)²/12."""
    return rng.uniform(p["low"], p["high"], shape)


@_register("normal", "N(μ, σ²), μ = {mean}, σ = {std}", NormalParams,
           f"{_PT}, normal_(mean, std); {_KERAS}, RandomNormal(mean, stddev)", "normal")
def _normal(p, shape, rng, act, weight_shape=None):
    """W ~ N(mean, std²), drawn as z·std + mean with z ~ N(0, 1)."""
    return _from_std(rng, shape, p["std"], False, p["mean"])


@_register("truncated_normal", _truncated_formula, TruncatedParams,
           f"{_PT}, trunc_normal_(mean, std, a=-2, b=2); {_JAX}, truncated_normal(stddev, "
           f"lower=-2, upper=2); {_KERAS}, TruncatedNormal (cut = 2)", "truncated normal")
def _truncated_normal(p, shape, rng, act, weight_shape=None):
    """W ~ N(mean, σ²) redrawn outside the bounds, given one way: cut c (|W − mean| <= c·σ, the
    default c = 2, Keras's TruncatedNormal), or absolute a, b (a <= W <= b, PyTorch's
    trunc_normal_), or lower, upper in σ units (mean + lower·σ <= W <= mean + upper·σ, JAX's
    truncated_normal). Var = σ²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²], Z = Φ(β) − Φ(α),
    [α, β] the bounds in σ units; an asymmetric cut shifts the mean by σ(φ(α) − φ(β))/Z.
    std_of=realised makes std the drawn values' std (cut or lower/upper only)."""
    alpha, beta = _std_bounds(p)
    z = _truncated_z(rng, shape, alpha, beta) * _parent_sigma(p)
    w = z + p["mean"] if p["mean"] != 0 else z
    return np.clip(w, p["a"], p["b"]) if p.get("a") is not None else w  # rounding at a, b


@_family("xavier", "gain · √(2/(fan_in+fan_out))", GainParams,
         sources=(f"{_PT}, xavier_normal_(gain)", f"{_PT}, xavier_uniform_(gain)"),
         title="Glorot/Xavier (PyTorch's)",
         normal_note="; PyTorch's xavier_normal_, untruncated (Keras's/JAX's glorot_normal is "
                     "truncated: keras.glorot_normal, jax.glorot_normal)")
def _xavier_std(p, shape, act):
    """σ² = gain²·2/(fan_in + fan_out) (Glorot & Bengio 2010)."""
    fan_in, fan_out = fans(shape)
    return math.sqrt(_gain_squared(p["gain"], act) * 2.0 / (fan_in + fan_out))


def _he_gain_squared(p: dict, act: Any) -> float:
    if p.get("gain") is not None:
        return _gain_squared(p["gain"], act)
    if p["nonlinearity"] == "auto":
        return auto_gain_squared(act)
    return gain_squared(p["nonlinearity"], p["slope"])


@_family("he", "gain/√{fan}", HeParams,
         sources=(f"{_PT}, kaiming_normal_(a, mode, nonlinearity)",
                  f"{_PT}, kaiming_uniform_(a, mode, nonlinearity)"),
         title="He/Kaiming (PyTorch's)",
         normal_note="; PyTorch's kaiming_normal_, untruncated (Keras's/JAX's he_normal is "
                     "truncated: keras.he_normal, jax.he_normal)")
def _he_std(p, shape, act):
    """σ² = gain²/fan, fan = fan_in or fan_out by mode (He et al. 2015)."""
    fan_in, fan_out = fans(shape)
    return math.sqrt(_he_gain_squared(p, act) / (fan_in if p["mode"] == "fan_in" else fan_out))


@_family("lecun", "1/√fan_in", sources=(
    f"LeCun et al. 1998; = {_PT}, kaiming_normal_(nonlinearity='linear')",
    f"LeCun et al. 1998; = {_PT}, kaiming_uniform_(nonlinearity='linear')"), title="LeCun",
    normal_note="; the N(0,1)/√fan_in that CS231n calls 'Xavier'; untruncated (Keras's/JAX's "
                "lecun_normal is truncated: keras.lecun_normal, jax.lecun_normal)")
def _lecun_std(p, shape, act):
    """σ² = 1/fan_in (LeCun et al. 1998)."""
    return math.sqrt(1.0 / fans(shape)[0])


def _scaling_n(p: dict, shape: tuple[int, ...]) -> float:
    fan_in, fan_out = fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[p["mode"]]


def _scaling_formula(p: dict) -> str:
    n = {"fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "((fan_in+fan_out)/2)"}[p["mode"]]
    sigma = f"σ = √({fmt_value(p['scale'])}/{n})"
    if p["distribution"] == "truncated_normal":
        return (f"N(0, σ'²) redrawn outside ±2σ', σ' = σ/{TRUNCATED_STD:.8f}, {sigma}; "
                f"sample std = σ")
    if p["distribution"] == "normal":
        return f"N(0, σ²), {sigma}"
    return f"U(-b, b), b = √3 · σ, {sigma}"


@_register("variance_scaling", _scaling_formula, VarianceScalingParams,
           f"{_KERAS}, VarianceScaling; {_JAX}, variance_scaling",
           "variance scaling (Keras 3, JAX)")
def _variance_scaling(p, shape, rng, act, weight_shape=None):
    """Keras 3's and JAX's variance_scaling (formula of Keras 3.8 VarianceScaling and JAX 0.4
    jax.nn.initializers.variance_scaling): σ² = scale/n, n = fan_in, fan_out or
    (fan_in + fan_out)/2 by mode; truncated_normal: N(0, σ'²) cut at ±2σ' with
    σ' = σ/0.87962566103423978 (the std of N(0, 1) cut to [−2, 2]), so the sample std is σ;
    normal: N(0, σ²), untruncated (JAX's 'normal'; Keras 3 reads 'normal' as truncated_normal and
    calls this one untruncated_normal, also accepted); uniform: U(±√(3σ²)). Fans from initlab's
    (n_out, n_in) layout, the transpose of Keras's and JAX's (n_in, n_out) kernel."""
    sigma = math.sqrt(p["scale"] / _scaling_n(p, shape))
    if p["distribution"] == "truncated_normal":
        return _truncated_z(rng, shape, -2.0, 2.0) * (sigma / TRUNCATED_STD)
    return _from_std(rng, shape, sigma, p["distribution"] == "uniform")


@_register("sparse", "{sparsity} of each column 0, the rest N(0, σ²), σ = {std}", SparseParams,
           f"{_PT}, sparse_(sparsity, std=0.01)", "sparse columns (PyTorch's)")
def _sparse(p, shape, rng, act, weight_shape=None):
    """PyTorch's sparse_ (Martens 2010): W ~ N(0, std²), then in every column ceil(sparsity·rows)
    entries, at rows picked uniformly at random, set to 0; the rows come from the ranks of
    uniform draws of the same stream, so the law is deterministic from its stream."""
    if len(shape) != 2:
        raise InitlabError(f"sparse needs a matrix shape (n_out, n_in), got {tuple(shape)}")
    rows = shape[0]
    zeros = math.ceil(p["sparsity"] * rows)
    w = rng.standard_normal(shape) * p["std"]
    if zeros:
        order = np.argsort(rng.uniform(0.0, 1.0, shape), axis=0, kind="stable")
        np.put_along_axis(w, order[:zeros], 0.0, axis=0)
    return w


@_register("fan_in_uniform", "U(-b, b), b = 1/√fan_in of the layer's weight",
           source="PyTorch 2.x torch/nn/modules/linear.py, Linear.reset_parameters (bias)",
           title="bias U(±1/√fan_in of the weight) (PyTorch's nn.Linear)")
def _fan_in_uniform(p, shape, rng, act, weight_shape=None):
    """A bias law: b ~ U(±1/√fan_in), fan_in that of the layer's weight W (PyTorch's nn.Linear
    bias default); needs the weight's shape, so it cannot draw weights."""
    if weight_shape is None:
        raise InitlabError("fan_in_uniform is a bias law, U(±1/√fan_in of the layer's weight): "
                           "it needs the weight's shape; use it for init.bias")
    bound = 1.0 / math.sqrt(fans(weight_shape)[0])
    return rng.uniform(-bound, bound, shape)


@_register("orthogonal", "W = gain · Q, Q orthonormal from QR of N(0,1)  [gain={gain}]",
           GainParams, f"{_PT}, orthogonal_(gain)", "orthogonal")
def _orthogonal(p, shape, rng, act, weight_shape=None):
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
    return (q * math.sqrt(_gain_squared(p["gain"], act))).reshape(shape)


@_register("identity", "W = gain · I(n_out, n_in)  [gain={gain}]", GainParams,
           f"{_PT}, eye_ (times gain)", "identity")
def _identity(p, shape, rng, act, weight_shape=None):
    """W = gain·I(n_out, n_in): ones on the main diagonal, zeros elsewhere."""
    if len(shape) != 2:
        raise InitlabError(f"identity needs a matrix shape (n_out, n_in), got {tuple(shape)}")
    return np.eye(*shape) * math.sqrt(_gain_squared(p["gain"], act))


def _vs(scale: float, mode: str, distribution: str) -> dict:
    return {"scale": scale, "mode": mode, "distribution": distribution}


# Keras 3 (HeNormal, …: VarianceScaling subclasses) and jax.nn.initializers (variance_scaling
# partials) define the same six presets; JAX also exports xavier_* and kaiming_* aliases.
_PRESETS = {
    "he_normal": _vs(2.0, "fan_in", "truncated_normal"),
    "he_uniform": _vs(2.0, "fan_in", "uniform"),
    "glorot_normal": _vs(1.0, "fan_avg", "truncated_normal"),
    "glorot_uniform": _vs(1.0, "fan_avg", "uniform"),
    "lecun_normal": _vs(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _vs(1.0, "fan_in", "uniform"),
}
_JAX_ALIASES = {"xavier_normal": "glorot_normal", "xavier_uniform": "glorot_uniform",
                "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform"}


def _preset_note(framework: str, name: str, p: dict) -> str:
    args = f"{fmt_value(p['scale'])}, {p['mode']}, {p['distribution']}"
    kind = ("truncated at ±2σ', sample std σ" if p["distribution"] == "truncated_normal"
            else "uniform")
    return f"{framework}'s {name} = variance_scaling({args}), {kind}"


_ALIASES: dict[str, tuple[str, dict, str]] = {
    "random": ("normal", {"std": 10.0}, "Coursera 'random' init: randn·10, deliberately too large"),
    "small": ("normal", {"std": 0.01}, "CS231n 'small random numbers': 0.01·randn"),
    "big": ("normal", {"std": 1.0}, "CS231n: plain randn, saturates tanh in deep nets"),
    "glorot_normal": ("xavier_normal", {}, "Glorot & Bengio's name; PyTorch's xavier_normal_, "
                      "untruncated (Keras's glorot_normal is truncated: keras.glorot_normal)"),
    "glorot_uniform": ("xavier_uniform", {}, "Glorot & Bengio's name; PyTorch's "
                       "xavier_uniform_, Keras's Dense default (keras.glorot_uniform, the same "
                       "law)"),
    "he": ("he_normal", {}, "He/Kaiming normal, relu gain, fan_in"),
    "kaiming": ("he_normal", {}, "He/Kaiming normal, relu gain, fan_in"),
    "kaiming_normal": ("he_normal", {}, "PyTorch name of he_normal (kaiming_normal_, "
                       "untruncated)"),
    "kaiming_uniform": ("he_uniform", {}, "PyTorch name of he_uniform (kaiming_uniform_)"),
    "lecun": ("lecun_normal", {}, "LeCun normal, the N(0,1)/√fan_in CS231n calls 'Xavier'"),
    "torch_linear": ("he_uniform", {"nonlinearity": "leaky_relu", "slope": math.sqrt(5.0)},
                     "PyTorch's nn.Linear weight default, kaiming_uniform_(a=√5): gain² = "
                     "2/(1+5), b = √3·gain/√fan_in = 1/√fan_in (torch/nn/modules/linear.py, "
                     "Linear.reset_parameters)"),
    **{f"keras.{name}": ("variance_scaling", p, _preset_note("Keras 3.8", name, p))
       for name, p in _PRESETS.items()},
    **{f"jax.{name}": ("variance_scaling", p, _preset_note("JAX 0.4", name, p))
       for name, p in _PRESETS.items()},
    **{f"jax.{name}": ("variance_scaling", _PRESETS[target],
                       _preset_note("JAX 0.4", f"{name} (= {target})", _PRESETS[target]))
       for name, target in _JAX_ALIASES.items()},
}

_AMBIGUOUS = ("is ambiguous, so it is retired: write xavier_normal (PyTorch's xavier_normal_, "
              "N(0, 2/(fan_in+fan_out))), xavier_uniform (Glorot & Bengio's normalized init, "
              "Keras's Dense default) or lecun_normal (N(0, 1/fan_in), what CS231n calls Xavier)")
RETIRED: dict[str, str] = {"xavier": _AMBIGUOUS, "glorot": _AMBIGUOUS}

REGISTRY = Registry("initializer", _MODELS, {a: (t, p) for a, (t, p, _) in _ALIASES.items()},
                    RETIRED)
INITIALIZER_NAMES: tuple[str, ...] = REGISTRY.names


def resolve(spec: str | dict) -> tuple[str, dict]:
    """Spec ('he', 'normal(std=0.5)' or {'name': 'normal', 'std': 0.5}) -> (canonical, params)."""
    found = REGISTRY.resolve(spec)
    return found.name, found.params


def label(spec: str | dict) -> str:
    """Short display label keeping the name as written: 'he', 'random', 'normal(std=0.5)'."""
    return REGISTRY.resolve(spec).label


def sample(name: str, params: dict, shape: tuple[int, ...], rng: Rng,
           activation: Any = None, weight_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Float64 array of ``shape`` drawn from ``rng``. ``activation`` (a name, a spec such as
    'leaky_relu(slope=0.2)', or an ``Activation``) feeds only 'auto' gains; ``weight_shape``,
    the layer's weight shape when ``shape`` is its bias, feeds only laws that take the weight's
    fans (fan_in_uniform): every other law gives a bias the fans of its own shape."""
    canonical, full = resolve({**params, "name": name})
    dims = tuple(int(s) for s in shape)
    fans(dims)  # validates the shape
    if weight_shape is not None:
        weight_shape = tuple(int(s) for s in weight_shape)
        fans(weight_shape)
    out = LAWS[canonical].draw(full, dims, rng, activation, weight_shape)
    return np.asarray(out, dtype=np.float64)


def formula(name: str, params: dict) -> str:
    """Human-readable law, e.g. 'N(0, σ²), σ = gain/√fan_in  [gain=√2 (relu)]'."""
    canonical, p = resolve({**params, "name": name})
    template = LAWS[canonical].formula
    if callable(template):
        return template(p)
    ctx = {k: fmt_value(v) for k, v in p.items()}
    if p.get("gain") is not None:
        ctx["gain"] = gain_text("auto", None) if p["gain"] == "auto" else fmt_value(p["gain"])
    elif "nonlinearity" in p:
        ctx["gain"] = gain_text(p["nonlinearity"], p["slope"], fmt_value)
    if "mode" in p:
        ctx["fan"] = p["mode"]
    return template.format(**ctx)


def realised_std(name: str, params: dict) -> float | None:
    """The std of the values a law draws when it does not depend on the shape or the activation
    (normal, uniform, constants, truncated_normal in closed form); None otherwise."""
    canonical, p = resolve({**params, "name": name})
    if canonical in ("zeros", "ones", "constant"):
        return 0.0
    if canonical == "normal":
        return p["std"]
    if canonical == "uniform":
        return (p["high"] - p["low"]) / math.sqrt(12.0)
    if canonical == "truncated_normal":
        return _truncated_realised(p)[1]
    return None


def describe(spec: str | dict) -> list[tuple[str, str]]:
    """(what, value) lines for ``initlab inits NAME``: the name (and what it is an alias of),
    the law, every parameter with its value ('(default)' where the spec left the model's
    default, '(implied)' where another parameter set it, as slope sets leaky_relu), the formula,
    the realised std where it does not depend on the shape, the note (and the alias's), the
    source."""
    found = REGISTRY.resolve(spec)
    law, model = LAWS[found.name], _MODELS[found.name]
    alias = _ALIASES.get(found.given)
    lines = [("name", found.label)]
    if alias is not None:
        preset = ", ".join(f"{k}={fmt_value(v)}" for k, v in alias[1].items())
        lines.append(("alias of", f"{alias[0]}({preset})" if preset else alias[0]))
    lines.append(("law", f"{found.name}: {law.title}"))
    given = set(found.user) | set(alias[1] if alias else ())
    for key, value in found.params.items():
        if value is None:
            continue
        others = [a for a, target in model.ALIASES.items() if target == key]
        also = f" (alias {', '.join(others)})" if others else ""
        how = ("" if key in given else " (default)" if value == model.model_fields[key].default
               else " (implied)")
        lines.append((f"parameter {key}{also}", fmt_value(value) + how))
    lines.append(("formula", formula(found.name, found.params)))
    std = realised_std(found.name, found.params)
    if std is not None:
        lines.append(("realised std", f"{std:.6g}"))
    lines.append(("note", law.note))
    if alias is not None:
        lines.append(("alias note", alias[2]))
    if "nonlinearity" in found.params:
        lines.append(("gains", f"nonlinearity: {PYTORCH_GAIN_SOURCE}; auto: 1/√E[φ(z)²]"))
    if law.source:
        lines.append(("source", law.source))
    return lines


def catalogue() -> list[dict]:
    """One entry per canonical initializer, then one per alias, for ``initlab inits`` (retired
    names are not listed)."""
    rows = [{"name": n, "kind": "init", "params": resolve(n)[1], "formula": formula(n, {}),
             "note": law.note} for n, law in LAWS.items()]
    for alias, (target, _, note) in _ALIASES.items():
        canonical, params = resolve(alias)
        rows.append({"name": alias, "kind": "alias", "params": params,
                     "formula": formula(canonical, params), "note": f"alias of {target}: {note}"})
    return rows

