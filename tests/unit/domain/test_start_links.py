"""The start link a connector's QR code encodes: the template filled in, the station identity percent-encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from csms.domain.start_links import DEFAULT_START_LINK_TEMPLATE, check_start_link_template, start_link
from csms.runtime.settings import Settings


def test_the_default_link_names_the_station_and_the_connector():
    assert start_link(DEFAULT_START_LINK_TEMPLATE, "CP001", 2) == "https://app.example.invalid/start?cp=CP001&connector=2"


def test_an_identity_with_url_characters_reads_back_whole_from_the_query():
    # Printable ASCII other than / ? # % \ and space may be in an identity (station_identity.py): & = + : ; among them.
    identity = "CP&connector=9+A:1;x"
    url = start_link(DEFAULT_START_LINK_TEMPLATE, identity, 1)
    assert parse_qs(urlsplit(url).query, strict_parsing=True) == {"cp": [identity], "connector": ["1"]}


def test_an_identity_in_the_path_stays_one_segment():
    url = start_link("https://app.example.com/stations/{chargePointId}/{connectorId}", "A/B?C#D", 3)
    assert url == "https://app.example.com/stations/A%2FB%3FC%23D/3"


@pytest.mark.parametrize(
    "template",
    [
        "https://app.example.com/start?connector={connectorId}",  # which station?
        "https://app.example.com/start?cp={chargePointId}",  # which connector?
        "https://app.example.com/start?cp={cp}&connector={connectorId}",  # a misspelt placeholder
        "https://app.example.com/start?cp={chargePointId!r}&connector={connectorId}",
        "https://app.example.com/start?cp={chargePointId:>9}&connector={connectorId}",
        "https://app.example.com/start?cp={chargePointId.upper}&connector={connectorId}",
        "https://app.example.com/start?cp={chargePointId&connector={connectorId}",  # a lone brace
    ],
)
def test_a_template_that_would_print_a_wrong_link_is_refused(template):
    with pytest.raises(ValueError):
        check_start_link_template(template)
    with pytest.raises(ValueError, match="qr_url_template"):
        Settings.from_environment({"TABLE_NAME": "t", "QR_URL_TEMPLATE": template})


def test_literal_braces_may_be_written_twice():
    template = "https://app.example.com/start#{{cp={chargePointId},c={connectorId}}}"
    assert start_link(check_start_link_template(template), "CP1", 1) == "https://app.example.com/start#{cp=CP1,c=1}"


def test_the_setting_is_read_from_the_environment():
    template = "myapp://start/{chargePointId}/{connectorId}"
    assert Settings.from_environment({"TABLE_NAME": "t", "QR_URL_TEMPLATE": template}).qr_url_template == template
    assert Settings.from_environment({"TABLE_NAME": "t"}).qr_url_template == DEFAULT_START_LINK_TEMPLATE
