"""Cold import time of each function's handler module, beside `import boto3` alone, in the same run.

What a Lambda cold start pays for our code before the first event: each figure is the best of several
fresh interpreters, each set up as Lambda sets one up: the function's folder, then the core layer's
folder on `sys.path`, the environment the stack gives every function, and the handler imported as the
top-level module `handler`. `import boto3` alone, measured the same way in the same run, is the yardstick
(the Lambda runtime's own SDK import): it moves with the machine's speed and load, the handlers with it.

The minimum, not the median: a fresh interpreter can only be slowed down by the rest of the machine,
never sped up, so the fastest run is the closest to the code's own cost. Runs of the different targets
are interleaved so that a burst of load does not fall on one of them only.

`--instructions` also counts the instructions each import executes (valgrind's callgrind, when installed; about
15 s per target): unlike the milliseconds, which move by 10 % from one run to the next on a shared machine, the
count moves by well under 1 %, so it is the figure to compare two versions of the code with.

`.pyc` files are those of this machine (compiled once, then reused). The layers the stack deploys hold
none and Lambda cannot write them (/opt is read-only), so on AWS every cold start also compiles the
layers' sources, which this figure leaves out (see the README, Benchmark).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig

from infra.manifest import CORE_LAYER_DIR, FUNCTIONS, REPO_ROOT
from infra.metrics import METRICS_NAMESPACE, SERVICE_NAME

BOTO3 = "import boto3"

# The environment of infra/stack.py (values as its defaults set them) plus what Lambda itself sets.
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "LOG_LEVEL": "INFO",
    "TABLE_NAME": "csms-table",
    "HEARTBEAT_INTERVAL_SECONDS": "300",
    "BOOT_RETRY_INTERVAL_SECONDS": "60",
    "UNKNOWN_STATION_POLICY": "reject",
    "ALLOW_MISSING_SUBPROTOCOL": "true",
    "CONNECTIONS_ENDPOINT_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/ocpp",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}

_TIMED_IMPORT = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""


def _command(statement: str, paths: list[str]) -> list[str]:
    # The third-party packages come last, as the dependency layer and the runtime's packages do in Lambda.
    code = _TIMED_IMPORT.format(paths=[*paths, sysconfig.get_path("purelib")], statement=statement)
    # -I: no PYTHONPATH, no user site, no current directory. -S: no `site`, whose .pth files (the editable
    # install's finder among them) would import modules ahead of the timer that Lambda's handler pays for.
    return [sys.executable, "-I", "-S", "-c", code]


def _environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **LAMBDA_ENVIRONMENT}


def _import_ms(statement: str, paths: list[str]) -> float:
    output = subprocess.check_output(_command(statement, paths), env=_environment(), cwd="/", text=True)
    return float(output)


def _instructions(statement: str, paths: list[str]) -> int:
    """Instructions executed by the whole interpreter run."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *_command(statement, paths)],
        env=_environment(), cwd="/", text=True, capture_output=True, check=True,
    )  # fmt: skip
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind printed no count:\n{run.stderr}")
    return int(collected.group(1))


def targets() -> dict[str, tuple[str, list[str]]]:
    """Name -> (import statement, sys.path entries before the packages): `import boto3`, then every function."""
    found = {BOTO3: (BOTO3, [])}
    for spec in FUNCTIONS:
        module = spec.handler.rsplit(".", 1)[0]
        found[spec.name] = (f"import {module}", [str(spec.code_dir), str(CORE_LAYER_DIR / "python")])
    return found


def measure(runs: int) -> dict[str, float]:
    """Best time in milliseconds per target."""
    best = dict.fromkeys(targets(), float("inf"))
    for _ in range(runs):
        for name, (statement, paths) in targets().items():
            best[name] = min(best[name], _import_ms(statement, paths))
    return best


def report(best: dict[str, float], runs: int) -> None:
    boto3_ms = best[BOTO3]
    print(f"\nCold import of each handler module (best of {runs} fresh interpreters, as Lambda imports it):")
    print(f"  {BOTO3:<14}{boto3_ms:>7.0f} ms")
    for name, ms in best.items():
        if name != BOTO3:
            print(f"  {name:<14}{ms:>7.0f} ms   {ms / boto3_ms:4.1f} x import boto3")


def report_instructions() -> None:
    start_up = _instructions("pass", [])  # the interpreter's own start-up, the same in every run
    counts = {name: _instructions(statement, paths) - start_up for name, (statement, paths) in targets().items()}
    print("\nInstructions executed by the same imports (callgrind; the interpreter's start-up taken out):")
    for name, count in counts.items():
        ratio = "" if name == BOTO3 else f"   {count / counts[BOTO3]:4.2f} x import boto3"
        print(f"  {name:<14}{count / 1e6:>7,.0f} M{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per handler")
    parser.add_argument("--instructions", action="store_true", help="also count each import's instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    os.chdir(REPO_ROOT)
    report(measure(args.runs), args.runs)
    if args.instructions:
        report_instructions()
    return 0


if __name__ == "__main__":
    sys.exit(main())
