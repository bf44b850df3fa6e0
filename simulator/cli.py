"""`python -m simulator`: N simulated stations against a CSMS, with progress lines and a summary.

    python -m simulator --url ws://127.0.0.1:9000/ocpp/ --stations 5 --prefix SIM --sessions --meter-interval 10 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from simulator.station import SimulatedChargePoint


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulated OCPP 1.6J charging stations: boot, heartbeats, status, charging sessions with meter "
        "values, and an answer to every central-system command.",
    )
    parser.add_argument("--url", default="ws://127.0.0.1:9000/ocpp/", help="CSMS endpoint; the station id is appended (ws:// or wss://)")
    parser.add_argument("--stations", type=int, default=1, help="number of stations (default 1)")
    parser.add_argument("--prefix", default="SIM", help="station ids are PREFIX001, PREFIX002, ... (default SIM)")
    parser.add_argument("--first", type=int, default=1, help="number of the first station (default 1)")
    parser.add_argument("--connectors", type=int, default=2, help="connectors per station (default 2)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password", help="HTTP Basic password of every station (user = station id)")
    secret.add_argument("--password-file", type=Path, help="file whose first line is the password")
    parser.add_argument("--sessions", action="store_true", help="start charging sessions automatically")
    parser.add_argument("--session-seconds", type=float, default=120, help="average session length (default 120)")
    parser.add_argument("--meter-interval", type=int, default=60, help="MeterValueSampleInterval in seconds (default 60)")
    parser.add_argument("--session-pause", type=float, help="average pause before a connector's next session (default: "
                        "5 to 30 %% of --session-seconds)")
    parser.add_argument(
        "--id-tag",
        action="append",
        dest="id_tags",
        help="idTag of every station's automatic sessions (repeatable); by default each station has its own, "
        "PREFIX-TAG-N for station number N (SIM-TAG-1, SIM-TAG-2, ...): the CSMS refuses one tag in two sessions at once",
    )
    parser.add_argument(
        "--ignore-profiles",
        action="append",
        default=[],
        metavar="STATION_ID",
        help="this station accepts charging profiles and draws what its car takes all the same (repeatable)",
    )
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--vendor-id", help="vendorId whose DataTransfer the stations accept")
    parser.add_argument("--stagger", type=float, default=0.05, help="seconds between two station starts (default 0.05)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply the stations' own waits (default 1)")
    parser.add_argument("--seed", type=int, help="random seed, for repeatable runs")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="only the summary")
    output.add_argument("--verbose", action="store_true", help="also log every OCPP frame")
    arguments = parser.parse_args(argv)
    if arguments.stations < 1 or arguments.connectors < 1:
        parser.error("--stations and --connectors must be at least 1")
    if not arguments.url.startswith(("ws://", "wss://")):
        parser.error("--url must start with ws:// or wss://")
    if arguments.session_pause is not None and arguments.session_pause < 0:
        parser.error("--session-pause must not be negative")
    last_tag = station_id_tag(arguments.prefix, arguments.first + arguments.stations - 1)
    if arguments.sessions and not arguments.id_tags and len(last_tag) > ID_TAG_MAX_LENGTH:
        parser.error(f"the stations' own idTags ({last_tag}) are longer than {ID_TAG_MAX_LENGTH} characters: "
                     "a shorter --prefix, or name them with --id-tag")
    return arguments


ID_TAG_MAX_LENGTH = 20
"""An idTag is a CiString20Type (OCPP 1.6 §7.28)."""


def station_id_tag(prefix: str, number: int) -> str:
    """The idTag a station charges with when none is named: its own, as one idTag is refused in two sessions at once
    (ConcurrentTx) unless the CSMS allows it; register these for the stations' sessions to be accepted."""
    return f"{prefix}-TAG-{number}"


def station_url(base: str, charge_point_id: str) -> str:
    return f"{base.rstrip('/')}/{quote(charge_point_id, safe='')}"


def read_password(arguments: argparse.Namespace) -> str | None:
    if arguments.password_file is not None:
        lines = arguments.password_file.read_text().splitlines()
        return lines[0].strip() if lines else None
    return arguments.password


def print_progress(line: str) -> None:
    print(f"{datetime.now():%H:%M:%S.%f}"[:-3], line, flush=True)


def build_stations(arguments: argparse.Namespace) -> list[SimulatedChargePoint]:
    password = read_password(arguments)
    report = (lambda line: None) if arguments.quiet else print_progress
    return [
        SimulatedChargePoint(
            f"{arguments.prefix}{number:03d}",
            connectors=arguments.connectors,
            password=password,
            data_transfer_vendor=arguments.vendor_id,
            meter_interval=arguments.meter_interval,
            sessions=arguments.sessions,
            id_tags=arguments.id_tags or [station_id_tag(arguments.prefix, number)],
            session_seconds=arguments.session_seconds,
            session_pause=arguments.session_pause,
            time_scale=arguments.time_scale,
            ignores_profiles=f"{arguments.prefix}{number:03d}" in arguments.ignore_profiles,
            report=report,
            seed=None if arguments.seed is None else arguments.seed + number,
        )
        for number in range(arguments.first, arguments.first + arguments.stations)
    ]


async def run(arguments: argparse.Namespace, stop: asyncio.Event | None = None) -> list[SimulatedChargePoint]:
    """Run the stations until `--duration` has passed or `stop` is set; then stop them cleanly."""
    stop = stop or asyncio.Event()
    stations = build_stations(arguments)
    if arguments.sessions and not arguments.quiet:
        tags = sorted({tag for station in stations for tag in station.id_tags}, key=lambda tag: (len(tag), tag))
        print_progress(f"sessions use the idTags {', '.join(tags)}: the CSMS must accept them (register them first)")
    runs: list[asyncio.Task[None]] = []
    for station in stations:
        runs.append(asyncio.create_task(station.run(station_url(arguments.url, station.id))))
        if stop.is_set():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), arguments.stagger)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), arguments.duration)
    if not arguments.quiet:
        print_progress("stopping: ending sessions and closing connections")
    await asyncio.gather(*(station.stop() for station in stations), return_exceptions=True)
    done, pending = await asyncio.wait(runs, timeout=10)
    for task in pending:
        task.cancel()
    return stations


def summary(stations: Sequence[SimulatedChargePoint]) -> str:
    header = (
        f"{'station':<12} {'conn':>4} {'boot':<9} {'hb':>5} {'sessions':>9} {'kWh':>9} {'cmds':>5} {'errors':>6} {'failed':>6}"
    )
    lines = ["", "Summary", header]
    for s in stations:
        t = s.stats
        lines.append(
            f"{s.id:<12} {t.connections:>4} {t.boot_status or '-':<9} {t.heartbeats:>5} "
            f"{t.sessions_started:>4}/{t.sessions_stopped:<4} {Decimal(t.energy_wh) / 1000:>9.3f} "
            f"{t.commands_received:>5} {t.command_errors:>6} {t.failed_calls:>6}"
        )
    booted = sum(1 for s in stations if s.stats.boot_status == "Accepted")
    energy = Decimal(sum(s.stats.energy_wh for s in stations)) / 1000
    lines.append(
        f"{len(stations)} stations, {booted} booted (Accepted), "
        f"{sum(s.stats.connections for s in stations)} connections, "
        f"{sum(s.stats.sessions_started for s in stations)} sessions started, "
        f"{sum(s.stats.sessions_stopped for s in stations)} stopped, {energy:.3f} kWh, "
        f"{sum(s.stats.commands_received for s in stations)} commands received "
        f"({sum(s.stats.command_errors for s in stations)} answered with a CALLERROR), "
        f"{sum(s.stats.failed_calls for s in stations)} station calls failed"
    )
    lines.append(
        "columns: conn = connections, hb = heartbeats, sessions = started/stopped, "
        "errors = commands answered with a CALLERROR, failed = station calls without a good answer"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("ocpp").setLevel(logging.INFO if arguments.verbose else logging.ERROR)

    async def main_loop() -> list[SimulatedChargePoint]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            stop.set()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)  # a second Ctrl-C ends at once

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, interrupted)
        return await run(arguments, stop)

    try:
        stations = asyncio.run(main_loop())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(summary(stations), flush=True)
    return 0 if all(s.stats.boot_status == "Accepted" for s in stations) else 1
