"""Sites and priorities through the operator API (the `api` function against emulated DynamoDB): a site's
definition, its stations' membership (one site each, race-free), what it shows of its sessions, and the id tag's
priority bound at StartTransaction."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from csms.adapters.dynamodb import sites as site_items
from csms.adapters.dynamodb.keys import site_key, station_key
from csms.operator.app import app
from csms.runtime.observability import metrics
from csms.runtime.wiring import get_services
from local.aws import shared_by_threads
from tests.integration.test_operator_api import Client, start_transaction, stop_transaction

SITE = {"name": "Depot", "maxCurrentA": 32, "phases": 3, "voltageV": 230, "chargePoints": ["CP1", "CP2", "CP3"]}


@pytest.fixture
def api(services):
    app.dependency_overrides[get_services] = lambda: services
    with shared_by_threads():  # requests from several threads, one moto request at a time (as the local runtime)
        yield Client()
    app.dependency_overrides.clear()
    metrics.clear_metrics()  # see test_operator_api's `stations`


@pytest.fixture
def registered(services):
    """Four registered stations, connected (a station not connected counts at what it may draw: its own test)."""
    for charge_point_id in ("CP1", "CP2", "CP3", "CP4"):
        services.stations.register(charge_point_id, {})
        services.stations.record_connection(charge_point_id, f"conn-{charge_point_id}", connected_at=services.clock.now(), source_ip=None)


def member_of(services, charge_point_id: str) -> str | None:
    return services.table.get_item(Key=station_key(charge_point_id))["Item"].get("siteId")


def memberships(services) -> dict[str, str | None]:
    return {cp: member_of(services, cp) for cp in ("CP1", "CP2", "CP3", "CP4")}


# --- the definition ------------------------------------------------------------------------------------


def test_a_site_is_defined_read_replaced_listed_and_removed(api, services, registered, clock):
    created = api.put("/sites/depot", SITE)
    assert created.status == 201
    assert created.json == {
        "siteId": "depot", "name": "Depot", "maxCurrentA": 32, "phases": 3, "voltageV": 230, "safeCurrentA": 6,
        "chargePoints": ["CP1", "CP2", "CP3"], "circuits": [], "connectors": [], "version": 1,
        "updatedAt": "2026-11-24T10:00:00.000Z", "allocations": [],
    }  # fmt: skip
    assert api.get("/sites/depot").json == created.json
    assert memberships(services) == {"CP1": "depot", "CP2": "depot", "CP3": "depot", "CP4": None}

    clock.advance(minutes=1)
    replaced = api.put(
        "/sites/depot",
        SITE
        | {
            "maxCurrentA": 63.5,
            "chargePoints": ["CP2", "CP4"],
            "circuits": [{"circuitId": "garage", "maxCurrentA": 16, "chargePoints": ["CP4"]}],
            "connectors": [{"chargePointId": "CP4", "connectorId": 0, "maxCurrentA": 10.5, "phases": 1}],
            "safeCurrentA": 0,
        },
    )
    assert replaced.status == 200
    assert {key: replaced.json[key] for key in ("maxCurrentA", "version", "updatedAt", "safeCurrentA")} == {
        "maxCurrentA": 63.5, "version": 2, "updatedAt": "2026-11-24T10:01:00.000Z", "safeCurrentA": 0
    }  # fmt: skip
    assert replaced.json["connectors"] == [{"chargePointId": "CP4", "connectorId": 0, "maxCurrentA": 10.5, "phases": 1}]
    assert memberships(services) == {"CP1": None, "CP2": "depot", "CP3": None, "CP4": "depot"}

    assert [site["siteId"] for site in api.get("/sites").json["items"]] == ["depot"]
    assert api.delete("/sites/depot").status == 204
    assert api.get("/sites/depot").status == 404
    assert api.delete("/sites/depot").status == 404
    assert memberships(services) == {"CP1": None, "CP2": None, "CP3": None, "CP4": None}
    assert api.get("/sites").json == {"items": [], "nextToken": None}
    assert "Item" not in services.table.get_item(Key=site_key("depot"))


def test_sites_are_listed_page_by_page_in_id_order(api, registered):
    for name in ("e", "a", "c", "b", "d"):
        assert api.put(f"/sites/{name}", SITE | {"chargePoints": []}).status == 201
    pages, token = [], None
    while True:
        page = api.get("/sites", limit=2, **({"nextToken": token} if token else {})).json
        pages.append([site["siteId"] for site in page["items"]])
        token = page["nextToken"]
        if token is None:
            break
    assert [name for page in pages for name in page] == ["a", "b", "c", "d", "e"]
    assert all(len(page) <= 2 for page in pages)


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (SITE | {"circuits": [{"circuitId": "C1", "maxCurrentA": 16, "chargePoints": ["CP4"]}]}, "body.circuits[0].chargePoints[0]"),
        (SITE | {"chargePoints": ["CP1", "CP1"]}, "body.chargePoints[1]"),
        (SITE | {"connectors": [{"chargePointId": "CP4", "connectorId": 1}]}, "body.connectors[0].chargePointId"),
        (SITE | {"phases": 1, "connectors": [{"chargePointId": "CP1", "connectorId": 1, "phases": 3}]}, "body.connectors[0].phases"),
        (SITE | {"safeCurrentA": 4}, "body.safeCurrentA"),
        (SITE | {"safeCurrentA": 40}, "body.safeCurrentA"),
    ],
)
def test_a_definition_at_fault_is_400_naming_the_field_and_changes_nothing(api, services, registered, body, location):
    answer = api.put("/sites/depot", body)
    assert answer.status == 400 and [error["location"] for error in answer.json["errors"]] == [location]
    assert location in answer.json["message"]
    assert api.get("/sites/depot").status == 404 and set(memberships(services).values()) == {None}


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (SITE | {"maxCurrentA": 5}, "body.maxCurrentA"),  # cannot carry one session
        (SITE | {"maxCurrentA": 16.05}, "body.maxCurrentA"),  # OCPP 1.6 §7.7: one decimal
        (SITE | {"phases": 2}, "body.phases"),
        (SITE | {"voltageV": 0}, "body.voltageV"),
        ({key: value for key, value in SITE.items() if key != "voltageV"}, "body.voltageV"),
        (SITE | {"chargePoints": ["CP 1"]}, "body.chargePoints.0"),
        (SITE | {"connectors": [{"chargePointId": "CP1", "connectorId": -1}]}, "body.connectors.0.connectorId"),
        (SITE | {"connectors": [{"chargePointId": "CP1", "connectorId": 1, "maxCurrentA": 3}]}, "body.connectors.0.maxCurrentA"),
        (SITE | {"circuits": [{"circuitId": "C1", "maxCurrentA": 16}]}, "body.circuits.0.chargePoints"),
        (SITE | {"fuse": 40}, "body.fuse"),
    ],
)
def test_a_value_the_schema_refuses_is_422_naming_the_field(api, registered, body, location):
    answer = api.put("/sites/depot", body)
    assert answer.status == 422 and location in [error["location"] for error in answer.json["errors"]]


def test_an_unknown_or_unregistered_station_is_404_naming_it_and_nothing_stays_claimed(api, services, registered):
    answer = api.put("/sites/depot", SITE | {"chargePoints": ["CP1", "CP2", "CP9"]})
    assert answer.status == 404 and "CP9" in answer.json["message"]
    services.table.put_item(Item={**station_key("CP5"), "chargePointId": "CP5", "registered": False})  # connected, pending
    assert api.put("/sites/depot", SITE | {"chargePoints": ["CP1", "CP5"]}).status == 404
    assert "siteId" not in services.table.get_item(Key=station_key("CP5"))["Item"]
    assert "Item" not in services.table.get_item(Key=station_key("CP9"))  # a claim never creates a station
    assert api.get("/sites/depot").status == 404 and set(memberships(services).values()) == {None}
    assert api.get("/sites").json["items"] == []


def test_a_station_in_two_circuits_is_409(api, registered):
    circuits = [
        {"circuitId": "A", "maxCurrentA": 16, "chargePoints": ["CP1", "CP2"]},
        {"circuitId": "B", "maxCurrentA": 16, "chargePoints": ["CP2"]},
    ]
    answer = api.put("/sites/depot", SITE | {"circuits": circuits})
    assert answer.status == 409 and "CP2" in answer.json["message"]


# --- one site per station ------------------------------------------------------------------------------


def test_a_station_of_another_site_is_409_naming_both_and_the_loser_keeps_nothing(api, services, registered):
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1"]}).status == 201
    answer = api.put("/sites/south", SITE | {"chargePoints": ["CP2", "CP1", "CP3"]})
    assert answer.status == 409
    assert answer.json["message"] == "Charge point CP1 belongs to site north: remove it from that site first"
    assert memberships(services) == {"CP1": "north", "CP2": None, "CP3": None, "CP4": None}
    assert api.get("/sites/south").status == 404

    assert api.put("/sites/north", SITE | {"chargePoints": ["CP4"]}).status == 200  # CP1 leaves north
    assert api.put("/sites/south", SITE | {"chargePoints": ["CP2", "CP1", "CP3"]}).status == 201
    assert memberships(services) == {"CP1": "south", "CP2": "south", "CP3": "south", "CP4": "north"}


def test_a_failed_replacement_keeps_the_sites_stations_and_releases_only_what_it_claimed(api, services, registered):
    api.put("/sites/north", SITE | {"chargePoints": ["CP1", "CP2"]})
    api.put("/sites/south", SITE | {"chargePoints": ["CP4"]})
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1", "CP3", "CP4"]}).status == 409
    assert memberships(services) == {"CP1": "north", "CP2": "north", "CP3": None, "CP4": "south"}
    assert api.get("/sites/north").json["chargePoints"] == ["CP1", "CP2"]


def test_two_sites_claiming_one_station_at_once_one_wins_the_other_is_409(api, services, registered):
    for attempt in range(8):
        barrier = threading.Barrier(2)
        answers: dict[str, int] = {}

        def put(site_id: str, members: list[str], barrier: threading.Barrier, answers: dict[str, int]) -> None:
            client = Client()
            barrier.wait()
            answers[site_id] = client.put(f"/sites/{site_id}", SITE | {"chargePoints": members}).status

        threads = [
            threading.Thread(target=put, args=("north", ["CP2", "CP1"], barrier, answers)),
            threading.Thread(target=put, args=("south", ["CP3", "CP1"], barrier, answers)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(answers.values()) == [201, 409], attempt
        winner = next(site for site, status in answers.items() if status == 201)
        loser_only = {"north": "CP3", "south": "CP2"}[winner]  # the loser's other station
        assert member_of(services, "CP1") == winner and member_of(services, loser_only) is None
        assert api.get(f"/sites/{winner}").json["chargePoints"][1] == "CP1"
        assert api.delete(f"/sites/{winner}").status == 204


def test_a_claim_that_lands_between_another_sites_claims_makes_that_one_409(api, services, registered, monkeypatch):
    """Deterministic interleaving: south claims CP2 while north is between its claim of CP1 and of CP2."""
    claim = site_items.SiteRepository._claim

    def interleaved(self, charge_point_id: str, site_id: str) -> None:
        if (site_id, charge_point_id) == ("north", "CP2"):
            monkeypatch.setattr(site_items.SiteRepository, "_claim", claim)
            assert Client().put("/sites/south", SITE | {"chargePoints": ["CP2"]}).status == 201
        claim(self, charge_point_id, site_id)

    monkeypatch.setattr(site_items.SiteRepository, "_claim", interleaved)
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1", "CP2"]}).status == 409
    assert memberships(services) == {"CP1": None, "CP2": "south", "CP3": None, "CP4": None}


def test_a_site_being_changed_is_409_to_another_writer_until_its_lease_expires(api, services, registered, clock, monkeypatch):
    """A PUT that dies after claiming (a Lambda timeout) leaves its lease and its claims: the site's next PUT,
    once the lease is over, releases the claims it does not list."""

    def dies(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(site_items.SiteRepository, "_release", dies)  # dies after its claims and its definition
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1", "CP2"]}).status == 500
    monkeypatch.undo()
    assert memberships(services)["CP2"] == "north"

    busy = api.put("/sites/north", SITE | {"chargePoints": ["CP1"]})
    assert busy.status == 409 and busy.json["message"] == "Site north is being changed by another request: retry"
    assert api.delete("/sites/north").status == 409
    clock.advance(site_items.LEASE + timedelta(seconds=1))
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1"]}).status == 200
    assert memberships(services) == {"CP1": "north", "CP2": None, "CP3": None, "CP4": None}
    assert api.put("/sites/south", SITE | {"chargePoints": ["CP2"]}).status == 201


def test_a_first_put_that_died_before_its_definition_leaves_no_site_and_its_claims_go_with_the_next_delete(
    api, services, registered, clock, monkeypatch
):
    original = site_items.SiteRepository._claim
    claimed: list[str] = []

    def dies_after_one(self, charge_point_id: str, site_id: str) -> None:
        if claimed:
            raise RuntimeError("the function timed out")
        original(self, charge_point_id, site_id)
        claimed.append(charge_point_id)

    monkeypatch.setattr(site_items.SiteRepository, "_claim", dies_after_one)
    assert api.put("/sites/north", SITE | {"chargePoints": ["CP1", "CP2"]}).status == 500
    monkeypatch.undo()
    assert api.get("/sites/north").status == 404 and api.get("/sites").json["items"] == []
    assert member_of(services, "CP1") == "north"
    clock.advance(site_items.LEASE + timedelta(seconds=1))
    assert api.delete("/sites/north").status == 404  # there never was a site, but its leftovers are cleaned
    assert memberships(services) == {"CP1": None, "CP2": None, "CP3": None, "CP4": None}
    assert "Item" not in services.table.get_item(Key=site_key("north"))


# --- the site's sessions -------------------------------------------------------------------------------


def test_the_site_shows_each_session_with_its_priority_and_the_share_it_would_get_now(api, services, registered):
    api.put("/id-tags/FLEET", {"priority": 5})
    api.put("/id-tags/VISITOR")
    api.put("/sites/depot", SITE | {"connectors": [{"chargePointId": "CP3", "connectorId": 0, "phases": 1}]})
    fleet = start_transaction(services, "CP1", 1, id_tag="FLEET", minute=0)
    visitor = start_transaction(services, "CP2", 1, id_tag="VISITOR", minute=1)
    start_transaction(services, "CP4", 1, id_tag="TAG1", minute=2)  # not the site's
    allocations = api.get("/sites/depot").json["allocations"]
    assert allocations == [
        {"chargePointId": "CP1", "connectorId": 1, "transactionId": fleet, "priority": 5, "allocatedCurrentA": 26,
         "measuredCurrentA": None, "paused": False, "phases": 3, "limitedBy": "site", "circuitId": None},
        {"chargePointId": "CP2", "connectorId": 1, "transactionId": visitor, "priority": 0, "allocatedCurrentA": 6,
         "measuredCurrentA": None, "paused": False, "phases": 3, "limitedBy": "site", "circuitId": None},
    ]  # fmt: skip

    late = start_transaction(services, "CP3", 1, id_tag="TAG1", minute=3)
    assert {a["transactionId"]: (a["allocatedCurrentA"], a["phases"]) for a in api.get("/sites/depot").json["allocations"]} == {
        fleet: (20, 3), visitor: (6, 3), late: (6, 1)
    }
    api.put("/sites/depot", SITE | {"maxCurrentA": 17})  # the minimums no longer all fit: the latest of priority 0 pauses
    shares = {a["transactionId"]: a for a in api.get("/sites/depot").json["allocations"]}
    assert (shares[late]["allocatedCurrentA"], shares[late]["paused"], shares[late]["limitedBy"]) == (0, True, "site")
    assert (shares[fleet]["allocatedCurrentA"], shares[visitor]["allocatedCurrentA"]) == (11, 6)

    stop_transaction(services, "CP1", fleet, meter_stop=5000)
    assert {a["transactionId"]: a["allocatedCurrentA"] for a in api.get("/sites/depot").json["allocations"]} == {
        visitor: 8.5, late: 8.5
    }


def test_a_session_whose_station_is_away_shows_what_it_may_draw_until_the_station_is_back(api, services, registered):
    api.put("/sites/depot", SITE)
    away = start_transaction(services, "CP1", 1, id_tag="TAG1", minute=0)
    here = start_transaction(services, "CP2", 1, id_tag="TAG2", minute=1)
    services.stations.forget_connection("CP1", "conn-CP1", disconnected_at=services.clock.now())
    shares = {a["transactionId"]: (a["allocatedCurrentA"], a["limitedBy"]) for a in api.get("/sites/depot").json["allocations"]}
    # No profile of ours reached it: it may draw its safe current (6 A), and keeps counting at it while away.
    assert shares == {away: (6, "unreachable"), here: (26, "site")}
    services.stations.record_connection("CP1", "conn-CP1b", connected_at=services.clock.now(), source_ip=None)
    shares = {a["transactionId"]: (a["allocatedCurrentA"], a["limitedBy"]) for a in api.get("/sites/depot").json["allocations"]}
    assert shares == {away: (16, "site"), here: (16, "site")}


def test_a_circuit_holds_its_stations_within_the_site(api, services, registered):
    circuit = {"circuitId": "garage", "maxCurrentA": 12, "chargePoints": ["CP1", "CP2"]}
    api.put("/sites/depot", SITE | {"circuits": [circuit]})
    for minute, charge_point_id in enumerate(("CP1", "CP2", "CP3")):
        start_transaction(services, charge_point_id, 1, id_tag=f"TAG{minute}", minute=minute)
    shares = {a["chargePointId"]: (a["allocatedCurrentA"], a["limitedBy"], a["circuitId"]) for a in api.get("/sites/depot").json["allocations"]}
    assert shares == {"CP1": (6, "circuit", "garage"), "CP2": (6, "circuit", "garage"), "CP3": (20, "site", None)}


# --- priorities ----------------------------------------------------------------------------------------


def test_an_id_tags_priority_is_kept_shown_cleared_and_bound_to_its_sessions_at_their_start(api, services, registered):
    assert api.put("/id-tags/FLEET", {"priority": -3}).json["priority"] == -3
    assert api.get("/id-tags/FLEET").json["priority"] == -3
    transaction_id = start_transaction(services, "CP1", 1, id_tag="FLEET")
    assert api.put("/id-tags/FLEET", {}).json["priority"] is None  # a PUT replaces: left out is cleared
    transaction = services.transactions.get(transaction_id)
    assert transaction.start.priority == -3  # bound at the start: the tag's change does not reorder it
    assert services.stations.get("CP1").session_on(1).priority == -3
    assert services.transactions.get(start_transaction(services, "CP2", 1, id_tag="UNKNOWN")).start.priority == 0


@pytest.mark.parametrize("priority", [10, -10, 1.5, "5", True])
def test_a_priority_outside_minus_9_to_9_or_not_an_integer_is_422(api, priority):
    answer = api.put("/id-tags/FLEET", {"priority": priority})
    assert answer.status == 422 and [error["location"] for error in answer.json["errors"]] == ["body.priority"]
