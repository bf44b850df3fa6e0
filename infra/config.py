"""What an operator may choose at deploy time, read from CDK context (`cdk.json` or `cdk deploy -c key=value`).

Every key is optional; the defaults are a production deployment with the deployed-default station policy
("reject" unknown stations). Values given with `-c` arrive as strings: JSON lists and objects are parsed.
A bad value fails the synth with a message naming the key, before anything is deployed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from constructs import Node
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from csms.domain.start_links import check_start_link_template
from csms.runtime.settings import UnknownStationPolicy


class _ContextModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Throttle(_ContextModel):
    rate_limit: float = Field(gt=0)
    """Steady-state requests (WebSocket: new connections + messages) per second."""
    burst_limit: int = Field(gt=0)


class PartnerEventBus(_ContextModel):
    """A billing partner or service operator with an AWS account: events forwarded to their bus.

    Their bus policy must allow `events:PutEvents` from this account (see docs/deployment.md)."""

    name: str = Field(pattern=r"^[A-Za-z0-9]{1,40}$")
    event_bus_arn: str = Field(pattern=r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$")
    detail_types: tuple[str, ...] = ()
    """Only these billing event types (empty: all of them; never the drivers' events)."""


class PartnerApiDestination(_ContextModel):
    """A partner without AWS: events POSTed to their HTTPS endpoint, authenticated with an API key header.

    The key is read at deploy time from a Secrets Manager secret the operator created (never from context)."""

    name: str = Field(pattern=r"^[A-Za-z0-9]{1,40}$")
    endpoint: HttpUrl
    api_key_secret_name: str
    api_key_header: str = "x-api-key"
    rate_limit_per_second: int = Field(default=10, gt=0, le=300)
    detail_types: tuple[str, ...] = ()

    @field_validator("endpoint")
    @classmethod
    def _https_only(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            raise ValueError("API destinations must be https")
        return value


class OperatorApiAuthorization(_ContextModel):
    """IAM (SigV4, the default) or JWT; Cognito is JWT with the user pool as issuer and the app client as audience."""

    kind: Literal["iam", "jwt"] = "iam"
    jwt_issuer: HttpUrl | None = None
    jwt_audience: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _jwt_needs_issuer_and_audience(self) -> OperatorApiAuthorization:
        if self.kind == "jwt" and (self.jwt_issuer is None or not self.jwt_audience):
            raise ValueError("operatorApiAuthorization of kind jwt needs jwtIssuer and jwtAudience")
        return self


LOG_RETENTION_DAYS = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS",
    1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip
"""Retention periods CloudWatch Logs accepts -> their `aws_logs.RetentionDays` member."""


class CsmsConfig(_ContextModel):
    # Front door
    domain_name: str | None = None
    """Custom host name for stations (e.g. ocpp.example.com); needs certificate_arn."""
    certificate_arn: str | None = None
    """ACM certificate for domain_name, in us-east-1 (CloudFront only reads certificates there)."""
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    """With hosted_zone_id: the Route 53 zone in which to create the domain's alias records."""
    allow_security_profile_1: bool = False
    """Also accept ws:// (OCPP security profile 1: Basic auth without TLS). Off: wss:// only (profile 2)."""
    geo_allow_list: tuple[str, ...] = ()
    """ISO 3166 country codes stations may connect from (empty: everywhere)."""
    web_acl_arn: str | None = None
    """A WAF web ACL (CLOUDFRONT scope, us-east-1) to attach to the distribution."""
    price_class: Literal["100", "200", "All"] = "All"
    origin_secret_generation: int = Field(default=1, ge=1)
    """Bump to rotate the secret header between CloudFront and API Gateway (a new secret is generated)."""

    # Station behaviour (the functions' settings, see csms.runtime.settings)
    heartbeat_interval_seconds: int = Field(default=300, gt=0, le=300)
    boot_retry_interval_seconds: int = Field(default=60, gt=0)
    unknown_station_policy: UnknownStationPolicy = UnknownStationPolicy.REJECT
    allow_missing_subprotocol: bool = True

    # Functions and APIs
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_retention_days: int = 30
    reserved_concurrency: dict[str, int] = Field(default_factory=dict)
    """Function name -> reserved concurrency (none by default: new accounts cannot reserve any)."""
    station_api_throttle: Throttle = Throttle(rate_limit=1000, burst_limit=2000)
    manage_api_gateway_account_role: bool = True
    """Set the region's API Gateway CloudWatch Logs role (required for WebSocket access logs). Turn off if
    the account already has one that another stack manages."""
    operator_api_authorization: OperatorApiAuthorization = OperatorApiAuthorization()
    operator_api_throttle: Throttle = Throttle(rate_limit=50, burst_limit=100)

    # Events
    event_archive_retention_days: int = Field(default=365, ge=0)
    ocpi_country_code: str = Field(default="NL", min_length=2, max_length=2, description="The network's OCPI country_code")
    ocpi_party_id: str = Field(default="CSM", min_length=1, max_length=3, description="The network's OCPI party_id (CPO)")
    default_tariff_id: str | None = Field(default=None, description="The tariff when neither id tag nor station names one")
    """0 keeps archived events forever."""
    qr_url_template: Annotated[str, AfterValidator(check_start_link_template)] | None = None
    """The start link the connectors' QR codes encode (csms.domain.start_links; unset: a placeholder domain)."""
    partner_event_buses: tuple[PartnerEventBus, ...] = ()
    partner_api_destinations: tuple[PartnerApiDestination, ...] = ()

    # Operations
    alarm_email: str | None = None
    authorizer_denials_threshold: int = Field(default=50, gt=0)
    """Refused connection attempts in 5 minutes that raise the alarm."""

    @field_validator("log_retention_days")
    @classmethod
    def _retention_cloudwatch_accepts(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs retention must be one of {sorted(LOG_RETENTION_DAYS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CsmsConfig:
        if self.domain_name and not self.certificate_arn:
            raise ValueError("domainName needs certificateArn (an ACM certificate in us-east-1)")
        if self.certificate_arn and not self.domain_name:
            raise ValueError("certificateArn needs domainName")
        if bool(self.hosted_zone_id) != bool(self.hosted_zone_name):
            raise ValueError("hostedZoneId and hostedZoneName go together")
        if self.hosted_zone_id and not self.domain_name:
            raise ValueError("hostedZoneId needs domainName")
        names = [partner.name for partner in (*self.partner_event_buses, *self.partner_api_destinations)]
        if len(names) != len(set(names)):
            raise ValueError("partner names must be unique")
        return self

    @classmethod
    def from_context(cls, node: Node) -> CsmsConfig:
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            key = field.alias or name
            value = node.try_get_context(key)
            if value is None:
                continue
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                value = json.loads(value)
            values[key] = value
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise ValueError(f"Invalid CDK context for the CSMS stack:\n{error}") from None
