"""AWS emulated in process by moto, safe to call from the handlers' worker threads.

Nothing inside `emulated_aws()` can reach real AWS: credentials are fake, profiles and endpoint
overrides are hidden, and moto answers every request to an `*.amazonaws.com` URL. Requests to other
URLs (our loopback `@connections` endpoint) go out over real HTTP: moto registers `http` as a
pass-through for them (`moto.core.custom_responses_mock`), and its botocore hook returns `None`
(= "send it for real") for URLs that match no AWS service.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
"""moto's default account: ARNs the local runtime builds match the ones moto builds."""

_FAKE_ENVIRONMENT: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


MOTO_LOCK = threading.RLock()
"""Held by every request moto answers (see `serialised_moto`); hold it to see moto's state between requests."""


def _is_hidden(name: str) -> bool:
    # A profile makes botocore prefer the shared files' credentials over the fake ones from the
    # environment, and an endpoint override would send requests past moto to a real host.
    return name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") or name.startswith("AWS_ENDPOINT_URL")


@contextmanager
def _fake_credentials() -> Iterator[None]:
    saved = {name: value for name, value in os.environ.items() if name in _FAKE_ENVIRONMENT or _is_hidden(name)}
    for name in list(saved):
        if _is_hidden(name):
            del os.environ[name]
    os.environ.update(_FAKE_ENVIRONMENT)
    try:
        yield
    finally:
        for name in _FAKE_ENVIRONMENT:
            os.environ.pop(name, None)
        os.environ.update(saved)


@contextmanager
def serialised_moto() -> Iterator[None]:
    """Let one moto request run at a time.

    On AWS a conditional write or an `ADD` counter update is atomic; moto implements them as
    read-check-write in Python, so two handler threads can both pass the same condition (two
    connections both "current", two transactions with one id). Every SDK request that moto answers
    goes through `BotocoreStubber.process_request` of the single `botocore_stubber` moto registers
    as a botocore `before-send` handler (its `requests`/`responses` callback uses the same method),
    so shadowing that method on the instance serialises all of moto and nothing else: pass-through
    requests (the `@connections` endpoint) return from it before any network I/O.

    Re-entrant, because moto may call back into itself on the same thread while processing
    (Step Functions service integrations). Step Functions executions run on moto's own threads
    and only wait for this lock, they never hold it while waiting for another thread.
    """
    from moto.core.models import botocore_stubber

    if "process_request" in vars(botocore_stubber):  # an enclosing emulated_aws() already did it
        yield
        return
    lock = MOTO_LOCK
    unlocked: Callable[[Any], Any] = botocore_stubber.process_request

    @functools.wraps(unlocked)
    def process_request(request: Any) -> Any:
        with lock:
            return unlocked(request)

    botocore_stubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        del botocore_stubber.process_request


@contextmanager
def thread_safe_client_exceptions() -> Iterator[None]:
    """One exception class per error code, whichever handler thread meets it first.

    A client builds its modelled exceptions (`client.exceptions`) on first use, through its session's factory,
    whose cache is a check-then-set: two threads using a new client at once can each build their own classes,
    and then `except client.exceptions.ConditionalCheckFailedException` in one does not catch the class the
    other raised (seen in the suite: a lost conditional write escaped its handler). On Lambda a process runs one
    request at a time; here the factory builds under a lock, so every thread gets the one cached set.
    """
    from botocore.errorfactory import ClientExceptionsFactory

    lock = threading.Lock()
    unlocked = ClientExceptionsFactory.create_client_exceptions

    @functools.wraps(unlocked)
    def create_client_exceptions(factory: ClientExceptionsFactory, service_model: Any) -> Any:
        with lock:
            return unlocked(factory, service_model)

    ClientExceptionsFactory.create_client_exceptions = create_client_exceptions  # type: ignore[method-assign]
    try:
        yield
    finally:
        ClientExceptionsFactory.create_client_exceptions = unlocked  # type: ignore[method-assign]


@contextmanager
def shared_by_threads() -> Iterator[None]:
    """moto and botocore made safe for handlers running on several threads at once (the local runtime; tests that
    drive handlers from threads): one moto request at a time, one set of exception classes per client."""
    with serialised_moto(), thread_safe_client_exceptions():
        yield


_unsigned_contexts = 0
"""How many `unsigned_requests()` are open (entered and left on the thread that sets the runtime up)."""


def _signature_version(**_: Any) -> Any:
    """botocore `choose-signer` handler: none while an `unsigned_requests()` is open and moto checks no signature,
    else the client's own. moto's IAM enforcement, off unless a test turns it on (the least-privilege proof), finds
    the caller's key in the signature."""
    from botocore import UNSIGNED
    from moto import settings

    moto_checks_signatures = settings.INITIAL_NO_AUTH_ACTION_COUNT != float("inf")
    return UNSIGNED if _unsigned_contexts and not moto_checks_signatures else None


@contextmanager
def unsigned_requests() -> Iterator[None]:
    """SDK requests go unsigned: moto answers them in process and checks no signature (unless its IAM enforcement
    is on), nor does the loopback `@connections` endpoint (local/connections.py). Signing them (SigV4's canonical
    request and HMACs) took about 6 % of the runtime's CPU under load (py-spy, `benchmarks.storage --only load`).

    Through botocore's `choose-signer` event, which a `botocore.UNSIGNED` answer turns off: the handler joins those
    every new session starts with (as moto's own hook does) and stays there, answering only inside this context.
    """
    from botocore.handlers import BUILTIN_HANDLERS

    global _unsigned_contexts
    handler = ("choose-signer", _signature_version)
    if handler not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(handler)
    _unsigned_contexts += 1
    try:
        yield
    finally:
        _unsigned_contexts -= 1


def _moto_config(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """moto's user config, section by section: `mock_aws(config=...)` replaces whole sections."""
    from moto.core.config import default_user_config

    defaults: dict[str, Any] = dict(default_user_config)
    # Our credentials, not moto's FOOBARKEY: the same fake values whether or not moto is active.
    sections: dict[str, Any] = {"core": {"mock_credentials": False}}
    for section, values in overrides.items():
        sections[section] = {**sections.get(section, {}), **values}
    return {section: {**defaults.get(section, {}), **values} for section, values in sections.items()}


@contextmanager
def emulated_aws(table_name: str, *, moto_config: Mapping[str, Mapping[str, Any]] | None = None) -> Iterator[None]:
    """Fake credentials, moto for every AWS service, and the CSMS table created.

    moto executes the real state machine definitions (the local runtime runs the workflows the stack
    deploys); `moto_config` adds to or overrides moto's config by section. Leaves the environment as it
    found it on exit; moto's state is discarded.
    """
    with _fake_credentials():
        # Imported here so that importing `local` costs nothing until AWS is needed, and so that
        # boto3 clients are created after moto registered its botocore hook.
        import boto3
        from moto import mock_aws

        # The table schema is owned by the core package (one source of truth with the CDK stack).
        from csms.adapters.dynamodb.schema import create_table_request

        overrides = {"stepfunctions": {"execute_state_machine": True}, **(moto_config or {})}
        config: Any = _moto_config(overrides)  # moto's DefaultConfig TypedDict, by section
        from local.moto_dynamodb import scaled_dynamodb
        from local.moto_messaging import scaled_messaging

        with mock_aws(config=config), unsigned_requests(), shared_by_threads(), scaled_dynamodb(), scaled_messaging():
            boto3.client("dynamodb", region_name=REGION).create_table(**create_table_request(table_name))
            yield
