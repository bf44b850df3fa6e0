"""What a Lambda entry point does around its imports (the init phase of a cold start).

Importing pydantic models, Powertools and boto3 allocates a few hundred thousand objects that live as
long as the process, and the cyclic garbage collector traverses them again and again while they are
created: about a tenth of the handlers' import time (`make bench`). Collection is paused during the
imports, and what they built is moved to the collector's permanent generation (`gc.freeze`), so neither
the imports nor the later invocations pay to traverse it: the collection is skipped, not postponed.
Reference counting still frees these objects; only reference cycles among them are never reclaimed,
which for module-level state is what happens anyway.

A package whose `__init__` imports all of its modules to re-export their names, where a function uses a few,
can be imported without those imports (`defer_reexports`).
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def startup_imports() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def defer_reexports(package: str) -> bool:
    """Import `package` without running its `__init__`'s imports: each name it re-exports imports its module when
    first read (a module `__getattr__`, PEP 562), and its modules import as they always do.

    Only for an `__init__` that does nothing else: a docstring, `from ... import ...` of names and `__all__`. Any
    other statement, or a package imported already, leaves it as it is (False); True when deferred.
    """
    if package in sys.modules:
        return False
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No package named {package!r}", name=package)
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

    vars(module).update(__getattr__=reexport, __dir__=lambda: sorted({*vars(module), *names}), __all__=public)
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)  # what the import system does once it has run a submodule
    return True


def _reexports(package: str, source: str) -> tuple[dict[str, tuple[str, str]], list[str]] | None:
    """Each name the `__init__` source binds -> (module, attribute), and its `__all__`; None if it does more."""
    names: dict[str, tuple[str, str]] = {}
    public: list[str] = []
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
