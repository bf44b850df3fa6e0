"""Every Lambda function of the manifest, arm64, with the core package and its dependencies as layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import dependencies_layer_code
from infra.manifest import CORE_LAYER_DIR, REPO_ROOT, FunctionSpec

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime of Lambda that the pinned Powertools (3.37.0) supports (3.10 to 3.14)."""
ARCHITECTURE = lambda_.Architecture.ARM_64
RUNTIME_REQUIREMENTS = REPO_ROOT / "requirements" / "runtime.txt"
LOCKED_VERSIONS = REPO_ROOT / "requirements" / "lock.txt"

NOT_CODE = ["**/__pycache__", "**/*.pyc", "*.egg-info", "**/*.egg-info"]


def _handler_file(spec: FunctionSpec) -> Path:
    """`handler.handler` -> <code_dir>/handler.py."""
    module = spec.handler.rsplit(".", 1)[0]
    return spec.code_dir / f"{module.replace('.', '/')}.py"


class Functions(Construct):
    """One function per manifest entry, each with its own role (logs only; the stack grants the rest)
    and its own log group with a retention."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[FunctionSpec],
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        reserved_concurrency: Mapping[str, int] | None = None,
        core_layer_dir: Path = CORE_LAYER_DIR,
        requirements: Path = RUNTIME_REQUIREMENTS,
        constraints: Path | None = LOCKED_VERSIONS,
    ) -> None:
        super().__init__(scope, construct_id)
        reserved_concurrency = dict(reserved_concurrency or {})
        unknown = set(reserved_concurrency) - {spec.name for spec in specs}
        if unknown:
            raise ValueError(f"reservedConcurrency names functions that do not exist: {sorted(unknown)}")

        self.core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(core_layer_dir), exclude=NOT_CODE),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="The csms package (OCPP frames, domain rules, adapters, runtime)",
        )
        self.dependencies_layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=dependencies_layer_code(requirements, runtime=RUNTIME, constraints=constraints),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"Third-party packages of {requirements.name} (Powertools, pydantic, boto3)",
        )

        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.roles: dict[str, iam.Role] = {}
        missing = [spec.name for spec in specs if not _handler_file(spec).is_file()]
        if missing:
            raise FileNotFoundError(f"Manifest functions whose handler file does not exist: {missing}")
        for spec in specs:
            log_group = logs.LogGroup(
                self, f"{spec.name}-logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
            )
            # Its own role instead of the AWSLambdaBasicExecutionRole managed policy: writes to its own
            # log group only, nothing else until the stack grants it.
            role = iam.Role(
                self,
                f"{spec.name}-role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"CSMS function {spec.name}",
            )
            log_group.grant_write(role)
            function = lambda_.Function(
                self,
                spec.name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=lambda_.Code.from_asset(str(spec.code_dir), exclude=NOT_CODE),
                layers=[self.dependencies_layer, self.core_layer],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                environment=dict(environment),
                role=role,
                log_group=log_group,
                reserved_concurrent_executions=reserved_concurrency.get(spec.name),
            )
            self.functions[spec.name] = function
            self.log_groups[spec.name] = log_group
            self.roles[spec.name] = role

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.functions[name]
