"""`make bench`, session limits: how far past its energy limit a session charges before it stops.

Simulated stations (the `ocpp`-based simulator) charge app sessions at 150 kW with a 60 s sample interval
against the local runtime; the CSMS stops each one for its `maxEnergyWh` through the SessionLimit workflow. The
overshoot is what the station's meter delivered past the limit (its StopTransaction), measured twice: stopping at
the sample that shows the limit passed (PREDICT_LIMIT_CROSSING=false), and at the crossing the last two readings
predict. The simulator runs at `--time-scale` (0.25: a 60 s interval is 15 real seconds), so the runtime's fixed
delays (a Wait ends on a whole second, the command's round trip) weigh 1 / time-scale times more in station time
than on AWS: the "with prediction" figure is an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from decimal import Decimal

# Powertools reads these when its Metrics is created, at import (the stack and the local runtime set them).
os.environ.update(POWERTOOLS_SERVICE_NAME="csms", POWERTOOLS_METRICS_NAMESPACE="CSMS", POWERTOOLS_METRICS_DISABLED="true")

from csms.domain.authorization import IdTagRecord  # noqa: E402
from csms.runtime.settings import get_settings  # noqa: E402
from csms.runtime.wiring import get_services  # noqa: E402
from local.aws import emulated_aws  # noqa: E402
from local.runtime import LocalConfig, LocalRuntime  # noqa: E402
from simulator.station import SimulatedChargePoint  # noqa: E402
from tests.e2e.operator_client import OperatorApi  # noqa: E402

TABLE_NAME = "csms-bench-limits"
POWER_W = 150_000
INTERVAL_S = 60


class OneAtATime(OperatorApi):
    """The operator API's requests one after the other (the local API serves one resolver, not made for threads)."""

    def __init__(self, base_url: str):
        super().__init__(base_url)
        self._lock = asyncio.Lock()

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        async with self._lock:
            return await super().request(method, path, body)


async def one_session(runtime: LocalRuntime, api: OperatorApi, n: int, limit_wh: int, time_scale: float) -> int:
    """Charge until the CSMS stops the session; returns the energy delivered (Wh)."""
    charge_point_id = f"LIMIT{n:03d}"
    station = SimulatedChargePoint(
        charge_point_id, ev_power_w=POWER_W, max_current=250, meter_interval=INTERVAL_S, time_scale=time_scale, seed=n
    )
    running = asyncio.create_task(station.run(runtime.station_url(charge_point_id)))
    await asyncio.wait_for(station.wait_booted(), timeout=20)
    body = {"chargePointId": charge_point_id, "connectorId": 1, "idTag": f"BENCH-{n}", "limits": {"maxEnergyWh": limit_wh}}
    status, session = await api.request("POST", "/sessions", body)
    assert status == 201, session
    while True:
        await asyncio.sleep(0.2)
        code, shown = await api.request("GET", f"/sessions/{session['sessionId']}")
        assert code == 200, shown
        if shown["status"] == "Stopped":
            break
    _, transaction = await api.request("GET", f"/transactions/{shown['transactionId']}")
    await station.stop()
    await running
    return int(Decimal(str(transaction["energyWh"])))


async def run(limits: list[int], *, predict: bool, time_scale: float) -> list[int]:
    os.environ["PREDICT_LIMIT_CROSSING"] = "true" if predict else "false"
    os.environ["DEFAULT_TARIFF_ID"] = "BENCH"  # the sessions are billed when they stop
    get_settings.cache_clear()
    get_services.cache_clear()
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, log_level="WARNING")
    async with LocalRuntime(config) as runtime:
        for n in range(len(limits)):
            get_services().id_tags.register(IdTagRecord(id_tag=f"BENCH-{n}", status="Accepted"))
        api = OneAtATime(runtime.api_url)
        flat = {"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}]}
        assert (await api.request("PUT", "/tariffs/BENCH", flat))[0] == 201
        delivered = await asyncio.gather(*(one_session(runtime, api, n, limit, time_scale) for n, limit in enumerate(limits)))
    return [energy - limit for energy, limit in zip(delivered, limits, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=4, help="sessions at once, their limits spread over a sample")
    parser.add_argument("--time-scale", type=float, default=0.25)
    args = parser.parse_args()
    per_sample = POWER_W * INTERVAL_S // 3600
    # Crossings spread over one sample interval (after two whole samples, so there is a rate to predict from).
    limits = [2 * per_sample + per_sample * (n + 1) // (args.sessions + 1) for n in range(args.sessions)]
    print(f"\nSession limits: {args.sessions} sessions at {POWER_W // 1000} kW, a sample every {INTERVAL_S} s "
          f"({per_sample} Wh), time scale {args.time_scale}")  # fmt: skip
    print(f"{'stop':<28}{'overshoot Wh: mean':>20}{'max':>8}   per session")
    for predict in (False, True):
        with emulated_aws(TABLE_NAME):
            overshoots = asyncio.run(run(limits, predict=predict, time_scale=args.time_scale))
        label = "at the predicted crossing" if predict else "at the sample past the limit"
        print(f"{label:<28}{statistics.mean(overshoots):>20.0f}{max(overshoots):>8}   {overshoots}")
    for name in ("PREDICT_LIMIT_CROSSING", "DEFAULT_TARIFF_ID"):
        os.environ.pop(name, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
