"""initlab.params, the one validation mechanism: spec parsing, aliases, pydantic models per entry,
one-line messages and the JSON Schema of a registry."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import ValidationError

from initlab.errors import InitlabError
from initlab.params import NoParams, Params, Registry, integer, number, phrase


class Ring(Params):
    """A ring: its radius and how many points."""
    radius: number(gt=0.0) = 1.0
    points: integer(ge=3) = 8
    style: Literal["solid", "dashed"] = "solid"


SHAPES = Registry("shape", {"ring": Ring, "dot": NoParams}, {"circle": ("ring", {"points": 64})})


def error(spec) -> str:
    with pytest.raises(InitlabError) as err:
        SHAPES.resolve(spec)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_spec_is_a_name_a_call_or_a_mapping_and_names_are_case_insensitive():
    for spec in ("ring(radius=2)", "RING(Radius=2.0)", {"name": "ring", "radius": 2}):
        found = SHAPES.resolve(spec)
        assert found.name == "ring" and found.params == {"radius": 2.0, "points": 8,
                                                         "style": "solid"}
    assert SHAPES.resolve("dot").params == {}
    assert SHAPES.resolve("ring(radius=2)").label == "ring(radius=2)"
    assert SHAPES.resolve("ring").label == "ring"


def test_an_alias_is_an_entry_with_presets_that_the_spec_can_override():
    assert SHAPES.resolve("circle").params["points"] == 64
    found = SHAPES.resolve("circle(points=5)")
    assert found.params["points"] == 5 and found.label == "circle(points=5)"
    assert "shape 'circle' (ring)" in error("circle(sides=3)")


@pytest.mark.parametrize(("spec", "words"), [
    ("rnig", ["unknown shape 'rnig'", "valid: circle, dot, ring", "did you mean 'ring'"]),
    ("ring(raduis=2)", ["has no parameter 'raduis'", "allowed: radius, points, style",
                        "did you mean 'radius'"]),
    ("ring(radius=0)", ["parameter 'radius'", "must be a number > 0", "(got 0)"]),
    ("ring(radius=inf)", ["'radius'", "must be a finite number"]),
    ("ring(radius=true)", ["'radius'", "must be a number, not True"]),
    ("ring(points=2)", ["'points'", "must be an integer >= 3"]),
    ("ring(points=3.5)", ["'points'", "must be an integer"]),
    ("ring(style=dahsed)", ["'style'", "must be one of solid, dashed", "did you mean 'dashed'"]),
    ("dot(size=1)", ["has no parameter 'size'", "allowed: none"]),
    ("ring(radius=)", ["malformed shape spec", "'radius=' has no value"]),
    ("ring(radius=1, radius=2)", ["'radius' given twice"]),
    ({"radius": 1}, ["needs a 'name' key"]),
    (7, ["must be a name or a mapping"]),
])
def test_every_bad_spec_is_one_line_naming_what_is_wrong_and_what_is_allowed(spec, words):
    msg = error(spec)
    assert all(w in msg for w in words), msg


def test_a_long_bad_value_is_quoted_short():
    msg = error({"name": "ring", "style": "x" * 5000})
    assert len(msg) < 300 and "…" in msg


def test_phrase_reads_pydantic_errors_in_initlabs_words():
    with pytest.raises(ValidationError) as err:
        Ring(radius=-1, points=1.5, style="x")
    words = sorted(phrase(e) for e in err.value.errors())
    assert words == ["must be a number > 0", "must be an integer",
                     "must be one of solid, dashed"]


def test_json_schema_lists_names_calls_and_mappings_with_bounds_and_presets():
    schema = SHAPES.json_schema()["anyOf"]
    assert schema[0] == {"type": "string", "enum": ["circle", "dot", "ring"]}
    assert schema[1]["pattern"].startswith("^\\s*(circle|dot|ring)")
    by_name = {s["title"]: s for s in schema[2:]}
    assert set(by_name) == {"circle", "dot", "ring"}
    ring = by_name["ring"]["properties"]
    assert ring["name"] == {"const": "ring"}
    assert ring["radius"]["exclusiveMinimum"] == 0 and ring["radius"]["default"] == 1.0
    assert ring["points"]["minimum"] == 3
    assert ring["style"]["enum"] == ["solid", "dashed"]
    assert by_name["circle"]["properties"]["points"]["default"] == 64
    assert by_name["ring"]["additionalProperties"] is False
    assert by_name["ring"]["description"] == "A ring: its radius and how many points."
