from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.changes.reactions import REACTIONS
    from csms.changes.stream import handle_records
    from csms.runtime.observability import logger
    from csms.runtime.wiring import get_services


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return handle_records(event, get_services(), REACTIONS)
