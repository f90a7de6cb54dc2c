"""What the registration hooks fill: storage schemes, renderers and calendars.

The first registration of a name wins. The built-in plugins register last
(``trylast``), so a deployment's plugin can replace a built-in backend by
registering the same scheme, format or calendar name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._core.errors import ValidationError
from .._core.workdays import Calendar
from .._stores.protocol import Store

if TYPE_CHECKING:
    from .._lifecycle.machine import LifecycleDefinition

__all__ = [
    "Calendar",
    "RegisterCalendar",
    "RegisterLifecycle",
    "RegisterRenderer",
    "RegisterStorage",
    "Renderer",
    "StoreFactory",
]

#: Makes a store from the URL or path given to ``govflow.open``.
StoreFactory = Callable[[str], Store]
#: Renders a report of a flow: ``renderer(flow, **options) -> str | bytes``.
Renderer = Callable[..., "str | bytes"]


class RegisterStorage(Protocol):
    """``register(scheme, factory)``, passed to ``govflow_register_storage``."""

    def __call__(self, scheme: str, factory: StoreFactory) -> None:
        """Use ``factory(url)`` for targets ``"{scheme}://..."``."""


class RegisterLifecycle(Protocol):
    """``register(definition)``, passed to ``govflow_register_lifecycles``."""

    def __call__(
        self, definition: Mapping[str, Any] | LifecycleDefinition | str | os.PathLike[str]
    ) -> LifecycleDefinition:
        """Register a lifecycle (a mapping, a definition or a file path)."""


class RegisterRenderer(Protocol):
    """``register(report, fmt, renderer)``, passed to ``govflow_register_renderers``."""

    def __call__(self, report: str, fmt: str, renderer: Renderer) -> None:
        """Make ``flow.render(report, fmt)`` call ``renderer``."""


class RegisterCalendar(Protocol):
    """``register(name, calendar)``, passed to ``govflow_register_calendars``."""

    def __call__(self, name: str, calendar: Calendar) -> None:
        """Make ``calendar`` available as ``flow.calendars()[name]`` and ``open(calendar=name)``."""


def check_name(what: str, name: object) -> str:
    """A registry key must be a non-empty identifier-like string."""
    if not isinstance(name, str) or not name or not name.replace("-", "_").isidentifier():
        raise ValidationError(what, f"got {name!r}", "a non-empty name of letters, digits, '-' and '_'")
    return name


def storage_registry() -> tuple[dict[str, StoreFactory], RegisterStorage]:
    """An empty scheme registry and its ``register`` callable."""
    schemes: dict[str, StoreFactory] = {}

    def register(scheme: str, factory: StoreFactory) -> None:
        schemes.setdefault(check_name("scheme", scheme).lower(), factory)

    return schemes, register


def renderer_registry() -> tuple[dict[tuple[str, str], Renderer], RegisterRenderer]:
    """An empty renderer registry and its ``register`` callable."""
    renderers: dict[tuple[str, str], Renderer] = {}

    def register(report: str, fmt: str, renderer: Renderer) -> None:
        if not callable(renderer):
            raise ValidationError("renderer", f"got {renderer!r}", "a callable renderer(flow, **options)")
        renderers.setdefault((check_name("report", report), check_name("fmt", fmt)), renderer)

    return renderers, register


def calendar_registry() -> tuple[dict[str, Calendar], RegisterCalendar]:
    """An empty calendar registry and its ``register`` callable."""
    calendars: dict[str, Calendar] = {}

    def register(name: str, calendar: Calendar) -> None:
        if not isinstance(calendar, Calendar):
            raise ValidationError("calendar", f"got {calendar!r}", "an object with is_working_day(date)")
        calendars.setdefault(check_name("calendar", name), calendar)

    return calendars, register
