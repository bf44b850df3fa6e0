"""The QR code an operator prints on a connector, fetched over HTTP from the local runtime and read back by a QR
decoder: it opens the station's start link."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from ocpp.v16 import ChargePoint, call

from tests.e2e.operator_client import OperatorApi
from tests.qr_reader import read_qr_codes

pytestmark = pytest.mark.e2e


def test_the_printed_qr_code_opens_the_connectors_start_link(run_local):
    async def scenario(runtime):
        async with websockets.connect(runtime.station_url("LOBBY-7"), subprotocols=["ocpp1.6"]) as socket:
            station = ChargePoint("LOBBY-7", socket)
            task = asyncio.create_task(station.start())
            boot = await station.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
            task.cancel()
        assert boot.status == "Accepted"  # locally, a station that boots is registered
        api = OperatorApi(runtime.api_url)
        svg = await api.download("/charge-points/LOBBY-7/connectors/2/qr")
        png = await api.download("/charge-points/LOBBY-7/connectors/2/qr?format=png")
        unknown = await api.download("/charge-points/NOWHERE/connectors/1/qr")
        return svg, png, unknown

    svg, png, unknown = run_local(scenario)
    link = "https://app.example.invalid/start?cp=LOBBY-7&connector=2"
    assert svg[:2] == (200, "image/svg+xml") and read_qr_codes(svg[1], svg[2]) == [link]
    assert png[:2] == (200, "image/png") and read_qr_codes(png[1], png[2]) == [link]
    assert unknown[:2] == (404, "application/json")
