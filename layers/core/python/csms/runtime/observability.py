"""Powertools Logger and Metrics shared by every function (service name and namespace from the environment)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
