"""The one validation mechanism: pydantic models for everything a user writes, one-line messages.

The run config is a pydantic schema, and every registry of named things (initializers,
activations, data sets) declares each entry's parameters as a pydantic model. A ``Registry``
parses a spec — ``"normal(std=0.5)"`` or ``{name: normal, std: 0.5}`` — resolves aliases (an
alias is a name plus preset parameters), validates the parameters against the entry's model, and
describes the specs it accepts as JSON Schema (``json_schema``), so an editor can complete them.

``phrase`` turns one pydantic error into the words every message uses ("must be a number > 0"),
so a bad value reads the same in a YAML key, an initializer parameter and a data-set key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from initlab.errors import InitlabError, shown, suggest

# ------------------------------------------------------------------------ constrained values

def _no_bool(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be {what}, not {value!r}")
        return value
    return check


def number(**bounds: float) -> Any:
    """A finite real (true/false refused) with pydantic bounds: ``number(gt=0.0)``. Write bounds
    as floats: messages say "an integer" for int bounds."""
    return Annotated[float, Field(allow_inf_nan=False, **bounds),
                     BeforeValidator(_no_bool("a number"))]


def integer(**bounds: int) -> Any:
    """A whole number (true/false and 2.5 refused) with pydantic bounds: ``integer(ge=1)``."""
    return Annotated[int, Field(**bounds), BeforeValidator(_no_bool("an integer"))]


class Params(BaseModel):
    """Base of a registry entry's parameters: unknown keys refused, values frozen.

    ``ALIASES`` maps another name a user may type to a field (``{"stddev": "std"}``): a
    ``Registry`` renames it before validation, and refuses a spec that gives both."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ALIASES: ClassVar[dict[str, str]] = {}


class NoParams(Params):
    """No parameters."""


# ----------------------------------------------------------------------------------- messages

_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
           "less_than_equal": "<="}
_FIXED = {
    "finite_number": "must be a finite number",
    "float_parsing": "must be a number", "float_type": "must be a number",
    "int_parsing": "must be an integer", "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "string_type": "must be a string", "string_too_short": "must not be empty",
    "list_type": "must be a list", "dict_type": "must be a mapping",
    "model_type": "must be a mapping", "model_attributes_type": "must be a mapping",
    "missing": "is missing",
}


def choices_of(error: dict) -> list[str]:
    """The allowed values of a pydantic ``literal_error`` ("'a', 'b' or 'c'" → [a, b, c])."""
    return re.findall(r"'([^']*)'", (error.get("ctx") or {}).get("expected", ""))


def phrase(error: dict) -> str:
    """'must be a number > 0' (and the like) for one pydantic error, without the key."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        what = "an integer" if isinstance(bound, int) else "a number"
        return f"must be {what} {_BOUNDS[kind]} {bound:g}"
    if kind == "literal_error":
        options = choices_of(error)
        return f"must be one of {', '.join(options)}{suggest(error.get('input'), options)}"
    if kind in ("too_short", "too_long"):
        size = ctx.get("min_length" if kind == "too_short" else "max_length")
        bound = "at least" if kind == "too_short" else "at most"
        return f"needs {bound} {size} {'entry' if size == 1 else 'entries'}"
    if kind in _FIXED:
        return _FIXED[kind]
    msg = str(error["msg"]).removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def got(error: dict) -> str:
    """' (got 5)' for an error about a plain value; '' when the message already says it."""
    value = error.get("input")
    if error["type"] in ("value_error", "missing", "extra_forbidden") or isinstance(value, dict):
        return ""
    return f" (got {shown(value)})"


# ---------------------------------------------------------------------------------- registry

# a name is one or more dot-separated words ('he', 'keras.he_normal'), then optional (key=value, …)
_SPEC_RE = re.compile(r"^\s*([A-Za-z_]\w*(?:\.\w+)*)\s*(?:\((.*)\))?\s*$", re.S)
_ARG_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$", re.S)


def parse_value(text: str) -> object:
    """A parameter value written in a spec: 'quoted' text, true/false, int, float, else text."""
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


@dataclass(frozen=True)
class Resolved:
    """A validated spec: ``given`` the name as written, ``name`` the registry entry, ``params``
    every parameter (defaults filled in), ``user`` the keys written in the spec."""

    given: str
    name: str
    params: dict[str, Any]
    user: tuple[str, ...]

    @property
    def label(self) -> str:
        """The name as written with the parameters written: 'he', 'normal(std=0.5)'."""
        args = ", ".join(f"{k}={fmt_value(self.params[k])}" for k in self.user)
        return f"{self.given}({args})" if args else self.given


def fmt_value(value: object) -> str:
    """1.0 → '1', True → 'true'; anything else as str()."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


class Registry:
    """Named entries, each with a ``Params`` model; aliases map a name to (entry, presets);
    retired names map a name that no longer resolves to the rest of a one-line sentence that
    starts "initializer 'name' …" (why, and what to write instead). Retired names are not in
    ``names`` nor in the JSON Schema.

    A spec is a name, ``"name(key=value, …)"``, or a mapping ``{name: …, key: value}``; names and
    keys are case-insensitive, a name may have dots (``keras.he_normal``), and a key may be one of
    its model's ``ALIASES``. ``kind`` names the registry in messages ('initializer')."""

    def __init__(self, kind: str, entries: dict[str, type[Params]],
                 aliases: dict[str, tuple[str, dict[str, Any]]] | None = None,
                 retired: dict[str, str] | None = None) -> None:
        self.kind, self.entries, self.aliases = kind, entries, dict(aliases or {})
        self.retired = dict(retired or {})
        self.names: tuple[str, ...] = tuple(sorted([*entries, *self.aliases]))

    def parse(self, spec: Any) -> tuple[str, dict[str, Any]]:
        """(name as written, lower-cased; the parameters in the order written)."""
        if isinstance(spec, dict):
            if not isinstance(spec.get("name"), str):
                raise InitlabError(f"a {self.kind} mapping needs a 'name' key, e.g. "
                                   f"{{name: {self.names[0]}}}")
            params = {str(k).lower(): v for k, v in spec.items() if k != "name"}
            return spec["name"].strip().lower(), params
        if not isinstance(spec, str):
            raise InitlabError(f"a {self.kind} must be a name or a mapping, got {shown(spec)}")
        expected = f"expected name or name(key=value, ...), e.g. {self.example()}"
        match = _SPEC_RE.match(spec)
        if not match:
            raise InitlabError(f"malformed {self.kind} spec {shown(spec)}; {expected}")
        params: dict[str, object] = {}
        body = (match.group(2) or "").strip()
        for part in body.split(",") if body else []:
            arg = _ARG_RE.match(part)
            if not arg or not arg.group(2):
                what = (f"'{arg.group(1)}=' has no value" if arg
                        else f"{shown(part.strip())} isn't key=value")
                raise InitlabError(f"malformed {self.kind} spec {shown(spec)}: {what}; {expected}")
            key = arg.group(1).lower()
            if key in params:
                raise InitlabError(f"malformed {self.kind} spec {shown(spec)}: '{key}' given twice")
            params[key] = parse_value(arg.group(2))
        return match.group(1).lower(), params

    def example(self) -> str:
        """A spec with a parameter, for messages: 'normal(std=0.01)'."""
        for name, model in self.entries.items():
            for key, field in model.model_fields.items():
                return f"{name}({key}={fmt_value(field.default)})"
        return self.names[0]

    def lookup(self, name: str) -> tuple[str, dict[str, Any]]:
        """(entry name, preset parameters) of a name or alias; unknown and retired names are one
        line."""
        if name in self.entries:
            return name, {}
        if name in self.aliases:
            target, preset = self.aliases[name]
            return target, dict(preset)
        if name in self.retired:
            raise InitlabError(f"{self.kind} {name!r} {self.retired[name]}")
        raise InitlabError(f"unknown {self.kind} {name!r}; valid: {', '.join(self.names)}"
                           f"{suggest(name, self.names)}")

    @staticmethod
    def _allowed(model: type[Params]) -> str:
        """'mean, std (alias stddev)': a model's parameters and the aliases of each."""
        parts = []
        for key in model.model_fields:
            others = [a for a, target in model.ALIASES.items() if target == key]
            parts.append(f"{key} (alias {', '.join(others)})" if others else key)
        return ", ".join(parts) or "none"

    def resolve(self, spec: Any) -> Resolved:
        """Parse, look up and validate a spec (one-line InitlabError naming what is wrong);
        parameter aliases are renamed to their fields first."""
        given, written = self.parse(spec)
        name, preset = self.lookup(given)
        model = self.entries[name]
        where = f"{self.kind} '{given}'" + ("" if given == name else f" ({name})")
        user: dict[str, Any] = {}
        for key, value in written.items():
            field = model.ALIASES.get(key, key)
            if field not in model.model_fields:
                keys = [*model.model_fields, *model.ALIASES]
                raise InitlabError(f"{where} has no parameter {key!r}; allowed: "
                                   f"{self._allowed(model)}{suggest(key, keys)}")
            if field in user:
                both = " and ".join(repr(k) for k in written if model.ALIASES.get(k, k) == field)
                raise InitlabError(f"{where}: {both} are the same parameter; give one")
            user[field] = value
        try:
            params = model.model_validate(preset | user).model_dump()
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            head = f"{where}: parameter '{key}' " if key else f"{where}: "
            raise InitlabError(f"{head}{phrase(first)}{got(first)}") from None
        return Resolved(given, name, params, tuple(user))

    def json_schema(self) -> dict[str, Any]:
        """Every spec this registry accepts: a name, 'name(key=value, …)', or a mapping with
        ``name`` and that entry's parameters (their types, bounds and defaults)."""
        mappings = []
        for name in self.names:
            entry, preset = self.lookup(name)
            schema = self.entries[entry].model_json_schema()
            props = {"name": {"const": name}}
            for key, prop in schema.get("properties", {}).items():
                props[key] = prop | ({"default": preset[key]} if key in preset else {})
            for alias, field in self.entries[entry].ALIASES.items():
                if field in props:
                    same = {k: v for k, v in props[field].items() if k not in ("default", "title")}
                    props[alias] = same | {"description": f"alias of {field}"}
            doc = (self.entries[entry].__doc__ or "").strip().splitlines()
            mappings.append({"type": "object", "title": name, "properties": props,
                             "required": ["name"], "additionalProperties": False,
                             **({"description": doc[0]} if doc else {})})
        names = "|".join(re.escape(n) for n in self.names)
        return {"anyOf": [{"type": "string", "enum": list(self.names)},
                          {"type": "string", "pattern": rf"^\s*({names})\s*\(.*\)\s*$"},
                          *mappings]}
