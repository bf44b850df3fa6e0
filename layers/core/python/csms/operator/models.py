"""Request and response bodies of the operator API: camelCase on the wire (as OCPP), snake_case in Python: the
base model and shared field types, and the views of the routes every cold start includes (a router included on
demand keeps its own views, built only when it is).

Views are built from the domain's entities; free-form OCPP payloads (boot information, charging profiles,
command answers) are passed through as the station sent them, as plain JSON numbers.
"""

from __future__ import annotations

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

from csms.domain.authorization import IdTagRecord
from csms.domain.clock import to_iso
from csms.domain.commands import CommandStatus
from csms.domain.limits import LimitKind, Money, SessionLimits
from csms.domain.notifications import webhook_url_problem
from csms.domain.priorities import PRIORITY_MAX, PRIORITY_MIN
from csms.domain.station_config import Configuration, InstalledProfile
from csms.domain.stations import Connector, NetworkCounts, Station
from csms.domain.transactions import Transaction, TransactionState
from csms.ocpp.frames import decimal_to_json

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
