"""The operator's view: one dashboard and the alarms that page (through an SNS topic, e-mail optional)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import metrics
from infra.operator_api import OperatorApi
from infra.station_api import CONNECT_ROUTE, StationWebSocketApi

PERIOD = Duration.minutes(5)
GATEWAY_EXECUTION_ERRORS_THRESHOLD = 5
"""API Gateway failures calling a function (its 5xx) in 5 minutes: a few are transient, more are not."""


def _metric(
    namespace: str,
    name: str,
    dimensions: Mapping[str, str] | None = None,
    *,
    statistic: str = "Sum",
    label: str | None = None,
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dict(dimensions) if dimensions else None,
        statistic=statistic,
        period=PERIOD,
        label=label,
    )


def _csms_metric(name: str, *, statistic: str = "Sum", label: str | None = None) -> cloudwatch.Metric:
    """A metric the functions emit (EMF, dimension `service`)."""
    return _metric(metrics.METRICS_NAMESPACE, name, metrics.SERVICE_DIMENSION, statistic=statistic, label=label)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        authorizer_function: str,
        station_api: StationWebSocketApi,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        authorizer_denials_threshold: int,
        operator_api: OperatorApi | None = None,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", display_name="CSMS alarms", enforce_ssl=True)
        Validations.of(self.topic).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SNS2",
                reason=(
                    "Alarm notifications carry alarm names and states only. CloudWatch cannot publish to a topic "
                    "encrypted with the AWS managed SNS key, and a customer managed key would cost $1/month for no data."
                ),
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        websocket_api = station_api.api
        stage_dimensions = {"ApiId": websocket_api.api_id, "Stage": station_api.stage.stage_name}

        def gateway_metric(name: str, *, label: str | None = None) -> cloudwatch.Metric:
            return _metric("AWS/ApiGateway", name, stage_dimensions, label=label)

        # Refused connections (401: wrong or missing password, 403: unknown station or bypassed front door),
        # counted from the stage's access log: no code involved, nothing to keep in sync.
        self.authorizer_denials = self._access_log_count(
            station_api,
            metrics.AUTHORIZER_DENIALS,
            logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.routeKey", "=", CONNECT_ROUTE),
                logs.FilterPattern.any(
                    logs.FilterPattern.string_value("$.status", "=", "401"),
                    logs.FilterPattern.string_value("$.status", "=", "403"),
                ),
            ),
            label="Refused connections",
        )
        # The authorizer answers 401 by raising "Unauthorized", which Lambda counts as a function error.
        unauthorized = self._access_log_count(
            station_api,
            metrics.AUTHORIZER_UNAUTHORIZED,
            logs.FilterPattern.string_value("$.authorizerStatus", "=", "401"),
            label="Refused by the authorizer with 401",
        )

        # Alarms -------------------------------------------------------------------------------------------
        for name, function in functions.items():
            errors = function.metric_errors(period=PERIOD, statistic="Sum")
            if name == authorizer_function:
                # Only errors beyond its 401 answers are failures (refusals are the denials alarm's job).
                errors = cloudwatch.MathExpression(
                    expression="errors - FILL(refused, 0)",  # below 1 never breaches
                    using_metrics={"errors": errors, "refused": unauthorized},
                    period=PERIOD,
                    label=f"{name} errors other than refusals",
                )
            self._alarm(
                f"{name}-errors",
                errors,
                threshold=1,
                description=f"Function {name} failed (unhandled errors or timeouts)",
            )
            self._alarm(
                f"{name}-throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"Function {name} was throttled: raise its concurrency or the account's",
            )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}-dead-letters",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=1,
                description=f"Undelivered messages in the dead-letter queue {name}",
            )
        self._alarm(
            "station-api-5xx",
            gateway_metric("ExecutionError"),
            threshold=GATEWAY_EXECUTION_ERRORS_THRESHOLD,
            description="API Gateway failed calling the station functions (WebSocket 5xx)",
        )
        self._alarm(
            "authorizer-denials",
            self.authorizer_denials,
            threshold=authorizer_denials_threshold,
            description=(
                "Spike of refused station connections: a misconfigured fleet (password rotation), unknown stations, "
                "or someone probing the endpoint"
            ),
        )
        if operator_api is not None:
            self._alarm(
                "operator-api-5xx",
                operator_api.http_api.metric_server_error(period=PERIOD, statistic="Sum"),
                threshold=1,
                description="The operator API answered 5xx",
            )

        # Dashboard ----------------------------------------------------------------------------------------
        # No fixed name: dashboards are per account, and the stack may be deployed in several regions.
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard")
        messages_per_action = cloudwatch.MathExpression(
            expression=(
                f"SEARCH('{{{metrics.METRICS_NAMESPACE},{metrics.ACTION_DIMENSION},service}} "
                f"MetricName=\"{metrics.STATION_MESSAGES}\"', 'Sum', {int(PERIOD.to_seconds())})"
            ),
            using_metrics={},
            period=PERIOD,
            label="",
        )
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="Connected stations",
                metrics=[_csms_metric(metrics.CONNECTED_STATIONS, statistic="Maximum", label="Connected stations")],
                width=6,
            ),
            cloudwatch.SingleValueWidget(
                title="Active sessions",
                metrics=[_csms_metric(metrics.ACTIVE_TRANSACTIONS, statistic="Maximum", label="Active transactions")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Energy delivered (Wh per 5 min)",
                left=[_csms_metric(metrics.ENERGY_DELIVERED_WH, label="Energy delivered")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Connections",
                left=[
                    _csms_metric(metrics.STATION_CONNECTIONS, label="Connected"),
                    _csms_metric(metrics.STATION_DISCONNECTIONS, label="Disconnected"),
                    _csms_metric(metrics.REPLACED_CONNECTIONS, label="Replaced a ghost connection"),
                    gateway_metric("ConnectCount", label="Connection attempts"),
                ],
                right=[self.authorizer_denials, _csms_metric(metrics.REFUSED_SUBPROTOCOLS, label="No OCPP 1.6 offered")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Messages per action",
                left=[messages_per_action],
                right=[
                    _csms_metric(metrics.STATION_MESSAGES, label="All station CALLs"),
                    gateway_metric("MessageCount", label="WebSocket messages (both ways)"),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="OCPP errors",
                left=[
                    _csms_metric(metrics.CALL_ERRORS, label="CallErrors sent"),
                    _csms_metric(metrics.INTERNAL_ERRORS, label="InternalErrors"),
                    _csms_metric(metrics.MALFORMED_FRAMES, label="Malformed frames"),
                    _csms_metric(metrics.LENIENT_VIOLATIONS, label="Schema violations accepted (lenient)"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[function.metric_errors(period=PERIOD, label=f"{name} errors") for name, function in functions.items()],
                right=[
                    function.metric_throttles(period=PERIOD, label=f"{name} throttles") for name, function in functions.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API Gateway errors",
                left=[
                    gateway_metric("ExecutionError", label="Execution errors (5xx)"),
                    gateway_metric("IntegrationError", label="Integration errors"),
                    gateway_metric("ClientError", label="Client errors (4xx)"),
                    *(
                        [operator_api.http_api.metric_server_error(period=PERIOD, label="Operator API 5xx")]
                        if operator_api is not None
                        else []
                    ),
                ],
                width=8,
            ),
        )
        per_site = f"{{{metrics.METRICS_NAMESPACE},service,{metrics.SITE_DIMENSION}}}"
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Load management: allocated and measured current and limit per site (A per phase)",
                left=[
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('{per_site} MetricName=\"{name}\"', 'Maximum', {int(PERIOD.to_seconds())})",
                        using_metrics={},
                        period=PERIOD,
                        label="",
                    )
                    for name in (metrics.ALLOCATED_CURRENT_A, metrics.MEASURED_CURRENT_A, metrics.SITE_LIMIT_A)
                ],
                right=[_csms_metric(metrics.ALLOCATION_IGNORED, label="Sessions flagged: limit ignored")],
                width=24,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function duration p99 (ms)",
                left=[
                    function.metric_duration(period=PERIOD, statistic="p99", label=name) for name, function in functions.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead letters",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum", label=name)
                    for name, queue in dead_letter_queues.items()
                ],
                width=12,
            ),
        )

    def _access_log_count(
        self, station_api: StationWebSocketApi, metric_name: str, pattern: logs.IFilterPattern, *, label: str
    ) -> cloudwatch.Metric:
        logs.MetricFilter(
            self,
            f"{metric_name}Filter",
            log_group=station_api.access_log_group,
            metric_namespace=metrics.METRICS_NAMESPACE,
            metric_name=metric_name,
            filter_pattern=pattern,
            metric_value="1",
            default_value=0,
        )
        return _metric(metrics.METRICS_NAMESPACE, metric_name, label=label)  # metric filters publish no dimension

    def _alarm(self, name: str, metric: cloudwatch.IMetric, *, threshold: float, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[name] = alarm
        return alarm
