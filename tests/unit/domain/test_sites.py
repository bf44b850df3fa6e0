"""A site's definition: what the schema cannot check, each refusal naming its field; who wins a session's priority."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.domain.priorities import session_priority
from csms.domain.sites import Circuit, ConnectorSetting, MembershipConflict, Site, SiteRejected, validate_site

D = Decimal


def a_site(**fields) -> Site:
    defaults = {
        "site_id": "depot", "name": "Depot", "max_current_a": D(32), "phases": 3, "voltage_v": D(230),
        "charge_point_ids": ("CP1", "CP2", "CP3"),
    }  # fmt: skip
    return Site(**(defaults | fields))


def test_a_well_formed_site_passes():
    validate_site(
        a_site(
            circuits=(Circuit(circuit_id="C1", max_current_a=D(16), charge_point_ids=("CP1", "CP2")),),
            connectors=(ConnectorSetting(charge_point_id="CP3", connector_id=0, max_current_a=D(16), phases=1),),
            safe_current_a=D(0),
        )
    )


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"charge_point_ids": ("CP1", "CP2", "CP1")}, "chargePoints[2]"),
        ({"safe_current_a": D(3)}, "safeCurrentA"),
        ({"safe_current_a": D(40)}, "safeCurrentA"),
        ({"circuits": (Circuit(circuit_id="C1", max_current_a=D(16), charge_point_ids=("CP1", "CP9")),)}, "circuits[0].chargePoints[1]"),
        (
            {"circuits": (Circuit(circuit_id="C1", max_current_a=D(16), charge_point_ids=("CP1",)),) * 2},
            "circuits[1].circuitId",
        ),
        ({"connectors": (ConnectorSetting(charge_point_id="CP9", connector_id=1),)}, "connectors[0].chargePointId"),
        ({"connectors": (ConnectorSetting(charge_point_id="CP1", connector_id=1),) * 2}, "connectors[1].connectorId"),
        ({"phases": 1, "connectors": (ConnectorSetting(charge_point_id="CP1", connector_id=1, phases=3),)}, "connectors[0].phases"),
    ],
)
def test_a_definition_the_schema_cannot_judge_is_refused_naming_the_field(fields, location):
    with pytest.raises(SiteRejected) as refused:
        validate_site(a_site(**fields))
    assert refused.value.location == location


def test_a_station_in_two_circuits_is_a_conflict_naming_it():
    circuits = (
        Circuit(circuit_id="C1", max_current_a=D(16), charge_point_ids=("CP1", "CP2")),
        Circuit(circuit_id="C2", max_current_a=D(16), charge_point_ids=("CP2",)),
    )
    with pytest.raises(MembershipConflict) as conflict:
        validate_site(a_site(circuits=circuits))
    assert conflict.value.charge_point_id == "CP2" and "C1 and C2" in str(conflict.value)


def test_a_connector_takes_its_own_settings_then_its_stations_then_the_sites():
    site = a_site(
        connectors=(
            ConnectorSetting(charge_point_id="CP1", connector_id=0, max_current_a=D(20), phases=1),
            ConnectorSetting(charge_point_id="CP1", connector_id=2, max_current_a=D(10), phases=3),
        )
    )
    assert (site.connector_phases("CP1", 1), site.connector_phases("CP1", 2), site.connector_phases("CP2", 1)) == (1, 3, 3)
    assert (site.connector_max_current_a("CP1", 1), site.connector_max_current_a("CP1", 2)) == (None, D(10))
    assert (site.station_max_current_a("CP1"), site.station_max_current_a("CP2")) == (D(20), None)


@pytest.mark.parametrize(
    ("requested", "id_tag", "expected"),
    [(None, None, 0), (None, 3, 3), (-2, 3, -2), (0, 9, 0), (9, None, 9)],
)
def test_the_sessions_priority_wins_over_the_id_tags_and_the_default_is_0(requested, id_tag, expected):
    assert session_priority(requested, id_tag) == expected


def test_a_priority_outside_the_ocpp_2_1_range_is_refused():
    with pytest.raises(ValueError, match="outside -9..9"):
        session_priority(10, None)
