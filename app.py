#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth|deploy`, or `python app.py`): the stack is built in infra/."""

from infra.application import build_app

build_app().synth()
