"""The CDK app: the CSMS stack, checked by cdk-nag AwsSolutions on every synth.

`python app.py`, `npx cdk synth` and the tests all build the app here, so they synthesise the same
template: the feature flags of cdk.json apply even when the CDK CLI (which normally passes them) is not
the caller. Context given by the CLI (`-c key=value`) wins over cdk.json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Tags, Validations  # noqa: E402  (jsii reads the variable above on import)
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import CsmsConfig  # noqa: E402
from infra.manifest import REPO_ROOT  # noqa: E402
from infra.stack import CsmsStack  # noqa: E402

CDK_JSON = REPO_ROOT / "cdk.json"
STACK_ID = "Csms"


def cdk_json_context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text()).get("context", {})


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None, **stack_options: Any) -> App:
    """The app with its one stack; `context` adds to (and overrides) cdk.json's context."""
    # The CLI says where it wants the cloud assembly; `python app.py` alone writes to ./cdk.out like the CLI.
    outdir = outdir or os.environ.get("CDK_OUTDIR") or str(REPO_ROOT / "cdk.out")
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    stack = CsmsStack(
        app,
        STACK_ID,
        config=CsmsConfig.from_context(app.node),
        description="Serverless OCPP 1.6J Charging Station Management System",
        **stack_options,
    )
    Tags.of(stack).add("application", "csms")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
