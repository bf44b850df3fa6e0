"""Each OCPP 1.6 action's request and response model: the payloads of its CALL and of the CALLRESULT answering it.

The models are split by who initiates the action (the catalog, `actions.py`, says): `station/` holds a station's
requests and the central system's responses, `central_system/` the commands and the station's responses, `either/`
DataTransfer, which both send. Building the models is a tenth of a cold start (issue 7) and each function needs
one direction only: answering a station's messages needs no command's model, sending commands no station message's.
So a direction's models are imported when one of its actions is first looked up, or all that an initiator sends
at once by `messages_sent_by`, which a function that handles them on every invocation calls at import. Apart from
the catalog for the same reason: what only needs the names (commands, their records, the operator API's listings)
builds none of them.

The classes are looked up by the action's name in the `call` and `call_result` modules of the package of its
initiators, so a class named differently from its action cannot be registered by mistake, and an action of the
catalog without both fails when its package is first looked up (the tests look up every action).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from csms.ocpp.v16.actions import ACTIONS, Action, Initiator
from csms.ocpp.v16.types import OcppModel


@dataclass(frozen=True, slots=True)
class ActionMessages:
    request: type[OcppModel]
    response: type[OcppModel]


def messages(action: Action) -> ActionMessages:
    """The request and response models of `action`, importing those of its direction only (KeyError: no such action)."""
    return _defined_with(ACTIONS[action].initiated_by)[action]


@cache
def messages_sent_by(initiator: Initiator) -> Mapping[Action, ActionMessages]:
    """Every action `initiator` sends, DataTransfer included, with its models: imports them, and none of the other side's."""
    return MappingProxyType(
        {action: messages(action) for action, spec in ACTIONS.items() if initiator in spec.initiated_by}
    )


# Who initiates an action -> the package whose `call` and `call_result` modules define its models.
_PACKAGES: Mapping[frozenset[Initiator], str] = {
    frozenset({Initiator.STATION}): "station",
    frozenset({Initiator.CENTRAL_SYSTEM}): "central_system",
    frozenset(Initiator): "either",
}


@cache
def _defined_with(initiated_by: frozenset[Initiator]) -> Mapping[Action, ActionMessages]:
    package = f"{__package__}.{_PACKAGES[initiated_by]}"
    call, call_result = (importlib.import_module(f"{package}.{module}") for module in ("call", "call_result"))
    return MappingProxyType(
        {
            action: ActionMessages(getattr(call, action), getattr(call_result, action))
            for action, spec in ACTIONS.items()
            if spec.initiated_by == initiated_by
        }
    )
