"""The billing use cases: the hand-off workflow's tasks (price, store) and what the table's stream starts.

Why a stream: the StopTransaction answer never waits on billing, and nothing is lost if the process dies
between the stop's write and the workflow's start. The stop is one conditional UpdateItem that sets
`stoppedAt`; DynamoDB Streams keeps that change for 24 hours and the event source mapping retries its
batch until the consumer succeeded (ReportBatchItemFailures: only the failed records again; an on-failure
destination keeps what still fails). The consumer starts `BillingHandOff` named after the transaction,
so a retried start is the same execution, never a second CDR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from csms.adapters.dynamodb.cdrs import cdr_json
from csms.billing.cdrs import build_cdr
from csms.billing.tariff_choice import choose_tariff
from csms.domain.clock import to_iso
from csms.domain.transactions import Transaction
from csms.events.catalog import EVENT_KINDS, Event, EventType, event_id
from csms.runtime.wiring import Services


class NoTariffApplies(RuntimeError):
    """Neither the id tag, nor the station, nor the network names a tariff in force at the session's start: the
    execution fails with this error name, for the operator to set one and redrive it."""


class TransactionNotStopped(RuntimeError):
    pass


@dataclass(frozen=True)
class PricedCdr:
    cdr: dict[str, Any]
    tariff_id: str
    tariff_version: int


def execution_name(transaction: Transaction) -> str:
    """`BillingHandOff` execution of a transaction (at most 80 of [A-Za-z0-9-_]): transaction ids wrap around,
    so the instant the CSMS accepted its start is part of the name."""
    created = transaction.created_at or transaction.start.started_at
    return f"tx-{transaction.transaction_id}-{re.sub(r'[^0-9]', '', to_iso(created))}"


def price(services: Services, transaction_id: int) -> PricedCdr:
    """The CDR of a stopped transaction, priced with the tariff version in force when the CSMS accepted its
    start: the id tag's tariff over the station's over the network default (chosen as they are now)."""
    transaction = services.transactions.get(transaction_id)
    if transaction is None or transaction.stop is None:
        raise TransactionNotStopped(f"transaction {transaction_id} is unknown or has not stopped")
    station = services.stations.get(transaction.charge_point_id)
    record = services.id_tags.get(transaction.id_tag)
    choice = choose_tariff(
        id_tag_tariff=record.tariff_id if record else None,
        station_tariff=station.tariff_id if station else None,
        default_tariff=services.settings.default_tariff_id,
    )
    accepted_at = transaction.created_at or transaction.start.started_at
    stored = services.tariffs.version_at(choice.tariff_id, accepted_at) if choice else None
    if choice is None or stored is None:
        raise NoTariffApplies(f"no tariff was in force for transaction {transaction_id} at {to_iso(accepted_at)}")
    cdr = build_cdr(
        transaction=transaction,
        meter_values=services.meter_values.list_for_transaction(transaction_id),
        tariff=stored.tariff,
        time_zone=(station.time_zone if station else None) or "UTC",
        country_code=services.settings.ocpi_country_code,
        party_id=services.settings.ocpi_party_id,
        now=services.clock.now(),
    )
    return PricedCdr(cdr_json(cdr), choice.tariff_id, stored.version)


def store(services: Services, priced: dict[str, Any], *, transaction_id: int, charge_point_id: str) -> dict[str, Any]:
    """Store the CDR once (a re-run gets the one stored first) and say on the transaction which tariff version
    priced it; returns the `CdrIssued` detail for the workflow's PutEvents."""
    cdr, _ = services.cdrs.store(priced["cdr"], charge_point_id=charge_point_id, transaction_id=transaction_id)
    services.transactions.record_billing(
        transaction_id, cdr_id=cdr["id"], tariff_id=priced["tariffId"], tariff_version=int(priced["tariffVersion"])
    )
    return {"eventId": cdr["id"], "schemaVersion": EVENT_KINDS[EventType.CDR_ISSUED].schema_version, "cdr": cdr}


def unmatched_stop_event(charge_point_id: str, transaction_id: int, stop: dict[str, Any]) -> Event:
    from csms.domain.clock import from_iso

    return Event(
        type=EventType.UNMATCHED_STOP,
        event_id=event_id(EventType.UNMATCHED_STOP, charge_point_id, transaction_id, stop.get("timestamp")),
        occurred_at=from_iso(stop.get("receivedAt") or stop["timestamp"]),
        fields={"chargePointId": charge_point_id, "transactionId": transaction_id, "stop": stop},
    )
