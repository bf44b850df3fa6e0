"""Which tariff applies to a session: the id tag's (subscribers, staff) over the station's over the network's
default (issue 9 §2). Pure: the callers read the records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AppliesBecause(StrEnum):
    ID_TAG = "idTag"
    STATION = "station"
    DEFAULT = "default"


@dataclass(frozen=True)
class TariffChoice:
    tariff_id: str
    because: AppliesBecause


def choose_tariff(*, id_tag_tariff: str | None, station_tariff: str | None, default_tariff: str | None) -> TariffChoice | None:
    for tariff_id, because in (
        (id_tag_tariff, AppliesBecause.ID_TAG),
        (station_tariff, AppliesBecause.STATION),
        (default_tariff, AppliesBecause.DEFAULT),
    ):
        if tariff_id:
            return TariffChoice(tariff_id, because)
    return None
