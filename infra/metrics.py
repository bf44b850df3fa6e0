"""The Powertools identity of the functions and the EMF metrics the dashboard and alarms read.

The functions' Logger and Metrics take the service name and namespace from the environment the stack
sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE), so every metric lands in one namespace
with the dimension `service=csms`. Pure data, no CDK import.
"""

from __future__ import annotations

SERVICE_NAME = "csms"
METRICS_NAMESPACE = "CSMS"
SERVICE_DIMENSION = {"service": SERVICE_NAME}

# Emitted today by csms.gateway.connection and csms.station.dispatcher (dimension: service).
STATION_CONNECTIONS = "StationConnections"
STATION_DISCONNECTIONS = "StationDisconnections"
REPLACED_CONNECTIONS = "ReplacedConnections"
"""A station reconnected while its previous (ghost) connection was still recorded."""
REFUSED_SUBPROTOCOLS = "RefusedSubprotocols"
STATION_MESSAGES = "StationMessages"
CALL_ERRORS = "CallErrors"
INTERNAL_ERRORS = "InternalErrors"
MALFORMED_FRAMES = "MalformedFrames"
LENIENT_VIOLATIONS = "LenientViolations"

# Emitted by csms.station.dispatcher (count_per_action) and csms.station.transactions:
ACTION_DIMENSION = "action"
"""StationMessages with dimensions {service, action}: messages per OCPP action."""
ENERGY_DELIVERED_WH = "EnergyDeliveredWh"
"""Energy of each stopped transaction (meterStop - meterStart), in Wh."""

# Per site (csms.energy.levels; csms.runtime.observability.site_current), by the gauges function every minute and,
# for the allocated current, by each load-control run (csms.energy.control):
SITE_DIMENSION = "siteId"
ALLOCATED_CURRENT_A = "AllocatedCurrentA"
"""Per site (dimensions {service, siteId}): what its sessions may draw per phase together."""
MEASURED_CURRENT_A = "MeasuredCurrentA"
"""Per site: the sum of its sessions' newest measured Current.Import (each the highest phase's)."""
SITE_LIMIT_A = "SiteLimitA"
"""Per site: its grid connection's limit per phase, beside the allocated and measured current."""
ALLOCATION_IGNORED = "AllocationIgnored"
"""Sessions flagged: their station rejected every profile or drew above its limit (dimension service)."""

# Gauges published every minute by the scheduled `gauges` function (csms.monitoring.gauges):
CONNECTED_STATIONS = "ConnectedStations"
"""Gauge: stations with a current connection."""
ACTIVE_TRANSACTIONS = "ActiveTransactions"
"""Gauge: transactions started and not yet stopped."""

# Published by the stack itself from the WebSocket access log (metric filters, no code involved).
AUTHORIZER_DENIALS = "AuthorizerDenials"
"""Refused connection attempts ($connect answered 401 or 403)."""
AUTHORIZER_UNAUTHORIZED = "AuthorizerUnauthorized"
"""Connections the authorizer refused with 401 (it raises "Unauthorized", which Lambda counts as an error)."""
