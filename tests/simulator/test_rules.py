"""The station's own rules, without a connection: configuration, local list, composite schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from simulator.authorization import LocalAuthorizationList
from simulator.configuration import Configuration, default_keys
from simulator.smart_charging import ChargingProfiles, Electrical

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def configuration(**overrides):
    keys = default_keys(connectors=2, heartbeat_interval=300, meter_interval=60, password="p" * 16)
    return Configuration(keys, overrides)


def test_the_authorization_key_is_write_only():
    config = configuration()
    known, unknown = config.read(None)
    assert "AuthorizationKey" not in {k["key"] for k in known}
    assert config.read(["AuthorizationKey"]) == ([], ["AuthorizationKey"])
    assert config.change("AuthorizationKey", "x" * 20) == "Accepted" and config.get("AuthorizationKey") == "x" * 20


def test_initial_values_can_be_overridden_by_name_without_case():
    assert configuration(heartbeatinterval="60").integer("HeartbeatInterval") == 60


def test_a_differential_update_needs_a_newer_version():
    local = LocalAuthorizationList()
    limits = dict(max_list_length=2, max_send_length=5)
    assert local.update(list_version=1, update_type="Differential", authorization_list=[{"id_tag": "A", "id_tag_info": {"status": "Accepted"}}], **limits) == "Accepted"
    assert local.update(list_version=1, update_type="Differential", authorization_list=[], **limits) == "VersionMismatch"
    many = [{"id_tag": t, "id_tag_info": {"status": "Accepted"}} for t in "BC"]
    assert local.update(list_version=2, update_type="Differential", authorization_list=many, **limits) == "Failed"  # 3 > 2
    assert local.version == 1 and list(local.entries) == ["A"]
    assert local.update(list_version=1, update_type="Full", authorization_list=many, **limits) == "Accepted"
    assert local.version == 1 and local.lookup("b") == {"status": "Accepted"}


def _profile(profile_id, purpose, kind, periods, *, stack=0, unit="A", start=NOW, duration=None, recurrency=None):
    schedule = {"charging_rate_unit": unit, "charging_schedule_period": periods, "start_schedule": start.isoformat()}
    if duration is not None:
        schedule["duration"] = duration
    profile = {"charging_profile_id": profile_id, "stack_level": stack, "charging_profile_purpose": purpose,
               "charging_profile_kind": kind, "charging_schedule": schedule}
    if recurrency:
        profile["recurrency_kind"] = recurrency
    return profile


def _install(profiles, connector_id, profile, transaction_id=None):
    return profiles.install(connector_id, profile, connectors=2, transaction_id=transaction_id, max_stack_level=10,
                            max_installed=20, max_periods=24, allowed_units=["Current", "Power"])


def test_the_higher_stack_level_wins_while_it_lasts_and_the_lowest_purpose_limit_applies():
    profiles = ChargingProfiles()
    electrical = Electrical()
    assert _install(profiles, 0, _profile(1, "TxDefaultProfile", "Absolute", [{"start_period": 0, "limit": Decimal("16")}])) == "Accepted"
    assert _install(profiles, 0, _profile(2, "TxDefaultProfile", "Absolute", [{"start_period": 0, "limit": Decimal("6")}], stack=1, duration=600)) == "Accepted"
    composite = profiles.composite(1, start=NOW, duration=1200, unit="A", electrical=electrical, transaction_start=None)
    assert composite["charging_schedule_period"] == [
        {"start_period": 0, "limit": 6.0, "number_phases": 3}, {"start_period": 600, "limit": 16.0, "number_phases": 3}]
    # The same stack level and purpose on the same connector replaces the profile.
    assert _install(profiles, 0, _profile(3, "TxDefaultProfile", "Absolute", [{"start_period": 0, "limit": Decimal("10")}], stack=1)) == "Accepted"
    assert sorted(p.id for p in profiles.installed) == [1, 3]


def test_a_daily_recurring_profile_repeats_and_a_tx_profile_follows_its_transaction():
    profiles = ChargingProfiles()
    electrical = Electrical()
    night = _profile(1, "TxDefaultProfile", "Recurring", [{"start_period": 0, "limit": Decimal("32")}, {"start_period": 3600, "limit": Decimal("8")}],
                     start=NOW - timedelta(days=3), duration=7200, recurrency="Daily")
    _install(profiles, 1, night)
    assert profiles.limit_at(1, NOW + timedelta(minutes=30), electrical=electrical, transaction_start=None).watts == 32 * 230 * 3
    assert profiles.limit_at(1, NOW + timedelta(minutes=90), electrical=electrical, transaction_start=None).watts == 8 * 230 * 3
    assert profiles.limit_at(1, NOW + timedelta(hours=3), electrical=electrical, transaction_start=None).watts == electrical.max_power
    tx = _profile(2, "TxProfile", "Relative", [{"start_period": 0, "limit": Decimal("4000")}], unit="W")
    assert _install(profiles, 1, tx) == "Rejected"
    assert _install(profiles, 1, tx, transaction_id=5) == "Accepted"
    assert profiles.limit_at(1, NOW + timedelta(minutes=30), electrical=electrical, transaction_start=NOW).watts == 4000
    profiles.end_transaction(1)
    assert [p.id for p in profiles.installed] == [1]
