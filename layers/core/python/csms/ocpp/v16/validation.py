"""Validate OCPP 1.6 payloads against the message models, and write them back.

``parse_request`` / ``parse_response`` take the payload of a CALL / CALLRESULT as ``json.loads`` gave
it. Validation is strict (JSON types are not coerced: ``"1"`` is not an integer, ``1.0`` is not an
integer) because the payload dict holds exactly the JSON types and the models are strict. A station in
lenient mode gets a second, lenient validation only when the strict one fails; its strict violations
come back for the caller to log (see ``types.py`` for what lenient relaxes).

Pydantic only at run time: this runs on every station message, jsonschema is for the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from csms.ocpp.errors import (
    ActionNotImplementedError,
    FormationViolationError,
    OccurenceConstraintViolationError,
    OcppError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from csms.ocpp.v16.actions import Action
from csms.ocpp.v16.messages import ActionMessages, messages
from csms.ocpp.v16.types import OcppModel

__all__ = ["Parsed", "dump", "parse_request", "parse_response"]


@dataclass(frozen=True, slots=True)
class Parsed:
    message: OcppModel
    violations: tuple[str, ...] = ()  # strict-mode failures that lenient mode let through


# OCPP-J 1.6 §4.2.3 gives the CallError codes; which schema failure gets which code:
# - a required field is missing: ProtocolError ("Payload for Action is incomplete");
# - a value of the wrong JSON type (object, array, string, boolean, integer, number, or null):
#   TypeConstraintViolation; so is a string longer than its CiStringN/string[N] type, because the
#   length is part of that data type (OCPP 1.6 §7);
# - a value of the right type outside its allowed set (enum, date-time format, multipleOf, minimum):
#   PropertyConstraintViolation ("at least one field contains an invalid value");
# - too few (or too many) array items: OccurenceConstraintViolation;
# - an unknown property: FormationViolation (the payload does not conform to the PDU structure);
#   so is anything not listed here.
_ERROR_BY_TYPE: Mapping[str, type[OcppError]] = {
    "missing": ProtocolError,
    **dict.fromkeys(
        (
            "bool_type",
            "datetime_type",
            "dict_type",
            "float_type",
            "int_type",
            "list_type",
            "model_attributes_type",
            "model_type",
            "string_type",
            "string_too_long",
        ),
        TypeConstraintViolationError,
    ),
    **dict.fromkeys(
        (
            "datetime_parsing",
            "enum",
            "finite_number",
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
            "multiple_of",
        ),
        PropertyConstraintViolationError,
    ),
    "too_short": OccurenceConstraintViolationError,
    "too_long": OccurenceConstraintViolationError,
    "extra_forbidden": FormationViolationError,
}

# Validation contexts: any context marks a wire payload (JSON null is then a type error).
_STRICT = {"lenient": False}
_LENIENT = {"lenient": True}


def parse_request(action: Action, payload: dict[str, Any], *, lenient: bool = False) -> Parsed:
    """Validate the payload of a CALL for ``action``; raise the OcppError to answer with if invalid."""
    return _parse(_messages(action).request, payload, lenient)


def parse_response(action: Action, payload: dict[str, Any], *, lenient: bool = False) -> Parsed:
    """Validate the payload of the CALLRESULT answering a CALL of ``action``."""
    return _parse(_messages(action).response, payload, lenient)


def dump(message: OcppModel) -> dict[str, Any]:
    """The wire payload of a message: camelCase keys, JSON values, absent fields left out."""
    return message.model_dump(mode="json", by_alias=True, exclude_none=True)


def _messages(action: Action) -> ActionMessages:
    try:
        return messages(action)
    except KeyError:
        raise ActionNotImplementedError(f"Unknown action {action!r}") from None


def _parse(model: type[OcppModel], payload: dict[str, Any], lenient: bool) -> Parsed:
    # by_name=False: on the wire only the schema's camelCase names exist ("connector_id" is unknown).
    try:
        return Parsed(model.model_validate(payload, by_alias=True, by_name=False, context=_STRICT))
    except ValidationError as strict_failure:
        if not lenient:
            raise _to_ocpp_error(strict_failure) from None
        violations = tuple(_describe(error) for error in strict_failure.errors(include_url=False))
    try:
        message = model.model_validate(payload, by_alias=True, by_name=False, context=_LENIENT)
    except ValidationError as failure:
        raise _to_ocpp_error(failure) from None
    return Parsed(message, violations)


def _to_ocpp_error(failure: ValidationError) -> OcppError:
    first = failure.errors(include_url=False, include_input=False)[0]
    return _ERROR_BY_TYPE.get(first["type"], FormationViolationError)(_describe(first))


def _describe(error: ErrorDetails) -> str:
    """``meterValue[0].sampledValue[1].unit: Input should be ...``: the JSON path, then the reason."""
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return f"{path or 'payload'}: {error['msg']}"
