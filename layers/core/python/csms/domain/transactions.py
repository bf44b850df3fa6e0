"""Transaction rules (OCPP 1.6 §4.8, §4.10)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from csms.domain.authorization import Authorization
from csms.domain.clock import to_iso
from csms.domain.limits import LimitKind, SessionLimits
from csms.domain.priorities import DEFAULT_PRIORITY

TRANSACTION_ID_MAX = 2**31 - 1  # transactionId is a JSON integer; stations store it as int32


def start_fingerprint(
    *, charge_point_id: str, connector_id: int, id_tag: str, timestamp: datetime, meter_start: int
) -> str:
    """What makes two StartTransaction requests the same start.

    A station that lost our answer (reboot, dropped socket) sends the same StartTransaction again; the id
    counter is not idempotent, so the start is recognised by its content and gets the same transactionId.
    """
    content = "|".join((charge_point_id, str(connector_id), id_tag, to_iso(timestamp), str(meter_start)))
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def transaction_id_from_counter(counter: int) -> int:
    """Counter values beyond int32 wrap around, skipping 0 (which stations use for 'no transaction')."""
    return (counter - 1) % TRANSACTION_ID_MAX + 1


class TransactionState(StrEnum):
    """A transaction's lifecycle (OCPP 1.6 §4.8, §4.10): started by StartTransaction, ended by StopTransaction.
    A stopped transaction never changes again: a repeated StopTransaction is recognised, not applied."""

    ACTIVE = "Active"
    STOPPED = "Stopped"


@dataclass(frozen=True, kw_only=True)
class TransactionStart:
    """What a StartTransaction.req says, as the CSMS accepted it."""

    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    started_at: datetime
    reservation_id: int | None = None
    authorization_status: str
    limits: SessionLimits | None = None
    """What stops the session by itself, bound at the start (domain/limits.py)."""
    priority: int = DEFAULT_PRIORITY
    """Who a shared site serves first, bound at the start (domain/priorities.py)."""
    notify_at_energy_wh: tuple[int, ...] = ()
    """Energy thresholds (Wh delivered) for ThresholdReached events, bound at the start."""
    session_id: str | None = None
    site_id: str | None = None
    """The site its station shared at the start: whose load control its stop runs again."""
    cost_tariff: CostTariff | None = None
    """With a cost limit, the tariff version that prices it (None: no tariff in the limit's currency, not applied)."""
    """The app session (POST /sessions) this transaction started, if any."""

    @property
    def fingerprint(self) -> str:
        return start_fingerprint(
            charge_point_id=self.charge_point_id,
            connector_id=self.connector_id,
            id_tag=self.id_tag,
            timestamp=self.started_at,
            meter_start=self.meter_start,
        )


@dataclass(frozen=True)
class CostTariff:
    """The tariff version that prices a session with a cost limit, bound at its start: billing's choice (the id
    tag's tariff over the station's over the network default, the version in force when the CSMS accepted the
    start) made once, so its meter values price without reading the station, the id tag or the tariff's history."""

    tariff_id: str
    version: int
    effective_at: str
    """The version's `effectiveAt`: with the id and the version, its key (versions never change)."""
    time_zone: str
    """The station's, at the start: where the tariff's time-of-day rules are read."""


@dataclass(frozen=True, kw_only=True)
class TransactionStop:
    """What a StopTransaction.req says."""

    meter_stop: int
    stopped_at: datetime
    reason: str
    """§7.39: absent on the wire means Local."""
    id_tag: str | None = None


@dataclass(frozen=True, kw_only=True)
class SessionStatus:
    """A status its station reported for the connector while the transaction ran (OCPP 1.6 §4.9): when the car
    stopped charging (SuspendedEV, Finishing) is when parking starts for the bill (OCPI CdrDimensionType)."""

    at: datetime
    status: str


@dataclass(frozen=True, kw_only=True)
class Transaction:
    transaction_id: int
    start: TransactionStart
    stop: TransactionStop | None = None
    last_meter_wh: Decimal | None = None
    """The newest Energy.Active.Import.Register reading, Wh."""
    last_meter_at: datetime | None = None
    statuses: tuple[SessionStatus, ...] = ()
    """The connector's status reports during the session, in the order they were received."""
    created_at: datetime | None = None
    """When the CSMS accepted the StartTransaction (its clock): the tariff version in force then prices it."""
    cdr_id: str | None = None
    """Its charge detail record, once the billing hand-off stored it."""
    limit_reached: LimitKind | None = None
    """The limit that stopped it: set once, by the SessionLimit workflow when the moment to stop came while the
    session still ran (never by the meter value that only predicts the crossing)."""
    limit_pending: LimitKind | None = None
    """The limit a meter value reached or predicts, whose stop is planned (set once: the conditional marker)."""
    first_soc: Decimal | None = None
    """The vehicle's state of charge (percent) at the session's first reading of it: where the session started."""
    last_soc: Decimal | None = None
    """The newest state of charge reading, percent."""
    measured_current_a: Decimal | None = None
    """Its newest measured Current.Import (the highest phase's, A)."""
    recent_current_a: tuple[Decimal, ...] = ()
    """Its last measured Current.Import samples, oldest first: at most three."""
    samples_since_limit: int | None = None
    """How many samples were measured since its station accepted the limit it has (None: no limit yet, all)."""
    allocated_current_a: Decimal | None = None
    """The limit its station last accepted for it from its site's load control, if any."""
    allocation_lending: bool = False
    """That limit is what the session kept when it lent the rest of its share (measured_current.lent_current_a)."""

    @property
    def samples_under_limit_a(self) -> tuple[Decimal, ...]:
        """The recent samples that tell what the car draws under its limit: none measured under another one (a
        lower one may have held it down; under a higher one it drew what it no longer may)."""
        if self.samples_since_limit is None:
            return self.recent_current_a
        return self.recent_current_a[len(self.recent_current_a) - min(self.samples_since_limit, len(self.recent_current_a)) :]

    @property
    def charge_point_id(self) -> str:
        return self.start.charge_point_id

    @property
    def connector_id(self) -> int:
        return self.start.connector_id

    @property
    def id_tag(self) -> str:
        return self.start.id_tag

    @property
    def state(self) -> TransactionState:
        return TransactionState.ACTIVE if self.stop is None else TransactionState.STOPPED

    @property
    def energy_wh(self) -> Decimal | None:
        """Energy delivered so far, Wh: meterStop - meterStart once stopped, else the latest reading - meterStart."""
        if self.stop is not None:
            return Decimal(self.stop.meter_stop - self.start.meter_start)
        if self.last_meter_wh is not None:
            return self.last_meter_wh - self.start.meter_start
        return None


@dataclass(frozen=True)
class StartOutcome:
    """What storing a StartTransaction gave: the id to answer, and for a replay the answer its first time got."""

    transaction_id: int
    replayed_answer: Authorization | None = None
    replay: bool = False


@dataclass(frozen=True)
class RecordedReading:
    """What recording a MeterValues' newest reading on its transaction did."""

    owned: bool
    """The transaction is one of the station's: only then do its meter values go with it."""
    before: Transaction | None = None
    """The transaction as it was before this reading, when the reading was newer and kept (else None)."""


@dataclass(frozen=True)
class StopOutcome:
    """What recording a StopTransaction did to a transaction of the station."""

    transaction: Transaction
    first_stop: bool
    """False when this StopTransaction repeats one already recorded (a retransmission)."""
