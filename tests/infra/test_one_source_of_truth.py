"""The stack and the local runtime are built from the same function manifest, table schema and state
machine definitions: what runs on a laptop is what gets deployed."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
from aws_cdk import FileSystem

from csms.adapters.dynamodb import schema
from csms.events.catalog import EVENT_KINDS, SCHEMAS_DIR, EventType, Source
from infra import manifest
from infra.config import CsmsConfig, PartnerApiDestination, PartnerEventBus
from infra.functions import NOT_CODE
from infra.state_machines import state_machine_name
from infra.workflows import WORKFLOWS, definition_substitutions, placeholders, render_definition
from tests.infra.conftest import Synthesized


def lambda_functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.resources("AWS::Lambda::Function")


def test_every_manifest_function_is_exactly_one_lambda_with_its_handler_and_code(deployed: Synthesized):
    functions = lambda_functions(deployed)
    assert len(functions) == len(manifest.FUNCTIONS)
    for spec in manifest.FUNCTIONS:
        properties = functions[deployed.logical_id(deployed.stack.functions[spec.name])]["Properties"]
        assert properties["Handler"] == spec.handler
        assert properties["Description"] == spec.description
        # The code asset is the manifest's folder: its content hash is the asset's name.
        fingerprint = FileSystem.fingerprint(str(spec.code_dir), exclude=NOT_CODE)
        assert properties["Code"]["S3Key"] == f"{fingerprint}.zip", spec.name


def test_every_route_invokes_its_manifest_function(deployed: Synthesized):
    api = {"Ref": deployed.logical_id(deployed.stack.station_api.api)}
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in deployed.resources("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == api
    }
    integrations = deployed.resources("AWS::ApiGatewayV2::Integration")
    assert set(routes) == {route.route_key for route in manifest.WEBSOCKET_ROUTES}
    for route in manifest.WEBSOCKET_ROUTES:
        properties = routes[route.route_key]
        integration_id = properties["Target"]["Fn::Join"][1][1]["Ref"]
        uri_parts = integrations[integration_id]["Properties"]["IntegrationUri"]["Fn::Join"][1]
        function = deployed.logical_id(deployed.stack.functions[route.function])
        assert {"Fn::GetAtt": [function, "Arn"]} in uri_parts, route.route_key
        assert integrations[integration_id]["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert ("RouteResponseSelectionExpression" in properties) == route.two_way


def test_the_authorizer_is_the_manifests(deployed: Synthesized):
    (authorizer,) = deployed.resources("AWS::ApiGatewayV2::Authorizer").values()
    function = deployed.logical_id(deployed.stack.functions[manifest.WEBSOCKET_AUTHORIZER])
    assert {"Fn::GetAtt": [function, "Arn"]} in authorizer["Properties"]["AuthorizerUri"]["Fn::Join"][1]


def test_the_local_runtime_invokes_the_same_manifest():
    import local.lambdas

    assert local.lambdas.FUNCTIONS is manifest.FUNCTIONS


def test_the_deployed_table_has_the_keys_and_indexes_of_the_local_one(deployed: Synthesized):
    from local.aws import REGION, emulated_aws

    with emulated_aws("parity"):
        local_table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName="parity")["Table"]
    (deployed_table,) = deployed.resources("AWS::DynamoDB::Table").values()
    properties = deployed_table["Properties"]

    assert properties["KeySchema"] == local_table["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(local_table["AttributeDefinitions"], key=str)
    assert _indexes(properties["GlobalSecondaryIndexes"]) == _indexes(local_table["GlobalSecondaryIndexes"])
    assert properties["TimeToLiveSpecification"]["AttributeName"] == schema.TTL_ATTRIBUTE
    assert properties["BillingMode"] == schema.create_table_request("x")["BillingMode"]


def _indexes(indexes: list[dict[str, Any]]) -> dict[str, Any]:
    return {index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"]) for index in indexes}


def test_every_manifest_workflow_is_deployed_from_its_definition_file(deployed: Synthesized):
    machines = deployed.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == len(WORKFLOWS)
    for spec in WORKFLOWS:
        name = state_machine_name(deployed.stack, spec)
        (machine,) = [m for m in machines.values() if m["Properties"]["StateMachineName"] == name]
        assert machine["Properties"]["DefinitionString"] == spec.definition_path.read_text()


def test_a_workflow_added_to_the_manifest_deploys_its_file_verbatim(full: Synthesized, session_limits):
    (machine,) = full.resources("AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["DefinitionString"] == session_limits.definition_path.read_text()


def test_every_placeholder_of_every_definition_has_a_value():
    for spec in WORKFLOWS:
        substitutions = definition_substitutions(
            spec,
            function_arns={name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}" for name in spec.invokes},
            table_name="table",
            event_bus_name="bus",
        )
        assert placeholders(spec.definition_path.read_text()) <= set(substitutions), spec.name
        json.loads(render_definition(spec, substitutions))


def _first_column(guide: str, section: str) -> set[str]:
    """The backquoted names in the first column of the table of the guide's `## <section>`."""
    (body,) = re.findall(rf"^## {re.escape(section)}\n(.*?)(?=^## )", guide, flags=re.MULTILINE | re.DOTALL)
    rows = [line.split("|")[1] for line in body.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([^`]+)`", cell)}


def test_the_deployment_guide_documents_every_context_key_and_every_output(full: Synthesized):
    guide = (manifest.REPO_ROOT / "docs" / "deployment.md").read_text()
    keys = {field.alias for field in CsmsConfig.model_fields.values()}
    assert _first_column(guide, "2. Choose the options (CDK context)") == keys
    assert _first_column(guide, "5. The outputs") == set(full.template.find_outputs("*"))


def _event_rows(guide: str) -> dict[str, str]:
    """detail-type -> source, from the guide's table of events (rows starting with a backquoted `...`)."""
    (body,) = re.findall(r"^\| detail-type \| source \|.*?(?=^$|\Z)", guide, flags=re.MULTILINE | re.DOTALL)
    return {row.split("|")[1].strip(" `"): row.split("|")[2].strip(" `") for row in body.splitlines() if row.startswith("| `")}


def _events_of(*sources: Source) -> dict[str, str]:
    return {event_type.value: kind.source.value for event_type, kind in EVENT_KINDS.items() if kind.source in sources}


def test_the_billing_partner_guide_matches_the_events_and_the_stack(full: Synthesized):
    guide = (manifest.REPO_ROOT / "docs" / "billing-partners.md").read_text()
    # Every billing event type, with its source, is in the guide's table, and the guide names no other.
    assert _event_rows(guide) == _events_of(Source.BILLING)
    # Its configuration examples are what the stack's context accepts, naming only real event types.
    for key, model in (("partnerEventBuses", PartnerEventBus), ("partnerApiDestinations", PartnerApiDestination)):
        (example,) = re.findall(rf'"{key}": (\[.*?\n\])', guide, flags=re.DOTALL)
        for partner in json.loads(example):
            assert set(model.model_validate(partner).detail_types) <= {event_type.value for event_type in EventType}
    # The outputs it refers to exist.
    outputs_named = set(re.findall(r"<(Event\w+)>", guide)) | set(re.findall(r"`(Event\w+)`", guide))
    assert outputs_named and outputs_named <= set(full.template.find_outputs("*"))
    # Each event type's JSON Schema is where the guide says.
    assert "layers/core/python/csms/events/schemas/<detail-type>.json" in guide
    for event_type in EventType:
        assert (SCHEMAS_DIR / f"{event_type.value}.json").exists()


def test_the_driver_app_guide_lists_every_driver_event_and_reservation_route():
    from csms.operator.app import OPENAPI_INFO, app

    guide = (manifest.REPO_ROOT / "docs" / "driver-app.md").read_text()
    assert _event_rows(guide) == _events_of(Source.SESSIONS, Source.RESERVATIONS)
    assert "layers/core/python/csms/events/schemas/<detail-type>.json" in guide
    spec = json.loads(app.get_openapi_json_schema(**OPENAPI_INFO))
    routes = {(method.upper(), path) for path, operations in spec["paths"].items() if path.startswith("/reservations") for method in operations}
    assert set(re.findall(r"^\| `(GET|POST|PUT|DELETE) (/[^`?]+)", guide, flags=re.MULTILINE)) == routes


def test_the_load_management_guide_lists_every_energy_event():
    guide = (manifest.REPO_ROOT / "docs" / "load-management.md").read_text()
    assert _event_rows(guide) == _events_of(Source.ENERGY)
    assert "layers/core/python/csms/events/schemas/<detail-type>.json" in guide
