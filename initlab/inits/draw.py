"""Starting weights of a list of experiments, drawn on the host, layer by layer.

``Initializer`` is one resolved law from ``laws`` with its parameters, or explicit arrays;
``LayerInits`` is what ``init.weights`` and ``init.bias`` resolve to for one experiment: one weight
and one bias Initializer per layer, from a single spec, a framework preset (``presets``: weights
and biases), a list with one spec per layer, or a mapping ``{default: he, last: zeros}``.
``StartingWeights`` draws W_l (E, n_out, n_in) and b_l (E, n_out) for E experiments, each from its
own streams (``streams.layer_streams(seed, kind, L)``), W_l then b_l, layer after layer, so
slice e depends only on its (initializer, seed) and never on the rest of the batch. ``run``,
``compare`` and ``probe`` all draw through it: a probe layer and a run layer of the same shape,
initializer and seed hold the same weights.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from initlab.errors import InitlabError, shown, suggest
from initlab.inits import laws, lsuv, presets, streams


@dataclass(frozen=True)
class Initializer:
    """A resolved initializer: display label, and either (name, params) or explicit values."""

    label: str
    name: str
    params: dict
    values: tuple[np.ndarray, ...] | None = None

    @property
    def auto_gain(self) -> bool:
        """Whether the gain is computed from the layer's activation (gain or nonlinearity auto)."""
        p = self.params
        return p.get("gain") == "auto" or (p.get("gain") is None
                                           and p.get("nonlinearity") == "auto")

    def formula(self) -> str:
        if self.values is not None:
            return "explicit values from the experiment file"
        return laws.formula(self.name, self.params)

    def draw(self, shape: tuple[int, ...], layer: int, stream: streams.Rng,
             activation: str | None, weight_shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Layer ``layer``'s array of ``shape`` (float64), drawn from ``stream``; a bias gets its
        layer's ``weight_shape`` (for laws that take the weight's fans)."""
        if self.values is not None:
            return self.values[layer]
        return laws.sample(self.name, self.params, shape, stream, activation=activation,
                           weight_shape=weight_shape)


def _explicit(values: Any, shapes: list[tuple[int, ...]], what: str) -> tuple[np.ndarray, ...]:
    if not isinstance(values, list) or len(values) != len(shapes):
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise InitlabError(f"init.{what}.values needs one entry per layer ({len(shapes)}), "
                           f"got {got}")
    out = []
    for l, (v, shape) in enumerate(zip(values, shapes, strict=True), start=1):
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise InitlabError(f"init.{what}.values layer {l}: not a numeric array") from None
        if arr.shape != shape:
            raise InitlabError(f"init.{what}.values layer {l} has shape {arr.shape}, "
                               f"expected {shape} (n_out, n_in)")
        out.append(arr)
    return tuple(out)


def resolve(spec: Any, shapes: list[tuple[int, ...]], what: str = "weights") -> Initializer:
    """One law spec (not a preset, list or mapping) → Initializer; ``shapes`` check explicit
    values."""
    if isinstance(spec, dict) and "values" in spec:
        extra = set(spec) - {"values"}
        if extra:
            raise InitlabError(f"init.{what}: explicit values take no other keys "
                               f"(got {sorted(extra)})")
        return Initializer("values", "values", {}, _explicit(spec["values"], shapes, what))
    if lsuv.is_lsuv(spec):
        raise InitlabError(f"init.{what}: {_LSUV_WHOLE}")
    found = _law(spec)
    return Initializer(found.label, found.name, found.params)


def _law(spec: Any) -> Any:
    """The registry's resolution of a law spec; an unknown name's message also lists the
    framework presets (which stand where a law does) and suggests the closest of all."""
    try:
        return laws.REGISTRY.resolve(spec)
    except InitlabError:
        name = spec.get("name") if isinstance(spec, dict) else spec
        word = name.split("(")[0].strip() if isinstance(name, str) else None
        if word is None or word.lower() in {*laws.REGISTRY.names, *laws.REGISTRY.retired}:
            raise
        known = [*laws.REGISTRY.names, *presets.PRESETS, *lsuv.REGISTRY.names]
        raise InitlabError(f"unknown initializer {shown(word)}; valid: "
                           f"{', '.join(laws.REGISTRY.names)}; framework presets: "
                           f"{', '.join(presets.PRESETS)}; data-dependent: "
                           f"{', '.join(lsuv.REGISTRY.names)}{suggest(word, known)}") from None


# ------------------------------------------------------------------- one initializer per layer

LAYER_NAMES = ("default", "first", "hidden", "last")  # keys of a per-layer mapping


def _is_mapping(spec: Any) -> bool:
    """A per-layer mapping {default: he, last: zeros, 2: …}, not a law written as a mapping
    ({name: normal, std: 0.5}) or explicit values."""
    return isinstance(spec, dict) and "name" not in spec and "values" not in spec


def per_layer(spec: Any, depth: int, what: str) -> list[Any]:
    """One spec per layer (1 … depth) from a spec, a list of ``depth`` specs, or a mapping.

    In a mapping, a layer takes its own number's entry, else ``last`` (layer depth), else
    ``first`` (layer 1), else ``hidden`` (the layers in between), else ``default``."""
    if isinstance(spec, list):
        if len(spec) != depth:
            raise InitlabError(f"init.{what} lists {len(spec)} initializer(s) for {depth} "
                               f"layer(s); give one per layer, or a mapping such as "
                               "{default: he, last: zeros}")
        return list(spec)
    if not _is_mapping(spec):
        return [spec] * depth
    try:
        check_mapping(spec)
    except InitlabError as exc:
        raise InitlabError(f"init.{what}: {exc}") from None
    numbered = {int(k): v for k, v in spec.items() if not isinstance(k, str) or k.isdigit()}
    out, missing = [], []
    for l in range(1, depth + 1):
        roles = [l] + (["last"] if l == depth else []) + (["first"] if l == 1 else []) + (
            ["hidden"] if 1 < l < depth else []) + ["default"]
        found = next((numbered[r] if isinstance(r, int) else spec[r] for r in roles
                      if (r in numbered if isinstance(r, int) else r in spec)), None)
        if found is None:
            missing.append(l)
        out.append(found)
    if missing:
        raise InitlabError(f"init.{what}: no initializer for layer(s) "
                           f"{', '.join(map(str, missing))} of {depth}; add a 'default' key")
    too_deep = sorted(k for k in numbered if k > depth)
    if too_deep:
        raise InitlabError(f"init.{what}: layer {too_deep[0]} does not exist, the network has "
                           f"{depth} weight layer(s) (numbered 1 … {depth})")
    return out


def check_mapping(spec: dict) -> None:
    """InitlabError unless every key of a per-layer mapping is a layer name or number ≥ 1."""
    if not spec:
        raise InitlabError("an empty mapping; write e.g. {default: he, last: zeros}")
    for key in spec:
        ok = (isinstance(key, int) and not isinstance(key, bool) and key >= 1) or (
            isinstance(key, str) and (key in LAYER_NAMES or (key.isdigit() and int(key) >= 1)))
        if not ok:
            raise InitlabError(f"unknown layer key {key!r}; valid: "
                               f"{', '.join(LAYER_NAMES)} or a layer number (1 = first)"
                               f"{suggest(key, LAYER_NAMES)}")


def check(spec: Any) -> None:
    """Validate an ``init.weights``/``init.bias`` value without the network: a law, a preset,
    explicit values, a list of laws/presets, or a per-layer mapping of them."""
    if lsuv.is_lsuv(spec):
        lsuv.resolve(spec)
        return
    if isinstance(spec, list):
        if not spec:
            raise InitlabError("an empty list; give one initializer per layer")
        items = spec
    elif _is_mapping(spec):
        check_mapping(spec)
        items = list(spec.values())
    else:
        items = [spec]
    for item in items:
        if isinstance(item, dict) and "values" in item:
            if item is not spec:
                raise InitlabError("explicit values cover the whole network; they cannot be "
                                   "one entry of a per-layer list")
            extra = set(item) - {"values"}
            if extra:
                raise InitlabError(f"explicit values take no other keys (got {sorted(extra)})")
        elif isinstance(item, list) or _is_mapping(item):
            raise InitlabError(f"a per-layer entry must be one initializer, got {shown(item)}")
        elif lsuv.is_lsuv(item):
            raise InitlabError(_LSUV_WHOLE)
        elif presets.get(item) is None:
            _law(item)


_LSUV_WHOLE = ("lsuv rescales the whole network layer after layer, so it cannot be one entry "
               "of a per-layer list; give it as init.weights itself, with its pre-initialiser "
               "as lsuv(init=…)")


def _text(spec: Any) -> str:
    """A spec written back compactly: 'he', 'normal(std=0.5)', 'torch_default', 'lsuv'."""
    if lsuv.is_lsuv(spec):
        return lsuv.REGISTRY.resolve(spec).label
    preset = presets.get(spec)
    return spec.strip().lower() if preset is not None else laws.label(spec)


def label(spec: Any) -> str:
    """The display label of an init.weights value: 'he', 'torch_default', '[he, he, zeros]',
    '{default: he, last: zeros}'."""
    if isinstance(spec, list):
        return "[" + ", ".join(_text(s) for s in spec) + "]"
    if _is_mapping(spec):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in spec.items()) + "}"
    if isinstance(spec, dict) and "values" in spec:
        return "values"
    return _text(spec)


@dataclass(frozen=True)
class LayerInits:
    """What one experiment starts from: a label, one weight Initializer per layer and one bias
    Initializer per layer (None: the network has no biases)."""

    label: str
    weights: tuple[Initializer, ...]
    biases: tuple[Initializer, ...] | None
    preset: presets.Preset | None = None  # every layer is this framework default
    lsuv: lsuv.LsuvParams | None = None  # the weights are then rescaled on training data

    def formula(self) -> str:
        """The weights' law: one formula, or 'layers 1–2: …; layer 3: …' when layers differ; a
        preset's weight and bias laws in words; LSUV's rescaling after its pre-initialiser."""
        if self.lsuv is not None:
            return _lsuv_formula(self.lsuv, _grouped(self.weights))
        return self.preset.law if self.preset is not None else _grouped(self.weights)

    def auto_gain_layers(self) -> list[int]:
        """The layers (0-based) whose weight gain is computed from their activation."""
        return [l for l, init in enumerate(self.weights) if init.auto_gain]

    def bias_formula(self) -> str:
        """'zeros: b = 0', or per layer as ``formula``."""
        if self.biases is None:
            return "no biases"
        text = re.sub(r"\bW\b", "b", _grouped(self.biases))  # the laws' formulas say W
        return text if text.startswith("layer") else f"{self.biases[0].label}: {text}"


def _lsuv_formula(p: lsuv.LsuvParams, inner: str) -> str:
    """'LSUV (Mishkin & Matas 2015): orthogonal (W = gain · Q …), then each layer's W_l ← W_l/σ
    until Var(z_l) is within 0.1 of 1 on 512 training samples (≤ 10 rescalings)'."""
    measured = "φ(z_l)" if p.statistic == "post" else "z_l"
    stat = f"{'Var' if p.target == 'variance' else 'Std'}({measured})"
    centre = ", b_l centring z_l" if p.mean_correction else ""
    return (f"LSUV (Mishkin & Matas 2015): {p.init}: {inner}, then layer by layer "
            f"W_l ← W_l/σ{centre} until {stat} is within {p.tol:g} of 1 on {p.batch} training "
            f"samples (≤ {p.max_iter} rescalings)")


def _same(a: Initializer, b: Initializer) -> bool:
    return a is b or (a.values is None and b.values is None and (a.label, a.name, a.params) == (
        b.label, b.name, b.params))


def _grouped(inits: tuple[Initializer, ...]) -> str:
    runs: list[list[int]] = []
    for l in range(len(inits)):
        if runs and _same(inits[runs[-1][-1]], inits[l]):
            runs[-1].append(l)
        else:
            runs.append([l])
    if len(runs) == 1:
        return inits[0].formula()
    parts = []
    for run in runs:
        where = (f"layer {run[0] + 1}" if len(run) == 1
                 else f"layers {run[0] + 1}–{run[-1] + 1}")
        parts.append(f"{where}: {inits[run[0]].label}: {inits[run[0]].formula()}")
    return "; ".join(parts)


def resolve_layers(weights: Any, bias: Any, w_shapes: list[tuple[int, ...]],
                   with_bias: bool) -> LayerInits:
    """``init.weights`` and ``init.bias`` (None: zeros) for a network of weight shapes
    ``w_shapes`` → LayerInits. A layer whose weights are a framework preset takes the preset's
    bias law whatever ``init.bias`` says (the preset is that framework's whole layer default;
    its weight law alone, e.g. ``torch_linear``, goes with any bias)."""
    depth = len(w_shapes)
    b_shapes = [(s[0],) for s in w_shapes]
    if lsuv.is_lsuv(weights):  # LSUV's pre-initialiser draws, the plan rescales on data
        params = lsuv.resolve(weights)
        inner = resolve_layers(params.init, bias, w_shapes, with_bias)
        return replace(inner, label=label(weights), preset=None, lsuv=params)
    if bias is not None and (lsuv.is_lsuv(bias) or (
            isinstance(bias, list) and any(lsuv.is_lsuv(b) for b in bias))):
        raise InitlabError("init.bias: lsuv rescales weights on data; init.bias takes a law "
                           "such as zeros (or lsuv(mean_correction=true) to centre through b)")
    if isinstance(weights, dict) and "values" in weights:
        w_specs: list[Any] = [weights] * depth
    else:
        w_specs = per_layer(weights, depth, "weights")
    b_specs = per_layer(bias, depth, "bias") if bias is not None else [None] * depth
    cache: dict[str, Initializer] = {}

    def one(spec: Any, shapes: list[tuple[int, ...]], what: str) -> Initializer:
        key = repr(spec)
        if key not in cache:
            cache[key] = resolve(spec, shapes, what)
        return cache[key]

    ws, bs = [], []
    for w_spec, b_spec in zip(w_specs, b_specs, strict=True):
        preset = presets.get(w_spec)  # a framework's whole layer default: weights and bias
        ws.append(one(preset.weights if preset else w_spec, w_shapes, "weights"))
        bs.append(one(preset.bias if preset else b_spec or "zeros", b_shapes, "bias"))
    whole = presets.get(weights)
    return LayerInits(label(weights), tuple(ws), tuple(bs) if with_bias else None, whole)


class StartingWeights:
    """Draws the starting weights of E experiments: experiment e uses ``inits[e]`` (its weight
    and bias laws, layer by layer) and ``seeds[e]`` for its streams. ``layer(l)`` must be
    called for l = 0, 1, … in order (a legacy stream serves every layer of its experiment). With
    ``snapshots``, each weight stream is copied before it draws, and ``redraw(l)`` gives W_l
    again without keeping it."""

    def __init__(self, inits: Sequence[LayerInits], seeds: Sequence[int], kind: str,
                 shapes: Sequence[tuple[int, int]], activations: Sequence[str | None],
                 snapshots: bool = False) -> None:
        self.inits, self.shapes = list(inits), list(shapes)
        self.activations = list(activations)
        self.streams = [streams.layer_streams(s, kind, len(self.shapes)) for s in seeds]
        self.snapshots: dict[int, list[Any]] | None = {} if snapshots else None

    @property
    def n_experiments(self) -> int:
        return len(self.inits)

    def layer(self, l: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(W_l (E, n_out, n_in), b_l (E, n_out) or None), float64."""
        shape, act, E = self.shapes[l], self.activations[l], self.n_experiments
        W = np.empty((E, *shape))
        with_bias = bool(self.inits) and self.inits[0].biases is not None
        b = np.empty((E, shape[0])) if with_bias else None
        if self.snapshots is not None:
            self.snapshots[l] = [copy.deepcopy(s[l][0]) for s in self.streams]
        for e, (init, own) in enumerate(zip(self.inits, self.streams, strict=True)):
            w_rng, b_rng = own[l]
            W[e] = init.weights[l].draw(shape, l, w_rng, act)
            if b is not None:
                b[e] = init.biases[l].draw(shape[:1], l, b_rng, act, weight_shape=shape)
        return W, b

    def redraw(self, l: int) -> np.ndarray:
        """W_l once more, from copies of the streams as they were before ``layer(l)``."""
        if self.snapshots is None or l not in self.snapshots:
            raise RuntimeError(f"layer {l} was not drawn with snapshots")
        shape, act = self.shapes[l], self.activations[l]
        return np.stack([init.weights[l].draw(shape, l, copy.deepcopy(rng), act)
                         for init, rng in zip(self.inits, self.snapshots[l], strict=True)])

    def all_layers(self) -> dict[str, np.ndarray]:
        """{'W1': (E, n_out, n_in), 'b1': (E, n_out), …} for every layer (b only with a bias)."""
        out: dict[str, np.ndarray] = {}
        for l in range(len(self.shapes)):
            W, b = self.layer(l)
            out[f"W{l + 1}"] = W
            if b is not None:
                out[f"b{l + 1}"] = b
        return out


# --------------------------------------------------------------------------- listing, describing

LSUV_SOURCE = "Mishkin & Matas 2015, All you need is a good init, arXiv:1511.06422, Algorithm 1"


def catalogue() -> list[dict]:
    """``initlab inits``: every law and alias (``laws.catalogue``), then the framework presets
    and LSUV, as rows of name, params, formula, note."""
    rows = laws.catalogue()
    for name, preset in presets.PRESETS.items():
        rows.append({"name": name, "kind": "preset", "params": {}, "formula": preset.law,
                     "note": f"framework default, weights and biases: {preset.source}"})
    params = lsuv.LsuvParams()
    rows.append({"name": "lsuv", "kind": "data-dependent", "params": params.model_dump(),
                 "formula": _lsuv_formula(params, laws.formula(*laws.resolve(params.init))),
                 "note": f"rescales on training data (run, compare; not probe): {LSUV_SOURCE}"})
    return rows


def describe(spec: Any) -> list[tuple[str, str]]:
    """(what, value) lines for ``initlab inits NAME``: a law (``laws.describe``), a preset (its
    weight and bias laws, formula, source) or LSUV (its parameters, defaults marked, and
    formula); an unknown name is the one-line error of ``init.weights``."""
    preset = presets.get(spec)
    if preset is not None:
        return [("name", spec.strip().lower()), ("weights", preset.weights),
                ("bias", f"{preset.bias} (the preset's, whatever init.bias says)"),
                ("formula", preset.law), ("source", preset.source)]
    if lsuv.is_lsuv(spec):
        found, params = lsuv.REGISTRY.resolve(spec), lsuv.resolve(spec)
        lines = [("name", found.label), ("law", "LSUV, layer-sequential unit variance")]
        for key, value in params.model_dump().items():
            default = lsuv.LsuvParams.model_fields[key].default
            how = "" if key in found.user else " (default)" if value == default else ""
            lines.append((f"parameter {key}", f"{value}{how}"))
        inner = laws.formula(*laws.resolve(params.init))
        lines += [("formula", _lsuv_formula(params, inner)),
                  ("note", "sees training inputs only (never targets or the test set), each "
                           "seed its own batch; not in probe, which has no data"),
                  ("source", LSUV_SOURCE)]
        return lines
    _law(spec)  # an unknown name: the message that lists presets and lsuv too
    return laws.describe(spec)

