"""A package whose `__init__` only re-exports its modules' names is imported without those modules, each loaded
by the first read of one of its names; any other package is left to the import system."""

from __future__ import annotations

import sys
import textwrap

import pytest

from csms.runtime.deferred_imports import defer_reexports


@pytest.fixture
def make_package(tmp_path, monkeypatch):
    """A package `name` under tmp_path with `__init__.py` `init` and modules {module name: source}."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(name: str, init: str, modules: dict[str, str]) -> str:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "__init__.py").write_text(textwrap.dedent(init))
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(textwrap.dedent(source))
        made.append(name)
        return name

    yield make
    for name in list(sys.modules):
        if name.split(".")[0] in made:
            del sys.modules[name]


REEXPORTING_INIT = '''
    """Every resolver there is."""
    from __future__ import annotations

    from .cheap import Cheap, helper as shortcut
    from .heavy import (
        Heavy,
    )
    from {name}.other import Other

    __all__ = ["Cheap", "Heavy", "Other", "shortcut"]
'''
MODULES = {
    "cheap": "class Cheap: ...\ndef helper(): return 'helped'\n",
    "heavy": "class Heavy: ...\n",
    "other": "class Other: ...\n",
}


def test_each_reexported_name_loads_only_its_module_when_first_read(make_package):
    name = make_package("reexporting", REEXPORTING_INIT.format(name="reexporting"), MODULES)

    assert defer_reexports(name)
    package = sys.modules[name]
    assert not {f"{name}.cheap", f"{name}.heavy", f"{name}.other"} & set(sys.modules)

    from reexporting import Cheap  # type: ignore[import-not-found]

    assert Cheap is sys.modules[f"{name}.cheap"].Cheap
    assert vars(package)["Cheap"] is Cheap  # found as a plain attribute from then on
    assert f"{name}.heavy" not in sys.modules and f"{name}.other" not in sys.modules
    assert package.shortcut() == "helped"  # `as` names, read as attributes
    assert package.Other is sys.modules[f"{name}.other"].Other  # absolute imports of its own modules too
    assert package.__all__ == ["Cheap", "Heavy", "Other", "shortcut"]
    assert {"Cheap", "Heavy", "Other", "shortcut"} <= set(dir(package))


def test_its_modules_import_as_always(make_package):
    name = make_package("reexporting", REEXPORTING_INIT.format(name="reexporting"), MODULES)
    defer_reexports(name)

    import reexporting.heavy  # type: ignore[import-not-found]

    assert reexporting.heavy.Heavy.__module__ == f"{name}.heavy"
    assert sys.modules[name].heavy is reexporting.heavy


def test_a_name_it_does_not_export_is_an_attribute_error(make_package):
    name = make_package("reexporting", REEXPORTING_INIT.format(name="reexporting"), MODULES)
    defer_reexports(name)

    with pytest.raises(AttributeError, match="has no attribute 'Missing'"):
        sys.modules[name].Missing  # noqa: B018
    with pytest.raises(ImportError):
        from reexporting import Missing  # type: ignore[import-not-found]  # noqa: F401


def test_without_an_all_in_the_source_there_is_none(make_package):
    name = make_package("unlisted", "from .cheap import Cheap\n", {"cheap": "class Cheap: ...\n"})

    assert defer_reexports(name)
    assert not hasattr(sys.modules[name], "__all__")
    assert sys.modules[name].Cheap.__name__ == "Cheap"


@pytest.mark.parametrize(
    "init",
    [
        "from .cheap import Cheap\nREGISTRY = {}\n",  # state of its own
        "from .cheap import Cheap\nimport logging\n",
        "from .cheap import *\n",
        "from . import cheap\n",
    ],
)
def test_an_init_that_does_more_than_reexport_is_left_to_run(make_package, init):
    name = make_package("busy", init, {"cheap": "class Cheap: ...\n"})

    assert not defer_reexports(name)
    assert name not in sys.modules  # imported as usual when something imports it


def test_a_package_imported_already_is_left_as_it_is(make_package):
    name = make_package("reexporting", REEXPORTING_INIT.format(name="reexporting"), MODULES)
    __import__(name)
    loaded = sys.modules[name]

    assert not defer_reexports(name)
    assert sys.modules[name] is loaded and f"{name}.heavy" in sys.modules


def test_a_package_that_does_not_exist_is_an_error():
    with pytest.raises(ModuleNotFoundError):
        defer_reexports("no_such_package_anywhere")
