"""Load control against emulated DynamoDB (issue 11 §4): the station path writes a run, the stream runs it, the
outbox carries the TxProfiles, decreases first; stations that follow their profiles never take the site above its
limit, even between two commands; runs that overlap never apply conflicting allocations."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.adapters.dynamodb.keys import LOAD_CONTROL_RUN_PREFIX, SITE_PREFIX, station_key
from csms.adapters.dynamodb.load_control import LoadControlRepository, StaleControl
from csms.changes.reactions import REACTIONS
from csms.changes.stream import Change, handle_records
from csms.commands import service
from csms.domain.load_control import TX_PROFILE_ID_BASE, SiteControl
from csms.domain.sites import Site
from csms.domain.station_config import ConfigurationValue
from csms.energy import control
from csms.energy.stream import stopped
from csms.events.catalog import EventType, schema
from csms.gateway.connection import open_connection
from csms.ocpp.frames import CallError, CallResult, plain_json
from tests.fakes.stream import stream_record
from tests.integration.stations import Station
from tests.integration.test_connection_lifecycle import connect_event

LIMIT = Decimal(32)
SAFE = Decimal(6)
STATIONS = ("CP1", "CP2", "CP3")


class Fleet:
    """Stations that receive their CALLs (the @connections API), answer them as told and draw what the profiles they
    accepted allow (a session with no TxProfile yet: its station's TxDefaultProfile; none received yet: the site's
    safe current)."""

    def __init__(self, services):
        self.services = services
        self.inbox: list[tuple[str, list]] = []
        self.accepted: dict[tuple[str, int], tuple[int, Decimal]] = {}
        self.defaults: dict[str, Decimal] = {}
        self.sessions: dict[tuple[str, int], int] = {}
        self.rejecting: dict[str, int] = {}
        self.erring: dict[str, str] = {}
        self.silent: set[str] = set()
        self.unanswered: list[tuple[str, str, Decimal]] = []
        self.configuration: dict[str, dict[str, str]] = {}
        self.peak = Decimal(0)
        self.received: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    # the @connections API
    def send(self, connection_id: str, frame: str) -> bool:
        charge_point_id = connection_id.removeprefix("conn-")
        message = json.loads(frame)
        self.inbox.append((charge_point_id, message))
        return True

    def close(self, connection_id: str) -> bool:
        return True

    def draw(self) -> Decimal:
        total = Decimal(0)
        for key, transaction_id in self.sessions.items():
            accepted = self.accepted.get(key)
            total += accepted[1] if accepted and accepted[0] == transaction_id else self.defaults.get(key[0], SAFE)
        return total

    def answer_all(self) -> None:
        """Each station applies what it receives as it receives it (the worst case: before its answer is back)."""
        while self.inbox:
            charge_point_id, (_, message_id, action, payload) = self.inbox.pop(0)
            self.calls.append((charge_point_id, action, payload))
            if action != "SetChargingProfile":
                self.answer_other(charge_point_id, message_id, action, payload)
                continue
            self.received.append({"chargePointId": charge_point_id, **payload})
            profile = payload["csChargingProfiles"]
            if charge_point_id in self.silent:  # it never answers (it may or may not have applied the profile)
                limit = Decimal(str(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]))
                self.unanswered.append((charge_point_id, message_id, limit))
                continue
            if charge_point_id in self.erring:
                error = CallError(message_id, self.erring[charge_point_id], "no smart charging here", {})
                service.handle_answer(self.services, charge_point_id, error)
                continue
            if self.rejecting.get(charge_point_id, 0) > 0:
                self.rejecting[charge_point_id] -= 1
                status = "Rejected"
            else:
                status = "Accepted"
                limit = Decimal(str(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]))
                if profile["chargingProfilePurpose"] == "TxProfile":
                    self.accepted[(charge_point_id, payload["connectorId"])] = (profile["transactionId"], limit)
                else:
                    self.defaults[charge_point_id] = limit
            self.peak = max(self.peak, self.draw())
            service.handle_answer(self.services, charge_point_id, CallResult(message_id, {"status": status}))

    def answer_other(self, charge_point_id: str, message_id: str, action: str, payload: dict[str, Any]) -> None:
        if action == "GetConfiguration":
            known = self.configuration.get(charge_point_id, {})
            answer = {
                "configurationKey": [{"key": k, "readonly": True, "value": known[k]} for k in payload["key"] if k in known],
                "unknownKey": [k for k in payload["key"] if k not in known],
            }
        elif action == "ClearChargingProfile":
            if payload["id"] == TX_PROFILE_ID_BASE:
                self.defaults.pop(charge_point_id, None)
            else:
                self.accepted.pop((charge_point_id, payload["id"] - TX_PROFILE_ID_BASE), None)
            answer = {"status": "Accepted"}
        else:
            raise AssertionError(f"{charge_point_id} was sent {action}")
        service.handle_answer(self.services, charge_point_id, CallResult(message_id, answer))


class Stream:
    """The table's stream, for the load-control runs: each new `ALLOC#` item once, in the order written."""

    def __init__(self, services, table):
        self.services, self.table = services, table
        self.done: set[str] = set()

    def runs(self) -> list[dict[str, Any]]:
        items = self.table.scan()["Items"]
        return [i for i in items if i["pk"].startswith(SITE_PREFIX) and i["sk"].startswith(LOAD_CONTROL_RUN_PREFIX)]

    def drain(self, fleet: Fleet) -> None:
        for _ in range(50):
            fleet.answer_all()
            pending = [item for item in self.runs() if item["sk"] not in self.done]
            if not pending:
                return
            for item in pending:
                self.done.add(item["sk"])
                result = handle_records({"Records": [stream_record(item["sk"], "INSERT", item)]}, self.services, REACTIONS)
                assert result == {"batchItemFailures": []}
        raise AssertionError("the runs never settled")


@pytest.fixture
def site(services, table, clock):
    clock.step = timedelta(milliseconds=1)
    for charge_point_id in STATIONS:
        table.put_item(
            Item={**station_key(charge_point_id), "chargePointId": charge_point_id, "registered": True,
                  "bootStatus": "Accepted", "connectionId": f"conn-{charge_point_id}"}
        )  # fmt: skip
    stored, _ = services.sites.put(
        Site(site_id="depot", name="Depot", max_current_a=LIMIT, phases=3, voltage_v=Decimal(230), charge_point_ids=STATIONS),
        now=clock.now(),
    )
    return stored


@pytest.fixture
def fleet(services, site):
    fleet = Fleet(services)
    services.connections = fleet
    return fleet


@pytest.fixture
def stream(services, table):
    return Stream(services, table)


def start(services, fleet, charge_point_id: str, *, id_tag: str, minute: int, connector_id: int = 1) -> int:
    answer = Station(services, charge_point_id).result(
        "StartTransaction",
        {"connectorId": connector_id, "idTag": id_tag, "meterStart": 0, "timestamp": f"2026-11-24T10:{minute:02d}:00Z"},
    )
    fleet.sessions[(charge_point_id, connector_id)] = answer["transactionId"]
    fleet.peak = max(fleet.peak, fleet.draw())
    return answer["transactionId"]


def limits(fleet: Fleet) -> dict[str, Decimal]:
    return {cp: fleet.accepted[(cp, connector)][1] for (cp, connector) in fleet.sessions}


def test_starts_get_txprofiles_that_keep_the_site_within_its_limit_at_every_moment(services, fleet, stream, id_tags, table):
    id_tags("FLEET7", priority=5)
    id_tags("VISITOR")
    id_tags("STAFF")
    start(services, fleet, "CP1", id_tag="VISITOR", minute=0)
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(32)}
    transaction_2 = start(services, fleet, "CP2", id_tag="FLEET7", minute=1)
    start(services, fleet, "CP3", id_tag="STAFF", minute=2)
    stream.drain(fleet)
    shares = limits(fleet)
    assert shares["CP2"] > shares["CP1"] == shares["CP3"] >= 6
    assert sum(shares.values()) <= LIMIT
    # A start draws its station's default before any run: the defaults follow the site's room (0 here once CP1 took
    # it all), so not even a start takes the site above its limit.
    assert fleet.peak <= LIMIT

    stop_at = fleet.sessions.pop(("CP2", 1))
    Station(services, "CP2").result("StopTransaction", {"transactionId": stop_at, "meterStop": 10, "timestamp": "2026-11-24T11:00:00Z"})
    transaction = table.get_item(Key={"pk": f"TX#{transaction_2}", "sk": "TRANSACTION"})["Item"]
    stopped(Change("MODIFY", {**transaction, "stoppedAt": None}, transaction), services)  # the stream's stop record
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP3": Decimal(16)}  # the stop gave its share back


def test_decreases_go_out_first_and_increases_wait_until_they_are_accepted(services, fleet, stream, id_tags):
    id_tags("A")
    id_tags("B")
    start(services, fleet, "CP1", id_tag="A", minute=0)
    stream.drain(fleet)
    fleet.inbox.clear()
    peak_before = fleet.peak
    start(services, fleet, "CP2", id_tag="B", minute=1)
    run = [item for item in stream.runs() if item["sk"] not in stream.done]
    stream.done.update(item["sk"] for item in run)
    handle_records({"Records": [stream_record("1", "INSERT", run[0])]}, services, REACTIONS)
    sent = [(cp, payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]) for cp, (_, _, _, payload) in fleet.inbox]
    assert sent == [("CP1", 16.0)]  # CP2's increase waits for CP1's decrease
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}
    assert peak_before <= LIMIT and fleet.peak <= LIMIT


def test_a_newer_allocation_supersedes_a_queued_profile_of_the_same_connector(services, fleet, stream, id_tags, table):
    id_tags("A")
    id_tags("B")
    id_tags("C")
    start(services, fleet, "CP1", id_tag="A", minute=0)
    stream.drain(fleet)
    # CP1 is busy with another call: its profiles queue behind it.
    table.update_item(Key=station_key("CP1"), UpdateExpression="SET outstandingCall = :c",
                      ExpressionAttributeValues={":c": {"commandId": "other", "expiresAt": "2099-01-01T00:00:00.000Z"}})  # fmt: skip
    start(services, fleet, "CP2", id_tag="B", minute=1)
    start(services, fleet, "CP3", id_tag="C", minute=2)
    for item in [item for item in stream.runs() if item["sk"] not in stream.done]:
        stream.done.add(item["sk"])
        handle_records({"Records": [stream_record("1", "INSERT", item)]}, services, REACTIONS)
    queued = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={":pk": "CP#CP1", ":outbox": "OUTBOX#"},
    )["Items"]
    assert [entry["payload"]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] for entry in queued] == [
        Decimal("10.6")
    ]  # one queued profile, the newest: 16 A was superseded


def test_two_runs_at_once_never_apply_conflicting_allocations(services, fleet, stream, id_tags):
    id_tags("A")
    id_tags("B")
    start(services, fleet, "CP1", id_tag="A", minute=0)
    start(services, fleet, "CP2", id_tag="B", minute=1)
    read = services.load_control.get
    interleaved: list[bool] = []

    def read_then_another_run_stores(site_id: str) -> SiteControl:
        stored = read(site_id)
        if not interleaved:
            interleaved.append(True)
            control.run(services, site_id, cause="OTHER")  # another Lambda's run, between this one's read and write
        return stored

    services.load_control.get = read_then_another_run_stores  # type: ignore[method-assign]
    control.run(services, "depot", cause="THIS")
    services.load_control.get = read  # type: ignore[method-assign]
    sent = {message_id: (cp, payload["connectorId"]) for cp, (_, message_id, _, payload) in fleet.inbox}
    # Once each, by the run that stored first: every station's TxDefaultProfile (none had one; the sessions' increases
    # wait until CP3's, lowered to 0 as the sessions take the site, is accepted).
    assert sorted(sent.values()) == [("CP1", 0), ("CP2", 0), ("CP3", 0)]
    stored = services.load_control.get("depot")
    assert stored.version == 1  # the other found it done: nothing to change, nothing stored
    in_flight = [c.in_flight for c in stored.controls] + [s.default_in_flight for s in stored.stations]
    assert {sent.command_id for flights in in_flight for sent in flights} == set(sent)


def test_a_stale_write_is_refused_and_writes_nothing(services, site, clock):
    repository = LoadControlRepository(services.table)
    repository.save(SiteControl(site_id="depot", version=1), read_version=0, now=clock.now(), follow_ups=[])
    with pytest.raises(StaleControl):
        repository.save(SiteControl(site_id="depot", version=1), read_version=0, now=clock.now(), follow_ups=[])


def test_a_station_without_smart_charging_is_flagged_once_not_sent_profiles_in_a_loop(services, fleet, stream, id_tags, table):
    id_tags("A")
    id_tags("B")
    fleet.erring["CP2"] = "NotImplemented"
    start(services, fleet, "CP1", id_tag="A", minute=0)
    start(services, fleet, "CP2", id_tag="B", minute=1)
    stream.drain(fleet)
    to_cp2 = [r for r in fleet.received if r["chargePointId"] == "CP2" and r["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"]
    assert len(to_cp2) == 1
    (control,) = [c for c in services.load_control.get("depot").controls if c.charge_point_id == "CP2"]
    assert control.refused
    assert fleet.accepted[("CP1", 1)][1] == LIMIT - SAFE  # CP2 may draw its safe current: it counts as used
    events = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :event)", ExpressionAttributeValues={":pk": "SITE#depot", ":event": "EVENT#"}
    )["Items"]
    flagged = sorted((e["detail"]["connectorId"], e["detail"]["reason"]) for e in events if e["eventType"] == "AllocationIgnored")
    assert flagged == [(0, "rejected"), (1, "rejected")]  # its TxDefaultProfile and its session's TxProfile, once each


def draw(services, charge_point_id: str, transaction_id: int, minute: int, amperes: str) -> None:
    sampled = [{"value": amperes, "unit": "A", "measurand": "Current.Import", "phase": phase} for phase in ("L1", "L2", "L3")]
    meter_value = {"timestamp": f"2026-11-24T10:{minute:02d}:00Z", "sampledValue": sampled}
    answer = Station(services, charge_point_id).result(
        "MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [meter_value]}
    )
    assert answer == {}


def test_a_car_drawing_well_below_its_share_lends_it_until_it_wants_it_back(services, fleet, stream, id_tags, table):
    id_tags("SMALL")
    id_tags("BIG")
    small = start(services, fleet, "CP1", id_tag="SMALL", minute=0)
    start(services, fleet, "CP2", id_tag="BIG", minute=0)
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}

    for minute in (1, 2):  # fewer samples than it takes: a ramp-up or a dip, nothing lent
        draw(services, "CP1", small, minute, "8")
        stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}
    draw(services, "CP1", small, 3, "8")
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(10), "CP2": Decimal(22)}  # what it draws plus the 2 A margin

    runs = len(stream.runs())
    for minute, amperes in ((4, "8.5"), (5, "7.9"), (6, "8.9")):  # noise within half the margin: nothing sent
        draw(services, "CP1", small, minute, amperes)
        stream.drain(fleet)
    assert (limits(fleet), len(stream.runs())) == ({"CP1": Decimal(10), "CP2": Decimal(22)}, runs)

    draw(services, "CP1", small, 7, "9.6")  # climbing into its margin: it wants more
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}
    assert fleet.peak <= LIMIT
    transaction = table.get_item(Key={"pk": f"TX#{small}", "sk": "TRANSACTION"})["Item"]
    assert (transaction["allocatedA"], transaction["allocationLending"]) == (16, False)

    # Its samples under the lent limit do not count under the new one: it lends again after three new ones only.
    for minute in (8, 9):
        draw(services, "CP1", small, minute, "9.6")
        stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}
    draw(services, "CP1", small, 10, "9.6")
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal("11.6"), "CP2": Decimal("20.4")}


def ignored_events(table) -> list[dict[str, Any]]:
    items = table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :event)", ExpressionAttributeValues={":pk": "SITE#depot", ":event": "EVENT#"})["Items"]
    return [item for item in items if item["eventType"] == "AllocationIgnored"]


def test_a_station_is_flagged_on_three_samples_under_its_new_limit_and_cuts_the_others_further_as_it_draws_more(
    services, fleet, stream, id_tags, table
):
    id_tags("A")
    id_tags("B")
    greedy = start(services, fleet, "CP1", id_tag="A", minute=0)
    stream.drain(fleet)
    for minute in (1, 2, 3):  # 30 A under its 32 A: using it
        draw(services, "CP1", greedy, minute, "30")
        stream.drain(fleet)
    start(services, fleet, "CP2", id_tag="B", minute=4)
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}

    # One sample above its new limit, its samples under the old one behind it: a car slowing down, not a station
    # ignoring its limit.
    draw(services, "CP1", greedy, 5, "20")
    stream.drain(fleet)
    assert (limits(fleet), ignored_events(table)) == ({"CP1": Decimal(16), "CP2": Decimal(16)}, [])
    for minute in (6, 7):
        draw(services, "CP1", greedy, minute, "20")
        stream.drain(fleet)
    assert limits(fleet)["CP2"] == Decimal(12)  # its 20 A count as used
    (flagged,) = ignored_events(table)
    assert (flagged["detail"]["allocatedCurrentA"], flagged["detail"]["measuredCurrentA"]) == (16, 20)

    draw(services, "CP1", greedy, 8, "24")  # it draws more still: the others are cut further, it is not told twice
    stream.drain(fleet)
    assert limits(fleet)["CP2"] == Decimal(8)
    assert len(ignored_events(table)) == 1


def test_a_pause_left_unanswered_counts_at_the_safe_current_and_is_sent_again(services, fleet, stream, id_tags, table):
    table.update_item(Key={"pk": "SITE#depot", "sk": "SITE"}, UpdateExpression="SET maxCurrentA = :a", ExpressionAttributeValues={":a": 12})
    id_tags("FIRST", priority=5)
    id_tags("SECOND", priority=5)
    id_tags("LAST")
    start(services, fleet, "CP1", id_tag="FIRST", minute=0)
    start(services, fleet, "CP2", id_tag="SECOND", minute=0)
    stream.drain(fleet)
    fleet.silent.add("CP3")
    start(services, fleet, "CP3", id_tag="LAST", minute=1)
    stream.drain(fleet)
    ((_, message_id, paused_at),) = fleet.unanswered
    assert paused_at == 0
    service._time_out(services, message_id)  # its slot expired: did it apply the pause? Maybe not.
    stream.drain(fleet)
    # Still possibly at its TxDefaultProfile's 6 A (not the 0 A it never confirmed): the pause goes out again.
    paused = next(c for c in services.load_control.get("depot").controls if c.charge_point_id == "CP3")
    assert paused.confirmed_a == SAFE
    assert [(sent.command_id != message_id, sent.limit_a) for sent in paused.in_flight] == [(True, Decimal(0))]


def events_of(table, event_type: str) -> list[dict[str, Any]]:
    items = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :event)", ExpressionAttributeValues={":pk": "SITE#depot", ":event": "EVENT#"}
    )["Items"]
    return [item["detail"] for item in items if item["eventType"] == event_type]


def redefine(services, clock, site: Site, **changes: Any) -> Site:
    """PUT /sites/depot as the API does it: the definition stored, then a run of the site's load control."""
    stored, _ = services.sites.put(replace(site, **changes), now=clock.now())
    FollowUps(services.table).put(run_item("depot", f"SITE#{stored.version}", now=clock.now()))
    return stored


def defaults_sent(fleet: Fleet, charge_point_id: str) -> list[tuple[int, str, float]]:
    return [
        (p["csChargingProfiles"]["stackLevel"], p["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"],
         p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])
        for p in fleet.received
        if p["chargePointId"] == charge_point_id and p["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
    ]  # fmt: skip


# --- a station away, and back -------------------------------------------------------------------------


def test_a_station_away_keeps_counting_at_what_it_may_draw_and_gets_its_share_when_it_is_back(services, fleet, stream, id_tags, clock):
    for tag in ("A", "B", "C"):
        id_tags(tag)
    start(services, fleet, "CP1", id_tag="A", minute=0)
    start(services, fleet, "CP2", id_tag="B", minute=1)
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(16)}
    services.stations.forget_connection("CP1", "conn-CP1", disconnected_at=clock.now())

    start(services, fleet, "CP3", id_tag="C", minute=2)
    stream.drain(fleet)
    # CP1 cannot be told to take less: it keeps its 16 A, the others share the rest (not 10.6 A each as if it could).
    assert limits(fleet) == {"CP1": Decimal(16), "CP2": Decimal(8), "CP3": Decimal(8)}
    assert fleet.peak <= LIMIT

    assert open_connection(connect_event("conn-CP1", charge_point_id="CP1"), services)["statusCode"] == 200
    stream.drain(fleet)  # its $connect ran the site's load control: what it missed goes out
    assert limits(fleet) == {"CP1": Decimal("10.6"), "CP2": Decimal("10.6"), "CP3": Decimal("10.6")}
    assert fleet.peak <= LIMIT


def test_a_members_connect_runs_its_sites_load_control_once_per_connection(services, fleet, table, clock):
    services.stations.register("CP9", {})
    for connection_id in ("conn-CP1", "conn-CP1", "conn-CP1b"):  # the first one's $connect delivered twice
        open_connection(connect_event(connection_id, charge_point_id="CP1"), services)
    open_connection(connect_event("conn-CP9", charge_point_id="CP9"), services)  # no site's
    runs = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :run)", ExpressionAttributeValues={":pk": "SITE#depot", ":run": "ALLOC#"}
    )["Items"]
    assert sorted(run["cause"] for run in runs) == ["CONNECT#CP1#conn-CP1", "CONNECT#CP1#conn-CP1b"]


# --- TxDefaultProfiles --------------------------------------------------------------------------------


def test_a_station_added_to_the_site_gets_its_default_and_a_new_safe_current_reaches_every_station(
    services, fleet, stream, site, clock, table
):
    table.put_item(Item={**station_key("CP4"), "chargePointId": "CP4", "registered": True, "bootStatus": "Accepted", "connectionId": "conn-CP4"})
    site = redefine(services, clock, site, charge_point_ids=(*STATIONS, "CP4"))
    stream.drain(fleet)
    assert fleet.defaults == {cp: SAFE for cp in ("CP1", "CP2", "CP3", "CP4")}  # 4 × 6 A fit in 32 A: none waits for a reboot

    redefine(services, clock, site, safe_current_a=Decimal(8))
    stream.drain(fleet)
    assert fleet.defaults == {cp: Decimal(8) for cp in ("CP1", "CP2", "CP3", "CP4")}
    redefine(services, clock, site, safe_current_a=Decimal(10))
    stream.drain(fleet)
    # 4 × 10 A do not fit: the first three stations (by id) get 10 A, CP4 a default of 0 (a car there starts paused).
    assert fleet.defaults == {"CP1": Decimal(10), "CP2": Decimal(10), "CP3": Decimal(10), "CP4": Decimal(0)}
    assert fleet.peak <= LIMIT


def test_a_rejected_default_is_offered_again_at_level_0_then_in_w_then_flagged_and_its_connectors_count_as_used(
    services, fleet, stream, site, clock, table, id_tags
):
    services.station_config.merge_configuration(
        "CP1", {"ChargeProfileMaxStackLevel": ConfigurationValue(value="5", readonly=True)}, [], at=clock.now()
    )
    fleet.rejecting["CP1"] = 3
    redefine(services, clock, site)
    stream.drain(fleet)
    assert defaults_sent(fleet, "CP1") == [(5, "A", 6.0), (0, "A", 6.0), (0, "W", 4140.0)]
    (flagged,) = events_of(table, "AllocationIgnored")
    assert (flagged["chargePointId"], flagged["connectorId"], flagged["transactionId"], flagged["reason"]) == ("CP1", 0, None, "rejected")
    jsonschema.validate(
        {"version": "0", "id": "x", "detail-type": "AllocationIgnored", "source": "csms.energy", "account": "1", "time": "2026-11-24T10:00:00Z",
         "region": "eu-west-1", "resources": [], "detail": plain_json(flagged)},
        schema(EventType.ALLOCATION_IGNORED),
    )  # fmt: skip

    id_tags("B")
    start(services, fleet, "CP2", id_tag="B", minute=0)
    stream.drain(fleet)
    assert limits(fleet) == {"CP2": LIMIT - SAFE}  # a car may start on CP1 at 6 A, whatever the CSMS says
    assert len(defaults_sent(fleet, "CP1")) == 3  # not offered again in a loop


def test_a_station_keeps_the_variant_it_accepted_for_its_later_profiles(services, fleet, stream, site, clock, id_tags):
    services.station_config.merge_configuration(
        "CP1", {"ChargeProfileMaxStackLevel": ConfigurationValue(value="5", readonly=True)}, [], at=clock.now()
    )
    fleet.rejecting["CP1"] = 1  # it takes level 0 only
    redefine(services, clock, site)
    stream.drain(fleet)
    assert [level for level, _, _ in defaults_sent(fleet, "CP1")] == [5, 0]
    id_tags("A")
    start(services, fleet, "CP1", id_tag="A", minute=0)
    stream.drain(fleet)
    tx = [p["csChargingProfiles"]["stackLevel"] for p in fleet.received if p["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"]
    assert tx == [0]  # no round trip spent on level 5 again


def test_a_member_whose_smart_charging_configuration_is_unknown_is_asked_for_it_when_it_comes_back(
    services, fleet, stream, site, clock, id_tags
):
    fleet.configuration["CP1"] = {"ChargeProfileMaxStackLevel": "3", "ChargingScheduleAllowedChargingRateUnit": "Current,Power"}
    open_connection(connect_event("conn-CP1", charge_point_id="CP1"), services)
    stream.drain(fleet)
    asked = [payload for cp, action, payload in fleet.calls if action == "GetConfiguration"]
    assert asked == [{"key": ["ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit"]}]
    id_tags("A")
    start(services, fleet, "CP1", id_tag="A", minute=0)
    stream.drain(fleet)
    tx = [p["csChargingProfiles"]["stackLevel"] for p in fleet.received if p["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"]
    assert tx == [3]

    Station(services, "CP1", connection_id="conn-CP1").result("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "S"})
    stream.drain(fleet)
    assert len([action for _, action, _ in fleet.calls if action == "GetConfiguration"]) == 1  # known now: not asked again
    assert defaults_sent(fleet, "CP1")[-1] == (3, "A", 6.0)  # its reboot may have lost its default: sent again


# --- a station leaving the site ----------------------------------------------------------------------


def test_a_station_leaving_the_site_is_cleared_of_our_profiles_and_the_others_share_without_it(
    services, fleet, stream, site, clock, id_tags
):
    for tag in ("A", "B", "C", "D"):
        id_tags(tag)
    table_site = redefine(services, clock, site, max_current_a=Decimal(12))  # two sessions' minimums
    start(services, fleet, "CP1", id_tag="A", minute=0)
    start(services, fleet, "CP2", id_tag="B", minute=1)
    start(services, fleet, "CP3", id_tag="C", minute=2)
    stream.drain(fleet)
    assert limits(fleet) == {"CP1": Decimal(6), "CP2": Decimal(6), "CP3": Decimal(0)}  # CP3 paused

    redefine(services, clock, table_site, charge_point_ids=("CP1", "CP2"))
    stream.drain(fleet)
    cleared = [payload["id"] for cp, action, payload in fleet.calls if action == "ClearChargingProfile" and cp == "CP3"]
    assert cleared == [TX_PROFILE_ID_BASE, TX_PROFILE_ID_BASE + 1]  # its default, and its paused session's 0 A
    assert ("CP3", 1) not in fleet.accepted and "CP3" not in fleet.defaults

    services.sites.delete("depot", now=clock.now())
    FollowUps(services.table).put(run_item("depot", "DELETED#2", now=clock.now()))
    stream.drain(fleet)
    cleared = sorted((cp, payload["id"]) for cp, action, payload in fleet.calls if action == "ClearChargingProfile" and cp != "CP3")
    assert cleared == [(cp, TX_PROFILE_ID_BASE + n) for cp in ("CP1", "CP2") for n in (0, 1)]
    assert fleet.defaults == {} and fleet.accepted == {}
    assert services.load_control.get("depot").version == 0


def test_a_station_another_site_claimed_meanwhile_is_left_to_that_site(services, fleet, stream, site, clock):
    stream.drain(fleet)
    redefine(services, clock, site)
    stream.drain(fleet)
    assert "CP3" in fleet.defaults
    redefine(services, clock, site, charge_point_ids=("CP1", "CP2"))
    services.sites.put(Site(site_id="other", name="Other", max_current_a=LIMIT, phases=3, voltage_v=Decimal(230), charge_point_ids=("CP3",)), now=clock.now())
    stream.drain(fleet)  # depot's run finds CP3 in another site: its profiles are that site's to set
    assert not [call for call in fleet.calls if call[1] == "ClearChargingProfile"]
