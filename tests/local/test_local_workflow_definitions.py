"""local.workflows.definitions_parsed_once: a definition is parsed once, each execution gets components of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

from local.workflows import definitions_parsed_once

DEFINITION = (Path(__file__).resolve().parent / "wait_until.asl.json").read_text()


def test_a_definition_is_parsed_once_and_every_execution_runs_components_of_its_own(monkeypatch):
    parsed = []
    original = ASLParser.state_machine
    monkeypatch.setattr(ASLParser, "state_machine", lambda parser: parsed.append(parser) or original(parser))
    with definitions_parsed_once():
        first, tree = AmazonStateLanguageParser.parse(DEFINITION)
        second, same_tree = AmazonStateLanguageParser.parse(DEFINITION)
    assert len(parsed) == 1
    assert same_tree is tree
    assert second is not first and type(second) is type(first)
    AmazonStateLanguageParser.parse(DEFINITION)
    assert len(parsed) == 2  # moto's own parse again once inactive


def test_a_definition_that_does_not_parse_is_refused_every_time():
    with definitions_parsed_once():
        for _ in range(2):
            with pytest.raises(ASLParserException):
                AmazonStateLanguageParser.parse('{"StartAt": "Nowhere", "States": {')
