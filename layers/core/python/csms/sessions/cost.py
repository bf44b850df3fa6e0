"""The running cost of a session with a cost limit, priced by the billing engine exactly as its CDR would be
if it stopped now (csms.domain.tariffs.pricing), in the tariff's currency, including VAT.

Loaded only when a transaction has `maxCost` (the message function's cold start does not import the pricing
engine). Which tariff version prices it was chosen at its start and bound to the transaction (`costTariff`,
sessions/binding.py): a meter value reads that version by its key, once per function instance and version, as
versions never change; no station, id tag or tariff history is read.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from csms.domain.limit_checks import Reading, Trend
from csms.domain.tariffs.consumption import EnergyReading, SessionConsumption, StatusChange
from csms.domain.tariffs.model import Tariff
from csms.domain.tariffs.pricing import price_session
from csms.domain.transactions import CostTariff, Transaction
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

CACHED_VERSIONS = 256

_versions: OrderedDict[tuple[str, str, str, int], Tariff] = OrderedDict()


def forget_tariff_versions() -> None:
    """Empty the cache (tests: a new emulated table may reuse a tariff id and version with other content)."""
    _versions.clear()


def tariff_of(services: Services, bound: CostTariff) -> Tariff | None:
    """The bound tariff version: one GetItem the first time this function instance prices with it."""
    key = (services.table.name, bound.tariff_id, bound.effective_at, bound.version)
    if key in _versions:
        _versions.move_to_end(key)
        return _versions[key]
    stored = services.tariffs.version(bound.tariff_id, bound.effective_at, bound.version)
    if stored is None:
        return None  # not kept: only a version found never changes
    _versions[key] = stored.tariff
    if len(_versions) > CACHED_VERSIONS:
        _versions.popitem(last=False)
    return stored.tariff


def cost_trend(services: Services, before: Transaction, energy: Trend) -> Trend | None:
    """The running cost (incl. VAT) at the previous reading and at the newest one, from the meter start and those
    two readings (the readings between them change nothing a linear energy curve does not already give), or None
    when no tariff in the limit's currency prices the session."""
    bound = before.start.cost_tariff
    if bound is None:
        return None  # no tariff in the limit's currency was in force at its start (logged then)
    tariff = tariff_of(services, bound)
    if tariff is None:
        logger.warning("The tariff version bound to a session is gone", extra={"transaction_id": before.transaction_id})
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
        now = readings[-1].at if readings else start.started_at
        priced = price_session(tariff, consumption, bound.time_zone, now=now)
        return Decimal(priced.total_cost.incl_vat)

    previous = energy.previous
    latest = Reading(energy.latest.at, cost_at([*([previous] if previous else []), energy.latest]))
    if previous is None:
        return Trend(None, latest)
    return Trend(Reading(previous.at, cost_at([previous])), latest)
