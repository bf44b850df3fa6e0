"""The CSMS stack: builds every unit from the manifests and makes every grant between them.

Constructs only build their own resources; who may do what to whom is decided here, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from csms.changes.reactions import FILTER_PATTERNS
from csms.gateway.authorizer import ORIGIN_HEADER
from infra import metrics
from infra.config import LOG_RETENTION_DAYS, CsmsConfig
from infra.events import CsmsEvents
from infra.front_door import OriginSecret, StationFrontDoor
from infra.functions import Functions
from infra.manifest import (
    CHARGE_POINT_ID_QUERY_PARAMETER,
    FUNCTIONS,
    HTTP_API_FUNCTION,
    WEBSOCKET_AUTHORIZER,
    WEBSOCKET_ROUTES,
    FunctionSpec,
    WebSocketRoute,
)
from infra.monitoring import Monitoring
from infra.operator_api import OperatorApi
from infra.state_machines import Workflows, state_machine_arn, state_machine_execution_arns, state_machine_name
from infra.station_api import StationWebSocketApi
from infra.table import CsmsTable
from infra.workflows import WORKFLOWS, WorkflowSpec

STAGE_NAME = "ocpp"
TABLE_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
TABLE_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
"""What a workflow's direct DynamoDB integrations may be granted: item-level access only (transactions need no
action of their own), no Scan, no table administration. Functions get exactly their manifest's actions."""

IDENTITY_SOURCE = (
    f"route.request.querystring.{CHARGE_POINT_ID_QUERY_PARAMETER}",
    f"route.request.header.{ORIGIN_HEADER}",
)
"""What every connection through the front door carries; never Authorization (stations without a password)."""

_PRICE_CLASSES = {
    "100": cloudfront.PriceClass.PRICE_CLASS_100,
    "200": cloudfront.PriceClass.PRICE_CLASS_200,
    "All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


def retention(days: int) -> logs.RetentionDays:
    return logs.RetentionDays[LOG_RETENTION_DAYS[days]]


class CsmsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CsmsConfig,
        functions: Sequence[FunctionSpec] = FUNCTIONS,
        routes: Sequence[WebSocketRoute] = WEBSOCKET_ROUTES,
        authorizer_function: str = WEBSOCKET_AUTHORIZER,
        workflows: Sequence[WorkflowSpec] = WORKFLOWS,
        operator_api_function: str | None = HTTP_API_FUNCTION,
        **stack_options,
    ) -> None:
        super().__init__(scope, construct_id, **stack_options)
        log_retention = retention(config.log_retention_days)

        self.table = CsmsTable(self, "Data").table
        self.function_queues: dict[str, sqs.Queue] = {}
        self.function_dead_letters: dict[str, sqs.Queue] = {}
        """Per function that receives events: its queue and the dead-letter queue behind it (alarmed)."""
        self.events = CsmsEvents(
            self,
            "Events",
            archive_retention=(
                Duration.days(config.event_archive_retention_days) if config.event_archive_retention_days else None
            ),
            partner_event_buses=config.partner_event_buses,
            partner_api_destinations=config.partner_api_destinations,
        )

        self.functions = Functions(
            self,
            "Functions",
            specs=functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": metrics.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": metrics.METRICS_NAMESPACE,
                # No pydantic plugin is used: the first model built would look for one in every installed package.
                "PYDANTIC_DISABLE_PLUGINS": "__all__",
                "LOG_LEVEL": config.log_level,
                "TABLE_NAME": self.table.table_name,
                "HEARTBEAT_INTERVAL_SECONDS": str(config.heartbeat_interval_seconds),
                "BOOT_RETRY_INTERVAL_SECONDS": str(config.boot_retry_interval_seconds),
                "UNKNOWN_STATION_POLICY": config.unknown_station_policy.value,
                "ALLOW_MISSING_SUBPROTOCOL": str(config.allow_missing_subprotocol).lower(),
                "OCPI_COUNTRY_CODE": config.ocpi_country_code,
                "OCPI_PARTY_ID": config.ocpi_party_id,
                **({"DEFAULT_TARIFF_ID": config.default_tariff_id} if config.default_tariff_id else {}),
                **({"QR_URL_TEMPLATE": config.qr_url_template} if config.qr_url_template else {}),
            },
            log_retention=log_retention,
            reserved_concurrency=config.reserved_concurrency,
        )
        authorizer = self.functions[authorizer_function]

        # Stations -------------------------------------------------------------------------------------
        self.station_api = StationWebSocketApi(
            self,
            "StationApi",
            routes=routes,
            handlers=self.functions.functions,
            authorizer=authorizer,
            identity_source=IDENTITY_SOURCE,
            stage_name=STAGE_NAME,
            throttle=config.station_api_throttle,
            log_retention=log_retention,
            manage_account_logging_role=config.manage_api_gateway_account_role,
        )
        self.origin_secret = OriginSecret(self, "OriginSecret", generation=config.origin_secret_generation)
        self.front_door = StationFrontDoor(
            self,
            "FrontDoor",
            api_id=self.station_api.api.api_id,
            stage_name=STAGE_NAME,
            origin_secret=self.origin_secret.header_value,
            allow_insecure_websocket=config.allow_security_profile_1,
            domain_name=config.domain_name,
            certificate_arn=config.certificate_arn,
            hosted_zone_id=config.hosted_zone_id,
            hosted_zone_name=config.hosted_zone_name,
            geo_allow_list=config.geo_allow_list,
            web_acl_arn=config.web_acl_arn,
            price_class=_PRICE_CLASSES[config.price_class],
        )
        authorizer.add_environment("ORIGIN_SECRET", self.origin_secret.header_value)

        # Grants ---------------------------------------------------------------------------------------
        for spec in functions:
            name, function = spec.name, self.functions[spec.name]
            if spec.table_actions:
                function.add_to_role_policy(
                    iam.PolicyStatement(actions=list(spec.table_actions), resources=[self.table.table_arn])
                )
            if spec.table_indexes:
                function.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["dynamodb:Query"],
                        resources=[f"{self.table.table_arn}/index/{index}" for index in spec.table_indexes],
                    )
                )
            connection_methods = (("POST", spec.posts_to_connections), ("DELETE", spec.closes_connections))
            methods = [method for method, used in connection_methods if used]
            if methods:
                self.station_api.grant_manage_connections(function, methods=methods)
                function.add_environment("CONNECTIONS_ENDPOINT_URL", self.station_api.management_url)
            if spec.publishes_events:
                self.events.bus.grant_put_events_to(function)
                function.add_environment("EVENT_BUS_NAME", self.events.bus.event_bus_name)
            if spec.consumes_table_stream:
                self._consume_table_stream(function)
            if spec.receives_events is not None:
                self._receive_events(spec, function)
            if spec.schedule_minutes is not None:
                events.Rule(
                    self,
                    f"{name.capitalize()}Schedule",
                    description=f"Invokes the {name} function every {spec.schedule_minutes} minute(s)",
                    schedule=events.Schedule.rate(Duration.minutes(spec.schedule_minutes)),
                    targets=[events_targets.LambdaFunction(function, retry_attempts=0)],
                )
            self._acknowledge_function_findings(spec)

        # Workflows ------------------------------------------------------------------------------------
        self.workflows = Workflows(
            self,
            "Workflows",
            specs=workflows,
            function_arns={name: function.function_arn for name, function in self.functions.functions.items()},
            table_name=self.table.table_name,
            event_bus_name=self.events.bus.event_bus_name,
            log_retention=log_retention,
        )
        for spec in workflows:
            self._grant_workflow(spec)

        # Operator API ---------------------------------------------------------------------------------
        self.operator_api: OperatorApi | None = None
        if operator_api_function is not None:
            self.operator_api = OperatorApi(
                self,
                "OperatorApi",
                handler=self.functions[operator_api_function],
                authorization=config.operator_api_authorization,
                throttle=config.operator_api_throttle,
                log_retention=log_retention,
            )
            self._configure_console(self.functions[operator_api_function], config)

        # Operations -----------------------------------------------------------------------------------
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            functions=self.functions.functions,
            authorizer_function=authorizer_function,
            station_api=self.station_api,
            dead_letter_queues={
                **{f"events-{partner}": queue for partner, queue in self.events.dead_letter_queues.items()},
                "table-changes": self.table_changes_failures,
                **self.function_dead_letters,
            },
            authorizer_denials_threshold=config.authorizer_denials_threshold,
            operator_api=self.operator_api,
            alarm_email=config.alarm_email,
        )

        CfnOutput(
            self,
            "StationUrl",
            value=self.front_door.station_url,
            description="Stations connect to this URL followed by their charge point id (wss://.../ocpp/CP001)",
        )
        CfnOutput(self, "WebSocketApiUrl", value=self.station_api.url, description="The API Gateway stage behind CloudFront")
        CfnOutput(self, "EventBusArn", value=self.events.bus.event_bus_arn, description="Where billing partners subscribe")
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(self, "EventArchiveArn", value=self.events.archive.archive_arn, description="Replays come from here")
        CfnOutput(self, "TableName", value=self.table.table_name, description="Stations, id tags, transactions")
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        if self.operator_api is not None:
            CfnOutput(self, "OperatorApiUrl", value=self.operator_api.url)
            if self.operator_api.console_routes:
                CfnOutput(self, "ConsoleUrl", value=self.operator_api.console_url, description="The operator console (sign in)")

    def _configure_console(self, function: lambda_.Function, config: CsmsConfig) -> None:
        """What the console's pages are told (`/console/config.json`): where stations connect and, with JWT, how to
        sign in (the issuer's OpenID Connect code flow with PKCE, the first audience as the console's client)."""
        function.add_environment("STATION_URL", self.front_door.station_url)
        authorization = config.operator_api_authorization
        if authorization.kind == "jwt":
            function.add_environment("CONSOLE_JWT_ISSUER", str(authorization.jwt_issuer).rstrip("/"))
            function.add_environment("CONSOLE_CLIENT_ID", authorization.jwt_audience[0])

    def _consume_table_stream(self, function: lambda_.IFunction) -> None:
        """Only a transaction's stop and an unmatched stop's insert invoke it (the same filter patterns the local
        runtime applies); failed records are retried alone, and what still fails after a day lands in a queue."""
        failed = sqs.Queue(
            self,
            "TableChangesFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(failed).acknowledge(
            Acknowledgment(id="AwsSolutions-SQS3", reason="This queue is the on-failure destination of the stream consumer.")
        )
        function.add_event_source(
            lambda_event_sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=10,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                max_record_age=Duration.hours(24),
                retry_attempts=100,
                on_failure=lambda_event_sources.SqsDlq(failed),
                filters=[lambda_.FilterCriteria.filter(pattern) for pattern in FILTER_PATTERNS],
            )
        )
        self.table_changes_failures = failed
        if function.role is not None:
            Validations.of(function.role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::*]",
                    reason="dynamodb:ListStreams, which the event source mapping needs, takes no resource-level permission; "
                    "reading records is granted on this table's stream only.",
                )
            )

    def _receive_events(self, spec: FunctionSpec, function: lambda_.Function) -> None:
        """Its events through its own queue; only the messages it reports failed are tried again (after the
        visibility it set), and after `max_receives` tries they wait in the dead-letter queue."""
        assert spec.receives_events is not None
        queue, dead_letters = self.events.queue_for(
            spec.name,
            event_pattern=spec.receives_events,
            max_receives=spec.max_receives,
            visibility_timeout=Duration.seconds(6 * spec.timeout_seconds),  # what Lambda recommends for a queue it polls
        )
        function.add_event_source(
            lambda_event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
        )
        self.function_queues[spec.name] = queue
        self.function_dead_letters[spec.name] = dead_letters

    def _grant_workflow(self, spec: WorkflowSpec) -> None:
        machine = self.workflows[spec.name]
        for name in spec.invokes:
            # Exactly the function (no versions or aliases): the definition calls its plain ARN.
            machine.add_to_role_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.functions[name].function_arn])
            )
        if spec.table_access == "read":
            self._grant_table(machine, TABLE_READ_ACTIONS)
        elif spec.table_access == "read_write":
            self._grant_table(machine, TABLE_READ_ACTIONS + TABLE_WRITE_ACTIONS)
        if spec.table_access != "none":
            Validations.of(machine.role).acknowledge(self._table_indexes_acknowledgment())
        if spec.puts_events:
            self.events.bus.grant_put_events_to(machine)
        arn = state_machine_arn(self, spec)
        # No task of ours heartbeats: no SendTaskHeartbeat.
        for name in spec.task_responses_from:
            self.functions[name].add_to_role_policy(
                iam.PolicyStatement(actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[arn])
            )
        for name in spec.task_failures_from:
            self.functions[name].add_to_role_policy(iam.PolicyStatement(actions=["states:SendTaskFailure"], resources=[arn]))
        for name in spec.started_by:
            function = self.functions[name]
            function.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[arn]))
            function.add_environment(spec.arn_environment_variable, arn)
        for name in spec.stopped_by:
            # StopExecution is authorised on the execution's ARN: this machine's executions, whose names are made
            # at run time (one per session and limit).
            function = self.functions[name]
            executions = state_machine_execution_arns(self, spec)
            function.add_to_role_policy(iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions]))
            if function.role is not None:
                Validations.of(function.role).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                        f"execution:{state_machine_name(self, spec)}:*]",
                        reason=f"StopExecution of {spec.name} executions only: their names (one per session and limit) "
                        "are made at run time.",
                    )
                )

    def _grant_table(self, grantee: iam.IGrantable, actions: Sequence[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.table.table_arn, f"{self.table.table_arn}/index/*"],
        )

    def _table_indexes_acknowledgment(self) -> Acknowledgment:
        table = self.get_logical_id(self.table.node.default_child)
        return Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::<{table}.Arn>/index/*]",
            reason="Queries through the CSMS table's global indexes (a station's transactions); this table's indexes only.",
        )

    def _acknowledge_function_findings(self, spec: FunctionSpec) -> None:
        acknowledgments = []
        if spec.posts_to_connections or spec.closes_connections:
            api = self.get_logical_id(self.station_api.api.node.default_child)
            for method, purpose, used in (
                ("POST", "send frames", spec.posts_to_connections),
                ("DELETE", "close a station's connection", spec.closes_connections),
            ):
                if not used:
                    continue
                acknowledgments.append(
                    Acknowledgment(
                        id=(
                            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                            f"<{api}>/{STAGE_NAME}/{method}/@connections/*]"
                        ),
                        reason=(
                            "Connection ids exist only at run time; the grant is limited to this API's stage and to "
                            f"{method} ({purpose})."
                        ),
                    )
                )
        if acknowledgments:
            Validations.of(self.functions.roles[spec.name]).acknowledge(*acknowledgments)
