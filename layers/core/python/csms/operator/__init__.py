"""The operator HTTP API (API Gateway HTTP API, payload format 2.0): stations, id tags, transactions and the
central-system commands of OCPP 1.6, one Powertools resolver split into a router per resource (`app.py`)."""
