"""Each OCPP 1.6 action's request and response model: the payloads of its CALL and of the CALLRESULT answering it.

The classes are looked up by the action's name in `call` and `call_result`, so a class named differently from
its action cannot be registered by mistake, and an action of the catalog without both fails at import. Apart
from the catalog (`actions.py`) because building these models is a tenth of a cold start: only the functions
that parse OCPP payloads (the station path, commands) import them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from csms.ocpp.v16 import call, call_result
from csms.ocpp.v16.actions import Action
from csms.ocpp.v16.types import OcppModel


@dataclass(frozen=True, slots=True)
class ActionMessages:
    request: type[OcppModel]
    response: type[OcppModel]


MESSAGES: Mapping[Action, ActionMessages] = MappingProxyType(
    {action: ActionMessages(getattr(call, action), getattr(call_result, action)) for action in Action}
)
