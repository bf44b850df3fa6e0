"""Cold import time of each function's handler module, beside `import boto3` alone, in the same run.

What a Lambda cold start pays for our code before the first event: each figure is the best of several
fresh interpreters, each set up as Lambda sets one up: the function's folder, then the core layer's
folder on `sys.path`, the environment the stack gives every function, and the handler imported as the
top-level module `handler`. `import boto3` alone, measured the same way in the same run, is the yardstick
(the Lambda runtime's own SDK import): it moves with the machine's speed and load, the handlers with it.

The minimum, not the median: a fresh interpreter can only be slowed down by the rest of the machine,
never sped up, so the fastest run is the closest to the code's own cost. Runs of the different targets
are interleaved so that a burst of load does not fall on one of them only.

`.pyc` files are those of this machine (compiled once, then reused). The layers the stack deploys hold
none and Lambda cannot write them (/opt is read-only), so on AWS every cold start also compiles the
layers' sources, which this figure leaves out (see the README, Benchmark).
"""

from __future__ import annotations

import argparse
import os
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


def _import_ms(statement: str, paths: list[str]) -> float:
    # The third-party packages come last, as the dependency layer and the runtime's packages do in Lambda.
    code = _TIMED_IMPORT.format(paths=[*paths, sysconfig.get_path("purelib")], statement=statement)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **LAMBDA_ENVIRONMENT}
    # -I: no PYTHONPATH, no user site, no current directory. -S: no `site`, whose .pth files (the editable
    # install's finder among them) would import modules ahead of the timer that Lambda's handler pays for.
    output = subprocess.check_output([sys.executable, "-I", "-S", "-c", code], env=environment, cwd="/", text=True)
    return float(output)


def measure(runs: int) -> dict[str, float]:
    """Best time in milliseconds per target: `import boto3`, then every function of the manifest."""
    targets = {BOTO3: (BOTO3, [])}
    for spec in FUNCTIONS:
        module = spec.handler.rsplit(".", 1)[0]
        targets[spec.name] = (f"import {module}", [str(spec.code_dir), str(CORE_LAYER_DIR / "python")])
    best = dict.fromkeys(targets, float("inf"))
    for _ in range(runs):
        for name, (statement, paths) in targets.items():
            best[name] = min(best[name], _import_ms(statement, paths))
    return best


def report(best: dict[str, float], runs: int) -> None:
    boto3_ms = best[BOTO3]
    print(f"\nCold import of each handler module (best of {runs} fresh interpreters, as Lambda imports it):")
    print(f"  {BOTO3:<14}{boto3_ms:>7.0f} ms")
    for name, ms in best.items():
        if name != BOTO3:
            print(f"  {name:<14}{ms:>7.0f} ms   {ms / boto3_ms:4.1f} x import boto3")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per handler")
    args = parser.parse_args()
    os.chdir(REPO_ROOT)
    report(measure(args.runs), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
