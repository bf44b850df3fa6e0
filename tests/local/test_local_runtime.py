"""LocalRuntime: configuration, the functions' environment, clean stop, `python -m local`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from local.runtime import LocalConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_config_defaults_are_the_documented_ones():
    assert LocalConfig.from_env({}) == LocalConfig(
        host="127.0.0.1",
        ws_port=9000,
        connections_port=9001,
        api_port=8080,
        max_connection_seconds=7200,
        idle_timeout_seconds=600,
        max_frame_bytes=32768,
        unknown_station_policy="accept",
        stage="local",
        table_name="csms",
        heartbeat_interval_seconds=300,
        metrics=False,
        log_level="INFO",
        max_concurrent_invocations=32,
    )


def test_config_reads_the_environment():
    config = LocalConfig.from_env(
        {
            "CSMS_HOST": "0.0.0.0",
            "CSMS_WS_PORT": "0",
            "CSMS_CONNECTIONS_PORT": "9101",
            "CSMS_WS_MAX_CONNECTION_SECONDS": "60",
            "CSMS_WS_IDLE_TIMEOUT_SECONDS": "0.5",
            "CSMS_WS_MAX_FRAME_BYTES": "1024",
            "CSMS_UNKNOWN_STATION_POLICY": "reject",
            "CSMS_STAGE": "dev",
            "CSMS_METRICS": "on",
            "CSMS_API_PORT": "8181",
            "TABLE_NAME": "stations",
            "HEARTBEAT_INTERVAL_SECONDS": "120",
            "LOG_LEVEL": "DEBUG",
            "CSMS_MAX_CONCURRENT_INVOCATIONS": "4",
        }
    )
    assert config == LocalConfig(
        host="0.0.0.0",
        ws_port=0,
        connections_port=9101,
        api_port=8181,
        max_connection_seconds=60,
        idle_timeout_seconds=0.5,
        max_frame_bytes=1024,
        unknown_station_policy="reject",
        stage="dev",
        table_name="stations",
        heartbeat_interval_seconds=120,
        metrics=True,
        log_level="DEBUG",
        max_concurrent_invocations=4,
    )


def test_a_malformed_number_names_its_variable():
    with pytest.raises(ValueError, match="CSMS_WS_PORT"):
        LocalConfig.from_env({"CSMS_WS_PORT": "nine thousand"})


def test_functions_see_their_lambda_environment_while_it_runs(run, local_runtime, station, functions, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "before")
    seen = {}

    def connect(event, context):
        seen.update({name: os.environ.get(name) for name in _LAMBDA_VARIABLES})
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"}}

    functions.behaviour["connect"] = connect

    async def scenario():
        runtime = local_runtime(table_name="stations", unknown_station_policy="reject")
        async with runtime, station(runtime):
            return runtime.connections_url

    connections_url = run(scenario())
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/local", connections_url)
    assert seen == {
        "TABLE_NAME": "stations",
        "CONNECTIONS_ENDPOINT_URL": connections_url,
        "UNKNOWN_STATION_POLICY": "reject",
        "HEARTBEAT_INTERVAL_SECONDS": "300",
        "POWERTOOLS_SERVICE_NAME": "csms",
        "POWERTOOLS_METRICS_NAMESPACE": "CSMS",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "LOG_LEVEL": "INFO",
    }
    assert os.environ["TABLE_NAME"] == "before"  # restored on stop
    assert "CONNECTIONS_ENDPOINT_URL" not in os.environ


_LAMBDA_VARIABLES = (
    "TABLE_NAME",
    "CONNECTIONS_ENDPOINT_URL",
    "UNKNOWN_STATION_POLICY",
    "HEARTBEAT_INTERVAL_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_DISABLED",
    "LOG_LEVEL",
)


def test_stop_closes_stations_with_1001_and_runs_disconnect_for_each(run, local_runtime, station, functions):
    async def scenario():
        runtime = local_runtime()
        await runtime.start()
        async with station(runtime, "CP001") as first, station(runtime, "CP002") as second:
            await runtime.stop()
            for ws in (first, second):
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
            return first.close_code, second.close_code

    assert run(scenario()) == (1001, 1001)
    # stop() returned only after both $disconnect invocations had run.
    assert sorted(e["requestContext"]["disconnectStatusCode"] for e in functions.events["disconnect"]) == [1001, 1001]
    assert sorted(e["requestContext"]["authorizer"]["principalId"] for e in functions.events["disconnect"]) == [
        "CP001",
        "CP002",
    ]


def _python_m_local_environment(**settings: str) -> dict[str, str]:
    """A `python -m local` child's environment: this process's (under `make test-later`, its moved clock and the
    PYTHONPATH of tests/later), the repository's packages first, ports chosen by the system."""
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    packages = [str(REPO_ROOT), str(REPO_ROOT / "layers" / "core" / "python"), *inherited]
    return {**os.environ, "CSMS_WS_PORT": "0", "CSMS_CONNECTIONS_PORT": "0", "PYTHONPATH": os.pathsep.join(packages), **settings}


def test_python_m_local_prints_its_endpoints_and_exits_0_on_sigint(tmp_path):
    environment = _python_m_local_environment(CSMS_UNKNOWN_STATION_POLICY="reject")
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Stop" in line:
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    banner = "".join(lines)
    assert process.returncode == 0, banner + rest
    assert re.search(r"ws://127\.0\.0\.1:\d+/ocpp/\{chargePointId\}", banner)
    assert re.search(r"http://127\.0\.0\.1:\d+/local/@connections/", banner)
    assert "reject" in banner
    assert "7200 s" in banner and "600 s" in banner and "32768 bytes" in banner
    assert f"State kept in         {Path(os.environ['CSMS_STATE_DIR']).resolve()}" in banner
    assert "Traceback" not in rest


def _start_python_m_local(environment: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    """`python -m local` started; (process, station URL prefix, operator API URL) read from its banner."""
    process = subprocess.Popen(
        [sys.executable, "-m", "local"], cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    banner = []
    for line in process.stdout:
        banner.append(line)
        if "Stop" in line:
            break
    text = "".join(banner)
    stations, api = re.search(r"(ws://\S+/ocpp/)", text), re.search(r"Operator API\s+(http://\S+)", text)
    assert stations and api, text
    return process, stations.group(1), api.group(1)


def _saved_whole(journal: Path, *texts: str) -> bool:
    """Whether a complete save (a line with its end) mentions every one of `texts`: a line still being written does
    not count."""
    lines = [line for path in journal.glob("*.jsonl") for line in path.read_text().splitlines(keepends=True)]
    return any(all(text in line for text in texts) for line in lines if line.endswith("\n"))


def test_a_killed_python_m_local_keeps_what_it_saved(tmp_path):
    import json
    import time
    import urllib.request

    from websockets.sync.client import connect

    environment = _python_m_local_environment()
    journal = Path(os.environ["CSMS_STATE_DIR"]) / "journal"
    process, stations, api = _start_python_m_local(environment)
    try:
        with connect(stations + "CP-KILLED", subprotocols=["ocpp1.6"]) as station:
            station.send(json.dumps([2, "1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "One"}]))
            assert json.loads(station.recv(timeout=10))[2]["status"] == "Accepted"
            deadline = time.monotonic() + 10  # a condition with a deadline, not a sleep: the saver runs every second
            # The station item as the boot left it: an earlier save may hold it as $connect made it.
            while not _saved_whole(journal, '"CP-KILLED"', '"Acme"'):
                assert time.monotonic() < deadline, "the boot was never saved"
                with pytest.raises(subprocess.TimeoutExpired):
                    process.wait(timeout=0.05)  # and it did not die meanwhile
            process.kill()  # SIGKILL: no clean stop, no $disconnect
            process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    process, stations, api = _start_python_m_local(environment)
    try:
        with urllib.request.urlopen(f"{api}/charge-points/CP-KILLED", timeout=10) as response:
            seen = json.loads(response.read())
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert seen["chargePointId"] == "CP-KILLED" and seen["boot"] and seen["boot"]["chargePointVendor"] == "Acme", seen
    # Its connection died with the killed process: the restart delivered the $disconnect it never got.
    assert seen["connected"] is False and seen["disconnectedAt"]
