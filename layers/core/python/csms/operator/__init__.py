"""The operator HTTP API (API Gateway HTTP API, payload format 2.0): stations, id tags, transactions and the
central-system commands of OCPP 1.6, one Powertools resolver split into a router per resource (`app.py`)."""

from csms.runtime.startup import defer_reexports

# Powertools' event handler package imports every resolver it has (AppSync's brings asyncio), and its event
# classes' package every event source: the API needs one resolver and one event (issue 7: cold start).
POWERTOOLS_PACKAGES_DEFERRED = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")
for _package in POWERTOOLS_PACKAGES_DEFERRED:
    defer_reexports(_package)
