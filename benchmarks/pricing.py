"""The pricing engine's time per CDR, for a session of 1,000 meter values (issue 9, Benchmark).

The session is a long evening charge in Paris: 1,000 energy readings (one a minute), a power and a
state-of-charge sample with each, the car full after 900 minutes and parked for the last 100. The
tariff has what makes pricing work: a start fee, a peak/off-peak band crossing midnight, a kWh tier,
a power restriction, parking (free only within the session's first hour), step sizes and VAT. The figure is the time of
`price_session` plus `cdr_pricing` (what the billing workflow runs per CDR), best and median of the
runs; the input's validation into `SessionConsumption` is shown on its own line.

    python -m benchmarks.pricing [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from csms.domain.tariffs.cdr import cdr_pricing
from csms.domain.tariffs.consumption import SessionConsumption
from csms.domain.tariffs.model import Tariff
from csms.domain.tariffs.pricing import price_session

METER_VALUES = 1000
CHARGING_MINUTES = 900

TARIFF = {
    "country_code": "FR",
    "party_id": "CSM",
    "id": "BENCH",
    "currency": "EUR",
    "last_updated": "2024-01-01T00:00:00Z",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 20, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.22, "vat": 20, "step_size": 100}],
            "restrictions": {"start_time": "22:00", "end_time": "06:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 20, "step_size": 100}], "restrictions": {"max_kwh": 20}},
        {"price_components": [{"type": "ENERGY", "price": 0.39, "vat": 20, "step_size": 100}], "restrictions": {"min_power": 50}},
        {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 100}]},
        {
            "price_components": [{"type": "PARKING_TIME", "price": 0, "vat": 20, "step_size": 60}],
            "restrictions": {"max_duration": 3600},
        },
        {"price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 20, "step_size": 300}]},
    ],
}


def session_body() -> dict:
    start = datetime(2024, 10, 26, 17, 0, tzinfo=UTC)  # over the night Paris falls back
    readings, power, soc = [], [], []
    wh = Decimal(1_234_567)
    for minute in range(METER_VALUES):
        moment = start + timedelta(minutes=minute)
        kw = Decimal(11) if minute < CHARGING_MINUTES else Decimal(0)
        readings.append({"timestamp": moment, "value": wh})
        power.append({"timestamp": moment, "value": kw})
        soc.append({"timestamp": moment, "value": min(100, 10 + minute // 10)})
        wh += kw * 1000 / 60
    end = start + timedelta(minutes=METER_VALUES)
    readings.append({"timestamp": end, "value": wh})
    statuses = [
        {"timestamp": start, "status": "Charging"},
        {"timestamp": start + timedelta(minutes=CHARGING_MINUTES), "status": "SuspendedEV"},
    ]
    return {"start": start, "end": end, "energy": readings, "statuses": statuses, "power_kw": power, "state_of_charge": soc}


def best_and_median(work, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        timings.append((time.perf_counter() - began) * 1000)
    return min(timings), statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs

    tariff = Tariff.model_validate(TARIFF)
    body = session_body()
    consumption = SessionConsumption.model_validate(body)
    priced = price_session(tariff, consumption, "Europe/Paris")

    validate = best_and_median(lambda: SessionConsumption.model_validate(body), runs)
    engine = best_and_median(lambda: cdr_pricing(price_session(tariff, consumption, "Europe/Paris")), runs)

    print(f"pricing, a session of {METER_VALUES:,} meter values ({len(priced.charging_periods)} charging periods, "
          f"total {priced.total_cost.excl_vat} {priced.currency} excl. VAT), best / median of {runs} runs:")
    print(f"  price_session + cdr_pricing   {engine[0]:7.1f} ms / {engine[1]:7.1f} ms per CDR")
    print(f"  SessionConsumption validation {validate[0]:7.1f} ms / {validate[1]:7.1f} ms")


if __name__ == "__main__":
    main()
