from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.gateway.connection import open_connection
from csms.gateway.events import ConnectEvent
from csms.runtime.observability import logger, metrics
from csms.runtime.wiring import get_services


@logger.inject_lambda_context
@metrics.log_metrics
@event_parser(model=ConnectEvent)
def handler(event: ConnectEvent, context: LambdaContext) -> dict:
    return open_connection(event, get_services())
