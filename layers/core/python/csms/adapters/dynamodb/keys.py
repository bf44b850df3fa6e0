"""Key formats of every item kind, in one place (the key schema itself is in schema.py)."""

from __future__ import annotations

from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY, STATION_INDEX
from csms.domain.authorization import normalize_id_tag

STATION_SK = "STATION"
ID_TAG_SK = "IDTAG"
TRANSACTION_SK = "TRANSACTION"


def key(pk: str, sk: str) -> dict[str, str]:
    return {PARTITION_KEY: pk, SORT_KEY: sk}


def station_pk(charge_point_id: str) -> str:
    return f"CP#{charge_point_id}"


def station_key(charge_point_id: str) -> dict[str, str]:
    return key(station_pk(charge_point_id), STATION_SK)


def id_tag_key(id_tag: str) -> dict[str, str]:
    return key(f"IDTAG#{normalize_id_tag(id_tag)}", ID_TAG_SK)


def transaction_pk(transaction_id: int) -> str:
    return f"TX#{transaction_id}"


def transaction_key(transaction_id: int) -> dict[str, str]:
    return key(transaction_pk(transaction_id), TRANSACTION_SK)


def transaction_counter_key() -> dict[str, str]:
    return key("COUNTER", "TRANSACTION")


def transaction_start_key(charge_point_id: str, fingerprint: str) -> dict[str, str]:
    return key(station_pk(charge_point_id), f"START#{fingerprint}")


def station_index_keys(charge_point_id: str, sort_key: str) -> dict[str, str]:
    return {STATION_INDEX.partition_key: station_pk(charge_point_id), STATION_INDEX.sort_key: sort_key}
