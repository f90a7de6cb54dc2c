"""Building the values every step makes, without attrs' frozen ``__init__``.

A frozen attrs class sets each field through ``object.__setattr__`` (a method call per
field): for :class:`~govflow.Issue`, with 24 fields, that is most of the cost of the new
snapshot every step makes. :func:`positional` gives such a class a constructor that sets
the fields on an unfrozen twin class with the same slots (plain attribute stores) and
then makes the object an instance of the class itself (``__class__`` assignment, which
CPython allows between two classes of one memory layout). The result is the same object
``cls(*values)`` gives; only the route differs. Where the class does anything more in its
``__init__`` (validators, converters, a post-init hook, a weakref slot, a base class),
the class itself is the constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["positional"]

T = TypeVar("T")
#: The names the generated constructor uses itself: a field of one of these names takes the class's own route.
_OWN_NAMES = frozenset({"new", "twin", "cls", "made"})


def _plain(cls: type[Any]) -> bool:
    """Whether ``cls``'s attrs ``__init__`` only stores its arguments, one slot per field, in field order."""
    slots = cls.__dict__.get("__slots__")
    if not attrs.has(cls) or cls.__bases__ != (object,) or slots is None:
        return False
    if "__weakref__" in slots or hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return False  # a weakref slot after the fields makes CPython call the layouts different
    return all(
        field.name not in _OWN_NAMES and field.init and field.validator is None and field.converter is None
        and field.alias == field.name
        for field in attrs.fields(cls)
    )


def positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of frozen slotted attrs class ``cls`` taking every field by position (defaults included).

    ``positional(Issue)(*values) == Issue(*values)``, several times faster; ``cls`` itself
    where the shortcut does not apply (see the module's docstring).
    """
    klass: type[Any] = cls
    if not _plain(klass):
        return cls
    twin = type(f"_{klass.__name__}Twin", (), {"__slots__": klass.__slots__, "__module__": klass.__module__})
    try:
        probe: Any = object.__new__(twin)
        probe.__class__ = klass
    except TypeError:  # pragma: no cover - a Python whose layouts differ: the class's own constructor
        return cls
    names = [field.name for field in attrs.fields(klass)]
    stores = "".join(f"    made.{name} = {name}\n" for name in names)
    source = (
        f"def new_{klass.__name__}({', '.join(names)}):\n"
        f"    made = new(twin)\n{stores}"
        f"    made.__class__ = cls\n"
        f"    return made\n"
    )
    namespace: dict[str, Any] = {}
    # Generated as attrs generates its own __init__: one plain store per field, no loop.
    exec(compile(source, f"<govflow positional constructor of {klass.__qualname__}>", "exec"),
         {"new": object.__new__, "twin": twin, "cls": klass}, namespace)
    constructor: Callable[..., T] = namespace[f"new_{klass.__name__}"]
    constructor.__doc__ = f"{klass.__qualname__}(*fields), every field by position."
    return constructor
