"""`make bench`: N simulated stations against the local runtime.

Prints messages per second, p50/p99 round trip per action, the AWS requests each action costs
(counted with botocore's `before-call` event on the functions' boto3 session) and the peak memory of the
process. The cold import time of each handler is `benchmarks.imports`, which `make bench` runs first.

Everything runs in one process on one event loop (stations, gateway) plus the handler threads, so the
figures are those of one Python process on this machine, stations' own work included: they are for
comparing changes and for counting requests, not a forecast of AWS latency.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import resource
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import websockets

from csms.runtime.wiring import aws_session
from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime

TABLE_NAME = "csms-bench"
ID_TAGS = [f"DRIVER-{n:04d}" for n in range(50)]
TARIFF_ID = "BENCH"
TARIFF = {
    "currency": "EUR",
    "elements": [
        {
            "price_components": [
                {"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1},
                {"type": "TIME", "price": 2.00, "vat": 20, "step_size": 1},
                {"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1},
            ]
        }
    ],
}
"""The drivers' tariff (OCPI 2.2.1 Tariff body): every session is priced and gives its CDR, as on a real network
(without a tariff, each session's billing workflow would fail, and the benchmark would time the failure)."""


async def register_drivers(runtime: LocalRuntime) -> None:
    """The tariff and the drivers' id tags on it, through the runtime's operator API, as an operator sets them up."""
    await asyncio.to_thread(_put, f"{runtime.api_url}/tariffs/{TARIFF_ID}", TARIFF)
    for id_tag in ID_TAGS:
        await asyncio.to_thread(_put, f"{runtime.api_url}/id-tags/{id_tag}", {"status": "Accepted", "tariffId": TARIFF_ID})


def _put(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT", headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"PUT {url}: {response.status}")


class RequestCounter:
    """AWS requests per label (the OCPP action being handled, or the route), per service operation."""

    def __init__(self) -> None:
        self._label = threading.local()
        self.requests: dict[str, Counter[str]] = defaultdict(Counter)
        self.invocations: Counter[str] = Counter()
        self.handler_ms: dict[str, list[float]] = defaultdict(list)
        """Per invocation: (whole handler time, of which inside AWS calls), milliseconds."""
        self.aws_ms: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    @contextmanager
    def invocation(self, function_name: str, event: dict[str, Any]):
        label = function_name
        if function_name == "message":
            try:
                frame = json.loads(event.get("body") or "")
                label = frame[2] if frame[0] == 2 else "(answer)"
            except (ValueError, LookupError, TypeError):
                label = "(malformed)"
        self._label.value = label
        self._label.aws_seconds = 0.0
        with self._lock:
            self.invocations[label] += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.handler_ms[label].append(elapsed * 1000)
                self.aws_ms[label].append(self._label.aws_seconds * 1000)
            self._label.value = None

    def on_call(self, model: Any, **_: Any) -> None:
        label = getattr(self._label, "value", None) or "(outside an invocation)"
        self._label.call_started = time.perf_counter()
        with self._lock:
            self.requests[label][f"{model.service_model.service_name}.{model.name}"] += 1

    def on_call_done(self, **_: Any) -> None:
        started = getattr(self._label, "call_started", None)
        if started is not None and getattr(self._label, "value", None):
            self._label.aws_seconds += time.perf_counter() - started

    def costs(self, label: str) -> str:
        """AWS requests per invocation of `label`, by service operation."""
        invocations = self.invocations[label] or 1
        per_call = sorted(self.requests.get(label, Counter()).items())
        return ", ".join(f"{operation} {count / invocations:.2f}" for operation, count in per_call) or "none"

    def median_ms(self, label: str) -> tuple[float, float, float]:
        """Median handler time, of which in AWS calls, and the rest (the CSMS's own work)."""
        handler, aws = self.handler_ms[label], self.aws_ms[label]
        if not handler:
            return 0.0, 0.0, 0.0
        own = statistics.median(h - a for h, a in zip(handler, aws, strict=True))
        return statistics.median(handler), statistics.median(aws), own


class SimulatedStation:
    def __init__(self, runtime: LocalRuntime, charge_point_id: str, rng: random.Random, latencies: dict[str, list[float]]):
        self.url = runtime.station_url(charge_point_id)
        self.rng = rng
        self.latencies = latencies
        self.ids = itertools.count()
        self.socket: Any = None

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        message_id = str(next(self.ids))
        started = time.perf_counter()
        await self.socket.send(json.dumps([2, message_id, action, payload]))
        reply = json.loads(await self.socket.recv())
        self.latencies[action].append((time.perf_counter() - started) * 1000)
        if reply[0] != 3 or reply[1] != message_id:
            raise RuntimeError(f"{action} answered {reply}")
        return reply[2]

    async def run(self, sessions: int, meter_values: int, heartbeats: int, think: float) -> None:
        async with websockets.connect(self.url, subprotocols=["ocpp1.6"]) as self.socket:
            await self.call("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Sim-22", "firmwareVersion": "1.0"})
            for connector in (0, 1, 2):
                await self.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError", "status": "Available", "timestamp": now()})
            meter = self.rng.randrange(0, 1_000_000)
            for _ in range(sessions):
                id_tag = self.rng.choice(ID_TAGS)
                connector = self.rng.choice((1, 2))
                await self.call("Authorize", {"idTag": id_tag})
                started = await self.call("StartTransaction", {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": now()})
                await self.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError", "status": "Charging", "timestamp": now()})
                for sample in range(meter_values):
                    meter += self.rng.randrange(500, 2000)
                    await self.call("MeterValues", {"connectorId": connector, "transactionId": started["transactionId"], "meterValue": [{
                        "timestamp": now(), "sampledValue": [
                            {"value": str(meter), "measurand": "Energy.Active.Import.Register", "unit": "Wh", "context": "Sample.Periodic"},
                            {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
                            {"value": str(20 + sample), "measurand": "SoC", "unit": "Percent", "location": "EV"},
                        ]}]})
                    if sample < heartbeats:
                        await self.call("Heartbeat", {})
                    await asyncio.sleep(think * self.rng.random())
                await self.call("StopTransaction", {"transactionId": started["transactionId"], "meterStop": meter, "timestamp": now(), "idTag": id_tag, "reason": "EVDisconnected"})
                await self.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError", "status": "Available", "timestamp": now()})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bench(args: argparse.Namespace, counter: RequestCounter) -> tuple[dict[str, list[float]], float]:
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, log_level="WARNING", max_concurrent_invocations=args.workers)
    latencies: dict[str, list[float]] = defaultdict(list)
    async with LocalRuntime(config, invocation_hook=counter.invocation) as runtime:
        await register_drivers(runtime)
        rng = random.Random(42)
        stations = [SimulatedStation(runtime, f"BENCH{n:05d}", random.Random(rng.random()), latencies) for n in range(args.stations)]
        started = time.perf_counter()
        await asyncio.gather(*(station.run(args.sessions, args.meter_values, args.heartbeats, args.think) for station in stations))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def report(args: argparse.Namespace, counter: RequestCounter, latencies: dict[str, list[float]], elapsed: float) -> None:
    total = sum(len(values) for values in latencies.values())
    print(f"\n{args.stations} stations, {args.sessions} session(s) each, {args.meter_values} MeterValues per session, {args.workers} handler threads")
    print(f"{total} OCPP calls in {elapsed:.1f} s: {total / elapsed:.0f} messages/s\n")
    print("Round trip: station send -> reply received. Handler: time in the function; AWS: of which in AWS calls")
    print("(moto here). Handler minus AWS is the CSMS's own work per message, what Lambda bills beyond I/O.\n")
    print(f"{'action':<20}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'handler':>9}{'AWS':>7}{'own':>7}   AWS requests per call")
    for action in sorted(latencies):
        values = latencies[action]
        handler, aws, own = counter.median_ms(action)
        print(f"{action:<20}{len(values):>7}{percentile(values, 0.5):>9.1f}{percentile(values, 0.99):>9.1f}{handler:>9.1f}{aws:>7.1f}{own:>7.1f}   {counter.costs(action)}")
    for route in ("authorizer", "connect", "disconnect"):
        handler = counter.median_ms(route)[0]
        print(f"{'$' + route if route != 'authorizer' else 'authorizer':<20}{counter.invocations[route]:>7}{'':>18}{handler:>9.1f}{'':>14}   {counter.costs(route)}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory of the benchmark process (stations + local runtime + moto): {peak_mb:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=1, help="charging sessions per station")
    parser.add_argument("--meter-values", type=int, default=6, help="MeterValues per session")
    parser.add_argument("--heartbeats", type=int, default=2, help="Heartbeats per session")
    parser.add_argument("--think", type=float, default=0.05, help="max seconds a station waits between samples")
    parser.add_argument("--workers", type=int, default=16, help="handler threads (concurrent Lambda instances)")
    args = parser.parse_args()
    counter = RequestCounter()
    with emulated_aws(TABLE_NAME):
        # Registered before any client exists: clients copy the session's event handlers when created.
        aws_session().events.register("before-call", counter.on_call)
        aws_session().events.register("after-call", counter.on_call_done)
        latencies, elapsed = asyncio.run(bench(args, counter))
    report(args, counter, latencies, elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
