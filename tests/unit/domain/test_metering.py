from decimal import Decimal

import pytest

from csms.domain.metering import energy_wh, import_register_wh


@pytest.mark.parametrize(
    ("sampled", "expected"),
    [
        ({"value": "1234"}, Decimal("1234")),  # measurand and unit default to Energy.Active.Import.Register / Wh
        ({"value": "12.345", "unit": "kWh"}, Decimal("12345.000")),
        ({"value": "500", "measurand": "Energy.Active.Import.Interval", "unit": "Wh"}, Decimal("500")),
        ({"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}, None),
        ({"value": "80", "measurand": "SoC", "unit": "Percent"}, None),
        ({"value": "3F2A...", "format": "SignedData"}, None),
        ({"value": "not a number"}, None),
        ({"value": "NaN"}, None),
        ({"value": "1e400"}, None),  # no meter reads that: not an energy reading, kept only as sent
        ({"value": "2e12", "unit": "kWh"}, None),
        ({"value": "1e-200"}, Decimal("0")),  # below a milliwatt-hour
        ({"value": "-0.0000001"}, Decimal("0")),
        ({"value": "12345.123456789012345678901234567890123"}, Decimal("12345.123")),  # more digits than DynamoDB keeps
    ],
)
def test_energy_is_read_in_wh_whatever_the_unit(sampled, expected):
    assert energy_wh(sampled) == expected


def test_import_register_prefers_the_total_over_phase_values():
    sampled = [
        {"value": "100", "measurand": "Energy.Active.Import.Register", "phase": "L1"},
        {"value": "2.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
    ]
    assert import_register_wh(sampled) == Decimal("2500.0")


def test_no_import_register_gives_none():
    assert import_register_wh([{"value": "11", "measurand": "Current.Import", "unit": "A"}]) is None
