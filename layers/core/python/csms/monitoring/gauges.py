"""Once a minute: the network's levels as CloudWatch metrics (the dashboard's connected stations and
active sessions), counted from the live index (adapters/dynamodb/gauges.py): the station path keeps no counter;
and each site's allocated and measured current beside its limit (energy/levels.py), so that its graph has a point
every minute, between the load-control runs that also publish what they allocate."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from csms.adapters.dynamodb.gauges import ACTIVE_TRANSACTIONS, CONNECTED_STATIONS
from csms.energy.levels import ALLOCATED_CURRENT_A, MEASURED_CURRENT_A, SITE_LIMIT_A, site_currents
from csms.runtime.observability import metrics, site_current
from csms.runtime.wiring import Services

METRIC_NAMES = {CONNECTED_STATIONS: "ConnectedStations", ACTIVE_TRANSACTIONS: "ActiveTransactions"}
SITES_PER_PAGE = 100


def publish_gauges(services: Services) -> dict[str, int]:
    levels = services.gauges.read()
    for counter, value in levels.items():
        metrics.add_metric(name=METRIC_NAMES[counter], unit=MetricUnit.Count, value=value)
    publish_site_currents(services)
    return levels


def publish_site_currents(services: Services) -> None:
    start_key = None
    while True:
        sites, start_key = services.sites.list_page(limit=SITES_PER_PAGE, start_key=start_key)
        for site in sites:
            currents = site_currents(services, site)
            site_current(ALLOCATED_CURRENT_A, site.site_id, float(currents.allocated_a))
            site_current(MEASURED_CURRENT_A, site.site_id, float(currents.measured_a))
            site_current(SITE_LIMIT_A, site.site_id, float(site.max_current_a))
        if start_key is None:
            return
