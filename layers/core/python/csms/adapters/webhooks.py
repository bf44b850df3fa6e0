"""POSTing to a driver's webhook over HTTP(S) with the standard library: short timeouts, no redirects followed
(a redirect could send the signed body elsewhere: it counts as a failed delivery)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 5.0
"""Connect and read: a driver's endpoint that takes longer is tried again later, not waited for."""
USER_AGENT = "csms-notifications/1.0"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError: not delivered


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class PostOutcome:
    status: int | None
    """The HTTP status answered, None when there was no answer (refused, timed out, TLS failed)."""
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS) -> PostOutcome:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return PostOutcome(status=response.status)
    except urllib.error.HTTPError as answered:
        return PostOutcome(status=answered.code, error=f"HTTP {answered.code}")
    except (urllib.error.URLError, OSError, ValueError) as failed:  # refused, DNS, TLS, timeout, bad URL
        return PostOutcome(status=None, error=f"{type(failed).__name__}: {failed}")
