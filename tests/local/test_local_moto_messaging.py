"""local.moto_messaging: moto's EventBridge -> SQS path answers as before, at the cost of what an event touches."""

from __future__ import annotations

import json

import boto3
import jsonpath_ng.ext
import pytest
from moto.sqs.models import Queue

from local.aws import ACCOUNT_ID, REGION, emulated_aws
from local.moto_messaging import _QueueAttributes


@pytest.fixture
def sqs():
    with emulated_aws("csms-test"):
        yield boto3.client("sqs", region_name=REGION)


def _queue(name: str) -> Queue:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT_ID][REGION].get_queue(name)


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        {"KmsMasterKeyId": "alias/aws/sqs", "Policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
        {"RedrivePolicy": json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:dead", "maxReceiveCount": "3"})},
    ],
)
def test_queue_attributes_one_at_a_time_are_motos_own(sqs, attributes):
    sqs.create_queue(QueueName="dead")
    name = "q.fifo" if attributes.get("FifoQueue") else "q"
    sqs.create_queue(QueueName=name, Attributes=attributes)
    queue = _queue(name)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    group = {"MessageGroupId": "g"} if attributes.get("FifoQueue") else {}
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", **group)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)  # messages visible and in flight both count
    eager = dict(_moto_attributes(queue))
    lazy = _QueueAttributes(queue)
    assert list(lazy) == list(eager)
    assert {name: lazy[name] for name in lazy} == eager
    assert lazy.get("Nope") is None and "Nope" not in lazy


def _moto_attributes(queue: Queue) -> dict[str, object]:
    import local.moto_messaging as messaging

    return messaging._patches.original(Queue, "attributes").fget(queue)


def test_a_queue_receives_in_order_and_hands_out_each_message_once(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for n in range(15):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first + second] == [f"m{n}" for n in range(15)]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "15"


def test_an_event_reaches_a_queue_target_as_moto_shapes_it(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["csms"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q"}])
    for n in range(2):
        events.put_events(Entries=[{"Source": "csms", "DetailType": "SessionStarted", "Detail": json.dumps({"n": n})}])
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert [(body["source"], body["detail-type"], body["detail"]) for body in bodies] == [
        ("csms", "SessionStarted", {"n": 0}), ("csms", "SessionStarted", {"n": 1})
    ]
    assert jsonpath_ng.ext.parse.cache_info().hits > 0  # the second event's input paths were not parsed again


def test_moto_is_itself_again_after_the_runtime():
    with emulated_aws("csms-test"):
        pass
    assert not hasattr(jsonpath_ng.ext.parse, "cache_info")
    assert isinstance(Queue.__dict__["attributes"], property)
    assert Queue.__dict__["attributes"].fget.__module__.startswith("moto.")
