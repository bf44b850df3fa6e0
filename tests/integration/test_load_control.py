"""Load control against emulated DynamoDB (issue 11 §4): the station path writes a run, the stream runs it, the
outbox carries the TxProfiles, decreases first; stations that follow their profiles never take the site above its
limit, even between two commands; runs that overlap never apply conflicting allocations."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from csms.adapters.dynamodb.keys import LOAD_CONTROL_RUN_PREFIX, SITE_PREFIX, station_key
from csms.adapters.dynamodb.load_control import LoadControlRepository, StaleControl
from csms.changes.reactions import REACTIONS
from csms.changes.stream import Change, handle_records
from csms.commands import service
from csms.domain.load_control import SiteControl
from csms.domain.sites import Site
from csms.energy import control
from csms.energy.stream import stopped
from csms.ocpp.frames import CallError, CallResult
from tests.fakes.stream import stream_record
from tests.integration.stations import Station

LIMIT = Decimal(32)
SAFE = Decimal(6)
STATIONS = ("CP1", "CP2", "CP3")


class Fleet:
    """Stations that receive their CALLs (the @connections API), answer them as told and draw what the profiles they
    accepted allow (a session with no TxProfile yet: its TxDefaultProfile, the site's safe current)."""

    def __init__(self, services):
        self.services = services
        self.inbox: list[tuple[str, list]] = []
        self.accepted: dict[tuple[str, int], tuple[int, Decimal]] = {}
        self.sessions: dict[tuple[str, int], int] = {}
        self.rejecting: dict[str, int] = {}
        self.erring: dict[str, str] = {}
        self.silent: set[str] = set()
        self.unanswered: list[tuple[str, str, Decimal]] = []
        self.peak = Decimal(0)
        self.received: list[dict[str, Any]] = []

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
            total += accepted[1] if accepted and accepted[0] == transaction_id else SAFE
        return total

    def answer_all(self) -> None:
        """Each station applies what it receives as it receives it (the worst case: before its answer is back)."""
        while self.inbox:
            charge_point_id, (_, message_id, action, payload) = self.inbox.pop(0)
            assert action == "SetChargingProfile"
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
                if profile["chargingProfilePurpose"] == "TxProfile":
                    limit = Decimal(str(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]))
                    self.accepted[(charge_point_id, payload["connectorId"])] = (profile["transactionId"], limit)
            self.peak = max(self.peak, self.draw())
            service.handle_answer(self.services, charge_point_id, CallResult(message_id, {"status": status}))


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
    assert fleet.peak <= LIMIT + 2 * SAFE  # a start draws its safe current before any run: reserved from its start

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
    assert fleet.peak <= max(peak_before, LIMIT + SAFE)


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
    assert sorted(sent.values()) == [("CP1", 1), ("CP2", 1)]  # once each, by the run that stored first
    stored = services.load_control.get("depot")
    assert stored.version == 1  # the other found it done: nothing to change, nothing stored
    assert {sent.command_id for c in stored.controls for sent in c.in_flight} == set(sent)


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
    assert [e["detail"]["reason"] for e in events if e["eventType"] == "AllocationIgnored"] == ["rejected"]


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
