from __future__ import annotations

from typing import Any

import pytest

from csms.adapters.dynamodb.keys import station_key
from csms.domain.authorization import IdTagRecord


@pytest.fixture
def registered_station(services, table):
    from tests.integration.stations import Station  # loads the whole station path: only where it is used

    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True, "bootStatus": "Accepted"})
    return Station(services)


@pytest.fixture
def id_tags(services):
    def add(id_tag: str, status: str = "Accepted", **fields: Any) -> None:
        services.id_tags.register(IdTagRecord(id_tag=id_tag, status=status, **fields))

    return add
