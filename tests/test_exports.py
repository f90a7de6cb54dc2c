"""The public surface: a sorted ``__all__`` of documented names, and the typing marker."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import govflow
import govflow.testing


def isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff's RUF022 keeps."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted_and_complete() -> None:
    assert govflow.__all__ == sorted(govflow.__all__, key=isort_key)
    for name in govflow.__all__:
        assert hasattr(govflow, name), name
    public = {n for n in vars(govflow) if not n.startswith("_") and n not in ("testing",)}
    modules = {n for n in public if inspect.ismodule(getattr(govflow, n))}
    assert public - modules == set(govflow.__all__) - {"__version__", "hookspecs"}


def test_every_public_name_has_a_docstring() -> None:
    for module in (govflow, govflow.testing):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"
                # the class's own members and those of govflow mixins it is built from (Govflow's are)
                mro = inspect.getmro(obj) if inspect.isclass(obj) else ()
                for klass in [k for k in mro if k.__module__.startswith("govflow")]:
                    for attr, member in vars(klass).items():
                        if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
                            assert inspect.getdoc(member), f"{name}.{attr} ({klass.__name__}) has no docstring"


def test_the_package_is_typed() -> None:
    assert (Path(govflow.__file__).parent / "py.typed").exists()


def test_the_storage_module_exports_what_a_store_plugin_needs() -> None:
    import govflow.storage

    assert govflow.storage.__all__ == sorted(govflow.storage.__all__, key=isort_key)
    for name in govflow.storage.__all__:
        obj = getattr(govflow.storage, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"govflow.storage.{name} has no docstring"


def test_plugin_packages_import_nothing_private_from_govflow() -> None:
    """Plugins are published as packages of their own: govflow's private modules may move under them."""
    plugins = Path(__file__).parent.parent / "plugins"
    offenders = [
        f"{path.relative_to(plugins)}:{number}"
        for path in sorted(plugins.glob("*/src/**/*.py")) + sorted(plugins.glob("*/tests/**/*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(from|import) govflow\._", line)
    ]
    assert offenders == []
