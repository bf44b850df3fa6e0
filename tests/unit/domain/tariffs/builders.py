"""Tariffs and sessions for the pricing tests, written the way an operator and a station would send them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csms.domain.tariffs.consumption import SessionConsumption
from csms.domain.tariffs.model import Tariff


def tariff(*elements: dict[str, Any], **fields: Any) -> Tariff:
    body = {
        "country_code": "NL",
        "party_id": "CSM",
        "id": "T1",
        "currency": "EUR",
        "last_updated": "2024-01-01T00:00:00Z",
        "elements": list(elements),
        **fields,
    }
    return Tariff.model_validate(body)


def component(kind: str, price: Any, step_size: int = 1, vat: Any = None) -> dict[str, Any]:
    found = {"type": kind, "price": price, "step_size": step_size}
    if vat is not None:
        found["vat"] = vat
    return found


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"price_components": list(components)}
    if restrictions:
        found["restrictions"] = restrictions
    return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def steady_session(
    start: str,
    *,
    charging_minutes: float,
    kwh: Any = 0,
    parking_minutes: float = 0,
    readings_every_minutes: float | None = None,
    meter_start_wh: int = 0,
    statuses: bool = True,
    **samples: Any,
) -> SessionConsumption:
    """A car that charges at a steady power, then sits parked (SuspendedEV) until the stop."""
    begin = at(start)
    charged = begin + timedelta(minutes=charging_minutes)
    end = charged + timedelta(minutes=parking_minutes)
    from decimal import Decimal

    total_wh = Decimal(str(kwh)) * 1000
    readings = [{"timestamp": begin, "value": meter_start_wh}]
    if readings_every_minutes:
        steps = int(charging_minutes // readings_every_minutes)
        for step in range(1, steps + 1):
            moment = begin + timedelta(minutes=step * readings_every_minutes)
            if moment < charged:
                fraction = Decimal(step * readings_every_minutes) / Decimal(str(charging_minutes))
                readings.append({"timestamp": moment, "value": meter_start_wh + total_wh * fraction})
    readings.append({"timestamp": charged, "value": meter_start_wh + total_wh})
    if parking_minutes:
        readings.append({"timestamp": end, "value": meter_start_wh + total_wh})
    status_list = [{"timestamp": begin, "status": "Charging"}]
    if parking_minutes:
        status_list.append({"timestamp": charged, "status": "SuspendedEV"})
    return SessionConsumption(
        start=begin,
        end=end,
        energy=readings,
        statuses=status_list if statuses else [],
        **samples,
    )


def session(
    start: str,
    end: str | None,
    readings: list[tuple[str, Any]] = (),
    statuses: list[tuple[str, str]] = (),
    unit: str = "Wh",
    **samples: list[tuple[str, Any]],
) -> SessionConsumption:
    """A session from explicit station data: (timestamp, value) pairs, times as ISO 8601 text."""
    return SessionConsumption(
        start=at(start),
        end=at(end) if end else None,
        energy=[{"timestamp": at(t), "value": v, "unit": unit} for t, v in readings],
        statuses=[{"timestamp": at(t), "status": s} for t, s in statuses],
        **{name: [{"timestamp": at(t), "value": v} for t, v in values] for name, values in samples.items()},
    )
