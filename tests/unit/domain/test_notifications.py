"""The webhook's rules: which URLs, how a body is signed, how long a failed delivery waits."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from csms.domain.notifications import MAX_ATTEMPTS, retry_delay_seconds, signature, webhook_url_problem


def test_the_signature_is_the_hex_hmac_sha256_of_the_exact_body():
    body = b'{"eventId":"e","value":81}'
    assert signature("secret-of-sixteen", body) == "sha256=" + hmac.new(b"secret-of-sixteen", body, hashlib.sha256).hexdigest()
    assert signature("secret-of-sixteen", body + b" ") != signature("secret-of-sixteen", body)  # bytes, not meaning


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example.com/hooks/42", True),
        ("http://localhost:8000/hook", True),
        ("http://127.0.0.1/hook", True),
        ("http://app.example.com/hook", False),
        ("http://127.0.0.1.example.com/hook", False),
        ("ftp://localhost/hook", False),
        ("https:///nohost", False),
        ("not a url", False),
    ],
)
def test_webhooks_are_https_or_plain_http_to_this_machine_only(url, allowed):
    assert (webhook_url_problem(url) is None) is allowed


def test_failed_deliveries_back_off_doubling_up_to_an_hour_and_the_last_try_goes_straight_to_dead_letters():
    delays = [retry_delay_seconds(attempt, base_seconds=30) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 0]
    assert retry_delay_seconds(3, base_seconds=1000) == 3600
