"""Driver notifications against emulated AWS: the id tag's webhook (its secret write-only), and delivery from the
queue to a real HTTP server in the test (signature verified here), retried with backoff, then dead-lettered."""

from __future__ import annotations

import json

import boto3
import pytest

from csms.domain.notifications import MAX_ATTEMPTS
from csms.notifications.delivery import handle_messages
from tests.fakes.webhook import webhook_server
from tests.integration.test_operator_api import Client, stations  # noqa: F401  (stations: a fixture)

SECRET = "s3cret-of-the-driver-app"


@pytest.fixture
def api(stations) -> Client:  # noqa: F811
    return Client()


@pytest.fixture
def webhook():
    with webhook_server() as server:
        yield server


# --- the id tag's webhook --------------------------------------------------------------------------------


def test_the_webhook_secret_is_write_only(api, services, webhook):
    put = api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
    assert put.status == 201 and put.json["notify"] == {"webhookUrl": webhook.url}
    for answer in (put, api.get("/id-tags/DRIVER"), api.get("/id-tags"), api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})):
        assert SECRET not in json.dumps(answer.json)
    assert services.id_tags.webhook("driver").secret == SECRET  # only the notifications function reads it
    assert api.put("/id-tags/DRIVER", {"status": "Accepted"}).json["notify"] is None  # left out: cleared
    assert services.id_tags.webhook("DRIVER") is None


@pytest.mark.parametrize(
    ("notify", "location"),
    [
        ({"webhookUrl": "http://app.example.com/hook", "webhookSecret": SECRET}, "body.notify.webhookUrl"),
        ({"webhookUrl": "ftp://127.0.0.1/hook", "webhookSecret": SECRET}, "body.notify.webhookUrl"),
        ({"webhookUrl": "https:///hook", "webhookSecret": SECRET}, "body.notify.webhookUrl"),
        ({"webhookUrl": "https://app.example.com/hook", "webhookSecret": "short"}, "body.notify.webhookSecret"),
        ({"webhookUrl": "https://app.example.com/hook"}, "body.notify.webhookSecret"),
    ],
)
def test_a_webhook_must_be_https_with_a_real_secret(api, notify, location):
    answer = api.put("/id-tags/DRIVER", {"notify": notify})
    assert answer.status == 422 and [error["location"] for error in answer.json["errors"]] == [location]
    assert api.get("/id-tags/DRIVER").status == 404


def test_https_and_local_http_webhooks_are_accepted(api):
    for url in ("https://app.example.com/hooks/1", "http://localhost:8000/hook", "http://127.0.0.1:9/h"):
        assert api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": url, "webhookSecret": SECRET}}).json["notify"] == {"webhookUrl": url}


# --- delivery from the queue ------------------------------------------------------------------------------


EVENT = {
    "version": "0", "id": "e1", "detail-type": "SessionStarted", "source": "csms.sessions", "account": "123456789012",
    "time": "2026-11-24T10:00:00Z", "region": "us-east-1", "resources": [],
    "detail": {"eventId": "ev-1", "schemaVersion": "1.0", "occurredAt": "2026-11-24T10:00:00.000Z", "chargePointId": "CP1",
               "connectorId": 1, "transactionId": 7, "idTag": "driver", "note": "Zürich"},
}  # fmt: skip


@pytest.fixture
def queue(services):
    """The function's queue and its dead-letter queue, as the stack makes them."""
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName="notifications-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="notifications",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_ATTEMPTS)})},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn, dead_letters


def poll_once(services, queue) -> dict | None:
    """What Lambda's poller does once: receive a batch, invoke, delete what was not reported failed."""
    sqs, url, arn, _ = queue
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    if not messages:
        return None
    records = [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": m["Attributes"], "eventSourceARN": arn}
        for m in messages
    ]
    result = handle_messages({"Records": records}, services)
    failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
    for record in records:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return result


def test_an_event_is_posted_to_its_driver_s_webhook_signed_over_the_exact_body(api, services, webhook, queue):
    api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    assert poll_once(services, queue) == {"batchItemFailures": []}
    (post,) = webhook.received
    assert post.path == "/hooks/driver" and post.json == EVENT["detail"]
    assert post.signed_with(SECRET) and not post.signed_with("another-secret-of-16")
    assert post.headers["X-CSMS-Event-Type"] == "SessionStarted"
    assert post.headers["Content-Type"] == "application/json"
    assert poll_once(services, queue) is None  # delivered: deleted


def test_an_event_of_a_driver_without_a_webhook_is_done_without_a_post(api, services, webhook, queue):
    api.put("/id-tags/DRIVER")
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    assert poll_once(services, queue) == {"batchItemFailures": []}
    assert webhook.received == []


def test_a_failed_post_waits_its_backoff_before_the_next_try(api, services, webhook, queue):
    api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
    webhook.answers = [503]
    services.settings = services.settings.model_copy(update={"webhook_retry_seconds": 30})
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    assert len(poll_once(services, queue)["batchItemFailures"]) == 1
    assert poll_once(services, queue) is None  # invisible for its 30 s backoff, not retried at once
    attributes = queue[0].get_queue_attributes(QueueUrl=queue[1], AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_webhook_that_keeps_failing_is_tried_max_attempts_times_then_dead_lettered(api, services, webhook, queue):
    api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
    webhook.answers = [500] * 20
    services.settings = services.settings.model_copy(update={"webhook_retry_seconds": 0})  # backoff 0: the test does not wait
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    while poll_once(services, queue) is not None:
        pass
    assert len(webhook.received) == MAX_ATTEMPTS
    (dead,) = queue[0].receive_message(QueueUrl=queue[3])["Messages"]
    assert json.loads(dead["Body"]) == EVENT


def test_a_retried_post_that_succeeds_ends_the_delivery(api, services, webhook, queue):
    api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
    webhook.answers = [500, 500]
    services.settings = services.settings.model_copy(update={"webhook_retry_seconds": 0})
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    while poll_once(services, queue) is not None:
        pass
    assert len(webhook.received) == 3 and len({post.body for post in webhook.received}) == 1
    assert "Messages" not in queue[0].receive_message(QueueUrl=queue[3])


def test_a_redirect_is_not_followed_and_is_no_delivery(api, services, webhook, queue):
    with webhook_server() as elsewhere:
        api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": webhook.url, "webhookSecret": SECRET}})
        webhook.answers, webhook.redirect_to = [307], elsewhere.url
        queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
        assert len(poll_once(services, queue)["batchItemFailures"]) == 1
        assert elsewhere.received == []


def test_an_unreachable_webhook_fails_the_message_only(api, services, queue):
    api.put("/id-tags/DRIVER", {"notify": {"webhookUrl": "http://127.0.0.1:9/nobody", "webhookSecret": SECRET}})
    queue[0].send_message(QueueUrl=queue[1], MessageBody=json.dumps(EVENT))
    assert len(poll_once(services, queue)["batchItemFailures"]) == 1
