"""Powertools Logger and Metrics shared by every function (service name and namespace from the environment)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
metrics = Metrics()


def count_per_action(name: str, action: str) -> None:
    """A count with an `action` dimension, in its own EMF record: the function's metric set keeps only the
    `service` dimension that the alarms read. `action` must be a known OCPP action (bounded cardinality)."""
    if is_metrics_disabled():  # single_metric itself ignores POWERTOOLS_METRICS_DISABLED
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions) as metric:
        metric.add_dimension(name="action", value=action)
