"""The network's counts (`GET /network/counts`): what the station path keeps in the live index as stations connect,
charge, fault and go, counted over every shard and page, and the route that answers from a count at most 3 s old."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from csms.adapters.dynamodb.schema import LIVE_SHARDS
from csms.adapters.dynamodb.stations import StationRepository
from csms.gateway.connection import close_connection, open_connection
from csms.operator.app import app
from csms.runtime.observability import metrics
from csms.runtime.wiring import get_services
from tests.integration.stations import Station
from tests.integration.test_connection_lifecycle import RecordingConnections, connect_event, disconnect_event
from tests.integration.test_operator_api import Client


@pytest.fixture
def network(services):
    """Stations arrive through the $connect and $disconnect functions and talk through the $default dispatcher."""
    services.connections = RecordingConnections()
    return Network(services)


class Network:
    def __init__(self, services: Any) -> None:
        self.services = services

    def connect(self, charge_point_id: str, connection_id: str | None = None) -> Station:
        connection_id = connection_id or f"conn-{charge_point_id}"
        answer = open_connection(connect_event(connection_id, charge_point_id=charge_point_id), self.services)
        assert answer["statusCode"] == 200
        return Station(self.services, charge_point_id, connection_id=connection_id)

    def disconnect(self, station: Station) -> None:
        close_connection(disconnect_event(station.connection_id, charge_point_id=station.charge_point_id), self.services)

    def counts(self) -> dict[str, int]:
        counted = self.services.station_counts.count(at=self.services.clock.now())
        return {
            "total": counted.total, "connected": counted.connected, "offline": counted.offline,
            "charging": counted.charging, "faulted": counted.faulted,
        }  # fmt: skip


def status(station: Station, connector_id: int, value: str, error_code: str = "NoError") -> None:
    station.result("StatusNotification", {"connectorId": connector_id, "errorCode": error_code, "status": value})


def counts(total: int = 1, connected: int = 0, charging: int = 0, faulted: int = 0) -> dict[str, int]:
    return {"total": total, "connected": connected, "offline": total - connected, "charging": charging, "faulted": faulted}


# --- what the station path keeps ------------------------------------------------------------------------


def test_a_station_is_counted_as_it_connects_charges_faults_and_goes(network):
    station = network.connect("CP1")
    assert network.counts() == counts(connected=1)
    status(station, 1, "Preparing")
    assert network.counts() == counts(connected=1)
    status(station, 1, "Charging")
    assert network.counts() == counts(connected=1, charging=1)
    status(station, 2, "Faulted", "GroundFailure")  # the other connector: still charging on the first
    assert network.counts() == counts(connected=1, charging=1, faulted=1)
    status(station, 1, "SuspendedEV")  # the car paused: plugged in, not drawing
    assert network.counts() == counts(connected=1, faulted=1)
    status(station, 2, "Available")
    assert network.counts() == counts(connected=1)
    status(station, 1, "Charging", "HighTemperature")  # an error while still charging
    assert network.counts() == counts(connected=1, charging=1, faulted=1)
    network.disconnect(station)  # offline: its last statuses are no longer the present
    assert network.counts() == counts(connected=0)


def test_a_station_reconnecting_in_the_middle_of_a_session_is_counted_charging_without_a_new_status(network):
    station = network.connect("CP1", "conn-1")
    status(station, 1, "Charging")
    network.disconnect(station)  # the 2 h limit of an API Gateway connection, the session goes on
    network.connect("CP1", "conn-2")
    assert network.counts() == counts(connected=1, charging=1)


def test_a_ghost_replaced_by_a_new_connection_is_counted_once_and_a_late_disconnect_changes_nothing(network):
    ghost = network.connect("CP1", "conn-ghost")
    status(ghost, 1, "Charging")
    station = network.connect("CP1", "conn-new")  # power came back: the old socket was never closed
    assert network.counts() == counts(connected=1, charging=1)
    network.disconnect(ghost)  # its $disconnect, late
    assert network.counts() == counts(connected=1, charging=1)
    status(station, 1, "Finishing")
    assert network.counts() == counts(connected=1)


def test_a_late_status_older_than_the_stored_one_changes_no_count(network):
    station = network.connect("CP1")
    station.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": "2026-11-24T10:05:00Z"})
    # Queued while offline, sent after: older than what the station reported since.
    station.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "2026-11-24T10:01:00Z"})
    assert network.counts() == counts(connected=1, charging=1)


def test_of_two_status_changes_in_a_row_the_later_one_decides_whatever_order_their_second_writes_land_in(network, monkeypatch):
    """A status's flag is set by a second write, after the status's own: here the first status's second write is
    held back until the next status was recorded, then lands. The version guard makes it a no-op; without it the
    station would be counted charging after it stopped."""
    station = network.connect("CP1")
    held: list[dict[str, Any]] = []
    flag = StationRepository._flag_live_key

    def hold_the_first(self: StationRepository, item: Any) -> None:
        if not held:
            held.append(dict(item))
            return
        flag(self, item)

    monkeypatch.setattr(StationRepository, "_flag_live_key", hold_the_first)
    status(station, 1, "Charging")  # its flag is held back
    status(station, 1, "SuspendedEV")  # from an item with no flag: no flag wanted, no second write
    monkeypatch.setattr(StationRepository, "_flag_live_key", flag)
    network.services.stations._flag_live_key(held[0])  # lands last, too late
    assert network.counts() == counts(connected=1)


def test_a_removed_station_is_not_brought_back_by_a_second_write(network, monkeypatch):
    station = network.connect("CP1")
    held: list[dict[str, Any]] = []
    monkeypatch.setattr(StationRepository, "_flag_live_key", lambda self, item: held.append(dict(item)))
    status(station, 1, "Charging")
    monkeypatch.undo()
    network.services.stations.delete("CP1")
    network.services.stations._flag_live_key(held[0])
    assert network.services.stations.get("CP1") is None
    assert network.counts() == counts(total=0)


# --- counting ------------------------------------------------------------------------------------------


def test_every_shard_and_every_page_is_counted(network, services, monkeypatch):
    for n in range(LIVE_SHARDS * 3):
        station = network.connect(f"STATION-{n}")
        if n % 3 == 0:
            status(station, 1, "Charging")
        if n % 4 == 0:
            status(station, 2, "Faulted", "GroundFailure")
    for n in range(5):
        services.stations.register(f"NEVER-CONNECTED-{n}", {})
    # A Query returns at most 1 MB at a time: pages of two entries here, so every count follows its pages.
    query = services.table.query
    monkeypatch.setattr(services.table, "query", lambda **request: query(**request, Limit=2))
    total, connected = LIVE_SHARDS * 3 + 5, LIVE_SHARDS * 3
    assert network.counts() == counts(total=total, connected=connected, charging=LIVE_SHARDS, faulted=LIVE_SHARDS * 3 // 4)


# --- the route -----------------------------------------------------------------------------------------


@pytest.fixture
def api(services, network):
    app.dependency_overrides[get_services] = lambda: services
    yield Client()
    app.dependency_overrides.clear()
    metrics.clear_metrics()  # see test_operator_api's `stations`


def test_the_counts_are_the_whole_networks_not_a_page_of_it(api, network, services):
    for n in range(150):
        services.stations.register(f"CP{n:03d}", {})
    charging = network.connect("CP149")  # last in the listing's order: on its second page
    status(charging, 1, "Charging")
    network.connect("CP148")
    first_page = api.get("/charge-points", limit=100).json
    assert len(first_page["items"]) == 100 and first_page["nextToken"] is not None
    assert not any(station["connected"] for station in first_page["items"])

    answer = api.get("/network/counts")
    assert answer.status == 200
    assert answer.json == {
        "total": 150, "connected": 2, "offline": 148, "charging": 1, "faulted": 0, "countedAt": "2026-11-24T10:00:00.000Z",
    }  # fmt: skip


def test_a_count_is_the_answer_for_3_seconds_however_many_ask_then_the_network_is_counted_again(api, network, services, monkeypatch):
    station = network.connect("CP1")
    counted: list[object] = []
    count = services.station_counts.count
    monkeypatch.setattr(services.station_counts, "count", lambda **options: counted.append(options) or count(**options))
    assert api.get("/network/counts").json["charging"] == 0
    status(station, 1, "Charging")
    services.clock.advance(seconds=2.9)
    answers = [api.get("/network/counts").json for _ in range(5)]  # consoles refreshing: the count they share
    assert {(answer["charging"], answer["countedAt"]) for answer in answers} == {(0, "2026-11-24T10:00:00.000Z")}
    assert len(counted) == 1
    services.clock.advance(seconds=0.1)
    assert api.get("/network/counts").json | {"countedAt": None} == counts(connected=1, charging=1) | {"countedAt": None}
    assert len(counted) == 2


def test_a_count_stored_by_a_clock_ahead_of_this_one_is_not_taken_for_fresh(api, network, services):
    services.clock.advance(minutes=5)
    assert api.get("/network/counts").json["total"] == 0
    services.clock.set(services.clock.now() - timedelta(minutes=5))  # another instance, its clock behind
    services.stations.register("CP1", {})
    assert api.get("/network/counts").json["total"] == 1
