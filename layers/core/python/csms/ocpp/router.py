"""A small action registry: OCPP action -> handler, splittable across modules.

Modelled on Powertools' AppSync ResolverRegistry: modules declare their own router and the
composition includes them, so no module scan happens at cold start. A router serves one side of the
protocol: registering a handler for an action that is not in the catalog, or that the other side
initiates, fails at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from csms.ocpp.v16.actions import ACTIONS, Action, Initiator

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)


class ActionRouter:
    def __init__(self, *, initiator: Initiator) -> None:
        """`initiator`: who sends the CALLs this router's handlers answer."""
        self.initiator = initiator
        self._handlers: dict[Action, Handler] = {}

    def action(self, name: Action) -> Callable[[H], H]:
        spec = ACTIONS.get(name)
        if spec is None:
            raise ValueError(f"{name!r} is not an OCPP 1.6 action of the catalog")
        if self.initiator not in spec.initiated_by:
            raise ValueError(f"{name} is not initiated by the {self.initiator}: it cannot be answered here")

        def register(handler: H) -> H:
            if name in self._handlers:
                raise ValueError(f"Action {name} already has a handler")
            self._handlers[name] = handler
            return handler

        return register

    def include_router(self, other: ActionRouter) -> None:
        if other.initiator is not self.initiator:
            raise ValueError("routers of the two sides of the protocol cannot be combined")
        for name, handler in other._handlers.items():
            self.action(name)(handler)

    def resolve(self, name: Action) -> Handler | None:
        return self._handlers.get(name)

    @property
    def actions(self) -> frozenset[Action]:
        return frozenset(self._handlers)
