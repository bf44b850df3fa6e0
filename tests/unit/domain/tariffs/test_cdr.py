"""The priced fields of a CDR, and the credit CDR that cancels an issued one (OCPI 2.2.1 mod_cdrs)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from csms.domain.tariffs.cdr import cdr_pricing, credit_cdr
from csms.domain.tariffs.pricing import price_session

from .builders import at, component, element, session, steady_session, tariff

D = Decimal
HOURLY_WITH_PARKING = tariff(
    element(component("ENERGY", "0.30", 1, vat=20), component("PARKING_TIME", "6.00", 60, vat=20), component("FLAT", "1.00", 1, vat=20))
)


def issued_cdr() -> dict:
    car = steady_session(
        "2024-03-04T10:00:00Z",
        charging_minutes=60,
        kwh=20,
        parking_minutes=30,
        state_of_charge=[{"timestamp": "2024-03-04T10:30:00Z", "value": 60}],
        power_kw=[{"timestamp": "2024-03-04T10:30:00Z", "value": 22}],
    )
    fields = cdr_pricing(price_session(HOURLY_WITH_PARKING, car, "UTC"))
    return {"id": "CDR-1", "session_id": "4711", "last_updated": at("2024-03-04T11:31:00Z"), **fields}


def test_the_cdr_carries_every_total_and_ocpi_dimensions_only():
    cdr = issued_cdr()

    assert cdr["total_cost"] == {"excl_vat": D("10.00"), "incl_vat": D("12.00")}
    assert (cdr["total_energy"], cdr["total_time"], cdr["total_parking_time"]) == (D(20), D("1.5"), D("0.5"))
    assert cdr["total_fixed_cost"]["excl_vat"] == D(1)
    assert cdr["total_time_cost"] == {"excl_vat": D(0), "incl_vat": D(0)}
    # STATE_OF_CHARGE is "Session Only" in mod_cdrs §CdrDimensionType: the CDR leaves it out.
    assert [d["type"] for d in cdr["charging_periods"][0]["dimensions"]] == ["ENERGY", "TIME", "MAX_POWER", "MIN_POWER"]
    assert cdr["charging_periods"][1]["tariff_id"] == "T1"
    assert "remark" not in cdr


def test_data_notes_reach_the_cdr_remark_within_255_characters():
    rebooted = session(
        "2024-03-04T10:00:00Z",
        "2024-03-04T11:00:00Z",
        readings=[(f"2024-03-04T10:{minute:02d}:00Z", 5000 - minute * 10) for minute in range(0, 60, 5)]
        + [("2024-03-04T11:00:00Z", 4400)],
    )
    cdr = cdr_pricing(price_session(HOURLY_WITH_PARKING, rebooted, "UTC"))

    assert cdr["remark"].startswith("REGISTER_RESET (12 times): register fell from 5000 Wh to 4950 Wh")
    assert len(cdr["remark"]) <= 255
    assert cdr["total_energy"] == D(0)


def test_a_credit_cdr_negates_every_cost_and_references_the_original():
    original = issued_cdr()

    credit = credit_cdr(original, credit_id="CDR-1-C", last_updated=at("2024-03-05T09:00:00Z"))

    assert (credit["id"], credit["credit"], credit["credit_reference_id"]) == ("CDR-1-C", True, "CDR-1")
    assert credit["total_cost"] == {"excl_vat": D("-10.00"), "incl_vat": D("-12.00")}
    assert credit["total_parking_cost"] == {"excl_vat": D("-3.00"), "incl_vat": D("-3.60")}
    assert credit["total_time_cost"] == {"excl_vat": D(0), "incl_vat": D(0)}  # not -0
    assert credit["total_energy"] == original["total_energy"]  # the session still happened
    assert credit["charging_periods"] == original["charging_periods"]
    assert credit["last_updated"] == at("2024-03-05T09:00:00Z")
    assert original["total_cost"]["excl_vat"] == D("10.00")  # the issued CDR is left as it was


def test_a_credit_cdr_of_a_cdr_read_back_from_json_keeps_exact_amounts():
    original = json.loads(json.dumps(issued_cdr(), default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))
    original["total_cost"] = {"excl_vat": 10.1, "incl_vat": 12.12}

    credit = credit_cdr(original, credit_id="CDR-1-C", last_updated=at("2024-03-05T09:00:00Z"))

    assert credit["total_cost"] == {"excl_vat": D("-10.1"), "incl_vat": D("-12.12")}


def test_a_credit_cdr_needs_an_id_of_its_own_and_cannot_credit_a_credit():
    original = issued_cdr()
    with pytest.raises(ValueError, match="id of its own"):
        credit_cdr(original, credit_id="CDR-1", last_updated=at("2024-03-05T09:00:00Z"))
    with pytest.raises(ValueError, match="39"):
        credit_cdr(original, credit_id="C" * 40, last_updated=at("2024-03-05T09:00:00Z"))
    credit = credit_cdr(original, credit_id="CDR-1-C", last_updated=at("2024-03-05T09:00:00Z"))
    with pytest.raises(ValueError, match="itself a credit"):
        credit_cdr(credit, credit_id="CDR-1-C-C", last_updated=at("2024-03-05T09:00:00Z"))
