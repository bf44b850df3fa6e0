"""The operator API: one Powertools HTTP API resolver (payload format 2.0) with request and response validation,
a router per resource, the exception -> response table, `GET /openapi.json` and a Swagger UI at `/docs`.

The routers of stations, id tags and transactions are there from the start. The others, and the views only they use,
are included by the first request to one of their paths (and all of them for the OpenAPI document), for what they
import: the OCPP message models (commands, reservations, app sessions), the tariff models and the pricing engine
(tariffs, CDRs), the allocation and load control (sites). A cold start pays only for what its request uses (issue 7:
under 250 ms of imports).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from csms.ocpp.frames import decimal_to_json
from csms.ocpp.json_limits import Problem, find_problem
from csms.operator import charge_points, console, id_tags, transactions
from csms.operator.errors import install_error_responses
from csms.operator.models import ErrorBody
from csms.runtime.observability import metrics

if TYPE_CHECKING:  # the OpenAPI models are imported when the document is asked for, not at every cold start
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from aws_lambda_powertools.utilities.typing import LambdaContext

OPENAPI_INFO: dict[str, Any] = {
    "title": "CSMS operator API",
    "version": "1.0.0",
    "description": (
        "Operate an OCPP 1.6J charging network: register charge points and idTags, follow transactions, reserve "
        "connectors for drivers, and send "
        "any central-system OCPP 1.6 command (Security Whitepaper included) to a connected charge point, its answer "
        "coming back in the response. Field names are camelCase, as in OCPP. Every error body is JSON with a "
        "`message`. On AWS the API is protected by IAM (or JWT) authorization on the HTTP API."
    ),
    "tags": [
        "Charge points", "Id tags", "Sessions", "Reservations", "Sites", "Tariffs", "Charge detail records", "Transactions",
        "Commands",
    ],
}


@dataclass(frozen=True)
class OnDemandRouter:
    """A module's `router`, included when a request's path is one of `paths` (Powertools' `<name>` syntax; a test
    checks they are exactly the router's)."""

    module: str
    paths: tuple[str, ...]
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A path parameter never holds a `/`, as in Powertools' own matching.
        alternatives = "|".join(re.sub(r"<\w+>", "[^/]+", re.escape(path)) for path in self.paths)
        object.__setattr__(self, "_pattern", re.compile(f"(?:{alternatives})"))

    def serves(self, path: str) -> bool:
        return self._pattern.fullmatch(path) is not None


ON_DEMAND_ROUTERS = (
    OnDemandRouter(
        "csms.operator.tariffs",
        ("/tariffs", "/tariffs/preview", "/tariffs/<tariffId>", "/charge-points/<chargePointId>/tariff"),
    ),
    OnDemandRouter(
        "csms.operator.cdrs",
        ("/cdrs", "/cdrs/<cdrId>", "/cdrs/<cdrId>/corrections", "/transactions/<transactionId>/cdr"),
    ),
    OnDemandRouter(
        "csms.operator.commands",
        (
            "/charge-points/<chargePointId>/commands",
            "/charge-points/<chargePointId>/commands/<action>",
            "/charge-points/<chargePointId>/connectors/<connectorId>/stop",
            "/commands/<commandId>",
        ),
    ),
    OnDemandRouter("csms.operator.reservations", ("/reservations", "/reservations/<reservationId>")),
    OnDemandRouter("csms.operator.sessions", ("/sessions", "/sessions/<sessionId>")),
    OnDemandRouter("csms.operator.sites", ("/sites", "/sites/<siteId>")),
)
COLD_START_ROUTERS = (charge_points.router, id_tags.router, transactions.router, console.router)


_request = threading.local()


class OperatorApiResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, which includes the on-demand routers a request needs before resolving it,
    and all of them before describing the API.

    The request being resolved is the thread's: Powertools keeps it on its `BaseRouter` class
    (`BaseRouter.current_event = ...` in `resolve`), shared by every resolver of the process. Lambda runs one
    request per process at a time; the local runtime resolves concurrent requests on threads, where a request
    that started while another was being resolved replaced that one's event (its path, its body) midway.
    """

    # Narrowed from BaseRouter's BaseProxyEvent, as Powertools' APIGatewayHttpResolver declares it.
    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = _request.event
        return event

    @current_event.setter
    def current_event(self, event: APIGatewayProxyEventV2) -> None:
        _request.event = event

    @property
    def lambda_context(self) -> LambdaContext:
        context: LambdaContext = _request.lambda_context
        return context

    @lambda_context.setter
    def lambda_context(self, context: LambdaContext) -> None:
        _request.lambda_context = context

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._included: set[str] = set()
        self._including = threading.Lock()  # the local runtime serves requests on several threads

    def include_on_demand(self, path: str | None) -> None:
        """Include the on-demand routers that serve `path` (None: all of them), each once."""
        for router in ON_DEMAND_ROUTERS:
            if router.module in self._included or not (path is None or router.serves(path)):
                continue
            with self._including:
                if router.module not in self._included:
                    self.include_router(importlib.import_module(router.module).router)
                    self._included.add(router.module)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event, self.lambda_context = APIGatewayProxyEventV2(dict(event)), context  # what it reads
        self.include_on_demand(self.current_event.path)  # the path Powertools matches routes on
        return super().resolve(event, context)

    def get_openapi_schema(self, **options: Any) -> OpenAPI:
        self.include_on_demand(None)
        return super().get_openapi_schema(**options)


def count_request(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    metrics.add_metric(name="OperatorRequests", unit=MetricUnit.Count, value=1)
    return next_middleware(app)


def create_app() -> OperatorApiResolver:
    app = OperatorApiResolver(
        enable_validation=True,
        # DynamoDB's Decimals as JSON numbers (energy, charging limits), never as strings.
        serializer=partial(json.dumps, separators=(",", ":"), default=decimal_to_json),
    )
    for router in COLD_START_ROUTERS:  # the console's pages among them, served beside the API they call
        app.include_router(router)
    app.use(middlewares=[count_request])
    install_error_responses(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:  # the body is validated as the str it is
        spec = app.get_openapi_json_schema(**OPENAPI_INFO)
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=spec)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        # Powertools' enable_swagger page, built when asked for: enable_swagger itself imports the OpenAPI
        # models when the app is built, about 30 ms of every cold start for a page only people read.
        from aws_lambda_powertools.event_handler.openapi import swagger_ui

        spec = app.get_openapi_json_schema(**OPENAPI_INFO).replace("</", "<\\/")  # no </script> inside the page
        assets = Path(swagger_ui.__file__).parent
        page = swagger_ui.generate_swagger_html(
            spec,
            (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
            swagger_base_url="",  # the assets inline, as enable_swagger serves them
            oauth2_config=None,
        )
        return Response(status_code=200, content_type=content_types.TEXT_HTML, body=page)

    return app


app = create_app()
_thread = threading.local()
_thread.app = app


def current_app() -> OperatorApiResolver:
    """This thread's resolver. Powertools keeps the request being resolved on the resolver (its `context`: the route,
    the request): Lambda gives an instance one request at a time, but the local runtime resolves concurrent requests
    on threads of one process, where a shared resolver crossed them (one request's route arguments in another's, or
    "app.request is only available after route resolution"). The thread that imported this module uses `app`."""
    resolver: OperatorApiResolver | None = getattr(_thread, "app", None)
    if resolver is None:
        resolver = _thread.app = create_app()
        resolver.dependency_overrides = app.dependency_overrides  # one set of overrides (tests give their services)
    return resolver


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one request. A body is read as JSON whatever its Content-Type says: this API takes nothing else,
    and `curl -d` sends application/x-www-form-urlencoded unless told otherwise."""
    headers = event.get("headers") or {}
    if event.get("body"):
        problem = _body_problem(event["body"], base64_encoded=bool(event.get("isBase64Encoded")))
        if problem is not None:
            metrics.add_metric(name="OperatorErrors", unit=MetricUnit.Count, value=1)
            body = ErrorBody(message=f"The request body {problem}").model_dump(mode="json", by_alias=True, exclude_none=True)
            return {"statusCode": 400, "headers": {"Content-Type": content_types.APPLICATION_JSON}, "body": json.dumps(body)}
        if not headers.get("content-type", "").lower().startswith("application/json"):
            event = {**event, "headers": {**headers, "content-type": "application/json"}}
    return current_app().resolve(event, context)


def _body_problem(body: str, *, base64_encoded: bool) -> str | None:
    """Why a body cannot be taken as JSON this API reads (said before the resolver tries and fails with a 500)."""
    try:
        text = base64.b64decode(body, validate=True).decode() if base64_encoded else body
    except (binascii.Error, UnicodeDecodeError):
        return "is not UTF-8 text"
    try:
        document = json.loads(text)
    except ValueError:
        return None  # the resolver answers it as any request that does not match the schema (422)
    except RecursionError:
        return Problem.TOO_DEEP.value
    problem = find_problem(document)
    return problem.value if problem is not None else None
