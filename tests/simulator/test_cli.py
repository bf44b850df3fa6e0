"""`python -m simulator`: arguments, progress lines, summary, and a clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.cli import build_stations, parse_arguments, read_password, station_url, summary
from simulator.cli import run as run_stations
from tests.simulator.central_system import CentralSystem

REPO = Path(__file__).resolve().parents[2]


def test_the_station_id_is_appended_to_the_url():
    assert station_url("ws://127.0.0.1:9000/ocpp/", "SIM001") == "ws://127.0.0.1:9000/ocpp/SIM001"
    assert station_url("wss://example.com/ocpp", "CP 1/a") == "wss://example.com/ocpp/CP%201%2Fa"


def test_bad_arguments_are_refused(capsys):
    for argv, complaint in (
        (["--stations", "0"], "--stations and --connectors must be at least 1"),
        (["--url", "http://x/"], "--url must start with ws:// or wss://"),
        (["--password", "a", "--password-file", "f"], "not allowed with argument"),
    ):
        with pytest.raises(SystemExit) as exited:
            parse_arguments(argv)
        assert exited.value.code == 2  # argparse's usage error
        assert complaint in capsys.readouterr().err


def test_each_station_charges_with_its_own_id_tag_unless_tags_are_named():
    # One tag in two sessions at once is refused (ConcurrentTx): with one shared tag only one station would charge.
    stations = build_stations(parse_arguments(["--stations", "3", "--sessions", "--quiet"]))
    assert [(s.id, s.id_tags) for s in stations] == [
        ("SIM001", ["SIM-TAG-1"]), ("SIM002", ["SIM-TAG-2"]), ("SIM003", ["SIM-TAG-3"])
    ]
    named = build_stations(parse_arguments(["--stations", "2", "--first", "7", "--prefix", "HUB", "--quiet"]))
    assert [s.id_tags for s in named] == [["HUB-TAG-7"], ["HUB-TAG-8"]]
    shared = build_stations(parse_arguments(["--stations", "2", "--id-tag", "A", "--id-tag", "B", "--quiet"]))
    assert [s.id_tags for s in shared] == [["A", "B"], ["A", "B"]]


def test_a_prefix_too_long_for_the_stations_own_id_tags_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_arguments(["--sessions", "--prefix", "A-VERY-LONG-PREFIX"])  # A-VERY-LONG-PREFIX-TAG-1: 24 characters
    assert "longer than 20 characters" in capsys.readouterr().err
    assert parse_arguments(["--sessions", "--prefix", "A-VERY-LONG-PREFIX", "--id-tag", "T1"]).id_tags == ["T1"]


def test_the_password_file_holds_the_password_on_its_first_line(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret-password-123\n# comment\n")
    assert read_password(parse_arguments(["--password-file", str(secret)])) == "s3cret-password-123"
    assert read_password(parse_arguments(["--password", "p"])) == "p"
    assert read_password(parse_arguments([])) is None


def test_a_fleet_runs_sessions_prints_progress_and_a_summary(run, capsys):
    async def scenario():
        async with CentralSystem() as central:
            arguments = parse_arguments([
                "--url", central.url + "/", "--stations", "2", "--prefix", "T", "--sessions", "--session-seconds", "20",
                "--meter-interval", "5", "--duration", "1.0", "--time-scale", "0.01", "--id-tag", "DRIVER-9", "--seed", "1",
            ])
            stations = await run_stations(arguments)
            return central, stations

    central, stations = run(scenario)
    output = capsys.readouterr().out
    assert [s.id for s in stations] == ["T001", "T002"]
    assert "T001 boot Accepted" in output and "T002 boot Accepted" in output
    assert "sessions use the idTags DRIVER-9: the CSMS must accept them" in output
    assert "session started" in output and "session stopped" in output and "kWh" in output
    assert {p["id_tag"] for p in central.sent("StartTransaction")} == {"DRIVER-9"}
    # Every transaction started was stopped before the end, with its energy in the summary.
    assert len(central.sent("StopTransaction")) == len(central.sent("StartTransaction")) >= 2
    text = summary(stations)
    assert "2 stations, 2 booted (Accepted)" in text
    # The summary's totals are what the central system received.
    assert f"{len(central.sent('StartTransaction'))} sessions started" in text
    assert f"{len(central.sent('StopTransaction'))} stopped" in text
    meter_start = {p["transaction_id"]: p["meter_start"] for p in central.sent("StartTransaction")}
    energy_wh = sum(p["meter_stop"] - meter_start[p["transaction_id"]] for p in central.sent("StopTransaction"))
    assert f"{Decimal(energy_wh) / 1000:.3f} kWh" in text


def test_the_command_stops_cleanly_on_ctrl_c(run):
    async def scenario():
        async with CentralSystem() as central:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "simulator", "--url", central.url, "--stations", "1", "--prefix", "CLI",
                cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            await central.wait_for("StatusNotification", count=3, timeout=10)
            process.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(process.communicate(), 10)
            return process.returncode, out.decode(), err.decode()

    code, out, err = run(scenario, timeout=20)
    assert code == 0, err
    assert "CLI001 boot Accepted" in out and "stopping" in out and "Summary" in out
    assert "1 stations, 1 booted (Accepted)" in out
