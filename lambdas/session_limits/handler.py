from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.runtime.observability import logger
    from csms.runtime.wiring import get_services
    from csms.sessions.workflow import SessionLimitTask, run_session_limit_task


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return run_session_limit_task(SessionLimitTask.model_validate(event), get_services())
