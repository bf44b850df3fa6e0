"""Workflows waiting when the local runtime stops run again when it restarts (restartable ones only); an execution
can be stopped or asked about a task token the moment it started; what ended is not kept for ever."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS

from csms.domain.clock import to_iso
from csms.runtime.settings import get_settings
from csms.runtime.wiring import get_services
from infra.workflows import WorkflowSpec
from local import workflows
from local.aws import MOTO_LOCK, REGION, emulated_aws
from local.runtime import LocalConfig, LocalRuntime
from local.state import EXECUTIONS, LocalState
from local.workflows import ENDED_EXECUTIONS_KEPT_FOR
from tests.fakes.clock import EPOCH, ManualClock

DEFINITION = Path(__file__).resolve().parent / "wait_until.asl.json"  # absolute: the spec joins it as is
WAITS = WorkflowSpec(name="Waits", definition=str(DEFINITION), description="test")
SENDS = WorkflowSpec(name="Sends", definition=WAITS.definition, description="test", restartable=False)
TABLE = "csms-restart"


def run_once(state_dir: Path, scenario: Any, *, clock: ManualClock) -> Any:
    get_settings.cache_clear()
    get_services.cache_clear()
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE)

    async def main() -> Any:
        async with LocalRuntime(config, state=state, workflows=(WAITS, SENDS), clock=clock) as runtime:
            return await asyncio.wait_for(scenario(runtime), timeout=30)

    try:
        with emulated_aws(TABLE), LocalState(state_dir) as state:
            return asyncio.run(main())
    finally:
        get_settings.cache_clear()
        get_services.cache_clear()


def executions(runtime: LocalRuntime, workflow: str) -> list[dict[str, Any]]:
    client = boto3.client("stepfunctions", region_name=REGION)
    return client.list_executions(stateMachineArn=runtime.workflows.arns[workflow])["executions"]


async def settled(runtime: LocalRuntime, workflow: str, status: str) -> list[dict[str, Any]]:
    for _ in range(500):
        found = executions(runtime, workflow)
        if found and all(execution["status"] == status for execution in found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{workflow} executions never all {status}: {found}")


def running_names(runtime: LocalRuntime) -> list[str]:
    return [execution["name"] for execution in runtime.workflows.running()]


async def ended(client: Any, execution_arn: str) -> None:
    for _ in range(500):  # the execution's own thread ends it
        if client.describe_execution(executionArn=execution_arn)["status"] != "RUNNING":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{execution_arn} never ended")


def test_a_waiting_execution_starts_again_after_a_restart_and_finishes_when_its_time_comes(tmp_path):
    state_dir = tmp_path / "state"
    until = {"until": to_iso(EPOCH + timedelta(hours=1))}

    async def before(runtime: LocalRuntime) -> None:
        client = boto3.client("stepfunctions", region_name=REGION)
        for workflow in ("Waits", "Sends"):
            client.start_execution(stateMachineArn=runtime.workflows.arns[workflow], name="expiry-1", input=json.dumps(until))
        await settled(runtime, "Waits", "RUNNING")

    async def still_waiting(runtime: LocalRuntime) -> None:
        (execution,) = await settled(runtime, "Waits", "RUNNING")
        assert execution["name"] == "expiry-1"
        assert executions(runtime, "Sends") == []  # not restartable: not run twice

    async def after_its_time(runtime: LocalRuntime) -> None:
        (execution,) = await settled(runtime, "Waits", "SUCCEEDED")
        assert execution["name"] == "expiry-1"

    run_once(state_dir, before, clock=ManualClock())
    saved = json.loads((state_dir / EXECUTIONS).read_text())
    assert saved == [{"workflow": "Waits", "name": "expiry-1", "input": json.dumps(until)}]
    run_once(state_dir, still_waiting, clock=ManualClock(EPOCH + timedelta(minutes=30)))
    run_once(state_dir, after_its_time, clock=ManualClock(EPOCH + timedelta(hours=2)))
    assert json.loads((state_dir / EXECUTIONS).read_text()) == []  # done: not run again


def test_an_execution_whose_thread_has_not_run_yet_can_be_stopped_and_does_not_break_task_answers(tmp_path, monkeypatch):
    """moto sets an execution's environment on the execution's thread: a StopExecution (a session's duration timer,
    the session ended at once) or a SendTaskSuccess for another execution's token coming first failed with an
    AttributeError while that thread had not run (seen under load). Here every execution thread is slow to start."""
    go = threading.Event()
    run = ExecutionWorker._execution_logic
    monkeypatch.setattr(ExecutionWorker, "_execution_logic", lambda worker: (go.wait(10), run(worker)))

    async def scenario(runtime: LocalRuntime) -> None:
        client = boto3.client("stepfunctions", region_name=REGION)
        until = json.dumps({"until": to_iso(EPOCH + timedelta(hours=1))})
        threading.Timer(0.2, go.set).start()
        started = client.start_execution(stateMachineArn=runtime.workflows.arns["Waits"], name="timer-1", input=until)
        with pytest.raises(ClientError) as unknown:
            client.send_task_success(taskToken="another-execution-s-token", output="{}")
        assert unknown.value.response["Error"]["Code"] == "InvalidToken"
        client.stop_execution(executionArn=started["executionArn"], cause="the session ended")
        (execution,) = await settled(runtime, "Waits", "ABORTED")
        assert execution["name"] == "timer-1"

    try:
        run_once(tmp_path / "state", scenario, clock=ManualClock())
    finally:
        go.set()


def test_the_threads_of_finished_executions_are_not_kept(tmp_path):
    """moto lists every thread an execution starts in `TMP_THREADS` and never empties it (about five per execution,
    for as long as the runtime runs): starting an execution forgets those that finished."""

    async def scenario(runtime: LocalRuntime) -> None:
        client = boto3.client("stepfunctions", region_name=REGION)
        past = json.dumps({"until": to_iso(EPOCH - timedelta(hours=1))})  # nothing to wait for: it ends at once
        for number in range(5):
            client.start_execution(stateMachineArn=runtime.workflows.arns["Waits"], name=f"done-{number}", input=past)
        assert len(await settled(runtime, "Waits", "SUCCEEDED")) == 5
        for _ in range(500):  # the last one's threads end just after it reports its status
            finished = [thread for thread in TMP_THREADS if not thread.is_alive()]
            if finished:
                break
            await asyncio.sleep(0.01)
        assert finished
        until = json.dumps({"until": to_iso(EPOCH + timedelta(hours=1))})
        client.start_execution(stateMachineArn=runtime.workflows.arns["Waits"], name="waiting", input=until)
        assert not any(thread in TMP_THREADS for thread in finished)
        assert any(thread.is_alive() for thread in TMP_THREADS)  # the waiting execution's are kept

    run_once(tmp_path / "state", scenario, clock=ManualClock())


def test_the_running_executions_follow_starts_and_ends_between_saves(tmp_path):
    until = json.dumps({"until": to_iso(EPOCH + timedelta(hours=1))})

    async def scenario(runtime: LocalRuntime) -> None:
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = runtime.workflows.arns["Waits"]
        first = client.start_execution(stateMachineArn=arn, name="expiry-1", input=until)["executionArn"]
        client.start_execution(stateMachineArn=runtime.workflows.arns["Sends"], name="send-1", input=until)
        assert running_names(runtime) == ["expiry-1"]
        client.start_execution(stateMachineArn=arn, name="expiry-2", input=until)
        assert running_names(runtime) == ["expiry-1", "expiry-2"]
        client.stop_execution(executionArn=first)
        await ended(client, first)
        assert running_names(runtime) == ["expiry-2"]
        assert runtime.workflows.running()[0]["input"] == until

    run_once(tmp_path / "state", scenario, clock=ManualClock())


def test_ended_executions_are_forgotten_after_a_while_and_the_running_ones_still_followed(tmp_path, monkeypatch):
    """moto would keep every execution that ended (history and interpreter state included) for as long as the runtime
    runs: they are kept `ENDED_EXECUTIONS_KEPT_FOR`, their name taken meanwhile, then dropped."""
    past = json.dumps({"until": to_iso(EPOCH - timedelta(hours=1))})  # nothing to wait for: it ends at once
    until = json.dumps({"until": to_iso(EPOCH + timedelta(hours=1))})

    async def scenario(runtime: LocalRuntime) -> None:
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = runtime.workflows.arns["Waits"]
        done = client.start_execution(stateMachineArn=arn, name="done", input=past)["executionArn"]
        await settled(runtime, "Waits", "SUCCEEDED")
        client.start_execution(stateMachineArn=arn, name="waiting-1", input=until)
        assert running_names(runtime) == ["waiting-1"]
        ended_at = client.describe_execution(executionArn=done)["stopDate"]  # to the millisecond; moto's, to the microsecond

        with MOTO_LOCK:
            assert runtime.workflows.forget_ended_executions(ended_at + ENDED_EXECUTIONS_KEPT_FOR - timedelta(seconds=1)) == 0
        assert client.describe_execution(executionArn=done)["status"] == "SUCCEEDED"
        with pytest.raises(ClientError) as taken:  # a stream batch tried again does not start it twice
            client.start_execution(stateMachineArn=arn, name="done", input=past)
        assert taken.value.response["Error"]["Code"] == "ExecutionAlreadyExists"

        with MOTO_LOCK:
            assert runtime.workflows.forget_ended_executions(ended_at + ENDED_EXECUTIONS_KEPT_FOR + timedelta(milliseconds=1)) == 1
        with pytest.raises(ClientError) as gone:
            client.describe_execution(executionArn=done)
        assert gone.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
        client.start_execution(stateMachineArn=arn, name="waiting-2", input=until)
        assert running_names(runtime) == ["waiting-1", "waiting-2"]  # the ones started after a forgetting are not missed

        # Every start looks for ended executions now and then (here: always, and they are kept no time).
        monkeypatch.setattr(workflows, "FORGET_ENDED_EVERY", timedelta(0))
        monkeypatch.setattr(workflows, "ENDED_EXECUTIONS_KEPT_FOR", timedelta(0))
        done_too = client.start_execution(stateMachineArn=arn, name="done-too", input=past)["executionArn"]
        await ended(client, done_too)
        client.start_execution(stateMachineArn=arn, name="waiting-3", input=until)
        assert [execution["name"] for execution in executions(runtime, "Waits")] == ["waiting-3", "waiting-2", "waiting-1"]

    run_once(tmp_path / "state", scenario, clock=ManualClock())
