"""The CSMS bus for billing partners and drivers' notifications: archive, dead letters, partner routes."""

from __future__ import annotations

import json
from typing import Any

from infra.manifest import FUNCTIONS
from tests.infra.conftest import BILLING_EXPORT, FULL_CONTEXT, Synthesized
from tests.infra.iam_enforcement import as_list


def rules(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        rule["Properties"]["Description"]: rule["Properties"]
        for rule in synthesized.resources("AWS::Events::Rule").values()
    }


def test_a_custom_bus_with_an_archive_of_everything_for_replay(deployed: Synthesized, full: Synthesized):
    bus = deployed.logical_id(deployed.stack.events.bus)
    (archive,) = deployed.resources("AWS::Events::Archive").values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus, "Arn"]}
    assert archive["Properties"]["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}
    assert archive["Properties"]["RetentionDays"] == 365
    (archive,) = full.resources("AWS::Events::Archive").values()
    assert archive["Properties"]["RetentionDays"] == FULL_CONTEXT["eventArchiveRetentionDays"]


def test_each_partner_has_its_own_dead_letter_queue_encrypted_and_tls_only(deployed: Synthesized, full: Synthesized):
    assert deployed.stack.events.dead_letter_queues == {}  # no partner, no queue
    queues = full.stack.events.dead_letter_queues
    assert sorted(queues) == sorted(
        partner["name"] for partner in (*FULL_CONTEXT["partnerEventBuses"], *FULL_CONTEXT["partnerApiDestinations"])
    )
    for queue in map(full.logical_id, queues.values()):
        properties = full.json["Resources"][queue]["Properties"]
        assert properties["SqsManagedSseEnabled"] is True
        assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
        (policy,) = [p for p in full.resources("AWS::SQS::QueuePolicy").values() if {"Ref": queue} in p["Properties"]["Queues"]]
        (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_no_partner_routes_unless_the_operator_configures_them(deployed: Synthesized):
    # Only schedules remain (they live on the default bus and have no event pattern), and the functions' own rules.
    own = {deployed.logical_id(rule) for rule in deployed.stack.events.function_rules.values()}
    assert all(
        "EventPattern" not in rule["Properties"]
        for logical_id, rule in deployed.resources("AWS::Events::Rule").items()
        if logical_id not in own
    )
    assert not deployed.resources("AWS::Events::ApiDestination")


def test_a_partner_with_an_aws_account_gets_the_chosen_events_on_their_bus(full: Synthesized):
    (partner,) = FULL_CONTEXT["partnerEventBuses"]
    rule = rules(full)[f"CSMS events to partner {partner['name']}"]
    assert rule["EventBusName"] == {"Ref": full.logical_id(full.stack.events.bus)}
    assert rule["EventPattern"] == {"source": ["csms.billing"], "detail-type": partner["detailTypes"]}
    (target,) = rule["Targets"]
    assert target["Arn"] == partner["eventBusArn"]
    own_queue = full.logical_id(full.stack.events.dead_letter_queues[partner["name"]])
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [own_queue, "Arn"]}
    statements = full.role_statements(target["RoleArn"]["Fn::GetAtt"][0])
    assert statements == [{"Action": "events:PutEvents", "Effect": "Allow", "Resource": partner["eventBusArn"]}]


def test_a_partner_without_aws_gets_every_billing_event_posted_to_their_https_endpoint(full: Synthesized):
    (partner,) = FULL_CONTEXT["partnerApiDestinations"]
    (connection,) = full.resources("AWS::Events::Connection").values()
    assert connection["Properties"]["AuthorizationType"] == "API_KEY"
    assert connection["Properties"]["AuthParameters"]["ApiKeyAuthParameters"] == {
        "ApiKeyName": partner["apiKeyHeader"],
        # Read from the operator's secret at deploy time, never written in the template.
        "ApiKeyValue": f"{{{{resolve:secretsmanager:{partner['apiKeySecretName']}:SecretString:::}}}}",
    }
    (destination_id, destination), = full.resources("AWS::Events::ApiDestination").items()
    assert destination["Properties"]["InvocationEndpoint"] == partner["endpoint"]
    assert destination["Properties"]["HttpMethod"] == "POST"
    rule = rules(full)[f"CSMS events to partner {partner['name']}"]
    assert rule["EventPattern"]["source"] == ["csms.billing"]  # never the drivers' events (their id tags)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [destination_id, "Arn"]}
    dead_letters = full.logical_id(full.stack.events.dead_letter_queues[partner["name"]])
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 24 * 3600, "MaximumRetryAttempts": 185}
    assert destination["Properties"]["InvocationRateLimitPerSecond"] == 10  # the default of rateLimitPerSecond


def test_bus_arn_is_an_output(deployed: Synthesized):
    bus = deployed.logical_id(deployed.stack.events.bus)
    assert deployed.template.find_outputs("EventBusArn")["EventBusArn"]["Value"] == {"Fn::GetAtt": [bus, "Arn"]}


PUBLISHERS = {spec.name for spec in FUNCTIONS if spec.publishes_events}
# the full stack adds a stand-in publisher (tests/infra/conftest.py)


def test_the_table_stream_consumer_and_the_operator_api_publish():
    # The stream consumer: UnmatchedStop; the API: a corrected CDR and its credit CDR (the workflow puts the rest).
    assert PUBLISHERS == {"table_changes", "api"}


def test_only_functions_that_publish_may_put_events(deployed: Synthesized, full: Synthesized):
    for synthesized in (deployed, full):
        for name in synthesized.stack.functions.roles:
            actions = [statement["Action"] for statement in synthesized.function_statements(name)]
            assert ("events:PutEvents" in actions) == (name in PUBLISHERS or name == BILLING_EXPORT), name


# --- driver notifications: rule -> queue -> function, retried, dead-lettered, alarmed ----------------------


def test_driver_events_reach_the_notifications_function_through_its_own_queue(deployed: Synthesized):
    from csms.domain.notifications import MAX_ATTEMPTS
    from csms.notifications.delivery import EVENT_PATTERN

    stack = deployed.stack
    rule = deployed.json["Resources"][deployed.logical_id(stack.events.function_rules["notifications"])]["Properties"]
    assert rule["EventBusName"] == {"Ref": deployed.logical_id(stack.events.bus)}
    assert rule["EventPattern"] == EVENT_PATTERN == {"source": ["csms.sessions", "csms.reservations"]}
    queue = deployed.logical_id(stack.function_queues["notifications"])
    dead_letters = deployed.logical_id(stack.function_dead_letters["notifications"])
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    properties = deployed.json["Resources"][queue]["Properties"]
    assert properties["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}, "maxReceiveCount": MAX_ATTEMPTS}
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["VisibilityTimeout"] >= 6 * next(s for s in FUNCTIONS if s.name == "notifications").timeout_seconds
    # Only EventBridge, for this rule, may send to it.
    (policy,) = [p for p in deployed.resources("AWS::SQS::QueuePolicy").values() if {"Ref": queue} in p["Properties"]["Queues"]]
    (send,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [deployed.logical_id(stack.events.function_rules["notifications"]), "Arn"]}
    (mapping,) = [
        m["Properties"] for m in deployed.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]  # fmt: skip
    assert mapping["FunctionName"] == {"Ref": deployed.logical_id(stack.functions["notifications"])}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10


def test_undelivered_driver_events_raise_an_alarm(deployed: Synthesized):
    alarm = deployed.stack.monitoring.alarms["notifications-dead-letters"]
    properties = deployed.json["Resources"][deployed.logical_id(alarm)]["Properties"]
    dead_letters = deployed.logical_id(deployed.stack.function_dead_letters["notifications"])
    assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible" and properties["Threshold"] == 1


def test_the_notifications_function_may_read_items_and_consume_its_queue_only(deployed: Synthesized):
    statements = deployed.function_statements("notifications")
    queue = {"Fn::GetAtt": [deployed.logical_id(deployed.stack.function_queues["notifications"]), "Arn"]}
    table = {"Fn::GetAtt": [deployed.logical_id(deployed.stack.table), "Arn"]}
    granted = {(action, json.dumps(statement["Resource"], sort_keys=True)) for statement in statements for action in as_list(statement["Action"])}
    non_log = {(action, resource) for action, resource in granted if not action.startswith("logs:")}
    assert non_log == {("dynamodb:GetItem", json.dumps(table, sort_keys=True))} | {
        (action, json.dumps(queue, sort_keys=True))
        for action in ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    }
