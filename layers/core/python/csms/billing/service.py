"""The billing use cases: the hand-off workflow's tasks (price, store) and what the table's stream starts.

Why a stream: the StopTransaction answer never waits on billing, and nothing is lost if the process dies
between the stop's write and the workflow's start. The stop is one conditional UpdateItem that sets
`stoppedAt`; DynamoDB Streams keeps that change for 24 hours and the event source mapping retries its
batch until the consumer succeeded (ReportBatchItemFailures: only the failed records again; an on-failure
destination keeps what still fails). The consumer starts `BillingHandOff` named after the transaction,
so a retried start is the same execution, never a second CDR.

The session's driver hears of its end here, once it is priced: `SessionEnded` (energy, duration, cost including
VAT) is a follow-up item in the transaction's partition, put by the stream. Written by `store` with the CDR's
cost, or by `price` with no cost when no tariff applies: the execution then still fails for the operator (who
sets a tariff and redrives it), but the driver is not kept waiting for that. Both write the same item (its key is
the event's id, derived from the session), created only once: one SessionEnded per session whichever comes
first, and a redriven execution's store finds it written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from csms.adapters.dynamodb.cdrs import cdr_json
from csms.billing.cdrs import build_cdr, corrected_cdr_id, credit_cdr_id
from csms.billing.tariff_choice import choose_tariff
from csms.domain.clock import to_iso
from csms.domain.limits import Money
from csms.domain.tariffs.cdr import credit_cdr
from csms.domain.transactions import Transaction
from csms.events.catalog import EVENT_KINDS, Event, EventType
from csms.events.sessions import session_ended
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


def price(
    services: Services, transaction_id: int, *, tariff_id: str | None = None, replacing: str | None = None
) -> PricedCdr:
    """The CDR of a stopped transaction, priced with the tariff version in force when the CSMS accepted its
    start: `tariff_id` if given (a correction; its current version when none was in force then), else the id
    tag's tariff over the station's over the network default (chosen as they are now). `replacing`: the CDR it
    corrects."""
    transaction = services.transactions.get(transaction_id)
    if transaction is None or transaction.stop is None:
        raise TransactionNotStopped(f"transaction {transaction_id} is unknown or has not stopped")
    station = services.stations.get(transaction.charge_point_id)
    named = tariff_id is not None
    if tariff_id is None:
        record = services.id_tags.get(transaction.id_tag)
        choice = choose_tariff(
            id_tag_tariff=record.tariff_id if record else None,
            station_tariff=station.tariff_id if station else None,
            default_tariff=services.settings.default_tariff_id,
        )
        tariff_id = choice.tariff_id if choice else None
    accepted_at = transaction.created_at or transaction.start.started_at
    stored = services.tariffs.version_at(tariff_id, accepted_at) if tariff_id else None
    if stored is None and named and tariff_id is not None:  # a correction may name a tariff made since
        stored = services.tariffs.get(tariff_id)
    if tariff_id is None or stored is None:
        if replacing is None:  # the hand-off of a session that ended: its driver still hears of it, with no cost
            _tell_session_ended(services, transaction, cost=None)
        raise NoTariffApplies(f"no tariff was in force for transaction {transaction_id} at {to_iso(accepted_at)}")
    cdr = build_cdr(
        transaction=transaction,
        meter_values=services.meter_values.list_for_transaction(transaction_id),
        tariff=stored.tariff,
        time_zone=(station.time_zone if station else None) or "UTC",
        country_code=services.settings.ocpi_country_code,
        party_id=services.settings.ocpi_party_id,
        now=services.clock.now(),
        replacing=replacing,
    )
    return PricedCdr(cdr_json(cdr), tariff_id, stored.version)


def store(services: Services, priced: dict[str, Any], *, transaction_id: int, charge_point_id: str) -> dict[str, Any]:
    """Store the CDR once (a re-run gets the one stored first) and say on the transaction which tariff version
    priced it; returns the `CdrIssued` detail for the workflow's PutEvents."""
    cdr, _ = services.cdrs.store(priced["cdr"], charge_point_id=charge_point_id, transaction_id=transaction_id)
    billed = services.transactions.record_billing(
        transaction_id, cdr_id=cdr["id"], tariff_id=priced["tariffId"], tariff_version=int(priced["tariffVersion"])
    )
    _tell_session_ended(services, billed, cost=total_cost(cdr))
    return {"eventId": cdr["id"], "schemaVersion": EVENT_KINDS[EventType.CDR_ISSUED].schema_version, "cdr": cdr}


def total_cost(cdr: dict[str, Any]) -> Money:
    """What the session cost its driver: including VAT (excluding it only for a tariff that states no VAT)."""
    price = cdr["total_cost"]
    amount = price.get("incl_vat", price["excl_vat"])
    return Money(Decimal(str(amount)), cdr["currency"])


def _tell_session_ended(services: Services, transaction: Transaction, *, cost: Money | None) -> None:
    services.transactions.put_event(
        transaction.transaction_id, session_ended(transaction, cost=cost), now=services.clock.now()
    )


class NotCorrectable(ValueError):
    """A credit CDR is never corrected (credit the CDR it credits), nor a CDR that another already replaced."""


@dataclass(frozen=True)
class Correction:
    credit: dict[str, Any]
    cdr: dict[str, Any]
    created: bool


def correct(services: Services, original_id: str, *, tariff_id: str | None = None) -> Correction | None:
    """A correction of an issued CDR (OCPI mod_cdrs §Credit CDRs): CDRs never change, so a credit CDR cancels
    the original's money and a new CDR, priced again (with `tariff_id` if given), replaces it. Both go to the
    partners as `CdrIssued`. Safe to repeat: ids are derived from the original, and a correction already made
    is answered as it was made. None when the CDR is unknown."""
    original = services.cdrs.get(original_id)
    if original is None:
        return None
    if original.get("credit"):
        raise NotCorrectable(f"CDR {original_id} is a credit CDR: correct the CDR it credits")
    transaction_id = int(original["session_id"])
    transaction = services.transactions.get(transaction_id)
    if transaction is not None and transaction.cdr_id not in (original_id, corrected_cdr_id(original_id)):
        raise NotCorrectable(f"CDR {original_id} was replaced by CDR {transaction.cdr_id}: correct that one")
    priced = price(services, transaction_id, tariff_id=tariff_id, replacing=original_id)
    credit = cdr_json(credit_cdr(original, credit_id=credit_cdr_id(original_id), last_updated=services.clock.now()))
    charge_point_id = original["cdr_location"]["id"]
    stored_credit, credit_created = services.cdrs.store(credit, charge_point_id=charge_point_id, transaction_id=transaction_id)
    stored_cdr, _ = services.cdrs.store(priced.cdr, charge_point_id=charge_point_id, transaction_id=transaction_id)
    services.transactions.record_billing(
        transaction_id, cdr_id=stored_cdr["id"], tariff_id=priced.tariff_id, tariff_version=priced.tariff_version
    )
    # Put again on a repeat too: a partner deduplicates on eventId, and a put that failed is made good.
    services.events.put([cdr_issued_event(stored_credit, services), cdr_issued_event(stored_cdr, services)])
    return Correction(credit=stored_credit, cdr=stored_cdr, created=credit_created)


def cdr_issued_event(cdr: dict[str, Any], services: Services) -> Event:
    return Event(
        type=EventType.CDR_ISSUED,
        event_id=cdr["id"],
        occurred_at=services.clock.now(),
        fields={"cdr": cdr},
    )
