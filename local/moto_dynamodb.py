"""moto's DynamoDB made to cost per request what one request touches, not what the table holds.

moto 5.2.5 is written for tests with a few items; the local runtime keeps a network's data for weeks.
Measured on a 200,000-item table, four of its behaviours make every message slower as data accumulates
and the memory grow without bound. `scaled_dynamodb()` changes them from our side, for as long as it
is active (`local.aws.emulated_aws` enters it); nothing in site-packages is modified:

1. **Instance tracking.** Every `moto.core.common_models.BaseModel` appends each instance it creates to a
   class-level list (`instances_tracked`, for moto server's dashboard), so every item ever written, every
   copy made for a stream record or a query result stays referenced: memory only grows. Off while active
   (`BaseModel.__new__` without the append); our runtime has no dashboard.
2. **TransactWriteItems copies whole tables** (`copy.deepcopy(self.tables[name])`) to roll back on failure:
   O(table) per StartTransaction. While active, moto's DynamoDB models see a `copy` module whose `deepcopy`
   hands a `Table` back by reference, and our wrapper keeps a copy of only the items the transaction names,
   restoring exactly those when it fails: still all-or-nothing, at the cost of the items touched.
3. **Query sorts the whole table.** `Table.query` takes candidates from `Table.all_items()`, which lists and
   sorts every item of the table, then filters on the partition key (or the index's). While active, a query
   runs with `all_items()` scoped to the candidates only: the queried partition of the table, or the items of a
   global secondary index whose index partition key has the queried value. For the latter a per-table index
   (index partition key value -> items) is maintained on every write (`Table.put_item`, `Table.delete_item`,
   `DynamoDBBackend.update_item`, which changes items in place). moto then filters, sorts, pages and projects
   exactly as before, on the candidates: same results, O(partition) instead of O(table log table).
4. Writes notify `listeners` of the key they changed (`local.state` journals them), the hook that the index
   of point 3 needs anyway.

And constant costs per request (points 5 to 8 were together a fifth of the CPU a station message costs):

5. Item operations' responses (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, the batch and transaction
   ones) are DynamoDB JSON already: they are written with `json.dumps` instead of moto's serializer, which walks
   botocore's output shapes member by member (binary base64-encoded, `None` members and top-level members the
   output shape does not have left out, as it does; a test compares both for every item operation).
6. An UpdateExpression is parsed once per distinct text (moto parses the same few expressions on every
   UpdateItem; its validator works on a copy of the tree, so the parsed tree can be shared).
7. UpdateItem deep-copies the item it updates for the table's stream record even when the table has no stream:
   not while active, for a table without one.
8. moto's expression validator deep-copies the parsed tree through pickle's generic protocol: a direct copy of
   each node's attributes instead (the same copy, cheaper); and moto lists a response class's
   methods by introspection on every request: once per class instead.
9. Each of the validator's tree walkers rebuilds its map of node kind -> processing method twice for every node it
   visits (`DepthFirstTraverser.nodes_to_be_processed` and `process`), and asks `isinstance` of abstract classes
   (ABCMeta's slow path) three times per node: a third of an UpdateItem's time. The map is made of the walker's own
   bound methods and never changes, so each walker builds it once, and which processing method (if any) a node
   gets depends on its class only, so it is looked up once per walker and node class (`_walk`, the same walk).

And memory per stored item:

10. Every write leaves the item it wrote holding the interpreter's one copy of each attribute name, map member name
   and short value (`sys.intern`), not the copies its request's JSON brought: 28 % less memory per item.

Not covered (the CSMS does not use them): PartiQL statements and table restores/imports change items without
going through these hooks, so a global index query or the journal would not see their changes.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email.utils
import functools
import json
import sys
import types
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from moto.core import responses as core_responses
from moto.core.common_models import BaseModel
from moto.core.responses import ActionResult
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from local.patching import SharedPatches

Key = tuple[DynamoType, DynamoType | None]
"""An item's (partition key, sort key) as moto stores it."""

ChangeListener = Callable[[Table, Key], None]

listeners: list[ChangeListener] = []
"""Called after every write, with the table and the key written (the item may since be gone)."""

_item_copied_by_reference: ContextVar[bool] = ContextVar("_item_copied_by_reference", default=False)
_query_candidates: ContextVar[tuple[Table, list[Item]] | None] = ContextVar("_query_candidates", default=None)


# -- 1. instance tracking ------------------------------------------------------------------------------


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


# -- 2. TransactWriteItems rolls back the items it touched ----------------------------------------------


class _CopyTablesByReference(types.ModuleType):
    """The `copy` module as moto.dynamodb.models sees it while active: a `Table` is not deep-copied.

    moto's `transact_write_items` is that module's only deep copy of a table; our wrapper below does the
    rollback it was for, item by item."""

    def __init__(self) -> None:
        super().__init__("copy")

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) or (isinstance(value, Item) and _item_copied_by_reference.get()):
            return value
        return copy.deepcopy(value, memo)


def _transact_write_items(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: dict[tuple[str, Key], tuple[Table, Item | None]] = {}
        for table, key in _keys_named(self, transact_items):
            saved.setdefault((table.name, key), (table, copy.deepcopy(_stored(table, key))))
        try:
            original(self, transact_items)
        except BaseException:
            # moto reports every failure as an exception after having written what came before it.
            for (_, key), (table, item) in saved.items():
                _put_back(table, key, item)
            raise

    return transact_write_items


def _keys_named(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[tuple[Table, Key]]:
    for entry in transact_items:
        for operation, request in entry.items():
            if not isinstance(request, dict):
                continue
            table = backend.tables.get(request.get("TableName", ""))
            attributes = request.get("Item") if operation == "Put" else request.get("Key")
            if table is None or not isinstance(attributes, dict):
                continue  # moto refuses the request itself
            try:
                yield table, _key_of(table, attributes)
            except (KeyError, IndexError, TypeError, AttributeError):
                continue


def _key_of(table: Table, attributes: dict[str, Any]) -> Key:
    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _stored(table: Table, key: Key) -> Item | None:
    """The item at `key`, without creating an empty partition as `Table.get_item` does for a missing one."""
    hash_key, range_key = key
    partition = table.items.get(hash_key)
    if partition is None or range_key is None:
        return partition
    return partition.get(range_key)


def _put_back(table: Table, key: Key, item: Item | None) -> None:
    """Store `item` at `key` (None: remove it), bypassing validation: it is an item moto held before."""
    hash_key, range_key = key
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    else:
        partition = table.items.get(hash_key)
        if item is not None:
            table.items[hash_key][range_key] = item
        elif partition is not None:
            partition.pop(range_key, None)
            if not partition:
                del table.items[hash_key]
    _changed(table, key)


def restore_items(table: Table, items: Iterable[dict[str, Any]]) -> int:
    """Load items (DynamoDB JSON, as `Item.to_json()` gives them) into `table`, replacing any at their keys.

    For loading saved state and benchmark data at memory speed: no conditions, no per-attribute size checks
    (the items were valid when first written), no stream records; indexes and listeners are kept up to date.
    Returns how many items were loaded."""
    count = 0
    for attributes in items:
        key = _key_of(table, attributes)
        item = Item.__new__(Item)
        item.hash_key, item.range_key = key
        item.attrs = LimitedSizeDict()
        for name, value in attributes.items():
            dict.__setitem__(item.attrs, name, DynamoType(value))
        _put_back(table, key, item)
        count += 1
    return count


def stored_item(table: Table, key: Key) -> Item | None:
    return _stored(table, key)


# -- 3. queries scoped to their partition ----------------------------------------------------------------


class _GlobalIndexes:
    """For each global secondary index: its partition key value -> {table key: item}."""

    def __init__(self, table: Table) -> None:
        self.partition_attribute = {
            index.name: next(key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH")
            for index in table.global_indexes
        }
        self.partitions: dict[str, dict[DynamoType, dict[Key, Item]]] = {name: {} for name in self.partition_attribute}
        self.placed: dict[str, dict[Key, DynamoType]] = {name: {} for name in self.partition_attribute}
        for item in _every_item(table):
            self.update((item.hash_key, item.range_key), item)

    def update(self, key: Key, item: Item | None) -> None:
        for name, attribute in self.partition_attribute.items():
            partitions, placed = self.partitions[name], self.placed[name]
            value = item.attrs.get(attribute) if item is not None else None
            previous = placed.get(key)
            if previous is not None and (value is None or previous != value):
                partition = partitions[previous]
                del partition[key]
                if not partition:
                    del partitions[previous]
                del placed[key]
            if value is not None and item is not None:
                partitions.setdefault(value, {})[key] = item
                placed[key] = value


def _global_indexes(table: Table) -> _GlobalIndexes:
    indexes: _GlobalIndexes | None = table.__dict__.get("_csms_global_indexes")
    if indexes is None:
        indexes = table.__dict__["_csms_global_indexes"] = _GlobalIndexes(table)
    return indexes


def _every_item(table: Table) -> Iterator[Item]:
    for partition in table.items.values():
        if table.range_key_attr:
            yield from partition.values()
        else:
            yield partition


def _changed(table: Table, key: Key) -> None:
    item = _stored(table, key)
    if item is not None:
        _share_strings(item)
    if "_csms_global_indexes" in table.__dict__ or table.global_indexes:
        _global_indexes(table).update(key, item)
    for listener in listeners:
        listener(table, key)


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        candidates: list[Item] | None = None
        if not index_name:
            if hash_key is not None:
                partition = self.items.get(hash_key)
                if partition is None:
                    candidates = []
                elif self.range_key_attr:
                    candidates = list(partition.values())
                else:
                    candidates = [partition]
        elif index_name in {index.name for index in self.global_indexes}:
            indexes = _global_indexes(self)
            attribute = indexes.partition_attribute[index_name]
            wanted = dict(kwargs.get("hash_key_conditions") or ()).get(attribute)
            if wanted is not None:
                candidates = list(indexes.partitions[index_name].get(wanted, {}).values())
        if candidates is None:  # a local index or a query shape we do not scope: moto's own way
            return original(self, hash_key, *args, **kwargs)
        token = _query_candidates.set((self, candidates))
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _query_candidates.reset(token)

    return query


def _all_items(original: Callable[[Table], list[Item]]) -> Callable[[Table], list[Item]]:
    @functools.wraps(original)
    def all_items(self: Table) -> list[Item]:
        scoped = _query_candidates.get()
        if scoped is None or scoped[0] is not self:
            return original(self)
        # moto's order: by partition key, then sort key.
        return sorted(scoped[1], key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    return all_items


# -- 4. writes notify -------------------------------------------------------------------------------------


def _table_put_item(original: Callable[..., Item]) -> Callable[..., Item]:
    @functools.wraps(original)
    def put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        item = original(self, item_attrs, *args, **kwargs)
        _changed(self, (item.hash_key, item.range_key))
        return item

    return put_item


def _table_delete_item(original: Callable[..., Item | None]) -> Callable[..., Item | None]:
    @functools.wraps(original)
    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        try:
            return original(self, hash_key, range_key)
        finally:
            partition = self.items.get(hash_key)
            if range_key is not None and partition is not None and not partition:
                del self.items[hash_key]  # moto leaves the emptied partition behind
            _changed(self, (hash_key, range_key))

    return delete_item


def _backend_update_item(original: Callable[..., Item]) -> Callable[..., Item]:
    @functools.wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        table = self.tables.get(table_name)
        # Point 7: moto's copy of the old item only feeds the stream.
        token = _item_copied_by_reference.set(table is not None and table.stream_shard is None)
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:
            _item_copied_by_reference.reset(token)
            # Also after a failure: moto may have changed the item in place before refusing the update.
            table = self.tables.get(table_name)
            if table is not None:
                with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
                    _changed(table, _key_of(table, key))

    return update_item


# -- 10. one copy of each name and short value ---------------------------------------------------------

SHARED_VALUE_MAX_LENGTH = 16
"""String and number values up to this many characters are shared too: statuses, units, currencies, small numbers."""


def _share_strings(item: Item) -> None:
    """Make the stored item's attribute names, its maps' member names and its short values the interpreter's one copy
    of each string (`sys.intern`).

    Each request's JSON brings its own copy of every string (`json.loads` shares names within one document only), and
    moto keeps them in the item: shared, the items of the 100,000-message benchmark's mix hold 28 % less memory (a CDR
    alone has some 90 names). A dict keeps the key object it was first given, so a dict whose names are not all
    shared yet is rebuilt (the item's own attribute dict in place: moto holds it elsewhere too)."""
    attributes = item.attrs
    if not all(sys.intern(name) is name for name in attributes):
        names = [(sys.intern(name), value) for name, value in attributes.items()]
        dict.clear(attributes)
        dict.update(attributes, names)  # not LimitedSizeDict.__setitem__: the item was checked when written
    for value in attributes.values():
        _share_value_strings(value)


def _share_value_strings(value: DynamoType) -> None:
    if value.type == "M":
        members: dict[str, DynamoType] = value.value
        if not all(sys.intern(name) is name for name in members):
            value.value = members = {sys.intern(name): member for name, member in members.items()}
        for member in members.values():
            _share_value_strings(member)
    elif value.type == "L":
        for member in value.value:
            _share_value_strings(member)
    elif value.type in ("S", "N") and len(value.value) <= SHARED_VALUE_MAX_LENGTH:
        value.value = sys.intern(value.value)


# -- 5. item operations answered as JSON --------------------------------------------------------------------

_ITEM_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
     "TransactGetItems", "TransactWriteItems"}
)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _without_none(member) for name, member in value.items() if member is not None}
    if isinstance(value, list):
        return [_without_none(member) for member in value]
    return value


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} in a DynamoDB response")


def _execute_result(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def execute_result(self: ActionResult, context: Any) -> Any:
        if context.service_model.service_name != "dynamodb" or context.operation_model.name not in _ITEM_OPERATIONS:
            return original(self, context)
        members = context.operation_model.output_shape.members  # what the serializer would write, at the top
        result = {name: value for name, value in _without_none(self.result).items() if name in members}
        body = json.dumps(result, default=_binary_as_base64, separators=(",", ":"))
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "server": "amazon.com",
            "date": email.utils.formatdate(usegmt=True),
            "x-amzn-requestid": uuid.uuid4().hex,
        }
        return 200, headers, body

    return execute_result


# -- 6. an UpdateExpression parsed once ----------------------------------------------------------------------


def _make_once(original: Any) -> Any:
    parse = original.__func__

    @functools.lru_cache(maxsize=1024)
    def parsed(expression: str) -> Any:
        return parse(UpdateExpressionParser, expression)

    return classmethod(lambda cls, expression: parsed(expression) if cls is UpdateExpressionParser else parse(cls, expression))


# -- 8. copies and lookups without introspection ---------------------------------------------------------------


def _copy_node(node: Node, memo: dict[int, Any]) -> Node:
    clone = object.__new__(type(node))
    memo[id(node)] = clone
    clone.__dict__.update({name: copy.deepcopy(value, memo) for name, value in node.__dict__.items()})
    return clone


# -- 9. a tree walker's processing map built once -----------------------------------------------------------


def _processing_map_once(walker: DepthFirstTraverser) -> dict[type, Callable[[Any], Any]]:
    cached: dict[type, Callable[[Any], Any]] | None = walker.__dict__.get("_csms_processing_map")
    if cached is None:
        cached = walker.__dict__["_csms_processing_map"] = walker._processing_map()
    return cached


_node_classes: dict[type, bool] = {}


def _is_node(value: Any) -> bool:
    kind = type(value)
    known = _node_classes.get(kind)
    if known is None:
        known = _node_classes[kind] = isinstance(value, Node)
    return known


def _processor_for(walker: DepthFirstTraverser, kind: type) -> Callable[[Any], Any] | None:
    """`process`'s choice for a node of class `kind`: the first processing method whose node kind it is."""
    chosen: dict[type, Callable[[Any], Any] | None] | None = walker.__dict__.get("_csms_processors")
    if chosen is None:
        chosen = walker.__dict__["_csms_processors"] = {}
    if kind not in chosen:
        chosen[kind] = next((method for base, method in _processing_map_once(walker).items() if issubclass(kind, base)), None)
    return chosen[kind]


def _walk(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def traverse_node_recursively(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
        # moto's walk, step by step; only the two lookups differ (see point 9).
        if _is_node(node):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = _processor_for(self, type(node))
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    return traverse_node_recursively


_PATCHES: tuple[tuple[type, str, Callable[[Any], Any]], ...] = (
    (DynamoDBBackend, "transact_write_items", _transact_write_items),
    (DynamoDBBackend, "update_item", _backend_update_item),
    (Table, "query", _query),
    (Table, "all_items", _all_items),
    (Table, "put_item", _table_put_item),
    (Table, "delete_item", _table_delete_item),
    (ActionResult, "execute_result", _execute_result),
    (UpdateExpressionParser, "make", _make_once),
    (DepthFirstTraverser, "traverse_node_recursively", _walk),
)


def _install(patches: SharedPatches) -> None:
    patches.replace(BaseModel, "__new__", staticmethod(_untracked_new))
    patches.replace(dynamodb_models, "copy", _CopyTablesByReference())
    patches.replace(Node, "__deepcopy__", _copy_node)
    method_names = core_responses.method_names_from_class
    patches.replace(core_responses, "method_names_from_class", functools.lru_cache(maxsize=None)(method_names))
    for owner, name, wrap in _PATCHES:
        patches.replace(owner, name, wrap(owner.__dict__[name]))


_patches = SharedPatches(_install)


def scaled_dynamodb() -> contextlib.AbstractContextManager[None]:
    """Apply the changes of the module docstring while active; nested uses share one installation."""
    return _patches.active()


def moto_table(table_name: str) -> Table:
    """The emulated table itself (inside `emulated_aws`), for loading and saving state at memory speed."""
    from moto.dynamodb.models import dynamodb_backends

    from local.aws import ACCOUNT_ID, REGION

    return dynamodb_backends[ACCOUNT_ID][REGION].get_table(table_name)


def forget_item(table: Table, key: dict[str, Any]) -> None:
    """Remove the item at `key` (DynamoDB JSON), if any, as `restore_items` loads them."""
    _put_back(table, _key_of(table, key), None)
