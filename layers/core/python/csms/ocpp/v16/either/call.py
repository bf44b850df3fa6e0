"""OCPP 1.6 requests either side may send (OCPP 1.6 §4.3, §5.6): DataTransfer, vendor-specific.

Apart from ``station/`` and ``central_system/`` so that both directions use this one class without loading the
other direction's models (issue 7: cold start). Conventions as in ``station/call.py``.
"""

from __future__ import annotations

from csms.ocpp.v16.types import CiString50, CiString255, OcppModel


class DataTransfer(OcppModel):
    vendor_id: CiString255
    message_id: CiString50 | None = None
    data: str | None = None  # free text; vendors that need structure put JSON text in it
