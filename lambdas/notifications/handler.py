from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.notifications.delivery import handle_messages
    from csms.runtime.observability import logger
    from csms.runtime.wiring import get_services


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return handle_messages(event, get_services())
