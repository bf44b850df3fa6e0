"""Settings of the CSMS functions, read from the Lambda environment on first use (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from csms.domain.start_links import DEFAULT_START_LINK_TEMPLATE, check_start_link_template


class UnknownStationPolicy(StrEnum):
    """What happens to a station that connects without having been registered by an operator."""

    ACCEPT = "accept"  # registered automatically, boot Accepted (the local default)
    PENDING = "pending"  # connection allowed, boot answered Pending until an operator registers it
    REJECT = "reject"  # connection refused (the deployed default)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str
    connections_endpoint_url: str | None = None
    """Base URL of the API Gateway @connections API (https://{api}.execute-api.{region}.amazonaws.com/{stage})."""
    # API Gateway cuts a connection idle for 10 minutes and heartbeats keep it alive: at most 300 s.
    heartbeat_interval_seconds: int = Field(default=300, gt=0, le=300)
    boot_retry_interval_seconds: int = Field(default=60, gt=0)
    """The interval of a Pending or Rejected BootNotification answer: when the station may boot again."""
    unknown_station_policy: UnknownStationPolicy = UnknownStationPolicy.REJECT
    allow_missing_subprotocol: bool = True
    """Real stations sometimes offer no Sec-WebSocket-Protocol at all; take them as OCPP 1.6."""
    origin_secret: str | None = None
    """When set, $connect requires the X-Origin-Verify header the front door adds (no bypassing CloudFront)."""
    allow_concurrent_transactions: bool = False
    """Whether one idTag may be in several transactions at once (otherwise ConcurrentTx)."""
    command_timeout_seconds: int = Field(default=30, gt=0)
    """How long a central-system CALL may stay unanswered before the next queued one may go out (OCPP-J 4.1.1)."""
    command_wait_seconds: float = Field(default=25, gt=0, lt=29)
    """How long the operator API waits for a station's answer: below API Gateway's 29 s integration timeout."""
    stale_transaction_hours: int = Field(default=24, gt=0)
    """A transaction older than this no longer blocks its idTag: its StopTransaction was probably lost."""

    event_bus_name: str | None = None
    """The CSMS event bus (functions that publish events: `publishes_events` in the manifest)."""
    ocpi_country_code: str = Field(default="NL", min_length=2, max_length=2)
    """The network's OCPI country_code: the default of tariffs and what CDRs carry."""
    ocpi_party_id: str = Field(default="CSM", min_length=1, max_length=3)
    """The network's OCPI party_id (CPO)."""
    billing_hand_off_state_machine_arn: str | None = None
    """The BillingHandOff workflow (set on the functions that start it)."""
    default_tariff_id: str | None = None
    """The tariff of sessions whose id tag and station name none."""
    qr_url_template: Annotated[str, AfterValidator(check_start_link_template)] = DEFAULT_START_LINK_TEMPLATE
    """The start link the QR code of a connector encodes (see csms.domain.start_links)."""
    reservation_lead_seconds: int = Field(default=900, ge=0)
    """How long before a reservation's startAt its ReserveNow goes out (the connector is held from then on)."""
    reservation_expiry_state_machine_arn: str | None = None
    """The ReservationExpiry workflow (set on the functions that start it)."""
    reservation_start_state_machine_arn: str | None = None
    """The ReservationStart workflow (set on the functions that start it)."""
    station_url: str | None = None
    """Where stations connect (ws(s)://.../ocpp/), for the operator console's instructions."""
    console_jwt_issuer: str | None = None
    """The OpenID Connect issuer the operator console signs in with (when the operator API takes JWTs)."""
    console_client_id: str | None = None
    """The console's OAuth 2.0 client at that issuer (authorization code with PKCE; its id token is the bearer)."""

    session_limit_state_machine_arn: str | None = None
    """The SessionLimit workflow (set on the functions that start or stop it)."""
    session_start_window_seconds: int = Field(default=600, gt=0)
    """How long an app session's RemoteStartTransaction, once accepted, waits for its StartTransaction: a later
    start of that tag is a start of its own (the session shows Expired). Above stations' ConnectionTimeOut."""
    predict_limit_crossing: bool = True
    """Time a limit's stop for the moment the last two readings predict it is crossed (when that comes before the
    next sample), rather than for the sample that shows it crossed: less overshoot."""

    soc_thresholds: tuple[Annotated[Decimal, Field(gt=0, le=100)], ...] = (Decimal(80),)
    """States of charge (percent) whose upward crossing drivers are told of (ThresholdReached); the environment
    gives them comma-separated (`SOC_THRESHOLDS=80` or `50,80`), empty for none."""

    webhook_retry_seconds: int = Field(default=30, ge=0, le=3600)
    """A driver's webhook that failed is tried again after this long, doubling each time (at most an hour)."""

    @field_validator("soc_thresholds", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def session_start_window(self) -> timedelta:
        return timedelta(seconds=self.session_start_window_seconds)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values = {name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
