"""A tariff body is taken as OCPI 2.2.1 writes it, and a bad one is refused naming each field at fault."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from csms.domain.tariffs.validation import FieldError, TariffRejected, ocpi_path, parse_tariff

OCPI_COMPLEX_EXAMPLE = {
    # OCPI 2.2.1 examples/tariff_4_complex.json, re-typed: a FLAT start fee, TIME by current and weekday,
    # PARKING_TIME by hours of the day.
    "country_code": "DE",
    "party_id": "ALL",
    "id": "14",
    "currency": "EUR",
    "type": "REGULAR",
    "tariff_alt_url": "https://company.com/tariffs/14",
    "tariff_alt_text": [{"language": "en", "text": "2.50 start, 1.00/h below 32A"}],
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 2.50, "vat": 15.0, "step_size": 1}]},
        {"price_components": [{"type": "TIME", "price": 1.00, "vat": 20.0, "step_size": 900}], "restrictions": {"max_current": 32.00}},
        {
            "price_components": [{"type": "TIME", "price": 2.00, "vat": 20.0, "step_size": 600}],
            "restrictions": {"min_current": 32.00, "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]},
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": 5.0, "vat": 10.0, "step_size": 300}],
            "restrictions": {"start_time": "09:00", "end_time": "18:00", "day_of_week": ["MONDAY"]},
        },
    ],
    "last_updated": "2015-06-29T20:39:09Z",
}


def body(**changes):
    found = json.loads(json.dumps(OCPI_COMPLEX_EXAMPLE))
    found.update(changes)
    return found


def errors_of(payload) -> list[FieldError]:
    with pytest.raises(TariffRejected) as refused:
        parse_tariff(payload)
    return refused.value.errors


def paths_of(payload) -> list[str]:
    return [error.path for error in errors_of(payload)]


def test_the_ocpi_complex_example_is_accepted_with_exact_decimal_prices():
    tariff = parse_tariff(json.loads(json.dumps(OCPI_COMPLEX_EXAMPLE)))  # as the API decodes it

    assert tariff.elements[0].price_components[0].price == Decimal("2.5")
    assert tariff.elements[1].restrictions.max_current == Decimal("32")
    assert tariff.last_updated.isoformat() == "2015-06-29T20:39:09+00:00"


def test_the_tariff_writes_back_as_the_same_ocpi_json_numbers():
    tariff = parse_tariff(body())

    written = json.loads(tariff.model_dump_json(exclude_none=True))

    assert written["elements"][1]["price_components"][0] == {"type": "TIME", "price": 1, "vat": 20, "step_size": 900}
    assert written["last_updated"] == "2015-06-29T20:39:09Z"


def test_an_unknown_dimension_type_is_named_by_its_ocpi_path():
    payload = body()
    payload["elements"][1]["price_components"].append({"type": "KWH", "price": 1, "step_size": 1})

    assert paths_of(payload) == ["elements[1].price_components[1].type"]


def test_a_negative_price_is_refused():
    payload = body()
    payload["elements"][0]["price_components"][0]["price"] = -0.5

    assert paths_of(payload) == ["elements[0].price_components[0].price"]


@pytest.mark.parametrize("currency", ["EUX", "eur", "EURO", ""])
def test_a_currency_outside_iso_4217_is_refused(currency):
    assert paths_of(body(currency=currency)) == ["currency"]


@pytest.mark.parametrize("currency", ["EUR", "CHF", "SEK", "GBP", "JPY"])
def test_iso_4217_currencies_are_accepted(currency):
    assert parse_tariff(body(currency=currency)).currency == currency


@pytest.mark.parametrize(
    ("restrictions", "path"),
    [
        ({"start_time": "24:00"}, "elements[3].restrictions.start_time"),
        ({"end_time": "9:00"}, "elements[3].restrictions.end_time"),
        ({"start_date": "2024-02-30"}, "elements[3].restrictions.start_date"),
        ({"end_date": "24-12-2024"}, "elements[3].restrictions.end_date"),
        ({"day_of_week": ["MONDAY", "FUNDAY"]}, "elements[3].restrictions.day_of_week[1]"),
        ({"min_kwh": 50, "max_kwh": 20}, "elements[3].restrictions.max_kwh"),
        ({"min_power": 22, "max_power": 22}, "elements[3].restrictions.max_power"),
        ({"min_current": 32, "max_current": 16}, "elements[3].restrictions.max_current"),
        ({"min_duration": 3600, "max_duration": 1800}, "elements[3].restrictions.max_duration"),
        ({"min_duration": 1.5}, "elements[3].restrictions.min_duration"),
        ({"start_date": "2024-06-01", "end_date": "2024-05-01"}, "elements[3].restrictions.end_date"),
        ({"start_time": "10:00", "end_time": "10:00"}, "elements[3].restrictions.end_time"),
        ({"day_of_week": []}, "elements[3].restrictions.day_of_week"),
        ({"max_kw": 11}, "elements[3].restrictions.max_kw"),
    ],
)
def test_restrictions_that_cannot_be_evaluated_are_refused(restrictions, path):
    payload = body()
    payload["elements"][3]["restrictions"] = restrictions

    assert paths_of(payload) == [path]


def test_every_fault_is_reported_at_once():
    payload = body(currency="XXY")
    payload["elements"][0]["price_components"][0]["step_size"] = -1
    payload["elements"][1]["price_components"][0]["vat"] = 120

    assert paths_of(payload) == [
        "currency",
        "elements[0].price_components[0].step_size",
        "elements[1].price_components[0].vat",
    ]


def test_a_price_with_more_than_four_decimals_is_refused_rather_than_rounded():
    payload = body()
    payload["elements"][0]["price_components"][0]["price"] = "0.12345"

    [error] = errors_of(payload)
    assert error.path == "elements[0].price_components[0].price"
    assert "4 decimals" in error.message


def test_min_price_above_max_price_is_refused():
    payload = body(min_price={"excl_vat": 10, "incl_vat": 12}, max_price={"excl_vat": 5, "incl_vat": 6})

    assert paths_of(payload) == ["max_price.excl_vat"]


def test_an_empty_element_list_and_missing_step_size_are_refused():
    assert paths_of(body(elements=[])) == ["elements"]
    payload = body()
    del payload["elements"][0]["price_components"][0]["step_size"]
    assert paths_of(payload) == ["elements[0].price_components[0].step_size"]


def test_vat_left_out_stays_absent_and_zero_vat_stays_zero():
    payload = body()
    del payload["elements"][1]["price_components"][0]["vat"]
    payload["elements"][2]["price_components"][0]["vat"] = 0

    tariff = parse_tariff(payload)

    assert tariff.elements[1].price_components[0].vat is None
    assert tariff.elements[2].price_components[0].vat == 0


def test_paths_are_written_as_ocpi_documents_write_them():
    assert ocpi_path(("elements", 0, "price_components", 1, "type")) == "elements[0].price_components[1].type"
    assert ocpi_path(("tariff_alt_text", 2, "language")) == "tariff_alt_text[2].language"
    assert ocpi_path(()) == ""
