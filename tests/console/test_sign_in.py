"""The console signed in, as on AWS behind a JWT authorizer: every API call carries the operator's token, and what an
<img> cannot fetch with it (a connector's QR code) is fetched by the page and shown from a blob: URL, which the
pages' Content-Security-Policy must allow.

The local runtime checks no token, so a small gate in front of it plays API Gateway's authorizer: the console's
own files are public (as the stack's console routes are), every other route answers 401 without the token. The
sign-in itself (the provider's code flow) is not run: the token is put where the console keeps it after one.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import LiveRuntime, call_api, running, wait_for
from tests.console.stations import connect

TOKEN = "operator-id-token"
ISSUER = "https://sign-in.example.com/pool"
DECODED_IMAGES = "return [...document.querySelectorAll('[data-qr] img')].filter((i) => i.complete && i.naturalWidth > 0).length"
NOT_FORWARDED = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class TokenGate:
    """API Gateway's JWT authorizer as the browser meets it, in front of the local operator API."""

    def __init__(self, upstream: str, token: str) -> None:
        address = urlsplit(upstream)
        self.upstream = (address.hostname or "127.0.0.1", address.port or 80)
        self.token = token
        self.refused: list[str] = []
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                gate.forward(self)

            do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, name="token-gate", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("content-length") or 0))
        public = request.path == "/console" or request.path.startswith("/console/")
        if not public and request.headers.get("authorization") != f"Bearer {self.token}":
            self.refused.append(request.path)
            self._reply(request, 401, [("Content-Type", "application/json")], json.dumps({"message": "Unauthorized"}).encode())
            return
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {name: value for name, value in request.headers.items() if name.lower() not in NOT_FORWARDED}
            connection.request(request.command, request.path, body=body or None, headers=headers)
            response = connection.getresponse()
            self._reply(request, response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        request.send_response(status)
        for name, value in headers:
            if name.lower() not in NOT_FORWARDED:
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def __enter__(self) -> TokenGate:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRuntime]:
    """The runtime with the operator API configured as the stack configures it for JWT: the console signs in."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("CONSOLE_JWT_ISSUER", ISSUER)
        environment.setenv("CONSOLE_CLIENT_ID", "console-client")
        with running(tmp_path_factory) as live_runtime:
            yield live_runtime


@pytest.fixture(scope="module")
def gate(live: LiveRuntime) -> Iterator[TokenGate]:
    with TokenGate(live.runtime.api_url, TOKEN) as token_gate:
        yield token_gate


def test_signed_in_a_connectors_qr_code_is_fetched_with_the_token_and_shown(browser: WebDriver, live: LiveRuntime, gate: TokenGate):
    call_api(live, "PUT", "/charge-points/QR-1", {"description": "Behind the authorizer"})
    station = connect(live, "QR-1")
    live.run(station.boot(connectors=2))
    qr_route = "/charge-points/QR-1/connectors/1/qr"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(gate.url + qr_route, timeout=10)  # what an <img src> of the route would get
    assert refused.value.code == 401

    # Signed in: the console keeps the provider's token in the tab's session storage, for its origin.
    browser.get(f"{gate.url}/console/config.json")
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text)["signIn"]["issuer"] == ISSUER
    browser.execute_script(
        "sessionStorage.setItem('csms.console.token', JSON.stringify({token: arguments[0], expiresAt: Date.now() + 3600000}))", TOKEN
    )
    browser.get(f"{gate.url}/console/#/stations/QR-1")
    wait_for(browser, lambda b: "Sign out" in b.find_element(By.ID, "account").text)
    wait_for(browser, lambda b: "Behind the authorizer" in b.find_element(By.CSS_SELECTOR, "main").text)
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-qr] img")) == 2)
    assert all(image.get_attribute("src").startswith("blob:") for image in browser.find_elements(By.CSS_SELECTOR, "[data-qr] img"))
    wait_for(browser, lambda b: b.execute_script(DECODED_IMAGES) == 2)  # each drawn: the page's policy let it in
    # The pages never called the API without the token (the browser's own /favicon.ico of the JSON page aside).
    assert [path for path in gate.refused if path != "/favicon.ico"] == [qr_route]
