"""A stopped transaction and what its station reported become an OCPI 2.2.1 CDR (mod_cdrs §CDR object). Pure.

Times are the station's (StartTransaction, StopTransaction, meter values), evaluated in the station's time
zone. Energy comes from meterStart, every Energy.Active.Import.Register reading (Wh, kWh converted) and
meterStop; the pricing engine handles resets and gaps and says so in `remark`.

Parking time (OCPI mod_cdrs §CdrDimensionType: the vehicle no longer requests power) starts when the station
reports the car not charging (SuspendedEV, Finishing: the statuses StatusNotification recorded on the
transaction while it ran) or when the register stops moving between two readings, whichever the station sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from csms.domain.clock import from_iso
from csms.domain.metering import DEFAULT_MEASURAND, SIGNED_DATA, RecordedMeterValue
from csms.domain.tariffs.cdr import cdr_pricing
from csms.domain.tariffs.consumption import EnergyReading, Sample, SessionConsumption, StatusChange
from csms.domain.tariffs.model import Tariff, as_utc
from csms.domain.tariffs.pricing import price_session
from csms.domain.transactions import Transaction

_CDR_IDS = uuid.UUID("0b5f3c1e-6a7d-4c2b-9e51-2f8d4a6c9b73")
_KW_PER = {"W": Decimal("0.001"), "kW": Decimal(1)}
# OCPP 1.6 §7.31 ReadingContext -> OCPI SignedValue.nature ("Start", "End", "Intermediate")
_NATURE = {"Transaction.Begin": "Start", "Transaction.End": "End"}


def cdr_id(transaction: Transaction) -> str:
    """The same transaction always gives the same CDR id (UUID v5 of station, transaction and the instant the
    CSMS accepted its start: transaction ids wrap around), so a re-run of the hand-off finds the CDR it made."""
    created = transaction.created_at.isoformat() if transaction.created_at else transaction.start.started_at.isoformat()
    return str(uuid.uuid5(_CDR_IDS, f"{transaction.charge_point_id}|{transaction.transaction_id}|{created}"))


def corrected_cdr_id(original_id: str) -> str:
    """The CDR that corrects `original_id`: always the same one, so a repeated correction finds it."""
    return str(uuid.uuid5(_CDR_IDS, f"correction|{original_id}"))


def credit_cdr_id(original_id: str) -> str:
    """The credit CDR of `original_id` (OCPI allows 39 characters: the original's 36 and a suffix)."""
    return f"{original_id}-CR"


def session_consumption(transaction: Transaction, meter_values: Sequence[RecordedMeterValue]) -> SessionConsumption:
    """What the pricing engine reads: register readings in Wh, the connector's statuses during the session (when
    the car stopped charging), power and state-of-charge samples."""
    if transaction.stop is None:
        raise ValueError(f"transaction {transaction.transaction_id} has not stopped: no CDR yet")
    start, stop = transaction.start, transaction.stop
    energy = [EnergyReading(timestamp=start.started_at, value=Decimal(start.meter_start))]
    power: list[Sample] = []
    soc: list[Sample] = []
    for meter_value in meter_values:
        at = from_iso(meter_value.timestamp)
        for sampled in meter_value.sampled_value:
            measurand = sampled.get("measurand") or DEFAULT_MEASURAND
            if sampled.get("format") == SIGNED_DATA:
                continue
            if measurand == DEFAULT_MEASURAND and not sampled.get("phase") and sampled.get("energyWh") is not None:
                energy.append(EnergyReading(timestamp=at, value=Decimal(str(sampled["energyWh"]))))
            elif measurand == "Power.Active.Import" and not sampled.get("phase"):
                kw = _number(sampled.get("value"), _KW_PER.get(sampled.get("unit") or "W"))
                if kw is not None:
                    power.append(Sample(timestamp=at, value=kw))
            elif measurand == "SoC":
                percent = _number(sampled.get("value"), Decimal(1))
                if percent is not None:
                    soc.append(Sample(timestamp=at, value=percent))
    energy.append(EnergyReading(timestamp=stop.stopped_at, value=Decimal(stop.meter_stop)))
    statuses = [StatusChange(timestamp=report.at, status=report.status) for report in transaction.statuses]
    return SessionConsumption(
        start=start.started_at, end=stop.stopped_at, energy=energy, statuses=statuses, power_kw=power, state_of_charge=soc
    )


def _number(value: Any, factor: Decimal | None) -> Decimal | None:
    if factor is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number * factor if number.is_finite() else None


def signed_data(meter_values: Sequence[RecordedMeterValue]) -> dict[str, Any] | None:
    """OCPI SignedData with every `format=SignedData` value kept verbatim (OCMF or whatever the meter signs),
    in the order sent; None when the station signed nothing."""
    values = [
        (meter_value, sampled)
        for meter_value in meter_values
        for sampled in meter_value.sampled_value
        if sampled.get("format") == SIGNED_DATA
    ]
    if not values:
        return None
    blobs = [str(sampled.get("value", "")) for _, sampled in values]
    return {
        "encoding_method": "OCMF" if all(blob.startswith("OCMF|") for blob in blobs) else "OCPP 1.6 SignedData",
        "signed_values": [
            {
                "nature": _NATURE.get(sampled.get("context", ""), "Intermediate"),
                "plain_data": f"{sampled.get('measurand') or DEFAULT_MEASURAND} at {meter_value.timestamp}",
                "signed_data": blob,
            }
            for (meter_value, sampled), blob in zip(values, blobs, strict=True)
        ],
    }


def build_cdr(
    *,
    transaction: Transaction,
    meter_values: Sequence[RecordedMeterValue],
    tariff: Tariff,
    time_zone: str,
    country_code: str,
    party_id: str,
    now: datetime,
    replacing: str | None = None,
) -> dict[str, Any]:
    """The OCPI 2.2.1 CDR of a stopped transaction priced with `tariff` (the version in force at its start).
    `replacing`: the id of the CDR this one corrects (it gets an id of its own, derived from that one).
    Values are Python values (Decimals, UTC datetimes): the adapter stores them, the API writes JSON."""
    priced = price_session(tariff, session_consumption(transaction, meter_values), time_zone)
    start = transaction.start
    cdr: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": corrected_cdr_id(replacing) if replacing else cdr_id(transaction),
        "session_id": str(transaction.transaction_id),
        "cdr_token": {
            "country_code": country_code,
            "party_id": party_id,
            "uid": start.id_tag,
            "type": "RFID",  # OCPP 1.6 carries every identification as an idTag; RFID is OCPI's nearest type
            "contract_id": start.id_tag,
        },
        # The CSMS authorized the idTag itself (its own list or a station's local list of it): AUTH_REQUEST.
        "auth_method": "AUTH_REQUEST",
        "cdr_location": {
            "id": transaction.charge_point_id,
            "country": country_code,
            "evse_uid": f"{transaction.charge_point_id}-{start.connector_id}",
            "evse_id": f"{transaction.charge_point_id}-{start.connector_id}",
            "connector_id": str(start.connector_id),
            # address, city, coordinates and the connector's standard/format/power type are not known to the
            # CSMS (stations carry no location data yet): left out rather than made up.
        },
        "meter_id": transaction.charge_point_id,
        "tariffs": [tariff.model_dump(mode="python", exclude_none=True)],
        **cdr_pricing(priced),
        "last_updated": as_utc(now),
    }
    signed = signed_data(meter_values)
    if signed is not None:
        cdr["signed_data"] = signed
    return cdr
