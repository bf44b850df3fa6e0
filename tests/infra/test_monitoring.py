"""What the operator watches and what pages them."""

from __future__ import annotations

import json
from typing import Any

from infra import metrics
from infra.manifest import FUNCTIONS, WEBSOCKET_AUTHORIZER
from tests.infra.conftest import FULL_CONTEXT, Synthesized


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        name: synthesized.json["Resources"][synthesized.logical_id(alarm)]["Properties"]
        for name, alarm in synthesized.stack.monitoring.alarms.items()
    }


def watched(alarm: dict[str, Any]) -> tuple[str, str]:
    """(namespace, metric name) of a single-metric alarm, in either of the shapes CloudFormation takes."""
    if "MetricName" in alarm:
        return alarm["Namespace"], alarm["MetricName"]
    (metric,) = alarm["Metrics"]
    return metric["MetricStat"]["Metric"]["Namespace"], metric["MetricStat"]["Metric"]["MetricName"]


def dashboard_body(synthesized: Synthesized) -> str:
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    # The body is a Fn::Join of literal JSON pieces and tokens (API id, region): the literal text suffices.
    return "".join(part if isinstance(part, str) else "<token>" for part in body["Fn::Join"][1])


def test_every_function_has_error_and_throttle_alarms(deployed: Synthesized):
    found = alarms(deployed)
    for spec in FUNCTIONS:
        errors, throttles = found[f"{spec.name}-errors"], found[f"{spec.name}-throttles"]
        assert watched(throttles) == ("AWS/Lambda", "Throttles")
        assert throttles["Threshold"] == 1
        if spec.name != WEBSOCKET_AUTHORIZER:
            assert watched(errors) == ("AWS/Lambda", "Errors")


def test_refusing_a_station_is_not_an_authorizer_failure(deployed: Synthesized):
    # The authorizer raises "Unauthorized" for 401, which Lambda counts as an error.
    errors = alarms(deployed)[f"{WEBSOCKET_AUTHORIZER}-errors"]
    expression = next(metric for metric in errors["Metrics"] if "Expression" in metric)
    assert expression["Expression"] == "errors - FILL(refused, 0)"
    refused = next(metric for metric in errors["Metrics"] if metric["Id"] == "refused")
    assert refused["MetricStat"]["Metric"]["MetricName"] == metrics.AUTHORIZER_UNAUTHORIZED


def test_dead_letters_page_the_operator(deployed: Synthesized):
    alarm = alarms(deployed)["events-dead-letters"]
    assert watched(alarm) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    queue = deployed.logical_id(deployed.stack.events.dead_letter_queue)
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]


def test_api_gateway_5xx_alarms(deployed: Synthesized):
    station = alarms(deployed)["station-api-5xx"]
    assert watched(station) == ("AWS/ApiGateway", "ExecutionError")
    operator = alarms(deployed)["operator-api-5xx"]
    assert watched(operator) == ("AWS/ApiGateway", "5xx")


def test_a_spike_of_refused_connections_raises_an_alarm(deployed: Synthesized, full: Synthesized):
    alarm = alarms(deployed)["authorizer-denials"]
    assert watched(alarm) == (metrics.METRICS_NAMESPACE, metrics.AUTHORIZER_DENIALS)
    assert alarm["Threshold"] == 50
    assert alarms(full)["authorizer-denials"]["Threshold"] == FULL_CONTEXT["authorizerDenialsThreshold"]
    access_log = deployed.logical_id(deployed.stack.station_api.access_log_group)
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in deployed.resources("AWS::Logs::MetricFilter").values()
    }
    denials = filters[metrics.AUTHORIZER_DENIALS]
    assert denials["LogGroupName"] == {"Ref": access_log}
    assert '$.routeKey = "$connect"' in denials["FilterPattern"]
    assert '$.status = "401"' in denials["FilterPattern"] and '$.status = "403"' in denials["FilterPattern"]


def test_alarms_notify_the_alarm_topic_and_the_operators_mailbox(deployed: Synthesized, full: Synthesized):
    topic = {"Ref": deployed.logical_id(deployed.stack.monitoring.topic)}
    for alarm in alarms(deployed).values():
        assert alarm["AlarmActions"] == [topic]
        assert alarm["TreatMissingData"] == "notBreaching"
    assert not deployed.resources("AWS::SNS::Subscription")
    (subscription,) = full.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == FULL_CONTEXT["alarmEmail"]


def test_the_dashboard_shows_stations_messages_errors_sessions_and_energy(deployed: Synthesized):
    body = dashboard_body(deployed)
    for title in ("Connected stations", "Messages per action", "OCPP errors", "Active sessions", "Energy delivered"):
        assert f'"title":"{title}' in body, title
    shown = (metrics.CONNECTED_STATIONS, metrics.ACTIVE_TRANSACTIONS, metrics.ENERGY_DELIVERED_WH, metrics.STATION_MESSAGES)
    for metric in shown:
        assert f'"{metrics.METRICS_NAMESPACE}","{metric}"' in body, metric
    # One line per OCPP action, whatever actions the stations send.
    schema = f"{{{metrics.METRICS_NAMESPACE},{metrics.ACTION_DIMENSION},service}}"
    assert f"SEARCH('{schema} MetricName=\\\"{metrics.STATION_MESSAGES}\\\"', 'Sum', 300)" in body


def test_metric_namespace_is_the_one_the_functions_emit_to(deployed: Synthesized):
    body = dashboard_body(deployed)
    assert json.dumps(metrics.METRICS_NAMESPACE) in body
