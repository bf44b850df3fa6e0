"""The functions' entry points (`lambdas/<name>/handler.py`) as Lambda loads and calls them."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig

import pytest
from pydantic import ValidationError

from csms.operator.app import ON_DEMAND_ROUTERS
from infra.manifest import CORE_LAYER_DIR, FUNCTIONS, LAMBDAS_DIR
from local.lambdas import LocalFunctions

# A refused event publishes no metric: Powertools warns about that, which is what we want here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

CONTEXT = {"connectionId": "c1", "authorizer": {"principalId": "CP1", "chargePointId": "CP1"}}
CONNECT = {
    "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"},
    "isBase64Encoded": False,
    "requestContext": CONTEXT | {"eventType": "CONNECT", "routeKey": "$connect", "identity": {"sourceIp": "192.0.2.1"}},
}
MESSAGE = {
    "body": '[2,"1","Heartbeat",{}]',
    "isBase64Encoded": False,
    "requestContext": CONTEXT | {"eventType": "MESSAGE", "routeKey": "$default"},
}


@pytest.fixture
def functions():
    functions = LocalFunctions(FUNCTIONS)
    yield functions
    functions.close()


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("message", CONNECT),  # routed to the wrong function
        ("connect", MESSAGE),
        ("disconnect", MESSAGE),
        ("message", {"body": '[2,"1","Heartbeat",{}]', "isBase64Encoded": False}),  # no request context
        ("message", {**MESSAGE, "requestContext": {**MESSAGE["requestContext"], "authorizer": {}}}),  # not authorized
        ("authorizer", {"headers": {}, "requestContext": {"connectionId": "c1"}}),  # no methodArn, no identity
        ("command", {"chargePointId": "CP1", "action": "Reset"}),  # no task token
    ],
    ids=["message gets $connect", "connect gets a message", "disconnect gets a message", "no context",
         "no station identity", "authorizer without methodArn", "command without task token"],
)
def test_a_malformed_event_is_refused_before_any_work(functions, function, event):
    # No table, no AWS: the event is refused before the handler reaches either.
    with pytest.raises(ValidationError):
        functions.invoke_blocking(function, event)


def _modules_after_import(function: str, then: str = "pass") -> set[str]:
    """The modules loaded by importing the function's handler as Lambda does, then running `then`."""
    code = (
        "import json, sys; "
        f"sys.path[:0] = {[str(LAMBDAS_DIR / function), str(CORE_LAYER_DIR / 'python'), sysconfig.get_path('purelib')]!r}; "
        f"import handler; {then}; print(json.dumps(sorted(sys.modules)))"
    )
    environment = {"TABLE_NAME": "csms", "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "csms"}
    output = subprocess.check_output([sys.executable, "-I", "-S", "-c", code], env=environment, text=True)
    return set(json.loads(output))


@pytest.mark.parametrize("function", ["message", "connect", "disconnect", "authorizer", "command"])
def test_station_functions_start_without_powertools_parser(function):
    # Parser and its event models were a tenth of these functions' cold start (`make bench` measures it).
    modules = _modules_after_import(function)
    assert "handler" in modules
    assert "aws_lambda_powertools.utilities.parser" not in modules


def test_the_operator_api_starts_without_building_the_openapi_models():
    # Only /openapi.json and /docs need them; every cold start paid for them (`make bench` measures it).
    modules = _modules_after_import("api")
    assert "csms.operator.app" in modules
    assert "aws_lambda_powertools.event_handler.openapi.models" not in modules


def test_the_operator_api_starts_with_one_of_powertools_resolvers_and_one_of_its_event_classes():
    # Their packages import all of them, AppSync's resolver with asyncio: about 20 ms (`make bench` measures it).
    modules = _modules_after_import("api")
    assert "aws_lambda_powertools.event_handler.api_gateway" in modules
    assert not {"asyncio", "aws_lambda_powertools.event_handler.appsync", "aws_lambda_powertools.event_handler.bedrock_agent"} & modules
    assert "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event" in modules
    assert "aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event" not in modules


def test_the_operator_api_starts_without_the_routes_it_includes_on_demand():
    # Their views and what they import (the message models, pricing, allocation) wait for a request to their paths.
    modules = _modules_after_import("api")
    on_demand = {router.module for router in ON_DEMAND_ROUTERS}
    assert not (on_demand | {"csms.domain.allocation", "csms.domain.load_control", "csms.domain.tariffs.pricing"}) & modules


# The OCPP message models, by who initiates the action (csms.ocpp.v16.messages).
STATION_MODELS = {"csms.ocpp.v16.station.call", "csms.ocpp.v16.station.call_result", "csms.ocpp.v16.station.datatypes"}
CENTRAL_SYSTEM_MODELS = {
    "csms.ocpp.v16.central_system.call",
    "csms.ocpp.v16.central_system.call_result",
    "csms.ocpp.v16.central_system.datatypes",
}
EITHER_MODELS = {"csms.ocpp.v16.either.call", "csms.ocpp.v16.either.call_result"}


@pytest.mark.parametrize("function", ["authorizer", "connect", "disconnect", "gauges", "table_changes", "billing", "api"])
def test_functions_that_parse_no_ocpp_payload_start_without_the_message_models(function):
    # About 20 ms of every cold start: the composition root reached them through the Action enum.
    assert not (STATION_MODELS | CENTRAL_SYSTEM_MODELS | EITHER_MODELS) & _modules_after_import(function)


def test_the_message_function_builds_the_models_of_a_stations_messages_only():
    # Issue 7: the commands' models were about 12 ms of its cold start. It builds a station's at init, and looking
    # up every action a station sends (what validating its CALLs does) loads no other; a station's answer to a
    # command loads the command service, and with it the commands' models, when one comes.
    modules = _modules_after_import(
        "message",
        then="from csms.ocpp.v16.actions import Initiator; from csms.ocpp.v16.messages import messages_sent_by; "
        "messages_sent_by(Initiator.STATION)",
    )
    assert STATION_MODELS | EITHER_MODELS <= modules
    assert not CENTRAL_SYSTEM_MODELS & modules
    assert "csms.commands.service" not in modules


def test_the_command_function_builds_the_models_of_the_commands_only():
    # It sends central-system commands and validates the station's answers: a station's messages are not its.
    modules = _modules_after_import("command")
    assert CENTRAL_SYSTEM_MODELS | EITHER_MODELS <= modules  # at init, not in its first command's invocation
    assert not STATION_MODELS & modules


def test_the_operator_api_loads_commands_tariffs_and_qr_codes_when_a_request_needs_them():
    # The routers that need them are included by the first request to one of their paths (`make bench` measures it).
    modules = _modules_after_import("api")
    assert not {"csms.commands.service", "csms.domain.tariffs.model", "csms.billing.service", "segno"} & modules
