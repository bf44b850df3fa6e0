import base64

import pytest

from csms.domain.passwords import hash_password, parse_basic_authorization, verify_password
from csms.domain.registration import boot_status, may_send_requests
from csms.runtime.settings import UnknownStationPolicy


@pytest.mark.parametrize(
    ("registered", "policy", "expected"),
    [
        (True, UnknownStationPolicy.REJECT, "Accepted"),
        (False, UnknownStationPolicy.ACCEPT, "Accepted"),
        (False, UnknownStationPolicy.PENDING, "Pending"),
        (False, UnknownStationPolicy.REJECT, "Rejected"),
    ],
)
def test_boot_status_follows_registration_and_policy(registered, policy, expected):
    assert boot_status(registered=registered, policy=policy) == expected


def test_only_accepted_or_pending_stations_may_send_requests():
    assert may_send_requests("Accepted") and may_send_requests("Pending")
    assert not may_send_requests("Rejected") and not may_send_requests(None)


def test_password_hash_is_salted_and_verifies():
    first, second = hash_password("s3cret-key-16chars"), hash_password("s3cret-key-16chars")
    assert first != second and "s3cret" not in first
    assert verify_password("s3cret-key-16chars", first)
    assert not verify_password("s3cret-key-16charz", first)
    assert not verify_password("anything", "garbage")


def basic(user_password: str) -> str:
    return "Basic " + base64.b64encode(user_password.encode()).decode()


def test_basic_authorization_header_parsing():
    assert parse_basic_authorization(basic("CP1:pa:ss")) == ("CP1", "pa:ss")
    assert parse_basic_authorization(basic("no-colon")) is None
    assert parse_basic_authorization("Bearer abc") is None
    assert parse_basic_authorization("Basic !!!") is None
    assert parse_basic_authorization(None) is None
