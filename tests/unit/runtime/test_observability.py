"""Metrics switched off (the local runtime's default) never pile up and never fail an invocation."""

from __future__ import annotations

from csms.runtime.observability import MetricUnit, metrics


def test_disabled_metrics_are_dropped_at_each_flush(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    @metrics.log_metrics
    def handler(event, context):
        metrics.add_metric(name="StationConnections", unit=MetricUnit.Count, value=1)

    for _ in range(250):  # Powertools serialised the 100th value (and raised: no namespace here)
        handler({}, None)
    assert metrics.provider.metric_set == {}


def test_enabled_metrics_are_published_at_each_flush(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(metrics.provider, "namespace", "CSMS")

    @metrics.log_metrics
    def handler(event, context):
        metrics.add_metric(name="StationConnections", unit=MetricUnit.Count, value=1)

    handler({}, None)
    assert '"StationConnections"' in capsys.readouterr().out and metrics.provider.metric_set == {}
