"""What the operator watches and what pages them."""

from __future__ import annotations

from typing import Any

from infra import metrics
from infra.manifest import FUNCTIONS, WEBSOCKET_AUTHORIZER
from infra.stack import STAGE_NAME
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
        function = deployed.logical_id(deployed.stack.functions[spec.name])
        the_function = [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert watched(throttles) == ("AWS/Lambda", "Throttles")
        assert throttles["Dimensions"] == the_function
        assert throttles["Threshold"] == 1
        assert errors["Threshold"] == 1
        if spec.name != WEBSOCKET_AUTHORIZER:
            assert watched(errors) == ("AWS/Lambda", "Errors")
            assert errors["Dimensions"] == the_function


def test_refusing_a_station_is_not_an_authorizer_failure(deployed: Synthesized):
    # The authorizer raises "Unauthorized" for 401, which Lambda counts as an error.
    errors = alarms(deployed)[f"{WEBSOCKET_AUTHORIZER}-errors"]
    expression = next(metric for metric in errors["Metrics"] if "Expression" in metric)
    assert expression["Expression"] == "errors - FILL(refused, 0)"
    function = deployed.logical_id(deployed.stack.functions[WEBSOCKET_AUTHORIZER])
    counted = next(metric for metric in errors["Metrics"] if metric["Id"] == "errors")["MetricStat"]["Metric"]
    assert counted["MetricName"] == "Errors"
    assert counted["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    refused = next(metric for metric in errors["Metrics"] if metric["Id"] == "refused")
    assert refused["MetricStat"]["Metric"]["MetricName"] == metrics.AUTHORIZER_UNAUTHORIZED
    # ...counted from the access log by what the authorizer answered, not by the function's own code.
    (unauthorized,) = [
        f["Properties"]
        for f in deployed.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == metrics.AUTHORIZER_UNAUTHORIZED
    ]
    assert unauthorized["LogGroupName"] == {"Ref": deployed.logical_id(deployed.stack.station_api.access_log_group)}
    assert unauthorized["FilterPattern"] == '{ $.authorizerStatus = "401" }'


def test_dead_letters_page_the_operator(deployed: Synthesized, full: Synthesized):
    queues = {f"events-{partner}": queue for partner, queue in full.stack.events.dead_letter_queues.items()}
    queues["table-changes"] = full.stack.table_changes_failures
    assert len(queues) == 3  # each partner's, and the stream consumer's
    for name, queue in queues.items():
        alarm = alarms(full)[f"{name}-dead-letters"]
        assert watched(alarm) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        dimension = {"Fn::GetAtt": [full.logical_id(queue), "QueueName"]}
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": dimension}]
    assert "table-changes-dead-letters" in alarms(deployed)


def test_api_gateway_5xx_alarms(deployed: Synthesized):
    station = alarms(deployed)["station-api-5xx"]
    assert watched(station) == ("AWS/ApiGateway", "ExecutionError")
    assert station["Dimensions"] == [
        {"Name": "ApiId", "Value": {"Ref": deployed.logical_id(deployed.stack.station_api.api)}},
        {"Name": "Stage", "Value": STAGE_NAME},
    ]
    operator = alarms(deployed)["operator-api-5xx"]
    assert watched(operator) == ("AWS/ApiGateway", "5xx")
    assert operator["Dimensions"] == [
        {"Name": "ApiId", "Value": {"Ref": deployed.logical_id(deployed.stack.operator_api.http_api)}}
    ]


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
        assert alarm["OKActions"] == [topic]  # and again when it clears
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


def test_the_dashboard_reads_the_namespace_and_dimension_the_functions_emit_with(deployed: Synthesized):
    # Powertools emits every metric under POWERTOOLS_METRICS_NAMESPACE with the dimension service=<service name>;
    # a dashboard metric with another namespace or without that dimension shows an empty graph.
    function = deployed.json["Resources"][deployed.logical_id(deployed.stack.functions["message"])]
    environment = function["Properties"]["Environment"]["Variables"]
    namespace, service = environment["POWERTOOLS_METRICS_NAMESPACE"], environment["POWERTOOLS_SERVICE_NAME"]
    body = dashboard_body(deployed)
    emitted = (
        metrics.STATION_CONNECTIONS, metrics.STATION_DISCONNECTIONS, metrics.REPLACED_CONNECTIONS,
        metrics.REFUSED_SUBPROTOCOLS, metrics.STATION_MESSAGES, metrics.CALL_ERRORS, metrics.INTERNAL_ERRORS,
        metrics.MALFORMED_FRAMES, metrics.LENIENT_VIOLATIONS, metrics.ENERGY_DELIVERED_WH,
        metrics.CONNECTED_STATIONS, metrics.ACTIVE_TRANSACTIONS,
    )  # fmt: skip
    for metric in emitted:
        assert f'"{namespace}","{metric}","service","{service}"' in body, metric


def test_the_dashboard_graphs_each_sites_allocated_and_measured_current_beside_its_limit(deployed: Synthesized):
    from csms.energy import control, levels

    # The names the load control and the gauges emit are the dashboard's (the package cannot import infra: checked here).
    assert (levels.ALLOCATED_CURRENT_A, levels.MEASURED_CURRENT_A, levels.SITE_LIMIT_A, control.ALLOCATION_IGNORED) == (
        metrics.ALLOCATED_CURRENT_A, metrics.MEASURED_CURRENT_A, metrics.SITE_LIMIT_A, metrics.ALLOCATION_IGNORED,
    )  # fmt: skip
    body = dashboard_body(deployed)
    schema = f"{{{metrics.METRICS_NAMESPACE},service,{metrics.SITE_DIMENSION}}}"
    for name in (metrics.ALLOCATED_CURRENT_A, metrics.MEASURED_CURRENT_A, metrics.SITE_LIMIT_A):
        assert f"SEARCH('{schema} MetricName=\\\"{name}\\\"', 'Maximum', 300)" in body, name
    assert f'"{metrics.METRICS_NAMESPACE}","{metrics.ALLOCATION_IGNORED}"' in body
