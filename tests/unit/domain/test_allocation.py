"""The allocation of a site's capacity (issue 11 §3): cases worked by hand, then its invariants over thousands of
random sites (a seeded random: the same cases on every run, no new dependency)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from csms.domain.allocation import (
    Bound,
    ChargingSession,
    IdleConnectors,
    SiteAllocation,
    allocate,
    charging_rate_limit,
    rank,
)
from csms.domain.measured_current import LENDING_MARGIN_A, LENDING_MARGIN_RATIO, LENDING_SAMPLES, reading_changes_lending
from csms.domain.sites import Circuit, ConnectorSetting, Site
from csms.ocpp.v16.enums import ChargingRateUnitType

T0 = datetime(2026, 11, 24, 10, tzinfo=UTC)
D = Decimal


def a_site(max_a: str | int = 32, *, stations: Sequence[str] = ("CP1", "CP2", "CP3", "CP4"), **fields) -> Site:
    return Site(
        site_id="depot", name="Depot", max_current_a=D(max_a), phases=fields.pop("phases", 3), voltage_v=D(230),
        charge_point_ids=tuple(stations), **fields,
    )  # fmt: skip


def a_session(charge_point_id: str, connector_id: int = 1, *, priority: int = 0, minute: int = 0, **fields) -> ChargingSession:
    return ChargingSession(
        charge_point_id=charge_point_id, connector_id=connector_id,
        transaction_id=fields.pop("transaction_id", int(charge_point_id.removeprefix("CP")) * 10 + connector_id),
        priority=priority, arrived_at=T0 + timedelta(minutes=minute), **fields,
    )  # fmt: skip


def currents(result: SiteAllocation) -> dict[str, Decimal]:
    """`CP1` for connector 1, `CP1/2` for another."""
    return {
        (a.charge_point_id if a.connector_id == 1 else f"{a.charge_point_id}/{a.connector_id}"): a.current_a
        for a in result.allocations
    }


def bounds(result: SiteAllocation) -> dict[str, str]:
    return {a.charge_point_id: a.bound + (f":{a.circuit_id}" if a.circuit_id else "") for a in result.allocations}


# --- by hand -------------------------------------------------------------------------------------------


def test_sessions_that_all_fit_share_the_site_equally():
    result = allocate(a_site(32), [a_session("CP1"), a_session("CP2", minute=1)])
    assert currents(result) == {"CP1": D(16), "CP2": D(16)}
    assert bounds(result) == {"CP1": "site", "CP2": "site"}


def test_a_lone_session_gets_the_whole_site_unless_its_connector_takes_less():
    assert currents(allocate(a_site(32), [a_session("CP1")])) == {"CP1": D(32)}
    site = a_site(32, connectors=(ConnectorSetting(charge_point_id="CP1", connector_id=1, max_current_a=D(16)),))
    result = allocate(site, [a_session("CP1")])
    assert currents(result) == {"CP1": D(16)} and bounds(result) == {"CP1": "connector"}


def test_what_a_capped_connector_cannot_take_goes_to_the_others():
    site = a_site(32, connectors=(ConnectorSetting(charge_point_id="CP1", connector_id=1, max_current_a=D(10)),))
    assert currents(allocate(site, [a_session("CP1"), a_session("CP2")])) == {"CP1": D(10), "CP2": D(22)}


def test_when_the_minimums_do_not_fit_the_latest_arrival_of_the_lowest_priority_is_paused():
    sessions = [a_session("CP1", minute=0), a_session("CP2", minute=5), a_session("CP3", minute=9), a_session("CP4", priority=1, minute=20)]
    result = allocate(a_site(20), sessions)
    assert currents(result) == {"CP1": D(6), "CP2": D(6), "CP3": D(0), "CP4": D(8)}
    paused = _by_key(result)[("CP3", 1)]
    assert paused.paused and paused.bound is Bound.SITE


def test_none_fit_when_the_site_is_below_two_minimums():
    result = allocate(a_site("11.9"), [a_session("CP1", minute=1), a_session("CP2", minute=0)])
    assert currents(result) == {"CP1": D(0), "CP2": D("11.9")}


def test_a_higher_priority_class_is_served_first_up_to_what_it_can_take():
    result = allocate(a_site(32), [a_session("CP1", priority=5), a_session("CP2"), a_session("CP3")])
    assert currents(result) == {"CP1": D(20), "CP2": D(6), "CP3": D(6)}
    site = a_site(32, connectors=(ConnectorSetting(charge_point_id="CP1", connector_id=1, max_current_a=D(16)),))
    assert currents(allocate(site, [a_session("CP1", priority=5), a_session("CP2"), a_session("CP3")])) == {
        "CP1": D(16), "CP2": D(8), "CP3": D(8)
    }


def test_arrival_never_changes_a_share_within_a_class():
    early_late = allocate(a_site(32), [a_session("CP1", minute=0), a_session("CP2", minute=30), a_session("CP3", minute=60)])
    late_early = allocate(a_site(32), [a_session("CP1", minute=60), a_session("CP2", minute=30), a_session("CP3", minute=0)])
    assert currents(early_late) == currents(late_early) == {"CP1": D("10.6"), "CP2": D("10.6"), "CP3": D("10.6")}


def test_limits_are_rounded_down_to_a_tenth_and_their_sum_stays_within_the_site():
    result = allocate(a_site(32), [a_session(cp) for cp in ("CP1", "CP2", "CP3")])
    assert set(currents(result).values()) == {D("10.6")}  # 32 / 3 = 10.666...
    assert result.total_current_a == D("31.8") <= 32
    assert currents(allocate(a_site("10.05"), [a_session("CP1")])) == {"CP1": D("10.0")}


def test_a_classs_remainder_below_a_tenth_each_is_not_given_to_a_lower_class():
    # 4 x 6 A admitted, 0.2 A left for three priority-5 sessions: they cannot all get another 0.1 A, and the
    # priority-0 session must not rise above them with it.
    sessions = [a_session("CP1", priority=5), a_session("CP2", priority=5), a_session("CP3", priority=5), a_session("CP4")]
    assert currents(allocate(a_site("24.2"), sessions)) == {"CP1": D(6), "CP2": D(6), "CP3": D(6), "CP4": D(6)}


def test_a_single_phase_connector_counts_its_current_against_every_phase_of_a_three_phase_site():
    site = a_site(32, connectors=(ConnectorSetting(charge_point_id="CP2", connector_id=1, phases=1),))
    result = allocate(site, [a_session("CP1"), a_session("CP2")])
    assert currents(result) == {"CP1": D(16), "CP2": D(16)}  # the car on CP2 may be on the same phase as CP1's
    assert [(a.charge_point_id, a.phases) for a in result.allocations] == [("CP1", 3), ("CP2", 1)]


def test_a_station_setting_on_connector_zero_gives_its_connectors_their_phases_and_a_shared_maximum():
    site = a_site(63, connectors=(ConnectorSetting(charge_point_id="CP1", connector_id=0, max_current_a=D(16), phases=1),))
    result = allocate(site, [a_session("CP1", 1), a_session("CP1", 2), a_session("CP2")])
    assert currents(result) == {"CP1": D(8), "CP1/2": D(8), "CP2": D(47)}
    assert [(a.bound, a.phases) for a in result.allocations] == [(Bound.STATION, 1), (Bound.STATION, 1), (Bound.SITE, 3)]


def test_a_circuits_limit_applies_within_the_sites():
    site = a_site(40, circuits=(Circuit(circuit_id="C1", max_current_a=D(16), charge_point_ids=("CP1", "CP2")),))
    result = allocate(site, [a_session("CP1"), a_session("CP2"), a_session("CP3")])
    assert currents(result) == {"CP1": D(8), "CP2": D(8), "CP3": D(24)}
    assert bounds(result) == {"CP1": "circuit:C1", "CP2": "circuit:C1", "CP3": "site"}


def test_a_full_circuit_pauses_its_own_latest_session_not_one_elsewhere():
    site = a_site(40, circuits=(Circuit(circuit_id="C1", max_current_a=D(10), charge_point_ids=("CP1", "CP2")),))
    result = allocate(site, [a_session("CP1", minute=0), a_session("CP2", minute=1, priority=3), a_session("CP3", minute=2)])
    assert currents(result) == {"CP1": D(0), "CP2": D(10), "CP3": D(30)}
    assert bounds(result)["CP1"] == "circuit:C1"


def test_capacity_a_car_visibly_does_not_use_is_lent_to_the_others_keeping_a_margin():
    measured = (D("7.9"), D(8), D("8.1"))
    result = allocate(a_site(32), [a_session("CP1", allocated_current_a=D(16), measured_current_a=measured), a_session("CP2")])
    assert currents(result) == {"CP1": D("10.1"), "CP2": D("21.9")}  # 8.1 A + 2 A kept
    assert bounds(result)["CP1"] == "measured"


def test_a_large_draw_keeps_ten_percent_above_it():
    measured = (D(20), D(20), D(20))
    result = allocate(a_site(63), [a_session("CP1", allocated_current_a=D(32), measured_current_a=measured), a_session("CP2")])
    assert currents(result) == {"CP1": D(22), "CP2": D(41)}


@pytest.mark.parametrize(
    "measured",
    [
        pytest.param((D(8), D(8)), id="fewer samples than LENDING_SAMPLES"),
        pytest.param((D(8), D("14.5"), D(8)), id="one sample close to the allocation"),
        pytest.param((D(15), D(15), D(15)), id="using it"),
    ],
)
def test_nothing_is_lent_unless_every_recent_sample_is_well_below_the_allocation(measured):
    sessions = [a_session("CP1", allocated_current_a=D(16), measured_current_a=measured), a_session("CP2")]
    assert currents(allocate(a_site(32), sessions)) == {"CP1": D(16), "CP2": D(16)}


def test_only_the_latest_samples_count_for_lending():
    old_then_low = (D(16), D(16), *[D(3)] * LENDING_SAMPLES)
    sessions = [a_session("CP1", allocated_current_a=D(16), measured_current_a=old_then_low), a_session("CP2")]
    assert currents(allocate(a_site(32), sessions)) == {"CP1": D(6), "CP2": D(26)}


def test_a_car_that_draws_nothing_keeps_the_minimum_so_it_is_not_paused():
    sessions = [a_session("CP1", allocated_current_a=D(16), measured_current_a=(D(0),) * 3), a_session("CP2")]
    assert currents(allocate(a_site(32), sessions)) == {"CP1": D(6), "CP2": D(26)}


def test_a_high_priority_car_that_takes_little_lends_to_the_lower_class():
    lender = a_session("CP1", priority=9, allocated_current_a=D(26), measured_current_a=(D(10),) * 3)
    assert currents(allocate(a_site(32), [lender, a_session("CP2")])) == {"CP1": D(12), "CP2": D(20)}


def test_a_station_that_ignores_its_limit_keeps_it_and_its_draw_is_taken_from_the_others():
    rogue = a_session("CP1", allocated_current_a=D(10), measured_current_a=(D(20), D(20), D(20)), ignores_limit=True)
    result = allocate(a_site(32), [rogue, a_session("CP2")])
    assert currents(result) == {"CP1": D(10), "CP2": D(12)}
    assert bounds(result) == {"CP1": "ignored", "CP2": "site"}
    crowded = allocate(a_site(32), [rogue, a_session("CP2"), a_session("CP3", minute=1)])
    assert currents(crowded) == {"CP1": D(10), "CP2": D(6), "CP3": D(6)}
    assert currents(allocate(a_site(32), [rogue, a_session("CP2"), a_session("CP3"), a_session("CP4", minute=1)]))["CP4"] == 0


def test_a_session_whose_station_is_not_connected_counts_at_what_it_may_draw_until_it_is_back():
    away = a_session("CP1", allocated_current_a=D(20), unreachable=True)
    result = allocate(a_site(32), [away, a_session("CP2"), a_session("CP3")])
    assert currents(result) == {"CP1": D(20), "CP2": D(6), "CP3": D(6)}  # not the 10.6 each it would share
    assert bounds(result)["CP1"] == "unreachable"


def defaults(result: SiteAllocation) -> dict[str, Decimal]:
    return {default.charge_point_id: default.current_a for default in result.defaults}


def idle(charge_point_id: str, count: int = 1, fixed_a: str | None = None) -> IdleConnectors:
    return IdleConnectors(charge_point_id=charge_point_id, count=count, fixed_a=D(fixed_a) if fixed_a is not None else None)


def test_idle_connectors_keep_the_safe_current_while_the_sessions_leave_room_for_it():
    site = a_site(32, safe_current_a=D(6), connectors=(ConnectorSetting(charge_point_id="CP1", connector_id=1, max_current_a=D(16)),))
    result = allocate(site, [a_session("CP1")], [idle("CP1", 0), idle("CP2"), idle("CP3", 2), idle("CP4")])
    assert currents(result) == {"CP1": D(16)}  # the sessions' shares come first: nothing is held back from them
    # 16 A left: CP2's 6 A fit, CP3's two connectors (12 A) no longer do, CP4's do. CP1 has no idle connector.
    assert defaults(result) == {"CP1": D(6), "CP2": D(6), "CP3": D(0), "CP4": D(6)}
    assert defaults(allocate(site, [], [idle("CP2"), idle("CP3", 2), idle("CP4")])) == {"CP2": D(6), "CP3": D(6), "CP4": D(6)}


def test_a_site_its_sessions_take_whole_gives_idle_connectors_a_default_of_0():
    result = allocate(a_site(32, safe_current_a=D(6)), [a_session("CP1")], [idle("CP1", 0), idle("CP2")])
    assert (currents(result), defaults(result)) == ({"CP1": D(32)}, {"CP1": D(6), "CP2": D(0)})
    assert defaults(allocate(a_site(32, safe_current_a=D(0)), [], [idle("CP2")])) == {"CP2": D(0)}


def test_a_paused_session_needs_room_for_the_default_it_would_get_once_it_stops():
    sessions = [a_session(cp, minute=n) for n, cp in enumerate(("CP1", "CP2", "CP3", "CP4"))]
    result = allocate(a_site("20.5", safe_current_a=D(6)), sessions, [idle(cp, 0) for cp in ("CP1", "CP2", "CP3", "CP4")])
    assert currents(result)["CP4"] == 0
    assert defaults(result) == {"CP1": D(6), "CP2": D(6), "CP3": D(6), "CP4": D(0)}


def test_idle_connectors_of_a_station_the_csms_cannot_steer_count_at_their_default():
    result = allocate(a_site(32, safe_current_a=D(6)), [a_session("CP1"), a_session("CP2")], [idle("CP3", 2, "6")])
    assert currents(result) == {"CP1": D(10), "CP2": D(10)}
    assert defaults(result) == {}  # not the allocation's to set


@pytest.mark.parametrize(
    ("current", "unit", "phases", "expected"),
    [
        (D("10.6"), ChargingRateUnitType.AMPERE, 3, D("10.6")),
        (D("10.6"), ChargingRateUnitType.WATT, 3, D("7314.0")),
        (D(16), ChargingRateUnitType.WATT, 1, D(3680)),
        (D(0), ChargingRateUnitType.WATT, 3, D(0)),
    ],
)
def test_a_limit_in_w_is_amperes_times_volts_times_the_sessions_phases(current, unit, phases, expected):
    assert charging_rate_limit(current, unit, voltage_v=D(230), phases=phases) == expected


def test_a_limit_in_w_is_rounded_down_to_a_tenth():
    assert charging_rate_limit(D("6.1"), ChargingRateUnitType.WATT, voltage_v=D("231.3"), phases=1) == D("1410.9")  # 1410.93


def test_the_priority_bound_to_a_session_orders_it_before_its_arrival():
    assert sorted([a_session("CP1", minute=0), a_session("CP2", minute=9, priority=1)], key=rank)[0].charge_point_id == "CP2"


# --- invariants over random sites ----------------------------------------------------------------------


def _tenth(rng: random.Random, low: int, high: int) -> Decimal:
    return D(rng.randint(low * 10, high * 10)) / 10


def random_case(rng: random.Random) -> tuple[Site, list[ChargingSession], list[IdleConnectors]]:
    stations = [f"CP{n}" for n in range(1, rng.randint(1, 9))]
    phases = rng.choice((1, 3))
    circuits = []
    free = stations[:]
    rng.shuffle(free)
    for index in range(rng.randint(0, 3)):
        members, free = free[: rng.randint(1, 3)], free[3:]
        if members:
            circuits.append(Circuit(circuit_id=f"C{index}", max_current_a=_tenth(rng, 6, 60), charge_point_ids=tuple(members)))
    settings = []
    for station in stations:
        if rng.random() < 0.3:
            settings.append(
                ConnectorSetting(charge_point_id=station, connector_id=0, max_current_a=_tenth(rng, 6, 40), phases=rng.choice((1, phases)))
            )
        if rng.random() < 0.3:
            settings.append(ConnectorSetting(charge_point_id=station, connector_id=1, max_current_a=_tenth(rng, 6, 32)))
    site = Site(
        site_id="s", name="s", max_current_a=_tenth(rng, 6, 120), phases=phases, voltage_v=D(230),
        charge_point_ids=tuple(stations), circuits=tuple(circuits), connectors=tuple(settings), version=3,
        safe_current_a=rng.choice((D(0), D(6), D(6), D("8.5"))),
    )  # fmt: skip
    sessions = []
    transaction_id = 0
    for station in stations:
        for connector in (1, 2):
            if rng.random() < 0.6:
                transaction_id += 1
                allocated = _tenth(rng, 6, 32) if rng.random() < 0.5 else None
                measured = tuple(_tenth(rng, 0, 34) for _ in range(rng.randint(0, 4))) if allocated else ()
                ignores = allocated is not None and rng.random() < 0.1
                unreachable = allocated is not None and not ignores and rng.random() < 0.08
                sessions.append(
                    ChargingSession(
                        charge_point_id=station, connector_id=connector, transaction_id=transaction_id,
                        priority=rng.randint(-2, 2), arrived_at=T0 + timedelta(minutes=rng.randint(0, 5)),
                        allocated_current_a=allocated, measured_current_a=() if unreachable else measured,
                        ignores_limit=ignores, unreachable=unreachable,
                    )
                )  # fmt: skip
    idle = [
        IdleConnectors(
            charge_point_id=station, count=rng.randint(0, 2), fixed_a=_tenth(rng, 0, 8) if rng.random() < 0.15 else None
        )
        for station in stations
        if rng.random() < 0.8
    ]
    return site, sessions, idle


def unsteerable(session: ChargingSession) -> bool:
    return session.ignores_limit or session.unreachable


def drawn(session: ChargingSession) -> Decimal:
    """What a session the allocation cannot steer draws: the larger of its samples and its limit."""
    return max((*session.measured_current_a[-LENDING_SAMPLES:], session.allocated_current_a or D(0)))


def reserved(site: Site, sessions: list[ChargingSession], idle: list[IdleConnectors], result: SiteAllocation) -> dict[str, Decimal]:
    """What each station's idle connectors take of its limits: a fixed draw each, or its default each, plus the room
    its default needs on the connectors of its sessions allowed less (rule 5)."""
    allocated = _by_key(result)
    defaults = {default.charge_point_id: default.current_a for default in result.defaults}
    taken = {}
    for station in idle:
        if station.fixed_a is not None:
            taken[station.charge_point_id] = station.fixed_a * station.count
            continue
        default = defaults[station.charge_point_id]
        short = sum(
            max(D(0), default - allocated[key(s)].current_a)
            for s in sessions
            if s.charge_point_id == station.charge_point_id and not unsteerable(s)
        )
        taken[station.charge_point_id] = default * station.count + short if default else D(0)
    return taken


def limits_of(site: Site, session: ChargingSession) -> list[tuple[str, Decimal]]:
    """The limits a session is under, innermost first, as (name, amperes)."""
    found = []
    station_max = site.station_max_current_a(session.charge_point_id)
    if station_max is not None:
        found.append((f"station:{session.charge_point_id}", station_max))
    circuit = site.circuit_of(session.charge_point_id)
    if circuit is not None:
        found.append((f"circuit:{circuit.circuit_id}", circuit.max_current_a))
    found.append(("site", site.max_current_a))
    return found


def holder(site: Site, session: ChargingSession, allocation) -> str | None:
    if allocation.bound is Bound.STATION:
        return f"station:{session.charge_point_id}"
    if allocation.bound is Bound.CIRCUIT:
        return f"circuit:{allocation.circuit_id}"
    return "site" if allocation.bound is Bound.SITE else None


CASES = 3000


@pytest.fixture(scope="module")
def cases() -> list[tuple[Site, list[ChargingSession], list[IdleConnectors], SiteAllocation]]:
    rng = random.Random(11)
    generated = [random_case(rng) for _ in range(CASES)]
    return [(site, sessions, idle, allocate(site, sessions, idle)) for site, sessions, idle in generated]


def key(session: ChargingSession) -> tuple[str, int]:
    return (session.charge_point_id, session.connector_id)


def _by_key(result: SiteAllocation):
    return {(a.charge_point_id, a.connector_id): a for a in result.allocations}


def test_no_limit_is_ever_exceeded_on_any_phase_not_even_by_cars_starting_on_idle_connectors(cases):
    for site, sessions, idle, result in cases:
        allocated = _by_key(result)
        used: dict[str, Decimal] = {}
        limit_of: dict[str, Decimal] = {}
        controlled_used: dict[str, Decimal] = {}
        for session in sessions:
            draw = drawn(session) if unsteerable(session) else allocated[key(session)].current_a
            for name, limit in limits_of(site, session):
                used[name] = used.get(name, D(0)) + draw
                limit_of[name] = limit
                if not unsteerable(session):
                    controlled_used[name] = controlled_used.get(name, D(0)) + draw
        fixed = {station.charge_point_id for station in idle if station.fixed_a is not None}
        for charge_point_id, taken in reserved(site, sessions, idle, result).items():
            for name, limit in limits_of(site, a_session(charge_point_id)):
                used[name] = used.get(name, D(0)) + taken
                limit_of[name] = limit
                if charge_point_id not in fixed:
                    controlled_used[name] = controlled_used.get(name, D(0)) + taken
        for name, total in used.items():
            # What the CSMS cannot steer may overdraw a limit alone; the others then get nothing under it.
            assert total <= limit_of[name] or controlled_used.get(name, 0) == 0, (site, sessions, idle, result)


def test_a_default_is_the_safe_current_or_0_and_0_only_for_want_of_room(cases):
    for site, _, idle, result in cases:
        defaults = {default.charge_point_id: default.current_a for default in result.defaults}
        assert set(defaults) == {station.charge_point_id for station in idle if station.fixed_a is None}
        assert set(defaults.values()) <= {D(0), site.safe_current_a.quantize(D("0.1"), rounding="ROUND_FLOOR")}
    alone = [(site, idle[0], result) for site, sessions, idle, result in cases if not sessions and len(idle) == 1]
    alone = [(site, station, result) for site, station, result in alone if station.fixed_a is None]
    assert len(alone) > 10
    for site, station, result in alone:
        ((default),) = result.defaults
        # One idle station on an empty site: the safe current on each of its connectors, if that fits every limit.
        need = site.safe_current_a.quantize(D("0.1"), rounding="ROUND_FLOOR") * station.count
        fits = all(limit.quantize(D("0.1"), rounding="ROUND_FLOOR") >= need for _, limit in limits_of(site, a_session(station.charge_point_id)))
        assert default.current_a == (site.safe_current_a.quantize(D("0.1"), rounding="ROUND_FLOOR") if fits else 0), (site, station, result)


def test_nobody_gets_between_0_and_6_a_nor_above_its_connector_nor_more_than_one_decimal(cases):
    for site, sessions, _, result in cases:
        for session in sessions:
            allocation = _by_key(result)[key(session)]
            current = allocation.current_a
            assert current == current.quantize(D("0.1"))
            if unsteerable(session):
                assert current == session.allocated_current_a.quantize(D("0.1"), rounding="ROUND_FLOOR")
                continue
            assert current == 0 or current >= 6, (site, sessions, result)
            connector_max = site.connector_max_current_a(session.charge_point_id, session.connector_id)
            assert connector_max is None or current <= connector_max
            if allocation.bound is Bound.MEASURED:  # a lender keeps what it draws plus the margin
                peak = max(session.measured_current_a[-LENDING_SAMPLES:])
                assert current >= peak + max(LENDING_MARGIN_A, peak * LENDING_MARGIN_RATIO)


def test_higher_priority_never_gets_less_unless_held_by_its_own_cap_or_a_limit_the_other_is_not_under(cases):
    for site, sessions, _, result in cases:
        allocated = _by_key(result)
        steered = [s for s in sessions if not unsteerable(s)]
        for high in steered:
            for low in steered:
                a_high, a_low = allocated[key(high)], allocated[key(low)]
                if high.priority <= low.priority or a_low.paused:
                    continue
                if a_high.current_a >= a_low.current_a or a_high.bound in (Bound.CONNECTOR, Bound.MEASURED):
                    continue
                held = holder(site, high, a_high)
                assert held not in dict(limits_of(site, low)), (site, sessions, result, high, low)


def test_a_session_is_paused_only_when_every_session_charging_under_the_full_limit_ranks_before_it(cases):
    for site, sessions, _, result in cases:
        allocated = _by_key(result)
        for paused in sessions:
            allocation = allocated[key(paused)]
            if unsteerable(paused) or not allocation.paused:
                continue
            held = holder(site, paused, allocation)
            assert held is not None
            for other in sessions:
                if unsteerable(other) or allocated[key(other)].paused or held not in dict(limits_of(site, other)):
                    continue
                assert rank(other) < rank(paused), (site, sessions, result)


def test_capacity_is_left_unused_only_as_remainders_below_a_tenth_per_session(cases):
    for site, sessions, idle, result in cases:
        allocated = _by_key(result)
        for session in sessions:
            allocation = allocated[key(session)]
            held = holder(site, session, allocation)
            if unsteerable(session) or allocation.paused or held is None:
                continue
            under = [s for s in sessions if held in dict(limits_of(site, s))]
            draws = sum((drawn(s) if unsteerable(s) else allocated[key(s)].current_a for s in under), D(0))
            draws += sum(
                (
                    taken
                    for charge_point_id, taken in reserved(site, sessions, idle, result).items()
                    if held in dict(limits_of(site, a_session(charge_point_id)))
                ),
                D(0),
            )
            limit = dict(limits_of(site, session))[held]
            assert limit - draws < D("0.1") * len(under) + D("0.1"), (site, sessions, result)


def test_the_same_input_in_any_order_gives_the_same_allocation(cases):
    rng = random.Random(7)
    for site, sessions, idle, result in cases[:500]:
        shuffled, idle_shuffled = sessions[:], idle[:]
        rng.shuffle(shuffled)
        rng.shuffle(idle_shuffled)
        assert allocate(site, shuffled, idle_shuffled) == result


def test_arrival_order_only_breaks_ties_when_nobody_is_paused(cases):
    rng = random.Random(5)
    for site, sessions, idle, result in cases:
        if any(a.paused for a in result.allocations):
            continue
        moved = [replace(s, arrived_at=T0 + timedelta(minutes=rng.randint(0, 600))) for s in sessions]
        assert currents_by_key(allocate(site, moved, idle)) == currents_by_key(result)


def currents_by_key(result: SiteAllocation) -> dict[tuple[str, int], Decimal]:
    return {(a.charge_point_id, a.connector_id): a.current_a for a in result.allocations}


def test_the_cases_cover_what_the_invariants_are_about(cases):
    seen = {allocation.bound for _, _, _, result in cases for allocation in result.allocations}
    assert seen == set(Bound)
    assert sum(any(a.paused for a in result.allocations) for _, _, _, result in cases) > CASES // 10
    defaults = [default.current_a for _, _, _, result in cases for default in result.defaults]
    assert sum(d == 0 for d in defaults) > CASES // 10 and sum(d > 0 for d in defaults) > CASES // 10


def _lender(*samples: str, lending: bool = True) -> ChargingSession:
    return a_session("CP1", allocated_current_a=D(12), measured_current_a=tuple(D(s) for s in samples), lending=lending)


@pytest.mark.parametrize(
    ("lender", "expected"),
    [
        pytest.param(_lender("10", "10", "10"), {"CP1": D(12), "CP2": D(20)}, id="the same samples: the same allocation"),
        pytest.param(_lender("10", "10.4", "10.9"), {"CP1": D(12), "CP2": D(20)}, id="noise within half the margin"),
        pytest.param(_lender("10", "10", "11.1"), {"CP1": D(16), "CP2": D(16)}, id="a climb into the margin: share back"),
        pytest.param(_lender("7", "7", "7"), {"CP1": D(9), "CP2": D(23)}, id="a lower draw lends more"),
        pytest.param(_lender("10", "10", "10", lending=False), {"CP1": D(16), "CP2": D(16)}, id="not lending: drawing its limit's margin uses it"),
    ],
)
def test_a_lender_goes_on_lending_until_its_draw_climbs_into_its_margin(lender, expected):
    result = allocate(a_site(32), [lender, a_session("CP2")])
    assert currents(result) == expected
    assert (bounds(result)["CP1"] == "measured") is (expected["CP1"] < 16)


@pytest.mark.parametrize(
    ("allocated", "lending", "before", "sample", "changes"),
    [
        pytest.param("16", False, ("8", "8"), "8", True, id="the third low sample: it starts lending"),
        pytest.param("16", False, ("8", "8", "8"), "8", False, id="still low: told once"),
        pytest.param("16", False, ("15", "15"), "15", False, id="using its limit"),
        pytest.param("16", False, ("8", "8"), "14", False, id="one sample near its limit"),
        pytest.param("10", True, ("8", "8", "8"), "8.9", False, id="a lender within its dead band"),
        pytest.param("10", True, ("8", "8", "8"), "9.2", True, id="a lender climbing: share back"),
        pytest.param("10", True, ("8", "6", "6"), "6", True, id="a lender drawing less: lends more"),
        pytest.param("10", True, (), "8", False, id="a lender's first sample under its lent limit"),
        pytest.param("10", True, (), "9.2", True, id="a lender's first sample climbing: share back at once"),
        pytest.param("10", True, (), "5", False, id="lending more waits for three samples"),
    ],
)
def test_a_reading_asks_for_an_allocation_only_when_it_changes_what_the_session_lends(allocated, lending, before, sample, changes):
    samples = tuple(D(s) for s in before)
    after = (*samples, D(sample))
    assert reading_changes_lending(D(allocated), lending=lending, before=samples, after=after) is changes
