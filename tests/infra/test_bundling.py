"""The dependency layer is built by pip on this machine for Lambda's arm64 Python: no Docker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.bundling import PLATFORM, PipInstall, dependencies_layer_code
from infra.functions import LOCKED_VERSIONS, RUNTIME, RUNTIME_REQUIREMENTS


@pytest.fixture
def bundler() -> PipInstall:
    return PipInstall(RUNTIME_REQUIREMENTS, runtime=RUNTIME, constraints=LOCKED_VERSIONS)


def test_pip_fetches_only_wheels_for_lambdas_arm64_python_at_the_locked_versions(bundler: PipInstall, tmp_path: Path):
    command = bundler.command(str(tmp_path))
    flags = " ".join(command)
    assert f"--platform {PLATFORM}" in flags and PLATFORM == "manylinux2014_aarch64"
    assert "--only-binary=:all:" in command
    assert f"--python-version {RUNTIME.name.removeprefix('python')}" in flags
    assert f"--target {tmp_path / 'python'}" in flags  # /opt/python in the layer
    assert f"-r {RUNTIME_REQUIREMENTS}" in flags and f"-c {LOCKED_VERSIONS}" in flags


def test_a_failed_pip_stops_the_synth_instead_of_falling_back_to_docker(bundler: PipInstall, tmp_path, monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "no matching wheel"))
    with pytest.raises(RuntimeError, match="no matching wheel"):
        bundler.try_bundle(str(tmp_path))


def test_console_scripts_are_left_out_of_the_layer(bundler: PipInstall, tmp_path, monkeypatch):
    (tmp_path / "python" / "bin").mkdir(parents=True)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    assert bundler.try_bundle(str(tmp_path)) is True
    assert not (tmp_path / "python" / "bin").exists()


def layer_key(requirements_dir: Path) -> str:
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "LayerUnderTest")
    code = dependencies_layer_code(
        requirements_dir / "runtime.txt", runtime=RUNTIME, constraints=requirements_dir / "lock.txt"
    )
    lambda_.LayerVersion(stack, "Dependencies", code=code)
    (layer,) = Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()
    return layer["Properties"]["Content"]["S3Key"]


def test_the_layer_is_rebuilt_when_the_runtime_requirements_or_the_lock_change_not_the_dev_ones(tmp_path: Path):
    requirements = tmp_path / "requirements"
    shutil.copytree(RUNTIME_REQUIREMENTS.parent, requirements)
    original = layer_key(requirements)
    (requirements / "dev.txt").write_text("pytest==1.0\n")
    assert layer_key(requirements) == original
    (requirements / "lock.txt").write_text((requirements / "lock.txt").read_text() + "six==1.16.0\n")
    locked = layer_key(requirements)
    assert locked != original
    (requirements / "runtime.txt").write_text((requirements / "runtime.txt").read_text() + "six\n")
    assert layer_key(requirements) not in (original, locked)
