"""The operator HTTP API (API Gateway HTTP API, payload format 2.0): stations, id tags, transactions and the
central-system commands of OCPP 1.6, one Powertools resolver split into a router per resource (`app.py`)."""

from csms.runtime.deferred_imports import defer_reexports

# The API uses one of Powertools' resolvers and one of its event classes, not every one their packages import.
POWERTOOLS_PACKAGES_DEFERRED = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")
for _package in POWERTOOLS_PACKAGES_DEFERRED:
    defer_reexports(_package)
