"""``govflow.open()``: load the plugins, pick the store by its URL scheme, and build the flow."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._core.clock import Clock
from .._core.errors import ValidationError
from .._deadlines.calendar import Fallback
from .._deadlines.ladder import Ladder
from .._lifecycle.effects import EscalateTo
from .._plugins.manager import Plugins
from .._plugins.outbox import RetryPolicy
from .._plugins.registries import storage_registry
from .._reports.scoring import ScoringPolicy
from .._stores.protocol import Store
from .builtin import DEFAULT_PLUGINS
from .facade import Delivery, Govflow

__all__ = ["open"]


def open(
    target: str | os.PathLike[str] | Store,
    *,
    clock: Clock | None = None,
    id_prefix: str = "GF-",
    plugins: Sequence[object] = (),
    strict_plugins: bool = False,
    delivery: Delivery = "background",
    retry: RetryPolicy | None = None,
    calendar: str = "cn",
    calendar_fallback: Fallback | None = None,
    max_extensions: int = 2,
    ladder: Ladder | None = None,
    scoring: ScoringPolicy | None = None,
    escalate_to: EscalateTo = "parent",
) -> Govflow:
    """Open a flow on a store.

    ``target`` is a file path (SQLite), ``":memory:"``, a URL whose scheme a
    storage plugin registered (``sqlite:///path``, ``memory://``, ...) or a
    :class:`Store` object. ``clock`` is a zero-argument callable returning a
    timezone-aware datetime (default: now in Asia/Shanghai). Issue ids read
    ``{id_prefix}{year}-{n:04d}``.

    Plugins: the built-ins, then those of the ``govflow`` entry-point group,
    then ``plugins`` (objects or modules); ``GOVFLOW_DISABLE_PLUGINS`` blocks
    names. A plugin that fails to load is skipped with a :class:`PluginWarning`,
    or raises :class:`PluginLoadError` when ``strict_plugins``. ``delivery``
    says when notifications go out (see :data:`Delivery`); ``retry`` how
    failed deliveries are retried.

    Deadlines: ``calendar`` names the working-day calendar (``"cn"``: China's
    official holidays and make-up days); ``calendar_fallback="provisional"``
    lets it count a year without an official schedule as weekends plus
    statutory holidays (the due date is then marked provisional);
    ``max_extensions`` caps approved extensions per issue; ``ladder`` is the
    escalation ladder (default :data:`DEFAULT_LADDER`). ``escalate_to`` is where 提级督办 (escalation one
    level, after repeated transfers or reworks) takes an issue: ``"parent"`` (the parent of the supervising
    office), the id of a unit, or a callable mapping the supervising office's :class:`Unit` to a unit or its id;
    a target that is no registered unit refuses the step with :class:`ValidationError` (``escalate_to``).

    Scoring: ``scoring`` is the :class:`ScoringPolicy` (indicator weights,
    deductions, floor, acceptance limit, grades) for ``flow.scores()`` and
    ``flow.evaluation()``; docs/scoring.md describes the defaults.
    """
    manager = Plugins(strict=strict_plugins)
    manager.load([cls() for cls in DEFAULT_PLUGINS], list(plugins))
    schemes, register = storage_registry()
    manager.register_storage(register)
    store = _open_store(target, schemes)
    try:
        return Govflow(
            store, clock=clock, id_prefix=id_prefix, plugins=manager, delivery=delivery, retry=retry,
            calendar=calendar, calendar_fallback=calendar_fallback, max_extensions=max_extensions, ladder=ladder,
            scoring=scoring, escalate_to=escalate_to,
        )
    except BaseException:
        store.close()
        raise


def _open_store(target: object, schemes: Mapping[str, Any]) -> Store:
    accepted = f"a file path, ':memory:', a Store, or a URL with a registered scheme ({', '.join(sorted(schemes))})"
    if isinstance(target, Store):
        return target
    missing = _missing_store_methods(target)
    if missing and hasattr(target, "commit"):
        raise ValidationError("target", f"the store lacks {', '.join(missing)}", "an object with every Store method")
    if not isinstance(target, str | os.PathLike):
        raise ValidationError("target", f"got {target!r}", accepted)
    text = os.fspath(target)
    if text == ":memory:":
        scheme = "memory"
    elif "://" in text:
        scheme = text.split("://", 1)[0].lower()
    else:
        scheme = "sqlite"
    factory = schemes.get(scheme)
    if factory is None:
        raise ValidationError("target", f"no storage plugin for scheme {scheme!r}", accepted)
    store = factory(text)
    if not isinstance(store, Store):
        lacks = ", ".join(_missing_store_methods(store))
        raise ValidationError("target", f"the {scheme!r} plugin returned a store that lacks {lacks}", "a govflow.Store")
    return store


def _missing_store_methods(store: object) -> list[str]:
    members = [name for name in dir(Store) if not name.startswith("_")]
    return [name for name in members if not hasattr(store, name)]
