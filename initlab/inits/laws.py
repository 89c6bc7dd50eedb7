"""Weight initializers: a registry of named laws, spec parsing, sampling and display formulas.

Layout: a weight matrix has shape ``(n_out, n_in)`` like PyTorch's ``Linear``, so
``fan_in = shape[1]`` and ``fan_out = shape[0]``. A bias has shape ``(n_out,)`` and is drawn by
the same registry with ``fan_in = fan_out = shape[0]``. Shapes with more than two axes
``(n_out, n_in, *kernel)`` multiply both fans by the kernel size, as PyTorch does.

Every sampler draws float64 from the caller's stream: an ``initlab.fastrng.FastStream`` (what
``rng: numpy`` uses), a ``numpy.random.Generator`` or a legacy ``RandomState``; the normal family
draws ``rng.standard_normal(shape)`` once and scales it, so a legacy ``RandomState`` reproduces
the classic ``randn(n_out, n_in) * std`` notebooks bit for bit.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initlab.errors import InitlabError
from initlab.inits.fastrng import FastStream

Rng = FastStream | np.random.Generator | np.random.RandomState

# Squared gains are the exact source of truth (relu: 2.0, so he_normal == randn * sqrt(2./n_in)).
_GAIN_SQUARED = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "softmax": 1.0, "gelu": 1.0,
                 "tanh": 25.0 / 9.0, "relu": 2.0, "selu": 9.0 / 16.0}
_GAIN_TEXT = {"tanh": "5/3", "relu": "√2", "selu": "3/4"}
NONLINEARITIES: tuple[str, ...] = tuple(sorted([*_GAIN_SQUARED, "leaky_relu"]))


def _gain_squared(nonlinearity: str | None, param: float | None = None) -> float:
    nl = "linear" if nonlinearity is None else str(nonlinearity).strip().lower()
    if nl == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return 2.0 / (1.0 + slope * slope)
    if nl not in _GAIN_SQUARED:
        valid = ", ".join(NONLINEARITIES)
        raise InitlabError(f"unknown nonlinearity {nonlinearity!r}; valid: {valid}")
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
    return math.sqrt(_gain_squared(nonlinearity, param))


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(n_out, n_in, *kernel)`` shape; a 1-D ``(n,)`` gives ``(n, n)``."""
    dims = tuple(int(s) for s in shape)
    if not dims or min(dims) < 1:
        raise InitlabError(f"cannot initialise shape {dims}: need at least one axis, all >= 1")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


_RANGES = {"real": "a finite number", "pos": "a number > 0", "nonneg": "a number >= 0",
           "gain": "a number > 0 or 'auto'", "cut": "a number >= 0.1 (in σ units)"}


@dataclass(frozen=True)
class _Param:
    default: object
    kind: str = "real"            # a key of _RANGES, or "choice"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Init:
    draw: Callable[..., np.ndarray]
    formula: str | Callable[[dict], str]
    params: dict[str, _Param]
    note: str


_REGISTRY: dict[str, _Init] = {}


def _register(name: str, formula: str | Callable[[dict], str], **params: _Param):
    """Register a sampler ``fn(params, shape, rng, activation)``; its docstring is the law."""
    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        _REGISTRY[name] = _Init(fn, formula, params, fn.__doc__.strip())
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
    return _gain_squared(activation) if g == "auto" else g * g


def _family(prefix: str, std_text: str, normal_note: str = "", **params: _Param):
    """Register ``prefix_normal`` (N(0, σ²)) and ``prefix_uniform`` (U(-√3σ, √3σ)) from one σ;
    ``normal_note`` is appended to the normal variant's note only."""
    def deco(std: Callable[[dict, tuple[int, ...], str | None], float]):
        gain_text = "  [gain={gain}]" if params else ""
        for uniform, law in ((True, "U(-b, b), b = √3 · σ"), (False, "N(0, σ²)")):
            def draw(p, shape, rng, act, uniform=uniform):
                return _from_std(rng, shape, std(p, shape, act), uniform)
            _REGISTRY[f"{prefix}_{'uniform' if uniform else 'normal'}"] = _Init(
                draw, f"{law}, σ = {std_text}{gain_text}", params,
                f"W ~ {law}, {std.__doc__.strip().rstrip('.')}{'' if uniform else normal_note}")
        return std
    return deco


def _truncated_factor(cut: float) -> float:
    """Var[Z | |Z| <= c] for Z ~ N(0, 1): 1 - 2c·φ(c)/(2Φ(c) - 1), with 2Φ(c) - 1 = erf(c/√2)."""
    phi = math.exp(-0.5 * cut * cut) / math.sqrt(2.0 * math.pi)
    return 1.0 - 2.0 * cut * phi / math.erf(cut / math.sqrt(2.0))


def _truncated_formula(p: dict) -> str:
    std, factor = _fmt(p["std"]), _truncated_factor(p["cut"])
    sigma = (f"σ = {std}, sample std = σ·√{factor:.4f}" if p["std_of"] == "parent"
             else f"σ = {std}/√{factor:.4f}, sample std = {std}")
    return f"N(μ, σ²) redrawn outside μ ± {_fmt(p['cut'])}σ, μ = {_fmt(p['mean'])}, {sigma}"


_GAIN = _Param(1.0, "gain")
_HE = {"mode": _Param("fan_in", "choice", ("fan_in", "fan_out")),
       "nonlinearity": _Param("relu", "choice", (*NONLINEARITIES, "auto")),
       "slope": _Param(0.01, "nonneg")}


@_register("zeros", "W = 0")
def _zeros(p, shape, rng, act):
    """W = 0 everywhere (every unit stays identical: the symmetry failure)."""
    return np.zeros(shape)


@_register("ones", "W = 1")
def _ones(p, shape, rng, act):
    """W = 1 everywhere."""
    return np.ones(shape)


@_register("constant", "W = {value}", value=_Param(0.0))
def _constant(p, shape, rng, act):
    """W = value everywhere."""
    return np.full(shape, p["value"], dtype=np.float64)


@_register("uniform", "U({low}, {high})", low=_Param(-0.05), high=_Param(0.05))
def _uniform(p, shape, rng, act):
    """W ~ U(low, high): mean (low + high)/2, variance (high - low)²/12."""
    return rng.uniform(p["low"], p["high"], shape)


@_register("normal", "N(μ, σ²), μ = {mean}, σ = {std}", mean=_Param(0.0), std=_Param(1.0, "pos"))
def _normal(p, shape, rng, act):
    """W ~ N(mean, std²), drawn as z·std + mean with z ~ N(0, 1)."""
    return _from_std(rng, shape, p["std"], False, p["mean"])


@_register("truncated_normal", _truncated_formula, mean=_Param(0.0), std=_Param(1.0, "pos"),
           cut=_Param(2.0, "cut"), std_of=_Param("parent", "choice", ("parent", "realised")))
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


@_family("xavier", "gain · √(2/(fan_in+fan_out))", gain=_GAIN)
def _xavier_std(p, shape, act):
    """σ² = gain²·2/(fan_in + fan_out) (Glorot & Bengio 2010)."""
    fan_in, fan_out = fans(shape)
    return math.sqrt(_auto_gain_squared(p["gain"], act) * 2.0 / (fan_in + fan_out))


@_family("he", "gain/√{fan}", **_HE)
def _he_std(p, shape, act):
    """σ² = gain²/fan, fan = fan_in or fan_out by mode (He et al. 2015)."""
    nl = act if p["nonlinearity"] == "auto" else p["nonlinearity"]
    fan_in, fan_out = fans(shape)
    return math.sqrt(_gain_squared(nl, p["slope"]) / (fan_in if p["mode"] == "fan_in" else fan_out))


@_family("lecun", "1/√fan_in", normal_note="; the N(0,1)/√fan_in that CS231n calls 'Xavier'")
def _lecun_std(p, shape, act):
    """σ² = 1/fan_in (LeCun et al. 1998)."""
    return math.sqrt(1.0 / fans(shape)[0])


@_register("orthogonal", "W = gain · Q, Q orthonormal from QR of N(0,1)  [gain={gain}]", gain=_GAIN)
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


@_register("identity", "W = gain · I(n_out, n_in)  [gain={gain}]", gain=_GAIN)
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

INITIALIZER_NAMES: tuple[str, ...] = tuple(sorted([*_REGISTRY, *_ALIASES]))

_SPEC_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")
_ARG_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$")
_EXPECTED = "expected name or name(key=value, ...), e.g. normal(std=0.01)"


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _parse_value(text: str) -> object:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse(spec: str | dict) -> tuple[str, dict]:
    """Split a spec into (name as given, lower-cased; user parameters in the order given)."""
    if isinstance(spec, dict):
        if not isinstance(spec.get("name"), str):
            raise InitlabError("an initializer mapping needs a 'name' key, e.g. {name: normal}")
        params = {str(k).lower(): v for k, v in spec.items() if k != "name"}
        return spec["name"].strip().lower(), params
    if not isinstance(spec, str):
        raise InitlabError(f"initializer spec must be a string or a mapping, got {spec!r}")
    match = _SPEC_RE.match(spec)
    if not match:
        raise InitlabError(f"malformed initializer spec {spec!r}; {_EXPECTED}")
    params: dict[str, object] = {}
    body = (match.group(2) or "").strip()
    for part in body.split(",") if body else []:
        arg = _ARG_RE.match(part)
        if not arg or not arg.group(2):
            what = f"'{arg.group(1)}=' has no value" if arg else f"{part.strip()!r} isn't key=value"
            raise InitlabError(f"malformed initializer spec {spec!r}: {what}; {_EXPECTED}")
        key = arg.group(1).lower()
        if key in params:
            raise InitlabError(f"malformed initializer spec {spec!r}: '{key}' given twice")
        params[key] = _parse_value(arg.group(2))
    return match.group(1).lower(), params


def _lookup(name: str) -> tuple[str, dict]:
    if name in _REGISTRY:
        return name, {}
    if name in _ALIASES:
        return _ALIASES[name][0], dict(_ALIASES[name][1])
    close = difflib.get_close_matches(name, INITIALIZER_NAMES, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise InitlabError(f"unknown initializer {name!r}; valid: {', '.join(INITIALIZER_NAMES)}{hint}")


def _check(init: str, key: str, value: object) -> object:
    spec = _REGISTRY[init].params[key]
    if isinstance(value, str):
        value = _parse_value(value.strip())
    if spec.kind == "choice":
        if isinstance(value, str) and value.lower() in spec.choices:
            return value.lower()
        raise InitlabError(f"{init}: parameter '{key}' must be one of {', '.join(spec.choices)}, "
                           f"got {value!r}")
    if spec.kind == "gain" and isinstance(value, str) and value.lower() == "auto":
        return "auto"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    x = float(value) if ok else math.nan
    bounds = {"pos": x > 0, "gain": x > 0, "nonneg": x >= 0, "cut": x >= 0.1}
    if not ok or not bounds.get(spec.kind, True):
        raise InitlabError(f"{init}: parameter '{key}' must be {_RANGES[spec.kind]}, got {value!r}")
    return x


def resolve(spec: str | dict) -> tuple[str, dict]:
    """Spec ('he', 'normal(std=0.5)' or {'name': 'normal', 'std': 0.5}) -> (canonical, params)."""
    given, user = _parse(spec)
    canonical, preset = _lookup(given)
    allowed = _REGISTRY[canonical].params
    shown = f"'{given}'" if given == canonical else f"'{given}' ({canonical})"
    for key in user:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InitlabError(f"initializer {shown} has no parameter {key!r}; allowed: "
                               f"{', '.join(allowed) or 'none'}{hint}")
    params = {k: p.default for k, p in allowed.items()} | preset
    params |= {k: _check(canonical, k, v) for k, v in user.items()}
    if canonical == "uniform" and params["low"] >= params["high"]:
        low, high = _fmt(params["low"]), _fmt(params["high"])
        raise InitlabError(f"uniform: parameter 'low' must be < 'high', got low={low}, high={high}")
    return canonical, params


def label(spec: str | dict) -> str:
    """Short display label keeping the name as written: 'he', 'random', 'normal(std=0.5)'."""
    given, user = _parse(spec)
    _, params = resolve(spec)
    args = ", ".join(f"{k}={_fmt(params[k])}" for k in user)
    return f"{given}({args})" if args else given


def sample(name: str, params: dict, shape: tuple[int, ...], rng: Rng,
           activation: str | None = None) -> np.ndarray:
    """Float64 array of ``shape`` drawn from ``rng``; ``activation`` feeds only 'auto' gains."""
    canonical, full = resolve({**params, "name": name})
    dims = tuple(int(s) for s in shape)
    fans(dims)  # validates the shape
    out = _REGISTRY[canonical].draw(full, dims, rng, activation)
    return np.asarray(out, dtype=np.float64)


def _gain_text(nonlinearity: str, slope: float) -> str:
    if nonlinearity == "auto":
        return "gain(activation)"
    if nonlinearity == "leaky_relu":
        return f"√(2/(1+{_fmt(slope)}²)) (leaky_relu)"
    return f"{_GAIN_TEXT.get(nonlinearity, '1')} ({nonlinearity})"


def formula(name: str, params: dict) -> str:
    """Human-readable law, e.g. 'N(0, σ²), σ = gain/√fan_in  [gain=√2 (relu)]'."""
    canonical, p = resolve({**params, "name": name})
    template = _REGISTRY[canonical].formula
    if callable(template):
        return template(p)
    ctx = {k: _fmt(v) for k, v in p.items()}
    if "gain" in p:
        ctx["gain"] = "auto = gain(activation)" if p["gain"] == "auto" else _fmt(p["gain"])
    if "nonlinearity" in p:
        ctx["gain"], ctx["fan"] = _gain_text(p["nonlinearity"], p["slope"]), p["mode"]
    return template.format(**ctx)


def catalogue() -> list[dict]:
    """One entry per canonical initializer, then one per alias, for ``initlab inits``."""
    rows = [{"name": n, "kind": "init", "params": {k: p.default for k, p in i.params.items()},
             "formula": formula(n, {}), "note": i.note} for n, i in _REGISTRY.items()]
    for alias, (target, _, note) in _ALIASES.items():
        canonical, params = resolve(alias)
        rows.append({"name": alias, "kind": "alias", "params": params,
                     "formula": formula(canonical, params), "note": f"alias of {target}: {note}"})
    return rows
