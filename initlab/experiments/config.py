"""The run-config and probe-config schemas: YAML loading, ``--set key.path=value``, validation.

One pydantic schema per kind of file (``RunConfig``: an experiment file for ``run`` and
``compare``; ``ProbeConfig``: a probe file), with unknown keys rejected and the closest valid key
suggested. Names that live in registries — initializers, activations, data sets and their
parameters — are checked here too, by the registries' own models (``initlab.params``), so a
config that validates can be built. ``schema`` writes the JSON Schema an editor can complete
from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import core_schema

from initlab.engine import activations
from initlab.engine.backend import DEVICES
from initlab.engine.losses import LOSSES
from initlab.engine.optimizers import OPTIMIZERS
from initlab.errors import InitlabError, shown, suggest
from initlab.experiments import datasets
from initlab.inits import draw, laws, lsuv, presets
from initlab.inits.streams import RNG_KINDS, check_seed
from initlab.params import got, integer, number, phrase

Spec = str | dict[str | int, Any]
RngKind = Literal[RNG_KINDS]
Device = Literal[DEVICES]
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"


# ------------------------------------------------------------------------ registry-checked keys

@dataclass(frozen=True)
class Checked:
    """Field metadata: ``check`` validates the value as written (an InitlabError becomes the key's
    message); ``schema()`` describes it in JSON Schema, built only when asked for."""

    check: Callable[[Any], Any]
    schema: Callable[[], dict[str, Any]]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self._run, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return self.schema()

    def _run(self, value: Any) -> Any:
        try:
            self.check(value)
        except InitlabError as exc:
            raise ValueError(str(exc)) from None
        return value


def _init_schema() -> dict[str, Any]:
    """One law (as the registry describes it), a framework preset, LSUV (whole network only),
    explicit values, a list of one law or preset per layer, or a per-layer mapping of them."""
    values = {"type": "object", "title": "values",
              "description": "explicit arrays, one (n_out, n_in) list per layer",
              "properties": {"values": {"type": "array"}}, "required": ["values"],
              "additionalProperties": False}
    one = {"anyOf": [*laws.REGISTRY.json_schema()["anyOf"],
                     {"enum": list(presets.PRESETS), "title": "framework preset",
                      "description": "a framework's dense-layer default, weights and biases"}]}
    per_layer = {"type": "object", "title": "per-layer mapping",
                 "description": "default, first, hidden, last or a layer number (1 = first)",
                 "propertyNames": {"anyOf": [{"enum": list(draw.LAYER_NAMES)},
                                             {"pattern": "^[1-9][0-9]*$"}]},
                 "additionalProperties": one}
    return {"anyOf": [*one["anyOf"], *lsuv.REGISTRY.json_schema()["anyOf"], values,
                      {"type": "array", "title": "one per layer", "items": one}, per_layer]}


def _check_input(spec: Any) -> None:
    if spec == "gaussian":
        return
    name = spec.get("name") if isinstance(spec, dict) else spec
    names = datasets.DATASET_NAMES
    if not isinstance(name, str) or name.strip().lower() not in names:
        raise InitlabError(f"unknown input {shown(name)}; valid: gaussian, {', '.join(names)}"
                           f"{suggest(name, names)}")
    datasets.REGISTRY.resolve(spec)


InitSpec = Annotated[Any, Checked(draw.check, _init_schema)]
ActivationSpec = Annotated[Spec, Checked(activations.REGISTRY.resolve,
                                         activations.REGISTRY.json_schema)]
InputSpec = Annotated[Spec, Checked(_check_input, lambda: {"anyOf": [
    {"const": "gaussian"}, *datasets.REGISTRY.json_schema()["anyOf"]]})]


# ------------------------------------------------------------------------------- run config

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetSection(BaseModel):
    """``name`` plus the data set's own keys (checked by the data set's parameter model)."""

    model_config = ConfigDict(extra="allow")
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _known(self) -> DatasetSection:
        try:
            datasets.REGISTRY.resolve({**self.params(), "name": self.name})
        except InitlabError as exc:
            raise ValueError(str(exc)) from None
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"anyOf": datasets.REGISTRY.json_schema()["anyOf"][2:]}  # the mapping forms


class ModelSection(_Section):
    layers: list[integer(ge=1)] = Field(min_length=2)
    activations: list[ActivationSpec] = Field(min_length=1)
    bias: bool = True

    @model_validator(mode="after")
    def _check_sizes(self) -> ModelSection:
        if len(self.activations) != len(self.layers) - 1:
            raise ValueError(
                f"model.activations has {len(self.activations)} entries but model.layers "
                f"{self.layers} has {len(self.layers) - 1} weight layers; give one per layer"
            )
        return self


class InitSection(_Section):
    """``weights``: one initializer, a framework preset (its weights and its biases), a list
    with one per layer, or a mapping {default: he, last: zeros}; ``bias`` the same (laws only),
    for the layers whose weights are not a preset."""

    weights: InitSpec = "he"
    bias: InitSpec = "zeros"


class TrainSection(_Section):
    epochs: integer(ge=1)
    lr: number(gt=0.0)
    optimizer: Literal[OPTIMIZERS] = "gd"
    loss: Literal[tuple(LOSSES)] = "bce"
    batch_size: integer(ge=1) | None = None
    momentum: number(ge=0.0, lt=1.0) = 0.9
    beta1: number(ge=0.0, lt=1.0) = 0.9
    beta2: number(ge=0.0, lt=1.0) = 0.999
    eps: number(gt=0.0) = 1e-8
    log_every: integer(ge=1) = 1000
    data_seed: integer(ge=0) = 0

    @model_validator(mode="after")
    def _check_batching(self) -> TrainSection:
        if self.optimizer == "gd" and self.batch_size is not None:
            raise ValueError("optimizer gd is full-batch; use optimizer sgd for train.batch_size")
        if self.optimizer == "sgd" and self.batch_size is None:
            self.batch_size = 32
        return self


class CompareSection(_Section):
    """What ``initlab compare`` compared (it writes this section into the run folder's
    config.yaml, so ``initlab compare <folder>/config.yaml`` runs the same comparison again)."""

    inits: list[InitSpec] = Field(min_length=1)
    seeds: list[integer(ge=0)] = Field(min_length=1)
    success: number(ge=0.0, le=1.0) = 0.9
    target_cost: number(ge=0.0) = 0.3


class RunConfig(_Section):
    """An experiment file: one network, data set and training; its experiments are the
    initializers × seeds that ``run`` and ``compare`` lay on the experiment axis."""

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    seed: integer(ge=0) = 0
    rng: RngKind = "numpy"
    device: Device = "cpu"
    dtype: Literal["float64", "float32"] = "float64"
    engine: Literal["auto", "fused", "numpy"] = "auto"
    dataset: DatasetSection
    model: ModelSection
    init: InitSection = InitSection()
    train: TrainSection
    compare: CompareSection | None = None

    @model_validator(mode="after")
    def _seed_fits_rng(self) -> RunConfig:
        _check_seeds([self.seed], self.rng, "seed")
        if self.compare is not None:
            _check_seeds(self.compare.seeds, self.rng, "compare.seeds")
        return self


def _check_seeds(seeds: list[int], kind: str, key: str) -> None:
    try:
        for s in seeds:
            check_seed(s, kind)
    except InitlabError as exc:
        raise ValueError(f"'{key}': {exc}") from None


# ----------------------------------------------------------------------------- probe config

class ProbeConfig(_Section):
    """A signal-propagation probe: ``depth`` layers of ``width`` units at initialization, no
    training. ``input``: 'gaussian' (N(0, 1), (input_dim, batch), input_dim = width unless
    given) or a data set, whose training inputs are used as given (then ``input_dim`` and
    ``batch`` are ignored and a loss gradient is reported too). ``bias`` null: no biases, as in
    the CS231n article. ``grad_samples``: backward passes use the first k samples (null: all);
    ``jacobian_points``: inputs at which the input–output Jacobian is formed."""

    name: str = Field(default="probe", pattern=NAME_PATTERN, max_length=100)
    depth: integer(ge=1) = 10
    width: integer(ge=1) = 500
    activation: ActivationSpec = "tanh"
    inits: list[InitSpec] = Field(default_factory=lambda: ["small", "big", "lecun_normal"],
                                  min_length=1)
    bias: InitSpec | None = None
    batch: integer(ge=1) = 1000
    input: InputSpec = "gaussian"
    input_dim: integer(ge=1) | None = None
    seeds: list[integer(ge=0)] = Field(default_factory=lambda: [0], min_length=1)
    rng: RngKind = "numpy"
    device: Device = "cpu"
    histograms: bool = False
    jacobian: bool = False
    jacobian_points: integer(ge=1) = 4
    grad_samples: integer(ge=1) | None = 256

    @model_validator(mode="after")
    def _check(self) -> ProbeConfig:
        if activations.get(self.activation).name == "softmax":
            hidden = [n for n in activations.ACTIVATION_NAMES if n != "softmax"]
            raise ValueError(f"softmax is an output activation; probe a hidden-layer one "
                             f"({', '.join(hidden)})")
        if any(lsuv.is_lsuv(spec) for spec in self.inits):
            raise ValueError("lsuv needs training data, and probe has none (its inputs are "
                             "random, its layers never see a data set); compare lsuv with "
                             "initlab run or initlab compare on a data set")
        labels = [draw.label(spec) for spec in self.inits]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise ValueError(f"initializer(s) {', '.join(twice)} given twice")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        _check_seeds(self.seeds, self.rng, "seeds")
        return self


# ------------------------------------------------------------------------------- messages

def _known_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key the schema knows, for suggestions."""
    paths = []
    for key, field in model.model_fields.items():
        path = f"{prefix}{key}"
        paths.append(path)
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            paths.extend(_known_paths(sub, path + "."))
    return paths


def _key_hint(loc: str, schema: type[BaseModel]) -> str:
    """Closest valid key in the same section, compared by its last component."""
    section, _, leaf = loc.rpartition(".")
    siblings = [p.rpartition(".")[2] for p in _known_paths(schema)
                if p.rpartition(".")[0] == section]
    hint = suggest(leaf, siblings)
    return hint.replace("'", f"'{section}.", 1) if hint and section else hint


def _one_line(err: ValidationError, source: str, schema: type[BaseModel]) -> str:
    errors = err.errors()
    # an unknown key first: a misspelled required key also shows up as "missing"
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown key '{loc}'{_key_hint(loc, schema)}"
    if first["type"] == "missing":
        return f"{source}: missing key '{loc}'"
    if first["type"] == "string_pattern_mismatch" and loc == "name":
        return (f"{source}: 'name': name the results folder with letters, digits, '.', '_' and "
                f"'-' only{got(first)}")
    where = f"'{loc}': " if loc else ""
    return f"{source}: {where}{phrase(first)}{got(first)}"


# ----------------------------------------------------------------------------- files and --set

CONFIG_MAX_BYTES = 10 * 2**20  # an experiment file is a few KB; the pure-Python YAML loader
#                                needs ~50x a file's size in memory and reads ~1 MB/s
YAML_MAX_ALIASES = 1000  # *alias uses in one file
YAML_MAX_ALIAS_NODES = 100_000  # nodes the aliases stand for in all (a "billion laughs" bomb)
YAML_MAX_DEPTH = 64  # nesting of sequences and mappings, aliases expanded
_PROBLEM_CHARS = 160  # of a YAML error's own wording
_LIMIT_TEXT = f"{CONFIG_MAX_BYTES} bytes ({CONFIG_MAX_BYTES / 2**20:g} MiB, CONFIG_MAX_BYTES)"


class _YamlLimit(yaml.MarkedYAMLError):
    """A limit of ``_Loader`` was passed (reported like a syntax error, with its line)."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses, while composing and before anything is built, a file
    whose aliases expand past YAML_MAX_ALIASES uses or YAML_MAX_ALIAS_NODES nodes, nesting
    deeper than YAML_MAX_DEPTH (aliases expanded: later walks see the expanded tree), and an
    alias used inside the node it names; a scalar that cannot be converted (an integer of
    thousands of digits, 2001-99-99) is an error with its line."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._alias_nodes = 0
        self._open: list[list[Any]] = []  # per node being composed: [anchor, size, depth]
        self._extent: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, depth) of its node

    def _refuse(self, problem: str, mark: Any) -> None:
        raise _YamlLimit(problem=problem, problem_mark=mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if len(self._open) >= YAML_MAX_DEPTH:
            self._refuse(f"nesting deeper than {YAML_MAX_DEPTH} levels (the limit)",
                         event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            return self._compose_alias(event, parent, index)
        entry = [event.anchor, 1, 1]
        self._open.append(entry)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open.pop()
        self._count(entry[1], entry[2])
        if entry[0] is not None:
            self._extent[entry[0]] = (entry[1], entry[2])
        return node

    def _compose_alias(self, event: Any, parent: Any, index: Any) -> Any:
        self._aliases += 1
        if self._aliases > YAML_MAX_ALIASES:
            self._refuse(f"more than {YAML_MAX_ALIASES} aliases (*name), the limit",
                         event.start_mark)
        if any(entry[0] == event.anchor for entry in self._open):
            self._refuse(f"alias *{event.anchor} is used inside the node it names (a cycle)",
                         event.start_mark)
        node = super().compose_node(parent, index)  # an undefined alias is an error here
        size, depth = self._extent[event.anchor]
        self._alias_nodes += size
        if self._alias_nodes > YAML_MAX_ALIAS_NODES:
            self._refuse(f"aliases expand to more than {YAML_MAX_ALIAS_NODES} values in all "
                         f"(the limit)", event.start_mark)
        if len(self._open) + depth > YAML_MAX_DEPTH:
            self._refuse(f"alias *{event.anchor} nests values deeper than {YAML_MAX_DEPTH} "
                         f"levels (the limit)", event.start_mark)
        self._count(size, depth)
        return node

    def _count(self, size: int, depth: int) -> None:
        """Add a finished child's extent to the node being composed around it."""
        if self._open:
            outer = self._open[-1]
            outer[1] += size
            outer[2] = max(outer[2], depth + 1)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # int('9' * 5000), datetime(2001, 99, 99)
            value = shown(node.value) if isinstance(node.value, str) else "the value"
            reason = ("more digits than an integer may have (4300)" if "digits" in str(exc)
                      else str(exc))
            raise yaml.constructor.ConstructorError(
                problem=f"cannot read {value}: {reason}", problem_mark=node.start_mark) from None


def _one_line_text(text: object, limit: int = _PROBLEM_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """YAML text → mapping; a syntax error names the line and column, and so does a passed
    limit (YAML_MAX_ALIASES, YAML_MAX_ALIAS_NODES, YAML_MAX_DEPTH)."""
    try:
        loader = _Loader(text)  # checks for control characters first
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context
        if exc.context and str(problem).startswith("but "):  # "expected …, but found …"
            problem = f"{exc.context}, {problem}"
        raise InitlabError(f"malformed YAML in {source}{where}: "
                           f"{_one_line_text(problem)}") from None
    except yaml.reader.ReaderError as exc:  # a control character; its position is in ``text``
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise InitlabError(f"malformed YAML in {source} at line {line}, column {column}: "
                           f"control character #x{exc.character:04x} is not allowed") from None
    except yaml.YAMLError as exc:
        raise InitlabError(f"malformed YAML in {source}: {_one_line_text(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InitlabError(f"{source}: the experiment file must be a mapping of keys, "
                           f"not a {type(data).__name__}")
    return data


def parse_value(text: str) -> Any:
    """One value written inline (``[2,20,1]``, ``0.05``, ``{default: he}``) read as bounded YAML;
    raises yaml.YAMLError (``_YamlLimit`` past a limit)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)


def _inline_spec(text: str) -> Any:
    """A per-layer initializer written inline in a list of them, or one InitlabError line."""
    try:
        return parse_value(text)
    except _YamlLimit as exc:
        raise InitlabError(f"{shown(text)}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InitlabError(f"{shown(text)} is not a valid per-layer list or mapping: {problem}; "
                           f"write e.g. '{{default: he, last: zeros}}' or '[he, he, zeros]'"
                           ) from None


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.path=value`` (value parsed as YAML: ``[2,20,1]``, ``0.05``, ``he``)."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InitlabError(f"--set expects key.path=value, got {shown(assignment)}")
    try:
        value = parse_value(raw) if raw.strip() else None
    except _YamlLimit as exc:
        raise InitlabError(f"--set {key}: {exc.problem}") from None
    except yaml.YAMLError:
        value = raw
    *parents, leaf = key.split(".")
    node = data
    for i, part in enumerate(parents):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            path = ".".join(parents[: i + 1])
            raise InitlabError(f"--set {key}: '{path}' is {shown(nxt)}, not a mapping; "
                               f"set '{path}' as a whole instead")
        node = nxt
    node[leaf] = value


def validate(data: dict[str, Any], source: str, schema: type[BaseModel] = RunConfig) -> Any:
    """Mapping → ``schema`` instance, or one InitlabError line naming the key and what is
    allowed."""
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise InitlabError(_one_line(err, source, schema)) from None


def _file_name(path: Path) -> str:
    """The path as written, or quoted and cut when it is very long or holds control
    characters (a message stays one line)."""
    text = str(path)
    return text if text.isprintable() and len(text) <= 300 else shown(text)


def read(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file (one-line errors for a missing, unreadable, too large
    (CONFIG_MAX_BYTES), non-UTF-8 or malformed file); its ``name`` defaults to the file's
    stem."""
    path = Path(path)
    name = _file_name(path)
    try:
        size = path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        raise InitlabError(f"experiment file not found: {name}") from None
    except (OSError, ValueError) as exc:  # ELOOP, ENAMETOOLONG, EACCES on a folder, NUL byte
        raise InitlabError(f"cannot read experiment file {name}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None
    if path.is_dir():
        raise InitlabError(f"experiment file {name} is a folder, not a YAML file")
    if not path.is_file():
        raise InitlabError(f"experiment file {name} is not a regular file (a device, pipe or "
                           f"socket); give a YAML file")
    if size > CONFIG_MAX_BYTES:
        raise InitlabError(f"experiment file {name} is {size} bytes; an experiment file may "
                           f"be at most {_LIMIT_TEXT}")
    try:
        with path.open("rb") as fh:
            raw = fh.read(CONFIG_MAX_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise InitlabError(f"cannot read experiment file {name}: {exc.strerror or exc}") from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise InitlabError(f"experiment file {name} is larger than {_LIMIT_TEXT}, the most "
                           f"an experiment file may be")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InitlabError(f"experiment file {name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                           f"at offset {exc.start}); save it as UTF-8 YAML") from None
    if "\0" in text:
        raise InitlabError(f"experiment file {name} is not a text file (NUL byte at offset "
                           f"{raw.index(0)})") from None
    data = parse_yaml(text, name)
    data.setdefault("name", path.stem)
    return data


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
         schema: type[BaseModel] = RunConfig) -> Any:
    """Read an experiment file, apply ``--set`` overrides in order, validate."""
    data = read(path)
    if "grid" in data and "base" in data:
        raise InitlabError(f"{path} is a sweep file (it has base and grid); run it with "
                           f"initlab sweep {path}")
    for assignment in overrides:
        apply_override(data, assignment)
    return validate(data, str(path), schema)


def split_specs(text: str) -> list[Any]:
    """'he,normal(std=0.5),{default: he, last: zeros}' → ['he', 'normal(std=0.5)',
    {'default': 'he', 'last': 'zeros'}]: commas split only outside (), [] and {}; a part in
    [] or {} (one initializer per layer) is read as YAML."""
    parts, start, pairs = [], 0, {"(": ")", "[": "]", "{": "}"}
    closing = {v: k for k, v in pairs.items()}
    stack: list[str] = []
    for i, ch in enumerate(text):
        if ch in pairs:
            stack.append(ch)
        elif ch in closing and (not stack or stack.pop() != closing[ch]):
            raise InitlabError(f"unbalanced {ch!r} in {shown(text)}")
        if ch == "," and not stack:
            parts.append(text[start:i].strip())
            start = i + 1
    if stack:
        raise InitlabError(f"unbalanced {stack[-1]!r} in {shown(text)}")
    parts.append(text[start:].strip())
    if any(not p for p in parts):
        raise InitlabError(f"empty name in the list {shown(text)}")
    return [_inline_spec(p) if p[0] in "[{" else p for p in parts]


def dump(cfg: BaseModel) -> str:
    """The fully resolved config as YAML (what ``config.yaml`` in a run folder holds); a run
    config's ``compare`` section only when it has one."""
    data = cfg.model_dump(mode="json")
    if data.get("compare", True) is None:
        del data["compare"]
    return yaml.safe_dump(data, sort_keys=False)


SHIPPED = Path(__file__).resolve().parent.parent / "configs"  # package data: initlab/configs


def shipped() -> dict[str, Path]:
    """{name: path} of the experiment and probe files that ship with initlab."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def locate(given: str | Path) -> Path:
    """An experiment file by path, or a shipped one by name ('he_circles' or
    'he_circles.yaml'); one line listing the shipped names when neither exists."""
    path = Path(given)
    if path.exists() or len(path.parts) != 1:
        return path
    found = shipped().get(path.name.removesuffix(".yaml").removesuffix(".yml"))
    if found is not None:
        return found
    names = ", ".join(shipped())
    raise InitlabError(f"experiment file not found: {shown(str(given))[1:-1]} (not a path, "
                       f"nor a shipped config: {names}{suggest(path.stem, shipped())})")


def describe(path: Path) -> str:
    """The first sentence of a config file's header comment (what it reproduces)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    text = " ".join(lines)
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def schema(kind: type[BaseModel] = RunConfig) -> dict[str, Any]:
    """The JSON Schema of a config file (``name`` optional: it defaults to the file's stem)."""
    out = kind.model_json_schema()
    out["required"] = [k for k in out.get("required", []) if k != "name"]
    return out
