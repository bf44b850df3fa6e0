"""The stack synthesises offline, passes cdk-nag AwsSolutions and cfn-lint, in every configuration."""

from __future__ import annotations

import json
import runpy
from datetime import date

import pytest
from aws_cdk import Validations
from cfnlint.api import ManualArgs, lint
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource

from infra.application import build_app
from infra.config import CsmsConfig
from infra.manifest import REPO_ROOT
from tests.infra.conftest import SKIP_BUNDLING, Synthesized

MIN_REASON_LENGTH = 40


@pytest.fixture(params=["deployed", "full"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue(request.param)


def test_the_stack_synthesises_without_aws_credentials_docker_or_network(synthesized: Synthesized):
    # The fixture synthesised through the same app as `cdk synth`: bundling skipped, cdk-nag plugged in.
    assert synthesized.resources("AWS::Lambda::Function")
    assert synthesized.template_path.exists()


def test_cdk_nag_acknowledgments_all_carry_a_written_reason(synthesized: Synthesized):
    # Unacknowledged findings already made the synth raise; what is acknowledged must say why.
    acknowledged = {}
    for construct in synthesized.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    acknowledged[f"{construct.node.path} {rule}"] = reason
    assert acknowledged, "expected the documented acknowledgments"
    too_short = {finding: reason for finding, reason in acknowledged.items() if len(reason) < MIN_REASON_LENGTH}
    assert not too_short


RUNTIME_CHOSEN_ON = date(2026, 11, 30)
RUNTIME_RULES = ["E2531", "E2533", "W2531"]
"""cfn-lint judges Lambda runtimes against the day it runs: linted as is, the template would fail some morning
with no change to the code. Those rules are replaced by the test below, which asks the same lifecycle data
about the day the pinned runtime was chosen: moving to a newer runtime is a decision taken on purpose."""


def test_cfn_lint_finds_nothing_but_cdks_own_depends_on(synthesized: Synthesized):
    config = ManualArgs(ignore_checks=["W3005", *RUNTIME_RULES], regions=["us-east-1", "eu-west-1"])
    matches = lint(synthesized.template_path.read_text(), config=config)
    assert [str(match) for match in matches] == []


def test_every_function_runtime_was_supported_for_creation_and_updates_when_chosen(synthesized: Synthesized):
    lifecycle = load_resource(AdditionalSpecs, "LmbdRuntimeLifecycle.json")
    runtimes = {
        resource["Properties"]["Runtime"]
        for resource in json.loads(synthesized.template_path.read_text())["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Runtime" in resource["Properties"]
    }
    assert runtimes
    for runtime in runtimes:
        deprecated = lifecycle.get(runtime, {}).get("deprecated")
        assert deprecated is None or date.fromisoformat(deprecated) > RUNTIME_CHOSEN_ON, runtime


def test_an_unacknowledged_finding_fails_the_synth(tmp_path):
    from aws_cdk import aws_sqs as sqs

    app = build_app(SKIP_BUNDLING, outdir=str(tmp_path))
    sqs.Queue(app.node.find_child("Csms"), "Unencrypted", enforce_ssl=False)  # no DLQ, no SSL: AwsSolutions findings
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS4"):
        app.synth()


def test_bad_context_fails_before_anything_is_built():
    with pytest.raises(ValueError, match="heartbeatIntervalSeconds"):
        CsmsConfig.model_validate({"heartbeatIntervalSeconds": 600})  # API Gateway cuts idle sockets at 10 min
    with pytest.raises(ValueError, match="certificateArn"):
        CsmsConfig.model_validate({"domainName": "ocpp.example.com"})
    with pytest.raises(ValueError, match="jwtIssuer"):
        CsmsConfig.model_validate({"operatorApiAuthorization": {"kind": "jwt"}})
    with pytest.raises(ValueError, match="qrUrlTemplate"):  # stickers that would not say which connector
        CsmsConfig.model_validate({"qrUrlTemplate": "https://app.example.com/start?cp={chargePointId}"})


def test_app_py_is_the_cdk_entry_point(monkeypatch, tmp_path):
    # The CLI reads the cloud assembly app.py writes: building the app without synthesising it deploys nothing.
    calls = []
    monkeypatch.setattr("infra.application.build_app", lambda: calls.append("build") or _Synthesizable(calls))
    runpy.run_path(str(REPO_ROOT / "app.py"), run_name="__main__")
    assert calls == ["build", "synth"]


class _Synthesizable:
    def __init__(self, calls: list[str]) -> None:
        self._calls = calls

    def synth(self) -> None:
        self._calls.append("synth")
