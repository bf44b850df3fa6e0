"""The operator API: the `api` function invoked with API Gateway HTTP API (payload format 2.0) events, against
emulated DynamoDB, with a scripted stand-in for the @connections API whose station answers commands from
another thread (as a real answer arrives in another invocation)."""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from csms.adapters.dynamodb.keys import station_key
from csms.commands import service
from csms.domain.passwords import verify_password
from csms.domain.station_config import ConfigurationValue
from csms.ocpp.errors import ErrorCode
from csms.ocpp.frames import CallError, CallResult
from csms.ocpp.v16.actions import CENTRAL_SYSTEM_ACTIONS
from csms.ocpp.v16.validation import parse_request
from csms.operator.app import COLD_START_ROUTERS, ON_DEMAND_ROUTERS, OnDemandRouter, OperatorApiResolver, app, current_app
from csms.operator.command_examples import COMMAND_EXAMPLES
from csms.runtime.observability import logger as csms_logger
from csms.runtime.observability import metrics
from csms.runtime.wiring import get_services
from infra.manifest import LAMBDAS_DIR, OPERATOR_API
from local.aws import shared_by_threads
from local.lambdas import LambdaContext
from tests.integration.stations import Station
from tests.qr_reader import read_qr_codes

PASSWORD = "correct-horse-battery"
AUTHORIZATION_KEY = "0123456789abcdef0123"
SILENT = object()
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 22", "firmwareVersion": "1.2.3"}


# --- the station stand-in and the HTTP client --------------------------------------------------------


class ScriptedStations:
    """The @connections API: records what stations receive and answers as scripted, per action."""

    def __init__(self, services):
        self.services = services
        self.sent: list[tuple[str, list]] = []
        self.closed: list[str] = []
        self.gone: set[str] = set()
        self.replies: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []

    def send(self, connection_id: str, frame: str) -> bool:
        if connection_id in self.gone:
            return False
        message = json.loads(frame)
        self.sent.append((connection_id, message))
        reply = self.replies.get(message[2], SILENT)
        if reply is not SILENT:
            thread = threading.Thread(target=self.answer, args=(message[1], reply))
            thread.start()
            self.threads.append(thread)
        return True

    def close(self, connection_id: str) -> bool:
        self.closed.append(connection_id)
        return True

    def answer(self, message_id: str, reply: Any) -> None:
        command = self.services.commands.get(message_id)
        frame = CallResult(message_id, reply) if isinstance(reply, dict) else CallError(message_id, reply, "it failed", {"why": 42})
        service.handle_answer(self.services, command.charge_point_id, frame)

    def actions(self) -> list[str]:
        return [message[2] for _, message in self.sent]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    """As the client receives it: a base64-encoded body (an image) decoded."""

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def _load_api_handler():
    spec = importlib.util.spec_from_file_location("_operator_api_handler", LAMBDAS_DIR / "api" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


class Client:
    """Requests as API Gateway HTTP API hands them to the `api` function (payload format 2.0)."""

    handler = staticmethod(_load_api_handler())

    def request(self, method: str, path: str, body: Any = None, **options: Any) -> Reply:
        return self.send(self.event(method, path, body, **options))

    def event(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        raw: str | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        text = raw if raw is not None else (json.dumps(body) if body is not None else None)
        query = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in (query or {}).items()}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": urlencode(query),
            "headers": {"host": "api.example.com", "user-agent": "pytest", **({"content-type": content_type} if text is not None else {})},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "pytest"},
                "requestId": "req",
                "routeKey": "$default",
                "stage": "$default",
                "time": "24/Nov/2026:10:00:00 +0000",
                "timeEpoch": 1795514400000,
            },
            "isBase64Encoded": False,
        }
        if query:
            event["queryStringParameters"] = query
        if text is not None:
            event["body"] = text
        return event

    def send(self, event: dict[str, Any]) -> Reply:
        result = self.handler(event, LambdaContext.for_function(OPERATOR_API))
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        return Reply(int(result["statusCode"]), {k.lower(): v for k, v in result.get("headers", {}).items()}, raw)

    def request_event(self, method: str, path: str, body: str, *, base64_encoded: bool) -> Reply:
        """A request whose body is given as API Gateway puts it in the event (base64 for a binary body)."""
        event = self.event(method, path, raw=body) | {"isBase64Encoded": base64_encoded}
        return self.send(event)

    def get(self, path: str, **query: Any) -> Reply:
        return self.request("GET", path, query=query)

    def put(self, path: str, body: Any = None) -> Reply:
        return self.request("PUT", path, body)

    def post(self, path: str, body: Any = None, **query: Any) -> Reply:
        return self.request("POST", path, body, query=query)

    def delete(self, path: str) -> Reply:
        return self.request("DELETE", path)


@pytest.fixture
def stations(services, settings):
    services.settings = settings.model_copy(update={"command_wait_seconds": 10})  # returns as soon as answered
    scripted = ScriptedStations(services)
    services.connections = scripted
    app.dependency_overrides[get_services] = lambda: services
    # Answers arrive on other threads while the request polls the table: one moto request at a time, as the
    # local runtime does (moto's conditional writes are not atomic across threads).
    with shared_by_threads():
        yield scripted
        for thread in scripted.threads:
            thread.join(timeout=5)
    app.dependency_overrides.clear()
    # Disabled metrics are never flushed, so they pile up in the shared Metrics; at 100 values of one metric
    # Powertools serialises them, and without a namespace (none was set at import) that raises in whatever
    # test comes next.
    metrics.clear_metrics()


@pytest.fixture
def api(stations) -> Client:
    return Client()


def connect(services, charge_point_id: str = "CP1", connection_id: str = "conn-1") -> None:
    """A registered station with a live connection, as the $connect function records it."""
    services.stations.register(charge_point_id, {})
    services.stations.record_connection(charge_point_id, connection_id, connected_at=services.clock.now(), source_ip="192.0.2.9")


def item(services, charge_point_id: str = "CP1") -> dict[str, Any]:
    return services.table.get_item(Key=station_key(charge_point_id))["Item"]


def start_transaction(services, charge_point_id: str, connector_id: int, *, id_tag: str = "TAG1", meter_start: int = 1000, minute: int = 0) -> int:
    station = Station(services, charge_point_id)
    answer = station.result(
        "StartTransaction",
        {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start, "timestamp": f"2026-11-24T10:{minute:02d}:00Z"},
    )
    return answer["transactionId"]


def stop_transaction(services, charge_point_id: str, transaction_id: int, meter_stop: int) -> None:
    Station(services, charge_point_id).result(
        "StopTransaction", {"transactionId": transaction_id, "meterStop": meter_stop, "timestamp": "2026-11-24T11:00:00Z"}
    )


@pytest.fixture
def captured_logs(capfd, caplog):
    """Everything logged, at DEBUG, to the log records and to stdout/stderr (Powertools writes JSON to stdout).
    Except the AWS SDK's DEBUG wire dumps: they show every item written, and the outbox keeps the CALL as sent."""
    caplog.set_level(logging.DEBUG)
    for sdk in ("botocore", "boto3", "urllib3"):
        caplog.set_level(logging.INFO, logger=sdk)
    level = csms_logger.log_level
    csms_logger.setLevel("DEBUG")

    def read() -> str:
        out, err = capfd.readouterr()
        return out + err + caplog.text

    yield read
    csms_logger.setLevel(level)


# --- charge points -----------------------------------------------------------------------------------


def test_registering_a_station_creates_it_then_changes_only_what_is_sent(api, services):
    api.put("/tariffs/standard", {"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 0}]}]})
    created = api.put("/charge-points/CP1", {"password": PASSWORD, "description": "Car park level 2", "lenient": True, "tariffId": "standard"})
    assert created.status == 201
    view = created.json
    assert view["chargePointId"] == "CP1" and view["registered"] is True
    assert (view["description"], view["lenient"], view["tariffId"], view["passwordProtected"]) == ("Car park level 2", True, "standard", True)
    assert view["connected"] is False and view["connectors"] == []
    changed = api.put("/charge-points/CP1", {"description": "Car park level 3"})
    assert changed.status == 200
    assert (changed.json["description"], changed.json["lenient"], changed.json["tariffId"]) == ("Car park level 3", True, "standard")
    assert verify_password(PASSWORD, item(services)["passwordHash"])  # kept: the update did not repeat it


def test_the_password_is_stored_only_as_a_salted_hash_and_never_returned_or_logged(api, services, captured_logs):
    answers = [api.put("/charge-points/CP1", {"password": PASSWORD}), api.get("/charge-points/CP1"), api.get("/charge-points")]
    stored = item(services)
    assert stored["passwordHash"] != PASSWORD and verify_password(PASSWORD, stored["passwordHash"])
    assert PASSWORD not in json.dumps(stored, default=str).replace(stored["passwordHash"], "")
    assert [answer.status for answer in answers] == [201, 200, 200]
    for answer in answers:
        assert PASSWORD not in answer.text and "passwordHash" not in answer.text and stored["passwordHash"] not in answer.text
    assert PASSWORD not in captured_logs()


def test_null_clears_a_registration_field(api, services):
    api.put("/charge-points/CP1", {"password": PASSWORD, "description": "x", "lenient": True})
    view = api.put("/charge-points/CP1", {"password": None, "description": None, "lenient": None}).json
    assert (view["passwordProtected"], view["description"], view["lenient"]) == (False, None, False)
    assert not {"passwordHash", "description", "lenient"} & set(item(services))


def test_a_stations_id_tag_suffix_separator_is_set_shown_and_cleared(api, services):
    view = api.put("/charge-points/CP1", {"idTagSuffixSeparator": "_"}).json
    assert view["idTagSuffixSeparator"] == "_" and services.stations.get("CP1").id_tag_suffix_separator == "_"
    assert api.get("/charge-points").json["items"][0]["idTagSuffixSeparator"] == "_"
    assert api.put("/charge-points/CP1", {"idTagSuffixSeparator": None}).json["idTagSuffixSeparator"] is None
    assert "idTagSuffixSeparator" not in item(services)
    refused = api.put("/charge-points/CP1", {"idTagSuffixSeparator": ""})  # every tag would lose everything
    assert refused.status == 422 and [error["location"] for error in refused.json["errors"]] == ["body.idTagSuffixSeparator"]


def test_registering_a_connected_station_leaves_its_runtime_state_alone(api, services):
    connect(services)
    station = Station(services)
    station.result("BootNotification", BOOT)
    station.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    before = item(services)
    assert api.put("/charge-points/CP1", {"description": "now registered", "password": PASSWORD}).status == 200
    after = item(services)
    registration = {"description", "passwordHash"}
    assert {k: v for k, v in after.items() if k not in registration} == {k: v for k, v in before.items() if k not in registration}


def test_an_unregistered_station_that_connected_becomes_registered_with_201(api, services):
    services.stations.record_connection("CP9", "conn-9", connected_at=services.clock.now(), source_ip=None)  # policy let it in
    answer = api.put("/charge-points/CP9")
    assert answer.status == 201 and answer.json["registered"] is True and answer.json["connected"] is True


def test_a_station_shows_everything_the_csms_knows(api, services):
    connect(services)
    station = Station(services)
    station.result("BootNotification", BOOT)
    station.result("StatusNotification", {"connectorId": 2, "errorCode": "NoError", "status": "Available", "timestamp": "2026-11-24T09:00:00Z"})
    station.result(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted", "info": "RCD", "vendorErrorCode": "E17", "timestamp": "2026-11-24T09:30:00Z"},
    )
    station.result("Heartbeat", {})
    station.result("FirmwareStatusNotification", {"status": "Downloading"})
    station.result("DiagnosticsStatusNotification", {"status": "Uploaded"})
    services.station_config.merge_configuration("CP1", {"HeartbeatInterval": ConfigurationValue(value="300", readonly=False)}, ["Foo"], at=services.clock.now())
    services.station_config.set_local_list_version("CP1", 3)
    profile = {
        "chargingProfileId": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}]},
    }
    services.station_config.put_profile("CP1", 1, profile, at=services.clock.now())

    answer = api.get("/charge-points/CP1")
    assert answer.status == 200
    view = answer.json
    assert view["connected"] is True and view["connectedAt"].endswith("Z") and view["lastSeenAt"]
    assert view["bootStatus"] == "Accepted" and view["boot"] == BOOT and view["lastBootAt"]
    assert [c["connectorId"] for c in view["connectors"]] == [1, 2]
    faulted = view["connectors"][0]
    assert (faulted["status"], faulted["errorCode"], faulted["info"], faulted["vendorErrorCode"]) == ("Faulted", "GroundFailure", "RCD", "E17")
    assert faulted["reportedAt"] == "2026-11-24T09:30:00.000Z"
    assert view["configuration"]["keys"] == {"HeartbeatInterval": {"value": "300", "readonly": False}}
    assert view["configuration"]["unknownKeys"] == ["Foo"]
    assert view["localListVersion"] == 3
    assert view["chargingProfiles"][0]["connectorId"] == 1
    assert view["chargingProfiles"][0]["chargingProfile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.5  # a number
    assert view["firmwareStatus"]["status"] == "Downloading" and view["diagnosticsStatus"]["status"] == "Uploaded"
    assert view["logStatus"] is None


def test_an_unknown_station_is_404_with_a_message(api):
    answer = api.get("/charge-points/NOPE")
    assert answer.status == 404 and "NOPE" in answer.json["message"]


def test_deleting_a_station_removes_it_and_closes_its_connection(api, services, stations):
    connect(services)
    assert api.delete("/charge-points/CP1").status == 204
    assert stations.closed == ["conn-1"]
    assert api.get("/charge-points/CP1").status == 404
    assert api.delete("/charge-points/CP1").status == 404


def test_deleting_a_station_that_is_not_connected_closes_nothing(api, services, stations):
    api.put("/charge-points/CP1")
    assert api.delete("/charge-points/CP1").status == 204
    assert stations.closed == []


def test_stations_are_listed_page_by_page_among_other_items(api, services, id_tags):
    ids = [f"CP{n}" for n in range(7)]
    for charge_point_id in ids:
        api.put(f"/charge-points/{charge_point_id}")
        id_tags(f"TAG-{charge_point_id}")
    seen, token, pages = [], None, 0
    while True:
        page = api.get("/charge-points", limit=3, **({"nextToken": token} if token else {})).json
        assert len(page["items"]) <= 3
        seen += [station["chargePointId"] for station in page["items"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids) and pages == 3


@pytest.mark.parametrize("token", ["not-a-token", base64.urlsafe_b64encode(b'{"pk":"CP#1"}').decode(), base64.urlsafe_b64encode(b"[1]").decode()])
def test_a_next_token_the_api_did_not_give_is_400(api, token):
    answer = api.get("/charge-points", nextToken=token)
    assert answer.status == 400 and "nextToken" in answer.json["message"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"password": "x" * 41}, "password"),
        ({"lenient": "very"}, "lenient"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_registration_that_breaks_the_schema_is_422_with_a_message_and_no_echo(api, body, location):
    answer = api.put("/charge-points/CP1", body)
    assert answer.status == 422
    assert location in answer.json["message"] and answer.json["errors"][0]["location"].endswith(location)
    assert "x" * 41 not in answer.text


def test_a_body_is_read_as_json_whatever_its_content_type(api):
    """`curl -d` says application/x-www-form-urlencoded unless told otherwise."""
    for content_type, status in (("application/x-www-form-urlencoded", 201), ("text/plain", 200)):
        answer = api.request("PUT", "/charge-points/CP1", raw='{"description": "Lobby"}', content_type=content_type)
        assert answer.status == status and answer.json["description"] == "Lobby"


def test_a_body_that_is_not_json_is_422(api):
    answer = api.request("PUT", "/charge-points/CP1", raw="{not json")
    assert answer.status == 422 and answer.json["message"].startswith("Invalid request")


# --- QR codes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "content_type"), [({}, "image/svg+xml"), ({"format": "svg"}, "image/svg+xml"), ({"format": "png"}, "image/png")])
def test_a_connectors_qr_code_opens_its_start_link(api, query, content_type):
    identity = "CP&1=A+B:2"  # characters a URL would misread unless they are encoded
    api.put(f"/charge-points/{identity}")
    answer = api.get(f"/charge-points/{identity}/connectors/2/qr", **query)
    assert answer.status == 200 and answer.headers["content-type"] == content_type
    assert read_qr_codes(content_type, answer.body) == ["https://app.example.invalid/start?cp=CP%261%3DA%2BB%3A2&connector=2"]


def test_a_png_goes_out_base64_encoded_and_an_svg_as_text(api):
    api.put("/charge-points/CP1")
    png = api.handler(api.event("GET", "/charge-points/CP1/connectors/1/qr", query={"format": "png"}), LambdaContext.for_function(OPERATOR_API))
    svg = api.handler(api.event("GET", "/charge-points/CP1/connectors/1/qr"), LambdaContext.for_function(OPERATOR_API))
    assert png["isBase64Encoded"] is True and base64.b64decode(png["body"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert svg["isBase64Encoded"] is False and "<svg" in svg["body"]


def test_the_qr_code_encodes_the_deployments_template(api, services):
    services.settings = services.settings.model_copy(update={"qr_url_template": "https://drive.example.com/c/{connectorId}/at/{chargePointId}"})
    api.put("/charge-points/CP1")
    answer = api.get("/charge-points/CP1/connectors/3/qr", format="png")
    assert read_qr_codes("image/png", answer.body) == ["https://drive.example.com/c/3/at/CP1"]


def test_no_qr_code_for_a_station_nobody_registered(api, services):
    services.stations.record_connection("CP9", "conn-9", connected_at=services.clock.now(), source_ip=None)  # policy let it in
    for charge_point_id in ("CP9", "NOWHERE"):
        answer = api.get(f"/charge-points/{charge_point_id}/connectors/1/qr")
        assert answer.status == 404 and charge_point_id in answer.json["message"]


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/charge-points/CP1/connectors/0/qr", {}, "path.connectorId"),  # connector 0 is the station as a whole
    ("/charge-points/CP1/connectors/-1/qr", {}, "path.connectorId"),
    ("/charge-points/CP1/connectors/one/qr", {}, "path.connectorId"),
    ("/charge-points/CP1/connectors/1/qr", {"format": "gif"}, "query.format"),
])
def test_a_bad_connector_or_format_is_refused_naming_the_field(api, path, query, field):
    api.put("/charge-points/CP1")
    answer = api.get(path, **query)
    assert answer.status == 422 and [error["location"] for error in answer.json["errors"]] == [field]


# --- id tags -----------------------------------------------------------------------------------------


def test_an_id_tag_is_registered_read_replaced_and_case_insensitive(api):
    created = api.put("/id-tags/abc123", {"status": "Blocked", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "FLEET"})
    assert created.status == 201
    assert created.json == {"idTag": "abc123", "status": "Blocked", "expiryDate": "2027-01-01T00:00:00.000Z", "parentIdTag": "FLEET", "tariffId": None, "activeTransactionId": None, "priority": None, "limits": None, "notifyAtEnergyWh": None, "notify": None}
    assert api.get("/id-tags/ABC123").json["status"] == "Blocked"
    replaced = api.put("/id-tags/ABC123")
    assert replaced.status == 200
    assert replaced.json == {"idTag": "ABC123", "status": "Accepted", "expiryDate": None, "parentIdTag": None, "tariffId": None, "activeTransactionId": None, "priority": None, "limits": None, "notifyAtEnergyWh": None, "notify": None}


def test_replacing_an_id_tag_keeps_its_live_transaction(api, services):
    api.put("/id-tags/TAG1")
    transaction_id = start_transaction(services, "CP1", 1, id_tag="TAG1")
    view = api.put("/id-tags/TAG1", {"status": "Blocked"}).json
    assert view["activeTransactionId"] == transaction_id
    assert services.id_tags.get("TAG1").active_transaction_id == transaction_id


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/id-tags/TAG1", {"status": "ConcurrentTx"}, "body.status"),  # decided per request, never stored
        ("/id-tags/TAG1", {"status": "Fine"}, "body.status"),
        ("/id-tags/TAG1", {"parentIdTag": "P" * 21}, "body.parentIdTag"),
        ("/id-tags/" + "T" * 21, {}, "path.idTag"),  # CiString20
    ],
)
def test_an_id_tag_that_breaks_the_schema_is_422_and_stored_nothing(api, path, body, location):
    answer = api.put(path, body)
    assert answer.status == 422 and [error["location"] for error in answer.json["errors"]] == [location]
    assert location in answer.json["message"]
    assert api.get("/id-tags").json["items"] == []  # nothing registered


def test_deleting_an_id_tag(api):
    api.put("/id-tags/TAG1")
    assert api.delete("/id-tags/tag1").status == 204
    assert api.get("/id-tags/TAG1").status == 404
    assert api.delete("/id-tags/TAG1").json["message"] == "Unknown idTag TAG1"


def test_id_tags_are_listed_page_by_page(api):
    for n in range(5):
        api.put(f"/id-tags/TAG{n}", {"status": "Accepted" if n % 2 else "Blocked"})
    first = api.get("/id-tags", limit=2).json
    second = api.get("/id-tags", limit=10, nextToken=first["nextToken"]).json
    assert len(first["items"]) == 2 and first["nextToken"]
    assert second.get("nextToken") is None
    assert sorted(tag["idTag"] for tag in first["items"] + second["items"]) == [f"TAG{n}" for n in range(5)]


# --- transactions ------------------------------------------------------------------------------------


@pytest.fixture
def sessions(api, services):
    for charge_point_id in ("CP1", "CP2"):
        api.put(f"/charge-points/{charge_point_id}")
    api.put("/id-tags/TAG1")
    stopped = start_transaction(services, "CP1", 1, meter_start=1000, minute=0)
    stop_transaction(services, "CP1", stopped, 4500)
    active = start_transaction(services, "CP1", 2, id_tag="TAG2", meter_start=2000, minute=5)
    other = start_transaction(services, "CP2", 1, id_tag="TAG3", meter_start=0, minute=10)
    return {"stopped": stopped, "active": active, "other": other}


def test_transactions_are_filtered_by_station_and_state(api, sessions):
    def ids(**query):
        return [t["transactionId"] for t in api.get("/transactions", **query).json["items"]]

    assert sorted(ids()) == sorted(sessions.values())
    assert ids(chargePointId="CP1") == [sessions["active"], sessions["stopped"]]  # newest first
    assert ids(chargePointId="CP1", active=True) == [sessions["active"]]
    assert ids(chargePointId="CP1", active=False) == [sessions["stopped"]]
    assert sorted(ids(active=True)) == sorted([sessions["active"], sessions["other"]])
    assert ids(chargePointId="CP3") == []


def test_transactions_of_a_station_page_newest_first(api, sessions):
    first = api.get("/transactions", chargePointId="CP1", limit=1).json
    second = api.get("/transactions", chargePointId="CP1", limit=1, nextToken=first["nextToken"]).json
    assert [first["items"][0]["transactionId"], second["items"][0]["transactionId"]] == [sessions["active"], sessions["stopped"]]
    assert second.get("nextToken") is None or api.get("/transactions", chargePointId="CP1", nextToken=second["nextToken"]).json["items"] == []
    # A token of one listing is refused by the other (its key has other attributes).
    assert api.get("/transactions", nextToken=first["nextToken"]).status == 400


def _all_pages(api, path: str, *, limit: int, **query: Any) -> list[list[int]]:
    """The transaction ids of each page, following nextToken to the end."""
    pages, token = [], None
    while True:
        page = api.get(path, limit=limit, **query, **({"nextToken": token} if token else {})).json
        pages.append([transaction["transactionId"] for transaction in page["items"]])
        token = page.get("nextToken")
        if not token:
            return [ids for ids in pages if ids]  # the last token may lead to an empty page


def test_all_transactions_page_newest_first_across_months_with_none_skipped_or_repeated(api, services, clock):
    for n in range(8):
        services.stations.register(f"CP{n}", {})
    november = [start_transaction(services, f"CP{n}", 1, minute=n) for n in range(5)]
    stop_transaction(services, "CP1", november[1], 2000)
    clock.advance(days=45)  # into January: December recorded nothing, and the year turned
    january = [start_transaction(services, f"CP{n}", 2, minute=n) for n in range(4)]
    stop_transaction(services, "CP2", january[2], 3000)
    newest_first = sorted(november + january, reverse=True)

    pages = _all_pages(api, "/transactions", limit=3)
    assert [ids for page in pages for ids in page] == newest_first
    assert [len(page) for page in pages[:3]] == [3, 3, 3]
    # `active=false` is applied before the limit: full pages of stopped transactions only.
    assert [ids for page in _all_pages(api, "/transactions", limit=1, active=False) for ids in page] == [january[2], november[1]]
    assert sorted(sum(_all_pages(api, "/transactions", limit=2, active=True), [])) == sorted(
        set(newest_first) - {january[2], november[1]}
    )


def test_active_transactions_of_the_whole_network_page_through_every_shard(api, services):
    for n in range(40):
        services.stations.register(f"CP{n}", {})
    started = [start_transaction(services, f"CP{n}", 1) for n in range(40)]
    stopped = set(started[::3])
    for transaction_id in stopped:
        stop_transaction(services, f"CP{started.index(transaction_id)}", transaction_id, 2000)

    pages = _all_pages(api, "/transactions", limit=4, active=True)
    seen = [ids for page in pages for ids in page]
    assert sorted(seen) == sorted(set(started) - stopped) and len(seen) == len(set(seen))
    assert all(len(page) == 4 for page in pages[:-1])
    assert api.get("/transactions", active=True, nextToken=api.get("/transactions", limit=1).json["nextToken"]).status == 400


def test_a_station_deleted_between_pages_is_neither_listed_nor_breaks_the_next_page(api, services):
    for n in range(6):
        api.put(f"/charge-points/CP{n}")
    first = api.get("/charge-points", limit=3).json
    assert api.delete(f"/charge-points/{first['items'][-1]['chargePointId']}").status == 204
    assert api.delete("/charge-points/CP4").status == 204
    rest = api.get("/charge-points", limit=10, nextToken=first["nextToken"]).json
    assert [station["chargePointId"] for station in first["items"] + rest["items"]] == ["CP0", "CP1", "CP2", "CP3", "CP5"]


def test_a_transaction_comes_with_its_meter_values_and_energy_in_wh(api, services, sessions):
    station = Station(services, "CP1")
    station.result(
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": sessions["active"],
            "meterValue": [
                {"timestamp": "2026-11-24T10:06:00Z", "sampledValue": [{"value": "2.5", "unit": "kWh"}]},
                {"timestamp": "2026-11-24T10:07:00Z", "sampledValue": [{"value": "3.2505", "unit": "kWh"}, {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"}]},
            ],
        },
    )
    active = api.get(f"/transactions/{sessions['active']}").json
    assert active["active"] is True and active["connectorId"] == 2 and active["idTag"] == "TAG2"
    assert active["lastMeterWh"] == 3250.5 and active["energyWh"] == 1250.5  # kWh read as Wh, numbers on the wire
    assert [value["timestamp"] for value in active["meterValues"]] == ["2026-11-24T10:06:00Z", "2026-11-24T10:07:00Z"]
    assert active["meterValues"][1]["sampledValue"][1] == {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"}
    stopped = api.get(f"/transactions/{sessions['stopped']}").json
    assert (stopped["active"], stopped["meterStart"], stopped["meterStop"], stopped["energyWh"]) == (False, 1000, 4500, 3500)
    assert stopped["stoppedAt"] == "2026-11-24T11:00:00.000Z" and stopped["meterValues"] == []


def test_an_unknown_transaction_is_404_and_a_non_numeric_id_422(api):
    missing = api.get("/transactions/999")
    assert missing.status == 404 and missing.json["message"] == "Unknown transaction 999"
    assert api.get("/transactions/abc").status == 422


# --- commands ----------------------------------------------------------------------------------------


@pytest.fixture
def connected(api, services):
    connect(services)
    return api


def test_a_command_answered_by_the_station_is_200_with_its_answer(connected, stations):
    stations.replies["Reset"] = {"status": "Accepted"}
    answer = connected.post("/charge-points/CP1/commands/Reset", {"type": "Soft"})
    assert answer.status == 200
    view = answer.json
    assert (view["action"], view["status"], view["request"], view["response"]) == ("Reset", "Answered", {"type": "Soft"}, {"status": "Accepted"})
    assert stations.sent == [("conn-1", [2, view["commandId"], "Reset", {"type": "Soft"}])]
    stored = connected.get(f"/commands/{view['commandId']}").json
    assert stored["status"] == "Answered" and stored["response"] == {"status": "Accepted"} and stored["answeredAt"]


def test_a_command_without_fields_needs_no_body(connected, stations):
    stations.replies["ClearCache"] = {"status": "Accepted"}
    assert connected.post("/charge-points/CP1/commands/ClearCache").json["response"] == {"status": "Accepted"}


def test_a_call_error_is_502_with_its_code_and_description(connected, stations):
    stations.replies["UnlockConnector"] = ErrorCode.NOT_SUPPORTED
    answer = connected.post("/charge-points/CP1/commands/UnlockConnector", {"connectorId": 1})
    assert answer.status == 502
    body = answer.json
    assert (body["code"], body["description"], body["details"], body["status"]) == ("NotSupported", "it failed", {"why": 42}, "Failed")
    assert "NotSupported" in body["message"] and body["commandId"]


def test_an_answer_that_breaks_the_schema_is_502(connected, stations):
    stations.replies["Reset"] = {"status": "Maybe"}
    answer = connected.post("/charge-points/CP1/commands/Reset", {"type": "Hard"})
    assert answer.status == 502 and answer.json["code"] == "PropertyConstraintViolation"


def test_no_answer_in_time_is_504_and_a_late_answer_is_still_kept(connected, services, stations):
    services.settings = services.settings.model_copy(update={"command_wait_seconds": 0.3})
    started = time.monotonic()
    answer = connected.post("/charge-points/CP1/commands/GetLocalListVersion")
    assert answer.status == 504 and time.monotonic() - started < 3
    command_id = answer.json["commandId"]
    assert answer.json["status"] == "Sent" and command_id in answer.json["message"]
    stations.answer(command_id, {"listVersion": 4})
    late = connected.get(f"/commands/{command_id}").json
    assert late["status"] == "Answered" and late["response"] == {"listVersion": 4}
    assert connected.get("/charge-points/CP1").json["localListVersion"] == 4


def test_wait_false_is_202_with_the_command_id_at_once(connected, stations):
    answer = connected.post("/charge-points/CP1/commands/ClearCache", {}, wait=False)
    assert answer.status == 202 and answer.json["status"] == "Sent" and answer.json["response"] is None
    assert stations.sent[0][1][1] == answer.json["commandId"]
    queued = connected.post("/charge-points/CP1/commands/Reset", {"type": "Soft"}, wait=False)
    assert queued.status == 202 and queued.json["status"] == "Queued"  # one CALL outstanding per station


def test_a_station_that_is_not_connected_is_409(api, services, stations):
    api.put("/charge-points/CP1")
    answer = api.post("/charge-points/CP1/commands/Reset", {"type": "Soft"})
    assert answer.status == 409 and "not connected" in answer.json["message"]
    assert stations.sent == []


def test_a_connection_gone_when_the_call_goes_out_is_409_too(connected, stations):
    stations.gone.add("conn-1")
    answer = connected.post("/charge-points/CP1/commands/Reset", {"type": "Soft"})
    assert answer.status == 409 and answer.json["code"] == "StationNotConnected" and answer.json["commandId"]


def test_an_unknown_station_is_404(api, stations):
    answer = api.post("/charge-points/NOPE/commands/Reset", {"type": "Soft"})
    assert answer.status == 404 and "NOPE" in answer.json["message"]


@pytest.mark.parametrize(
    ("action", "payload", "words"),
    [
        ("Reset", {"type": "Gentle"}, "PropertyConstraintViolation"),
        ("Reset", {}, "ProtocolError"),
        ("UnlockConnector", {"connectorId": "1"}, "TypeConstraintViolation"),
        ("Reset", {"type": "Soft", "force": True}, "FormationViolation"),
        ("Heartbeat", {}, "Heartbeat is not an OCPP 1.6 action a central system sends"),
        ("Explode", {}, "Explode is not"),
    ],
)
def test_a_payload_or_action_the_central_system_cannot_send_is_400_and_nothing_goes_out(connected, stations, action, payload, words):
    answer = connected.post(f"/charge-points/CP1/commands/{action}", payload)
    assert answer.status == 400 and words in answer.json["message"]
    assert stations.sent == []


def test_a_body_that_is_not_a_json_object_is_422(connected, stations):
    answer = connected.post("/charge-points/CP1/commands/Reset", [1, 2])
    assert answer.status == 422 and "JSON object" in answer.json["message"]
    assert stations.sent == []


def test_send_local_list_is_split_into_frames_and_answered_with_the_last(connected, services, stations):
    stations.replies["SendLocalList"] = {"status": "Accepted"}
    entries = [{"idTag": f"TAG{n:05d}", "idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z"}} for n in range(700)]
    answer = connected.post("/charge-points/CP1/commands/SendLocalList", {"listVersion": 9, "updateType": "Full", "localAuthorizationList": entries})
    assert answer.status == 200
    view = answer.json
    frames = [message for _, message in stations.sent]
    assert len(frames) > 1 and view["parts"] == [frame[1] for frame in frames] and view["commandId"] == frames[-1][1]
    assert [frame[3]["updateType"] for frame in frames] == ["Full"] + ["Differential"] * (len(frames) - 1)
    assert sum(len(frame[3]["localAuthorizationList"]) for frame in frames) == 700
    assert view["request"]["listVersion"] == 9 and view["response"] == {"status": "Accepted"}
    assert connected.get("/charge-points/CP1").json["localListVersion"] == 9


def test_rotating_the_authorization_key_never_returns_stores_or_logs_it(connected, services, stations, captured_logs):
    stations.replies["ChangeConfiguration"] = {"status": "Accepted"}
    answer = connected.post("/charge-points/CP1/commands/ChangeConfiguration", {"key": "AuthorizationKey", "value": AUTHORIZATION_KEY})
    assert answer.status == 200 and answer.json["request"] == {"key": "AuthorizationKey", "value": "***"}
    assert stations.sent[0][1][3]["value"] == AUTHORIZATION_KEY  # the station, and only it, gets the key
    assert verify_password(AUTHORIZATION_KEY, item(services)["passwordHash"])
    readable = [connected.get(f"/commands/{answer.json['commandId']}"), connected.get("/charge-points/CP1/commands"), connected.get("/charge-points/CP1")]
    for reply in [answer, *readable]:
        assert AUTHORIZATION_KEY not in reply.text
    assert AUTHORIZATION_KEY not in captured_logs()


def test_a_station_command_history_is_newest_first(connected, stations, clock):
    for action, payload in (("ClearCache", {}), ("Reset", {"type": "Soft"}), ("GetLocalListVersion", {})):
        connected.post(f"/charge-points/CP1/commands/{action}", payload, wait=False)
        clock.advance(seconds=1)
    history = connected.get("/charge-points/CP1/commands").json["items"]
    assert [command["action"] for command in history] == ["GetLocalListVersion", "Reset", "ClearCache"]
    assert [command["action"] for command in connected.get("/charge-points/CP1/commands", limit=1).json["items"]] == ["GetLocalListVersion"]


def test_a_station_command_history_pages_with_next_token(connected, clock):
    for action, payload in (("ClearCache", {}), ("Reset", {"type": "Soft"}), ("GetLocalListVersion", {})):
        connected.post(f"/charge-points/CP1/commands/{action}", payload, wait=False)
        clock.advance(seconds=1)
    first = connected.get("/charge-points/CP1/commands", limit=2).json
    assert [command["action"] for command in first["items"]] == ["GetLocalListVersion", "Reset"]
    last = connected.get("/charge-points/CP1/commands", limit=2, nextToken=first["nextToken"]).json
    assert [command["action"] for command in last["items"]] == ["ClearCache"] and last["nextToken"] is None
    # Exactly a page's worth: no next page that would turn out empty.
    assert connected.get("/charge-points/CP1/commands", limit=3).json["nextToken"] is None
    # A token is read back only by the listing that gave it.
    assert connected.get("/charge-points/CP2/commands", nextToken=first["nextToken"]).json == {"items": [], "nextToken": None}
    made_up = connected.get("/charge-points/CP1/commands", nextToken="bm90LWEta2V5")
    assert made_up.status == 400 and made_up.json["message"] == "nextToken is not a token this listing gave"


def test_an_unknown_command_is_404(api):
    answer = api.get("/commands/no-such-command")
    assert answer.status == 404 and "no-such-command" in answer.json["message"]


@pytest.mark.parametrize("action", sorted(CENTRAL_SYSTEM_ACTIONS))
def test_every_central_system_action_goes_out_as_sent(connected, stations, action):
    answer = connected.post(f"/charge-points/CP1/commands/{action}", COMMAND_EXAMPLES[action], wait=False)
    assert answer.status == 202
    assert stations.sent == [("conn-1", [2, answer.json["commandId"], action, COMMAND_EXAMPLES[action]])]


# --- remote stop by connector ----------------------------------------------------------------------


def test_stopping_a_connector_stops_its_active_transaction(connected, services, stations):
    old = start_transaction(services, "CP1", 1, minute=0)
    stop_transaction(services, "CP1", old, 2000)
    active = start_transaction(services, "CP1", 1, id_tag="TAG3", minute=1)
    start_transaction(services, "CP1", 2, id_tag="TAG2", minute=2)  # newer, on another connector
    stations.replies["RemoteStopTransaction"] = {"status": "Accepted"}
    answer = connected.post("/charge-points/CP1/connectors/1/stop")
    assert answer.status == 200 and answer.json["response"] == {"status": "Accepted"}
    assert answer.json["request"] == {"transactionId": active}
    assert stations.sent == [("conn-1", [2, answer.json["commandId"], "RemoteStopTransaction", {"transactionId": active}])]


def test_stopping_a_connector_without_an_active_transaction_is_404(connected, services, stations):
    stopped = start_transaction(services, "CP1", 1)
    stop_transaction(services, "CP1", stopped, 2000)
    answer = connected.post("/charge-points/CP1/connectors/1/stop")
    assert answer.status == 404 and "connector 1" in answer.json["message"]
    unknown = connected.post("/charge-points/NOPE/connectors/1/stop")
    assert unknown.status == 404 and unknown.json["message"] == "Unknown charge point NOPE: register it with PUT /charge-points/NOPE"
    assert connected.post("/charge-points/CP1/connectors/0/stop").status == 422
    assert stations.sent == []


def test_stopping_a_connector_waits_like_any_command(connected, services, stations):
    transaction_id = start_transaction(services, "CP1", 1)
    answer = connected.post("/charge-points/CP1/connectors/1/stop", wait=False)
    assert answer.status == 202 and answer.json["status"] == "Sent" and answer.json["response"] is None
    assert stations.sent == [("conn-1", [2, answer.json["commandId"], "RemoteStopTransaction", {"transactionId": transaction_id}])]


# --- OpenAPI, errors ---------------------------------------------------------------------------------


def test_openapi_describes_every_route_with_its_answers(api):
    answer = api.get("/openapi.json")
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    spec = answer.json
    documented = {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}
    routes = {
        (route.method, route.openapi_path)
        for route in app._static_routes + app._dynamic_routes
        if route.include_in_schema
    }
    assert documented == routes
    assert {
        ("PUT", "/charge-points/{chargePointId}"), ("GET", "/charge-points/{chargePointId}"), ("DELETE", "/charge-points/{chargePointId}"),
        ("GET", "/charge-points"), ("GET", "/network/counts"), ("PUT", "/id-tags/{idTag}"), ("GET", "/id-tags/{idTag}"), ("DELETE", "/id-tags/{idTag}"),
        ("GET", "/id-tags"), ("GET", "/transactions"), ("GET", "/transactions/{transactionId}"),
        ("POST", "/charge-points/{chargePointId}/commands/{action}"), ("GET", "/commands/{commandId}"),
        ("GET", "/charge-points/{chargePointId}/commands"), ("POST", "/charge-points/{chargePointId}/connectors/{connectorId}/stop"),
    } <= documented
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] and operation.get("tags"), (method, path)
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    command = spec["paths"]["/charge-points/{chargePointId}/commands/{action}"]["post"]
    assert set(command["responses"]) >= {"200", "202", "400", "404", "409", "502", "504"}


def test_openapi_describes_each_action_and_its_request_body(api):
    spec = api.get("/openapi.json").json
    command = spec["paths"]["/charge-points/{chargePointId}/commands/{action}"]["post"]
    action = next(p for p in command["parameters"] if p["name"] == "action")
    assert set(action["schema"]["enum"]) == CENTRAL_SYSTEM_ACTIONS
    content = command["requestBody"]["content"]["application/json"]
    body_models = {ref["$ref"].rsplit("/", 1)[1] for ref in content["schema"]["anyOf"] if "$ref" in ref}
    assert body_models == CENTRAL_SYSTEM_ACTIONS
    assert set(content["examples"]) == CENTRAL_SYSTEM_ACTIONS
    reset_type = spec["components"]["schemas"]["Reset"]["properties"]["type"]
    if "$ref" in reset_type:
        reset_type = spec["components"]["schemas"][reset_type["$ref"].rsplit("/", 1)[1]]
    assert reset_type["enum"] == ["Hard", "Soft"]
    for name, example in content["examples"].items():
        parse_request(name, example["value"])  # each example is a valid 1.6 request of its action


def test_each_router_loaded_on_demand_is_loaded_for_exactly_its_own_paths():
    for on_demand in ON_DEMAND_ROUTERS:
        router = importlib.import_module(on_demand.module).router
        assert {rule for rule, *_ in router._routes} == set(on_demand.paths), on_demand.module


def test_loading_a_router_on_demand_never_changes_which_route_answers():
    # No path of an on-demand router is one a router of the cold start, or another on-demand router, also matches.
    cold_start = OnDemandRouter("cold start", tuple(rule for router in COLD_START_ROUTERS for rule, *_ in router._routes))
    for on_demand in ON_DEMAND_ROUTERS:
        for template in on_demand.paths:
            path = re.sub(r"<\w+>", "x", template)
            assert not cold_start.serves(path), path
            assert [other.module for other in ON_DEMAND_ROUTERS if other.serves(path)] == [on_demand.module]


def test_swagger_ui_is_served_at_docs(api):
    answer = api.get("/docs")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/html")
    assert "swagger" in answer.text.lower() and "/charge-points/{chargePointId}/commands/{action}" in answer.text


def test_an_unknown_route_is_a_json_404(api):
    answer = api.get("/nothing-here")
    assert answer.status == 404 and answer.json == {"message": "No such route: see GET /openapi.json"}


def test_an_unexpected_failure_is_a_json_500_and_logged(api, captured_logs):
    def broken():
        raise RuntimeError("the table is on fire")

    app.dependency_overrides[get_services] = broken
    answer = api.get("/charge-points/CP1")
    assert answer.status == 500 and answer.json == {"message": "Internal server error"}
    assert "the table is on fire" in captured_logs()


# --- bodies that used to crash the function answer 4xx with a message ---------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"description": ' + "[" * 1000 + "]" * 1000 + "}", "The request body nested more than 32 levels deep"),
        ("[" * 100_000 + "]" * 100_000, "The request body nested more than 32 levels deep"),
        ('{"description": "lobby \\ud800"}', "The request body holds a string that is not valid Unicode text"),
    ],
)
def test_a_body_no_message_can_hold_is_400_and_changes_nothing(api, services, raw, message):
    answer = api.request("PUT", "/charge-points/CP7", raw=raw)
    assert (answer.status, answer.json["message"]) == (400, message)
    assert services.stations.get("CP7") is None


def test_a_body_that_is_not_utf8_is_400(api):
    event_body = base64.b64encode(b'{"description": "caf\xe9"}').decode()
    answer = api.request_event("PUT", "/charge-points/CP7", event_body, base64_encoded=True)
    assert (answer.status, answer.json["message"]) == (400, "The request body is not UTF-8 text")


def test_an_integer_of_39_digits_in_a_command_payload_is_400_and_sends_nothing(connected, stations):
    answer = connected.request("POST", "/charge-points/CP1/commands/GetCompositeSchedule", raw='{"connectorId": 1, "duration": ' + "9" * 39 + "}")
    assert (answer.status, answer.json["message"]) == (400, "The request body holds an integer of more than 38 digits")
    assert stations.sent == []


def test_an_expiry_date_after_the_year_9999_in_utc_is_422(api, services):
    answer = api.put("/id-tags/TAG9", {"status": "Accepted", "expiryDate": "9999-12-31T23:59:59-01:00"})
    assert answer.status == 422 and answer.json["errors"][0]["location"] == "body.expiryDate"
    assert services.id_tags.get("TAG9") is None


@pytest.mark.parametrize("value", ["yes", "true", 1, "1"])
def test_booleans_are_booleans(api, services, value):
    answer = api.put("/charge-points/CP7", {"lenient": value})
    assert answer.status == 422 and answer.json["errors"][0]["location"] == "body.lenient"
    assert services.stations.get("CP7") is None


@pytest.mark.parametrize("identity", ["Hall 1", "..%2F..%2Fetc", "CP%00", "CP%5C1", "%F0%9F%98%80", "A" * 49])
def test_a_station_identity_outside_the_rule_cannot_be_registered(api, identity):
    answer = api.put(f"/charge-points/{identity}", {})
    assert answer.status == 422 and answer.json["errors"][0]["location"] == "path.chargePointId"


def test_the_longest_identity_the_rule_allows_is_registered(api):
    assert api.put(f"/charge-points/{'A' * 48}", {}).status == 201


# --- the operator console's pages -------------------------------------------------------------------------


def test_the_console_is_served_beside_the_api_its_pages_confined_to_this_origin(api):
    assert api.get("/console").status == 302 and api.get("/console").headers["location"] == "/console/"
    page = api.get("/console/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self';" in policy and "frame-ancestors 'none'" in policy
    script = api.get("/console/app.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"  # a deploy is seen at the next load


def test_the_console_serves_only_its_own_files(api):
    for name in ("handler.py", "..%2Fapp.py", "missing.js"):
        reply = api.get(f"/console/{name}")
        assert reply.status == 404 and reply.json["message"].startswith("The console has no file")
    assert not [path for path in api.get("/openapi.json").json["paths"] if path.startswith("/console")]


def test_the_console_is_told_how_to_sign_in_and_where_stations_connect(api, services):
    assert api.get("/console/config.json").json == {"signIn": None, "stationUrl": None}
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
    services.settings = services.settings.model_copy(
        update={"console_jwt_issuer": issuer, "console_client_id": "console-client", "station_url": "wss://ocpp.example.com/ocpp/"}
    )
    assert api.get("/console/config.json").json == {
        "signIn": {"issuer": issuer, "clientId": "console-client"},
        "stationUrl": "wss://ocpp.example.com/ocpp/",
    }
    # The sign-in provider's discovery and token endpoints: the pages' only calls elsewhere.
    assert "connect-src 'self' https:;" in api.get("/console/").headers["content-security-policy"]


def test_every_module_a_console_page_imports_is_shipped():
    from csms.operator.console import ASSETS_DIR

    scripts = {path.name: path.read_text() for path in ASSETS_DIR.glob("*.js")}
    imported = {name for text in scripts.values() for name in re.findall(r'from "\./([\w.-]+)"', text)}
    assert imported and imported <= set(scripts)
    assert re.findall(r'(?:src|href)="([\w.-]+\.\w+)"', (ASSETS_DIR / "index.html").read_text()) == ["icon.svg", "style.css", "app.js"]
    assert {"icon.svg", "style.css", "app.js"} <= {path.name for path in ASSETS_DIR.iterdir()}


def test_concurrent_requests_on_threads_never_cross(api, services):
    """The local runtime resolves requests on worker threads of one process: each resolves with its own resolver
    (Powertools keeps a request's route and arguments on the resolver, its `context`)."""
    seen = []

    def resolver() -> None:
        seen.append(current_app())

    threads = [threading.Thread(target=resolver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(found) for found in seen}) == 3 and app not in seen
    assert current_app() is app  # the importing thread's (Lambda's only one)


def test_a_request_resolved_while_another_is_being_resolved_does_not_replace_it(api, services, monkeypatch):
    """The local runtime resolves concurrent requests on threads of one process. Deterministic interleaving: CP2's
    whole request runs while CP1's has been received but not yet routed (Powertools kept the request on a class
    shared by every resolver, so CP1's request was answered with CP2)."""
    for charge_point_id in ("CP1", "CP2"):
        services.stations.register(charge_point_id, {})
    resolve = OperatorApiResolver._resolve
    answers: dict[str, int] = {}

    def other_request_first(resolver: OperatorApiResolver) -> Any:
        if threading.current_thread() is threading.main_thread():
            other = threading.Thread(target=lambda: answers.update(CP2=Client().get("/charge-points/CP2").status))
            other.start()
            other.join()
        return resolve(resolver)

    monkeypatch.setattr(OperatorApiResolver, "_resolve", other_request_first)
    first = api.get("/charge-points/CP1")
    assert answers == {"CP2": 200}
    assert first.status == 200 and first.json["chargePointId"] == "CP1"
