"""The workflows of `infra/workflows`, executed by moto's Step Functions interpreter on this machine.

The very definition files the stack deploys are rendered with local values and created in moto (with
`execute_state_machine` on, see `local.aws.emulated_aws`). moto would hand Lambda tasks to its own Lambda
emulation, which needs Docker or only echoes; here they run the real handlers in process instead, through
the same `LocalFunctions` the gateway uses. Definitions call functions through the
`arn:aws:states:::lambda:invoke` service integration (optionally `.waitForTaskToken`), the form patched here.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS

from csms.domain.clock import from_iso
from csms.runtime.wiring import get_services
from infra.manifest import FUNCTIONS
from infra.workflows import WORKFLOWS, WorkflowSpec, definition_substitutions, render_definition
from local.aws import ACCOUNT_ID, MOTO_LOCK, REGION
from local.lambdas import LocalFunctions, function_arn

logger = logging.getLogger(__name__)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/csms-local-workflows"
LOCAL_EVENT_BUS = "csms-local"
CLOCK_POLL_SECONDS = 0.5
"""How often a waiting execution looks at the clock again."""
EXECUTION_START_SECONDS = 5
"""How long StartExecution waits at most for its execution's thread to run the program (a few milliseconds)."""
ENDED_EXECUTIONS_KEPT_FOR = timedelta(minutes=5)
"""How long moto keeps an execution that ended: DescribeExecution and GetExecutionHistory find it, and its name stays
taken (a StartExecution under it fails with ExecutionAlreadyExists, which is how a table stream batch tried again does
not bill a session twice: `local.table_stream` tries a batch again within about two minutes). AWS keeps them 90 days;
moto would keep them, their history and their interpreter's state (some 40 KB per billing hand-off) for as long as the
runtime runs, and look through all of them at every StartExecution. They are not part of the saved state either."""
FORGET_ENDED_EVERY = timedelta(seconds=30)
"""How often (at most) a StartExecution looks for ended executions to forget."""


class LocalWorkflows:
    def __init__(self, functions: LocalFunctions, *, table_name: str, workflows: tuple[WorkflowSpec, ...] = WORKFLOWS):
        self._functions = functions
        self._table_name = table_name
        self._workflows = workflows
        self.arns: dict[str, str] = {}
        self._ended_forgotten_at: datetime | None = None

    def create(self) -> dict[str, str]:
        """Create every state machine in moto; returns the environment variables naming their ARNs."""
        client = boto3.client("stepfunctions", region_name=REGION)
        function_arns = {spec.name: function_arn(spec.name) for spec in FUNCTIONS}
        for spec in self._workflows:
            # The same placeholders CloudFormation's DefinitionSubstitutions fill on AWS, with local values.
            values = definition_substitutions(
                spec, function_arns=function_arns, table_name=self._table_name, event_bus_name=LOCAL_EVENT_BUS
            )
            created = client.create_state_machine(
                name=spec.name, definition=render_definition(spec, values), roleArn=ROLE_ARN, type="STANDARD"
            )
            self.arns[spec.name] = created["stateMachineArn"]
        return {spec.arn_environment_variable: self.arns[spec.name] for spec in self._workflows}

    def running(self) -> list[dict[str, str]]:
        """The running executions of restartable workflows (what a restart starts again): workflow, name, input.

        Read from moto's backend, not through `list_executions`, which the state saver would call every second and
        which sorts every execution moto keeps on each request: those running, and those that ended less than
        `ENDED_EXECUTIONS_KEPT_FOR` ago (`forget_ended_executions`)."""
        with MOTO_LOCK:
            return [
                {"workflow": spec.name, "name": e.name, "input": e.execution_input}
                for spec, executions in self._moto_executions()
                if spec.restartable
                for e in executions
                if e.status == "RUNNING"
            ]

    def forget_ended_executions(self, now: datetime) -> int:
        """Drop from moto the executions that ended `ENDED_EXECUTIONS_KEPT_FOR` or more before `now` (real time, as
        moto's stop dates are); returns how many. The caller holds moto's lock (StartExecution does)."""
        forgotten = 0
        for _, executions in self._moto_executions():
            kept = [e for e in executions if e.stop_date is None or now - e.stop_date < ENDED_EXECUTIONS_KEPT_FOR]
            forgotten += len(executions) - len(kept)
            executions[:] = kept
        return forgotten

    def _moto_executions(self) -> Iterator[tuple[WorkflowSpec, list[Any]]]:
        """Each created workflow with moto's own list of its executions (in start order); under moto's lock."""
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(ACCOUNT_ID, REGION)
        for spec in self._workflows:
            if spec.name in self.arns:
                yield spec, backend.describe_state_machine(self.arns[spec.name]).executions

    def _before_each_start(self) -> None:
        """What `_start_running` does before an execution starts: forget the threads, and now and then the
        executions, that ended."""
        _forget_finished_threads()
        now = datetime.now(UTC)
        if self._ended_forgotten_at is None or now - self._ended_forgotten_at >= FORGET_ENDED_EVERY:
            self._ended_forgotten_at = now
            self.forget_ended_executions(now)

    def restart(self, executions: list[dict[str, str]]) -> None:
        """Start again, from the beginning and under the same names, the executions a previous run left running."""
        client = boto3.client("stepfunctions", region_name=REGION)
        for saved in executions:
            arn = self.arns.get(saved["workflow"])
            if arn is None:
                logger.warning("Not restarting %s: this runtime has no workflow %s", saved["name"], saved["workflow"])
                continue
            client.start_execution(stateMachineArn=arn, name=saved["name"], input=saved["input"])
            logger.info("Restarted %s execution %s", saved["workflow"], saved["name"])

    def stop_all(self) -> None:
        """Abort every running execution, so that none acts (or waits in a thread) once the runtime stopped."""
        client = boto3.client("stepfunctions", region_name=REGION)
        for spec in self._workflows:
            for execution in self._running_executions(client, spec):
                client.stop_execution(executionArn=execution["executionArn"], cause="The local runtime stopped")

    def _running_executions(self, client: Any, spec: WorkflowSpec) -> Iterator[dict[str, Any]]:
        if spec.name not in self.arns:
            return
        pages = client.get_paginator("list_executions").paginate(stateMachineArn=self.arns[spec.name], statusFilter="RUNNING")
        for page in pages:
            yield from page["executions"]

    @contextmanager
    def lambda_tasks_in_process(self) -> Iterator[None]:
        """While active, moto's Lambda task invocations run our handlers (see the module docstring), its Wait
        states wait until their timestamp as the CSMS's clock tells it (`_wait_until`), and so do its Retry
        intervals (`_retry`); an execution can be stopped or told of a task from the moment it started, and the
        threads, and after a while the executions, that ended are not kept (`_start_running`)."""
        original_invoke = lambda_eval_utils._invoke_lambda_function
        original_wait = Timestamp._eval_body
        original_retry = RetrierDecl._eval_body
        original_start = ExecutionWorker.start
        lambda_eval_utils._invoke_lambda_function = self._invoke
        Timestamp._eval_body = _wait_until  # type: ignore[method-assign, assignment]
        RetrierDecl._eval_body = _retry  # type: ignore[method-assign, assignment]
        ExecutionWorker.start = _start_running(original_start, self._before_each_start)  # type: ignore[method-assign]
        try:
            yield
        finally:
            lambda_eval_utils._invoke_lambda_function = original_invoke
            Timestamp._eval_body = original_wait  # type: ignore[method-assign]
            RetrierDecl._eval_body = original_retry  # type: ignore[method-assign]
            ExecutionWorker.start = original_start  # type: ignore[method-assign]

    def _invoke(self, parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        name = str(parameters["FunctionName"]).rsplit(":", 1)[-1]
        payload = parameters.get("Payload")
        event = json.loads(payload) if payload else {}
        try:
            result = self._functions.invoke_blocking(name, event)
        except Exception as error:  # Lambda reports a handler exception as FunctionError "Unhandled"
            logger.exception("Workflow task %s failed", name)
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": result}


def _start_running(start: Callable[[ExecutionWorker], None], before: Callable[[], None]) -> Callable[[ExecutionWorker], None]:
    """moto creates an execution's environment on the execution's own thread, some time after StartExecution
    answered; until the program runs there, its worker's `env` is None or not yet running, and StopExecution (a
    duration timer whose session just ended) fails with an AttributeError or is ignored, and SendTaskSuccess,
    SendTaskFailure and SendTaskHeartbeat for any token fail (they look through every RUNNING execution).
    StartExecution here answers once the program runs, as on AWS, where the execution exists when it answers.
    The thread needs no lock to get there (moto's, held by the caller, included). Each start first calls `before`
    (`LocalWorkflows._before_each_start`: what ended is forgotten)."""

    def start_running(worker: ExecutionWorker) -> None:
        before()
        start(worker)
        deadline = time.monotonic() + EXECUTION_START_SECONDS
        while (worker.env is None or worker.env.program_state() is None) and time.monotonic() < deadline:
            time.sleep(0.001)

    return start_running


def _forget_finished_threads() -> None:
    """moto appends every thread an execution starts (its program's, each state's evaluation, each task token's wait)
    to its module-level `TMP_THREADS` and never reads or empties it: about five `Thread` objects per execution, kept
    for as long as the runtime runs. Only those still alive are kept (one appended meanwhile on another thread may be
    dropped with them: nothing reads the list)."""
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


@contextmanager
def definitions_parsed_once() -> Iterator[None]:
    """While active, moto parses a state machine definition once, not at the start of every execution.

    moto runs every execution from the definition's text: ANTLR's Python runtime parses it again (tens of
    milliseconds holding the GIL, for every StopTransaction's billing hand-off), then the parse tree is turned
    into the components that run. The parse tree depends on the text only and is only read: it is kept per
    distinct text, and each execution still gets components of its own (they are built fresh from the tree,
    so no execution shares any state with another). A definition that fails to parse is not kept."""
    original = AmazonStateLanguageParser.__dict__["parse"]
    parse_tree = functools.lru_cache(maxsize=64)(lambda definition: original.__func__(definition)[1])

    def parse(definition: str) -> tuple[Any, Any]:
        tree = parse_tree(definition)
        return Preprocessor().visit(tree), tree

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        AmazonStateLanguageParser.parse = original  # type: ignore[method-assign]


def _wait_until(wait: Timestamp, env: Environment) -> None:
    """A `Timestamp`/`TimestampPath` Wait, by the CSMS's own clock: moto compares the UTC timestamp with the naive
    *local* time (hours off wherever TZ is not UTC) and waits whole seconds, truncated (up to a second early).
    Here the wait re-reads the clock every `CLOCK_POLL_SECONDS` until the moment has come, so it never ends early,
    follows a clock a test moves by hand, and ends at once when the execution is stopped."""
    wait.string.eval(env=env)
    text: str = env.stack.pop()
    if not wait._is_valid_timestamp_pattern(text):
        raise FailureEventException(wait._create_failure_event(env, text))
    _wait_for(from_iso(text), env)


def _retry(retrier: RetrierDecl, env: Environment) -> None:
    """A Retrier as moto runs it (RetrierDecl._eval_body), but waiting its interval by the CSMS's clock where moto
    sleeps real seconds: in `make run` a 20 s retry lasts 20 s, and a test shortens it by moving the clock, as it
    does a Wait, the definition left as the stack deploys it."""
    retrier.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return
    retrier.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return
    retrier.interval_seconds.eval(env=env)
    retrier.backoff_rate.eval(env=env)
    retrier.max_delay_seconds.eval(env=env)
    retrier.jitter_strategy.eval(env=env)
    interval_seconds: float = env.stack.pop()
    _wait_for(get_services().clock.now() + timedelta(seconds=interval_seconds), env)
    env.stack.append(RetrierOutcome.Executed)


def _wait_for(moment: datetime, env: Environment) -> None:
    """Until `moment` by the CSMS's clock, looking again every `CLOCK_POLL_SECONDS`; at once when the execution is
    stopped."""
    clock = get_services().clock
    while env.is_running():
        remaining = (moment - clock.now()).total_seconds()
        if remaining <= 0:
            return
        env.program_state_event.wait(min(remaining, CLOCK_POLL_SECONDS))
