"""The OCPI 2.2.1 Tariff object, field for field (OCPI 2.2.1 mod_tariffs §11.3.1 to §11.4).

`PUT /tariffs/{id}` takes the OCPI body verbatim, so the field names are OCPI's snake_case ones and
nothing else is accepted: an unknown key is an error rather than a silently ignored restriction
(a misspelt `max_kw` would otherwise make an element apply everywhere).

    Tariff
      country_code, party_id, id, currency (ISO 4217), type?, tariff_alt_text[], tariff_alt_url?,
      min_price?, max_price? (Price {excl_vat, incl_vat?}), start_date_time?, end_date_time?,
      energy_mix?, last_updated
      elements[]                                    (one or more)
        price_components[]                          (one or more)
          type ENERGY | FLAT | PARKING_TIME | TIME, price (excl. VAT), vat? (%), step_size
        restrictions?
          start_time/end_time "HH:MM", start_date/end_date "YYYY-MM-DD", min/max_kwh,
          min/max_current, min/max_power, min/max_duration (s), day_of_week[], reservation?

Numbers are `Decimal` from the wire on. OCPI types §number: "numbers use 4 decimals"; a number with
more decimals is refused instead of rounded, so what is stored is what the operator wrote.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

OCPI_DECIMALS = 4
"""OCPI 2.2.1 types §number: "Unless mentioned otherwise, numbers use 4 decimals"."""


def _json_number(value: Decimal) -> int | float:
    # JSON has no decimal type and OCPI wants numbers, not strings. A Decimal of at most 4 decimals
    # and fewer than 15 significant digits prints back exactly from the float's shortest repr.
    return int(value) if value == value.to_integral_value() else float(value)


def _four_decimals(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -OCPI_DECIMALS and value != round(value, OCPI_DECIMALS):
        raise ValueError(f"at most {OCPI_DECIMALS} decimals (OCPI types §number)")
    return value


Number = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    AfterValidator(_four_decimals),
    PlainSerializer(_json_number, return_type=int | float, when_used="json"),
]
"""An OCPI `number`: a Decimal, at most 4 decimals, written to JSON as a JSON number."""

NonNegative = Annotated[Number, Field(ge=0)]


def as_utc(value: datetime) -> datetime:
    # OCPI types §DateTime: all timestamps are UTC; no zone designator means UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


OcpiDateTime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(lambda v: v.isoformat().replace("+00:00", "Z"), return_type=str, when_used="json"),
]

_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


def _printable_ascii(value: str) -> str:
    """OCPI types §CiString: case-insensitive printable ASCII."""
    if not _PRINTABLE.match(value):
        raise ValueError("printable ASCII only (OCPI CiString)")
    return value


CiString3 = Annotated[str, Field(min_length=1, max_length=3), AfterValidator(_printable_ascii)]
CiString36 = Annotated[str, Field(min_length=1, max_length=36), AfterValidator(_printable_ascii)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, defer_build=True)


class TariffDimensionType(StrEnum):
    """mod_tariffs §TariffDimensionType: the unit each price is per."""

    ENERGY = "ENERGY"  # per kWh, step_size in Wh
    FLAT = "FLAT"  # per session
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size in seconds
    TIME = "TIME"  # per hour charging, step_size in seconds


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


WEEKDAYS = tuple(DayOfWeek)  # index = date.weekday()


class ReservationRestrictionType(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class Price(Model):
    """types §Price: a cost excluding VAT and, optionally, including it."""

    excl_vat: NonNegative
    incl_vat: NonNegative | None = None


class DisplayText(Model):
    language: Annotated[str, Field(min_length=2, max_length=2)]
    text: Annotated[str, Field(max_length=512)]


class PriceComponent(Model):
    """mod_tariffs §PriceComponent.

    `vat` left out means no VAT applies to this component, which OCPI says is not the same as 0 %:
    the cost including VAT equals the cost excluding it, and no VAT line is due for it.
    `step_size` is in Wh (ENERGY) or seconds (TIME, PARKING_TIME); 0 bills the exact amount.
    """

    type: TariffDimensionType
    price: NonNegative
    vat: Annotated[Number, Field(ge=0, le=100)] | None = None
    step_size: Annotated[int, Field(ge=0, strict=True)]


def _hh_mm(value: str) -> str:
    # mod_tariffs §TariffRestrictions: 24h format with leading zeros, regex ([0-1][0-9]|2[0-3]):[0-5][0-9]
    if not re.fullmatch(r"([0-1][0-9]|2[0-3]):[0-5][0-9]", value):
        raise ValueError('a time of day as "HH:MM" (00:00 to 23:59)')
    return value


def _yyyy_mm_dd(value: str) -> str:
    if not re.fullmatch(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", value):
        raise ValueError('a date as "YYYY-MM-DD"')
    try:
        date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"no such date: {value}") from error
    return value


TimeOfDay = Annotated[str, AfterValidator(_hh_mm)]
LocalDate = Annotated[str, AfterValidator(_yyyy_mm_dd)]


class TariffRestrictions(Model):
    """mod_tariffs §TariffRestrictions: all set restrictions must hold (logical AND).

    Evaluated in the station's local time; min_* bounds are inclusive, max_* bounds exclusive.
    """

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: NonNegative | None = None
    max_kwh: NonNegative | None = None
    min_current: NonNegative | None = None
    max_current: NonNegative | None = None
    min_power: NonNegative | None = None
    max_power: NonNegative | None = None
    min_duration: Annotated[int, Field(ge=0, strict=True)] | None = None
    max_duration: Annotated[int, Field(ge=0, strict=True)] | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None

    @model_validator(mode="after")
    def _bounds_in_order(self) -> TariffRestrictions:
        for low, high in (
            ("min_kwh", "max_kwh"),
            ("min_current", "max_current"),
            ("min_power", "max_power"),
            ("min_duration", "max_duration"),
        ):
            lower, upper = getattr(self, low), getattr(self, high)
            if lower is not None and upper is not None and lower >= upper:
                # max is exclusive, min inclusive: min == max matches nothing, which is never meant.
                raise _FieldFault(high, f"must be greater than {low} ({lower})")
        if self.start_date and self.end_date and self.start_date >= self.end_date:
            raise _FieldFault("end_date", f"must be after start_date ({self.start_date}); end_date is exclusive")
        if self.start_time is not None and self.start_time == self.end_time:
            raise _FieldFault(
                "end_time",
                "equals start_time: an empty or whole-day window is ambiguous (leave both out for the whole day)",
            )
        if self.day_of_week is not None and not self.day_of_week:
            raise _FieldFault("day_of_week", "an empty list matches no day (leave it out for every day)")
        return self

    @property
    def start_time_of_day(self) -> time | None:
        return time.fromisoformat(self.start_time) if self.start_time else None

    @property
    def end_time_of_day(self) -> time | None:
        return time.fromisoformat(self.end_time) if self.end_time else None


class _FieldFault(ValueError):
    """An error found across fields, naming the one at fault (`validation.tariff_errors` adds it to the path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TariffElement(Model):
    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class EnergySource(Model):
    source: str
    percentage: NonNegative


class EnvironmentalImpact(Model):
    category: str
    amount: NonNegative


class EnergyMix(Model):
    """mod_locations §EnergyMix: carried as given, not used for pricing."""

    is_green_energy: bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: Annotated[str, Field(max_length=64)] | None = None
    energy_product_name: Annotated[str, Field(max_length=64)] | None = None


def _iso_4217(value: str) -> str:
    import pycountry  # ~10 ms: only paid when a tariff is validated

    if not re.fullmatch(r"[A-Z]{3}", value) or pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError(f"unknown currency {value!r}: an ISO 4217 code such as EUR")
    return value


def _iso_3166_alpha_2(value: str) -> str:
    import pycountry

    if not re.fullmatch(r"[A-Za-z]{2}", value) or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValueError(f"unknown country {value!r}: an ISO 3166-1 alpha-2 code such as NL")
    return value


class Tariff(Model):
    """mod_tariffs §Tariff object. The first element (in list order) whose restrictions match
    prices a dimension; see `pricing` for how a session is priced with it."""

    country_code: Annotated[str, AfterValidator(_iso_3166_alpha_2)]
    party_id: CiString3
    id: CiString36
    currency: Annotated[str, AfterValidator(_iso_4217)]
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = Field(default_factory=list)
    tariff_alt_url: Annotated[str, Field(max_length=255)] | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: OcpiDateTime | None = None
    end_date_time: OcpiDateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: OcpiDateTime

    @field_validator("tariff_alt_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError("an http(s) URL")
        return value

    @model_validator(mode="after")
    def _limits_in_order(self) -> Tariff:
        if self.min_price and self.max_price:
            if self.min_price.excl_vat > self.max_price.excl_vat:
                raise _FieldFault("max_price.excl_vat", "is below min_price.excl_vat")
            low, high = self.min_price.incl_vat, self.max_price.incl_vat
            if low is not None and high is not None and low > high:
                raise _FieldFault("max_price.incl_vat", "is below min_price.incl_vat")
        if self.start_date_time and self.end_date_time and self.start_date_time >= self.end_date_time:
            raise _FieldFault("end_date_time", "must be after start_date_time")
        return self

    def in_force_at(self, moment: datetime) -> bool:
        """Whether `moment` lies in [start_date_time, end_date_time) (either bound optional)."""
        if self.start_date_time and moment < self.start_date_time:
            return False
        return not (self.end_date_time and moment >= self.end_date_time)
