"""`make bench`, part two: does the local runtime scale with the data it keeps?

Three measurements, each in a fresh interpreter (so that one's memory does not count in the next's peak):

- **data**: the handler time per OCPP message (median and mean over a fixed workload of real stations and
  real handlers) with 10,000 and with 200,000 items stored, and their ratio (target: at most 1.5). The
  table is filled between the two runs by cloning the items the first stations produced (same shapes and
  sizes, their partition keys and index partition keys made unique), loaded straight into moto's backend:
  filling 200,000 items through the API would take longer than the measurement. Every measured message
  goes through the gateway, the real handler and moto's request path.
- **load**: 300 stations (in a child process: their CPU is not the CSMS's) charging back to back, as fast as the runtime answers, until 100,000 messages:
  the sustained rate (target: at least 250 msg/s) and the process's peak memory (target: under 1 GiB).
- **paced**: 300 stations sending 100 messages per second in total: round-trip p50 and p99 (target p99
  under 250 ms).

State is kept in a temporary directory, as `make run` keeps it (journal and snapshot), so its cost counts.
The figures are those of one Python process on this machine, stations' own work included.

`--quick` runs smaller versions of each (for a smoke test); `--only data|load|paced` runs one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.stations import RequestCounter, SimulatedStation, percentile, register_drivers
from csms.adapters.dynamodb.schema import GLOBAL_INDEXES, PARTITION_KEY
from local.aws import MOTO_LOCK, emulated_aws
from local.runtime import LocalConfig, LocalRuntime
from local.state import LocalState

TABLE_NAME = "csms-bench"
GiB = 1024**3


WARM_UP_CALLS = 4
"""A station's BootNotification and its three StatusNotifications: sent, with its connection, before the fleet is
measured (300 stations connecting at once is a storm of authorizer and $connect invocations, not a rate)."""


class PacedStation(SimulatedStation):
    """A simulated station that warms up, waits for the whole fleet to have warmed up, then sends every call when
    the shared pace allows (None: as fast as answered), counted against the budget and measured."""

    def __init__(self, *args: Any, pace: Pace | None, budget: Budget, warmed_up: WarmUp, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pace = pace
        self.budget = budget
        self.warm_up = warmed_up
        self.measured = self.latencies
        self.latencies = defaultdict(list)  # the warm-up's, dropped
        self.calls = 0

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        self.calls += 1
        if self.calls == WARM_UP_CALLS + 1:
            await self.warm_up.done()
            self.latencies = self.measured
        if self.calls > WARM_UP_CALLS:
            if self.pace is not None:
                await self.pace.wait()
            self.budget.spend()
        return await super().call(action, payload)


class WarmUp:
    """Released once every station of the fleet has warmed up; starts the pace and the clock."""

    def __init__(self, stations: int, pace: Pace | None) -> None:
        self.waiting = stations
        self.pace = pace
        self.released = asyncio.Event()
        self.started = 0.0

    async def done(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.started = time.perf_counter()
            if self.pace is not None:
                self.pace.next = self.started
            self.released.set()
        await self.released.wait()


class Pace:
    """Messages evenly spaced at `rate` per second across all stations."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate
        self.next = time.perf_counter()

    async def wait(self) -> None:
        now = time.perf_counter()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Budget:
    """Stops every station once `limit` messages were sent (each finishes the call it is in)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.sent = 0

    def spend(self) -> None:
        if self.sent >= self.limit:
            raise _Done
        self.sent += 1


class _Done(Exception):
    pass


class _StationUrls:
    """What a simulated station needs of the runtime, when the runtime is in another process."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url

    def station_url(self, charge_point_id: str) -> str:
        return f"{self.ws_url}/{quote(charge_point_id, safe='')}"


async def _fleet_elsewhere(
    runtime: LocalRuntime, prefix: str, stations: int, sessions: int, *, rate: float | None = None, budget: float = float("inf")
) -> tuple[dict[str, list[float]], float, int]:
    """`_charge` with the stations in a child process: stations are not the CSMS, their CPU is not its own."""
    command = [
        sys.executable, "-m", "benchmarks.storage", "--fleet", runtime.ws_url, "--prefix", prefix, "--stations", str(stations),
        "--sessions", str(sessions), "--budget", str(budget), *(["--rate", str(rate)] if rate else []),
    ]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the station fleet failed (exit {process.returncode})")
    answer = json.loads(output.decode().strip().splitlines()[-1])
    return answer["latencies"], answer["seconds"], answer["messages"]


def run_fleet(args: argparse.Namespace) -> int:
    """`--fleet WS_URL`: the child side of `_fleet_elsewhere`."""
    pace = Pace(args.rate) if args.rate else None
    latencies, seconds, messages = asyncio.run(
        _charge(_StationUrls(args.fleet), args.prefix, args.stations, args.sessions, pace=pace, budget=args.budget)  # type: ignore[arg-type]
    )
    print(json.dumps({"latencies": latencies, "seconds": seconds, "messages": messages}))
    return 0


async def _charge(
    runtime: LocalRuntime, prefix: str, stations: int, sessions: int, *, pace: Pace | None = None, budget: float = float("inf")
) -> tuple[dict[str, list[float]], float, int]:
    """`stations` stations each boot and charge `sessions` sessions; (round trips per action, seconds, messages)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(42)
    spent = Budget(budget)
    warm_up = WarmUp(stations, pace)
    fleet = [
        PacedStation(runtime, f"{prefix}{n:05d}", random.Random(rng.random()), latencies, pace=pace, budget=spent, warmed_up=warm_up)
        for n in range(stations)
    ]

    async def run(station: PacedStation) -> None:
        with contextlib.suppress(_Done):
            await station.run(sessions, 6, 2, 0.0)

    await asyncio.gather(*(run(station) for station in fleet))
    return latencies, time.perf_counter() - warm_up.started, sum(map(len, latencies.values()))


WORKERS = 16
MEASURED_STATIONS = 10
"""Stations charging at once while handler time is measured: enough to keep several handlers busy, few enough
that the time measured is the handler's work rather than its wait for moto's lock behind the others."""


def _config(workers: int | None = None) -> LocalConfig:
    workers = workers or WORKERS
    return LocalConfig(
        ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, log_level="WARNING", max_concurrent_invocations=workers
    )


def _clones(seed: list[dict[str, Any]], start: int) -> Iterator[dict[str, Any]]:
    """Endless copies of `seed` whose partition keys (table and indexes) are unique per copy."""
    partition_attributes = [PARTITION_KEY, *(index.partition_key for index in GLOBAL_INDEXES)]
    for copy_number in __import__("itertools").count(start):
        for item in seed:
            clone = dict(item)
            for attribute in partition_attributes:
                if attribute in clone and "S" in clone[attribute]:
                    clone[attribute] = {"S": f"{clone[attribute]['S']}~{copy_number}"}
            yield clone


def _handler_figures(counter: RequestCounter) -> tuple[float, float, int, dict[str, float]]:
    """Median and mean handler milliseconds over every OCPP message, their count, and the median per action."""
    every = [ms for label, values in counter.handler_ms.items() if label not in ("authorizer", "connect", "disconnect") for ms in values]
    per_action = {label: statistics.median(values) for label, values in counter.handler_ms.items() if values}
    return statistics.median(every), statistics.mean(every), len(every), per_action


def measure_data(args: argparse.Namespace) -> dict[str, Any]:
    from local.moto_dynamodb import moto_table, restore_items

    sizes = (1_000, 20_000) if args.quick else (10_000, 200_000)
    stations = 20 if args.quick else 60  # whose items are cloned to fill the table
    sessions = 1 if args.quick else 6
    results: dict[str, Any] = {"sizes": sizes}
    with tempfile.TemporaryDirectory() as state_dir, emulated_aws(TABLE_NAME):

        async def main() -> None:
            with LocalState(Path(state_dir), fresh=True) as state:
                async with LocalRuntime(_config(), state=state) as runtime:
                    await register_drivers(runtime)
                    table = moto_table(TABLE_NAME)
                    await _charge(runtime, "SEED", stations, 1)
                    with MOTO_LOCK:
                        seed = [item.to_json()["Attributes"] for item in table.all_items()]
                    clones = _clones(seed, 0)
                    for run, size in enumerate(sizes):
                        started = time.perf_counter()
                        with MOTO_LOCK:  # as a request would: the state's saver must see it whole
                            restore_items(table, (next(clones) for _ in range(size - len(table))))
                        state.save()  # the filled items are saved and compacted, as they would have been over time
                        state.wait_for_compaction()
                        gc.collect()
                        gc.freeze()  # what loading them at a restart does (local.state)
                        loaded = time.perf_counter() - started
                        counter = RequestCounter()
                        runtime.functions.set_invocation_hook(counter.invocation)
                        _, elapsed, messages = await _charge(runtime, f"RUN{run}-", MEASURED_STATIONS, sessions)
                        median, mean, count, per_action = _handler_figures(counter)
                        results[str(size)] = {
                            "items": len(table), "load_s": loaded, "median_ms": median, "mean_ms": mean,
                            "messages": count, "per_action": per_action, "rate": messages / elapsed,
                        }

        asyncio.run(main())
    return results


def measure_load(args: argparse.Namespace) -> dict[str, Any]:
    messages = 10_000 if args.quick else 100_000
    stations = 300
    per_session = 13  # Authorize, Start, Status, 6 MeterValues, 2 Heartbeats, Stop, Status
    sessions = messages // (stations * per_session) + 1
    with tempfile.TemporaryDirectory() as state_dir, emulated_aws(TABLE_NAME):

        async def main() -> tuple[dict[str, list[float]], float, int]:
            with LocalState(Path(state_dir), fresh=True) as state:
                async with LocalRuntime(_config(), state=state) as runtime:
                    await register_drivers(runtime)
                    return await _fleet_elsewhere(runtime, "LOAD", stations, sessions, budget=messages)

        latencies, elapsed, sent = asyncio.run(main())
    every = [ms for values in latencies.values() for ms in values]
    return {
        "messages": sent, "seconds": elapsed, "rate": sent / elapsed, "stations": stations,
        "p50_ms": percentile(every, 0.5), "p99_ms": percentile(every, 0.99),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def measure_paced(args: argparse.Namespace) -> dict[str, Any]:
    rate, seconds, stations = 100.0, (10 if args.quick else 40), 300
    with tempfile.TemporaryDirectory() as state_dir, emulated_aws(TABLE_NAME):

        async def main() -> tuple[dict[str, list[float]], float, int]:
            with LocalState(Path(state_dir), fresh=True) as state:
                async with LocalRuntime(_config(), state=state) as runtime:
                    await register_drivers(runtime)
                    return await _fleet_elsewhere(runtime, "PACED", stations, 1000, rate=rate, budget=rate * seconds)

        latencies, elapsed, sent = asyncio.run(main())
    every = [ms for values in latencies.values() for ms in values]
    return {
        "offered_rate": rate, "rate": sent / elapsed, "messages": sent, "stations": stations,
        "p50_ms": percentile(every, 0.5), "p99_ms": percentile(every, 0.99),
        "p99_by_action": {action: percentile(values, 0.99) for action, values in sorted(latencies.items())},
    }


MEASUREMENTS = {"data": measure_data, "load": measure_load, "paced": measure_paced}


def report(results: dict[str, dict[str, Any]]) -> None:
    print("\nThe local runtime with its data (state kept in a journal, as `make run` does)")
    if data := results.get("data"):
        small, large = (data[str(size)] for size in data["sizes"])
        ratio = large["mean_ms"] / small["mean_ms"]
        print(f"  Handler time per message, {small['messages']} messages per run ({MEASURED_STATIONS} stations charging at once):")
        for figures in (small, large):
            print(
                f"    {figures['items']:>8,} items stored: median {figures['median_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms"
                f"   (StartTransaction {figures['per_action'].get('StartTransaction', 0):.2f} ms; filled in {figures['load_s']:.1f} s)"
            )
        print(f"    ratio of the means {ratio:.2f}   (target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
    if load := results.get("load"):
        peak = load["peak_rss_bytes"]
        print(
            f"  {load['stations']} stations unpaced: {load['messages']:,} messages in {load['seconds']:.0f} s ="
            f" {load['rate']:.0f} msg/s (target >= 250: {'met' if load['rate'] >= 250 else 'MISSED'});"
            f" round trip p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms"
        )
        print(
            f"  Peak memory after {load['messages']:,} messages: {peak / 2**20:.0f} MB"
            f" (target < 1024 MB: {'met' if peak < GiB else 'MISSED'})"
        )
    if paced := results.get("paced"):
        print(
            f"  {paced['stations']} stations at {paced['offered_rate']:.0f} msg/s offered ({paced['rate']:.0f} served):"
            f" round trip p50 {paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms"
            f" (target p99 < 250 ms: {'met' if paced['p99_ms'] < 250 else 'MISSED'})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    parser.add_argument("--only", choices=sorted(MEASUREMENTS), action="append", help="run only this measurement")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a child's answer to its parent
    parser.add_argument("--workers", type=int, default=WORKERS, help="handler threads (concurrent Lambda instances)")
    for name, kind in (("--fleet", str), ("--prefix", str), ("--stations", int), ("--sessions", int), ("--budget", float), ("--rate", float)):
        parser.add_argument(name, type=kind, help=argparse.SUPPRESS)  # the station fleet's process
    args = parser.parse_args()
    if args.fleet:
        return run_fleet(args)
    globals()["WORKERS"] = args.workers
    names = args.only or list(MEASUREMENTS)
    if args.json:
        print(json.dumps({name: MEASUREMENTS[name](args) for name in names}))
        return 0
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        command = [sys.executable, "-m", "benchmarks.storage", "--json", "--only", name, *(["--quick"] if args.quick else [])]
        print(f"measuring {name}...", flush=True)
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.update(json.loads(output.strip().splitlines()[-1]))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
