"""Step Functions callbacks: a workflow waiting on a command (task token) learns its outcome."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import boto3

from csms.ocpp.frames import decimal_to_json


class WorkflowCallbacks:
    def __init__(self, session: boto3.session.Session):
        self._session = session

    @cached_property
    def _client(self) -> Any:
        return self._session.client("stepfunctions")

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        self._client.send_task_success(taskToken=task_token, output=json.dumps(output, default=decimal_to_json))

    def fail(self, task_token: str, *, error: str, cause: str) -> None:
        # Step Functions caps error at 256 and cause at 32768 characters.
        self._client.send_task_failure(taskToken=task_token, error=error[:256], cause=cause[:32768])
