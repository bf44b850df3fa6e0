"""local.state: the table and the open connections survive a restart, a kill loses at most the last save."""

from __future__ import annotations

import asyncio
import json
import queue
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary

from local.aws import emulated_aws
from local.events import ConnectionFacts
from local.runtime import LocalConfig, LocalRuntime
from local.state import JOURNAL, SNAPSHOT, LocalState, StateDirectoryBusy, compact, state_directory

TABLE = "csms-test"

EVERY_TYPE = {
    "pk": "CP#1",
    "sk": "STATION",
    "text": "héllo",
    "whole": 13000,
    "precise": Decimal("0.1000000000000000000000000000000000001"),
    "negative": Decimal("-1.5E+20"),
    "flag": True,
    "nothing": None,
    "blob": Binary(b"\x00\xffsigned meter value"),
    "names": {"a", "b"},
    "numbers": {Decimal("1"), Decimal("2.5")},
    "blobs": {Binary(b"\x01"), Binary(b"\x02")},
    "nested": {"connector_1": {"status": "Charging", "reportedAt": "2026-11-24T10:00:00Z", "sampled": [{"v": Decimal("11.5")}, "x", []]}},
    "empty": {},
}


def table() -> Any:
    return boto3.resource("dynamodb").Table(TABLE)


class Ticks:
    """The saver's wait, driven by the test: each `tick()` lets one save happen, and returns once it did."""

    def __init__(self) -> None:
        self._go: queue.Queue[bool] = queue.Queue()
        self._done: queue.Queue[None] = queue.Queue()
        self.intervals: list[float] = []
        self._waiting = False

    def wait(self, seconds: float) -> bool:
        if self._waiting:
            self._done.put(None)  # the save after the previous tick is complete
        self._waiting = True
        self.intervals.append(seconds)
        return self._go.get()

    def tick(self) -> None:
        self._go.put(False)
        self._done.get(timeout=10)

    def stop(self) -> None:
        self._go.put(True)


def test_every_attribute_type_round_trips_exactly(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path):
        table().put_item(Item=EVERY_TYPE)
        table().put_item(Item={"pk": "CP#2", "sk": "STATION"})
        table().delete_item(Key={"pk": "CP#2", "sk": "STATION"})
    with emulated_aws(TABLE), LocalState(tmp_path) as state:
        assert table().get_item(Key={"pk": "CP#1", "sk": "STATION"})["Item"] == EVERY_TYPE
        assert "Item" not in table().get_item(Key={"pk": "CP#2", "sk": "STATION"})
        assert state.loaded_items == 1


def test_a_killed_process_keeps_what_the_last_save_wrote_and_only_that(tmp_path):
    ticks = Ticks()
    killed = tmp_path / "at-the-kill"
    with emulated_aws(TABLE), LocalState(tmp_path / "state", wait=ticks.wait) as state:
        table().put_item(Item={"pk": "TX#1", "sk": "TRANSACTION", "meterStart": 10_000})
        ticks.tick()
        table().update_item(Key={"pk": "TX#1", "sk": "TRANSACTION"}, UpdateExpression="SET meterStop = :w", ExpressionAttributeValues={":w": 13_000})
        shutil.copytree(tmp_path / "state", killed)  # what is on disk when the process is killed here
        ticks.stop()
    assert ticks.intervals[0] == state.interval_seconds <= 5
    with emulated_aws(TABLE), LocalState(killed):
        assert table().get_item(Key={"pk": "TX#1", "sk": "TRANSACTION"})["Item"] == {"pk": "TX#1", "sk": "TRANSACTION", "meterStart": 10_000}
    with emulated_aws(TABLE), LocalState(tmp_path / "state"):  # the clean stop saved the rest
        assert table().get_item(Key={"pk": "TX#1", "sk": "TRANSACTION"})["Item"]["meterStop"] == 13_000


def test_a_save_torn_by_a_kill_is_dropped_whole(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path):
        table().put_item(Item={"pk": "A", "sk": "1"})
    (segment,) = (tmp_path / JOURNAL).glob("*.jsonl")
    line = json.dumps({"items": [{"t": TABLE, "k": {"pk": {"S": "B"}, "sk": {"S": "1"}}, "i": {"pk": {"S": "B"}, "sk": {"S": "1"}}}], "opened": {}, "closed": []})
    with segment.open("a") as file:
        file.write(line[: len(line) // 2])
    with emulated_aws(TABLE), LocalState(tmp_path):
        assert "Item" in table().get_item(Key={"pk": "A", "sk": "1"})
        assert "Item" not in table().get_item(Key={"pk": "B", "sk": "1"})


def test_fresh_starts_empty(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path):
        table().put_item(Item={"pk": "A", "sk": "1"})
    with emulated_aws(TABLE), LocalState(tmp_path, fresh=True):
        assert table().scan()["Items"] == []
    with emulated_aws(TABLE), LocalState(tmp_path):  # and stays so
        assert table().scan()["Items"] == []


def test_the_directory_and_fresh_come_from_the_environment():
    assert state_directory({}) == (Path(".csms/state"), False)
    assert state_directory({"CSMS_STATE_DIR": "/var/lib/csms", "CSMS_FRESH": "1"}) == (Path("/var/lib/csms"), True)
    assert state_directory({"CSMS_FRESH": "0"})[1] is False


def test_two_runtimes_never_share_a_directory(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path):
        with pytest.raises(StateDirectoryBusy):
            LocalState(tmp_path).open()


def test_the_journal_is_compacted_into_the_snapshot(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path, compact_after_bytes=1, segment_bytes=1) as state:
        for n in range(5):
            table().put_item(Item={"pk": f"A{n}", "sk": "1", "n": n})
            state.save()  # each save seals its journal file and starts a compaction when none runs
        table().delete_item(Key={"pk": "A0", "sk": "1"})
    compact(tmp_path, max(int(path.stem) for path in (tmp_path / JOURNAL).glob("*.jsonl")))
    assert list((tmp_path / JOURNAL).glob("*.jsonl")) == []
    header, *items = (tmp_path / SNAPSHOT).read_text().splitlines()
    assert len(items) == 4
    with emulated_aws(TABLE), LocalState(tmp_path):
        assert sorted(item["pk"] for item in table().scan()["Items"]) == ["A1", "A2", "A3", "A4"]


def test_a_restart_delivers_the_disconnect_of_connections_left_open(tmp_path, functions):
    facts = ConnectionFacts(
        connection_id="conn-1", connected_at=1, source_ip="10.0.0.1", user_agent="wallbox", domain_name="localhost",
        headers=[("Host", "localhost")], query=[("chargePointId", "CP001")],
        authorizer={"principalId": "CP001", "chargePointId": "CP001"},
    )
    with emulated_aws(TABLE), LocalState(tmp_path) as state:
        state.connection_opened(facts)  # the process is killed before its $disconnect: still open when saved
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE)
    with emulated_aws(TABLE), LocalState(tmp_path) as state:
        runtime = LocalRuntime(config, handlers=functions.handlers, workflows=(), state=state)

        async def start_and_stop() -> None:
            await runtime.start()
            await runtime.stop()

        asyncio.run(start_and_stop())
    (event,) = functions.events["disconnect"]
    assert event["requestContext"]["connectionId"] == "conn-1"
    assert event["requestContext"]["disconnectStatusCode"] == 1006
    assert event["requestContext"]["authorizer"]["chargePointId"] == "CP001"
    with emulated_aws(TABLE), LocalState(tmp_path) as state:
        assert state.lost_connections == []  # delivered once


def test_items_of_a_table_the_runtime_does_not_have_are_kept_untouched(tmp_path):
    with emulated_aws(TABLE), LocalState(tmp_path):
        table().put_item(Item={"pk": "A", "sk": "1"})
    with emulated_aws("renamed"), LocalState(tmp_path) as state:
        assert state.loaded_items == 0
    with emulated_aws(TABLE), LocalState(tmp_path):
        assert "Item" in table().get_item(Key={"pk": "A", "sk": "1"})
