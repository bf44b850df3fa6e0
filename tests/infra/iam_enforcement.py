"""Each function's handler run with exactly the IAM policy the synthesised template gives its role.

How the proof works, and where it fills moto's gaps:

- The policies come from the template: every `AWS::IAM::Policy` attached to the function's role, its
  intrinsic functions resolved to the resources the local runtime creates (the table, the station API's id
  and stage, the state machines; physical names that differ by deployment, such as `<stack>-SendCommand`,
  are mapped through the manifests). Nothing is restated by hand, and an intrinsic the resolver does not
  know fails the test rather than being guessed.
- moto holds them: one IAM role per function with those inline policies, and credentials from
  `sts:AssumeRole` on it. Each invocation signs its requests with its own function's credentials (a
  per-thread credential provider on the functions' boto3 session, switched by the local runtime's invocation
  hook), and moto's enforcement is on: an unknown key or a bad signature is refused by moto itself.
- moto authorises DynamoDB and Step Functions requests against the resource `*` with the API operation as
  the action, which matches no statement scoped to a resource and does not know that a TransactWriteItems is
  authorised item by item as PutItem/UpdateItem/ConditionCheckItem/DeleteItem, or that a Query of an index
  is authorised on `table/<name>/index/<index>`. So the test says what AWS authorises for each request
  (`required_permissions`, from the request itself, through botocore's `before-call` event), and moto's own
  policy evaluation (its statement matcher, with the policies of the key that signed the request) decides
  each of those action/resource pairs. The @connections endpoint is the local gateway, not moto: its
  requests are decided the same way, with the calling function's role's policies, before they leave.
- Everything decided is recorded: what was allowed (by which statement) and what was denied, per function,
  so a test can ask both whether anything was refused and whether any grant was never used.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import ClientError

from local.aws import ACCOUNT_ID, MOTO_LOCK, REGION

PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::URLSuffix": "amazonaws.com",
}

Permission = tuple[str, str]
"""(IAM action, resource ARN) as AWS authorises one part of a request."""


# --- the template's policies, resolved ------------------------------------------------------------------


def resolve(value: Any, refs: Mapping[str, str], arns: Mapping[str, str]) -> Any:
    """A template value with its intrinsic functions evaluated: `Ref` and `Fn::GetAtt .Arn` from the maps
    given, `Fn::Join`, `Fn::Select`, `Fn::Split`; anything else raises."""
    if isinstance(value, list):
        return [resolve(item, refs, arns) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Fn::", "Ref")):
        return {key: resolve(item, refs, arns) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        if argument in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[argument]
        return refs[argument]
    if function == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        if attribute == "Arn":
            return arns[logical_id]
        if f"{logical_id}.{attribute}" in arns:
            return arns[f"{logical_id}.{attribute}"]
        raise KeyError(f"Fn::GetAtt {logical_id}.{attribute}: no local value")
    if function == "Fn::Join":
        separator, parts = argument
        return separator.join(resolve(parts, refs, arns))
    if function == "Fn::Select":
        index, items = argument
        return resolve(items, refs, arns)[int(index)]
    if function == "Fn::Split":
        separator, text = argument
        return resolve(text, refs, arns).split(separator)
    raise KeyError(f"{function}: not resolved by this test")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- what AWS authorises for a request ------------------------------------------------------------------

_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def table_arn(table_name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table_name}"


def required_permissions(service: str, operation: str, body: dict[str, Any], url: str, method: str, *, token_owner: Any, api_id: str) -> list[Permission]:
    """The action/resource pairs AWS authorises for one request (the Service Authorization Reference's
    resource types for each operation). Raises KeyError for a request this test does not know how to judge."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            permissions = []
            for item in body["TransactItems"]:
                ((kind, part),) = item.items()
                action = "GetItem" if kind == "Get" else _TRANSACT_ACTIONS[kind]
                permissions.append((f"dynamodb:{action}", table_arn(part["TableName"])))
            return permissions
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table_arn(name)) for name in body["RequestItems"]]
        resource = table_arn(body["TableName"])
        if operation in ("Query", "Scan") and body.get("IndexName"):
            resource += f"/index/{body['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    if service == "apigatewaymanagementapi":
        path = unquote(urlparse(url).path)  # /<stage>/@connections/<connectionId>
        stage, connection = path.strip("/").split("/@connections/")
        return [("execute-api:ManageConnections", f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/@connections/{connection}")]
    if service == "stepfunctions":
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            return [(f"states:{operation}", token_owner(body["taskToken"]))]
        if operation == "StartExecution":
            return [("states:StartExecution", body["stateMachineArn"])]
        if operation in ("DescribeExecution", "StopExecution"):
            return [(f"states:{operation}", body["executionArn"])]
    if service == "sqs" and operation in ("ChangeMessageVisibility", "DeleteMessage", "ReceiveMessage"):
        account, name = urlparse(body["QueueUrl"]).path.strip("/").split("/")
        return [(f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{account}:{name}")]
    if service == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in body["Entries"]}
        return [("events:PutEvents", bus if bus.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{bus}") for bus in buses]
    raise KeyError(f"{service}.{operation}: no rule for what AWS authorises")


def state_machine_of_task_token(token: str) -> str:
    """The state machine whose running execution issued `token` (what SendTask* is authorised against)."""
    from moto.stepfunctions.responses import get_backend

    backend = get_backend(ACCOUNT_ID, REGION)
    with MOTO_LOCK:  # between requests: no execution half started (see local.workflows._start_running)
        for machine in backend.state_machines:
            for execution in machine.executions:
                worker = getattr(execution, "exec_worker", None)
                if worker is not None and worker.env is not None and worker.env.callback_pool_manager.get(token) is not None:
                    return machine.arn
    return "arn:aws:states:::unknown-task-token"


# --- moto holding and enforcing the policies ------------------------------------------------------------


@dataclass
class Decision:
    function: str
    action: str
    resource: str
    allowed: bool


@dataclass
class Enforcement:
    """Roles, credentials and the record of every decision."""

    policies: dict[str, list[dict[str, Any]]]
    """function -> the statements of its role, resolved."""
    api_id: str
    credentials: dict[str, ReadOnlyCredentials] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    _current: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def function(self) -> str | None:
        return getattr(self._current, "function", None)

    @contextmanager
    def running_as(self, function: str) -> Iterator[None]:
        previous = self.function
        self._current.function = function
        try:
            yield
        finally:
            self._current.function = previous

    def record(self, function: str, permissions: list[Permission], allowed: bool) -> None:
        with self._lock:
            self.decisions += [Decision(function, action, resource, allowed) for action, resource in permissions]

    def denied(self) -> list[Decision]:
        return [decision for decision in self.decisions if not decision.allowed]

    def used(self, function: str) -> list[Permission]:
        return [(d.action, d.resource) for d in self.decisions if d.function == function and d.allowed]


def evaluate(policies: list[str], action: str, resource: str) -> bool:
    """moto's policy evaluation: allowed if some statement allows and none denies."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(policy).is_action_permitted(action, resource) for policy in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


class ThreadCredentials(Credentials):
    """The credentials of the function running on this thread (its role's, from sts:AssumeRole)."""

    def __init__(self, enforcement: Enforcement) -> None:
        self._enforcement = enforcement  # no super().__init__: the keys are properties, per thread
        self.method = "per-function"
        self.account_id = None

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        function = self._enforcement.function
        if function is None:
            raise RuntimeError("an AWS request outside any function invocation")
        return self._enforcement.credentials[function]

    @property
    def access_key(self) -> str:  # type: ignore[override]
        return self.get_frozen_credentials().access_key

    @property
    def secret_key(self) -> str:  # type: ignore[override]
        return self.get_frozen_credentials().secret_key

    @property
    def token(self) -> str:  # type: ignore[override]
        return self.get_frozen_credentials().token


@contextmanager
def enforced(session: boto3.session.Session, enforcement: Enforcement) -> Iterator[Enforcement]:
    """Roles and credentials created in moto, the session's requests signed per function, moto's IAM
    enforcement on with the request's required permissions as what it judges."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequest

    iam = boto3.client("iam", region_name=REGION)
    sts = boto3.client("sts", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    for function, statements in enforcement.policies.items():
        role = iam.create_role(RoleName=f"csms-{function}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(
            RoleName=f"csms-{function}",
            PolicyName="FromTheTemplate",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=function)["Credentials"]
        enforcement.credentials[function] = ReadOnlyCredentials(
            assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
        )
    pending = threading.local()

    def before_call(model: Any, params: dict[str, Any], **_: Any) -> None:
        function = enforcement.function
        service = model.service_model.service_name
        body = json.loads(params["body"]) if params.get("body") and service != "apigatewaymanagementapi" else {}
        try:
            required = required_permissions(
                service, model.name, body, params["url"], params["method"],
                token_owner=state_machine_of_task_token, api_id=enforcement.api_id,
            )
        except KeyError as unknown:
            required = [(f"{service}:{model.name}", f"unjudged: {unknown}")]
        pending.required = (function, required)
        if service == "apigatewaymanagementapi":  # the local gateway, not moto: judged here
            policies = [json.dumps({"Version": "2012-10-17", "Statement": enforcement.policies[function]})]
            allowed = [evaluate(policies, action, resource) for action, resource in required]
            for permission, ok in zip(required, allowed, strict=True):
                enforcement.record(function, [permission], ok)
            if not all(allowed):
                raise ClientError({"Error": {"Code": "ForbiddenException", "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, model.name)

    def check_action_permitted(request: IAMRequest, resource: str) -> None:
        function, required = getattr(pending, "required", (None, None))
        pending.required = (None, None)
        if required is None:  # not a function's request (the test's own, as operator): moto's own judgement
            original_check(request, resource)
            return
        policies = request._access_key.collect_policies()
        for action, arn in required:
            allowed = evaluate(policies, action, arn)
            enforcement.record(function or "?", [(action, arn)], allowed)
            if not allowed:
                request._raise_access_denied()

    original_check = IAMRequest.check_action_permitted
    original_credentials = session._session._credentials
    saved_count, saved_initial = ActionAuthenticatorMixin.request_count, settings.INITIAL_NO_AUTH_ACTION_COUNT
    session._session._credentials = ThreadCredentials(enforcement)
    session.events.register("before-call", before_call)
    IAMRequest.check_action_permitted = check_action_permitted  # type: ignore[method-assign]
    ActionAuthenticatorMixin.request_count, settings.INITIAL_NO_AUTH_ACTION_COUNT = 0, 0
    try:
        yield enforcement
    finally:
        ActionAuthenticatorMixin.request_count, settings.INITIAL_NO_AUTH_ACTION_COUNT = saved_count, saved_initial
        IAMRequest.check_action_permitted = original_check  # type: ignore[method-assign]
        session.events.unregister("before-call", before_call)
        session._session._credentials = original_credentials


def unused_grants(statements: list[dict[str, Any]], used: list[Permission]) -> list[Permission]:
    """Each (action, resource) a statement allows that no recorded request needed."""
    unused = []
    for statement in statements:
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                if not any(fnmatch.fnmatchcase(a, action) and fnmatch.fnmatchcase(r, resource) for a, r in used):
                    unused.append((action, resource))
    return unused
