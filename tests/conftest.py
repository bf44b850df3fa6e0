"""Shared fixtures: emulated AWS with the CSMS table, settings and services built like the Lambda's."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from csms.adapters.dynamodb.schema import create_table_request
from csms.runtime.settings import Settings, UnknownStationPolicy
from csms.runtime.wiring import Services
from tests.fakes.clock import ManualClock

TABLE_NAME = "csms-test"

# Set when pytest loads this file, before any test module imports the package: fake credentials so
# nothing in the suite can ever reach a real AWS account, and the Powertools environment the stack
# sets (Metrics reads its namespace when it is created, at import).
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="csms",
    POWERTOOLS_METRICS_NAMESPACE="CSMS",
)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws():
    with mock_aws():
        boto3.client("dynamodb").create_table(**create_table_request(TABLE_NAME))
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings(table_name=TABLE_NAME, unknown_station_policy=UnknownStationPolicy.REJECT)


@pytest.fixture
def clock() -> ManualClock:
    """Test time: fixed until a test moves it."""
    return ManualClock()


@pytest.fixture
def services(aws, settings, clock) -> Services:
    from csms.sessions.cost import forget_tariff_versions

    forget_tariff_versions()  # a new table: its tariff versions are not the last test's
    return Services(settings, clock=clock)


@pytest.fixture
def table(services):
    return services.table
