from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.gateway.events import MessageEvent
    from csms.gateway.message import on_message
    from csms.runtime.observability import logger, metrics
    from csms.runtime.wiring import get_services


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return on_message(MessageEvent.model_validate(event), get_services())
