"""Charge detail records (keys in keys.py).

- CDR   pk `CDR#{cdrId}`, sk `CDR`: `cdrId`, `chargePointId`, `transactionId`, `endDateTime`, `cdr` (the OCPI 2.2.1
        CDR as JSON, numbers as Decimals). Immutable: written once, on condition that it does not exist. The id
        is derived from the transaction (billing.cdrs.cdr_id), so that condition is also "one CDR per
        transaction", and a re-run of the hand-off reads the CDR it stored before instead of making another.
        Indexed in one byStation-index partition `CDRS` by `{endDateTime}#{cdrId}`: `GET /cdrs` reads a time
        range of it, a charge point filter applied on the way (a CDR is written once per session, far below
        what one index partition takes; a per-station entry is the next step if listings by station get slow).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.keys import CDRS_INDEX_PK, cdr_index_keys, cdr_key
from csms.adapters.dynamodb.operations import collect_page
from csms.adapters.dynamodb.schema import STATION_INDEX
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import to_iso
from csms.domain.tariffs.model import as_utc
from csms.ocpp.frames import decimal_to_json, plain_json


def cdr_json(cdr: dict[str, Any]) -> dict[str, Any]:
    """A CDR of Python values (Decimals, datetimes) as JSON values, times in OCPI's UTC `Z` form."""

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return as_utc(value).isoformat().replace("+00:00", "Z")
        return decimal_to_json(value)

    loaded: dict[str, Any] = json.loads(json.dumps(cdr, default=default))
    return loaded


class CdrRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def store(self, cdr: dict[str, Any], *, charge_point_id: str, transaction_id: int) -> tuple[dict[str, Any], bool]:
        """Store a CDR once; returns the stored CDR (JSON) and whether this call stored it (False: it existed,
        and what is returned is the one stored first)."""
        document = cdr_json(cdr)
        ended = to_iso(datetime.fromisoformat(document["end_date_time"].replace("Z", "+00:00")))
        try:
            self._table.put_item(
                Item={
                    **cdr_key(document["id"]),
                    **cdr_index_keys(ended, document["id"]),
                    "cdrId": document["id"],
                    "chargePointId": charge_point_id,
                    "transactionId": transaction_id,
                    "endDateTime": ended,
                    "cdr": to_item_value(document),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            existing = self.get(document["id"])
            if existing is None:  # cannot happen: CDRs are never deleted
                raise
            return existing, False
        return document, True

    def get(self, cdr_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key=cdr_key(cdr_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        document: dict[str, Any] = plain_json(item["cdr"])
        return document

    def list_page(
        self,
        *,
        charge_point_id: str | None,
        ended_from: datetime | None,
        ended_to: datetime | None,
        limit: int,
        start_key: dict[str, Any] | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """CDRs in end_date_time order, `from` inclusive, `to` exclusive."""
        condition = Key(STATION_INDEX.partition_key).eq(CDRS_INDEX_PK)
        sort_key = Key(STATION_INDEX.sort_key)
        if ended_from and ended_to:
            condition &= sort_key.between(to_iso(ended_from), to_iso(ended_to))
        elif ended_from:
            condition &= sort_key.gte(to_iso(ended_from))
        elif ended_to:
            condition &= sort_key.lt(to_iso(ended_to))
        request: dict[str, Any] = {"IndexName": STATION_INDEX.name, "KeyConditionExpression": condition}
        # `to` is exclusive: between() includes `{to}#...` keys of CDRs ending exactly then.
        filters = [Attr("endDateTime").lt(to_iso(ended_to))] if ended_to else []
        if charge_point_id is not None:
            filters.append(Attr("chargePointId").eq(charge_point_id))
        if filters:
            expression = filters[0]
            for condition in filters[1:]:
                expression = expression & condition
            request["FilterExpression"] = expression
        items, next_key = collect_page(
            self._table.query,
            request,
            limit=limit,
            start_key=start_key,
            key_names=("pk", "sk", STATION_INDEX.partition_key, STATION_INDEX.sort_key),
        )
        return [plain_json(item["cdr"]) for item in items], next_key
