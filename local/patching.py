"""Attributes of installed packages (moto's) replaced from our side while a context is active.

Several contexts may be active at once (nested, or one per thread): the replacements are made when the first one
opens and undone when the last one closes, so nothing in site-packages stays changed after the runtime stops.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

_ABSENT = object()


class SharedPatches:
    def __init__(self, install: Callable[[SharedPatches], None]):
        """`install` makes the replacements, each through `replace`."""
        self._install = install
        self._lock = threading.Lock()
        self._users = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> None:
        """Set `owner.name` to `value` until the last context closes (then as it was: absent if it was inherited)."""
        self._saved.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)

    def original(self, owner: Any, name: str) -> Any:
        """What `owner.name` was before its replacement (while active)."""
        return next(value for saved_owner, saved_name, value in self._saved if (saved_owner, saved_name) == (owner, name))

    @property
    def users(self) -> int:
        """How many contexts are open."""
        return self._users

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._install(self)
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._undo()

    def _undo(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
