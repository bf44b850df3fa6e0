"""The priced parts of an OCPI 2.2.1 CDR, and the credit CDR that cancels an issued one.

The CDR builder (elsewhere) adds id, session_id, cdr_token, auth_method, cdr_location, meter_id,
tariffs, signed_data and last_updated around `cdr_pricing`. Values are Decimals (mode="python"), so
the DynamoDB adapter can store them as numbers; `Number` fields write JSON numbers in mode="json".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .consumption import PricingNote
from .model import as_utc
from .pricing import SESSION_ONLY_DIMENSIONS, PricedSession

REMARK_LENGTH = 255  # mod_cdrs §CDR object: remark is string(255)

PRICE_TOTALS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)
VOLUME_TOTALS = ("total_energy", "total_time", "total_parking_time")


def cdr_pricing(priced: PricedSession) -> dict[str, Any]:
    """currency, start/end_date_time, charging_periods and every total of the CDR for a priced session.

    STATE_OF_CHARGE is left out of the CDR's periods: OCPI marks it "Session Only" and says such
    dimensions "SHALL therefor only be used in Sessions" (mod_cdrs §CdrDimensionType).
    `total_parking_time` and `total_parking_cost` are always present, 0 when there was no parking.
    """
    periods = []
    for period in priced.charging_periods:
        dimensions = [d for d in period.dimensions if d.type not in SESSION_ONLY_DIMENSIONS]
        periods.append(period.model_copy(update={"dimensions": dimensions}).model_dump(mode="python"))
    fields = priced.model_dump(
        mode="python",
        include={
            "currency",
            "start_date_time",
            "end_date_time",
            "total_cost",
            "total_fixed_cost",
            "total_energy",
            "total_energy_cost",
            "total_time",
            "total_time_cost",
            "total_parking_time",
            "total_parking_cost",
        },
    )
    fields["charging_periods"] = periods
    remark = cdr_remark(priced.notes)
    if remark:
        fields["remark"] = remark
    return fields


def cdr_remark(notes: list[PricingNote]) -> str | None:
    """The data notes (register reset, missing readings) as a CDR `remark`, within its 255 characters:
    one entry per kind of note, the first one's detail and how often it happened."""
    if not notes:
        return None
    kinds: dict[str, list[PricingNote]] = {}
    for note in notes:
        kinds.setdefault(note.code.value, []).append(note)
    entries = []
    for code, same in kinds.items():
        times = f" ({len(same)} times)" if len(same) > 1 else ""
        entries.append(f"{code}{times}: {same[0].detail}")
    text = "; ".join(entries)
    return text if len(text) <= REMARK_LENGTH else text[: REMARK_LENGTH - 1] + "…"


def credit_cdr(cdr: Mapping[str, Any], *, credit_id: str, last_updated: datetime) -> dict[str, Any]:
    """The credit CDR for an issued CDR (mod_cdrs §Credit CDRs): all the data of the original, a new id,
    `credit: true`, `credit_reference_id` = the original id, and every cost negated.

    Volumes (energy, time) stay as they were: the credit cancels the money, the session still happened.
    OCPI allows a credit CDR id up to 39 characters so a suffix can be appended to the original's 36.
    """
    if cdr.get("credit"):
        raise ValueError(f"CDR {cdr.get('id')} is itself a credit CDR: credit the CDR it credits instead")
    if not 0 < len(credit_id) <= 39:
        raise ValueError("a credit CDR id has 1 to 39 characters (mod_cdrs §CDR object)")
    if credit_id == cdr.get("id"):
        raise ValueError("a credit CDR needs an id of its own (mod_cdrs §Credit CDRs)")
    credit = dict(cdr)
    for name in PRICE_TOTALS:
        if credit.get(name) is not None:
            credit[name] = {key: _negated(value) for key, value in credit[name].items()}
    credit.update(
        id=credit_id,
        credit=True,
        credit_reference_id=cdr["id"],
        last_updated=as_utc(last_updated),
    )
    return credit


def _negated(value: Any) -> Any:
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return -number + 0  # + 0: a zero cost stays 0, not -0
