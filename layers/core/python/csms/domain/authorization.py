"""Authorization of an idTag (OCPP 1.6 §4.1, §4.8): the IdTagInfo answered to Authorize and StartTransaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
