"""The operator API: one Powertools HTTP API resolver (payload format 2.0) with request and response validation,
a router per resource, the exception -> response table, `GET /openapi.json` and a Swagger UI at `/docs`."""

from __future__ import annotations

import base64
import binascii
import json
from functools import partial
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.metrics import MetricUnit

from csms.ocpp.frames import decimal_to_json
from csms.ocpp.json_limits import Problem, find_problem
from csms.operator import cdrs, charge_points, commands, id_tags, reservations, tariffs, transactions
from csms.operator.errors import install_error_responses
from csms.operator.models import ErrorBody
from csms.runtime.observability import metrics

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
    "tags": ["Charge points", "Id tags", "Tariffs", "Charge detail records", "Transactions", "Reservations", "Commands"],
}


def count_request(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    metrics.add_metric(name="OperatorRequests", unit=MetricUnit.Count, value=1)
    return next_middleware(app)


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(
        enable_validation=True,
        # DynamoDB's Decimals as JSON numbers (energy, charging limits), never as strings.
        serializer=partial(json.dumps, separators=(",", ":"), default=decimal_to_json),
    )
    for router in (
        charge_points.router, id_tags.router, tariffs.router, cdrs.router, transactions.router, reservations.router,
        commands.router,
    ):  # fmt: skip
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
    return app.resolve(event, context)


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
