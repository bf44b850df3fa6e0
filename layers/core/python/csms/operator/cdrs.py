"""Charge detail records: OCPI 2.2.1 CDR objects (snake_case, as OCPI defines them), immutable once issued."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import Field

from csms.adapters.dynamodb.tariffs import TariffNotFound
from csms.billing import service as billing
from csms.billing.cdrs import cdr_id
from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import ApiModel, JsonObject, NextPageToken, UtcDateTime
from csms.operator.pagination import DEFAULT_PAGE_SIZE, STATION_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ServicesDependency


class CdrList(ApiModel):
    items: list[JsonObject] = Field(description="OCPI 2.2.1 CDR objects (snake_case)")
    next_token: NextPageToken = None


router = Router()
TAGS = ["Charge detail records"]

CdrId = Annotated[str, Path(alias="cdrId", min_length=1, max_length=39)]


@router.get(
    "/cdrs",
    summary="List charge detail records",
    description="In end_date_time order; `from` (inclusive) and `to` (exclusive) filter on end_date_time. "
    "Follow `nextToken` until it is null.",
    tags=TAGS,
    responses=documented(200, "A page of CDRs", 400),
)
def list_cdrs(
    services: ServicesDependency,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId", min_length=1, max_length=48)] = None,
    ended_from: Annotated[UtcDateTime | None, Query(alias="from")] = None,
    ended_to: Annotated[UtcDateTime | None, Query(alias="to")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> CdrList:
    items, next_key = services.cdrs.list_page(
        charge_point_id=charge_point_id,
        ended_from=ended_from,
        ended_to=ended_to,
        limit=limit,
        start_key=decode_token(next_token, STATION_INDEX_PAGE_KEY),
    )
    return CdrList(items=items, next_token=encode_token(next_key))


@router.get("/cdrs/<cdrId>", summary="A charge detail record", tags=TAGS, responses=documented(200, "The CDR", 404))
def get_cdr(cdr: CdrId, services: ServicesDependency) -> dict[str, Any]:
    found = services.cdrs.get(cdr)
    if found is None:
        raise ResourceNotFound(f"Unknown CDR {cdr}")
    return found


@router.get(
    "/transactions/<transactionId>/cdr",
    summary="The charge detail record of a transaction",
    description="404 until the billing hand-off issued it (seconds after the stop) and for a transaction still going.",
    tags=TAGS,
    responses=documented(200, "The CDR", 404),
)
def transaction_cdr(
    transaction_id: Annotated[int, Path(alias="transactionId", ge=1)], services: ServicesDependency
) -> dict[str, Any]:
    transaction = services.transactions.get(transaction_id)
    found = services.cdrs.get(transaction.cdr_id or cdr_id(transaction)) if transaction and transaction.stop else None
    if found is None:
        raise ResourceNotFound(f"No CDR for transaction {transaction_id}")
    return found


class CdrCorrection(ApiModel):
    """POST body: re-price the session, with `tariffId` if the tariff it had was the mistake."""

    tariff_id: str | None = Field(None, min_length=1, max_length=36, description="The tariff to price it with instead")


class CorrectedCdr(ApiModel):
    credit: dict[str, Any] = Field(description="The OCPI credit CDR cancelling the original's money (credit: true)")
    cdr: dict[str, Any] = Field(description="The new CDR that replaces the original")


@router.post(
    "/cdrs/<cdrId>/corrections",
    summary="Correct a charge detail record",
    description=(
        "CDRs never change (OCPI mod_cdrs §Credit CDRs): a correction issues a credit CDR for the original "
        "(credit: true, credit_reference_id, every cost negated) and a new CDR, the session priced again; both go "
        "to the partners as CdrIssued. Safe to repeat: the same correction is answered (200). 409 for a credit "
        "CDR, a CDR already replaced by another, or no tariff in force at the session's start."
    ),
    tags=TAGS,
    responses=documented(
        200,
        "The correction made before",
        400,
        404,
        409,
        extra={201: {"description": "Corrected", "content": {"application/json": {"model": CorrectedCdr}}}},
    ),
)
def correct_cdr(
    cdr: CdrId, services: ServicesDependency, correction: Annotated[CdrCorrection | None, Body()] = None
) -> CorrectedCdr:
    tariff_id = correction.tariff_id if correction else None
    if tariff_id is not None and services.tariffs.get(tariff_id) is None:
        raise TariffNotFound(tariff_id)
    made = billing.correct(services, cdr, tariff_id=tariff_id)
    if made is None:
        raise ResourceNotFound(f"Unknown CDR {cdr}")
    view = CorrectedCdr(credit=made.credit, cdr=made.cdr)
    return Response(  # type: ignore[return-value]  # validated against CorrectedCdr all the same
        status_code=HTTPStatus.CREATED if made.created else HTTPStatus.OK, content_type="application/json", body=view
    )
