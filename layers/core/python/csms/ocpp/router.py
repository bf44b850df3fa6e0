"""A small action registry: OCPP action name -> handler, splittable across modules.

Modelled on Powertools' AppSync ResolverRegistry: modules declare their own router and the
composition includes them, so no module scan happens at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)


class ActionRouter:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def action(self, name: str) -> Callable[[H], H]:
        def register(handler: H) -> H:
            if name in self._handlers:
                raise ValueError(f"Action {name} already has a handler")
            self._handlers[name] = handler
            return handler

        return register

    def include_router(self, other: ActionRouter) -> None:
        for name, handler in other._handlers.items():
            self.action(name)(handler)

    def resolve(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._handlers)
