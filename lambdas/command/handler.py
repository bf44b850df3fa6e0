from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.commands.workflow_task import WorkflowCommand, send_for_workflow
    from csms.runtime.observability import logger
    from csms.runtime.wiring import get_services


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return send_for_workflow(WorkflowCommand.model_validate(event), get_services())
