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


def test_each_sites_allocated_and_measured_current_is_published_beside_its_limit(services, table, monkeypatch, capsys):
    from decimal import Decimal

    from csms.adapters.dynamodb.keys import station_key
    from csms.domain.load_control import ConnectorControl, SiteControl
    from csms.domain.sites import Site
    from tests.integration.stations import Station

    for charge_point_id in ("CP1", "CP2"):
        table.put_item(Item={**station_key(charge_point_id), "chargePointId": charge_point_id, "registered": True, "bootStatus": "Accepted"})
    site, _ = services.sites.put(
        Site(site_id="depot", name="Depot", max_current_a=Decimal(32), phases=3, voltage_v=Decimal(230), charge_point_ids=("CP1", "CP2")),
        now=services.clock.now(),
    )
    drawn = {}
    for charge_point_id, amperes in (("CP1", "9.5"), ("CP2", "12")):
        station = Station(services, charge_point_id)
        start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
        transaction_id = station.result("StartTransaction", start)["transactionId"]
        sampled = [{"value": amperes, "unit": "A", "measurand": "Current.Import", "phase": "L1"}]
        meter_values = {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": "2026-11-24T10:01:00Z", "sampledValue": sampled}]}
        station.result("MeterValues", meter_values)
        drawn[charge_point_id] = transaction_id
    controls = tuple(
        ConnectorControl(charge_point_id=cp, connector_id=1, transaction_id=tx, target_a=Decimal(16)) for cp, tx in drawn.items()
    )
    services.load_control.save(SiteControl(site_id="depot", version=1, controls=controls), read_version=0, now=services.clock.now(), follow_ups=[])
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    publish_gauges(services)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"siteId"' in line]
    published = {name: record[name] for record in records for name in ("AllocatedCurrentA", "MeasuredCurrentA", "SiteLimitA") if name in record}
    assert published == {"AllocatedCurrentA": [32.0], "MeasuredCurrentA": [21.5], "SiteLimitA": [32.0]}
    assert {record["siteId"] for record in records} == {"depot"}
