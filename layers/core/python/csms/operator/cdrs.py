"""Charge detail records: OCPI 2.2.1 CDR objects (snake_case, as OCPI defines them), immutable once issued."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from csms.billing.cdrs import cdr_id
from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import CdrList, UtcDateTime
from csms.operator.pagination import DEFAULT_PAGE_SIZE, STATION_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ServicesDependency

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
