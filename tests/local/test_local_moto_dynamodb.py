"""local.moto_dynamodb: moto's DynamoDB answers as before, at the cost of what a request touches."""

from __future__ import annotations

import gc
import sys
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.aws import emulated_aws
from local.moto_dynamodb import moto_table, restore_items

TABLE = "csms-test"


@pytest.fixture
def table():
    with emulated_aws(TABLE):
        yield boto3.resource("dynamodb").Table(TABLE)


def put(table, pk, sk, **attributes):
    table.put_item(Item={"pk": pk, "sk": sk, **attributes})


def keys(items):
    return [(item["pk"], item["sk"]) for item in items]


def test_a_failing_transaction_rolls_back_every_write_it_made(table):
    put(table, "A", "1", n=1)
    put(table, "B", "1", n=1, gsi1pk="S1", gsi1sk="b")
    put(table, "C", "1")
    client = boto3.client("dynamodb")
    with pytest.raises(ClientError) as failure:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "1"}, "gsi1pk": {"S": "S1"}, "gsi1sk": {"S": "a"}}}},
                {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}}, "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "B"}, "sk": {"S": "1"}}}},
                {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "C"}, "sk": {"S": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )
    assert failure.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in table.get_item(Key={"pk": "NEW", "sk": "1"})
    assert table.get_item(Key={"pk": "A", "sk": "1"})["Item"]["n"] == 1
    assert table.get_item(Key={"pk": "B", "sk": "1"})["Item"]["gsi1pk"] == "S1"
    # The global index saw the rollback too: B is back, NEW never happened.
    by_station = table.query(IndexName="byStation", KeyConditionExpression=Key("gsi1pk").eq("S1"))["Items"]
    assert keys(by_station) == [("B", "1")]


def test_a_transaction_that_succeeds_writes_everything(table):
    put(table, "A", "1", n=1)
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}}, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]
    )
    assert "Item" in table.get_item(Key={"pk": "NEW", "sk": "1"})
    assert table.get_item(Key={"pk": "A", "sk": "1"})["Item"]["n"] == 2


def test_a_transaction_does_not_copy_the_table(table, monkeypatch):
    for n in range(50):
        put(table, f"P{n}", "1")
    copied = []
    original = Item.__deepcopy__
    monkeypatch.setattr(Item, "__deepcopy__", lambda item, memo: copied.append(item) or original(item, memo))
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": {"pk": {"S": "P1"}, "sk": {"S": "1"}, "x": {"S": "y"}}}}]
    )
    assert len(copied) == 1  # the one item it touched, kept for a rollback


def test_a_query_reads_its_partition_in_sort_key_order_with_paging_and_filters(table):
    for sk in ("c", "a", "b", "d"):
        put(table, "TX#1", sk, v=sk)
    put(table, "TX#2", "a")
    put(table, "TX#0", "z")
    first = table.query(KeyConditionExpression=Key("pk").eq("TX#1"), Limit=2)
    assert keys(first["Items"]) == [("TX#1", "a"), ("TX#1", "b")]
    rest = table.query(KeyConditionExpression=Key("pk").eq("TX#1"), ExclusiveStartKey=first["LastEvaluatedKey"])
    assert keys(rest["Items"]) == [("TX#1", "c"), ("TX#1", "d")]
    backwards = table.query(KeyConditionExpression=Key("pk").eq("TX#1") & Key("sk").gt("a"), ScanIndexForward=False)
    assert keys(backwards["Items"]) == [("TX#1", "d"), ("TX#1", "c"), ("TX#1", "b")]
    assert table.query(KeyConditionExpression=Key("pk").eq("NOPE"))["Items"] == []


def test_the_global_index_follows_puts_updates_and_deletes(table):
    put(table, "TX#1", "T", gsi1pk="CP#1", gsi1sk="2026-01-02")
    put(table, "TX#2", "T", gsi1pk="CP#1", gsi1sk="2026-01-01")
    put(table, "TX#3", "T", gsi1pk="CP#2", gsi1sk="2026-01-03")
    table.update_item(Key={"pk": "TX#3", "sk": "T"}, UpdateExpression="SET gsi1pk = :cp", ExpressionAttributeValues={":cp": "CP#1"})
    table.update_item(Key={"pk": "TX#4", "sk": "T"}, UpdateExpression="SET gsi1pk = :cp, gsi1sk = :at", ExpressionAttributeValues={":cp": "CP#1", ":at": "2026-01-00"})
    table.delete_item(Key={"pk": "TX#2", "sk": "T"})
    table.update_item(Key={"pk": "TX#1", "sk": "T"}, UpdateExpression="REMOVE gsi1pk")

    def station(cp, **options):
        return keys(table.query(IndexName="byStation", KeyConditionExpression=Key("gsi1pk").eq(cp), **options)["Items"])

    assert station("CP#1") == [("TX#4", "T"), ("TX#3", "T")]
    assert station("CP#1", ScanIndexForward=False, Limit=1) == [("TX#3", "T")]
    assert station("CP#2") == []


def test_no_model_instance_outlives_its_use(table):
    gc.collect()
    # Counted from here: an Item an earlier test left to the collector (the table now has a stream, whose
    # writes copy the old item) is not this test's business.
    before = sum(isinstance(obj, Item) for obj in gc.get_objects())
    for n in range(20):
        put(table, "TX#1", f"MV#{n}")
        table.query(KeyConditionExpression=Key("pk").eq("TX#1"))
    gc.collect()
    assert Item.instances_tracked == []
    live = sum(isinstance(obj, Item) for obj in gc.get_objects()) - before
    assert live == 20  # the stored items, none of the copies made for query results


def test_items_loaded_in_bulk_are_read_and_indexed_like_written_ones(table):
    restore_items(
        moto_table(TABLE),
        [{"pk": {"S": "TX#9"}, "sk": {"S": "T"}, "gsi1pk": {"S": "CP#9"}, "gsi1sk": {"S": "x"}, "n": {"N": "1.50"}}],
    )
    assert table.get_item(Key={"pk": "TX#9", "sk": "T"})["Item"]["n"] == Decimal("1.50")
    assert keys(table.query(IndexName="byStation", KeyConditionExpression=Key("gsi1pk").eq("CP#9"))["Items"]) == [("TX#9", "T")]


def test_stored_items_share_one_copy_of_each_name_and_short_value(table):
    """Every request brings its own copy of each string; the items keep the interpreter's one copy (point 10)."""
    long_text = "a value longer than the shared ones"
    written = {"status": "Charging", "meter": Decimal(12), "connector": {"unit": "kWh", "note": long_text}}
    put(table, "CP#1", "S", **written, tags=["kWh"])
    put(table, "CP#2", "S", **written, tags=["kWh"])
    table.update_item(Key={"pk": "CP#2", "sk": "S"}, UpdateExpression="SET added = :v", ExpressionAttributeValues={":v": "Charging"})
    restore_items(moto_table(TABLE), [{"pk": {"S": "CP#3"}, "sk": {"S": "S"}, "status": {"S": "Charging"}}])

    first, second, updated, loaded = (
        moto_table(TABLE).get_item(DynamoType({"S": pk}), DynamoType({"S": "S"})) for pk in ("CP#1", "CP#2", "CP#2", "CP#3")
    )

    def shared(text: str) -> bool:
        return text is sys.intern(text)

    for item in (first, second, updated, loaded):
        assert all(shared(name) for name in item.attrs)
        assert shared(item.attrs["status"].value)
    assert shared(updated.attrs["added"].value)
    for item in (first, second):
        connector = item.attrs["connector"].value
        assert all(shared(name) for name in connector) and shared(connector["unit"].value)
        assert shared(item.attrs["meter"].value) and shared(item.attrs["tags"].value[0].value)
    assert first.attrs["connector"].value["note"].value is not second.attrs["connector"].value["note"].value  # too long
    assert table.get_item(Key={"pk": "CP#2", "sk": "S"})["Item"] == {
        "pk": "CP#2", "sk": "S", **written, "tags": ["kWh"], "added": "Charging"
    }


def test_moto_is_itself_again_after_the_runtime(table):
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models.table import Table

    import local.moto_dynamodb as scaled

    assert Table.query.__wrapped__  # active inside emulated_aws
    with emulated_aws("other"):
        pass  # a nested use leaves the installation in place
    assert Table.query.__wrapped__
    assert BaseModel.__new__ is not object.__new__
    assert scaled._patches.users == 1


def test_item_operations_answer_what_motos_own_serializer_would(table, monkeypatch):
    import json

    from moto.core.responses import ActionResult

    fast = ActionResult.execute_result
    compared: list[str] = []

    def both(self, context):
        answer = fast(self, context)
        if answer is not None and context.service_model.service_name == "dynamodb":
            status, _, body = fast.__wrapped__(self, context)  # moto's shape-driven serializer
            assert (answer[0], json.loads(answer[2])) == (status, json.loads(body)), context.operation_model.name
            compared.append(context.operation_model.name)
        return answer

    monkeypatch.setattr(ActionResult, "execute_result", both)
    client = boto3.client("dynamodb")
    item = {"pk": "A", "sk": "1", "blob": b"\x00\xff", "names": {"x", "y"}, "n": Decimal("1.5"), "m": {"l": [1, "two", None]}}
    table.put_item(Item=item)
    table.put_item(Item={**item, "sk": "2"}, ReturnValues="ALL_OLD")
    table.get_item(Key={"pk": "A", "sk": "1"})
    table.get_item(Key={"pk": "A", "sk": "missing"})
    table.update_item(Key={"pk": "A", "sk": "1"}, UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": 1}, ReturnValues="ALL_NEW")
    table.query(KeyConditionExpression=Key("pk").eq("A"), Limit=1, ReturnConsumedCapacity="TOTAL")
    table.scan(Limit=1)
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {"pk": {"S": "B"}, "sk": {"S": "1"}}}}]})
    client.batch_get_item(RequestItems={TABLE: {"Keys": [{"pk": {"S": "A"}, "sk": {"S": "1"}}, {"pk": {"S": "B"}, "sk": {"S": "1"}}]}})
    client.transact_write_items(TransactItems=[{"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "B"}, "sk": {"S": "1"}}}}])
    client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "2"}}}}])
    table.delete_item(Key={"pk": "A", "sk": "2"}, ReturnValues="ALL_OLD")
    assert set(compared) >= {
        "PutItem", "GetItem", "UpdateItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem", "TransactWriteItems",
        "TransactGetItems", "DeleteItem",
    }


UPDATES = [
    ("SET n = :one, s = :s, l = :l, m = :m", {":one": 1, ":s": "x", ":l": [1, "two"], ":m": {"a": {"b": 1}}}, None),
    ("SET n = n + :one, l = list_append(l, :more), m.a.c = :s", {":one": 1, ":more": [3], ":s": "y"}, None),
    ("SET fresh = if_not_exists(fresh, :s), #r = :one REMOVE s", {":s": "z", ":one": 2}, {"#r": "reserved"}),
    ("ADD tags :tags, n :one DELETE gone :tags", {":tags": {"a", "b"}, ":one": 5}, None),
    ("SET missing = nope + :one", {":one": 1}, None),  # refused: the path does not exist
    ("SET n = :one, n = :one", {":one": 1}, None),  # refused: overlapping paths
    ("SET l[5] = :s REMOVE m.a.b", {":s": "end"}, None),
]


def _apply_updates() -> list[object]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    table.put_item(Item={"pk": "A", "sk": "1", "gone": {"a", "c"}})
    outcomes: list[object] = []
    for expression, values, names in UPDATES:
        extra = {"ExpressionAttributeNames": names} if names else {}
        try:
            answer = table.update_item(
                Key={"pk": "A", "sk": "1"}, UpdateExpression=expression, ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW", **extra,
            )
            outcomes.append(answer["Attributes"])
        except ClientError as refused:
            outcomes.append((refused.response["Error"]["Code"], refused.response["Error"]["Message"]))
    return outcomes


def test_update_expressions_are_applied_and_refused_as_moto_itself_does():
    from moto import mock_aws

    from csms.adapters.dynamodb.schema import create_table_request
    from local.aws import _fake_credentials

    with _fake_credentials(), mock_aws():  # moto as installed, none of local.moto_dynamodb's changes
        boto3.client("dynamodb", region_name="us-east-1").create_table(**create_table_request(TABLE))
        expected = _apply_updates()
    with emulated_aws(TABLE):
        assert _apply_updates() == expected
    assert any(isinstance(outcome, tuple) for outcome in expected) and any(isinstance(outcome, dict) for outcome in expected)


def test_a_tree_walker_builds_its_processing_map_once(table, monkeypatch):
    from moto.dynamodb.parsing.validators import ExpressionAttributeValueProcessor

    built = []
    original = ExpressionAttributeValueProcessor._processing_map
    monkeypatch.setattr(ExpressionAttributeValueProcessor, "_processing_map", lambda self: built.append(self) or original(self))
    table.update_item(
        Key={"pk": "A", "sk": "1"}, UpdateExpression="SET a = :v, b = :v, c = :v, d = :v", ExpressionAttributeValues={":v": 1}
    )
    assert built and len(built) == len({id(walker) for walker in built})  # once per walker, not twice per node
