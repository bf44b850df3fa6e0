"""Functions (arm64, newest runtime Powertools supports, layers, Powertools env, logs) and the table."""

from __future__ import annotations

from importlib.metadata import metadata
from typing import Any

from aws_cdk import aws_lambda as lambda_

from csms.adapters.dynamodb.schema import GLOBAL_INDEXES, KIND_INDEX, LIVE_INDEX
from csms.runtime.settings import Settings, UnknownStationPolicy
from infra import metrics
from infra.functions import RUNTIME
from infra.manifest import AUTHORIZER, FUNCTIONS, GAUGES, OPERATOR_API, WEBSOCKET_AUTHORIZER
from tests.infra.conftest import FULL_CONTEXT, Synthesized


def function_properties(synthesized: Synthesized, name: str) -> dict[str, Any]:
    return synthesized.json["Resources"][synthesized.logical_id(synthesized.stack.functions[name])]["Properties"]


def literal_environment(synthesized: Synthesized, name: str) -> dict[str, str]:
    variables = function_properties(synthesized, name)["Environment"]["Variables"]
    return {key: value for key, value in variables.items() if isinstance(value, str)}


def test_runtime_is_the_newest_python_that_lambda_and_the_pinned_powertools_both_support():
    classifiers = metadata("aws-lambda-powertools").get_all("Classifier")
    powertools = {c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")}
    lambda_runtimes = {
        getattr(lambda_.Runtime, name).name.removeprefix("python")
        for name in dir(lambda_.Runtime)
        if name.startswith("PYTHON_3_")
    }
    newest = max(powertools & lambda_runtimes, key=lambda version: tuple(map(int, version.split("."))))
    assert RUNTIME.name == f"python{newest}"


def test_every_function_is_arm64_with_the_core_and_dependency_layers(deployed: Synthesized):
    layers = deployed.resources("AWS::Lambda::LayerVersion")
    assert len(layers) == 2
    for layer in layers.values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == [RUNTIME.name]
    for spec in FUNCTIONS:
        properties = function_properties(deployed, spec.name)
        assert properties["Architectures"] == ["arm64"]
        assert properties["Runtime"] == RUNTIME.name
        assert sorted(layer["Ref"] for layer in properties["Layers"]) == sorted(layers)


def test_memory_and_timeout_come_from_the_manifest(deployed: Synthesized):
    for spec in FUNCTIONS:
        properties = function_properties(deployed, spec.name)
        assert (properties["MemorySize"], properties["Timeout"]) == (spec.memory_mb, spec.timeout_seconds)
        assert properties["Description"] == spec.description


def test_powertools_knows_its_service_namespace_and_log_level(deployed: Synthesized, full: Synthesized):
    for spec in FUNCTIONS:
        environment = literal_environment(deployed, spec.name)
        assert environment["POWERTOOLS_SERVICE_NAME"] == metrics.SERVICE_NAME
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == metrics.METRICS_NAMESPACE == "CSMS"
        assert environment["LOG_LEVEL"] == "INFO"
        assert environment["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # no search through every package at a cold start
        assert literal_environment(full, spec.name)["LOG_LEVEL"] == FULL_CONTEXT["logLevel"]


def test_the_environment_is_settings_the_code_accepts_with_the_deployed_defaults(deployed: Synthesized, full: Synthesized):
    for spec in FUNCTIONS:
        settings = Settings.from_environment({**literal_environment(deployed, spec.name), "TABLE_NAME": "from-the-stack"})
        assert settings.unknown_station_policy is UnknownStationPolicy.REJECT
        assert settings.heartbeat_interval_seconds == 300
        variables = function_properties(deployed, spec.name)["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": deployed.logical_id(deployed.stack.table)}
    chosen = Settings.from_environment({**literal_environment(full, "message"), "TABLE_NAME": "t"})
    assert chosen.unknown_station_policy is UnknownStationPolicy.PENDING
    assert chosen.heartbeat_interval_seconds == FULL_CONTEXT["heartbeatIntervalSeconds"]
    assert chosen.boot_retry_interval_seconds == FULL_CONTEXT["bootRetryIntervalSeconds"]
    assert chosen.allow_missing_subprotocol is False
    api = Settings.from_environment({**literal_environment(full, OPERATOR_API.name), "TABLE_NAME": "t"})
    assert api.qr_url_template == FULL_CONTEXT["qrUrlTemplate"]


def test_only_the_authorizer_holds_the_origin_secret(deployed: Synthesized):
    for spec in FUNCTIONS:
        variables = function_properties(deployed, spec.name)["Environment"]["Variables"]
        assert ("ORIGIN_SECRET" in variables) == (spec.name == WEBSOCKET_AUTHORIZER)


def test_each_function_logs_to_its_own_log_group_with_a_retention(deployed: Synthesized, full: Synthesized):
    for synthesized, days in ((deployed, 30), (full, FULL_CONTEXT["logRetentionDays"])):
        for spec in FUNCTIONS:
            log_group = synthesized.logical_id(synthesized.stack.functions.log_groups[spec.name])
            properties = function_properties(synthesized, spec.name)
            assert properties["LoggingConfig"]["LogGroup"] == {"Ref": log_group}
            assert synthesized.json["Resources"][log_group]["Properties"]["RetentionInDays"] == days


def test_no_function_role_uses_a_managed_policy(deployed: Synthesized):
    for spec in FUNCTIONS:
        role = deployed.json["Resources"][deployed.logical_id(deployed.stack.functions.roles[spec.name])]
        assert "ManagedPolicyArns" not in role["Properties"]


def test_each_function_may_do_to_the_table_exactly_what_its_manifest_says_and_none_may_scan(deployed: Synthesized):
    table = deployed.logical_id(deployed.stack.table)
    for spec in FUNCTIONS:
        dynamodb_statements = [s for s in deployed.function_statements(spec.name) if str(s["Action"]).startswith(("dynamodb", "['dynamodb"))]
        # The stream's event source mapping reads the stream, not the table (the poller, on the function's role).
        stream_statements = [s for s in dynamodb_statements if "StreamArn" in str(s["Resource"]) or s["Action"] == "dynamodb:ListStreams"]
        table_statements = [s for s in dynamodb_statements if s not in stream_statements]
        if spec.consumes_table_stream:
            stream_actions = sorted(str(action) for statement in stream_statements for action in _as_list(statement["Action"]))
            assert stream_actions == ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
        else:
            assert stream_statements == [], spec.name
        expected = []
        if spec.table_actions:
            actions = sorted(spec.table_actions)
            expected.append({"Action": actions[0] if len(actions) == 1 else actions, "Effect": "Allow", "Resource": {"Fn::GetAtt": [table, "Arn"]}})
        if spec.table_indexes:
            indexes = [{"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, f"/index/{index}"]]} for index in sorted(spec.table_indexes)]
            expected.append({"Action": "dynamodb:Query", "Effect": "Allow", "Resource": indexes[0] if len(indexes) == 1 else indexes})
        assert table_statements == expected, spec.name
        assert not any("Scan" in str(statement["Action"]) for statement in table_statements)


def test_the_authorizer_reads_one_item_and_the_gauges_only_read(deployed: Synthesized):
    assert AUTHORIZER.table_actions == ("dynamodb:GetItem",) and not AUTHORIZER.table_indexes
    assert GAUGES.table_actions == ("dynamodb:GetItem", "dynamodb:BatchGetItem")
    assert GAUGES.table_indexes == (LIVE_INDEX.name, KIND_INDEX.name)
    for spec in FUNCTIONS:
        assert set(spec.table_indexes) <= {index.name for index in GLOBAL_INDEXES}, spec.name


def test_scheduled_functions_are_invoked_by_an_eventbridge_schedule(deployed: Synthesized):
    scheduled = [spec for spec in FUNCTIONS if spec.schedule_minutes]
    assert [spec.name for spec in scheduled] == ["gauges"]
    rules = deployed.resources("AWS::Events::Rule")
    for spec in scheduled:
        function = deployed.logical_id(deployed.stack.functions[spec.name])
        (rule,) = [
            rule for rule in rules.values()
            if rule["Properties"].get("ScheduleExpression") and rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        ]
        assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
        permissions = [
            p["Properties"] for p in deployed.resources("AWS::Lambda::Permission").values()
            if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]} and p["Properties"]["Principal"] == "events.amazonaws.com"
        ]
        assert len(permissions) == 1


def test_reserved_concurrency_only_where_the_operator_asks(deployed: Synthesized, full: Synthesized):
    for spec in FUNCTIONS:
        assert "ReservedConcurrentExecutions" not in function_properties(deployed, spec.name)
    assert function_properties(full, "authorizer")["ReservedConcurrentExecutions"] == 50


def test_the_table_is_on_demand_recoverable_protected_encrypted_and_cleaned_by_ttl(deployed: Synthesized):
    (table,) = deployed.resources("AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_table_name_is_an_output(deployed: Synthesized):
    table = deployed.logical_id(deployed.stack.table)
    assert deployed.template.find_outputs("TableName")["TableName"]["Value"] == {"Ref": table}


def _as_list(value):
    return value if isinstance(value, list) else [value]
