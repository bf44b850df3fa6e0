"""The nested object types of OCPP 1.6 messages that both directions use (OCPP 1.6 §7).

The others live beside the messages that carry them: the meter values in ``station/datatypes.py``, the
charging profiles, local list entries, configuration keys and the Security Whitepaper's types in
``central_system/datatypes.py``, so that a function builds only those of the messages it handles (issue 7).
Fields are declared in the schemas' property order, so validation errors come in that order too.
"""

from __future__ import annotations

from csms.ocpp.v16.enums import AuthorizationStatus
from csms.ocpp.v16.types import CiString20, OcppDateTime, OcppModel


class IdTagInfo(OcppModel):
    """Whether an idTag may charge: Authorize, StartTransaction and StopTransaction's answers to a station, and the
    entries of a local authorization list (SendLocalList.req, the central system's)."""

    expiry_date: OcppDateTime | None = None
    parent_id_tag: CiString20 | None = None
    status: AuthorizationStatus
