"""The hooks a govflow plugin may implement, grouped by phase.

Plugin authors implement them with :data:`govflow.hookimpl`, never with
pluggy directly::

    import govflow

    class Printer:
        name = "printer"

        @govflow.hookimpl
        def govflow_after_transition(self, event: govflow.TransitionEvent) -> None:
            print(event.issue_id, event.trigger, event.to_state)

Every hook below is called for all implementations except ``govflow_blob_store``
(firstresult); docs/plugins.md has a section per hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ._core.events import DeadlineEvent, ProposedTransition, TransitionEvent
    from ._core.model import Unit
    from ._flow.facade import Govflow
    from ._plugins.blobs import BlobStore
    from ._plugins.registries import (
        RegisterCalendar,
        RegisterLifecycle,
        RegisterRenderer,
        RegisterStorage,
    )

__all__ = [
    "govflow_after_transition",
    "govflow_before_transition",
    "govflow_blob_store",
    "govflow_deadline",
    "govflow_register_calendars",
    "govflow_register_lifecycles",
    "govflow_register_renderers",
    "govflow_register_storage",
    "govflow_score_unit",
    "govflow_startup",
    "hookspec",
]

#: The marker govflow's hook specifications carry (project name ``govflow``).
hookspec = pluggy.HookspecMarker("govflow")


# -- Phase 1: registration, while govflow.open() configures the flow --------------------


@hookspec
def govflow_register_storage(register: RegisterStorage) -> None:
    """Register storage backends by URL scheme.

    ``register(scheme, factory)`` where ``factory(url)`` returns a
    :class:`govflow.Store`; ``govflow.open("scheme://...")`` then uses it.
    Called once per flow, for all plugins, before the store is opened.
    Not firstresult.
    """


@hookspec
def govflow_register_lifecycles(register: RegisterLifecycle) -> None:
    """Register lifecycle definitions.

    ``register(definition)`` takes a mapping, a
    :class:`govflow.LifecycleDefinition` or a path to a JSON/TOML/YAML file.
    Called once per flow, for all plugins, after the store is opened.
    Not firstresult.
    """


@hookspec
def govflow_register_renderers(register: RegisterRenderer) -> None:
    """Register output formats for reports (the ledger now, bulletins later).

    ``register(report, fmt, renderer)``: ``renderer(flow, **options)`` returns
    ``str`` (text formats) or ``bytes``; ``flow.render(report, fmt, ...)``
    calls it. Called once per flow, for all plugins. Not firstresult.
    """


@hookspec
def govflow_register_calendars(register: RegisterCalendar) -> None:
    """Register working-day calendars.

    ``register(name, calendar)`` where ``calendar`` has
    ``is_working_day(date) -> bool``; ``flow.calendar(name)`` returns it.
    Called once per flow, for all plugins. Not firstresult.
    """


@hookspec
def govflow_startup(flow: Govflow) -> None:
    """Wire a plugin to a configured flow (store open, lifecycles registered).

    ``flow`` is the :class:`govflow.Govflow`. Called once per flow, for all
    plugins, at the end of ``govflow.open()``. Not firstresult.
    """


@hookspec(firstresult=True)
def govflow_blob_store(flow: Govflow) -> BlobStore | None:
    """Provide the store of evidence files (佐证材料) for ``flow``.

    ``flow`` is the :class:`govflow.Govflow`; return an object with ``put(data) -> sha256`` and
    ``get(sha256) -> bytes | None`` (:class:`govflow.BlobStore`), or None to leave it to another plugin.
    Called once per flow, the first time a file is attached or checked. firstresult: the first non-None
    answer wins; the built-in default (trylast) keeps files in a folder beside the SQLite file, or in
    memory for ``:memory:``.
    """


# -- Phase 2: commands, before anything is written --------------------------------------


@hookspec
def govflow_before_transition(event: ProposedTransition) -> None:
    """Guard a transition that the lifecycle allows; veto it by raising.

    ``event`` is a :class:`govflow.ProposedTransition` (the issue before and
    after, trigger, actor, time, data). Raise :class:`govflow.TransitionVetoed`
    (or any exception) to refuse it: nothing is written and the exception
    reaches the caller. Called for all plugins, in the caller's thread, for
    ``assign`` too. Not firstresult.
    """


# -- Phase 3: after commit, delivered from the outbox ------------------------------------


@hookspec
def govflow_after_transition(event: TransitionEvent) -> None:
    """Be told of a committed transition (notifications).

    ``event`` is a :class:`govflow.TransitionEvent`. Delivered from the outbox
    after commit, at least once, separately per plugin: an exception is
    recorded and retried with backoff, never undoes the transition, and does
    not stop other plugins. Use ``event.idempotency_key`` to drop duplicates.
    Not firstresult.
    """


@hookspec
def govflow_deadline(event: DeadlineEvent) -> None:
    """Be told of a deadline step (reminder, 催办, 督办, 约谈).

    ``event`` is a :class:`govflow.DeadlineEvent`. Delivered from the outbox
    like :func:`govflow_after_transition`. Not firstresult.
    """


# -- Phase 4: evaluation ---------------------------------------------------------------


@hookspec
def govflow_score_unit(unit: Unit, period: str, facts: Any) -> list[Any] | None:
    """Contribute scoring indicators for one unit and period (考评).

    ``unit`` is a :class:`govflow.Unit`, ``period`` a string such as
    ``"2020-06"``, ``"2020-Q3"`` or ``"2020"``, ``facts`` the unit's period
    facts. Return a list of indicators (or None); the lists of all plugins
    are combined (``flow.hooks.score_unit``). Not firstresult.
    """
