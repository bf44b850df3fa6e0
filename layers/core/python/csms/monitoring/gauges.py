"""Once a minute: the network's levels as CloudWatch metrics (the dashboard's connected stations and
active sessions), counted from the live index (adapters/dynamodb/gauges.py): the station path keeps no counter."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from csms.adapters.dynamodb.gauges import ACTIVE_TRANSACTIONS, CONNECTED_STATIONS
from csms.runtime.observability import metrics
from csms.runtime.wiring import Services

METRIC_NAMES = {CONNECTED_STATIONS: "ConnectedStations", ACTIVE_TRANSACTIONS: "ActiveTransactions"}


def publish_gauges(services: Services) -> dict[str, int]:
    levels = services.gauges.read()
    for counter, value in levels.items():
        metrics.add_metric(name=METRIC_NAMES[counter], unit=MetricUnit.Count, value=value)
    return levels
