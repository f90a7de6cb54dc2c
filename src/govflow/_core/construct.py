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

:func:`replacer` copies such an object with some fields changed (``attrs.evolve``) the same
way, and :func:`differ` finds the fields in which two objects differ: both are generated with
one plain attribute read per field, which the interpreter specialises, where ``getattr`` or
an ``operator.attrgetter`` looks each field up by name on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs

__all__ = ["differ", "positional", "replacer"]

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


def _twin(klass: type[Any]) -> type[Any] | None:
    """The unfrozen class with ``klass``'s slots that the generated functions build on (one per class), or
    None where the shortcut does not apply."""
    if klass in _TWINS:
        return _TWINS[klass]
    twin: type[Any] | None = None
    if _plain(klass):
        twin = type(f"_{klass.__name__}Twin", (), {"__slots__": klass.__slots__, "__module__": klass.__module__})
        try:
            probe: Any = object.__new__(twin)
            probe.__class__ = klass
        except TypeError:  # pragma: no cover - a Python whose layouts differ: the class's own constructor
            twin = None
    return _TWINS.setdefault(klass, twin)


_TWINS: dict[type[Any], type[Any] | None] = {}


def positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of frozen slotted attrs class ``cls`` taking every field by position (defaults included).

    ``positional(Issue)(*values) == Issue(*values)``, several times faster; ``cls`` itself
    where the shortcut does not apply (see the module's docstring).
    """
    klass: type[Any] = cls
    twin = _twin(klass)
    if twin is None:
        return cls
    names = [field.name for field in attrs.fields(klass)]
    # Generated as attrs generates its own __init__: one plain store per field, no loop.
    constructor: Callable[..., T] = _building(klass, twin, f"new_{klass.__name__}", names, {n: n for n in names},
                                              "positional constructor")
    constructor.__doc__ = f"{klass.__qualname__}(*fields), every field by position."
    return constructor


def _building(klass: type[Any], twin: type[Any], name: str, params: Sequence[str], values: Mapping[str, str],
              kind: str) -> Callable[..., Any]:
    """A function ``name(*params)`` that builds a ``klass`` on ``twin``, each field set to its expression in
    ``values`` (a parameter, or ``old.<field>``)."""
    stores = "".join(f"    made.{field.name} = {values[field.name]}\n" for field in attrs.fields(klass))
    source = f"def {name}({', '.join(params)}):\n    made = new(twin)\n{stores}    made.__class__ = cls\n" \
             "    return made\n"
    return _compiled(source, name, f"<govflow {kind} of {klass.__qualname__}>",
                     {"new": object.__new__, "twin": twin, "cls": klass})


def _compiled(source: str, name: str, label: str, scope: dict[str, Any]) -> Callable[..., Any]:
    """Function ``name`` defined by ``source`` (``label`` names it in tracebacks) with the globals ``scope``."""
    namespace: dict[str, Any] = {}
    exec(compile(source, label, "exec"), scope, namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def replacer(cls: type[T]) -> Callable[[T, Mapping[str, Any]], T]:
    """``attrs.evolve(obj, **changes)`` for frozen slotted attrs class ``cls``, for the one copy every step makes.

    One function is generated per sequence of changed names (a step changes one of a few sets) that copies the
    other fields by plain attribute reads, which the interpreter specialises, instead of reading them all
    through ``getattr``. Where :func:`positional` does not apply, ``attrs.evolve``.
    """
    klass: type[Any] = cls
    twin = _twin(klass)
    if twin is None:
        def evolve(obj: T, changes: Mapping[str, Any]) -> T:
            built: T = attrs.evolve(cast(Any, obj), **changes)
            return built

        return evolve
    names = [field.name for field in attrs.fields(klass)]
    made: dict[tuple[str, ...], Callable[..., T]] = {}

    def compile_for(key: tuple[str, ...]) -> Callable[..., T]:
        for name in key:
            if name not in names:
                raise TypeError(f"{klass.__name__} has no field {name!r}")
        given = {name: f"v{index}" for index, name in enumerate(key)}
        function: Callable[..., T] = _building(
            klass, twin, f"replace_{klass.__name__}", ["old", *given.values()],
            {name: given.get(name, f"old.{name}") for name in names}, "replacer")
        if len(made) < _REPLACERS_KEPT:
            made[key] = function
        return function

    def replace(obj: T, changes: Mapping[str, Any]) -> T:
        key = tuple(changes)
        function = made.get(key) or compile_for(key)
        return function(obj, *changes.values())

    replace.__doc__ = f"attrs.evolve(obj, **changes) for {klass.__qualname__}."
    return replace


#: The most functions one :func:`replacer` keeps (beyond them, each call compiles its own: still correct).
_REPLACERS_KEPT = 256


def differ(names: Sequence[str], label: str) -> Callable[[Any, Any], list[tuple[int, Any]]]:
    """``differ(names, label)(old, new)``: ``(i, getattr(new, names[i]))`` for each attribute of ``names`` that
    is another object in ``new`` than in ``old`` (a step copies what it does not change, so most are the same
    object). Generated with plain attribute reads, as :func:`replacer` is; ``label`` names it in tracebacks."""
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"not an attribute name: {name!r}")
    tests = "".join(
        f"    if old.{name} is not new.{name}:\n        found.append(({index}, new.{name}))\n"
        for index, name in enumerate(names)
    )
    source = f"def moved(old, new):\n    found = []\n{tests}    return found\n"
    function: Callable[[Any, Any], list[tuple[int, Any]]] = _compiled(
        source, "moved", f"<govflow differ of {label}>", {})
    return function
