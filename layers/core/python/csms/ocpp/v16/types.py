"""The base model and the shared field types of the OCPP 1.6 messages.

Wire rules (OCPP 1.6 §7, OCPP-J 1.6 §4) live here once:
- field names are snake_case in Python and camelCase on the wire (the schemas' property names);
- strings are bounded (CiStringN of the 1.6 spec, string[N] of the Security Whitepaper);
- times are UTC date-times, numbers are decimals with one fractional digit (``multipleOf: 0.1``);
- enum values are exactly the wire strings.

Validating with a ``context`` means "this is a wire payload": JSON ``null`` is then a type error, as in
the schemas. ``context={"lenient": True}`` is the per-station lenient mode: string lengths are not
checked, unknown enum strings are kept as plain ``str``, unknown properties are dropped and ``null``
for an optional field is taken as absent. Missing required fields and wrong JSON types still fail.
Without a context (Python code building a message) ``None`` simply means "absent".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo, model_validator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticKnownError, core_schema

__all__ = [
    "CiString20",
    "CiString25",
    "CiString50",
    "CiString255",
    "CiString500",
    "OcppDateTime",
    "OcppDecimal",
    "OcppEnum",
    "OcppModel",
    "String40",
    "String50",
    "String128",
    "String255",
    "String512",
    "String800",
    "String5500",
    "String10000",
    "is_lenient",
]


def is_lenient(info: ValidationInfo) -> bool:
    """True when the validation runs in the per-station lenient mode (``context={"lenient": True}``)."""
    context = info.context
    return context is not None and bool(context.get("lenient"))


class _JsonNull:
    """Stands in for a JSON ``null`` so that the field's own validator reports a type error at its path."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"


_JSON_NULL = _JsonNull()


class OcppModel(BaseModel):
    """Base of every OCPP 1.6 payload and datatype.

    ``strict``: no coercion ("1" is not an integer, 1.0 is not an integer, 1 is not a string), which
    is what the JSON schemas say. Payloads come from ``json.loads`` so Python-mode strict validation
    sees exactly the JSON types; our own field types below accept the JSON forms of their values.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,  # Python code may write connector_id=1 ...
        validate_by_alias=True,  # ... the wire writes connectorId (validation.py turns names off)
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        strict=True,
        defer_build=True,
    )

    # Filled per class once it is built: the property names the schema knows, and the required ones.
    _wire_keys: ClassVar[frozenset[str]] = frozenset()
    _required_wire_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields.values()
        cls._wire_keys = frozenset(field.alias for field in fields if field.alias)
        cls._required_wire_keys = frozenset(field.alias for field in fields if field.alias and field.is_required())

    @model_validator(mode="before")
    @classmethod
    def _screen_wire_payload(cls, data: Any, info: ValidationInfo) -> Any:
        context = info.context
        if context is None or type(data) is not dict:
            return data  # Python construction, or not an object (the model schema reports that)
        if context.get("lenient"):
            known, required = cls._wire_keys, cls._required_wire_keys
            data = {
                key: value for key, value in data.items() if key in known and (value is not None or key in required)
            }
        if None in data.values():
            # No 1.6 schema allows null ("type" is never "null"): fail as a type error at the field's path.
            data = {key: _JSON_NULL if value is None else value for key, value in data.items()}
        return data


# --- bounded strings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MaxLength:
    """maxLength, skipped in lenient mode (real stations send serial numbers longer than 25)."""

    max_length: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        max_length = self.max_length

        def check(value: str, info: ValidationInfo) -> str:
            if len(value) > max_length and not is_lenient(info):
                raise PydanticKnownError("string_too_long", {"max_length": max_length})
            return value

        return core_schema.with_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        return json_schema


# OCPP 1.6 §7 (CiStringNType): case-insensitive strings of at most N characters.
CiString20 = Annotated[str, _MaxLength(20)]
CiString25 = Annotated[str, _MaxLength(25)]
CiString50 = Annotated[str, _MaxLength(50)]
CiString255 = Annotated[str, _MaxLength(255)]
CiString500 = Annotated[str, _MaxLength(500)]

# OCPP 1.6 Security Whitepaper: plain string[N] (hashes, serials, URLs, PEM data: case matters).
String40 = Annotated[str, _MaxLength(40)]
String50 = Annotated[str, _MaxLength(50)]
String128 = Annotated[str, _MaxLength(128)]
String255 = Annotated[str, _MaxLength(255)]
String512 = Annotated[str, _MaxLength(512)]
String800 = Annotated[str, _MaxLength(800)]
String5500 = Annotated[str, _MaxLength(5500)]
String10000 = Annotated[str, _MaxLength(10000)]


# --- enums ----------------------------------------------------------------------------------------


class OcppEnum(StrEnum):
    """An OCPP enumeration; member values are the wire strings.

    Validation accepts the wire string (or a member), rejects a non-string as a type error and an
    unknown string as an enum error, except in lenient mode where the unknown string is kept as
    ``str`` (StrEnum members compare equal to their strings, so handlers can still match on them).
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        members = cls._value2member_map_
        expected = ", ".join(repr(value) for value in list(members)[:-1])
        expected = f"{expected} or {list(members)[-1]!r}" if expected else repr(next(iter(members)))

        def validate(value: Any, info: ValidationInfo) -> Any:
            if not isinstance(value, str):
                raise PydanticKnownError("string_type")
            member = members.get(value)
            if member is not None:
                return member
            if is_lenient(info):
                return str(value)
            raise PydanticKnownError("enum", {"expected": expected})

        return core_schema.with_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.enum_schema(cls, list(cls), sub_type="str"),
        )


# --- date-time ------------------------------------------------------------------------------------

# RFC 3339 §5.6 date-time, except that the offset may be missing: OCPP 1.6 ("Time zones", §3) wants
# every time in UTC and real stations do send "2026-11-24T10:00:00", so a missing offset reads as UTC.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?")


def _parse_date_time(value: Any) -> datetime:
    if isinstance(value, str):
        if _DATE_TIME.fullmatch(value) is None:
            raise PydanticKnownError("datetime_parsing", {"error": "expected an RFC 3339 date-time"})
        try:
            parsed = datetime.fromisoformat(value.upper())  # upper(): 't' and 'z' are valid RFC 3339
        except ValueError:
            raise PydanticKnownError("datetime_parsing", {"error": "no such date or time"}) from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise PydanticKnownError("datetime_type")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00: valid RFC 3339, but after the year 9999 in UTC
        raise PydanticKnownError("datetime_parsing", {"error": "outside the years 1 to 9999 in UTC"}) from None


def _format_date_time(value: datetime) -> str:
    # "2026-11-24T10:00:00Z", or "2026-11-24T10:00:00.123Z": milliseconds only when there are some.
    value = value.astimezone(UTC)
    timespec = "milliseconds" if value.microsecond >= 1000 else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


class _DateTimeSchema:
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _parse_date_time,
            json_schema_input_schema=core_schema.datetime_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(_format_date_time, when_used="json"),
        )


OcppDateTime = Annotated[datetime, _DateTimeSchema]
"""A UTC-aware datetime; on the wire an RFC 3339 string with a Z suffix."""


# --- decimal numbers ------------------------------------------------------------------------------


def _parse_decimal(value: Any) -> Decimal:
    # JSON numbers only: a string or a boolean is the wrong JSON type for "type": "number".
    if type(value) is float:
        number = Decimal(repr(value))  # repr: the shortest text that reads back as this float
    elif type(value) is int:
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    else:
        raise PydanticKnownError("float_type")  # "Input should be a valid number"
    if not number.is_finite():
        raise PydanticKnownError("finite_number")
    # multipleOf 0.1, checked exactly on the decimal digits (in floats 0.3 / 0.1 is 2.9999999999999996):
    # a multiple has no nonzero digit after the first decimal place; 0.30 (digits 3,0; exponent -2) is one.
    _, digits, exponent = number.as_tuple()
    if exponent < -1:  # type: ignore[operator]  # finite: exponent is an int
        significant = len(digits)
        while significant and digits[significant - 1] == 0:
            significant -= 1
        if significant and exponent + (len(digits) - significant) < -1:  # type: ignore[operator]
            raise PydanticKnownError("multiple_of", {"multiple_of": 0.1})
    return number


def _decimal_to_json(value: Decimal) -> int | float:
    # The frame is written with json.dumps, which cannot write a Decimal. A float of at most 15
    # significant digits prints back as the same digits (repr is shortest round-trip), so no value
    # changes on the wire; integers stay integers.
    if value.as_tuple().exponent >= 0:  # type: ignore[operator]  # finite, checked on the way in
        return int(value)
    return float(value)


class _DecimalSchema:
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _parse_decimal,
            json_schema_input_schema=core_schema.float_schema(multiple_of=0.1),
            serialization=core_schema.plain_serializer_function_ser_schema(_decimal_to_json, when_used="json"),
        )


OcppDecimal = Annotated[Decimal, _DecimalSchema]
"""A JSON number of the 1.6 schemas: every one of them is ``multipleOf: 0.1`` (limits, rates)."""
