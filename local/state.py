"""The local runtime's state directory: the table and the open connections, kept across restarts.

`make run` keeps the emulated DynamoDB table in memory (moto); this module makes it durable in a
directory (`CSMS_STATE_DIR`, default `.csms/state`)::

    state/
      lock                 flock'ed while a runtime uses the directory: two runtimes never share one
      snapshot.jsonl       line 1 {"format": 1, "through": N, "connections": {...}}, then one item per line
                           {"t": table, "k": key, "i": item} (DynamoDB JSON, as the API sends it)
      journal/000000N.jsonl  one line per save: {"items": [{"t", "k", "i" or null (deleted)}],
                           "opened": {connectionId: facts}, "closed": [connectionId]}

**Saving.** Every write moto makes notifies us of its key (`local.moto_dynamodb.listeners`): we only note the
key. Every `SAVE_INTERVAL_SECONDS` a saver thread takes the noted keys and, holding moto's request lock
(`local.aws.MOTO_LOCK`) so that no request is half done, serialises the current state of those items only,
then releases the lock and appends them as one line to the journal and fsyncs. The cost of a save is that of
what changed since the last one, never that of the table; a line is one consistent cut (a TransactWriteItems
is in it whole or not at all), and a line torn by a kill is dropped whole on load. A clean stop (Ctrl-C,
SIGTERM) saves after the stations' $disconnect ran: nothing is lost. A killed process loses what changed
since the last save: at most `SAVE_INTERVAL_SECONDS` (1 s) plus the time to write it.

**Compaction.** When the sealed journal outgrows the snapshot (and 64 MB), a child process
(`python -m local.state compact DIR`) folds snapshot + sealed journal into a new snapshot (temp file, fsync,
`os.replace`, fsync of the directory) and deletes the folded journal files; on another core, away from the
handlers. A crash at any point leaves either the old snapshot and all journal files or the new snapshot,
which names the journal files it already holds (`through`).

**Loading** streams the snapshot then the newer journal files into moto's table at memory speed
(`local.moto_dynamodb.restore_items`), then exempts the loaded objects from the cyclic garbage collector
(`gc.freeze`: a full pass over 200,000 items would stop all threads for half a second). `CSMS_FRESH=1`
(`fresh=True`) deletes the saved state first.

What is kept: every item of the table (stations, id tags, transactions and their meter values, commands,
counters, everything), exactly (numbers as their decimal strings, sets, binary, nested maps and lists), and
which station connections were open, and the running executions of restartable workflows (`executions.json`:
workflow, name, input, rewritten when the set changes; moto's interpreter cannot resume an execution mid-way,
so they start again from the beginning, which their definitions make safe: see `WorkflowSpec.restartable`; a
command waiting for its answer when the runtime stopped keeps the status it had). What is not: the
connections themselves: after a restart the runtime first delivers the `$disconnect` API Gateway would
have sent for each connection that was open (status 1006), so that no station item keeps claiming a
connection that no longer exists; stations reconnect on their own and the newest connection wins anyway.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import gc
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from local.events import ConnectionFacts

logger = logging.getLogger(__name__)

FORMAT = 1
SAVE_INTERVAL_SECONDS = 1.0
"""How much a killed process may lose (the bound promised is five seconds; saving more often is cheap)."""
DEFAULT_DIRECTORY = Path(".csms/state")
SNAPSHOT = "snapshot.jsonl"
EXECUTIONS = "executions.json"
JOURNAL = "journal"
SEGMENT_BYTES = 16 * 2**20
"""A journal file is sealed past this size (and compacted later)."""
COMPACT_AFTER_BYTES = 64 * 2**20
"""Sealed journal bytes that start a compaction (or the snapshot's size, when that is larger)."""


class StateDirectoryBusy(RuntimeError):
    """Another runtime keeps its state in this directory."""


class CorruptState(RuntimeError):
    """A saved line other than the last of a journal file cannot be read."""


def state_directory(environ: dict[str, str] | os._Environ[str] | None = None) -> tuple[Path, bool]:
    """(`CSMS_STATE_DIR` or `.csms/state`, whether `CSMS_FRESH=1` asks to start empty)."""
    env = os.environ if environ is None else environ
    directory = Path(env.get("CSMS_STATE_DIR") or DEFAULT_DIRECTORY)
    return directory, env.get("CSMS_FRESH", "") not in ("", "0")


class LocalState:
    """Loads the saved state into moto's tables on enter, saves it while active, and at exit.

    Enter inside `local.aws.emulated_aws()` (the tables must exist). `wait(seconds)` is what the saver thread
    waits with between saves (returns True to stop); tests inject one to drive saves tick by tick.
    """

    def __init__(
        self,
        directory: Path,
        *,
        fresh: bool = False,
        interval_seconds: float = SAVE_INTERVAL_SECONDS,
        wait: Callable[[float], bool] | None = None,
        compact_after_bytes: int = COMPACT_AFTER_BYTES,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self.fresh = fresh
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()
        self._wait = wait or self._stopping.wait
        self._compact_after_bytes = compact_after_bytes
        self._segment_bytes = segment_bytes
        self._tables: dict[str, Table] = {}
        self._dirty: set[tuple[str, Key]] = set()
        self._opened: dict[str, dict[str, Any]] = {}
        self._closed: list[str] = []
        self._connections_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._lock_file: IO[str] | None = None
        self._segment: IO[str] | None = None
        self._segment_number = 0
        self._saver: threading.Thread | None = None
        self._compaction: subprocess.Popen[bytes] | None = None
        self.lost_connections: list[dict[str, Any]] = []
        """Connections open at the last save before this start (their $disconnect never ran)."""
        self.lost_executions: list[dict[str, Any]] = []
        """Workflow executions running at the last save before this start."""
        self.running_executions: Callable[[], list[dict[str, Any]]] | None = None
        """What each save asks for the executions running now (set by the runtime while it runs)."""
        self._saved_executions: list[dict[str, Any]] = []
        self.loaded_items = 0

    # -- lifecycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        from local.aws import MOTO_LOCK
        from local.moto_dynamodb import listeners

        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = _exclusive_lock(self.directory / "lock")
        try:
            if self.fresh:
                _delete_saved_state(self.directory)
            with MOTO_LOCK:
                through, connections = self._load()
                listeners.append(self._note)
            _settle()
            self.lost_connections = list(connections.values())
            executions = self.directory / EXECUTIONS
            if executions.exists():
                self.lost_executions = self._saved_executions = json.loads(executions.read_text(encoding="utf-8"))
            self._segment_number = max([through, *_journal_numbers(self.directory)]) + 1
            self._segment = _new_segment(self.directory, self._segment_number)
            self._saver = threading.Thread(target=self._save_periodically, name="csms-state-saver", daemon=True)
            self._saver.start()
        except BaseException:
            self._release()
            raise

    def wait_for_compaction(self) -> None:
        """Block until a running compaction finished (benchmarks measure without one running)."""
        with self._save_lock:
            if self._compaction is not None:
                self._compaction.wait()

    def close(self) -> None:
        """Stop the saver and save what is left (call after the runtime stopped: its $disconnects are in)."""
        self._stopping.set()
        if self._saver is not None:
            self._saver.join()
            self._saver = None
        try:
            self.save()
        finally:
            self._release()

    def _release(self) -> None:
        from local.moto_dynamodb import listeners

        with contextlib.suppress(ValueError):
            listeners.remove(self._note)
        if self._compaction is not None:
            self._compaction.wait()
            self._compaction = None
        if self._segment is not None:
            self._segment.close()
            self._segment = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    # -- the gateway's connection log ---------------------------------------------------------------------

    def connection_opened(self, facts: ConnectionFacts) -> None:
        with self._connections_lock:
            self._opened[facts.connection_id] = _facts_as_json(facts)

    def connection_closed(self, connection_id: str) -> None:
        with self._connections_lock:
            if self._opened.pop(connection_id, None) is None:
                self._closed.append(connection_id)

    # -- saving ---------------------------------------------------------------------------------------------

    def _note(self, table: Table, key: Key) -> None:
        """A moto write listener; runs under moto's lock."""
        self._tables[table.name] = table
        self._dirty.add((table.name, key))

    def save(self) -> bool:
        """Append what changed since the last save to the journal, fsynced. Returns whether anything had."""
        from local.aws import MOTO_LOCK
        from local.moto_dynamodb import stored_item

        with self._save_lock:
            if self._segment is None:
                return False
            self._save_executions()
            with MOTO_LOCK, self._connections_lock:
                dirty, self._dirty = self._dirty, set()
                opened, self._opened = self._opened, {}
                closed, self._closed = self._closed, []
                if not (dirty or opened or closed):
                    return False
                # Serialised now, under the lock: moto may change these very objects right after.
                items = []
                for table_name, key in dirty:
                    table = self._tables[table_name]
                    item = stored_item(table, key)
                    record = {
                        "t": table_name,
                        "k": _key_as_json(table, key),
                        "i": None if item is None else {name: _wire(value) for name, value in item.attrs.items()},
                    }
                    items.append(json.dumps(record, separators=(",", ":")))
            line = (
                '{"items":[' + ",".join(items) + '],"opened":' + json.dumps(opened, separators=(",", ":"))
                + ',"closed":' + json.dumps(closed) + "}\n"
            )
            self._segment.write(line)
            self._segment.flush()
            os.fsync(self._segment.fileno())
            if self._segment.tell() >= self._segment_bytes:
                self._seal_segment()
            self._compact_when_due()
            return True

    def _save_executions(self) -> None:
        """Rewrite executions.json when the running set changed (temp file, fsync, `os.replace`: whole or not)."""
        if self.running_executions is None:
            return
        executions = self.running_executions()
        if executions == self._saved_executions:
            return
        path = self.directory / EXECUTIONS
        temporary = path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(executions, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _fsync_directory(self.directory)
        self._saved_executions = executions

    def _seal_segment(self) -> None:
        assert self._segment is not None
        self._segment.close()
        self._segment_number += 1
        self._segment = _new_segment(self.directory, self._segment_number)

    def _compact_when_due(self) -> None:
        if self._compaction is not None:
            if self._compaction.poll() is None:
                return
            if self._compaction.returncode != 0:
                logger.error("compacting %s failed (exit %s); will retry", self.directory, self._compaction.returncode)
            self._compaction = None
        sealed = [n for n in _journal_numbers(self.directory) if n < self._segment_number]
        sealed_bytes = sum(_segment_path(self.directory, n).stat().st_size for n in sealed)
        snapshot = self.directory / SNAPSHOT
        snapshot_bytes = snapshot.stat().st_size if snapshot.exists() else 0
        if sealed and sealed_bytes >= max(self._compact_after_bytes, snapshot_bytes):
            self._compaction = subprocess.Popen(
                [sys.executable, "-m", "local.state", "compact", str(self.directory.resolve()), str(max(sealed))],
                cwd=Path(__file__).resolve().parent.parent,
            )

    def _save_periodically(self) -> None:
        while not self._wait(self.interval_seconds):
            try:
                self.save()
            except Exception:  # a full disk must not stop the CSMS; the next save retries
                logger.exception("saving the local state to %s failed", self.directory)

    # -- loading --------------------------------------------------------------------------------------------

    def _load(self) -> tuple[int, dict[str, dict[str, Any]]]:
        from local.moto_dynamodb import moto_table, restore_items

        through, connections = 0, {}
        tables: dict[str, Table | None] = {}

        def table(name: str) -> Table | None:
            if name not in tables:
                try:
                    tables[name] = moto_table(name)
                except Exception:  # e.g. TABLE_NAME changed: its items stay in the files, untouched
                    logger.warning("the saved state holds items of table %s, which this runtime does not have", name)
                    tables[name] = None
            return tables[name]

        snapshot = self.directory / SNAPSHOT
        if snapshot.exists():
            with snapshot.open(encoding="utf-8") as lines:
                header = json.loads(next(lines))
                if header.get("format") != FORMAT:
                    raise CorruptState(f"{snapshot}: unknown format {header.get('format')!r}")
                through, connections = header["through"], header["connections"]
                for line in lines:
                    record = json.loads(line)
                    if (target := table(record["t"])) is not None:
                        restore_items(target, [record["i"]])
        for number in _journal_numbers(self.directory):
            if number <= through:
                continue  # already in the snapshot (a compaction stopped before deleting it)
            for saved in _journal_lines(_segment_path(self.directory, number)):
                for record in saved["items"]:
                    if (target := table(record["t"])) is None:
                        continue
                    if record["i"] is None:
                        _forget(target, record["k"])
                    else:
                        restore_items(target, [record["i"]])
                connections.update(saved["opened"])
                for connection_id in saved["closed"]:
                    connections.pop(connection_id, None)
        self.loaded_items = sum(len(t) for t in tables.values() if t is not None)
        return through, connections


Key = tuple["DynamoType", "DynamoType | None"]


def _settle() -> None:
    """Exempt what is alive now (the loaded items: millions of objects for 200,000 items) from the cyclic garbage
    collector's full passes, which would otherwise stop every thread for about half a second each time, ever more
    as data accumulates. They are freed by reference counting as usual when deleted (items hold no cycles)."""
    gc.collect()
    gc.freeze()


def _wire(value: DynamoType) -> dict[str, Any]:
    """A moto attribute value as DynamoDB JSON (what the API sent; binary as base64)."""
    kind, data = value.type, value.value
    if kind == "M":
        return {"M": {name: _wire(nested) for name, nested in data.items()}}
    if kind == "L":
        return {"L": [_wire(nested) for nested in data]}
    if kind == "B" and isinstance(data, bytes):
        return {"B": base64.b64encode(data).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in data]}
    return {kind: data}


def _key_as_json(table: Table, key: Key) -> dict[str, Any]:
    hash_key, range_key = key
    attributes = {table.hash_key_attr: _wire(hash_key)}
    if range_key is not None and table.range_key_attr:
        attributes[table.range_key_attr] = _wire(range_key)
    return attributes


def _forget(table: Table, key_json: dict[str, Any]) -> None:
    from local.moto_dynamodb import forget_item

    forget_item(table, key_json)


def _facts_as_json(facts: ConnectionFacts) -> dict[str, Any]:
    return {field.name: getattr(facts, field.name) for field in dataclasses.fields(facts) if field.init}


def connection_facts(saved: dict[str, Any]) -> ConnectionFacts:
    from local.events import ConnectionFacts

    return ConnectionFacts(
        **{
            **saved,
            "headers": [tuple(header) for header in saved["headers"]],
            "query": [tuple(parameter) for parameter in saved["query"]],
        }
    )


# -- files ------------------------------------------------------------------------------------------------------


def _exclusive_lock(path: Path) -> IO[str]:
    lock = path.open("a")
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StateDirectoryBusy(f"another CSMS keeps its state in {path.parent} (set CSMS_STATE_DIR)") from None
    return lock


def _delete_saved_state(directory: Path) -> None:
    (directory / SNAPSHOT).unlink(missing_ok=True)
    (directory / EXECUTIONS).unlink(missing_ok=True)
    shutil.rmtree(directory / JOURNAL, ignore_errors=True)


def _segment_path(directory: Path, number: int) -> Path:
    return directory / JOURNAL / f"{number:08d}.jsonl"


def _journal_numbers(directory: Path) -> list[int]:
    journal = directory / JOURNAL
    if not journal.is_dir():
        return []
    return sorted(int(path.stem) for path in journal.glob("*.jsonl") if path.stem.isdigit())


def _new_segment(directory: Path, number: int) -> IO[str]:
    (directory / JOURNAL).mkdir(exist_ok=True)
    segment = _segment_path(directory, number).open("x", encoding="utf-8")
    _fsync_directory(directory / JOURNAL)
    return segment


def _journal_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The saves of one journal file; a torn last line (the process was killed while writing it) is dropped."""
    with path.open(encoding="utf-8") as file:
        lines = file.readlines()
    for number, line in enumerate(lines, 1):
        try:
            if not line.endswith("\n"):
                raise ValueError("no end of line")
            yield json.loads(line)
        except ValueError:
            if number == len(lines):
                logger.warning("dropped a torn last save in %s (the process was killed while writing it)", path)
                return
            raise CorruptState(f"{path}, line {number}: unreadable") from None


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def compact(directory: Path, through: int) -> None:
    """Fold the snapshot and the journal files up to `through` into a new snapshot; delete those files.

    Needs nothing but the files (runs in a child process, see the module docstring)."""
    snapshot = directory / SNAPSHOT
    items: dict[tuple[str, str], str] = {}
    connections: dict[str, Any] = {}
    already = 0
    if snapshot.exists():
        with snapshot.open(encoding="utf-8") as lines:
            header = json.loads(next(lines))
            already, connections = header["through"], header["connections"]
            for line in lines:
                record = json.loads(line)
                items[(record["t"], json.dumps(record["k"], sort_keys=True))] = line
    folded = [n for n in _journal_numbers(directory) if n <= through]
    for number in folded:
        if number <= already:
            continue
        for saved in _journal_lines(_segment_path(directory, number)):
            for record in saved["items"]:
                key = (record["t"], json.dumps(record["k"], sort_keys=True))
                if record["i"] is None:
                    items.pop(key, None)
                else:
                    items[key] = json.dumps(record, separators=(",", ":")) + "\n"
            connections.update(saved["opened"])
            for connection_id in saved["closed"]:
                connections.pop(connection_id, None)
    temporary = directory / (SNAPSHOT + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(json.dumps({"format": FORMAT, "through": max(through, already), "connections": connections}) + "\n")
        file.writelines(items.values())
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, snapshot)
    _fsync_directory(directory)
    for number in folded:
        _segment_path(directory, number).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "compact":
        compact(Path(argv[1]), int(argv[2]))
        return 0
    print("usage: python -m local.state compact DIRECTORY THROUGH", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
