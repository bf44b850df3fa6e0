"""The operator console: static pages (HTML, ES modules, CSS) served by the operator API function itself.

One origin for pages and data, locally (`make run`, port 8080) and on AWS (the HTTP API), so there is no second
server, bucket or CORS policy to keep, and nothing runs between requests. The pages hold no data: every figure
they show comes from this same API, through the same authorization, with the signed-in operator's token.
`/console/config.json` tells the pages how to sign in (the JWT issuer and client, when the API uses one) and
where stations connect (for the empty network's instructions).

Assets live beside the package in `csms/console/` (flat: Powertools' path parameters stop at `/`) and are
read once per cold start. They are revalidated on every load (`no-cache`) so a deploy is seen at once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from http import HTTPStatus
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from csms.operator.errors import ResourceNotFound
from csms.operator.parameters import ServicesDependency
from csms.runtime.settings import Settings

router = Router()

ASSETS_DIR = Path(__file__).resolve().parent.parent / "console"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def content_security_policy(*, signs_in: bool) -> str:
    """Scripts and styles from this origin only. A console that signs in also calls the provider's discovery
    document and token endpoint, whose host (a Cognito domain) is not the issuer's: any https origin then.
    Images may be `blob:` URLs: an <img> cannot send the signed-in operator's token, so the pages fetch images
    of the API (connectors' QR codes) with it and show what came back from the page's own memory."""
    connect = "'self' https:" if signs_in else "'self'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


@lru_cache(maxsize=1)
def _assets() -> dict[str, tuple[str, str]]:
    """Asset name -> (content type, text): only the files shipped, of the kinds a page loads."""
    return {
        path.name: (CONTENT_TYPES[path.suffix], path.read_text(encoding="utf-8"))
        for path in ASSETS_DIR.iterdir()
        if path.suffix in CONTENT_TYPES
    }


def _asset_response(name: str, *, signs_in: bool) -> Response[str]:
    asset = _assets().get(name)
    if asset is None:
        raise ResourceNotFound(f"The console has no file {name}")
    content_type, text = asset
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_type,
        body=text,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": content_security_policy(signs_in=signs_in),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def _sign_in(settings: Settings) -> dict[str, str] | None:
    if settings.console_jwt_issuer and settings.console_client_id:
        return {"issuer": settings.console_jwt_issuer, "clientId": settings.console_client_id}
    return None


@router.get("/console", include_in_schema=False)
def console_root() -> Response[str]:
    # Relative module URLs resolve against the directory: /console/ rather than /console.
    return Response(
        status_code=HTTPStatus.FOUND, content_type=content_types.TEXT_PLAIN, body="", headers={"Location": "/console/"}
    )


@router.get("/console/", include_in_schema=False)
def console_page(services: ServicesDependency) -> Response[str]:
    return _asset_response("index.html", signs_in=_sign_in(services.settings) is not None)


@router.get("/console/config.json", include_in_schema=False)
def console_config(services: ServicesDependency) -> Response[str]:
    body = {"signIn": _sign_in(services.settings), "stationUrl": services.settings.station_url}
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/console/<asset>", include_in_schema=False)
def console_asset(asset: str, services: ServicesDependency) -> Response[str]:
    return _asset_response(asset, signs_in=_sign_in(services.settings) is not None)
