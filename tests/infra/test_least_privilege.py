"""Least privilege, proven: every function runs a realistic session through its real entry point (the local
runtime: gateway events, the operator API, the SendCommand workflow, the gauges schedule's event) with
exactly the IAM policy the synthesised template gives its role, under moto's IAM enforcement (see
iam_enforcement.py for how, and where the test fills moto's gaps).

Both directions: nothing any function does is refused, and every action/resource a statement grants is
needed by some request (so removing any statement refuses something, which one test shows for real)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import websockets

from csms.domain.clock import to_iso
from csms.domain.reservations import end_of_day, station_zone
from csms.runtime.observability import metrics
from csms.runtime.settings import get_settings
from csms.runtime.wiring import aws_session, get_services
from infra.manifest import FUNCTIONS
from infra.stack import STAGE_NAME
from infra.state_machines import state_machine_name
from infra.workflows import WORKFLOWS
from local.aws import ACCOUNT_ID, REGION, emulated_aws
from local.event_queues import dead_letter_queue_name, queue_arn, queue_name
from local.events import scheduled_event
from local.runtime import LocalConfig, LocalRuntime
from local.workflows import LOCAL_EVENT_BUS
from tests.e2e.operator_client import OperatorApi
from tests.e2e.test_operator_commands import started_station, stopped
from tests.fakes.webhook import webhook_server
from tests.infra.conftest import Synthesized
from tests.infra.iam_enforcement import Enforcement, as_list, enforced, resolve, table_arn, unused_grants

pytestmark = pytest.mark.e2e

TABLE_NAME = "csms-iam"
STATION = "CP100"

# Granted for the Lambda service, which writes the function's output to its log group, polls the table's
# stream and the notifications queue for the functions (their event source mappings) and sends the records it
# gives up on to the stream mapping's on-failure queue: no handler calls them. (The one SQS request a handler
# makes, the notifications function's ChangeMessageVisibility, is judged like any other: the day makes it.)
NOT_THE_HANDLERS = (
    "logs:", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams", "sqs:",
)  # fmt: skip

NOT_IN_THE_DAY = {
    ("connect", "dynamodb:PutItem"): (
        "a site's station that connects again writes its site's load-control run (ALLOC#CONNECT#...): the day's "
        "station connects again only after its site was removed (tests/integration/test_load_control.py has the "
        "connect function writing it, and the run)."
    ),
    ("message", "states:SendTaskFailure"): (
        "on SessionLimit: a RemoteStopTransaction answered with a CALLERROR fails its task, and its next try waits "
        "20 s, too long for this day (tests/integration/test_sessions.py has the task that reports the stop that "
        "failed); on ReservationStart: a station answering a scheduled ReserveNow with a CALLERROR, where the day's "
        "station accepts it. SendCommand's failure is in the day."
    ),
    ("command", "states:SendTaskFailure"): (
        "on SessionLimit: a RemoteStopTransaction for a station that is gone fails its task at once, and its retries "
        "take a minute; on ReservationStart: a scheduled reservation whose station is gone or unknown when its "
        "ReserveNow goes out (tests/integration/test_reservations.py). SendCommand's failure is in the day."
    ),
    ("api", "states:SendTaskFailure"): (
        "the operator API pumping a station's outbox sends a queued workflow command first; when that station's "
        "connection is gone (410) the command fails and so does its task. Reaching it takes a silent station whose "
        "outstanding call expired with a workflow command queued behind it: not part of this day yet."
    ),
}
"""Grants a real path needs that the day above does not take, each with the path: kept exact below."""

def function_policies(deployed: Synthesized, runtime: LocalRuntime) -> dict[str, list[dict[str, Any]]]:
    """Each function's statements from the template, resolved to what the local runtime created."""
    stack = deployed.stack
    refs: dict[str, str] = {deployed.logical_id(stack.table): TABLE_NAME, deployed.logical_id(stack.station_api.api): runtime.gateway.api.api_id}
    arns: dict[str, str] = {
        deployed.logical_id(stack.table): table_arn(TABLE_NAME),
        f"{deployed.logical_id(stack.table)}.StreamArn": f"{table_arn(TABLE_NAME)}/stream/local",
        deployed.logical_id(stack.events.bus): f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{LOCAL_EVENT_BUS}",
        deployed.logical_id(stack.table_changes_failures): f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:table-changes-failures",
    }
    for name, queue in stack.function_queues.items():
        arns[deployed.logical_id(queue)] = queue_arn(queue_name(name))
        arns[deployed.logical_id(stack.function_dead_letters[name])] = queue_arn(dead_letter_queue_name(name))
    for name, log_group in stack.functions.log_groups.items():
        arns[deployed.logical_id(log_group)] = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{name}"
    # Physical names that differ by deployment: the stack names its machines `<stack>-<workflow>`.
    renamed = {
        f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{state_machine_name(stack, spec)}": runtime.workflows.arns[spec.name]
        for spec in WORKFLOWS
    } | {
        f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:{state_machine_name(stack, spec)}:": runtime.workflows.arns[spec.name].replace(":stateMachine:", ":execution:") + ":"
        for spec in WORKFLOWS
    }

    def local(resource: str) -> str:
        for deployed_name, local_name in renamed.items():
            resource = resource.replace(deployed_name, local_name)
        return resource

    policies = {}
    for spec in FUNCTIONS:
        statements = []
        for statement in deployed.function_statements(spec.name):
            assert statement["Effect"] == "Allow" and set(statement) <= {"Action", "Effect", "Resource"}, statement
            resolved = resolve(statement, refs, arns)
            resolved["Resource"] = [local(resource) for resource in as_list(resolved["Resource"])]
            statements.append(resolved)
        policies[spec.name] = statements
    return policies


async def until(api: OperatorApi, path: str, check: Any, timeout: float = 20) -> Any:
    """GET `path` until `check` holds for its body (what the functions do happens on other threads)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, body = await api.request("GET", path)
        if status == 200 and check(body):
            return body
        assert asyncio.get_running_loop().time() < deadline, f"GET {path}: still {status} {body}"
        await asyncio.sleep(0.05)


async def a_day_of_the_network(runtime: LocalRuntime, operator_sfn: Any) -> None:
    """What each function is for, once: registrations, a station's session started and stopped remotely,
    listings, the gauges, workflow commands (answered, refused, for a station that is gone), reservations that
    expire (one scheduled), the driver told by webhook, a ghost connection replaced, and the station removed."""
    with webhook_server() as webhook:
        await _the_day(runtime, operator_sfn, webhook)


async def _the_day(runtime: LocalRuntime, operator_sfn: Any, webhook: Any) -> None:
    api = OperatorApi(runtime.api_url)
    flat = {"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]}
    assert (await api.request("PUT", "/tariffs/DAY", flat))[0] == 201
    assert (await api.request("PUT", f"/charge-points/{STATION}", {"tariffId": "DAY"}))[0] == 201
    # Its sessions may last an hour: a duration timer starts with each and is stopped when the session ends first.
    # Its driver's webhook refuses the first event: the notifications function sets the message's backoff.
    webhook.answers = [503]
    notify = {"webhookUrl": webhook.url, "webhookSecret": "the-day-s-driver-secret"}
    driver = {"status": "Accepted", "limits": {"maxDurationSeconds": 3600}, "notify": notify}
    assert (await api.request("PUT", "/id-tags/DRIVER1", driver))[0] == 201
    station, running = await started_station(runtime, STATION, failures={"Reset": "InternalError"}, connectors=3)

    status, answer = await api.command(STATION, "RemoteStartTransaction", {"idTag": "DRIVER1", "connectorId": 1})
    assert status == 200 and answer["response"] == {"status": "Accepted"}, answer

    sessions = await until(api, "/transactions?active=true", lambda page: page["items"])
    transaction_id = sessions["items"][0]["transactionId"]
    site = {"name": "Depot", "maxCurrentA": 32, "phases": 3, "voltageV": 230, "chargePoints": [STATION]}
    assert (await api.request("PUT", "/sites/depot", site))[0] == 201
    for path in ("/charge-points", "/network/counts", f"/charge-points/{STATION}", "/id-tags", "/id-tags/DRIVER1", "/transactions",
                 "/transactions?active=false", f"/transactions?chargePointId={STATION}", f"/transactions/{transaction_id}",
                 "/sites", "/sites/depot"):
        assert (await api.request("GET", path))[0] == 200, path
    levels = await runtime.functions.invoke("gauges", scheduled_event(rule_name="gauges-schedule", region=REGION, account_id=ACCOUNT_ID))
    assert levels == {"connectedStations": 1, "activeTransactions": 1}  # and the site's currents
    assert (await api.request("DELETE", "/sites/depot"))[0] == 204

    for name, action, payload, outcome in (
        ("unlock", "UnlockConnector", {"connectorId": 2}, "SUCCEEDED"),
        ("reset", "Reset", {"type": "Soft"}, "FAILED"),
        ("nobody", "Reset", {"type": "Soft"}, "FAILED"),
    ):
        execution = operator_sfn.start_execution(
            stateMachineArn=runtime.workflows.arns["SendCommand"],
            name=name,
            input=json.dumps({"chargePointId": "NOBODY" if name == "nobody" else STATION, "action": action, "payload": payload}),
        )
        for _ in range(400):
            described = await asyncio.to_thread(operator_sfn.describe_execution, executionArn=execution["executionArn"])
            if described["status"] != "RUNNING":
                break
            await asyncio.sleep(0.05)
        assert described["status"] == outcome, described

    # Two commands at once: the second waits in the outbox until the station answered the first, then the
    # message function that received the answer sends it.
    sent = await asyncio.gather(*(api.command(STATION, "GetConfiguration", {}, query="?wait=false") for _ in range(2)))
    assert [status for status, _ in sent] == [202, 202], sent
    for _, body in sent:
        await until(api, f"/commands/{body['commandId']}", lambda command: command["status"] == "Answered")
    await reservations_of_the_day(api)
    status, _ = await api.command(STATION, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert status == 200
    await until(api, "/transactions?active=true", lambda page: not page["items"])
    cdr = await until(api, f"/transactions/{transaction_id}/cdr", lambda cdr: cdr["session_id"] == str(transaction_id))
    status, corrected = await api.request("POST", f"/cdrs/{cdr['id']}/corrections", {})
    assert status == 201 and corrected["credit"]["credit_reference_id"] == cdr["id"], corrected

    def told_and_retried() -> bool:  # the session's start and end reached the driver, one event tried twice
        event_ids = {post.json["eventId"] for post in webhook.received}
        return bool(webhook.posts_of("SessionStarted") and webhook.posts_of("SessionEnded")) and len(webhook.received) > len(event_ids)

    for _ in range(400):
        if told_and_retried():
            break
        await asyncio.sleep(0.05)
    assert told_and_retried(), [(post.headers["X-CSMS-Event-Type"], post.json["eventId"]) for post in webhook.received]

    # A driver's app session limited to a second: the SessionLimit workflow stops it when the time is up.
    assert (await api.request("PUT", "/id-tags/DRIVER2", {"status": "Accepted"}))[0] == 201
    status, session = await api.request(
        "POST", "/sessions", {"chargePointId": STATION, "connectorId": 1, "idTag": "DRIVER2", "limits": {"maxDurationSeconds": 1}}
    )
    assert status == 201, session
    shown = await until(api, f"/sessions/{session['sessionId']}", lambda view: view["status"] == "Stopped")
    assert shown["limitReached"] == "duration"
    # Its execution ends once the station's answer to RemoteStopTransaction completed its task (which may come after
    # the StopTransaction); the first session's timer was stopped when that session ended.
    for _ in range(400):
        executions = await asyncio.to_thread(operator_sfn.list_executions, stateMachineArn=runtime.workflows.arns["SessionLimit"])
        if all(execution["status"] != "RUNNING" for execution in executions["executions"]):
            break
        await asyncio.sleep(0.05)
    assert sorted(execution["status"] for execution in executions["executions"]) == ["ABORTED", "SUCCEEDED"], executions

    # A second connection of the station: $connect closes the first one (its ghost).
    async with websockets.connect(runtime.station_url(STATION), subprotocols=["ocpp1.6"]):
        await station.wait_booted()
    assert (await api.request("DELETE", "/id-tags/DRIVER1"))[0] == 204
    # Removing a connected station disconnects it.
    await until(api, f"/charge-points/{STATION}", lambda view: view.get("connected"))
    assert (await api.request("DELETE", f"/charge-points/{STATION}"))[0] == 204
    await stopped(station, running)


RESERVATION_LEAD = {"RESERVATION_LEAD_SECONDS": "1"}
"""A scheduled reservation's ReserveNow goes out a second before its startAt (the day's run sets it)."""
WEBHOOK_RETRIES = {"WEBHOOK_RETRY_SECONDS": "0"}
"""A webhook delivery the driver refused is tried again at once (the day's run sets it)."""


def a_zone_where_the_day_goes_on(now: datetime) -> str:
    """The station's time zone: one whose day still has an hour to go (the day runs on the system clock, which the
    simulated station shares, so its reservations must fit whatever moment the suite runs)."""
    return next(zone for zone in ("UTC", "Etc/GMT-12", "Etc/GMT+12") if end_of_day(now, station_zone(zone)) - now > timedelta(hours=1))


async def reservations_of_the_day(api: OperatorApi) -> None:
    """One reservation expiring a moment later (ReservationExpiry, started from the stream, runs the reservations
    function), one scheduled (ReservationStart: claimed, sent by the command function, answered on $default,
    then expiring too)."""
    now = datetime.now(UTC)
    assert (await api.request("PUT", f"/charge-points/{STATION}", {"timeZone": a_zone_where_the_day_goes_on(now)}))[0] == 200
    soon = {"chargePointId": STATION, "connectorId": 2, "idTag": "DRIVER1", "expiryDate": to_iso(now + timedelta(seconds=2))}
    status, expiring = await api.request("POST", "/reservations", soon)
    assert (status, expiring["status"]) == (201, "Accepted"), expiring
    later = soon | {"connectorId": 3, "startAt": to_iso(now + timedelta(seconds=4)), "expiryDate": to_iso(now + timedelta(seconds=6))}
    status, scheduled = await api.request("POST", "/reservations", later)
    assert (status, scheduled["status"]) == (201, "Scheduled"), scheduled
    for made in (expiring, scheduled):
        await until(api, f"/reservations/{made['reservationId']}", lambda view: view["status"] == "Expired")


def run_with_template_policies(deployed: Synthesized, *, without: tuple[str, int] | None = None) -> Enforcement:
    """The day above under enforcement; `without` = (function, statement index) leaves that statement out."""
    get_settings.cache_clear()
    get_services.cache_clear()
    enforcement = Enforcement(policies={}, api_id="")
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, stage=STAGE_NAME)

    async def main() -> None:
        async with LocalRuntime(config, invocation_hook=lambda name, event: enforcement.running_as(name)) as runtime:
            enforcement.api_id = runtime.gateway.api.api_id
            enforcement.policies = function_policies(deployed, runtime)
            if without is not None:
                del enforcement.policies[without[0]][without[1]]
            iam = boto3.client("iam", region_name=REGION)
            iam.create_user(UserName="operator")
            everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps(everything))
            key = iam.create_access_key(UserName="operator")["AccessKey"]
            operator_sfn = boto3.client(
                "stepfunctions", region_name=REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
            )
            with enforced(aws_session(), enforcement):
                try:
                    await asyncio.wait_for(a_day_of_the_network(runtime, operator_sfn), timeout=90)
                except Exception as failure:  # a refusal shows wherever the day needed the grant
                    refused = sorted({(d.function, d.action, d.resource) for d in enforcement.denied()})
                    if without is None:
                        raise AssertionError(f"the day failed; refused: {refused}") from failure
                    if not refused:
                        raise

    saved = {name: os.environ.get(name) for name in RESERVATION_LEAD | WEBHOOK_RETRIES}
    os.environ.update(RESERVATION_LEAD | WEBHOOK_RETRIES)
    with emulated_aws(TABLE_NAME):
        try:
            asyncio.run(main())
        finally:
            for name, value in saved.items():
                os.environ.pop(name) if value is None else os.environ.update({name: value})
            get_settings.cache_clear()
            get_services.cache_clear()
            metrics.clear_metrics()  # disabled metrics are never flushed: they would reach the next test
    return enforcement


@pytest.fixture(scope="module")
def day(deployed: Synthesized) -> Enforcement:
    return run_with_template_policies(deployed)


def test_no_function_is_refused_anything_it_does(day: Enforcement):
    assert [(d.function, d.action, d.resource) for d in day.denied()] == []


def test_every_function_ran_under_its_own_role(day: Enforcement):
    assert {decision.function for decision in day.decisions} == {spec.name for spec in FUNCTIONS}


def test_no_function_holds_a_grant_it_never_uses(day: Enforcement):
    unused = {
        function: [grant for grant in unused_grants(statements, day.used(function)) if not grant[0].startswith(NOT_THE_HANDLERS)]
        for function, statements in day.policies.items()
    }
    excess = {
        function: [(action, resource) for action, resource in grants if (function, action) not in NOT_IN_THE_DAY]
        for function, grants in unused.items()
    }
    excess = {function: grants for function, grants in excess.items() if grants}
    assert {(function, action) for function, grants in unused.items() for action, _ in grants} >= set(NOT_IN_THE_DAY)
    assert not excess, "granted and never used:\n" + "\n".join(f"  {f}: {a} on {r}" for f, grants in excess.items() for a, r in grants)


@pytest.mark.parametrize(
    "function",
    ["gauges", "message", "connect", "api"],
)
def test_without_any_one_of_its_statements_a_function_is_refused(deployed: Synthesized, day: Enforcement, function: str):
    # The grant test above shows each statement is needed; this runs the day for real without the function's
    # first table statement and sees the refusal.
    index = next(i for i, s in enumerate(day.policies[function]) if any(a.startswith("dynamodb:") for a in as_list(s["Action"])))
    refused = run_with_template_policies(deployed, without=(function, index)).denied()
    assert refused and {decision.function for decision in refused} == {function}


def test_the_notifications_function_backs_off_a_refused_delivery_under_its_own_role(day: Enforcement):
    assert ("sqs:ChangeMessageVisibility", queue_arn(queue_name("notifications"))) in day.used("notifications")
    assert ("dynamodb:GetItem", table_arn(TABLE_NAME)) in day.used("notifications")
