"""Request and response bodies of the operator API: camelCase on the wire (as OCPP), snake_case in Python.

Views are built from the domain's entities; free-form OCPP payloads (boot information, charging profiles,
command answers) are passed through as the station sent them, as plain JSON numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    model_serializer,
)
from pydantic.alias_generators import to_camel

from csms.domain import station_identity
from csms.domain.allocation import Bound, ConnectorAllocation, SiteAllocation
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import to_iso
from csms.domain.commands import Command, CommandStatus
from csms.domain.limits import LimitKind, Money, SessionLimits
from csms.domain.measured_current import MIN_CHARGING_CURRENT_A
from csms.domain.notifications import webhook_url_problem
from csms.domain.priorities import PRIORITY_MAX, PRIORITY_MIN
from csms.domain.reservations import Reservation, ReservationStatus
from csms.domain.sessions import AppSession, AppSessionStatus
from csms.domain.sites import DEFAULT_SAFE_CURRENT_A, Circuit, ConnectorSetting, Phases, Site
from csms.domain.station_config import Configuration, InstalledProfile
from csms.domain.stations import Connector, NetworkCounts, Station
from csms.domain.transactions import Transaction, TransactionState
from csms.ocpp.frames import decimal_to_json, plain_json

Timestamp = Annotated[datetime, PlainSerializer(to_iso, return_type=str, when_used="json")]
"""UTC, ISO 8601 with a Z suffix, milliseconds (as the CSMS stores times)."""
WattHours = Annotated[
    Decimal, PlainSerializer(decimal_to_json, when_used="json"), WithJsonSchema({"type": "number", "description": "Wh"})
]
JsonObject = dict[str, Any]


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is a valid date-time, but after the year 9999 in UTC
        raise ValueError("the date-time is outside the years 1 to 9999 in UTC") from None


def is_iana_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]
"""A date-time taken in: no offset means UTC, and it must exist in UTC."""
Priority = Annotated[
    int,
    Field(
        strict=True,
        ge=PRIORITY_MIN,
        le=PRIORITY_MAX,
        description=f"{PRIORITY_MIN} to {PRIORITY_MAX}, higher first (OCPP 2.1 chargingPriority): who a shared site serves first",
    ),
]
NextPageToken = Annotated[str | None, Field(description="Pass as nextToken for the next page; null on the last one")]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",  # a misspelt field ("pasword") is an error, not silently ignored
        defer_build=True,  # built by the first request that uses the model, not by every cold start
    )


# --- errors ---------------------------------------------------------------------------------------


class FieldError(ApiModel):
    location: str
    message: str
    type: str


class ErrorBody(ApiModel):
    """Every error answer. `message` always says what went wrong; the rest is there when it applies."""

    message: str
    command_id: str | None = Field(None, description="The command concerned; it stays readable at GET /commands/{commandId}")
    status: CommandStatus | None = Field(None, description="The command's state")
    code: str | None = Field(None, description="The CallError code the station answered (OCPP-J 4.2.3)")
    description: str | None = Field(None, description="The CallError's errorDescription")
    details: Any = Field(None, description="The CallError's errorDetails")
    response: JsonObject | None = Field(
        None, description="The station's answer when it refused what was asked (e.g. ReserveNow `{status: Occupied}`)"
    )
    reservation_id: int | None = Field(None, description="The reservation concerned")
    errors: list[FieldError] | None = Field(None, description="What is wrong in the request, field by field")


# --- session limits -------------------------------------------------------------------------------


def _positive_amount(amount: str) -> str:
    if Decimal(amount) <= 0:
        raise ValueError("the amount must be above 0")
    return amount


class MoneyModel(ApiModel):
    amount: Annotated[str, AfterValidator(_positive_amount)] = Field(
        pattern=r"^[0-9]{1,9}(\.[0-9]{1,4})?$",
        description="A decimal string, VAT included, e.g. \"30.00\"",
        examples=["30.00"],
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, the tariff's currency", examples=["EUR"])


class SessionLimitsModel(ApiModel):
    """When the CSMS stops a session by itself (issue 10 §3), in the shape OCPP 2.1 standardised for a transaction's
    limit. A limit is reached when the value is at or past it. Given on a reservation, a session (POST /sessions)
    or as an id tag's default; a session's or reservation's replaces the id tag's field by field."""

    max_cost: MoneyModel | None = Field(None, description="Running cost including VAT, in the tariff's currency")
    max_energy_wh: StrictInt | None = Field(None, gt=0, description="Energy delivered, Wh")
    max_duration_seconds: StrictInt | None = Field(None, gt=0, description="From the StartTransaction timestamp")
    max_soc: StrictInt | None = Field(None, alias="maxSoC", ge=1, le=100, description="State of charge, percent")

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        shown: dict[str, Any] = handler(self)
        return {name: value for name, value in shown.items() if value is not None}

    def to_limits(self) -> SessionLimits:
        cost = self.max_cost
        return SessionLimits(
            max_cost=Money(Decimal(cost.amount), cost.currency) if cost else None,
            max_energy_wh=self.max_energy_wh,
            max_duration_seconds=self.max_duration_seconds,
            max_soc=self.max_soc,
        )

    @classmethod
    def from_limits(cls, limits: SessionLimits | None) -> SessionLimitsModel | None:
        return cls.model_validate(limits.to_json()) if limits is not None and not limits.empty else None


# --- charge points --------------------------------------------------------------------------------


class ChargePointRegistration(ApiModel):
    """PUT body. A field left out keeps its value (the password cannot be read back, so an update need not
    repeat it); `null` clears it. A new station is registered with no password, not lenient."""

    password: SecretStr | None = Field(
        None,
        min_length=1,
        max_length=40,
        description=(
            "HTTP Basic password the station must present (OCPP 1.6 Security Whitepaper, security profiles 1 and 2). "
            "Stored only as a salted hash, never returned. null: the station connects without a password."
        ),
    )
    description: str | None = Field(None, max_length=500)
    lenient: StrictBool | None = Field(
        None,
        description="Lenient mode: schema violations in the station's messages are logged and still answered. "
        "Taken into account from the station's next connection.",
    )
    tariff_id: str | None = Field(
        None, min_length=1, max_length=36, description="The tariff its sessions are priced with (unless the id tag has one)"
    )
    time_zone: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="IANA time zone (e.g. Europe/Paris) its tariff restrictions are evaluated in; UTC when not set. "
        "An unknown zone is a 400",
    )
    id_tag_suffix_separator: str | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="For stations that append a suffix to the card's idTag (a KEBA sends `TAG_SERIAL` for the card "
        "`TAG`, and blocks the card locally once the CSMS refuses it): the idTag is cut at the first occurrence of this "
        "separator (e.g. `_`) before it is looked up and stored, in Authorize, StartTransaction and StopTransaction. "
        "Taken into account from the station's next connection.",
    )


class ConnectorStatus(ApiModel):
    connector_id: int = Field(description="0 is the station as a whole (OCPP 1.6 §4.9)")
    status: str
    error_code: str
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    reported_at: Timestamp | None = Field(None, description="The station's timestamp of the notification")
    transaction_id: int | None = Field(None, description="The transaction in progress on the connector, if any")
    reservation_id: int | None = Field(None, description="The reservation the station holds on it (0: for any connector)")

    @classmethod
    def from_connector(cls, connector: Connector) -> ConnectorStatus:
        return cls(
            connector_id=connector.connector_id,
            status=connector.status or "",
            error_code=connector.error_code or "",
            info=connector.info,
            vendor_id=connector.vendor_id,
            vendor_error_code=connector.vendor_error_code,
            reported_at=connector.reported_at,
            transaction_id=connector.session.transaction_id if connector.session else None,
            reservation_id=connector.reservation.reservation_id if connector.reservation else None,
        )


class ConfigurationKey(ApiModel):
    value: str | None = None
    readonly: bool


class ConfigurationSnapshot(ApiModel):
    """What the station reported in its last GetConfiguration, updated by accepted ChangeConfigurations."""

    keys: dict[str, ConfigurationKey]
    unknown_keys: list[str]
    updated_at: Timestamp | None = None


class InstalledChargingProfile(ApiModel):
    connector_id: int
    charging_profile: JsonObject = Field(description="The csChargingProfiles the station accepted")
    installed_at: Timestamp | None = None


class ChargePointSummary(ApiModel):
    """What the station item holds: registration, connection, boot, connectors, latest statuses."""

    charge_point_id: str
    registered: bool = Field(description="Registered by an operator (or automatically, if the CSMS accepts unknown stations)")
    description: str | None = None
    lenient: bool
    tariff_id: str | None = None
    time_zone: str | None = None
    id_tag_suffix_separator: str | None = None
    password_protected: bool = Field(description="Whether the station must present an HTTP Basic password")
    connected: bool
    connected_at: Timestamp | None = None
    disconnected_at: Timestamp | None = None
    last_seen_at: Timestamp | None = None
    boot_status: str | None = Field(None, description="The status answered to its last BootNotification")
    last_boot_at: Timestamp | None = None
    boot: JsonObject | None = Field(None, description="Its last BootNotification (vendor, model, serial numbers, firmware)")
    connectors: list[ConnectorStatus]
    local_list_version: int | None = None
    firmware_status: JsonObject | None = Field(None, description="Latest (Signed)FirmwareStatusNotification")
    diagnostics_status: JsonObject | None = Field(None, description="Latest DiagnosticsStatusNotification")
    log_status: JsonObject | None = Field(None, description="Latest LogStatusNotification")

    @classmethod
    def from_station(cls, station: Station) -> ChargePointSummary:
        return cls(**_summary_fields(station))


class ChargePointView(ChargePointSummary):
    """Everything the CSMS knows about one station."""

    configuration: ConfigurationSnapshot | None = None
    charging_profiles: list[InstalledChargingProfile]

    @classmethod
    def build(
        cls, station: Station, *, configuration: Configuration | None, profiles: list[InstalledProfile]
    ) -> ChargePointView:
        snapshot = None
        if configuration is not None:
            snapshot = ConfigurationSnapshot(
                keys={
                    name: ConfigurationKey(value=entry.value, readonly=entry.readonly)
                    for name, entry in configuration.keys.items()
                },
                unknown_keys=list(configuration.unknown_keys),
                updated_at=configuration.updated_at,
            )
        installed = [
            InstalledChargingProfile(
                connector_id=profile.connector_id,
                charging_profile=profile.charging_profile,
                installed_at=profile.installed_at,
            )
            for profile in profiles
        ]
        return cls(**_summary_fields(station), configuration=snapshot, charging_profiles=installed)


def _summary_fields(station: Station) -> dict[str, Any]:
    return {
        "charge_point_id": station.charge_point_id,
        "registered": station.registered,
        "description": station.description,
        "lenient": station.lenient,
        "tariff_id": station.tariff_id,
        "time_zone": station.time_zone,
        "id_tag_suffix_separator": station.id_tag_suffix_separator,
        "password_protected": bool(station.password_hash),
        "connected": station.connected,
        "connected_at": station.connected_at,
        "disconnected_at": station.disconnected_at,
        "last_seen_at": station.last_seen_at,
        "boot_status": station.boot_status,
        "last_boot_at": station.last_boot_at,
        "boot": station.boot,
        "connectors": [
            ConnectorStatus.from_connector(connector) for connector in station.connectors if connector.status is not None
        ],
        "local_list_version": station.local_list_version,
        "firmware_status": station.firmware_status,
        "diagnostics_status": station.diagnostics_status,
        "log_status": station.log_status,
    }


class ChargePointList(ApiModel):
    items: list[ChargePointSummary]
    next_token: NextPageToken = None


class NetworkCountsView(ApiModel):
    """The whole network's stations, not a page of them, as counted at `countedAt`."""

    total: int = Field(description="Every station the CSMS knows: registered, or connected once without being registered")
    connected: int = Field(
        description="With a connection now (a station whose $disconnect never arrived is counted until it reconnects)"
    )
    offline: int = Field(description="Known but not connected: total - connected")
    charging: int = Field(description="Connected, with a connector Charging")
    faulted: int = Field(
        description="Connected, with a connector (or the station itself, connector 0) Faulted or reporting an errorCode "
        "other than NoError. A connected station may be both charging and faulted; an offline one is neither"
    )
    counted_at: Timestamp = Field(description="When the network was counted")

    @classmethod
    def from_counts(cls, counts: NetworkCounts) -> NetworkCountsView:
        return cls(
            total=counts.total,
            connected=counts.connected,
            offline=counts.offline,
            charging=counts.charging,
            faulted=counts.faulted,
            counted_at=counts.counted_at,
        )


EnergyThresholds = Annotated[
    list[Annotated[int, Field(gt=0)]],
    Field(max_length=20, description="Energy delivered (Wh) at which ThresholdReached events are sent"),
]


# --- id tags --------------------------------------------------------------------------------------


class IdTagStatus(StrEnum):
    """What the operator may set: AuthorizationStatus but ConcurrentTx, which is decided per request, never stored."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


def _webhook_url(url: str) -> str:
    problem = webhook_url_problem(url)
    if problem is not None:
        raise ValueError(f"the webhook URL {problem}")
    return url


class WebhookRegistration(ApiModel):
    """Where the driver's events go: each POSTed as JSON (the event's detail), signed with the secret."""

    webhook_url: Annotated[str, AfterValidator(_webhook_url)] = Field(
        max_length=2048, description="https (http only for localhost or 127.0.0.1, for development)"
    )
    webhook_secret: SecretStr = Field(
        min_length=16,
        max_length=256,
        description="Write-only: signs every POST (X-CSMS-Signature: sha256=<hex HMAC-SHA256 of the body>); never shown again",
    )


class WebhookView(ApiModel):
    webhook_url: str = Field(description="Its secret is write-only: never shown")


class IdTagRegistration(ApiModel):
    """PUT body: replaces what is known of the tag (a field left out is cleared; status defaults to Accepted)."""

    status: IdTagStatus = IdTagStatus.ACCEPTED
    expiry_date: UtcDateTime | None = Field(None, description="After it the tag is answered Expired (UTC if no offset)")
    parent_id_tag: str | None = Field(None, min_length=1, max_length=20, description="Group tag (CiString20)")
    tariff_id: str | None = Field(
        None, min_length=1, max_length=36, description="The tariff of this tag's sessions, over the station's (subscribers)"
    )
    priority: Priority | None = Field(
        None, description="Its sessions' priority on a shared site, unless a session asks for its own (0 when unset)"
    )
    limits: SessionLimitsModel | None = Field(
        None,
        description="Default limits of this tag's sessions: card sessions get them; an app session's or a "
        "reservation's limits replace them field by field",
    )
    notify_at_energy_wh: EnergyThresholds | None = None
    notify: WebhookRegistration | None = Field(None, description="The driver's webhook for session and reservation events")


class IdTagView(ApiModel):
    id_tag: str
    status: IdTagStatus
    expiry_date: Timestamp | None = None
    parent_id_tag: str | None = None
    tariff_id: str | None = None
    notify: WebhookView | None = None
    active_transaction_id: int | None = Field(None, description="The transaction the tag is in, if any")
    priority: int | None = None
    limits: SessionLimitsModel | None = None
    notify_at_energy_wh: list[int] | None = None

    @classmethod
    def from_record(cls, record: IdTagRecord) -> IdTagView:
        return cls(
            id_tag=record.id_tag,
            status=IdTagStatus(record.status),
            expiry_date=record.expiry_date,
            parent_id_tag=record.parent_id_tag,
            tariff_id=record.tariff_id,
            notify=WebhookView(webhook_url=record.webhook_url) if record.webhook_url else None,
            active_transaction_id=record.active_transaction_id,
            priority=record.priority,
            limits=SessionLimitsModel.from_limits(record.limits),
            notify_at_energy_wh=list(record.notify_at_energy_wh) or None,
        )


class IdTagList(ApiModel):
    items: list[IdTagView]
    next_token: NextPageToken = None


# --- sites ----------------------------------------------------------------------------------------

MAX_SITE_STATIONS = 500
MAX_CURRENT_A = 10_000


_TENTH = Decimal("0.1")
_AS_NUMBER = PlainSerializer(decimal_to_json, when_used="json")  # never a string
ChargingCurrent = Annotated[
    Decimal,
    Field(ge=MIN_CHARGING_CURRENT_A, le=MAX_CURRENT_A, multiple_of=_TENTH),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "minimum": 6, "maximum": MAX_CURRENT_A, "multipleOf": 0.1, "description": "A per phase"}),
]
"""A limit that must carry at least one session (6 A), with at most one decimal (OCPP 1.6 §7.7)."""
SafeCurrent = Annotated[
    Decimal,
    Field(ge=0, le=MAX_CURRENT_A, multiple_of=_TENTH),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_CURRENT_A, "multipleOf": 0.1, "description": "A per phase"}),
]
Amperes = Annotated[Decimal, _AS_NUMBER, WithJsonSchema({"type": "number", "description": "A per phase"})]
Volts = Annotated[
    Decimal,
    Field(gt=0, le=1000),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "description": "V, phase-to-neutral"}),
]
StationIdentity = Annotated[str, Field(pattern=station_identity.PATTERN)]


class CircuitDefinition(ApiModel):
    circuit_id: str = Field(min_length=1, max_length=36, pattern=r"^[\x21-\x7e]+$")
    max_current_a: ChargingCurrent = Field(description="The circuit's limit per phase; the site's applies too")
    charge_points: list[StationIdentity] = Field(max_length=MAX_SITE_STATIONS, description="Its stations, all among the site's")


class ConnectorDefinition(ApiModel):
    charge_point_id: StationIdentity
    connector_id: int = Field(
        strict=True, ge=0, le=2**31 - 1, description="0: the station as a whole (its maximum over all its connectors)"
    )
    max_current_a: ChargingCurrent | None = Field(None, description="The most it may draw, per phase")
    phases: Phases | None = Field(
        None, description="1: a single-phase socket or car on a three-phase site (on connector 0: the station's default)"
    )


class SiteDefinition(ApiModel):
    """PUT body: the whole definition, replacing the previous one."""

    name: str = Field(min_length=1, max_length=200)
    max_current_a: ChargingCurrent = Field(description="The grid connection's limit per phase (its main fuse)")
    phases: Phases
    voltage_v: Volts
    charge_points: list[StationIdentity] = Field(
        max_length=MAX_SITE_STATIONS, description="The site's stations (registered ones; a station belongs to one site)"
    )
    circuits: list[CircuitDefinition] = Field(default_factory=list, max_length=100)
    connectors: list[ConnectorDefinition] = Field(
        default_factory=list, max_length=4 * MAX_SITE_STATIONS, description="Per-connector settings, where they differ"
    )
    safe_current_a: SafeCurrent = Field(
        DEFAULT_SAFE_CURRENT_A,
        description="What a session may draw until the CSMS's allocation reaches its station: 0 or 6 A up to maxCurrentA",
    )

    def to_site(self, site_id: str) -> Site:
        return Site(
            site_id=site_id,
            name=self.name,
            max_current_a=self.max_current_a,
            phases=self.phases,
            voltage_v=self.voltage_v,
            safe_current_a=self.safe_current_a,
            charge_point_ids=tuple(self.charge_points),
            circuits=tuple(
                Circuit(circuit_id=c.circuit_id, max_current_a=c.max_current_a, charge_point_ids=tuple(c.charge_points))
                for c in self.circuits
            ),
            connectors=tuple(
                ConnectorSetting(
                    charge_point_id=c.charge_point_id, connector_id=c.connector_id, max_current_a=c.max_current_a, phases=c.phases
                )
                for c in self.connectors
            ),
        )


class SiteSummary(ApiModel):
    site_id: str
    name: str
    max_current_a: Amperes
    phases: int
    voltage_v: Volts
    safe_current_a: Amperes
    charge_points: list[str]
    circuits: list[CircuitDefinition]
    connectors: list[ConnectorDefinition]
    version: int = Field(description="One more with each PUT")
    updated_at: Timestamp | None = None

    @classmethod
    def site_fields(cls, site: Site) -> dict[str, Any]:
        return {
            "site_id": site.site_id,
            "name": site.name,
            "max_current_a": site.max_current_a,
            "phases": site.phases,
            "voltage_v": site.voltage_v,
            "safe_current_a": site.safe_current_a,
            "charge_points": list(site.charge_point_ids),
            "circuits": [
                CircuitDefinition(circuit_id=c.circuit_id, max_current_a=c.max_current_a, charge_points=list(c.charge_point_ids))
                for c in site.circuits
            ],
            "connectors": [
                ConnectorDefinition(
                    charge_point_id=c.charge_point_id, connector_id=c.connector_id, max_current_a=c.max_current_a, phases=c.phases
                )
                for c in site.connectors
            ],
            "version": site.version,
            "updated_at": site.updated_at,
        }

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(**cls.site_fields(site))


class ConnectorAllocationView(ApiModel):
    charge_point_id: str
    connector_id: int
    transaction_id: int
    priority: int
    allocated_current_a: Amperes = Field(description="A per phase: 0 (paused) or at least 6")
    measured_current_a: Amperes | None = Field(None, description="The current it last measured (Current.Import), A per phase")
    paused: bool
    phases: int = Field(description="The phases it draws on")
    limited_by: Bound = Field(
        description="What holds it where it is (for a paused session: which limit had no room for its 6 A): its "
        "connector's maximum, its own measured use (the rest is lent), its station's, circuit's or site's limit, or "
        "`ignored` (its station draws more than allocated) or `unreachable` (its station is not connected: what it may "
        "draw counts as used until it is back)"
    )
    circuit_id: str | None = Field(None, description="The circuit, when limitedBy is circuit")

    @classmethod
    def from_allocation(cls, allocation: ConnectorAllocation, *, measured_a: Decimal | None = None) -> ConnectorAllocationView:
        return cls(
            measured_current_a=measured_a,
            charge_point_id=allocation.charge_point_id,
            connector_id=allocation.connector_id,
            transaction_id=allocation.transaction_id,
            priority=allocation.priority,
            allocated_current_a=allocation.current_a,
            paused=allocation.paused,
            phases=allocation.phases,
            limited_by=allocation.bound,
            circuit_id=allocation.circuit_id,
        )


class SiteView(SiteSummary):
    allocations: list[ConnectorAllocationView] = Field(description="Each session in progress at the site's stations")

    @classmethod
    def build(cls, site: Site, allocation: SiteAllocation, *, measured: Mapping[int, Decimal] | None = None) -> SiteView:
        """`measured`: each session's last measured current, by transaction id."""
        return cls(
            **cls.site_fields(site),
            allocations=[
                ConnectorAllocationView.from_allocation(a, measured_a=(measured or {}).get(a.transaction_id))
                for a in allocation.allocations
            ],
        )


class SiteList(ApiModel):
    items: list[SiteSummary]
    next_token: NextPageToken = None


# --- transactions ---------------------------------------------------------------------------------


class TransactionView(ApiModel):
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    active: bool = Field(description="No StopTransaction received yet")
    started_at: Timestamp
    meter_start: int = Field(description="Wh")
    authorization_status: str | None = None
    reservation_id: int | None = None
    stopped_at: Timestamp | None = None
    meter_stop: int | None = Field(None, description="Wh")
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    last_meter_wh: WattHours | None = Field(None, description="Latest Energy.Active.Import.Register reading, Wh")
    last_meter_at: Timestamp | None = None
    energy_wh: WattHours | None = Field(
        None, description="Energy delivered, Wh: meterStop - meterStart once stopped, else the latest reading - meterStart"
    )
    limits: SessionLimitsModel | None = Field(None, description="What stops it by itself, bound at its start")
    limit_reached: LimitKind | None = Field(None, description="The limit that stopped it (the CSMS sent RemoteStopTransaction)")
    session_id: str | None = Field(None, description="The app session (POST /sessions) it started")

    @classmethod
    def from_transaction(cls, transaction: Transaction, **extra: Any) -> Self:
        start, stop = transaction.start, transaction.stop
        return cls(
            transaction_id=transaction.transaction_id,
            charge_point_id=start.charge_point_id,
            connector_id=start.connector_id,
            id_tag=start.id_tag,
            active=transaction.state is TransactionState.ACTIVE,
            started_at=start.started_at,
            meter_start=start.meter_start,
            authorization_status=start.authorization_status or None,
            reservation_id=start.reservation_id,
            stopped_at=stop.stopped_at if stop else None,
            meter_stop=stop.meter_stop if stop else None,
            stop_reason=stop.reason if stop else None,
            stop_id_tag=stop.id_tag if stop else None,
            last_meter_wh=transaction.last_meter_wh,
            last_meter_at=transaction.last_meter_at,
            energy_wh=transaction.energy_wh,
            limits=SessionLimitsModel.from_limits(start.limits),
            limit_reached=transaction.limit_reached,
            session_id=start.session_id,
            **extra,
        )


class RecordedMeterValue(ApiModel):
    timestamp: str = Field(description="As the station sent it")
    connector_id: int
    sampled_value: list[JsonObject] = Field(description="The sampledValue entries as the station sent them")


class TransactionDetail(TransactionView):
    meter_values: list[RecordedMeterValue]


class TransactionList(ApiModel):
    items: list[TransactionView]
    next_token: NextPageToken = None


# --- app sessions ---------------------------------------------------------------------------------


class SessionRequest(ApiModel):
    charge_point_id: str = Field(min_length=1, max_length=255)
    connector_id: int = Field(ge=1, description="The connector asked for (a station may start on another one)")
    id_tag: str = Field(min_length=1, max_length=20, description="A registered idTag: the driver's app identity")
    limits: SessionLimitsModel | None = Field(None, description="Replace the id tag's default limits field by field")
    notify_at_energy_wh: EnergyThresholds | None = None
    priority: Priority | None = Field(None, description="This session's priority on a shared site, over the id tag's")


class SessionView(ApiModel):
    session_id: str
    charge_point_id: str
    connector_id: int
    id_tag: str
    status: AppSessionStatus = Field(
        description="Requested (the station accepted RemoteStartTransaction), Started, Stopped, Rejected, or Expired "
        "(accepted, but no StartTransaction came within SESSION_START_WINDOW_SECONDS)"
    )
    requested_at: Timestamp
    limits: SessionLimitsModel | None = Field(None, description="The limits it runs with (the id tag's included)")
    notify_at_energy_wh: list[int] | None = None
    command_id: str | None = Field(None, description="The RemoteStartTransaction (GET /commands/{commandId})")
    response: JsonObject | None = Field(None, description="The station's answer to RemoteStartTransaction, or the error")
    transaction_id: int | None = None
    started_at: Timestamp | None = None
    stopped_at: Timestamp | None = None
    limit_reached: LimitKind | None = Field(None, description="The limit that stopped it")
    priority: int | None = Field(None, description="Asked for this session (else its id tag's binds at the start)")

    @classmethod
    def from_session(cls, session: AppSession, *, status: AppSessionStatus) -> SessionView:
        return cls(
            session_id=session.session_id,
            charge_point_id=session.charge_point_id,
            connector_id=session.connector_id,
            id_tag=session.id_tag,
            status=status,
            requested_at=session.requested_at,
            limits=SessionLimitsModel.from_limits(session.limits),
            notify_at_energy_wh=list(session.notify_at_energy_wh) or None,
            command_id=session.command_id,
            response=session.response,
            transaction_id=session.transaction_id,
            started_at=session.started_at,
            stopped_at=session.stopped_at,
            limit_reached=session.limit_reached,
            priority=session.priority,
        )


class SessionList(ApiModel):
    items: list[SessionView]
    next_token: NextPageToken = None


# --- commands -------------------------------------------------------------------------------------


class CommandError(ApiModel):
    code: str = Field(description="CallError code (OCPP-J 4.2.3), or StationNotConnected")
    description: str | None = None
    details: Any = None


class CommandView(ApiModel):
    """One central-system CALL: what was asked, its state, and the station's answer."""

    command_id: str = Field(description="The OCPP message id of the CALL")
    charge_point_id: str
    action: str
    status: CommandStatus
    request: JsonObject = Field(description="The payload as sent (secrets such as a new AuthorizationKey redacted)")
    response: JsonObject | None = Field(None, description="The station's CALLRESULT payload")
    error: CommandError | None = None
    created_at: Timestamp
    sent_at: Timestamp | None = None
    answered_at: Timestamp | None = None
    parts: list[str] | None = Field(
        None,
        description="A SendLocalList too large for one frame goes as several updates: their command ids in order "
        "(this view is the last one's)",
    )

    @classmethod
    def from_command(cls, command: Command, *, parts: list[Command] | None = None) -> CommandView:
        error = None
        if command.error:
            error = CommandError(
                code=command.error.get("code", ""),
                description=command.error.get("description"),
                details=plain_json(command.error.get("details")),
            )
        return cls(
            command_id=command.command_id,
            charge_point_id=command.charge_point_id,
            action=command.action,
            status=command.status,
            request=plain_json(command.request),
            response=plain_json(command.response) if command.response is not None else None,
            error=error,
            created_at=command.created_at,
            sent_at=command.sent_at,
            answered_at=command.answered_at,
            parts=[part.command_id for part in parts] if parts and len(parts) > 1 else None,
        )


class CommandList(ApiModel):
    items: list[CommandView]
    next_token: NextPageToken = None


# --- reservations ---------------------------------------------------------------------------------


class ReservationRequest(ApiModel):
    """POST /reservations: a connector held for a driver, on the station's current day, until expiryDate."""

    charge_point_id: str = Field(pattern=station_identity.PATTERN, max_length=station_identity.MAX_LENGTH)
    connector_id: StrictInt = Field(ge=0, le=2**31 - 1, description="0: any connector of the station")
    id_tag: str = Field(min_length=1, max_length=20, description="The driver's idTag (CiString20)")
    parent_id_tag: str | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Group tag: an idTag sharing it may use the reservation too (default: the idTag's registered parent)",
    )
    expiry_date: UtcDateTime = Field(
        description="Until when the connector is held: ahead, and within the station's current day in its time zone "
        "(UTC if it has none). UTC if no offset"
    )
    start_at: UtcDateTime | None = Field(
        None,
        description="When the driver means to arrive, later the same day: the station is asked only "
        "RESERVATION_LEAD_SECONDS (default 900) before (the reservation is Scheduled until then)",
    )
    limits: SessionLimitsModel | None = Field(None, description="Bound to the session that uses the reservation")


class ReservationView(ApiModel):
    reservation_id: int
    status: ReservationStatus = Field(
        description="Scheduled (startAt, not sent yet), Accepted (held), Consumed, Expired, Cancelled, or Refused (a "
        "Scheduled one the station refused or could not be asked)"
    )
    charge_point_id: str
    connector_id: int = Field(description="0: any connector of the station")
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: Timestamp
    start_at: Timestamp | None = None
    limits: SessionLimitsModel | None = None
    created_at: Timestamp
    accepted_at: Timestamp | None = None
    ended_at: Timestamp | None = Field(None, description="When it was consumed, expired, cancelled or refused")
    transaction_id: int | None = Field(None, description="The transaction that consumed it")
    refusal: str | None = Field(None, description="Refused: the station's answer, or why it could not be asked")

    @classmethod
    def from_reservation(cls, reservation: Reservation) -> ReservationView:
        limits = reservation.limits
        return cls(
            reservation_id=reservation.reservation_id,
            status=reservation.status,
            charge_point_id=reservation.charge_point_id,
            connector_id=reservation.connector_id,
            id_tag=reservation.id_tag,
            parent_id_tag=reservation.parent_id_tag,
            expiry_date=reservation.expiry_date,
            start_at=reservation.start_at,
            limits=SessionLimitsModel.from_limits(limits) if limits and not limits.empty else None,
            created_at=reservation.created_at,
            accepted_at=reservation.accepted_at,
            ended_at=reservation.ended_at,
            transaction_id=reservation.transaction_id,
            refusal=reservation.refusal,
        )


class ReservationList(ApiModel):
    items: list[ReservationView]
    next_token: NextPageToken = None


# --- tariffs and charge detail records ---------------------------------------------------------------


class TariffView(ApiModel):
    tariff_id: str
    version: int = Field(description="1 for the first PUT, one more for each PUT since")
    effective_at: str = Field(description="When this version took effect (the CSMS's time of the PUT)")
    tariff: JsonObject = Field(description="The OCPI 2.2.1 Tariff object (snake_case, as OCPI defines it)")


class TariffList(ApiModel):
    items: list[TariffView]
    next_token: NextPageToken = None


class TariffApplied(ApiModel):
    tariff: JsonObject = Field(description="The OCPI 2.2.1 Tariff object in force now")
    applies_because: str = Field(description="idTag | station | default")
    version: int
    time_zone: str = Field(description="Where its restrictions are evaluated (the charge point's zone)")


class SampleSession(ApiModel):
    """A session described by hand, to see what a tariff would charge for it (nothing is stored)."""

    start_date_time: UtcDateTime = Field(description="When it starts (UTC if no offset)", examples=["2026-11-24T08:00:00Z"])
    end_date_time: UtcDateTime = Field(description="When the car leaves (the StopTransaction)", examples=["2026-11-24T10:00:00Z"])
    charging_end_date_time: UtcDateTime | None = Field(
        None, description="When the car stops asking for power; parked (PARKING_TIME) from then to the end. Default: the end"
    )
    energy_wh: Decimal = Field(ge=0, le=10**9, allow_inf_nan=False, description="Energy delivered, Wh", examples=[12500])
    time_zone: str | None = Field(
        None, max_length=64, description="IANA zone where the tariff's hours and days are read (a station's); default UTC"
    )


class TariffPreviewRequest(ApiModel):
    tariff: JsonObject = Field(description="An OCPI 2.2.1 Tariff object, as PUT /tariffs/{tariffId} takes it")
    session: SampleSession


class TariffPreview(ApiModel):
    time_zone: str = Field(description="Where the tariff's restrictions were read")
    priced: JsonObject = Field(
        description=(
            "The pricing engine's answer, as a CDR's costs are computed (snake_case, OCPI numbers): cost_lines (one per "
            "priced dimension and charging period, volume and billed_volume after step_size), charging_periods, "
            "total_cost, total_energy_cost, total_time_cost, total_parking_cost, total_fixed_cost (excl_vat, incl_vat), "
            "total_energy (kWh), total_time and total_parking_time (hours), notes"
        )
    )


class CdrList(ApiModel):
    items: list[JsonObject] = Field(description="OCPI 2.2.1 CDR objects (snake_case)")
    next_token: NextPageToken = None
