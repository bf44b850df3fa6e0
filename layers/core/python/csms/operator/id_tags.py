"""IdTags (RFID cards, app and QR identities: all arrive as an idTag): what the CSMS answers when one is presented.

idTag is a CiString20, case-insensitive (OCPP 1.6 §7.28): `abc` and `ABC` are the same tag; the spelling
last registered is the one shown.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from csms.adapters.dynamodb.keys import id_tag_key
from csms.domain.authorization import IdTagRecord
from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import IdTagList, IdTagRegistration, IdTagView
from csms.operator.pagination import DEFAULT_PAGE_SIZE, KIND_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

router = Router()
TAGS = ["Id tags"]

IdTag = Annotated[str, Path(alias="idTag", min_length=1, max_length=20, description="The idTag (CiString20, case-insensitive)")]


@router.put(
    "/id-tags/<idTag>",
    summary="Register an idTag, or replace what is known of it",
    description="A field left out is cleared; status defaults to Accepted. The tag's live transaction is kept. "
    "`limits` are the default limits of its sessions (card sessions get them; an app session's or a reservation's "
    "replace them field by field); a maxCost in another currency than the tag's tariff (or the network default) is a "
    "400. `notifyAtEnergyWh`: energy thresholds for ThresholdReached events. `notify`: the driver's webhook; its "
    "`webhookSecret` is write-only: no answer ever shows it.",
    tags=TAGS,
    responses=documented(
        200, "Replaced", extra={201: {"description": "Registered", "content": {"application/json": {"model": IdTagView}}}}
    ),
)
def register_id_tag(
    id_tag: IdTag, services: ServicesDependency, registration: Annotated[IdTagRegistration | None, Body()] = None
) -> IdTagView:
    from csms.sessions.service import check_cost_limit  # it loads the outbox: not every cold start's

    registration = registration or IdTagRegistration()
    limits = registration.limits.to_limits() if registration.limits else None
    check_cost_limit(services, limits, registration.tariff_id, "body.limits.maxCost")
    notify = registration.notify
    created = services.id_tags.register(
        IdTagRecord(
            id_tag=id_tag,
            status=registration.status.value,
            expiry_date=registration.expiry_date,
            parent_id_tag=registration.parent_id_tag,
            priority=registration.priority,
            limits=limits,
            notify_at_energy_wh=tuple(registration.notify_at_energy_wh or ()),
            webhook_url=notify.webhook_url if notify else None,
        ),
        webhook_secret=notify.webhook_secret.get_secret_value() if notify else None,
    )
    services.tariffs.assign(id_tag_key(id_tag), registration.tariff_id)
    logger.info("IdTag registered" if created else "IdTag replaced", extra={"status": registration.status.value})
    return Response(  # type: ignore[return-value]
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
        content_type="application/json",
        body=_view(services, id_tag),
    )


@router.get("/id-tags/<idTag>", summary="An idTag", tags=TAGS, responses=documented(200, "The idTag", 404))
def get_id_tag(id_tag: IdTag, services: ServicesDependency) -> IdTagView:
    return _view(services, id_tag)


@router.delete(
    "/id-tags/<idTag>",
    summary="Remove an idTag",
    description="From then on the tag is answered Invalid.",
    tags=TAGS,
    responses=documented(204, "Removed", 404, extra={204: {"description": "Removed", "content": {}}}),
)
def delete_id_tag(id_tag: IdTag, services: ServicesDependency) -> None:
    removed = services.id_tags.delete(id_tag)
    if removed is None:
        raise ResourceNotFound(f"Unknown idTag {id_tag}")
    services.tariffs.release(removed.tariff_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body="")  # type: ignore[return-value]


@router.get(
    "/id-tags",
    summary="List idTags",
    description="Pages of at most `limit` tags in no particular order; follow `nextToken` until it is null.",
    tags=TAGS,
    responses=documented(200, "A page of idTags", 400),
)
def list_id_tags(services: ServicesDependency, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None) -> IdTagList:
    records, next_key = services.id_tags.list_page(limit=limit, start_key=decode_token(next_token, KIND_INDEX_PAGE_KEY))
    return IdTagList(items=[IdTagView.from_record(record) for record in records], next_token=encode_token(next_key))


def _view(services: Services, id_tag: str) -> IdTagView:
    record = services.id_tags.get(id_tag)
    if record is None:
        raise ResourceNotFound(f"Unknown idTag {id_tag}")
    return IdTagView.from_record(record)
