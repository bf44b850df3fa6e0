"""Authorization of an idTag (OCPP 1.6 §4.1, §4.8): the IdTagInfo answered to Authorize and StartTransaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csms.domain.limits import SessionLimits
from csms.domain.sessions import PendingStart
from csms.ocpp.v16.enums import AuthorizationStatus


@dataclass(frozen=True)
class IdTagRecord:
    """What the CSMS knows about an idTag."""

    id_tag: str
    status: str  # Accepted | Blocked | Expired | Invalid, as the operator set it
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None
    tariff_id: str | None = None
    """The tariff of this tag's sessions (subscribers, staff): over the station's."""
    webhook_url: str | None = None
    """Where its driver's events are POSTed (its secret is write-only: the repository alone hands it out)."""
    active_transaction_id: int | None = None
    active_transaction_started_at: datetime | None = None
    priority: int | None = None
    """Its sessions' priority on a shared site (domain/priorities.py), unless a session asks for its own."""
    limits: SessionLimits | None = None
    """The default limits of this tag's sessions (card sessions get them all; an app session's or a reservation's
    replace them field by field)."""
    notify_at_energy_wh: tuple[int, ...] = ()
    """Energy thresholds (Wh delivered) for ThresholdReached events."""
    pending_starts: tuple[PendingStart, ...] = ()
    """App sessions accepted by a station, waiting for their StartTransaction."""


@dataclass(frozen=True)
class Authorization:
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == AuthorizationStatus.ACCEPTED


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalize_id_tag(id_tag: str) -> str:
    """idTag is an IdToken, a CiString20Type: case-insensitive (OCPP 1.6 §7.28), so one key for every spelling.

    Only ASCII letters fold: Unicode case mapping would make `ſIGIL1` (U+017F) or `Sıgil1` (U+0131) the
    same tag as `SIGIL1`, and nothing is trimmed: ` SIGIL1` is another tag. A card is what it says, byte for byte,
    but for the case of a-z."""
    return id_tag.translate(_ASCII_UPPER)


def without_vendor_suffix(id_tag: str, separator: str | None) -> str:
    """The card's idTag, without the suffix some stations append to it from `separator` on (a KEBA sends
    `TAG_SERIAL` for the card `TAG`, and blocks the card locally once the CSMS refuses the suffixed tag). Cut at
    the first separator, matched exactly; a tag that starts with it is kept whole, as no card would be left."""
    if not separator:
        return id_tag
    card, found, _ = id_tag.partition(separator)
    return card if found and card else id_tag


def authorize(
    record: IdTagRecord | None,
    *,
    now: datetime,
    allow_concurrent_transactions: bool,
    stale_after: timedelta,
    ignoring_transaction: int | None = None,
) -> Authorization:
    """Decide the IdTagInfo for an idTag. Unknown tags are Invalid; a past expiryDate makes an Accepted tag Expired;
    a tag already in a (not stale) transaction is ConcurrentTx unless concurrency is allowed."""
    if record is None:
        return Authorization(AuthorizationStatus.INVALID)

    def answer(status: AuthorizationStatus) -> Authorization:
        return Authorization(status, expiry_date=record.expiry_date, parent_id_tag=record.parent_id_tag)

    if record.status != AuthorizationStatus.ACCEPTED:
        return answer(AuthorizationStatus(record.status))
    if record.expiry_date is not None and record.expiry_date <= now:
        return answer(AuthorizationStatus.EXPIRED)
    if not allow_concurrent_transactions and _in_live_transaction(record, now, stale_after, ignoring_transaction):
        return answer(AuthorizationStatus.CONCURRENT_TX)
    return answer(AuthorizationStatus.ACCEPTED)


def _in_live_transaction(
    record: IdTagRecord, now: datetime, stale_after: timedelta, ignoring_transaction: int | None
) -> bool:
    if record.active_transaction_id is None or record.active_transaction_id == ignoring_transaction:
        return False
    started = record.active_transaction_started_at
    return started is None or now - started < stale_after
