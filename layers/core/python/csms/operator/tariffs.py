"""Tariffs as OCPI 2.2.1 Tariff objects (snake_case, as OCPI defines them; the rest of this API is camelCase),
which tariff a driver would pay at a charge point now, and what a tariff would charge for a sample session (the
console's live preview, priced by the engine that prices CDRs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import Field

from csms.adapters.dynamodb.tariffs import StoredTariff, TariffNotFound
from csms.billing.tariff_choice import choose_tariff
from csms.domain.stations import StationNotFound
from csms.domain.tariffs.model import Tariff
from csms.domain.tariffs.pricing import price_session
from csms.domain.tariffs.sample import InvalidSample, sample_consumption
from csms.domain.tariffs.validation import FieldError, TariffRejected, parse_tariff
from csms.operator.errors import InvalidValue, ResourceNotFound, documented
from csms.operator.models import ApiModel, JsonObject, NextPageToken, UtcDateTime, is_iana_zone
from csms.operator.pagination import DEFAULT_PAGE_SIZE, TABLE_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ChargePointId, ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.settings import Settings


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


router = Router()
TAGS = ["Tariffs"]

TariffId = Annotated[
    str, Path(alias="tariffId", min_length=1, max_length=36, pattern=r"^[\x20-\x7e]+$", description="OCPI Tariff id (CiString36)")
]


def _view(stored: StoredTariff) -> TariffView:
    return TariffView(
        tariff_id=stored.tariff.id,
        version=stored.version,
        effective_at=stored.effective_at,
        tariff=stored.tariff.model_dump(mode="json", exclude_none=True),
    )


@router.put(
    "/tariffs/<tariffId>",
    summary="Create a tariff, or make a new version of it",
    description=(
        "The body is an OCPI 2.2.1 Tariff object, verbatim (snake_case). `id` may be left out (it is the path's); "
        "`country_code` and `party_id` default to the network's; `last_updated` is set by the CSMS. Every PUT makes "
        "a new version, in force from now: a session is priced with the version in force when it started. A 400 "
        "names the OCPI path of each field at fault (`elements[0].price_components[1].type`)."
    ),
    tags=TAGS,
    responses=documented(
        200,
        "New version stored",
        400,
        extra={201: {"description": "Created", "content": {"application/json": {"model": TariffView}}}},
    ),
)
def put_tariff(tariff_id: TariffId, services: ServicesDependency, body: Annotated[dict[str, Any], Body()]) -> TariffView:
    if "id" in body and body["id"] != tariff_id:
        raise TariffRejected([FieldError("id", f"differs from the tariff id of the path ({tariff_id})")])
    now = services.clock.now()
    stored, created = services.tariffs.put(_as_stored(body, tariff_id, services.settings, now=now), now=now)
    logger.info("Tariff stored", extra={"tariff_id": tariff_id, "version": stored.version})
    return Response(  # type: ignore[return-value]
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
        content_type="application/json",
        body=_view(stored).model_dump(mode="json", by_alias=True),
    )


def _as_stored(body: dict[str, Any], tariff_id: str, settings: Settings, *, now: datetime) -> Tariff:
    """The Tariff a PUT's body makes: the network's OCPI identity unless the body names one, the path's id, `now`
    as last_updated whatever the body said."""
    ocpi = {
        "country_code": settings.ocpi_country_code,
        "party_id": settings.ocpi_party_id,
        **body,
        "id": tariff_id,
        "last_updated": now.isoformat(),
    }
    return parse_tariff(ocpi)


@router.post(
    "/tariffs/preview",
    summary="What a tariff would charge for a sample session",
    description=(
        "Prices `session` with `tariff` exactly as a CDR is priced (the same engine, rules and rounding), and stores "
        "nothing: the console's tariff editor calls it while the operator types. `tariff` is what PUT "
        "/tariffs/{tariffId} takes (`id` may be left out). The car charges `energyWh` evenly from `startDateTime` to "
        "`chargingEndDateTime` (default: the end), then is parked until `endDateTime`; the tariff's hours and days "
        "are read in `timeZone` (default UTC). 400 names the field at fault: `tariff.<OCPI path>` for the tariff "
        "(as PUT's 400 does), `body.session.<field>` for times out of order, a sample over 31 days or an unknown zone."
    ),
    tags=TAGS,
    responses=documented(200, "The cost breakdown", 400),
)
def preview_tariff(request: Annotated[TariffPreviewRequest, Body()], services: ServicesDependency) -> TariffPreview:
    sample = request.session
    zone = sample.time_zone or "UTC"
    if not is_iana_zone(zone):
        raise InvalidValue("body.session.timeZone", f"unknown time zone {zone!r}: an IANA name such as Europe/Paris")
    tariff_id = str(request.tariff.get("id") or "PREVIEW")
    try:
        tariff = _as_stored(request.tariff, tariff_id, services.settings, now=services.clock.now())
    except TariffRejected as rejected:  # named within the request's body: `tariff.currency`
        named = [FieldError(f"tariff.{error.path}" if error.path else "tariff", error.message) for error in rejected.errors]
        raise TariffRejected(named) from None
    try:
        consumption = sample_consumption(
            start=sample.start_date_time,
            end=sample.end_date_time,
            energy_wh=sample.energy_wh,
            charging_end=sample.charging_end_date_time,
        )
    except InvalidSample as invalid:
        raise InvalidValue(f"body.session.{invalid.field}", str(invalid)) from None
    priced = price_session(tariff, consumption, zone)
    return TariffPreview(time_zone=zone, priced=priced.model_dump(mode="json"))


@router.get("/tariffs/<tariffId>", summary="A tariff's current version", tags=TAGS, responses=documented(200, "The tariff", 404))
def get_tariff(tariff_id: TariffId, services: ServicesDependency) -> TariffView:
    stored = services.tariffs.get(tariff_id)
    if stored is None:
        raise ResourceNotFound(f"Unknown tariff {tariff_id}")
    return _view(stored)


@router.get(
    "/tariffs",
    summary="List tariffs (current versions)",
    description="Pages of at most `limit` tariffs in id order; follow `nextToken` until it is null.",
    tags=TAGS,
    responses=documented(200, "A page of tariffs", 400),
)
def list_tariffs(services: ServicesDependency, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None) -> TariffList:
    stored, next_key = services.tariffs.list_page(limit=limit, start_key=decode_token(next_token, TABLE_PAGE_KEY))
    return TariffList(items=[_view(item) for item in stored], next_token=encode_token(next_key))


@router.delete(
    "/tariffs/<tariffId>",
    summary="Remove a tariff",
    description="Refused (409) while a charge point or id tag names it. Sessions that started before keep their version.",
    tags=TAGS,
    responses=documented(204, "Removed", 404, 409, extra={204: {"description": "Removed", "content": {}}}),
)
def delete_tariff(tariff_id: TariffId, services: ServicesDependency) -> None:
    try:
        services.tariffs.delete(tariff_id, now=services.clock.now())
    except TariffNotFound:
        raise ResourceNotFound(f"Unknown tariff {tariff_id}") from None
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body="")  # type: ignore[return-value]


@router.get(
    "/charge-points/<chargePointId>/tariff",
    summary="What a driver would pay at this charge point now",
    description=(
        "The tariff a session starting now would be priced with: the id tag's (with `idTag`), else the charge "
        "point's, else the network's default; `tariff_alt_text` is the price as drivers read it. 404 when none applies."
    ),
    tags=["Charge points"],
    responses=documented(200, "The tariff that applies", 404),
)
def charge_point_tariff(
    charge_point_id: ChargePointId,
    services: ServicesDependency,
    id_tag: Annotated[str | None, Query(alias="idTag", min_length=1, max_length=20)] = None,
) -> TariffApplied:
    station = services.stations.get(charge_point_id)
    if station is None:
        raise StationNotFound(charge_point_id)
    record = services.id_tags.get(id_tag) if id_tag else None
    choice = choose_tariff(
        id_tag_tariff=record.tariff_id if record else None,
        station_tariff=station.tariff_id,
        default_tariff=services.settings.default_tariff_id,
    )
    stored = services.tariffs.get(choice.tariff_id) if choice else None
    if choice is None or stored is None:
        raise ResourceNotFound(f"No tariff applies at charge point {charge_point_id}")
    return TariffApplied(
        tariff=stored.tariff.model_dump(mode="json", exclude_none=True),
        applies_because=choice.because.value,
        version=stored.version,
        time_zone=station.time_zone or "UTC",
    )
