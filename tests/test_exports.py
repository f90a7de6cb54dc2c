"""The public surface: a sorted ``__all__`` of documented names, and the typing marker."""

from __future__ import annotations

import inspect
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
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
                        assert inspect.getdoc(member), f"{name}.{attr} has no docstring"


def test_the_package_is_typed() -> None:
    assert (Path(govflow.__file__).parent / "py.typed").exists()
