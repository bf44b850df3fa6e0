"""Meter readings: every sampled value kept as sent, energy normalised to Wh (OCPP 1.6 §7.31, §7.45)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_MEASURAND = "Energy.Active.Import.Register"  # §7.31: measurand is optional, this is its default
DEFAULT_UNIT = "Wh"  # §7.45: unit is optional, Wh is its default
SIGNED_DATA = "SignedData"

_WH_PER_UNIT = {"Wh": Decimal(1), "kWh": Decimal(1000)}
MAX_ENERGY_WH = Decimal("1e15")
"""A terawatt-hour register is beyond any charger: a larger reading is no energy reading (e.g. "1e400")."""
WH_RESOLUTION = Decimal("0.001")
"""Energy is kept to the milliwatt-hour; a reading such as "1e-200" Wh is 0 Wh, as any meter would show."""
_ENERGY_PREFIX = "Energy."


def energy_wh(sampled_value: dict[str, Any]) -> Decimal | None:
    """The value in Wh if this sampled value is an energy reading in Wh or kWh, else None.

    Stations configured in kWh are common; whatever unit they use, the CSMS computes in Wh.
    Signed data carries an opaque blob in `value`: no number to read.
    """
    if sampled_value.get("format") == SIGNED_DATA:
        return None
    measurand = sampled_value.get("measurand") or DEFAULT_MEASURAND
    factor = _WH_PER_UNIT.get(sampled_value.get("unit") or DEFAULT_UNIT)
    if not measurand.startswith(_ENERGY_PREFIX) or factor is None:
        return None
    try:
        number = Decimal(str(sampled_value["value"]).strip())
    except (InvalidOperation, KeyError):
        return None
    if not number.is_finite() or abs(number) * factor >= MAX_ENERGY_WH:
        return None
    return (number * factor).quantize(WH_RESOLUTION) + 0  # + 0: no negative zero


def import_register_wh(sampled_values: list[dict[str, Any]]) -> Decimal | None:
    """The Energy.Active.Import.Register total (all phases) of one meter value, in Wh, if present."""
    for sampled in sampled_values:
        measurand = sampled.get("measurand") or DEFAULT_MEASURAND
        if measurand == DEFAULT_MEASURAND and not sampled.get("phase"):
            reading = energy_wh(sampled)
            if reading is not None:
                return reading
    return None


def current_import_a(sampled_values: list[dict[str, Any]]) -> Decimal | None:
    """The highest phase's Current.Import (A) of one meter value, if it carries any: per phase, like the limits of a
    site (a value without a phase is the station's per-phase figure). Phase-to-neutral and neutral readings
    (`N`) are not a phase's draw."""
    readings = []
    for sampled in sampled_values:
        if sampled.get("measurand") != "Current.Import" or sampled.get("format") == SIGNED_DATA:
            continue
        if sampled.get("phase") == "N" or (sampled.get("unit") or "A") != "A":
            continue
        try:
            amperes = Decimal(str(sampled["value"]).strip())
        except (InvalidOperation, KeyError):
            continue
        if amperes.is_finite() and amperes >= 0:
            readings.append(amperes)
    return max(readings) if readings else None


@dataclass(frozen=True, kw_only=True)
class RecordedMeterValue:
    """One MeterValue of a transaction as the station sent it, each energy reading also given in Wh (`energyWh`)."""

    timestamp: str
    """As the station sent it."""
    connector_id: int
    sampled_value: list[dict[str, Any]]


SOC_MEASURAND = "SoC"
_SOC_UNIT = "Percent"
_SOC_LOCATION = "EV"


def state_of_charge(sampled_values: list[dict[str, Any]]) -> Decimal | None:
    """The vehicle's state of charge in percent (0 to 100) of one meter value, if present.

    It arrives as measurand `SoC`, unit `Percent`, location `EV` (§7.31, §7.45; in practice only from DC
    chargers): a value naming another unit or location is not the battery's, and none outside 0-100 is."""
    for sampled in sampled_values:
        if sampled.get("measurand") != SOC_MEASURAND or sampled.get("format") == SIGNED_DATA:
            continue
        if (sampled.get("unit") or _SOC_UNIT) != _SOC_UNIT or (sampled.get("location") or _SOC_LOCATION) != _SOC_LOCATION:
            continue
        try:
            percent = Decimal(str(sampled["value"]).strip())
        except (InvalidOperation, KeyError):
            continue
        if percent.is_finite() and 0 <= percent <= 100:
            return percent + 0  # no negative zero
    return None
