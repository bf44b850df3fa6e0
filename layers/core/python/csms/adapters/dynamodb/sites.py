"""Site items (pk `SITE#{siteId}`, sk `SITE`) and the stations' membership of a site.

- definition   `siteId`, `name`, `maxCurrentA`, `phases`, `voltageV`, `safeCurrentA`, `chargePoints` [ids],
               `circuits` [{circuitId, maxCurrentA, chargePoints}], `connectors` [{chargePointId, connectorId,
               maxCurrentA?, phases?}], `version` (1, 2, ... one per PUT), `updatedAt`; `kind`, `kindKey` (byKind)
- write lease  `writer`, `writerUntil`, `pendingChargePoints` (a string set): only while a PUT or DELETE runs

Membership is the station item's `siteId` (stations.py), not the site's list: a station is claimed by one
conditional UpdateItem, `attribute_exists(chargePointId) AND registered = true AND (attribute_not_exists(siteId)
OR siteId = :site)`, so of two sites claiming one station at once exactly one succeeds, and the claim also proves
the station is registered. The station path reads `siteId` for free with the station item it reads anyway.

A site may list hundreds of stations, more than one TransactWriteItems takes (100 items), so a PUT is a sequence
of writes made safe by order and by a lease:

1. the lease: an UpdateItem on the site item that only one writer at a time gets (`writerUntil` is past the
   API function's 29 s timeout, so a lease is never taken from a writer still running), which also adds the
   stations about to be claimed to `pendingChargePoints` and returns the site as it was;
2. each listed station claimed (a refusal rolls back what this PUT claimed and gives the lease back);
3. the definition put, with the next version, while the lease is still held, naming in `pendingChargePoints`
   the stations it no longer lists;
4. those stations released (`REMOVE siteId` only where `siteId` is still this site), then the lease removed.

A station is claimed before a site lists it and released after the site stops listing it: whatever step a
crash interrupts, no listed station is left unclaimed, and a claim the site does not list is in
`pendingChargePoints`, released by the site's next PUT or DELETE.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from csms.adapters.dynamodb.keys import SITE_KIND, site_key, site_kind_keys, station_key
from csms.adapters.dynamodb.operations import list_by_index, update_if
from csms.adapters.dynamodb.schema import KIND_INDEX
from csms.adapters.dynamodb.stations import SITE_ATTRIBUTE
from csms.domain.clock import from_iso, to_iso
from csms.domain.sites import Circuit, ConnectorSetting, MembershipConflict, Phases, Site

LEASE = timedelta(seconds=60)
"""How long a writer holds a site: longer than any request can run (the API function's timeout is 29 s)."""

MEMBERSHIP_ATTRIBUTE = SITE_ATTRIBUTE
"""On the station item: the site it belongs to."""


class SiteBusy(Exception):
    """Another PUT or DELETE of the site is running."""


class NotRegistered(LookupError):
    """A station a site names that is not registered; the argument is its id."""


def site_from_item(item: Mapping[str, Any]) -> Site:
    return Site(
        site_id=item["siteId"],
        name=item["name"],
        max_current_a=Decimal(item["maxCurrentA"]),
        phases=_phases(item["phases"]),
        voltage_v=Decimal(item["voltageV"]),
        safe_current_a=Decimal(item["safeCurrentA"]),
        charge_point_ids=tuple(item.get("chargePoints", ())),
        circuits=tuple(
            Circuit(
                circuit_id=circuit["circuitId"],
                max_current_a=Decimal(circuit["maxCurrentA"]),
                charge_point_ids=tuple(circuit["chargePoints"]),
            )
            for circuit in item.get("circuits", ())
        ),
        connectors=tuple(
            ConnectorSetting(
                charge_point_id=setting["chargePointId"],
                connector_id=int(setting["connectorId"]),
                max_current_a=Decimal(setting["maxCurrentA"]) if setting.get("maxCurrentA") is not None else None,
                phases=_phases(setting["phases"]) if setting.get("phases") is not None else None,
            )
            for setting in item.get("connectors", ())
        ),
        version=int(item["version"]),
        updated_at=from_iso(item["updatedAt"]) if item.get("updatedAt") else None,
    )


def _phases(value: Any) -> Phases:
    phases = int(value)
    if phases == 1:
        return 1
    if phases == 3:
        return 3
    raise ValueError(f"a site item with {phases} phases")


def _definition(site: Site) -> dict[str, Any]:
    return {
        "siteId": site.site_id,
        "name": site.name,
        "maxCurrentA": site.max_current_a,
        "phases": site.phases,
        "voltageV": site.voltage_v,
        "safeCurrentA": site.safe_current_a,
        "chargePoints": list(site.charge_point_ids),
        "circuits": [
            {"circuitId": c.circuit_id, "maxCurrentA": c.max_current_a, "chargePoints": list(c.charge_point_ids)}
            for c in site.circuits
        ],
        "connectors": [
            {"chargePointId": s.charge_point_id, "connectorId": s.connector_id}
            | ({"maxCurrentA": s.max_current_a} if s.max_current_a is not None else {})
            | ({"phases": s.phases} if s.phases is not None else {})
            for s in site.connectors
        ],
        "version": site.version,
    } | ({"updatedAt": to_iso(site.updated_at)} if site.updated_at else {})


def _defined(item: Mapping[str, Any] | None) -> bool:
    """Whether an item holds a site (not only the lease of its first PUT)."""
    return item is not None and "name" in item


class SiteRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def get(self, site_id: str) -> Site | None:
        item = self._table.get_item(Key=site_key(site_id), ConsistentRead=True).get("Item")
        return site_from_item(item) if _defined(item) else None

    def list_page(self, *, limit: int, start_key: dict[str, Any] | None = None) -> tuple[list[Site], dict[str, Any] | None]:
        """Sites in the order of their ids, `limit` at a time (the byKind index, then the items)."""
        items, next_key = list_by_index(self._table, KIND_INDEX, [SITE_KIND], limit=limit, start_key=start_key, consistent=True)
        return [site_from_item(item) for item in items], next_key

    def put(self, site: Site, *, now: datetime) -> tuple[Site, bool]:
        """Store a site's definition (its next version) and make its stations its members; returns what was stored
        and whether the site is new. Raises SiteBusy, NotRegistered or MembershipConflict, having changed nothing."""
        token = uuid.uuid4().hex
        old = self._lease(site.site_id, token, now=now, pending=site.charge_point_ids)
        listed = set(old.get("chargePoints", ()))
        previous = listed | set(old.get("pendingChargePoints", ()))
        claimed: list[str] = []
        try:
            for charge_point_id in site.charge_point_ids:
                self._claim(charge_point_id, site.site_id)
                claimed.append(charge_point_id)
        except (NotRegistered, MembershipConflict):
            self._release((set(claimed) | previous) - listed, site.site_id)
            self._end_lease(site.site_id, token, keep_item=_defined(old))
            raise
        stored = replace(site, version=int(old.get("version", 0)) + 1, updated_at=now)
        dropped = previous - set(site.charge_point_ids)
        self._table.put_item(
            Item={
                **site_key(site.site_id),
                **site_kind_keys(site.site_id),
                **_definition(stored),
                "writer": token,
                "writerUntil": _lease_end(now),
                **({"pendingChargePoints": dropped} if dropped else {}),
            },
            ConditionExpression="writer = :token",
            ExpressionAttributeValues={":token": token},
        )
        self._release(dropped, site.site_id)
        self._end_lease(site.site_id, token, keep_item=True)
        return stored, not _defined(old)

    def delete(self, site_id: str, *, now: datetime) -> Site | None:
        """Remove a site and release its stations; None if there is no such site. Raises SiteBusy."""
        token = uuid.uuid4().hex
        old = self._lease(site_id, token, now=now, pending=())
        if not _defined(old):  # no site, or the leftovers of a first PUT that never finished
            self._release(old.get("pendingChargePoints", ()), site_id)
            self._end_lease(site_id, token, keep_item=False)
            return None
        self._release(set(old.get("chargePoints", ())) | set(old.get("pendingChargePoints", ())), site_id)
        self._table.delete_item(
            Key=site_key(site_id), ConditionExpression="writer = :token", ExpressionAttributeValues={":token": token}
        )
        return site_from_item(old)

    # --- the steps -------------------------------------------------------------------------------------

    def _lease(self, site_id: str, token: str, *, now: datetime, pending: Iterable[str]) -> dict[str, Any]:
        """Step 1: the site's lease (SiteBusy if another writer holds it), recording the stations about to be
        claimed; returns the item as it was (empty if there was none)."""
        expression = "SET siteId = :site, writer = :token, writerUntil = :until"
        values: dict[str, Any] = {":site": site_id, ":token": token, ":until": _lease_end(now), ":now": to_iso(now)}
        members = set(pending)
        if members:
            expression += " ADD pendingChargePoints :members"
            values[":members"] = members
        response = update_if(
            self._table,
            Key=site_key(site_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_not_exists(writer) OR writerUntil < :now",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
        if response is None:
            raise SiteBusy(site_id)
        return dict(response.get("Attributes", {}))

    def _claim(self, charge_point_id: str, site_id: str) -> None:
        try:
            self._table.update_item(
                Key=station_key(charge_point_id),
                UpdateExpression="SET #site = :site",
                ConditionExpression=(
                    "attribute_exists(chargePointId) AND registered = :true "
                    "AND (attribute_not_exists(#site) OR #site = :site)"
                ),
                ExpressionAttributeNames={"#site": MEMBERSHIP_ATTRIBUTE},
                ExpressionAttributeValues={":site": site_id, ":true": True},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as refused:
            station = refused.response.get("Item") or {}
            other = station.get(MEMBERSHIP_ATTRIBUTE, {}).get("S")
            if other is not None and station.get("registered", {}).get("BOOL"):
                raise MembershipConflict(
                    charge_point_id,
                    f"Charge point {charge_point_id} belongs to site {other}: remove it from that site first",
                ) from None
            raise NotRegistered(charge_point_id) from None

    def _release(self, charge_point_ids: Iterable[str], site_id: str) -> None:
        """The stations leave the site, each only if it is still this site's."""
        for charge_point_id in sorted(charge_point_ids):
            update_if(
                self._table,
                Key=station_key(charge_point_id),
                UpdateExpression="REMOVE #site",
                ConditionExpression="#site = :site",
                ExpressionAttributeNames={"#site": MEMBERSHIP_ATTRIBUTE},
                ExpressionAttributeValues={":site": site_id},
            )

    def _end_lease(self, site_id: str, token: str, *, keep_item: bool) -> None:
        """Give the lease back: remove it from the site, or remove the item that only held it."""
        condition = {"ConditionExpression": "writer = :token", "ExpressionAttributeValues": {":token": token}}
        if keep_item:
            update_if(
                self._table,
                Key=site_key(site_id),
                UpdateExpression="REMOVE writer, writerUntil, pendingChargePoints",
                **condition,
            )
        else:
            # Suppressed: another writer took the lease over, the item is its own now.
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._table.delete_item(Key=site_key(site_id), **condition)


def _lease_end(now: datetime) -> str:
    return to_iso(now + LEASE)
