"""Schema checking, and the fast validator agreeing with the precise one."""

import jsonschema
import pytest
from django.core.exceptions import ValidationError

from apps.data.validation import CompiledSchema, check_schema

SCHEMAS = [
    {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 5},
            "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "kind": {"enum": ["a", "b"]},
            "score": {"type": "number", "minimum": 0, "exclusiveMaximum": 10},
            "when": {"type": "string", "format": "date-time"},
            "address": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}},
                "additionalProperties": False,
            },
            "either": {"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]},
        },
        "additionalProperties": {"type": ["string", "number", "null"]},
    },
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "definitions": {"pos": {"type": "integer", "minimum": 1}},
        "properties": {"n": {"$ref": "#/definitions/pos"}, "items": {"items": {"type": "null"}}},
        "dependencies": {"n": ["items"]},
    },
    {
        "type": "object",
        "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
        "properties": {"tree": {"$ref": "#/$defs/node"}, "t": {"const": 3}},
        "if": {"properties": {"t": {"const": 3}}, "required": ["t"]},
        "then": {"required": ["tree"]},
    },
]

INSTANCES = [
    {},
    {"id": 1},
    {"id": "1"},
    {"id": True},
    {"name": "abc", "zip": "12345", "tags": ["x", "y"], "kind": "a", "score": 9.5},
    {"name": "a"},
    {"name": "abcdef"},
    {"zip": "1234a"},
    {"tags": ["x", "x"]},
    {"kind": "c"},
    {"score": 10},
    {"score": -1},
    {"when": "not a date"},
    {"address": {"city": "Paris"}},
    {"address": {"street": "x"}},
    {"address": {"city": "Paris", "extra": 1}},
    {"either": 1},
    {"either": "ab"},
    {"other": [1]},
    {"other": None},
    {"n": 0},
    {"n": 2},
    {"n": 2, "items": [None]},
    {"items": [1]},
    {"t": 3},
    {"t": 3, "tree": {"child": {"child": {}}}},
    {"tree": {"child": 5}},
    [],
    "text",
    {"id": 1.0},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_fast_validator_agrees_with_jsonschema(schema):
    check_schema(schema)
    compiled = CompiledSchema(schema)
    reference = jsonschema.validators.validator_for(schema)(schema)
    verdicts = []
    for instance in INSTANCES:
        expected = reference.is_valid(instance)
        assert compiled.is_valid(instance) is expected, instance
        assert bool(compiled.explain(instance)) is (not expected), instance
        verdicts.append(expected)
    assert True in verdicts and False in verdicts  # the corpus exercises both answers


def test_explain_gives_json_path_and_reason():
    compiled = CompiledSchema(SCHEMAS[1])
    problems = compiled.explain({"address": {"city": 5}})
    assert problems[0].path == "$.address.city"
    assert 'is not of type "string"' in problems[0].message


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "strin"}, "schema['type']"),
        ({"properties": {"a": {"type": 5}}}, "schema['properties']['a']['type']"),
        ({"properties": {"a": {"minLength": -1}}}, "minLength"),
        ({"type": "string", "pattern": "(("}, "regex"),
        ({"$ref": "#/$defs/missing"}, "missing"),
        ({"$ref": "http://127.0.0.1:9/remote.json"}, "127.0.0.1"),
        ([], "must be a JSON object"),
    ],
)
def test_invalid_schemas_say_what_and_where(schema, fragment):
    with pytest.raises(ValidationError) as raised:
        check_schema(schema)
    assert fragment in " ".join(raised.value.messages)


def test_primary_key_must_be_a_property():
    with pytest.raises(ValidationError, match="'code' is not one of the schema's properties"):
        check_schema({"properties": {"id": {}}}, primary_key="code")
    check_schema({"properties": {"code": {}}}, primary_key="code")
    check_schema({"type": "object"}, primary_key="code")  # no properties listed: any field


def test_every_schema_problem_is_reported():
    with pytest.raises(ValidationError) as raised:
        check_schema({"properties": {"id": {"type": "integr"}, "n": {"minimum": "x"}}})
    text = " ".join(raised.value.messages)
    assert "schema['properties']['id']['type']" in text
    assert "schema['properties']['n']['minimum']" in text
