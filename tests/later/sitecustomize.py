"""Python under `make test-later`, found through PYTHONPATH by every Python process the suite starts.

The suite runs with libfaketime moving the wall clock (CLOCK_REALTIME: `time.time`, `datetime.now`, the `date` of
any child process) three years ahead. libfaketime (Debian's 0.9.10) moves the monotonic clock too unless
`FAKETIME_DONT_FAKE_MONOTONIC=1`, and each kind of process needs one of the two:

- Python needs the monotonic clock left alone: a thread's timed wait (`Event.wait`, `Lock.acquire(timeout=...)`)
  waits on the real monotonic clock for a deadline taken from the moved one, and would last years. The monotonic
  clock carries no date, so nothing the suite checks depends on it being moved. One call then breaks:
  `time.sleep`, which CPython implements as `clock_nanosleep` with an absolute CLOCK_MONOTONIC deadline, gets that
  deadline shifted by the fake offset and fails with EINVAL; here it waits the same time with `select`, a relative
  timeout libfaketime leaves alone.
- Node (the CDK's jsii kernel) and Chromium (the browser tests) hang when only the wall clock moves: they get both
  moved.

libfaketime reads the setting once, when a process starts; `make test-later` sets it for pytest, and this module
takes it out of the environment that other programs inherit, and puts it back for Python children.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from typing import Any

KEEP_MONOTONIC = "FAKETIME_DONT_FAKE_MONOTONIC"


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)  # retried with the time left when a signal interrupts it (PEP 475)


def _is_python(args: Any) -> bool:
    program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
    name = os.path.basename(os.fsdecode(program).split()[0])
    return os.fsdecode(program) == sys.executable or name.startswith("python")


def _keeping_python_s_clock(popen_init: Any) -> Any:
    def __init__(self: subprocess.Popen[Any], args: Any, *rest: Any, env: Any = None, **options: Any) -> None:
        if _is_python(args):
            env = {**(os.environ if env is None else env), KEEP_MONOTONIC: "1"}
        popen_init(self, args, *rest, env=env, **options)

    return __init__


if os.environ.pop(KEEP_MONOTONIC, None) == "1":
    time.sleep = _sleep
    subprocess.Popen.__init__ = _keeping_python_s_clock(subprocess.Popen.__init__)  # type: ignore[method-assign]
