"""The SendCommand workflow (the definition file the stack deploys), executed by moto's Step Functions
interpreter with its Lambda task running the real command function, against a simulated station."""

from __future__ import annotations

import asyncio
import json

import boto3
import pytest

from tests.e2e.test_operator_commands import started_station, stopped

pytestmark = pytest.mark.e2e


async def run_workflow(runtime, name: str, workflow_input: dict) -> dict:
    client = boto3.client("stepfunctions")
    execution = client.start_execution(
        stateMachineArn=runtime.workflows.arns["SendCommand"], name=name, input=json.dumps(workflow_input)
    )
    for _ in range(200):
        described = client.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not finish")


def test_a_workflow_sends_a_command_and_waits_for_the_station_s_answer(run_local):
    async def scenario(runtime):
        station, running = await started_station(runtime, failures={"Reset": "InternalError"})
        succeeded = await run_workflow(
            runtime, "unlock-cp100", {"chargePointId": "CP100", "action": "UnlockConnector", "payload": {"connectorId": 1}}
        )
        assert succeeded["status"] == "SUCCEEDED"
        output = json.loads(succeeded["output"])
        assert output["action"] == "UnlockConnector" and output["response"] == {"status": "Unlocked"}
        assert [call.action for call in station.received_calls if call.action == "UnlockConnector"] == ["UnlockConnector"]

        failed = await run_workflow(runtime, "reset-cp100", {"chargePointId": "CP100", "action": "Reset", "payload": {"type": "Soft"}})
        assert (failed["status"], failed.get("error")) == ("FAILED", "InternalError")

        unknown = await run_workflow(runtime, "reset-nobody", {"chargePointId": "NOBODY", "action": "Reset", "payload": {"type": "Soft"}})
        assert (unknown["status"], unknown.get("error")) == ("FAILED", "StationNotFound")
        await stopped(station, running)

    run_local(scenario)
