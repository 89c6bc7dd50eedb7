"""The experiment schema: YAML loading, ``--set key.path=value`` overrides, validation.

Structure and types are checked here (pydantic, unknown keys rejected with the closest valid key
suggested); names that live in registries (initializers, activations, data sets) are checked when
the experiment is built. This module does not import numpy.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from initlab.errors import InitlabError

Spec = str | dict[str, Any]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetSection(BaseModel):
    """``name`` plus the data set's own keys (checked by ``initlab.datasets``)."""

    model_config = ConfigDict(extra="allow")
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ModelSection(_Section):
    layers: list[int] = Field(min_length=2)
    activations: list[Spec] = Field(min_length=1)
    bias: bool = True

    @model_validator(mode="after")
    def _check_sizes(self) -> ModelSection:
        if any(n < 1 for n in self.layers):
            raise ValueError(f"every layer size must be >= 1 (got {self.layers})")
        if len(self.activations) != len(self.layers) - 1:
            raise ValueError(
                f"model.activations has {len(self.activations)} entries but model.layers "
                f"{self.layers} has {len(self.layers) - 1} weight layers; give one per layer"
            )
        return self


class InitSection(_Section):
    weights: Spec = "he"
    bias: Spec = "zeros"


class TrainSection(_Section):
    epochs: int = Field(ge=1)
    lr: float = Field(gt=0)
    optimizer: Literal["gd", "sgd", "momentum", "adam"] = "gd"
    loss: Literal["bce", "quadratic", "softmax_ce"] = "bce"
    batch_size: int | None = Field(default=None, ge=1)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    beta1: float = Field(default=0.9, ge=0, lt=1)
    beta2: float = Field(default=0.999, ge=0, lt=1)
    eps: float = Field(default=1e-8, gt=0)
    log_every: int = Field(default=1000, ge=1)
    data_seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check_batching(self) -> TrainSection:
        if self.optimizer == "gd" and self.batch_size is not None:
            raise ValueError("optimizer gd is full-batch; use optimizer sgd for train.batch_size")
        if self.optimizer == "sgd" and self.batch_size is None:
            self.batch_size = 32
        return self


class Experiment(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", max_length=100)
    seed: int = Field(default=0, ge=0)
    rng: Literal["numpy", "legacy"] = "numpy"
    device: Literal["cpu", "gpu", "auto"] = "cpu"
    dtype: Literal["float64", "float32"] = "float64"
    dataset: DatasetSection
    model: ModelSection
    init: InitSection = InitSection()
    train: TrainSection


class ProbeConfig(_Section):
    """A signal-propagation probe: a deep stack at initialization, no training."""

    name: str = Field(default="probe", pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", max_length=100)
    depth: int = Field(default=10, ge=1)
    width: int = Field(default=500, ge=1)
    activation: Spec = "tanh"
    inits: list[Spec] = Field(default_factory=lambda: ["small", "big", "lecun_normal"],
                              min_length=1)
    bias: Spec | None = None
    batch: int = Field(default=1000, ge=1)
    input: str = "gaussian"
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    rng: Literal["numpy", "legacy"] = "numpy"
    device: Literal["cpu", "gpu", "auto"] = "cpu"
    histograms: bool = False
    jacobian: bool = False


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


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch" and loc == "name":
        msg = "name the results folder with letters, digits, '.', '_' and '-' only"
    got = first.get("input")
    shown = "" if isinstance(got, dict) or first["type"] == "value_error" else f" (got {got!r})"
    where = f"'{loc}': " if loc else ""
    return f"{source}: {where}{msg}{shown}"


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """YAML text → mapping; a syntax error names the line and column."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InitlabError(f"malformed YAML in {source}{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InitlabError(f"malformed YAML in {source}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InitlabError(f"{source}: the experiment file must be a mapping of keys, "
                           f"not a {type(data).__name__}")
    return data


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.path=value`` (value parsed as YAML: ``[2,20,1]``, ``0.05``, ``he``)."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InitlabError(f"--set expects key.path=value, got '{assignment}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    *parents, leaf = key.split(".")
    node = data
    for i, part in enumerate(parents):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            path = ".".join(parents[: i + 1])
            raise InitlabError(f"--set {key}: '{path}' is {nxt!r}, not a mapping; "
                               f"set '{path}' as a whole instead")
        node = nxt
    node[leaf] = value


def validate(data: dict[str, Any], source: str, schema: type[BaseModel] = Experiment) -> Any:
    """Mapping → ``schema`` instance, or one InitlabError line naming the key and what is
    allowed."""
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise InitlabError(_one_line(err, source, schema)) from None


def read(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file (one-line errors for a missing or malformed file); its
    ``name`` defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise InitlabError(f"experiment file not found: {path}")
    data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    data.setdefault("name", path.stem)
    return data


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
         schema: type[BaseModel] = Experiment) -> Any:
    """Read an experiment file, apply ``--set`` overrides in order, validate."""
    data = read(path)
    for assignment in overrides:
        apply_override(data, assignment)
    return validate(data, str(path), schema)


def split_specs(text: str) -> list[str]:
    """'he,normal(std=0.5),he(mode=fan_out)' → ['he', 'normal(std=0.5)', 'he(mode=fan_out)']:
    commas split only outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            raise InitlabError(f"unbalanced ')' in '{text}'")
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if depth:
        raise InitlabError(f"unbalanced '(' in '{text}'")
    parts.append(text[start:].strip())
    if any(not p for p in parts):
        raise InitlabError(f"empty name in the list '{text}'")
    return parts


def dump(experiment: BaseModel) -> str:
    """The fully resolved experiment as YAML (what ``config.yaml`` in a run folder holds)."""
    return yaml.safe_dump(experiment.model_dump(mode="json"), sort_keys=False)
