"""The manifest's functions, invoked in process the way Lambda invokes them.

Each function is its own `lambdas/<name>/handler.py`, loaded by file path under a unique module
name (they are all called `handler.py`, as in Lambda), lazily on first invocation: the handlers may
not exist yet when the local runtime is imported. Invocations run on a thread pool, standing in for
concurrent Lambda execution environments.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.manifest import CORE_LAYER_DIR, FUNCTIONS, LAMBDAS_DIR, FunctionSpec
from local.aws import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
"""`handler(event, context)`, as Lambda calls it."""

InvocationHook = Callable[[str, dict[str, Any]], AbstractContextManager[Any]]
"""`hook(function_name, event)` returns a context manager entered around one invocation, on the
worker thread that runs it (so thread-local or contextvar bookkeeping sees the handler's work)."""


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


class FunctionTimeout(Exception):
    """The invocation ran past the function's configured timeout ("Task timed out" on Lambda).

    A thread cannot be killed, so the handler keeps running in the background; its result is dropped.
    """


@dataclass(frozen=True)
class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, init=False, repr=False)

    @classmethod
    def for_function(cls, spec: FunctionSpec) -> LambdaContext:
        return cls(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=function_arn(spec.name),
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
            timeout_seconds=spec.timeout_seconds,
        )

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class LocalFunctions:
    """Invokes functions by logical name; `handlers` replaces the ones loaded from `lambdas/`."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec] = FUNCTIONS,
        *,
        handlers: Mapping[str, Handler] | None = None,
        invocation_hook: InvocationHook | None = None,
        max_concurrency: int = 32,
        lambdas_dir: Path = LAMBDAS_DIR,
    ) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._lambdas_dir = lambdas_dir
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._load_lock = threading.Lock()
        self._hook = invocation_hook
        self._executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="lambda")

    def set_invocation_hook(self, hook: InvocationHook | None) -> None:
        """Replace the hook for invocations submitted from now on (a benchmark measures one phase at a time)."""
        self._hook = hook

    def spec(self, name: str) -> FunctionSpec:
        return self._specs[name]

    async def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Run `name`'s handler on a worker; raises what it raises, or FunctionTimeout."""
        spec, future = self._submit(name, event)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout=spec.timeout_seconds)
        except TimeoutError:
            raise _timed_out(spec) from None

    def invoke_blocking(self, name: str, event: dict[str, Any]) -> Any:
        """`invoke` for callers outside the event loop (moto's Step Functions executions run on threads)."""
        spec, future = self._submit(name, event)
        try:
            return future.result(timeout=spec.timeout_seconds)
        except TimeoutError:
            raise _timed_out(spec) from None

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, name: str, event: dict[str, Any]) -> tuple[FunctionSpec, Future[Any]]:
        spec = self._specs[name]
        # The caller's contextvars (e.g. a benchmark's per-action counters) follow the event into
        # the worker, as asyncio.to_thread would do; an executor alone does not copy them.
        return spec, self._executor.submit(contextvars.copy_context().run, self._invoke_on_worker, spec, event)

    def _invoke_on_worker(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        handler = self._handler(spec)
        context = LambdaContext.for_function(spec)
        hook = self._hook(spec.name, event) if self._hook else nullcontext()
        with hook:
            return handler(event, context)

    def _handler(self, spec: FunctionSpec) -> Handler:
        if (handler := self._handlers.get(spec.name)) is None:
            with self._load_lock:  # first invocations may race on several workers
                if (handler := self._handlers.get(spec.name)) is None:
                    handler = self._handlers[spec.name] = _load_handler(spec, self._lambdas_dir / spec.name)
        return handler


def _timed_out(spec: FunctionSpec) -> FunctionTimeout:
    return FunctionTimeout(f"{spec.name}: Task timed out after {spec.timeout_seconds:.2f} seconds")


def _load_handler(spec: FunctionSpec, code_dir: Path) -> Handler:
    # Lambda puts the layer's python/ folder on sys.path (/opt/python); an editable install
    # usually did the same already.
    if str(CORE_LAYER_DIR / "python") not in sys.path:
        sys.path.append(str(CORE_LAYER_DIR / "python"))
    module_path, attribute = spec.handler.rsplit(".", 1)
    path = code_dir / (module_path.replace(".", "/") + ".py")
    module = _load_module(f"_lambda_{spec.name}_{module_path.replace('.', '_')}", path)
    handler: Handler = getattr(module, attribute)
    logger.info("loaded function %s from %s", spec.name, path)
    return handler


def _load_module(module_name: str, path: Path) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
