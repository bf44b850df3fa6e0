"""The allocation's time for one site of 500 connectors (issue 11, Benchmark).

The site is a depot: 250 two-connector stations in 10 circuits of 400 A, each station limited to 32 A over both
connectors, a third of them single-phase; every connector has a session (priorities −1 to 2). Three cases: every
minimum fits (a 6,000 A connection), the minimums do not all fit (3,000 A of minimums on a 1,000 A connection: two
sessions in three pause), and lending (the same, half the sessions with three measured samples, some low enough
to lend). The figure is `allocate` alone (what each re-allocation runs), best and median.

    python -m benchmarks.allocation [--runs 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from csms.domain.allocation import ChargingSession, allocate
from csms.domain.sites import Circuit, ConnectorSetting, Site

STATIONS = 250
CONNECTORS = 2
CIRCUITS = 10


def depot(max_current_a: int) -> Site:
    stations = [f"CP{n:03d}" for n in range(STATIONS)]
    per_circuit = STATIONS // CIRCUITS
    return Site(
        site_id="depot",
        name="Depot",
        max_current_a=Decimal(max_current_a),
        phases=3,
        voltage_v=Decimal(230),
        charge_point_ids=tuple(stations),
        circuits=tuple(
            Circuit(circuit_id=f"C{n}", max_current_a=Decimal(400), charge_point_ids=tuple(stations[n * per_circuit : (n + 1) * per_circuit]))
            for n in range(CIRCUITS)
        ),
        connectors=tuple(
            ConnectorSetting(charge_point_id=station, connector_id=0, max_current_a=Decimal(32), phases=1 if n % 3 == 0 else None)
            for n, station in enumerate(stations)
        ),
    )


def sessions(site: Site, *, lending: bool) -> list[ChargingSession]:
    rng = random.Random(11)
    start = datetime(2026, 11, 24, 6, tzinfo=UTC)
    found = []
    for n, station in enumerate(site.charge_point_ids):
        for connector in range(1, CONNECTORS + 1):
            measured: tuple[Decimal, ...] = ()
            if lending and rng.random() < 0.5:
                measured = tuple(Decimal(rng.randint(0, 160)) / 10 for _ in range(3))
            found.append(
                ChargingSession(
                    charge_point_id=station,
                    connector_id=connector,
                    transaction_id=n * CONNECTORS + connector,
                    priority=rng.randint(-1, 2),
                    arrived_at=start + timedelta(seconds=rng.randint(0, 3600)),
                    allocated_current_a=Decimal(16) if measured else None,
                    measured_current_a=measured,
                )
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"Allocation of one site, {STATIONS * CONNECTORS} connectors with a session each ({runs} runs)")
    for label, site, lending in (
        ("all minimums fit (6,000 A connection)", depot(6000), False),
        ("two in three paused (1,000 A connection)", depot(1000), False),
        ("lending (half measured, 1,000 A)", depot(1000), True),
    ):
        demand = sessions(site, lending=lending)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            result = allocate(site, demand)
            times.append(time.perf_counter() - began)
        paused = sum(allocation.paused for allocation in result.allocations)
        print(
            f"  {label:<42} best {min(times) * 1000:6.1f} ms  median {statistics.median(times) * 1000:6.1f} ms"
            f"  ({paused} paused, {result.total_current_a} A allocated)"
        )


if __name__ == "__main__":
    main()
