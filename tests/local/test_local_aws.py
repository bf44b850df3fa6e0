"""emulated_aws(): fake credentials, the table, atomic moto under threads, non-AWS traffic let through."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import requests
from moto import mock_aws
from moto.core.models import botocore_stubber

from csms.adapters.dynamodb.schema import create_table_request
from local.aws import emulated_aws


def test_credentials_are_fake_and_the_environment_is_restored(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.example.com")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    with emulated_aws("csms-test"):
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == "https://dynamodb.example.com"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY"


def test_the_table_is_created_from_the_shared_schema():
    with emulated_aws("csms-test"):
        table = boto3.client("dynamodb").describe_table(TableName="csms-test")["Table"]
    expected = create_table_request("csms-test")
    assert table["KeySchema"] == expected["KeySchema"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == [
        index["IndexName"] for index in expected["GlobalSecondaryIndexes"]
    ]


def test_moto_requests_are_serialised_only_inside_the_context():
    assert "process_request" not in vars(botocore_stubber)
    with emulated_aws("csms-test"):
        assert "process_request" in vars(botocore_stubber)
    assert "process_request" not in vars(botocore_stubber)


def _authorization_sent(client) -> bytes | None:
    sent: dict[str, bytes | None] = {}

    def look(request, **_):
        sent["authorization"] = request.headers.get("Authorization")

    client.meta.events.register_first("before-send", look)  # before moto answers
    client.list_tables()
    return sent["authorization"]


def test_requests_go_unsigned_only_inside_the_context():
    # moto checks no signature: signing was 6 % of the runtime's CPU under load.
    with emulated_aws("csms-test"):
        made_inside = boto3.client("dynamodb")
        assert _authorization_sent(made_inside) is None
    with mock_aws():  # moto without the local runtime's setup: signed as on AWS
        made_after = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        assert _authorization_sent(made_after).startswith(b"AWS4-HMAC-SHA256")
        assert _authorization_sent(made_inside).startswith(b"AWS4-HMAC-SHA256")


def test_requests_are_signed_while_moto_enforces_iam(monkeypatch):
    # Its enforcement (the least-privilege proof turns it on) finds the caller's key in the signature.
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    with emulated_aws("csms-test"):
        client = boto3.client("dynamodb")
        # On, from the 1,000th request counted (the count runs across the whole test session: restart it).
        monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 1_000)
        monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
        assert _authorization_sent(client).startswith(b"AWS4-HMAC-SHA256")
        monkeypatch.undo()
        assert _authorization_sent(client) is None


def test_conditional_writes_and_counters_stay_atomic_across_threads():
    with emulated_aws("csms-test"):
        client = boto3.client("dynamodb")

        def claim(n: int) -> bool:
            try:
                client.put_item(
                    TableName="csms-test",
                    Item={"pk": {"S": "CONNECTION#CP001"}, "sk": {"S": "current"}, "n": {"N": str(n)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                return True
            except client.exceptions.ConditionalCheckFailedException:
                return False

        def next_transaction_id(_: int) -> int:
            item = client.update_item(
                TableName="csms-test",
                Key={"pk": {"S": "COUNTER"}, "sk": {"S": "transactionId"}},
                UpdateExpression="ADD #v :one",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            return int(item["Attributes"]["value"]["N"])

        # Switching threads very often makes moto's read-check-write interleave if nothing stops it.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            with ThreadPoolExecutor(max_workers=16) as pool:
                claims = list(pool.map(claim, range(64)))
                ids = list(pool.map(next_transaction_id, range(200)))
        finally:
            sys.setswitchinterval(interval)
    assert claims.count(True) == 1
    assert sorted(ids) == list(range(1, 201))


def test_threads_meeting_a_new_client_s_exceptions_at_once_get_the_same_classes(monkeypatch):
    """botocore builds a client's exception classes on first use; two threads doing it at once must not each get
    their own (an `except` in one would not catch what the other raised)."""
    from botocore.errorfactory import ClientExceptionsFactory

    both_building = threading.Barrier(2, timeout=0.5)
    build = ClientExceptionsFactory._create_client_exceptions

    def build_alongside_another(factory, service_model):
        with contextlib.suppress(threading.BrokenBarrierError):  # serialised: the other thread never comes
            both_building.wait()
        return build(factory, service_model)

    monkeypatch.setattr(ClientExceptionsFactory, "_create_client_exceptions", build_alongside_another)
    with emulated_aws("csms-test"):
        session = boto3.session.Session()
        clients = [session.client("stepfunctions"), session.client("stepfunctions")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            classes = list(pool.map(lambda client: client.exceptions.ExecutionDoesNotExist, clients))
    assert classes[0] is classes[1]


def test_requests_to_non_aws_urls_go_out_for_real():
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with emulated_aws("csms-test"):
            response = requests.get(f"http://127.0.0.1:{server.server_address[1]}/", timeout=2)
    finally:
        server.shutdown()
    assert (response.status_code, response.text) == (200, "hello")


def test_moto_config_adds_to_sections_without_dropping_their_defaults():
    from moto.core.config import default_user_config

    with emulated_aws("csms-test", moto_config={"stepfunctions": {"execute_state_machine": True}}):
        assert default_user_config["stepfunctions"]["execute_state_machine"] is True
        assert default_user_config["core"]["mock_credentials"] is False
        assert default_user_config["core"]["reset_boto3_session"] is True
    assert default_user_config["stepfunctions"]["execute_state_machine"] is False
