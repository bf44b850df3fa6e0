"""Functions loaded from `lambdas/<name>/handler.py` and invoked like Lambda invokes them."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from contextlib import contextmanager

import pytest

from infra.manifest import FunctionSpec
from local.lambdas import FunctionTimeout, LocalFunctions

SPECS = (
    FunctionSpec(name="ping", description="test", memory_mb=512, timeout_seconds=10),
    FunctionSpec(name="pong", description="test"),
)


def _write_handler(lambdas_dir, name: str, body: str) -> None:
    (lambdas_dir / name).mkdir(parents=True, exist_ok=True)
    (lambdas_dir / name / "handler.py").write_text(body)


def test_each_function_is_its_own_handler_py_loaded_lazily(tmp_path, run):
    functions = LocalFunctions(SPECS, lambdas_dir=tmp_path)
    # Written after the runtime was built: loading happens at the first invocation.
    _write_handler(tmp_path, "ping", "NAME = 'ping'\ndef handler(event, context):\n    return NAME, event\n")
    _write_handler(tmp_path, "pong", "NAME = 'pong'\ndef handler(event, context):\n    return NAME, event\n")

    async def scenario():
        return await functions.invoke("ping", {"n": 1}), await functions.invoke("pong", {"n": 2})

    try:
        assert run(scenario()) == (("ping", {"n": 1}), ("pong", {"n": 2}))
    finally:
        functions.close()


def test_the_context_object_describes_the_function(tmp_path, run):
    _write_handler(tmp_path, "ping", "def handler(event, context):\n    return context\n")
    functions = LocalFunctions(SPECS, lambdas_dir=tmp_path)
    try:
        context = run(functions.invoke("ping", {}))
    finally:
        functions.close()
    assert context.function_name == "ping"
    assert context.function_version == "$LATEST"
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:ping"
    assert context.log_group_name == "/aws/lambda/ping"
    assert "[$LATEST]" in context.log_stream_name
    assert len(context.aws_request_id) == 36
    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000


def test_invocations_run_on_workers_with_the_callers_contextvars_and_inside_the_hook(run):
    action: contextvars.ContextVar[str] = contextvars.ContextVar("action", default="none")
    seen = []

    @contextmanager
    def hook(function_name, event):
        seen.append(("enter", function_name, event, threading.current_thread().name, action.get()))
        yield
        seen.append(("exit", function_name))

    def handler(event, context):
        seen.append(("handler", threading.current_thread().name, action.get()))
        return "ok"

    functions = LocalFunctions(SPECS, handlers={"ping": handler}, invocation_hook=hook)

    async def scenario():
        action.set("Heartbeat")
        return await functions.invoke("ping", {"body": "x"})

    try:
        assert run(scenario()) == "ok"
    finally:
        functions.close()
    (enter, _, _, enter_thread, enter_action), (_, handler_thread, handler_action), exit_ = seen
    assert enter == "enter" and seen[0][1:3] == ("ping", {"body": "x"})
    assert enter_thread == handler_thread != threading.main_thread().name
    assert enter_action == handler_action == "Heartbeat"
    assert exit_ == ("exit", "ping")


def test_an_invocation_past_the_timeout_fails_like_a_lambda_timeout(run):
    quick = FunctionSpec(name="slow", description="test", timeout_seconds=0.2)  # type: ignore[arg-type]
    release = threading.Event()
    functions = LocalFunctions((quick,), handlers={"slow": lambda event, context: release.wait(5)})
    try:
        started = time.monotonic()
        with pytest.raises(FunctionTimeout, match="Task timed out"):
            run(functions.invoke("slow", {}))
        assert time.monotonic() - started < 1
    finally:
        release.set()
        functions.close()


def test_a_handler_exception_reaches_the_caller(run):
    def broken(event, context):
        raise ValueError("bad frame")

    functions = LocalFunctions(SPECS, handlers={"ping": broken})
    try:
        with pytest.raises(ValueError, match="bad frame"):
            run(functions.invoke("ping", {}))
    finally:
        functions.close()


def test_invocations_run_concurrently(run):
    together = threading.Barrier(3, timeout=2)
    functions = LocalFunctions(SPECS, handlers={"ping": lambda event, context: together.wait()})

    async def scenario():
        return await asyncio.gather(*(functions.invoke("ping", {}) for _ in range(3)))

    try:
        assert sorted(run(scenario())) == [0, 1, 2]
    finally:
        functions.close()
