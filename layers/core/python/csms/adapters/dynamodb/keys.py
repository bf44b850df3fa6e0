"""Every item kind of the CSMS table and its key format, in one place (the key schema itself is in schema.py).

| item                   | pk              | sk                                          | byStation index (gsi1)             |
|------------------------|-----------------|---------------------------------------------|------------------------------------|
| station                | `CP#{station}`  | `STATION`                                   |                                    |
| configuration snapshot | `CP#{station}`  | `CONFIG`                                    |                                    |
| installed profile      | `CP#{station}`  | `PROFILE#{connectorId}#{chargingProfileId}` |                                    |
| outbox entry           | `CP#{station}`  | `OUTBOX#{created}#{position}#{commandId}`   |                                    |
| start record           | `CP#{station}`  | `START#{fingerprint}`                       |                                    |
| unmatched stop         | `CP#{station}`  | `STOP#{transactionId}#{timestamp}`          |                                    |
| connector meter value  | `CP#{station}`  | `MV#{connectorId}#{timestamp}#{digest}`     |                                    |
| security event         | `CP#{station}`  | `SECURITY#{timestamp}#{type}`               |                                    |
| signing request        | `CP#{station}`  | `CSR#{received}`                            |                                    |
| id tag                 | `IDTAG#{IDTAG}` | `IDTAG`                                     |                                    |
| transaction            | `TX#{id}`       | `TRANSACTION`                               | `CP#{station}`, `TX#{started}#{id}`  |
| transaction meter value| `TX#{id}`       | `MV#{timestamp}#{connectorId}#{digest}`     |                                    |
| command                | `CMD#{id}`      | `COMMAND`                                   | `CP#{station}`, `CMD#{created}#{id}` |
| reservation            | `RES#{id}`      | `RESERVATION`                               | `CP#{station}`, `RES#{created}#{id}` |
| app session            | `SESSION#{id}`  | `SESSION`                                   | `CP#{station}`, `SESSION#{req}#{id}` |
| transaction id counter | `COUNTER`       | `TRANSACTION`                               |                                    |
| reservation id counter | `COUNTER`       | `RESERVATION`                               |                                    |
| tariff (current)       | `TARIFFS`       | `TARIFF#{tariffId}`                         |                                    |
| tariff version         | `TARIFF#{id}`   | `V#{effectiveAt}#{version:08d}`             |                                    |
| CDR                    | `CDR#{cdrId}`   | `CDR`                                       | `CDRS`, `{end}#{cdrId}`            |
| site                   | `SITE#{siteId}` | `SITE`                                      |                                    |
| site's load control    | `SITE#{siteId}` | `ALLOCATION`                                |                                    |
| the network's counts   | `NETWORK`       | `COUNTS`                                    |                                    |
| event to put           | its subject's   | `EVENT#{eventId}`                           |                                    |
| workflow to start      | its subject's   | `RUN#{executionName}`                       |                                    |
| load control to run    | `SITE#{siteId}` | `ALLOC#{cause}`                             |                                    |

An event to put and a workflow to start live in the partition of what they are about (`TX#{id}`, ...), so the
write that changes the subject can create them in the same transaction (follow_ups.py).

The operator's listings and the gauges read two sparse, keys-only indexes instead of scanning the table
(a Scan reads every meter value too, and the stack grants none):

| item        | byKind index: kind, kindKey                       | live index: liveShard, liveKey (only while live)  |
|-------------|---------------------------------------------------|---------------------------------------------------|
| station     | `STATION`, `{station}`                            | `CONNECTED#{crc32(station) % 16}`, `{station}`    |
|             |                                                   |   (`#CHARGING`, `#FAULTED` after it, see below)   |
|             |                                                   |   while it has a connection                       |
| id tag      | `IDTAG`, `{IDTAG}`                                |                                                   |
| site        | `SITE`, `{siteId}`                                |                                                   |
| transaction | `TX#{yyyy-mm of createdAt}`, `{createdAt}#{id:010d}` | `ACTIVE#{id % 16}`, `{id:010d}` until its stop |
| reservation | `RES#{IDTAG}`, `{createdAt}#{id:010d}`               | `RESERVED#{id % 16}`, `{id:010d}` while it is live |
| app session | `SESSION#{IDTAG}`, `{requestedAt}#{sessionId}`    |                                                   |

- byKind is written only when an item is created (registration, first connection or boot, StartTransaction):
  its key attributes never change afterwards, and a keys-only index is not written by an update that leaves
  its keys alone, so heartbeats, status notifications and tag claims cost it nothing. A listing Queries it
  for keys and reads the items with BatchGetItem (two requests per page).
- Transactions are bucketed by the month the CSMS recorded them (its own clock, not the station's, which
  may be years off): a listing walks the months newest first, from now back to the counter's `firstMonth`,
  so each index partition holds one month and the walk knows where to end. Every start of a month writes
  the same index partition: about a thousand starts a second before it throttles, far beyond any network.
- Reservations are listed by station (byStation), by driver (byKind: one partition per idTag, so a driver's app
  reads only its own) and, network-wide, the live ones (live: those still to happen); an ended reservation of
  the whole network is not listed without naming a station or an idTag (that would be a Scan).
- live is where the counts come from (the gauges function Queries each shard with Select=COUNT) and where
  `GET /transactions?active=true` reads the active ones: set by the connection's or the start's write,
  removed by the disconnect's or the stop's, sharded so that reconnect storms and busy hours spread over
  sixteen index partitions. No item is written by every start of the network (the `STATS` counter was).
- A connected station's live key also says what the network's counts count of it (`GET /network/counts`): its id,
  then `#CHARGING` while a connector is Charging and `#FAULTED` while one is faulted or reports an error (station
  ids hold no `#`). A status or a connection changes what the key should be, but the write that records it does
  not know the station's other connectors; it returns the item as it was, and only when the key must change a
  second write sets it, guarded by `liveVersion` (bumped by each of those writes) so that a later change always
  wins (stations.py). A disconnect removes the key whatever it held. Counting reads each shard once: the
  Query's ScannedCount is the connected stations, its filter (`#` in the key) returns only the flagged ones
  (station_counts.py).

`{req}`: the session's requestedAt. Times in keys are `to_iso` (fixed width, so text order is time order). Each
repository module draws the attributes of its items; only the adapters know keys and attribute names.
"""

from __future__ import annotations

import zlib

from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX, LIVE_SHARDS, PARTITION_KEY, SORT_KEY, STATION_INDEX
from csms.domain.authorization import normalize_id_tag

STATION_SK = "STATION"
CONFIG_SK = "CONFIG"
ID_TAG_SK = "IDTAG"
TRANSACTION_SK = "TRANSACTION"
COMMAND_SK = "COMMAND"
RESERVATION_SK = "RESERVATION"
SESSION_SK = "SESSION"

PROFILE_PREFIX = "PROFILE#"
OUTBOX_PREFIX = "OUTBOX#"
METER_VALUE_PREFIX = "MV#"
TRANSACTION_PREFIX = "TX#"
STATION_PREFIX = "CP#"
UNMATCHED_STOP_PREFIX = "STOP#"
COMMAND_PREFIX = "CMD#"
RESERVATION_PREFIX = "RES#"
SESSION_PREFIX = "SESSION#"
TARIFFS_PK = "TARIFFS"
TARIFF_PREFIX = "TARIFF#"
TARIFF_VERSION_PREFIX = "V#"
CDR_SK = "CDR"
CDR_PREFIX = "CDR#"
SITE_SK = "SITE"
SITE_PREFIX = "SITE#"
EVENT_PREFIX = "EVENT#"
WORKFLOW_START_PREFIX = "RUN#"
LOAD_CONTROL_RUN_PREFIX = "ALLOC#"
ALLOCATION_SK = "ALLOCATION"

STATION_KIND = "STATION"
ID_TAG_KIND = "IDTAG"
SITE_KIND = "SITE"
CONNECTED_PREFIX = "CONNECTED#"
ACTIVE_PREFIX = "ACTIVE#"
RESERVED_PREFIX = "RESERVED#"
CHARGING_FLAG = "CHARGING"
FAULTED_FLAG = "FAULTED"
LIVE_FLAG_SEPARATOR = "#"
NETWORK_PK = "NETWORK"
NETWORK_COUNTS_SK = "COUNTS"

Key = dict[str, str]


def key(pk: str, sk: str) -> Key:
    return {PARTITION_KEY: pk, SORT_KEY: sk}


# --- a station's partition ---------------------------------------------------------------------------


def station_pk(charge_point_id: str) -> str:
    return f"{STATION_PREFIX}{charge_point_id}"


def station_key(charge_point_id: str) -> Key:
    return key(station_pk(charge_point_id), STATION_SK)


def configuration_key(charge_point_id: str) -> Key:
    return key(station_pk(charge_point_id), CONFIG_SK)


def profile_key(charge_point_id: str, connector_id: int, charging_profile_id: int) -> Key:
    return key(station_pk(charge_point_id), f"{PROFILE_PREFIX}{connector_id}#{charging_profile_id}")


def outbox_key(charge_point_id: str, position: str) -> Key:
    return key(station_pk(charge_point_id), position)


def outbox_position(created: str, position_in_batch: int, command_id: str) -> str:
    """The outbox entry's sort key: queued order, then order within one request (a split SendLocalList)."""
    return f"{OUTBOX_PREFIX}{created}#{position_in_batch:04d}#{command_id}"


def transaction_start_key(charge_point_id: str, fingerprint: str) -> Key:
    return key(station_pk(charge_point_id), f"START#{fingerprint}")


def unmatched_stop_key(charge_point_id: str, transaction_id: int, timestamp: str) -> Key:
    return key(station_pk(charge_point_id), f"{UNMATCHED_STOP_PREFIX}{transaction_id}#{timestamp}")


def connector_meter_value_key(charge_point_id: str, connector_id: int, timestamp: str, digest: str) -> Key:
    return key(station_pk(charge_point_id), f"{METER_VALUE_PREFIX}{connector_id}#{timestamp}#{digest}")


def security_event_key(charge_point_id: str, timestamp: str, event_type: str) -> Key:
    return key(station_pk(charge_point_id), f"SECURITY#{timestamp}#{event_type}")


def signing_request_key(charge_point_id: str, received: str) -> Key:
    return key(station_pk(charge_point_id), f"CSR#{received}")


# --- id tags, transactions, commands, counters ------------------------------------------------------


def id_tag_key(id_tag: str) -> Key:
    return key(f"IDTAG#{normalize_id_tag(id_tag)}", ID_TAG_SK)


def transaction_pk(transaction_id: int) -> str:
    return f"{TRANSACTION_PREFIX}{transaction_id}"


def transaction_key(transaction_id: int) -> Key:
    return key(transaction_pk(transaction_id), TRANSACTION_SK)


def transaction_meter_value_key(transaction_id: int, timestamp: str, connector_id: int, digest: str) -> Key:
    return key(transaction_pk(transaction_id), f"{METER_VALUE_PREFIX}{timestamp}#{connector_id}#{digest}")


def transaction_index_keys(charge_point_id: str, started: str, transaction_id: int) -> Key:
    return station_index_keys(charge_point_id, f"{TRANSACTION_PREFIX}{started}#{transaction_id:010d}")


def command_key(command_id: str) -> Key:
    return key(f"{COMMAND_PREFIX}{command_id}", COMMAND_SK)


def command_index_keys(charge_point_id: str, created: str, command_id: str) -> Key:
    return station_index_keys(charge_point_id, f"{COMMAND_PREFIX}{created}#{command_id}")


def session_key(session_id: str) -> Key:
    return key(f"{SESSION_PREFIX}{session_id}", SESSION_SK)


def session_index_keys(charge_point_id: str, requested: str, session_id: str) -> Key:
    return station_index_keys(charge_point_id, f"{SESSION_PREFIX}{requested}#{session_id}")


def transaction_counter_key() -> Key:
    return key("COUNTER", TRANSACTION_SK)


def reservation_pk(reservation_id: int) -> str:
    return f"{RESERVATION_PREFIX}{reservation_id}"


def reservation_key(reservation_id: int) -> Key:
    return key(reservation_pk(reservation_id), RESERVATION_SK)


def reservation_index_keys(charge_point_id: str, created: str, reservation_id: int) -> Key:
    return station_index_keys(charge_point_id, f"{RESERVATION_PREFIX}{created}#{reservation_id:010d}")


def reservation_counter_key() -> Key:
    return key("COUNTER", RESERVATION_SK)


# --- tariffs and charge detail records -------------------------------------------------------------


def tariff_key(tariff_id: str) -> Key:
    return key(TARIFFS_PK, f"{TARIFF_PREFIX}{tariff_id}")


def tariff_versions_pk(tariff_id: str) -> str:
    return f"{TARIFF_PREFIX}{tariff_id}"


def tariff_version_key(tariff_id: str, effective_at: str, version: int) -> Key:
    return key(tariff_versions_pk(tariff_id), f"{TARIFF_VERSION_PREFIX}{effective_at}#{version:08d}")


def cdr_key(cdr_id: str) -> Key:
    return key(f"{CDR_PREFIX}{cdr_id}", CDR_SK)


CDRS_INDEX_PK = "CDRS"


def cdr_index_keys(ended: str, cdr_id: str) -> Key:
    """Every CDR in one byStation-index partition, in end_date_time order (see cdrs.py for why one)."""
    return {STATION_INDEX.partition_key: CDRS_INDEX_PK, STATION_INDEX.sort_key: f"{ended}#{cdr_id}"}


def station_index_keys(charge_point_id: str, sort_key: str) -> Key:
    return {STATION_INDEX.partition_key: station_pk(charge_point_id), STATION_INDEX.sort_key: sort_key}


# --- sites (sites.py) -----------------------------------------------------------------------------------


def site_key(site_id: str) -> Key:
    return key(site_pk(site_id), SITE_SK)


def site_pk(site_id: str) -> str:
    return f"{SITE_PREFIX}{site_id}"


def site_allocation_key(site_id: str) -> Key:
    return key(site_pk(site_id), ALLOCATION_SK)


def load_control_run_key(site_id: str, cause: str) -> Key:
    """In the site's partition: the stream hands a site's records to one invocation at a time, in order."""
    return key(site_pk(site_id), f"{LOAD_CONTROL_RUN_PREFIX}{cause}")


def site_kind_keys(site_id: str) -> Key:
    return kind_keys(SITE_KIND, site_id)


# --- the sparse indexes (byKind, live) -----------------------------------------------------------------


def kind_keys(kind: str, kind_key: str) -> Key:
    return {KIND_INDEX.partition_key: kind, KIND_INDEX.sort_key: kind_key}


def station_kind_keys(charge_point_id: str) -> Key:
    return kind_keys(STATION_KIND, charge_point_id)


def id_tag_kind_keys(id_tag: str) -> Key:
    return kind_keys(ID_TAG_KIND, normalize_id_tag(id_tag))


def id_tag_sessions_kind(id_tag: str) -> str:
    """The byKind partition of a driver's app sessions (what the driver's app lists)."""
    return f"{SESSION_PREFIX}{normalize_id_tag(id_tag)}"


def session_kind_keys(id_tag: str, requested: str, session_id: str) -> Key:
    return kind_keys(id_tag_sessions_kind(id_tag), f"{requested}#{session_id}")


def transaction_month_kind(month: str) -> str:
    """The byKind partition of the transactions the CSMS recorded in `month` (`yyyy-mm`)."""
    return f"{TRANSACTION_PREFIX}{month}"


def transaction_kind_keys(created: str, transaction_id: int) -> Key:
    return kind_keys(transaction_month_kind(created[:7]), f"{created}#{transaction_id:010d}")


def id_tag_reservations_kind(id_tag: str) -> str:
    """The byKind partition of one driver's reservations."""
    return f"{RESERVATION_PREFIX}{normalize_id_tag(id_tag)}"


def reservation_kind_keys(id_tag: str, created: str, reservation_id: int) -> Key:
    return kind_keys(id_tag_reservations_kind(id_tag), f"{created}#{reservation_id:010d}")


def live_keys(shard: str, live_key: str) -> Key:
    return {LIVE_INDEX.partition_key: shard, LIVE_INDEX.sort_key: live_key}


def connected_shards() -> list[str]:
    return [f"{CONNECTED_PREFIX}{shard}" for shard in range(LIVE_SHARDS)]


def active_shards() -> list[str]:
    return [f"{ACTIVE_PREFIX}{shard}" for shard in range(LIVE_SHARDS)]


def reserved_shards() -> list[str]:
    return [f"{RESERVED_PREFIX}{shard}" for shard in range(LIVE_SHARDS)]


def connected_station_keys(charge_point_id: str, *, charging: bool = False, faulted: bool = False) -> Key:
    """A stable shard per station (crc32: the same in every process, unlike `hash`); the sort key flags what the
    network's counts count of the station."""
    flags = [flag for flag, raised in ((CHARGING_FLAG, charging), (FAULTED_FLAG, faulted)) if raised]
    shard = connected_shards()[zlib.crc32(charge_point_id.encode()) % LIVE_SHARDS]
    return live_keys(shard, LIVE_FLAG_SEPARATOR.join([charge_point_id, *flags]))


def connected_station_flags(live_key: str) -> frozenset[str]:
    """The flags of a connected station's live key (`CHARGING_FLAG`, `FAULTED_FLAG`)."""
    return frozenset(live_key.split(LIVE_FLAG_SEPARATOR)[1:])


def active_transaction_keys(transaction_id: int) -> Key:
    return live_keys(active_shards()[transaction_id % LIVE_SHARDS], f"{transaction_id:010d}")


def live_reservation_keys(reservation_id: int) -> Key:
    return live_keys(reserved_shards()[reservation_id % LIVE_SHARDS], f"{reservation_id:010d}")


# --- the network's counts (station_counts.py) ------------------------------------------------------------


def network_counts_key() -> Key:
    return key(NETWORK_PK, NETWORK_COUNTS_SK)


# --- follow-ups: an event to put, a workflow to start (follow_ups.py) -------------------------------


def event_to_put_key(subject_pk: str, event_id: str) -> Key:
    return key(subject_pk, f"{EVENT_PREFIX}{event_id}")


def workflow_start_key(subject_pk: str, execution_name: str) -> Key:
    return key(subject_pk, f"{WORKFLOW_START_PREFIX}{execution_name}")
