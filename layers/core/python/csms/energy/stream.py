"""What the table's stream does for load management: run a site's load control for each `ALLOC#` follow-up (one
of the follow-up kinds the follow-ups' filter pattern matches: no pattern of its own), and make a transaction's
stop run its site's (the very pattern billing reacts to)."""

from __future__ import annotations

from decimal import Decimal

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.billing.stream import TRANSACTION_STOPPED
from csms.changes.stream import Change, Reaction
from csms.runtime.wiring import Services

BOOT_CAUSE = "BOOT#"
CONNECT_CAUSE = "CONNECT#"


def run_load_control(change: Change, services: Services) -> None:
    item = change.item
    cause = str(item["cause"])
    booted = str(item["chargePointId"]) if cause.startswith(BOOT_CAUSE) else None
    connected = str(item["chargePointId"]) if cause.startswith(CONNECT_CAUSE) else None
    from csms.energy import control  # the outbox and the allocation: loaded by the first run, not every cold start

    measured = None
    if item.get("measuredA"):
        measured = (int(item["transactionId"]), tuple(Decimal(str(sample)) for sample in item["measuredA"]))
    control.run(services, str(item["siteId"]), cause=cause, booted=booted, connected=connected, measured=measured)


def stopped(change: Change, services: Services) -> None:
    """A session at a site ended: its share goes back (the site's run, in the site's partition: one writer)."""
    item = change.item
    site_id = item.get("siteId")
    if site_id:
        FollowUps(services.table).put(run_item(str(site_id), f"STOP#{item['transactionId']}", now=services.clock.now()))


REACTIONS: tuple[Reaction, ...] = (Reaction("load control after a stop", (TRANSACTION_STOPPED,), stopped),)
