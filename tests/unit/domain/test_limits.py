from decimal import Decimal

from csms.domain.limits import Money, SessionLimits, session_limits


def test_a_sessions_limits_replace_the_id_tags_field_by_field():
    tag = SessionLimits(max_energy_wh=20_000, max_duration_seconds=3600)
    session = SessionLimits(max_duration_seconds=1800, max_cost=Money(Decimal("30.00"), "EUR"))
    assert session.overriding(tag) == SessionLimits(
        max_energy_wh=20_000, max_duration_seconds=1800, max_cost=Money(Decimal("30.00"), "EUR")
    )
    assert session.overriding(None) == session
    assert SessionLimits().overriding(tag) == tag


def test_limits_round_trip_with_the_amount_as_a_decimal_string():
    limits = SessionLimits(max_cost=Money(Decimal("30.50"), "EUR"), max_energy_wh=20_000, max_soc=80)
    document = limits.to_json()
    assert document == {"maxCost": {"amount": "30.50", "currency": "EUR"}, "maxEnergyWh": 20_000, "maxSoC": 80}
    assert SessionLimits.from_json(document) == limits
    assert SessionLimits.from_json({"maxEnergyWh": Decimal(5)}).max_energy_wh == 5  # as DynamoDB reads it back


def test_no_limit_is_empty():
    assert SessionLimits().empty and not SessionLimits(max_soc=80).empty


def test_card_sessions_get_the_id_tags_limits_and_app_sessions_replace_them_field_by_field():
    tag = SessionLimits(max_energy_wh=20_000, max_soc=80)
    assert session_limits(id_tag=tag) == tag
    assert session_limits(id_tag=tag, requested=SessionLimits(max_soc=90)) == SessionLimits(max_energy_wh=20_000, max_soc=90)
    assert session_limits(id_tag=None, requested=SessionLimits(max_soc=90)) == SessionLimits(max_soc=90)
    assert session_limits(id_tag=None, requested=SessionLimits()) is None
    assert session_limits(id_tag=None) is None
