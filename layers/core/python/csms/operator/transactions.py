"""Charging sessions as the stations reported them: start, meter values, stop, energy delivered in Wh."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import RecordedMeterValue, TransactionDetail, TransactionList, TransactionView
from csms.operator.pagination import (
    DEFAULT_PAGE_SIZE,
    KIND_INDEX_PAGE_KEY,
    LIVE_INDEX_PAGE_KEY,
    STATION_INDEX_PAGE_KEY,
    Limit,
    NextToken,
    decode_token,
    encode_token,
)
from csms.operator.parameters import ServicesDependency

router = Router()
TAGS = ["Transactions"]


@router.get(
    "/transactions",
    summary="List transactions",
    description=(
        "With `chargePointId`: that station's transactions, newest first. Without: every station's, newest "
        "recorded first (`active=true`: in no particular order). `active=true`: only those not stopped yet; "
        "`active=false`: only stopped ones. Follow `nextToken` until it is null."
    ),
    tags=TAGS,
    responses=documented(200, "A page of transactions", 400),
)
def list_transactions(
    services: ServicesDependency,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId", min_length=1, max_length=255)] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or only stopped (false) transactions")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> TransactionList:
    key_names = (
        STATION_INDEX_PAGE_KEY if charge_point_id is not None else LIVE_INDEX_PAGE_KEY if active else KIND_INDEX_PAGE_KEY
    )
    items, next_key = services.transactions.list_page(
        charge_point_id=charge_point_id,
        active=active,
        limit=limit,
        start_key=decode_token(next_token, key_names),
        now=services.clock.now(),
    )
    return TransactionList(
        items=[TransactionView.from_transaction(transaction) for transaction in items], next_token=encode_token(next_key)
    )


@router.get(
    "/transactions/<transactionId>",
    summary="A transaction with its meter values",
    tags=TAGS,
    responses=documented(200, "The transaction", 404),
)
def get_transaction(
    transaction_id: Annotated[int, Path(alias="transactionId", description="The transactionId given to the station")],
    services: ServicesDependency,
) -> TransactionDetail:
    transaction = services.transactions.get(transaction_id)
    if transaction is None:
        raise ResourceNotFound(f"Unknown transaction {transaction_id}")
    meter_values = [
        RecordedMeterValue(timestamp=value.timestamp, connector_id=value.connector_id, sampled_value=value.sampled_value)
        for value in services.meter_values.list_for_transaction(transaction_id)
    ]
    return TransactionDetail.from_transaction(transaction, meter_values=meter_values)
