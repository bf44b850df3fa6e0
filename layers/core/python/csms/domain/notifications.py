"""Telling drivers what happens to their sessions and reservations: their webhook, how a delivery is signed and
when it is tried again (issue 10 §4). Pure."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-CSMS-Signature"
EVENT_TYPE_HEADER = "X-CSMS-Event-Type"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""The only hosts a webhook may reach over plain http: a developer's own machine (tests, `make run`)."""

MAX_ATTEMPTS = 8
"""Tries of one delivery before its message is dead-lettered (the queue's maxReceiveCount)."""
MAX_RETRY_DELAY_SECONDS = 3600


@dataclass(frozen=True)
class DriverWebhook:
    url: str
    secret: str
    """Shared with the driver's app: it signs every body, so the app knows it came from the CSMS."""


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a driver's webhook, or None: https only (the body tells where a driver charges, the
    signature is no secret), plain http only to this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if not host:
        return "has no host"
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS):
        return None
    return "must be https (http only for localhost or 127.0.0.1)"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>`: the app computes the same over
    the bytes it received and compares in constant time."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay_seconds(attempt: int, *, base_seconds: int) -> int:
    """How long a delivery that failed on its `attempt`-th try (1-based) waits before the next: doubling from
    `base_seconds`, at most an hour; none after the last try, so its message reaches the dead-letter queue at
    once."""
    if attempt >= MAX_ATTEMPTS:
        return 0
    delay: int = base_seconds * 2 ** (attempt - 1)
    return min(delay, MAX_RETRY_DELAY_SECONDS)
