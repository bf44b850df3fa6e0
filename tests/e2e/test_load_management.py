"""Load management end to end (issue 11 §4, §6): `ocpp` charge points share a site; their starts get TxProfiles that
keep the site within its limit at every moment (decreases accepted before increases go out, and idle connectors'
TxDefaultProfiles lowered to 0 while the sessions use the room), a higher priority gets more, a start that does not
fit is paused, a stop gives its share back, and a station that rejects every profile is flagged (AllocationIgnored)
while the others are cut to make room for its draw."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from csms.adapters.dynamodb.keys import transaction_key
from csms.events.catalog import EventType, schema
from tests.e2e.conftest import eventually, table
from tests.e2e.operator_client import OperatorApi

pytestmark = pytest.mark.e2e

LIMIT = Decimal(16)


class Site:
    """What the site's stations draw: each session what its accepted TxProfile allows, else its TxDefaultProfile's
    limit; the peak is checked whenever a station applies a profile or starts a session."""

    def __init__(self) -> None:
        self.stations: dict[str, SharingStation] = {}
        self.peak = Decimal(0)

    def draw(self) -> Decimal:
        return sum((station.draw() for station in self.stations.values()), Decimal(0))

    def observe(self) -> None:
        self.peak = max(self.peak, self.draw())


class SharingStation(ChargePoint):
    def __init__(
        self, charge_point_id: str, connection: Any, site: Site, *, rejects: bool = False, unlimited_a: Decimal = Decimal(0)
    ):
        """`unlimited_a`: what its car draws when no profile limits it (the strict scenario's: its full current)."""
        super().__init__(charge_point_id, connection)
        self.site = site
        self.rejects = rejects
        self.unlimited_a = unlimited_a
        self.transaction_id: int | None = None
        self.default_limit: Decimal | None = None
        self.tx_limits: dict[int, Decimal] = {}
        self.offered: list[dict[str, Any]] = []
        site.stations[charge_point_id] = self

    def limit(self) -> Decimal | None:
        """The limit it applies to its session now (None: none received)."""
        if self.transaction_id is not None and self.transaction_id in self.tx_limits:
            return self.tx_limits[self.transaction_id]
        return self.default_limit

    def draw(self) -> Decimal:
        if self.transaction_id is None:
            return Decimal(0)
        if self.rejects:
            return Decimal(10)  # it ignores the CSMS: draws what its car takes
        limit = self.limit()
        return self.unlimited_a if limit is None else limit

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any):
        self.offered.append(cs_charging_profiles)
        if self.rejects:
            return call_result.SetChargingProfile(status="Rejected")
        limit = Decimal(str(cs_charging_profiles["charging_schedule"]["charging_schedule_period"][0]["limit"]))
        if cs_charging_profiles["charging_profile_purpose"] == "TxDefaultProfile":
            self.default_limit = limit
        else:
            self.tx_limits[cs_charging_profiles["transaction_id"]] = limit
        self.site.observe()  # applied as it arrives, before its answer leaves
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any):
        return call_result.GetConfiguration(configuration_key=[], unknown_key=key or [])  # nothing to tell: level 0, A

    async def start_session(self, id_tag: str) -> int:
        started = await self.call(
            call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0, timestamp=datetime.now(UTC).isoformat())
        )
        self.transaction_id = started.transaction_id
        self.site.observe()
        return started.transaction_id

    async def stop_session(self) -> None:
        """The car stops drawing, then the station reports the stop: the CSMS may hand its share to the others
        before this call's answer is back (so it draws nothing from the moment it sends it)."""
        transaction_id, self.transaction_id = self.transaction_id, None
        assert transaction_id is not None
        await self.call(call.StopTransaction(meter_stop=100, timestamp=datetime.now(UTC).isoformat(), transaction_id=transaction_id))


async def booted(runtime, api: OperatorApi, site: Site, charge_point_id: str, **options: Any) -> SharingStation:
    socket = await websockets.connect(runtime.station_url(charge_point_id), subprotocols=["ocpp1.6"])
    station = SharingStation(charge_point_id, socket, site, **options)
    asyncio.create_task(station.start())
    boot = await station.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Shared"))
    assert boot.status == "Accepted"
    return station


async def define(api: OperatorApi, stations: list[str], tags: dict[str, int], **site_fields: Any) -> None:
    for charge_point_id in stations:
        assert (await api.request("PUT", f"/charge-points/{charge_point_id}", {}))[0] == 201
    for id_tag, priority in tags.items():
        assert (await api.request("PUT", f"/id-tags/{id_tag}", {"status": "Accepted", "priority": priority}))[0] == 201
    site = {"name": "Depot", "maxCurrentA": LIMIT, "phases": 3, "voltageV": 230, "safeCurrentA": 0, "chargePoints": stations}
    site = {name: value for name, value in (site | site_fields).items() if value is not None}  # None: left out
    status, body = await api.request("PUT", "/sites/depot", json.loads(json.dumps(site, default=float)))
    assert status == 201, body


def events_of(events_file, event_type: EventType) -> list[dict[str, Any]]:
    lines = events_file.read_text().splitlines() if events_file.exists() else []
    return [event for event in map(json.loads, lines) if event["detail-type"] == event_type]


def test_starts_share_the_site_by_priority_within_its_limit_and_a_stop_gives_back(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        await define(api, ["CP1", "CP2", "CP3"], {"VISITOR": 0, "FLEET7": 5, "LATE": 0})
        site = Site()
        cp1, cp2, cp3 = [await booted(runtime, api, site, cp) for cp in ("CP1", "CP2", "CP3")]
        # At boot each station is told the site's safe current (0 here: a session starts paused until its profile).
        await eventually(lambda: all(s.default_limit == 0 for s in (cp1, cp2, cp3)))

        await cp1.start_session("VISITOR")
        await eventually(lambda: cp1.limit() == LIMIT)
        await cp2.start_session("FLEET7")
        await cp3.start_session("LATE")
        # 3 × 6 A do not fit in 16 A: the latest of the lowest priority is paused; the rest goes to priority 5 first.
        await eventually(lambda: (cp1.limit(), cp2.limit(), cp3.limit()) == (Decimal(6), Decimal(10), Decimal(0)), timeout=20)
        assert all(profile["charging_profile_purpose"] == "TxDefaultProfile" or profile["transaction_id"] for profile in cp3.offered)

        await cp2.stop_session()
        await eventually(lambda: (cp1.limit(), cp3.limit()) == (Decimal(8), Decimal(8)), timeout=20)
        await eventually(lambda: any(len(e["detail"]["allocations"]) == 2 for e in events_of(events_file, EventType.ALLOCATION_CHANGED)))
        return site.peak

    peak = run_local(scenario, events_file=events_file)
    assert peak <= LIMIT  # at no moment, not even between two commands
    changed = events_of(events_file, EventType.ALLOCATION_CHANGED)
    assert all(event["source"] == "csms.energy" for event in changed)
    import jsonschema

    for event in changed:
        jsonschema.validate(event, schema(EventType.ALLOCATION_CHANGED))
    assert len({event["detail"]["eventId"] for event in changed}) == len(changed)  # one per version
    last = changed[-1]["detail"]
    assert {(a["chargePointId"], a["allocatedCurrentA"]) for a in last["allocations"]} == {("CP1", 8), ("CP3", 8)}


def test_done_when_a_32_a_site_with_the_default_safe_current_shares_by_priority_pauses_what_cannot_fit_and_never_exceeds(
    run_local, tmp_path
):
    """Issue 11's "Done when", with safeCurrentA left at its default (6 A): cars draw from their StartTransaction on,
    at their station's TxDefaultProfile, and none of it ever takes the site above 32 A per phase."""
    ids = [f"CP{n}" for n in range(1, 7)]

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        tags = {"VISITOR": 0, "FLEET7": 5, "STAFF": 0, "T4": 0, "T5": 0, "T6": 0}
        await define(api, ids, tags, maxCurrentA=32, safeCurrentA=None)  # safeCurrentA left out: its default, 6 A
        site = Site()
        # A car on a station with no profile at all would take its full 32 A: the check counts it so.
        stations = [await booted(runtime, api, site, cp, unlimited_a=Decimal(32)) for cp in ids]
        cp1, cp2, cp3, cp4, cp5, cp6 = stations
        # An empty site has room for 6 A on five of its six idle connectors (36 A do not fit in 32 A).
        await eventually(lambda: [s.default_limit for s in stations] == [6, 6, 6, 6, 6, 0], timeout=20)

        await cp1.start_session("VISITOR")
        # It takes the site once the others' defaults are down to 0: a car arriving there starts paused.
        await eventually(lambda: cp1.limit() == 32 and all(s.default_limit == 0 for s in stations[1:]), timeout=20)
        await cp2.start_session("FLEET7")
        await cp3.start_session("STAFF")
        await eventually(lambda: (cp1.limit(), cp2.limit(), cp3.limit()) == (6, 20, 6), timeout=20)
        limits = [cp1.limit(), cp2.limit(), cp3.limit()]
        assert all(limit is not None and limit >= 6 for limit in limits) and sum(limits) <= 32  # type: ignore[arg-type]
        assert cp2.limit() > cp1.limit()  # type: ignore[operator]  # priority 5 over priority 0

        for station, tag in ((cp4, "T4"), (cp5, "T5"), (cp6, "T6")):
            await station.start_session(tag)
        # 6 × 6 A do not fit in 32 A: the latest of the lowest priority is paused at 0 A, priority 5 keeps the rest.
        await eventually(lambda: [s.limit() for s in stations] == [6, 8, 6, 6, 6, 0], timeout=20)
        assert all(profile["charging_profile_purpose"] == "TxDefaultProfile" or profile["transaction_id"] for profile in cp6.offered)

        await cp1.stop_session()
        await eventually(lambda: [s.limit() for s in stations[1:]] == [8, 6, 6, 6, 6], timeout=20)  # CP6 gets CP1's share
        await cp2.stop_session()
        await eventually(lambda: [s.limit() for s in stations[2:]] == [8, 8, 8, 8], timeout=20)
        return site.peak

    peak = run_local(scenario, events_file=tmp_path / "events.jsonl")
    assert peak <= 32  # from the first StartTransaction on, at every start, stop and profile a station applied


def test_a_station_that_rejects_every_profile_is_flagged_and_the_others_make_room(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        await define(api, ["CP1", "CP2"], {"A": 0, "B": 0})
        site = Site()
        cp1 = await booted(runtime, api, site, "CP1")
        stubborn = await booted(runtime, api, site, "CP2", rejects=True)
        await cp1.start_session("A")
        await eventually(lambda: cp1.limit() == LIMIT)
        await stubborn.start_session("B")
        await eventually(lambda: len(events_of(events_file, EventType.ALLOCATION_IGNORED)) == 2, timeout=20)
        # Its bound (the safe current, 0 here) counts as used: CP1 keeps the site.
        await eventually(lambda: cp1.limit() == LIMIT)
        return stubborn.offered

    offered = run_local(scenario, events_file=events_file)
    def variants(purpose: str) -> list[tuple[int, str]]:
        return [
            (p["stack_level"], p["charging_schedule"]["charging_rate_unit"]) for p in offered if p["charging_profile_purpose"] == purpose
        ]

    # No configuration known of it: stack level 0 in A, then in W (a station whose GetConfiguration is stored is first
    # offered its ChargeProfileMaxStackLevel: tests/unit/domain/test_load_control.py). A variant it rejected is not
    # offered first again: its TxProfile starts in W if its default's rejection in A was known by then.
    assert variants("TxDefaultProfile") == [(0, "A"), (0, "W")]
    assert variants("TxProfile") in ([(0, "A"), (0, "W")], [(0, "W")])
    ignored = events_of(events_file, EventType.ALLOCATION_IGNORED)
    # Its TxDefaultProfile (connector 0) and its session's TxProfile, each refused in every variant: flagged once each.
    assert sorted((e["detail"]["chargePointId"], e["detail"]["connectorId"], e["detail"]["reason"]) for e in ignored) == [
        ("CP2", 0, "rejected"), ("CP2", 1, "rejected")
    ]


async def measured(station: SharingStation, minute: int, amperes: str) -> None:
    await station.call(call.MeterValues(connector_id=1, transaction_id=station.transaction_id, meter_value=[{
        "timestamp": f"2026-11-24T10:{minute:02d}:00Z",
        "sampledValue": [
            {"value": str(1000 * (minute + 1)), "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
            *({"value": amperes, "unit": "A", "measurand": "Current.Import", "phase": phase} for phase in ("L1", "L2", "L3")),
        ],
    }]))  # fmt: skip


async def sharing_at_8_a(runtime, api: OperatorApi) -> tuple[SharingStation, SharingStation]:
    """Two stations of a 16 A site, each in a session at 8 A, the CSMS having recorded the limits they accepted
    (the samples that follow are judged against them: those before were under another)."""
    await define(api, ["CP1", "CP2"], {"A": 0, "B": 0})
    site = Site()
    first, second = await booted(runtime, api, site, "CP1"), await booted(runtime, api, site, "CP2")
    await first.start_session("A")
    await second.start_session("B")
    await eventually(lambda: (first.limit(), second.limit()) == (Decimal(8), Decimal(8)), timeout=20)
    for station in (first, second):
        key = transaction_key(station.transaction_id)
        await eventually(lambda key=key: table().get_item(Key=key)["Item"].get("allocatedA") == 8)
    return first, second


def test_a_station_that_draws_above_its_profile_is_flagged_and_its_draw_counts_as_used(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        cp1, greedy = await sharing_at_8_a(runtime, api)
        for minute in range(3):  # it accepted 8 A and keeps drawing 16 A
            await measured(greedy, minute, "16")
        await eventually(lambda: events_of(events_file, EventType.ALLOCATION_IGNORED), timeout=20)
        # Its 16 A count as used: nothing is left for CP1's 6 A, which is paused.
        await eventually(lambda: cp1.limit() == 0, timeout=20)
        status, view = await api.request("GET", "/sites/depot")
        assert status == 200
        shown = {a["chargePointId"]: (a["allocatedCurrentA"], a["measuredCurrentA"], a["limitedBy"]) for a in view["allocations"]}
        assert shown == {"CP1": (0, None, "site"), "CP2": (8, 16, "ignored")}

    run_local(scenario, events_file=events_file)
    (ignored,) = events_of(events_file, EventType.ALLOCATION_IGNORED)
    assert ignored["detail"] | {"eventId": None, "occurredAt": None} == {
        "eventId": None, "schemaVersion": "1.1", "occurredAt": None, "siteId": "depot", "chargePointId": "CP2",
        "connectorId": 1, "transactionId": ignored["detail"]["transactionId"], "allocatedCurrentA": 8,
        "measuredCurrentA": 16, "reason": "measured",
    }  # fmt: skip


def test_a_car_taking_less_than_its_share_lends_the_rest_until_it_wants_it_back(tmp_path, run_local):
    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        small, big = await sharing_at_8_a(runtime, api)
        for minute in range(3):  # its car takes 3 A of the 8 it may: 3 samples show it is not a dip
            await measured(small, minute, "3")
        # It keeps the minimum (3 A + the 2 A margin is below 6 A), the other car gets the rest.
        await eventually(lambda: (small.limit(), big.limit()) == (Decimal(6), Decimal(10)), timeout=20)
        status, view = await api.request("GET", "/sites/depot")
        assert status == 200
        shown = {a["chargePointId"]: (a["allocatedCurrentA"], a["measuredCurrentA"], a["limitedBy"]) for a in view["allocations"]}
        assert shown == {"CP1": (6, 3, "measured"), "CP2": (10, None, "site")}
        await measured(small, 3, "5.2")  # it climbs into its margin: it wants more
        await eventually(lambda: (small.limit(), big.limit()) == (Decimal(8), Decimal(8)), timeout=20)
        assert small.site.peak <= LIMIT

    run_local(scenario, events_file=tmp_path / "events.jsonl")
