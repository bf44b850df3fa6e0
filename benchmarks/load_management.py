"""`make bench`, load management: a burst of starts at one site, against the local runtime.

`--stations` simulated stations (the `ocpp`-based simulator, which obeys the profiles it accepts) share a site of
`--limit` A per phase with `safeCurrentA` 0 by default (`--safe-current`; 0: a session starts paused until its profile
comes). Once the boots' runs are done, all start a session at once (RemoteStartTransaction). Printed: how long until
every station applied its final TxProfile (from the last StartTransaction's answer), the site's peak of what its stations were allowed to draw (checked at every profile a station installs,
the moment it installs it) against its limit, the runs (one per cause), the allocations stored, the
SetChargingProfile commands sent per allocation change and the DynamoDB requests per re-allocation (issue 11 §9:
each run of the site's load control counted with benchmarks.stations' request counter, botocore's `before-call`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

os.environ.update(POWERTOOLS_SERVICE_NAME="csms", POWERTOOLS_METRICS_NAMESPACE="CSMS", POWERTOOLS_METRICS_DISABLED="true")

from benchmarks.stations import RequestCounter  # noqa: E402
from csms.domain.authorization import IdTagRecord  # noqa: E402
from csms.energy import control as load_control  # noqa: E402
from csms.runtime.settings import get_settings  # noqa: E402
from csms.runtime.wiring import aws_session, get_services  # noqa: E402
from local.aws import emulated_aws  # noqa: E402
from local.runtime import LocalConfig, LocalRuntime  # noqa: E402
from simulator import clock  # noqa: E402
from simulator.station import SimulatedChargePoint  # noqa: E402
from tests.e2e.operator_client import OperatorApi  # noqa: E402

TABLE_NAME = "csms-bench-load"
VOLTS_3_PHASES = Decimal(230 * 3)
RUN = "load control run"
"""The request counter's label for one run of a site's load control (a re-allocation)."""


def site_items(kind: str) -> list[dict[str, Any]]:
    return get_services().table.query(  # type: ignore[no-any-return]
        KeyConditionExpression="pk = :pk AND begins_with(sk, :kind)",
        ExpressionAttributeValues={":pk": "SITE#bench", ":kind": kind},
    )["Items"]


async def runs_done(counter: RequestCounter, *, timeout: float = 30) -> None:
    """Until every run written so far has run, and none followed for a few polls (an answer's run comes after)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 5 and time.monotonic() < deadline:
        written = len(site_items("ALLOC#"))
        quiet = quiet + 1 if counter.invocations[RUN] >= written else 0
        await asyncio.sleep(0.05)


def counting_runs(counter: RequestCounter) -> None:
    """Every run of a load control counted on its own: the requests it makes, whatever stream batch it is in."""
    run = load_control.run

    def counted(*args: Any, **kwargs: Any) -> None:
        with counter.invocation(RUN, {}):
            run(*args, **kwargs)

    load_control.run = counted  # type: ignore[assignment]


class Site:
    def __init__(self, stations: list[SimulatedChargePoint]):
        self.stations = stations
        self.peak = Decimal(0)
        self.observing = True
        """Until the stations stop: a station counts its session's profile until it ends, after its StopTransaction
        left (the CSMS has given the share back by then), which a real station never draws."""

    def allowed_a(self, station: SimulatedChargePoint) -> Decimal:
        session = station.connectors[1].session
        if session is None or session.transaction_id is None:
            return Decimal(0)
        limit = station.charging_profiles.limit_at(
            1, clock.now(), electrical=station.electrical, transaction_start=session.started_at
        )
        return (limit.watts / VOLTS_3_PHASES).quantize(Decimal("0.1"))

    def watch(self, station: SimulatedChargePoint) -> None:
        """Check the site at the moment a station installs a profile (before its answer leaves)."""
        install = station.charging_profiles.install

        def installing(*args: Any, **kwargs: Any) -> Any:
            status = install(*args, **kwargs)
            if self.observing:
                self.peak = max(self.peak, sum((self.allowed_a(s) for s in self.stations), Decimal(0)))
            return status

        station.charging_profiles.install = installing  # type: ignore[method-assign]


async def burst(stations_count: int, limit_a: int, safe_a: int, counter: RequestCounter) -> dict[str, Any]:
    os.environ["DEFAULT_TARIFF_ID"] = "BENCH"
    get_settings.cache_clear()
    get_services.cache_clear()
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, log_level="WARNING")
    async with LocalRuntime(config) as runtime:
        api = OperatorApi(runtime.api_url)
        ids = [f"LOAD{n:03d}" for n in range(stations_count)]
        for n, charge_point_id in enumerate(ids):
            assert (await api.request("PUT", f"/charge-points/{charge_point_id}", {}))[0] == 201
            get_services().id_tags.register(IdTagRecord(id_tag=f"LOAD-{n}", status="Accepted", priority=n % 3))
        flat = {"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}]}
        assert (await api.request("PUT", "/tariffs/BENCH", flat))[0] == 201  # the sessions are billed when they stop
        site = {"name": "Bench", "maxCurrentA": limit_a, "phases": 3, "voltageV": 230, "safeCurrentA": safe_a, "chargePoints": ids}
        assert (await api.request("PUT", "/sites/bench", site))[0] == 201
        stations = [SimulatedChargePoint(cp, connectors=1, seed=n) for n, cp in enumerate(ids)]
        watched = Site(stations)
        for station in stations:
            watched.watch(station)
        running = [asyncio.create_task(station.run(runtime.station_url(station.id))) for station in stations]
        await asyncio.gather(*(asyncio.wait_for(station.wait_booted(), timeout=30) for station in stations))
        # A site in steady state: each station has its TxDefaultProfile (sent at boot) before sessions start.
        while not all(p.purpose == "TxDefaultProfile" for s in stations for p in s.charging_profiles.installed) or not all(
            s.charging_profiles.installed for s in stations
        ):
            await asyncio.sleep(0.01)
        await runs_done(counter)  # the boots' and connections' runs too: the burst starts from a quiet site
        # From here on the burst: the boots' runs and defaults are not counted as re-allocations.
        burst_began = datetime.now(UTC)
        requests_before, runs_before = dynamodb_requests(counter), counter.invocations[RUN]
        # A burst: queued one after the other without waiting for the answers (the local API's concurrent requests
        # can cross on main today), so the StartTransactions come within a few milliseconds of each other.
        answers = [
            await api.command(cp, "RemoteStartTransaction", {"connectorId": 1, "idTag": f"LOAD-{n}"}, query="?wait=false")
            for n, cp in enumerate(ids)
        ]
        assert all(status == 202 for status, _ in answers), answers
        while not all(s.connectors[1].session and s.connectors[1].session.transaction_id for s in stations):
            await asyncio.sleep(0.01)
        started = time.monotonic()
        settled_at = None
        deadline = started + 60
        while time.monotonic() < deadline:
            _, view = await api.request("GET", "/sites/bench")
            target = {a["chargePointId"]: Decimal(str(a["allocatedCurrentA"])) for a in view["allocations"]}
            applied = {s.id: watched.allowed_a(s) for s in stations}
            if len(target) == stations_count and applied == target:
                settled_at = time.monotonic()
                break
            await asyncio.sleep(0.05)
        services = get_services()
        # The runs the burst caused (the last answers' among them) all done before counting: none is left out.
        await runs_done(counter)
        control = services.load_control.get("bench")
        commands = [
            c
            for s in ids
            for c in services.commands.list_for_station(s, limit=100)
            if c.action == "SetChargingProfile" and c.created_at >= burst_began
        ]
        runs, changes = site_items("ALLOC#"), site_items("EVENT#")
        requests = {op: count - requests_before.get(op, 0) for op, count in dynamodb_requests(counter).items()}
        counted_runs = counter.invocations[RUN] - runs_before  # the burst's: not the boots' before, nor the stops' after
        watched.observing = False
        for station in stations:
            await station.stop()
        await asyncio.gather(*running, return_exceptions=True)
    tx_profiles = [c for c in commands if c.request["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"]
    defaults = [c for c in commands if c.request["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"]
    return {
        "settled_s": None if settled_at is None else settled_at - started,
        "peak_a": watched.peak,
        "runs": len(runs),
        "versions": control.version,
        "changes": len(changes),
        "tx_profiles": len(tx_profiles),
        "superseded": sum(c.status == "Superseded" for c in tx_profiles),
        "defaults": len(defaults),
        "requests": requests,
        "counted_runs": counted_runs,
    }


def dynamodb_requests(counter: RequestCounter) -> dict[str, int]:
    """The DynamoDB requests the runs made, by operation."""
    return {
        operation.removeprefix("dynamodb."): count
        for operation, count in sorted(counter.requests.get(RUN, {}).items())
        if operation.startswith("dynamodb.")
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=8)
    parser.add_argument("--limit", type=int, default=40, help="the site's limit, A per phase")
    parser.add_argument("--safe-current", type=int, default=0, help="the site's safeCurrentA (0, or 6 A and more)")
    args = parser.parse_args()
    counter = RequestCounter()
    counting_runs(counter)
    with emulated_aws(TABLE_NAME):
        # Registered before any client exists: clients copy the session's event handlers when created.
        aws_session().events.register("before-call", counter.on_call)
        aws_session().events.register("after-call", counter.on_call_done)
        result = asyncio.run(burst(args.stations, args.limit, args.safe_current, counter))
    os.environ.pop("DEFAULT_TARIFF_ID", None)
    settled = "not within 60 s" if result["settled_s"] is None else f"{result['settled_s']:.2f} s"
    print(f"\nLoad management: {args.stations} stations start at once on a {args.limit} A site (safeCurrentA {args.safe_current})")
    print(f"  every station on its final TxProfile       {settled} after the last StartTransaction was answered")
    print(f"  site's peak of allowed current             {result['peak_a']} A per phase (limit {args.limit} A)")
    print(
        f"  runs (one per cause) / versions stored     {result['runs']} / {result['versions']} (boots' included) "
        f"(a version per change of a limit, an answer or a profile in flight)"
    )
    print(f"  allocations changed (AllocationChanged)    {result['changes']}")
    print(f"  TxProfiles sent (superseded unsent)        {result['tx_profiles']} ({result['superseded']}), "
          f"{result['tx_profiles'] / max(1, result['changes']):.1f} per allocation change")  # fmt: skip
    print(f"  TxDefaultProfiles sent in the burst        {result['defaults']}, "
          f"{result['defaults'] / max(1, result['changes']):.1f} per allocation change (idle connectors' room changed)")  # fmt: skip
    requests = result["requests"]
    total, runs = sum(requests.values()), result["counted_runs"]
    by_operation = ", ".join(f"{operation} {count / max(1, runs):.1f}" for operation, count in requests.items())
    print(f"  DynamoDB requests per re-allocation        {total / max(1, runs):.1f} per run ({runs} runs in the burst: {by_operation}), "
          f"{total / max(1, result['changes']):.1f} per allocation change")  # fmt: skip
    return 0 if result["peak_a"] <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
