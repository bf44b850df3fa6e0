from csms.runtime.startup import startup_imports

with startup_imports():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from csms.reservations.tasks import ReservationTask, run_reservation_task
    from csms.runtime.observability import logger
    from csms.runtime.wiring import get_services


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return run_reservation_task(ReservationTask.model_validate(event), get_services())
