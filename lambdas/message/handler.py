from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.gateway.events import MessageEvent
from csms.gateway.message import on_message
from csms.runtime.observability import logger, metrics
from csms.runtime.wiring import get_services


@logger.inject_lambda_context
@metrics.log_metrics
@event_parser(model=MessageEvent)
def handler(event: MessageEvent, context: LambdaContext) -> dict:
    return on_message(event, get_services())
