"""A driver's webhook endpoint for tests: a real HTTP server on 127.0.0.1 that records every POST and answers
with the statuses it is told, then 200. The test verifies signatures itself, as a driver's app would."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: Message
    """Case-insensitive, as HTTP header names are (urllib sends `X-csms-signature`)."""
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """What a driver's app does: HMAC-SHA256 of the exact bytes received, compared in constant time."""
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-CSMS-Signature", ""))


@dataclass
class WebhookServer:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses for the next POSTs, in order; 200 once they are used up."""
    redirect_to: str | None = None

    def posts_of(self, event_type: str) -> list[Received]:
        return [post for post in self.received if post.headers.get("X-CSMS-Event-Type") == event_type]


@contextmanager
def webhook_server() -> Iterator[WebhookServer]:
    server_state: dict[str, WebhookServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            webhook = server_state["webhook"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            webhook.received.append(Received(self.path, self.headers, body))
            status = webhook.answers.pop(0) if webhook.answers else 200
            self.send_response(status)
            if 300 <= status < 400 and webhook.redirect_to:
                self.send_header("Location", webhook.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state["webhook"] = WebhookServer(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/driver")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state["webhook"]
    finally:
        server.shutdown()
        server.server_close()
