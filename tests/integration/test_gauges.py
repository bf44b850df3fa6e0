"""The network gauges: counted from the live index once a minute, no counter kept by the station path."""

from __future__ import annotations

import json

from csms.adapters.dynamodb.gauges import ACTIVE_TRANSACTIONS, CONNECTED_STATIONS
from csms.adapters.dynamodb.schema import LIVE_SHARDS
from csms.domain.authorization import Authorization
from csms.domain.transactions import TransactionStart
from csms.gateway.connection import close_connection, open_connection
from csms.monitoring.gauges import publish_gauges
from csms.ocpp.v16.enums import AuthorizationStatus
from tests.fakes.clock import EPOCH
from tests.integration.test_connection_lifecycle import RecordingConnections, connect_event, disconnect_event


def test_connections_are_counted_once_per_station_and_ghosts_not_twice(services):
    services.connections = RecordingConnections()
    open_connection(connect_event("first"), services)
    open_connection(connect_event("second"), services)  # replaces the ghost: still one station
    assert services.gauges.read()[CONNECTED_STATIONS] == 1
    close_connection(disconnect_event("first"), services)  # late disconnect of the ghost: changes nothing
    assert services.gauges.read()[CONNECTED_STATIONS] == 1
    close_connection(disconnect_event("second"), services)
    assert services.gauges.read()[CONNECTED_STATIONS] == 0


def test_transactions_are_counted_once_whatever_the_station_repeats(registered_station, services):
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
    transaction_id = registered_station.result("StartTransaction", start)["transactionId"]
    registered_station.result("StartTransaction", start)  # replay
    assert services.gauges.read()[ACTIVE_TRANSACTIONS] == 1
    stop = {"transactionId": transaction_id, "meterStop": 10, "timestamp": "2026-11-24T11:00:00Z"}
    registered_station.result("StopTransaction", stop)
    registered_station.result("StopTransaction", stop)  # repeated
    registered_station.result("StopTransaction", stop | {"transactionId": 9999})  # unknown
    assert services.gauges.read()[ACTIVE_TRANSACTIONS] == 0


def test_the_gauges_are_published_as_metrics(services, monkeypatch, capsys):
    services.connections = RecordingConnections()
    for n in range(3):
        open_connection(connect_event(f"c{n}", charge_point_id=f"CP{n}"), services)
    for n in range(2):
        services.transactions.create(n + 1, _start(f"CP{n}"), answer=_ACCEPTED, claim_id_tag=False, now=services.clock.now())
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    from csms.runtime.observability import metrics

    metrics.clear_metrics()  # what earlier tests added with metrics disabled is never flushed
    assert publish_gauges(services) == {CONNECTED_STATIONS: 3, ACTIVE_TRANSACTIONS: 2}
    metrics.flush_metrics()
    emitted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emitted["ConnectedStations"] == [3.0] or emitted["ConnectedStations"] == 3.0
    assert emitted["ActiveTransactions"] in ([2.0], 2.0)


def test_every_shard_is_counted(services):
    services.connections = RecordingConnections()
    for n in range(LIVE_SHARDS * 3):
        open_connection(connect_event(f"c{n}", charge_point_id=f"STATION-{n}"), services)
    for n in range(1, LIVE_SHARDS * 2 + 1):
        services.transactions.create(n, _start(f"STATION-{n}"), answer=_ACCEPTED, claim_id_tag=False, now=services.clock.now())
    assert services.gauges.read() == {CONNECTED_STATIONS: LIVE_SHARDS * 3, ACTIVE_TRANSACTIONS: LIVE_SHARDS * 2}


_ACCEPTED = Authorization(AuthorizationStatus.ACCEPTED)


def _start(charge_point_id: str) -> TransactionStart:
    return TransactionStart(
        charge_point_id=charge_point_id,
        connector_id=1,
        id_tag="T",
        meter_start=0,
        started_at=EPOCH,
        reservation_id=None,
        authorization_status=AuthorizationStatus.ACCEPTED,
    )
