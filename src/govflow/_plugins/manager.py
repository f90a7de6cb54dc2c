"""Plugin loading and the typed facade through which govflow calls its hooks.

One :class:`Plugins` per flow (never module-global). Built-ins are ordinary
plugins listed in ``DEFAULT_PLUGINS``; third-party plugins come from the
``govflow`` entry-point group and from ``govflow.open(..., plugins=[...])``.
``GOVFLOW_DISABLE_PLUGINS`` (comma-separated names) blocks plugins by name.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import attrs
import pluggy

from .. import hookspecs
from .._core.errors import GovflowError

if TYPE_CHECKING:
    from .._core.events import DeadlineEvent, ProposedTransition, TransitionEvent
    from .._core.model import Unit
    from .._flow.facade import Govflow
    from .blobs import BlobStore
    from .registries import RegisterCalendar, RegisterLifecycle, RegisterRenderer, RegisterStorage

__all__ = ["DISABLE_ENV", "PluginInfo", "PluginLoadError", "PluginNotLoaded", "PluginWarning", "Plugins", "hookimpl"]

#: The marker plugin authors decorate their hook implementations with.
hookimpl: Final = pluggy.HookimplMarker("govflow")

#: The environment variable that blocks plugins by name (comma-separated).
DISABLE_ENV: Final = "GOVFLOW_DISABLE_PLUGINS"

_log = logging.getLogger("govflow.plugins")

#: Hooks whose calls go through the outbox, after commit.
DELIVERED_HOOKS: Final = ("after_transition", "deadline")


class PluginLoadError(GovflowError):
    """A plugin failed to import or to register (raised in strict mode)."""

    def __init__(self, name: str, distribution: str | None, problem: str) -> None:
        self.name = name
        self.distribution = distribution
        self.problem = problem
        source = f" from distribution {distribution!r}" if distribution else ""
        super().__init__(f"plugin {name!r}{source} was not loaded: {problem}")


class PluginNotLoaded(LookupError):
    """The plugin an outbox row names is not loaded in this process (another one may deliver it)."""


class PluginWarning(UserWarning):
    """A plugin was skipped; the message names it and its distribution."""


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, distribution and version, and the hooks it implements."""

    name: str
    hooks: tuple[str, ...]
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False


def plugin_name(plugin: object) -> str:
    """The name a plugin object is registered (and blocked, and recorded in the outbox) under.

    An explicit ``name`` attribute wins; else a module's name, else the class name.
    """
    name = getattr(plugin, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    cls = plugin if inspect.isclass(plugin) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def _govflow_version() -> str | None:
    try:
        return importlib.metadata.version("govflow")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return None


@attrs.define(eq=False)
class Plugins:
    """The plugin manager of one flow and the typed calls into it."""

    strict: bool = False
    _pm: pluggy.PluginManager = attrs.field(init=False)
    _info: dict[str, PluginInfo] = attrs.field(init=False, factory=dict)
    _failures: list[PluginLoadError] = attrs.field(init=False, factory=list)
    _subscribers: dict[str, tuple[str, ...]] = attrs.field(init=False, factory=dict)
    _has_guards: bool = attrs.field(init=False, default=False)
    _blocked: tuple[str, ...] = attrs.field(init=False, default=())
    _seen: set[str] = attrs.field(init=False, factory=set)

    def __attrs_post_init__(self) -> None:
        self._pm = pluggy.PluginManager("govflow")
        self._pm.add_hookspecs(hookspecs)
        self._blocked = tuple(dict.fromkeys(n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()))
        for name in self._blocked:
            self._pm.set_blocked(name)

    # -- loading --------------------------------------------------------------------------

    def load(self, builtins: Iterable[object], extra: Sequence[object], entry_points: bool = True) -> None:
        """Register the built-ins, the entry-point plugins, then ``extra``."""
        for plugin in builtins:
            self.add(plugin, builtin=True, distribution="govflow", version=_govflow_version())
        # Plugins passed explicitly come before the entry points, so an instance the
        # caller configured wins over an installed plugin of the same name.
        for plugin in extra:
            self.add(plugin)
        if entry_points:
            for ep in importlib.metadata.entry_points(group="govflow"):
                self._load_entry_point(ep)
            self._warn_unknown_blocked()

    def _warn_unknown_blocked(self) -> None:
        """A misspelt name in GOVFLOW_DISABLE_PLUGINS would otherwise leave the plugin running unnoticed."""
        for name in self._blocked:
            if name not in self._seen:
                close = difflib.get_close_matches(name, sorted(self._seen), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                message = (
                    f"{DISABLE_ENV} names {name!r}, but no plugin has that name{hint} "
                    f"(plugins: {', '.join(sorted(self._seen)) or 'none'})"
                )
                _log.warning("govflow: %s", message)
                warnings.warn(message, PluginWarning, stacklevel=4)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        self._seen.add(ep.name)
        if self._pm.is_blocked(ep.name) or self._pm.has_plugin(ep.name):
            return
        try:
            plugin = ep.load()
        except Exception as exc:
            self._fail(PluginLoadError(ep.name, dist, f"import failed: {type(exc).__name__}: {exc}"))
            return
        if inspect.isclass(plugin) or inspect.isfunction(plugin):
            # A class is instantiated, a function is a factory; either may need configuration.
            try:
                plugin = plugin()
            except Exception as exc:
                self._fail(PluginLoadError(ep.name, dist, f"could not be created: {type(exc).__name__}: {exc}"))
                return
            if plugin is None:
                return  # the factory declined: not configured in this environment
        self.add(plugin, name=ep.name, distribution=dist, version=version)

    def add(
        self,
        plugin: object,
        *,
        name: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
    ) -> str | None:
        """Register one plugin object or module; return its name, or None if blocked or refused."""
        name = name or plugin_name(plugin)
        self._seen.add(name)
        if self._pm.is_blocked(name):
            return None
        if self._pm.has_plugin(name):
            self._fail(PluginLoadError(name, distribution, "a plugin of that name is already registered"))
            return None
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._fail(PluginLoadError(name, distribution, f"invalid hook implementation: {exc}"))
            return None
        callers = self._pm.get_hookcallers(plugin) or []
        unknown = [c.name for c in callers if not c.has_spec()]
        if unknown:
            self._pm.unregister(plugin)
            self._fail(PluginLoadError(
                name, distribution, f"implements unknown hooks {unknown}; govflow's hooks are in govflow.hookspecs"
            ))
            return None
        hooks = tuple(sorted(c.name for c in callers))
        if version is None:
            candidate = getattr(plugin, "__version__", None)
            version = candidate if isinstance(candidate, str) else None
        self._info[name] = PluginInfo(name, hooks, distribution, version, builtin)
        self._subscribers.clear()
        self._has_guards = bool(self._pm.hook.govflow_before_transition.get_hookimpls())
        return name

    def _fail(self, error: PluginLoadError) -> None:
        if self.strict:
            raise error
        self._failures.append(error)
        warnings.warn(str(error), PluginWarning, stacklevel=4)

    def info(self) -> list[PluginInfo]:
        """The loaded plugins, in registration order."""
        return list(self._info.values())

    def failures(self) -> list[PluginLoadError]:
        """The plugins that were skipped, and why."""
        return list(self._failures)

    # -- the typed calls -------------------------------------------------------------------

    def register_storage(self, register: RegisterStorage) -> None:
        """Call ``govflow_register_storage``."""
        self._pm.hook.govflow_register_storage(register=register)

    def register_lifecycles(self, register: RegisterLifecycle) -> None:
        """Call ``govflow_register_lifecycles``."""
        self._pm.hook.govflow_register_lifecycles(register=register)

    def register_renderers(self, register: RegisterRenderer) -> None:
        """Call ``govflow_register_renderers``."""
        self._pm.hook.govflow_register_renderers(register=register)

    def register_calendars(self, register: RegisterCalendar) -> None:
        """Call ``govflow_register_calendars``."""
        self._pm.hook.govflow_register_calendars(register=register)

    def blob_store(self, flow: Govflow) -> BlobStore:
        """Call ``govflow_blob_store`` (firstresult); the built-in default always answers."""
        found: BlobStore | None = self._pm.hook.govflow_blob_store(flow=flow)
        if found is None:
            raise RuntimeError("no plugin provided a blob store (is the built-in 'blobs' plugin disabled?)")
        return found

    def startup(self, flow: Govflow) -> None:
        """Call ``govflow_startup``."""
        self._pm.hook.govflow_startup(flow=flow)

    @property
    def has_guards(self) -> bool:
        """Whether any plugin implements ``govflow_before_transition`` (skips the call if not)."""
        return self._has_guards

    def before_transition(self, event: ProposedTransition) -> None:
        """Call ``govflow_before_transition``; a raising plugin vetoes."""
        self._pm.hook.govflow_before_transition(event=event)

    def score_unit(self, unit: Unit, period: str, facts: Any) -> list[Any]:
        """Call ``govflow_score_unit`` and flatten what the plugins return."""
        results: list[list[Any] | None] = self._pm.hook.govflow_score_unit(unit=unit, period=period, facts=facts)
        return [item for result in results if result for item in result]

    def subscribers(self, hook: str) -> tuple[str, ...]:
        """Names of the plugins implementing a delivered hook (``after_transition``, ``deadline``)."""
        found = self._subscribers.get(hook)
        if found is None:
            caller = getattr(self._pm.hook, f"govflow_{hook}")
            found = tuple(sorted(impl.plugin_name for impl in caller.get_hookimpls()))
            self._subscribers[hook] = found
        return found

    def deliver(self, hook: str, plugin: str, event: TransitionEvent | DeadlineEvent) -> None:
        """Call one plugin's implementation of a delivered hook (isolated from the others).

        Raises :class:`PluginNotLoaded` if that plugin is not loaded in this process.
        """
        caller = getattr(self._pm.hook, f"govflow_{hook}")
        for impl in caller.get_hookimpls():
            if impl.plugin_name == plugin:
                function: Callable[..., object] = impl.function
                # As pluggy does: pass only the arguments the implementation names.
                function(*[{"event": event}[arg] for arg in impl.argnames])
                return
        raise PluginNotLoaded(f"plugin {plugin!r} with govflow_{hook} is not loaded in this process")
