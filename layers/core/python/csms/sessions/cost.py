"""The running cost of a session with a cost limit, priced by the billing engine exactly as its CDR would be
if it stopped now (csms.domain.tariffs.pricing), in the tariff's currency, including VAT.

Loaded only when a transaction has `maxCost` (the message function's cold start does not import the pricing
engine). Which tariff prices a transaction is billing's choice (the id tag's over the station's over the
network default, the version in force when the CSMS accepted the start); it is looked up once per transaction
and process and kept, as tariff versions never change.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from csms.billing.tariff_choice import choose_tariff
from csms.domain.limit_checks import Reading, Trend
from csms.domain.tariffs.consumption import EnergyReading, SessionConsumption, StatusChange
from csms.domain.tariffs.model import Tariff
from csms.domain.tariffs.pricing import price_session
from csms.domain.transactions import Transaction
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

CACHED_TRANSACTIONS = 4096


@dataclass(frozen=True)
class Pricing:
    tariff: Tariff | None
    """None: no tariff prices it, or one in another currency than the limit (the limit cannot apply)."""
    time_zone: str


_pricing: OrderedDict[tuple[int, str], Pricing] = OrderedDict()


def pricing_of(services: Services, transaction: Transaction) -> Pricing:
    created = transaction.created_at or transaction.start.started_at
    key = (transaction.transaction_id, created.isoformat())
    if key in _pricing:
        _pricing.move_to_end(key)
        return _pricing[key]
    station = services.stations.get(transaction.charge_point_id)
    record = services.id_tags.get(transaction.id_tag)
    choice = choose_tariff(
        id_tag_tariff=record.tariff_id if record else None,
        station_tariff=station.tariff_id if station else None,
        default_tariff=services.settings.default_tariff_id,
    )
    stored = services.tariffs.version_at(choice.tariff_id, created) if choice else None
    tariff = stored.tariff if stored else None
    limit = transaction.start.limits.max_cost if transaction.start.limits else None
    if tariff is not None and limit is not None and tariff.currency != limit.currency:
        # Checked on POST /sessions and PUT /id-tags where the tariff is known; a station's tariff may differ.
        logger.warning(
            "Cost limit in another currency than the session's tariff: not applied",
            extra={"transaction_id": transaction.transaction_id, "limit": limit.currency, "tariff": tariff.currency},
        )
        tariff = None
    elif tariff is None:
        logger.warning("No tariff prices a session with a cost limit", extra={"transaction_id": transaction.transaction_id})
    pricing = Pricing(tariff, (station.time_zone if station else None) or "UTC")
    _pricing[key] = pricing
    if len(_pricing) > CACHED_TRANSACTIONS:
        _pricing.popitem(last=False)
    return pricing


def cost_trend(services: Services, before: Transaction, energy: Trend) -> Trend | None:
    """The running cost (incl. VAT) at the previous reading and at the newest one, from the meter start and those
    two readings (the readings between them change nothing a linear energy curve does not already give), or None
    when no tariff in the limit's currency prices the session."""
    pricing = pricing_of(services, before)
    if pricing.tariff is None:
        return None
    start = before.start
    statuses = [StatusChange(timestamp=report.at, status=report.status) for report in before.statuses]
    origin = EnergyReading(timestamp=start.started_at, value=Decimal(start.meter_start))

    def cost_at(readings: list[Reading]) -> Decimal:
        consumption = SessionConsumption(
            start=start.started_at,
            energy=[
                origin,
                *(EnergyReading(timestamp=r.at, value=r.value + start.meter_start) for r in readings if r.at > start.started_at),
            ],
            statuses=statuses,
        )
        assert pricing.tariff is not None
        now = readings[-1].at if readings else start.started_at
        priced = price_session(pricing.tariff, consumption, pricing.time_zone, now=now)
        return Decimal(priced.total_cost.incl_vat)

    previous = energy.previous
    latest = Reading(energy.latest.at, cost_at([*([previous] if previous else []), energy.latest]))
    if previous is None:
        return Trend(None, latest)
    return Trend(Reading(previous.at, cost_at([previous])), latest)
