from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.operator.app import handle
    from csms.runtime.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return handle(event, context)
