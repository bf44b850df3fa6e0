"""Enums written out as a subset of another (so that type checkers see their members) stay that subset."""

from csms.ocpp.v16.enums import AuthorizationStatus, StopTransactionUnitOfMeasure, UnitOfMeasure
from csms.operator.models import IdTagStatus


def _members(enum: type) -> list[tuple[str, str]]:
    return [(member.name, member.value) for member in enum]


def test_the_operator_sets_every_authorization_status_but_concurrent_tx():
    assert _members(IdTagStatus) == [
        (status.name, status.value) for status in AuthorizationStatus if status is not AuthorizationStatus.CONCURRENT_TX
    ]


def test_stop_transaction_units_are_the_meter_values_units_but_hertz():
    assert _members(StopTransactionUnitOfMeasure) == [
        (unit.name, unit.value) for unit in UnitOfMeasure if unit is not UnitOfMeasure.HERTZ
    ]
