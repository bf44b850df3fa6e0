"""The CSMS on one machine without AWS: the front door (CloudFront + API Gateway WebSocket + the
@connections API) played by a `websockets` server, the Lambda handlers invoked in process, and AWS
emulated by moto. `python -m local` (`make run`) starts it; see `local.runtime` to start it in a test.

Nothing here imports the handlers' package at import time: functions are loaded on first invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.aws import emulated_aws
    from local.runtime import LocalConfig, LocalRuntime

__all__ = ["LocalConfig", "LocalRuntime", "emulated_aws"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import local.events` does not pay for websockets and moto.
    if name == "emulated_aws":
        from local.aws import emulated_aws

        return emulated_aws
    if name in ("LocalConfig", "LocalRuntime"):
        from local import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'local' has no attribute {name!r}")
