"""The third-party dependency layer, built with pip on this machine: no Docker anywhere.

pip downloads the wheels Lambda needs (manylinux2014 aarch64, CPython of the functions' runtime) whatever
machine runs the synth, and `--only-binary=:all:` makes it fail rather than build a wheel for the wrong
platform. CDK calls `try_bundle` only for stacks it bundles: tests skip bundling (context
`aws:cdk:bundling-stacks` = []) and need no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PLATFORM = "manylinux2014_aarch64"
"""The wheels of Lambda's arm64 (Graviton) runtime."""


def python_version(runtime: lambda_.Runtime) -> str:
    """`python3.14` -> `3.14`."""
    return runtime.name.removeprefix("python")


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs a requirements file into `<output>/python` (where a layer's packages go) for Lambda."""

    def __init__(self, requirements: Path, *, runtime: lambda_.Runtime, constraints: Path | None = None):
        self._requirements = requirements
        self._runtime = runtime
        self._constraints = constraints

    def command(self, output_dir: str) -> list[str]:
        return [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-compile",
            "--platform", PLATFORM,
            "--only-binary=:all:",
            "--implementation", "cp",
            "--python-version", python_version(self._runtime),
            "--target", str(Path(output_dir) / "python"),
            "-r", str(self._requirements),
            *(["-c", str(self._constraints)] if self._constraints else []),
        ]  # fmt: skip

    def try_bundle(self, output_dir: str, options: object = None, **_options: object) -> bool:
        result = subprocess.run(self.command(output_dir), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Raise instead of returning False: False would make CDK fall back to Docker, which is absent.
            raise RuntimeError(f"pip could not build the dependency layer:\n{result.stdout}\n{result.stderr}")
        # Console scripts are useless in a layer and their shebang points at this machine's Python.
        shutil.rmtree(Path(output_dir) / "python" / "bin", ignore_errors=True)
        return True


def dependencies_layer_code(
    requirements: Path, *, runtime: lambda_.Runtime, constraints: Path | None = None
) -> lambda_.Code:
    """A layer of the packages in `requirements` at the versions pinned in `constraints` (the lock file the
    tests ran with), rebuilt whenever either file changes."""
    if constraints is not None and constraints.parent != requirements.parent:
        raise ValueError("the constraints file must sit beside the requirements file (one asset folder)")
    sources = [requirements.name, *([constraints.name] if constraints else [])]
    return lambda_.Code.from_asset(
        str(requirements.parent),
        # Only these files are the asset's source (and its hash): the dev requirements must not rebuild the layer.
        exclude=["*", *(f"!{name}" for name in sources)],
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            # Never pulled: the local bundler always succeeds or raises. CDK requires an image regardless.
            image=runtime.bundling_image,
            local=PipInstall(requirements, runtime=runtime, constraints=constraints),
            command=["false"],
        ),
    )
