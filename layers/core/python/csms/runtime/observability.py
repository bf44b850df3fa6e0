"""Powertools Logger and Metrics shared by every function (service name and namespace from the environment)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider


class _EmfProvider(AmazonCloudWatchEMFProvider):
    """Powertools' provider, except that with POWERTOOLS_METRICS_DISABLED each flush drops the invocation's
    metrics: Powertools' own flush returns before clearing them, so they pile up across invocations until the
    100th value of one metric is serialised anyway (and raises without a namespace): locally, where metrics are
    off, the 100th station connection of a run failed with a 500."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            self.clear_metrics()
            return
        super().flush_metrics(raise_on_empty_metrics)


logger = Logger()
metrics = Metrics(
    # The facade's shared sets, as Metrics() would give its own provider.
    provider=_EmfProvider(
        metric_set=Metrics._metrics,
        dimension_set=Metrics._dimensions,
        metadata_set=Metrics._metadata,
        default_dimensions=Metrics._default_dimensions,
    )
)


def count_per_action(name: str, action: str) -> None:
    """A count with an `action` dimension, in its own EMF record: the function's metric set keeps only the
    `service` dimension that the alarms read. `action` must be a known OCPP action (bounded cardinality)."""
    if is_metrics_disabled():  # single_metric itself ignores POWERTOOLS_METRICS_DISABLED
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions) as metric:
        metric.add_dimension(name="action", value=action)


def site_current(name: str, site_id: str, amperes: float) -> None:
    """A site's current (allocated or measured, A per phase) with a `siteId` dimension, in its own EMF record: one
    series per site, as the dashboard graphs it beside the site's limit. Sites are few and operator-defined."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=MetricUnit.NoUnit, value=amperes, default_dimensions=metrics.default_dimensions) as metric:
        metric.add_dimension(name="siteId", value=site_id)
