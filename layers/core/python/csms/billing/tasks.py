"""The BillingHandOff workflow's Lambda tasks (infra/workflows/billing_hand_off.asl.json): `price`, then `store`.
The PutEvents of CdrIssued is the workflow's own EventBridge integration, with its retries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from csms.billing import service
from csms.runtime.wiring import Services


class BillingTask(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    step: Literal["price", "store"]
    transaction_id: int = Field(alias="transactionId")
    charge_point_id: str = Field(alias="chargePointId")
    priced: dict[str, Any] | None = None


def run_billing_task(task: BillingTask, services: Services) -> dict[str, Any]:
    if task.step == "price":
        priced = service.price(services, task.transaction_id)
        return {"cdr": priced.cdr, "tariffId": priced.tariff_id, "tariffVersion": priced.tariff_version}
    if task.priced is None:
        raise ValueError("the store step takes the price step's output as `priced`")
    return service.store(services, task.priced, transaction_id=task.transaction_id, charge_point_id=task.charge_point_id)
