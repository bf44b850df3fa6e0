"""The OCPP 1.6 message models agree with the official JSON schemas shipped by the ``ocpp`` package.

For each of the 78 schemas, payloads are built from the schema itself (a minimal and a maximal valid
one, then one mutation at a time) and judged twice: by jsonschema's Draft4Validator, the reference,
and by ``csms.ocpp.v16.validation``. Both must accept or reject, and the CallError code we raise must
be the one the reference's failure kind maps to (OCPP-J 1.6 §4.2.3, see validation.py).

Numbers: schemas and reference instances are read with ``parse_float=Decimal`` so that jsonschema's
multipleOf is exact (with floats it says 0.3 is not a multiple of 0.1). Date-times: the reference
checks RFC 3339; the one deliberate difference (no offset means UTC) is tested in test_v16_validation.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker
from pydantic import BaseModel

import csms
from csms.ocpp.errors import ErrorCode, OcppError
from csms.ocpp.v16.actions import ACTIONS
from csms.ocpp.v16.messages import messages
from csms.ocpp.v16.types import OcppEnum, OcppModel
from csms.ocpp.v16.validation import dump, parse_request, parse_response

_OCPP_SPEC = importlib.util.find_spec("ocpp")
assert _OCPP_SPEC is not None and _OCPP_SPEC.submodule_search_locations
SCHEMA_DIR = Path(next(iter(_OCPP_SPEC.submodule_search_locations))) / "v16" / "schemas"
SCHEMA_NAMES = sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))

# The brief's table: jsonschema failure kind -> CallError code (OCPP-J 1.6 §4.2.3).
EXPECTED_CODE = {
    "required": ErrorCode.PROTOCOL_ERROR,
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "format": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
}
# What the per-station lenient mode lets through (types.py): lengths, unknown enums, unknown properties.
LENIENT_ACCEPTS = {"maxLength", "enum", "additionalProperties"}


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text(), parse_float=Decimal)


def action_of(schema_name: str) -> tuple[str, bool]:
    """("BootNotification", False) for BootNotification.json, (..., True) for ...Response.json."""
    if schema_name.endswith("Response"):
        return schema_name.removesuffix("Response"), True
    return schema_name, False


def parse(schema_name: str, payload: dict[str, Any], *, lenient: bool = False):
    action, is_response = action_of(schema_name)
    wire = json.loads(json.dumps(payload))  # exactly what frames.py hands over
    return (parse_response if is_response else parse_request)(action, wire, lenient=lenient)


def reference_errors(schema: dict[str, Any], payload: dict[str, Any]) -> list[Any]:
    validator = Draft4Validator(schema, format_checker=FormatChecker(formats=["date-time"]))
    return list(validator.iter_errors(json.loads(json.dumps(payload), parse_float=Decimal)))


# --- payloads from the schema ---------------------------------------------------------------------


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def sample(schema: dict[str, Any], node: dict[str, Any], *, maximal: bool) -> Any:
    node = resolve(schema, node)
    kind = node["type"]
    if kind == "object":
        names = node.get("properties", {}) if maximal else node.get("required", [])
        return {name: sample(schema, node["properties"][name], maximal=maximal) for name in names}
    if kind == "array":
        count = 2 if maximal else node.get("minItems", 0)
        return [sample(schema, node["items"], maximal=maximal) for _ in range(count)]
    if kind == "string":
        if "enum" in node:
            return node["enum"][-1 if maximal else 0]
        if node.get("format") == "date-time":
            return "2026-11-24T10:00:00.123Z" if maximal else "2026-11-24T10:00:00Z"
        if node.get("format") == "uri":
            return "https://firmware.example.com/cp/image-1.2.3.bin"
        if maximal and "maxLength" in node:
            return "A" * node["maxLength"]  # the longest allowed string
        return "some text"
    if kind == "integer":
        return 7 if maximal else 0
    if kind == "number":
        return 12.3 if maximal else 6
    if kind == "boolean":
        return True
    raise AssertionError(f"unexpected schema type {kind}")


@dataclass(frozen=True)
class Case:
    schema_name: str
    label: str
    payload: dict[str, Any]
    failure: str | None  # the jsonschema keyword that must fail, None for a valid payload
    optional_null: bool = False  # a null for an optional property (lenient mode treats it as absent)

    @property
    def id(self) -> str:
        return f"{self.schema_name}:{self.label}"


WRONG_TYPES: dict[str, list[Any]] = {
    "string": [42, True, None, [], {}],
    "integer": ["1", 1.5, 1.0, True, None],
    "number": ["1.5", True, None, []],
    "boolean": ["true", 1, None],
    "object": ["x", [], 1, None],
    "array": [{}, "x", None],
}
BAD_DATE_TIMES = [
    "2026-11-24",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-24T25:00:00Z",
    "2026-11-24 10:00:00Z",
    "24/11/2026 10:00",
    "",
]
GOOD_DATE_TIMES = [
    "2026-11-24T11:00:00+01:00",
    "2026-11-24T10:00:00.5Z",
    "2026-11-24t10:00:00z",
    "2026-11-24T10:00:00.1234567-03:30",
]
GOOD_NUMBERS = [0.3, 0.1, 32, 32.0, 7.7, 1e2, 2200.5, 0]
BAD_NUMBERS = [12.34, 0.05, 1e-5]


def _walk(
    schema: dict[str, Any], node: dict[str, Any], value: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], Any]]:
    """Every (path, schema node, value) of a sampled payload, depth first."""
    node = resolve(schema, node)
    yield path, node, value
    if node["type"] == "object":
        for name, child in value.items():
            yield from _walk(schema, node["properties"][name], child, (*path, name))
    elif node["type"] == "array" and value:
        yield from _walk(schema, node["items"], value[0], (*path, 0))


def _replace(payload: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(payload)
    target: Any = mutated
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return mutated


def _delete(payload: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    mutated = copy.deepcopy(payload)
    target: Any = mutated
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return mutated


def _label(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "payload"


def cases_for(schema_name: str) -> Iterator[Case]:
    schema = load_schema(schema_name)
    minimal, maximal = sample(schema, schema, maximal=False), sample(schema, schema, maximal=True)
    yield Case(schema_name, "minimal", minimal, None)
    yield Case(schema_name, "maximal", maximal, None)
    for path, node, _ in _walk(schema, schema, maximal, ()):
        where = _label(path)
        if node["type"] == "object":
            for name in node.get("required", []):
                yield Case(schema_name, f"{_label((*path, name))}:dropped", _delete(maximal, (*path, name)), "required")
            extra = _replace(maximal, (*path, "unexpectedProperty"), 1)
            yield Case(schema_name, f"{where}:extra property", extra, "additionalProperties")
        if path:  # the root object's type is checked by frames.py
            parent = resolve(schema, _node_at(schema, path[:-1]))
            required = parent["type"] == "object" and path[-1] in parent.get("required", [])
            for wrong in WRONG_TYPES[node["type"]]:
                yield Case(
                    schema_name,
                    f"{where}:type {json.dumps(wrong)}",
                    _replace(maximal, path, wrong),
                    "type",
                    optional_null=wrong is None and parent["type"] == "object" and not required,
                )
        if "maxLength" in node:
            too_long = "A" * (node["maxLength"] + 1)
            yield Case(schema_name, f"{where}:too long", _replace(maximal, path, too_long), "maxLength")
        if "enum" in node:
            for good in node["enum"]:
                yield Case(schema_name, f"{where}:enum {good}", _replace(maximal, path, good), None)
            yield Case(schema_name, f"{where}:not in enum", _replace(maximal, path, "NotAValue"), "enum")
            wrong_case = node["enum"][0].swapcase()
            yield Case(schema_name, f"{where}:enum is case sensitive", _replace(maximal, path, wrong_case), "enum")
        if node.get("format") == "date-time":
            for good in GOOD_DATE_TIMES:
                yield Case(schema_name, f"{where}:date-time {good}", _replace(maximal, path, good), None)
            for bad in BAD_DATE_TIMES:
                yield Case(schema_name, f"{where}:date-time {bad!r}", _replace(maximal, path, bad), "format")
        if node.get("minItems") == 1:
            yield Case(schema_name, f"{where}:empty", _replace(maximal, path, []), "minItems")
        if node["type"] == "array" and "minItems" not in node:
            yield Case(schema_name, f"{where}:empty allowed", _replace(maximal, path, []), None)
        if "multipleOf" in node:
            for good in GOOD_NUMBERS:
                yield Case(schema_name, f"{where}:number {good}", _replace(maximal, path, good), None)
            for bad in BAD_NUMBERS:
                yield Case(schema_name, f"{where}:number {bad}", _replace(maximal, path, bad), "multipleOf")


def _node_at(schema: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    node = schema
    for part in path:
        node = resolve(schema, node)
        node = node["items"] if isinstance(part, int) else node["properties"][part]
    return node


ALL_CASES = [case for name in SCHEMA_NAMES for case in cases_for(name)]


# --- the catalog is the schema set ----------------------------------------------------------------


def test_the_package_ships_the_78_official_schemas():
    assert len(SCHEMA_NAMES) == 78


def test_the_catalog_has_exactly_one_action_per_request_and_response_schema():
    requests = {name for name in SCHEMA_NAMES if not name.endswith("Response")}
    responses = {name.removesuffix("Response") for name in SCHEMA_NAMES if name.endswith("Response")}
    assert requests == responses
    assert set(ACTIONS) == requests
    assert len(ACTIONS) == 39


def test_the_mutations_cover_every_kind_of_failure():
    kinds = {case.failure for case in ALL_CASES}
    assert kinds == {None, "required", "type", "maxLength", "enum", "format", "minItems", "additionalProperties", "multipleOf"}
    assert len(ALL_CASES) > 2000


# --- the models mirror the schemas structurally ---------------------------------------------------


def _leaf_types(annotation: Any) -> set[type]:
    """The model and enum classes inside an annotation (through Optional, list, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, OcppModel | OcppEnum):
        return {annotation}
    found: set[type] = set()
    for arg in typing.get_args(annotation):
        found |= _leaf_types(arg)
    return found


def _assert_model_mirrors(schema: dict[str, Any], node: dict[str, Any], model: type[BaseModel], where: str) -> None:
    node = resolve(schema, node)
    properties = node.get("properties", {})
    fields = {field.alias: field for field in model.model_fields.values()}
    assert list(fields) == list(properties), f"{where}: properties (names and order)"
    required = {alias for alias, field in fields.items() if field.is_required()}
    assert required == set(node.get("required", [])), f"{where}: required"
    for alias, prop in properties.items():
        prop = resolve(schema, prop)
        target = resolve(schema, prop["items"]) if prop["type"] == "array" else prop
        leaves = _leaf_types(fields[alias].annotation)
        if target["type"] == "object":
            (nested,) = leaves
            _assert_model_mirrors(schema, target, nested, f"{where}.{alias}")
        elif "enum" in target:
            (enum,) = leaves
            assert [member.value for member in enum] == target["enum"], f"{where}.{alias}: enum values"
        else:
            assert not leaves, f"{where}.{alias}: not a model or enum in the schema"


@pytest.mark.parametrize("schema_name", SCHEMA_NAMES)
def test_the_model_has_the_schema_properties_required_fields_and_enum_values(schema_name):
    action, is_response = action_of(schema_name)
    found = messages(action)
    model = found.response if is_response else found.request
    assert model.__name__ == action
    schema = load_schema(schema_name)
    _assert_model_mirrors(schema, schema, model, schema_name)


def test_every_schema_number_is_a_multiple_of_one_tenth_as_ocpp_decimal_assumes():
    numbers = []
    for name in SCHEMA_NAMES:
        schema = load_schema(name)
        maximal = sample(schema, schema, maximal=True)
        numbers += [node for _, node, _ in _walk(schema, schema, maximal, ()) if node["type"] == "number"]
    assert len(numbers) == 6, "limit and minChargingRate in three charging schedules"
    assert all(node.get("multipleOf") == Decimal("0.1") for node in numbers)


# --- accept/reject agreement with the reference ---------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_strict_validation_agrees_with_the_official_schema(case: Case):
    schema = load_schema(case.schema_name)
    errors = reference_errors(schema, case.payload)
    if case.failure is None:
        assert errors == [], "the generated payload should be valid"
        parsed = parse(case.schema_name, case.payload)
        assert parsed.violations == ()
        return
    # One mutation, one place; jsonschema may add a consequence there (42 is neither a string nor
    # in the enum): the first failure, in schema keyword order, is the one the code is for.
    assert len({tuple(error.absolute_path) for error in errors}) == 1
    assert errors[0].validator == case.failure
    with pytest.raises(OcppError) as raised:
        parse(case.schema_name, case.payload)
    assert raised.value.code == EXPECTED_CODE[case.failure], raised.value.description


@pytest.mark.parametrize("case", [case for case in ALL_CASES if case.failure], ids=lambda case: case.id)
def test_lenient_validation_lets_through_only_lengths_enums_extras_and_optional_nulls(case: Case):
    if case.failure in LENIENT_ACCEPTS or case.optional_null:
        parsed = parse(case.schema_name, case.payload, lenient=True)
        assert parsed.violations, "the strict violation is reported for the log"
    else:
        with pytest.raises(OcppError) as raised:
            parse(case.schema_name, case.payload, lenient=True)
        assert raised.value.code == EXPECTED_CODE[case.failure], raised.value.description


# --- dump ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", SCHEMA_NAMES)
def test_dump_gives_back_the_wire_payload(schema_name):
    schema = load_schema(schema_name)
    for payload in (sample(schema, schema, maximal=True), sample(schema, schema, maximal=False)):
        wire = json.loads(json.dumps(payload))
        assert dump(parse(schema_name, payload).message) == wire
        assert reference_errors(schema, dump(parse(schema_name, payload).message)) == []


def test_no_schema_validation_library_is_loaded_at_run_time():
    package_root = str(Path(csms.__file__).resolve().parents[1])
    probe = (
        f"import sys; sys.path.insert(0, {package_root!r}); import csms.ocpp.v16.validation; "
        "from csms.ocpp.v16.actions import Initiator; from csms.ocpp.v16.messages import messages_sent_by; "
        "[messages_sent_by(initiator) for initiator in Initiator]; "  # every model, as each function loads its own
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'ocpp')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
