"""DataTransfer from stations (OCPP 1.6 §4.3): vendor extensions, answered by the vendor's handler if one exists."""

from __future__ import annotations

from collections.abc import Callable

from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator
from csms.ocpp.v16.either import call, call_result
from csms.ocpp.v16.enums import DataTransferStatus
from csms.runtime.observability import logger
from csms.station.context import StationContext

router = ActionRouter(initiator=Initiator.STATION)

VendorHandler = Callable[[call.DataTransfer, StationContext], call_result.DataTransfer]
VENDOR_HANDLERS: dict[str, VendorHandler] = {}
"""vendorId -> handler. Vendor extensions register here; nobody handles a vendor by default."""


@router.action(Action.DATA_TRANSFER)
def data_transfer(request: call.DataTransfer, ctx: StationContext) -> call_result.DataTransfer:
    handler = VENDOR_HANDLERS.get(request.vendor_id)
    if handler is None:
        logger.info(
            "DataTransfer for an unknown vendor",
            extra={"charge_point_id": ctx.charge_point_id, "vendor_id": request.vendor_id, "message_id": request.message_id},
        )
        return call_result.DataTransfer(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
    return handler(request, ctx)
