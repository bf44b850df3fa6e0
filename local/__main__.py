"""`python -m local` (what `make run` starts): the CSMS on this machine, until Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime
from local.state import SAVE_INTERVAL_SECONDS, LocalState, StateDirectoryBusy, state_directory


def banner(runtime: LocalRuntime, state: LocalState) -> str:
    config = runtime.config
    kept = (
        f"{state.directory.resolve()}   (CSMS_STATE_DIR; {state.loaded_items} items restored"
        f"{', CSMS_FRESH=1: started empty' if state.fresh else ''}; saved every {SAVE_INTERVAL_SECONDS:g} s and at stop)"
    )
    return "\n".join(
        [
            "CSMS (OCPP 1.6J) running locally; AWS is emulated in process by moto, nothing reaches AWS.",
            f"  Stations connect to   {runtime.ws_url}/{{chargePointId}}   (subprotocol ocpp1.6, HTTP Basic auth)",
            f"  @connections API      {runtime.connections_url}/@connections/{{connectionId}}",
            f"  Operator API          {runtime.api_url}   (OpenAPI {runtime.api_url}/openapi.json, Swagger UI {runtime.api_url}/docs)",
            f"  Operator console      {runtime.api_url}/console   (open it in a browser)",
            f"  Unknown stations      {config.unknown_station_policy}   (CSMS_UNKNOWN_STATION_POLICY)",
            (
                f"  Quotas                connection {config.max_connection_seconds:g} s,"
                f" idle {config.idle_timeout_seconds:g} s (pings do not count),"
                f" frame {config.max_frame_bytes} bytes (bigger: close 1009)"
            ),
            f"  DynamoDB table        {config.table_name}   (in memory, emulated by moto)",
            f"  State kept in         {kept}",
            f"  Events (CSMS bus)     {config.events_file.resolve()}   (CSMS_EVENTS_FILE; one JSON line per event put)",
            "  Logs                  here, on stdout; settings and usage: README.md",
            "  Stop                  Ctrl-C",
        ]
    )


async def serve(config: LocalConfig, state: LocalState) -> None:
    runtime = LocalRuntime(config, state=state)
    await runtime.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    print(banner(runtime, state), flush=True)
    try:
        await stopping.wait()
    finally:
        print("Stopping: closing stations (1001 Going Away) and running $disconnect...", flush=True)
        await runtime.stop()


def main() -> int:
    config = LocalConfig.from_env()
    logging.basicConfig(
        stream=sys.stdout, level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    directory, fresh = state_directory()
    print(f"Loading the saved state from {directory.resolve()}...", flush=True)
    try:
        with emulated_aws(config.table_name), LocalState(directory, fresh=fresh) as state:
            # The state is saved once more when this block ends: after the runtime stopped and ran $disconnect.
            asyncio.run(serve(config, state))
    except StateDirectoryBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
