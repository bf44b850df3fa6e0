"""Packages imported without the imports of their `__init__`, for a cold start that needs a few of their modules.

Some packages' `__init__` imports every module they have, only to re-export their names: Powertools'
`event_handler` brings every resolver (AppSync's imports asyncio) and `utilities.data_classes` every event
source's class, where the operator API needs one of each (issue 7: 5 % of its cold start's instructions, about 15 ms).
`defer_reexports` imports such a package as an empty module that finds each re-exported name when it is first read.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any


def defer_reexports(package: str) -> bool:
    """Import `package` without running its `__init__`'s imports: each name it re-exports imports its module when
    first read (a module `__getattr__`, PEP 562), and its modules import as they always do.

    Only for an `__init__` that does nothing else: a docstring, `from ... import ...` of names and `__all__`. Any
    other statement, or a package imported already, leaves it as it is (False); True when deferred.

    What differs from the package as its `__init__` leaves it: a module of the package is its attribute only once
    imported (`import package.module`, or a name of it read), so a name that is also a module's name
    (`data_classes.event_source`, a function in a module of that name) reads as the module if that module is imported
    by its own name first; and without an `__all__` in the source, `from package import *` finds only what was read.
    """
    if package in sys.modules:
        return False
    spec = importlib.util.find_spec(package)  # imports its parents, whose `__init__` may import it
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No package named {package!r}", name=package)
    if package in sys.modules:
        return False
    reexports = _reexports(package, Path(spec.origin).read_text(encoding="utf-8"))
    if reexports is None:
        return False
    names, public = reexports
    module = importlib.util.module_from_spec(spec)

    def reexport(name: str) -> Any:
        try:
            source, attribute = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(source), attribute)
        setattr(module, name, value)  # read once: later reads find it as if `__init__` had set it
        return value

    vars(module).update(__getattr__=reexport, __dir__=lambda: sorted({*vars(module), *names}))
    if public is not None:
        vars(module)["__all__"] = public
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)  # what the import system does once it has run a submodule
    return True


def _reexports(package: str, source: str) -> tuple[dict[str, tuple[str, str]], list[str] | None] | None:
    """Each name the `__init__` source binds -> (module, attribute), and its `__all__` if it has one; None if the
    source does more than that."""
    names: dict[str, tuple[str, str]] = {}
    public: list[str] | None = None
    for statement in ast.parse(source).body:
        match statement:
            case ast.Expr(value=ast.Constant(value=str())):  # the docstring
                pass
            case ast.ImportFrom(module="__future__"):
                pass
            case ast.ImportFrom(module=str(name), level=level, names=aliases) if not any(a.name == "*" for a in aliases):
                source_module = importlib.util.resolve_name("." * level + name, package) if level else name
                for alias in aliases:
                    names[alias.asname or alias.name] = (source_module, alias.name)
            case ast.Assign(targets=[ast.Name(id="__all__")], value=value):
                public = list(ast.literal_eval(value))
            case _:  # `from . import x`, `import x`, a star import, code: not a plain re-export
                return None
    return names, public
