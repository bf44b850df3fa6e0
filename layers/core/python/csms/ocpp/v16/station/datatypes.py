"""The nested object types of the messages a station initiates (OCPP 1.6 §7): the meter values of MeterValues.req
and StopTransaction.req. ``IdTagInfo``, which the central system's SendLocalList also carries, is in
``csms.ocpp.v16.datatypes``.

Fields are declared in the schemas' property order, so validation errors come in that order too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.enums import (
    Location,
    Measurand,
    Phase,
    ReadingContext,
    StopTransactionUnitOfMeasure,
    UnitOfMeasure,
    ValueFormat,
)
from csms.ocpp.v16.types import OcppDateTime, OcppModel


class SampledValue(OcppModel):
    """One measured value. ``value`` is text: a number for Raw, a signed blob for SignedData."""

    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


class MeterValue(OcppModel):
    """A timestamped set of sampled values as in MeterValues.req (at least one of each)."""

    timestamp: OcppDateTime
    sampled_value: Annotated[list[SampledValue], Field(min_length=1)]


# StopTransaction.req carries the same MeterValue type in the specification, but its schema differs
# from the MeterValues.req one: no minItems and no "Hertz" unit. The schema is what stations are
# tested against, so these two follow it.


# A field narrowed this way is not a subtype to mypy (a model's fields are mutable, a list is invariant);
# pydantic validates each class against its own annotation, which is the point.


class StopTransactionSampledValue(SampledValue):
    unit: StopTransactionUnitOfMeasure | None = None  # type: ignore[assignment]  # narrower on purpose, see above


class StopTransactionMeterValue(MeterValue):
    sampled_value: list[StopTransactionSampledValue]  # type: ignore[assignment]  # narrower on purpose, see above
