"""The :class:`Govflow` facade: every command a caller gives goes through here.

One command travels: load the issue, fire the trigger on a working copy with
the lifecycle's shared machine, then commit the new snapshot and its ledger
entry in one unit of work that names the version that was read.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, cast

import attrs

from .._core.clock import Clock, default_clock, in_zone
from .._core.errors import (
    ConcurrentUpdateError,
    FlowClosed,
    LifecycleError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from .._core.events import ProposedTransition
from .._core.ledger import PLAN_SUBJECT_PREFIXES, LedgerDraft, new_draft
from .._core.model import Issue, Responsible
from .._core.text import check_text
from .._deadlines.calendar import Fallback, WorkingDays, resolve_due
from .._deadlines.ladder import DEFAULT_LADDER, Ladder
from .._lifecycle.effects import EscalateTo
from .._lifecycle.fields import parse_actor, parse_due, parse_responsible
from .._lifecycle.machine import Lifecycle, LifecycleDefinition, describe_roles, roles_of
from .._lifecycle.replay import assign_data, assigned_issue
from .._plans.lifecycle import PLAN_LABELS
from .._plugins.manager import PluginInfo, PluginLoadError, Plugins
from .._plugins.outbox import Courier, DeliveryReport, Outbox, RetryPolicy
from .._plugins.registries import Calendar, calendar_registry, renderer_registry
from .._plugins.retry import retry_on_conflict
from .._reports.scoring import ScoringPolicy
from .._stores.protocol import Store, UnitOfWork, new_work
from .builtin import DEFAULT_PLUGINS
from .closed import ClosedStore
from .deadlines import DeadlinesMixin
from .field import FieldMixin, WithPartners
from .periods import PeriodsMixin
from .plans import PlansMixin
from .reading import ReadingMixin
from .sheets import SheetsMixin
from .steps import ActorLike, StepsMixin
from .units import UnitsMixin

__all__ = ["Delivery", "Govflow"]

#: When the outbox is delivered: by a background thread after each commit, in the
#: committing call itself, or only when ``flow.deliver()`` is called (a worker).
Delivery = Literal["background", "inline", "manual"]


class Govflow(UnitsMixin, FieldMixin, StepsMixin, DeadlinesMixin, PeriodsMixin, ReadingMixin, SheetsMixin,
              PlansMixin):
    """A problem-list system on one store. Make one with :func:`govflow.open`.

    Use it as a context manager, or call :meth:`close`, to release the store.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        id_prefix: str = "GF-",
        plugins: Plugins | None = None,
        delivery: Delivery = "background",
        retry: RetryPolicy | None = None,
        calendar: str = "cn",
        calendar_fallback: Fallback | None = None,
        max_extensions: int = 2,
        ladder: Ladder | None = None,
        scoring: ScoringPolicy | None = None,
        escalate_to: EscalateTo = "parent",
    ) -> None:
        check_text("id_prefix", id_prefix, kind="id", max_len=32, empty=True)
        if ":" in id_prefix:
            # ``kind:id`` names the ledger's other subjects (``unit:OFFICE``): an issue id never has one.
            raise ValidationError("id_prefix", f"got {id_prefix!r}", "a prefix without ':' such as 'GF-'")
        if id_prefix.startswith(PLAN_SUBJECT_PREFIXES):  # the ids of plans and targets, in the same ledger
            raise ValidationError("id_prefix", f"got {id_prefix!r}", "a prefix not starting with 'PL-' or 'TG-'")
        if delivery not in ("background", "inline", "manual"):
            raise ValidationError("delivery", f"got {delivery!r}", "'background', 'inline' or 'manual'")
        self._store = store
        self._clock: Clock = clock or default_clock
        self._id_prefix = id_prefix
        if plugins is None:
            plugins = Plugins()
            plugins.load([cls() for cls in DEFAULT_PLUGINS], (), entry_points=False)
        self._plugins = plugins
        self._units = {unit.id: unit for unit in store.units()}
        self._lifecycles: dict[tuple[str, int], Lifecycle] = {}
        self._latest: dict[str, int] = {}
        # Stored definitions first: an issue keeps the version it was created under.
        self._reload_lifecycles()
        self._renderers, register_renderer = renderer_registry()
        self._calendars, register_calendar = calendar_registry()
        plugins.register_lifecycles(self.register_lifecycle)
        plugins.register_renderers(register_renderer)
        plugins.register_calendars(register_calendar)
        if calendar not in self._calendars:
            raise ValidationError("calendar", f"no calendar {calendar!r}", ", ".join(sorted(self._calendars)))
        self._calendar: Calendar = self._calendars[calendar]
        if calendar_fallback is not None:
            if calendar_fallback not in ("refuse", "provisional"):
                raise ValidationError("calendar_fallback", f"got {calendar_fallback!r}", "'refuse' or 'provisional'")
            if not hasattr(self._calendar, "fallback"):
                raise ValidationError("calendar_fallback", f"calendar {calendar!r} has no fallback", "None")
            setattr(self._calendar, "fallback", calendar_fallback)  # noqa: B010 - any calendar type
        if isinstance(max_extensions, bool) or not isinstance(max_extensions, int) or max_extensions < 0:
            raise ValidationError("max_extensions", f"got {max_extensions!r}", "an integer >= 0")
        self._max_extensions = max_extensions
        self.ladder = ladder or DEFAULT_LADDER
        if scoring is not None and not isinstance(scoring, ScoringPolicy):
            raise ValidationError("scoring", f"got {scoring!r}", "a govflow.ScoringPolicy or None")
        self._scoring = scoring or ScoringPolicy()
        self._escalate_to = self._check_escalate_to(escalate_to)
        self.outbox = Outbox(store, plugins, self.now, retry or RetryPolicy())
        self._delivery = delivery
        self._courier: Courier | None = None
        plugins.startup(self)
        # Started last, so that a failure above leaves no thread behind.
        delivered = plugins.subscribers("after_transition") or plugins.subscribers("deadline")
        if delivery == "background" and delivered:
            self._courier = Courier(self.outbox)
            self._courier.start()

    # -- resources ------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store this flow writes to."""
        return self._store

    @property
    def hooks(self) -> Plugins:
        """The typed facade over this flow's plugin manager (for plugin tests and extensions)."""
        return self._plugins

    def plugins(self) -> list[PluginInfo]:
        """The loaded plugins with their name, distribution, version and hooks."""
        return self._plugins.info()

    def plugin_failures(self) -> list[PluginLoadError]:
        """Plugins that were skipped at load time, and why."""
        return self._plugins.failures()

    def deliver(self, limit: int = 1000) -> DeliveryReport:
        """Deliver the outbox rows that are due (what a delivery worker calls in a loop)."""
        if isinstance(self._store, ClosedStore):
            raise FlowClosed("deliver")
        return self.outbox.deliver(limit)

    def close(self) -> None:
        """Stop background delivery (after a last run) and close the store.

        Any later use of the flow raises :class:`govflow.FlowClosed`; closing again does nothing.
        """
        if self._courier is not None:
            self._courier.stop()
            self._courier = None
        store, self._store = self._store, cast(Store, ClosedStore())
        self.outbox = attrs.evolve(self.outbox, store=self._store)  # flow.outbox.pending() after close: FlowClosed
        store.close()

    def __enter__(self) -> Govflow:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def now(self) -> dt.datetime:
        """The clock's current time, in Asia/Shanghai (days and years are counted there)."""
        return in_zone("clock()", self._clock())

    # -- lifecycles -----------------------------------------------------------------------

    def register_lifecycle(
        self, definition: Mapping[str, Any] | LifecycleDefinition | str | os.PathLike[str]
    ) -> LifecycleDefinition:
        """Register a lifecycle from a mapping, a definition, or a JSON/TOML/YAML file path.

        Registering the same name and version again with the same content is a
        no-op; with different content it is a :class:`LifecycleError` (bump the
        version instead: issues keep the version they were created under).
        """
        if isinstance(definition, str | os.PathLike):
            definition = LifecycleDefinition.load(Path(definition))
        elif not isinstance(definition, LifecycleDefinition):
            definition = LifecycleDefinition.from_dict(definition)
        # Another process may have registered this name and version since this flow opened.
        existing = self._lifecycle_of(definition.name, definition.version)
        if existing is not None:
            if existing.definition.canonical_json() != definition.canonical_json():
                raise LifecycleError(
                    definition.key,
                    "a different definition is already registered under this name and "
                    "version; register it as a new version",
                )
            return existing.definition
        self._store.save_lifecycle(definition.name, definition.version, definition.canonical_json())
        self._install(definition)
        return definition

    def _install(self, definition: LifecycleDefinition) -> None:
        self._lifecycles[definition.name, definition.version] = Lifecycle(definition)
        if definition.version >= self._latest.get(definition.name, 0):
            self._latest[definition.name] = definition.version

    def lifecycle(self, name: str = "issue-list", version: int | None = None) -> LifecycleDefinition:
        """A registered lifecycle definition (the latest version unless one is named)."""
        return self._lifecycle(name, version).definition

    def lifecycles(self) -> list[LifecycleDefinition]:
        """Every registered lifecycle definition, by name and version."""
        return [self._lifecycles[key].definition for key in sorted(self._lifecycles)]

    def _lifecycle(self, name: str, version: int | None = None) -> Lifecycle:
        if not isinstance(name, str) or (version is not None and (isinstance(version, bool)
                                                                  or not isinstance(version, int))):
            raise ValidationError("lifecycle", f"got {name!r}@{version!r}", "a lifecycle name and an integer version")
        if version is None:
            latest = self._latest.get(name)
            if latest is None and self._reload_lifecycles():
                latest = self._latest.get(name)
            if latest is None:
                raise NotFound("lifecycle", name, f"registered: {sorted(self._latest)}")
            version = latest
        found = self._lifecycle_of(name, version)
        if found is None:
            raise NotFound("lifecycle", f"{name}@{version}")
        return found

    def _lifecycle_of(self, name: str, version: int) -> Lifecycle | None:
        """The compiled lifecycle ``name@version``, looking in the store on a miss; None if there is none."""
        found = self._lifecycles.get((name, version))
        if found is None and self._reload_lifecycles():
            found = self._lifecycles.get((name, version))
        return found

    def _reload_lifecycles(self) -> bool:
        """Install the stored definitions this flow lacks (another process registered them); whether any."""
        missing = [text for name, version, text in self._store.lifecycles() if (name, version) not in self._lifecycles]
        for text in missing:
            self._install(LifecycleDefinition.from_dict(json.loads(text)))
        return bool(missing)

    def label(self, name: str, lang: str = "zh", lifecycle: str = "issue-list", version: int | None = None) -> str:
        """The label of a state or trigger in ``lang`` (``zh`` or ``en``), or the name itself.

        Labels come from the named lifecycle (its latest version unless ``version`` is given);
        govflow's own steps (``deadline``, ``recount_due``), plan steps, plan states and target
        statuses (``add_plan``, ``lagging`` …) have labels of their own.
        """
        if not isinstance(name, str) or not isinstance(lang, str):
            raise ValidationError("name" if not isinstance(name, str) else "lang", "not a string",
                                  "the name of a state or trigger, and 'zh' or 'en'")
        labels = self._lifecycle(lifecycle, version).definition.labels.get(lang, {})
        if name in labels:
            return labels[name]
        own = _SYSTEM_LABELS.get(name) or PLAN_LABELS.get(name)
        return name if own is None else own[1 if lang == "en" else 0]

    def render(self, report: str, fmt: str, **options: Any) -> str | bytes:
        """Render a report (``"ledger"``) in a registered format (``csv``, ``json``, ``markdown``, ...).

        ``options`` go to the renderer (the ledger takes ``issue_id`` and ``lang``).
        """
        renderer = self._renderers.get((report, fmt)) if isinstance(report, str) and isinstance(fmt, str) else None
        if renderer is None:
            formats = sorted(f"{r}/{f}" for r, f in self._renderers)
            raise ValidationError("fmt", f"no renderer for {report}/{fmt}", ", ".join(formats) or "none")
        return renderer(self, **options)

    @property
    def calendar(self) -> Calendar:
        """The working-day calendar due dates are counted in (``govflow.open(calendar="cn")``)."""
        return self._calendar

    def calendars(self) -> dict[str, Calendar]:
        """Every calendar registered through ``govflow_register_calendars``, by name."""
        return dict(self._calendars)

    # -- commands -------------------------------------------------------------------------

    def assign(
        self,
        title: str,
        *,
        lead: str,
        due: dt.date | str | WorkingDays,
        by: ActorLike,
        cooperating: Iterable[str] | str | None = (),
        description: str = "",
        category: str | None = None,
        responsible: Responsible | Mapping[str, str | None] | None = None,
        lifecycle: str = "issue-list",
        target: str | None = None,
        countersign: str | None = None,
        accept_limit: int | None = None,
    ) -> Issue:
        """Assign (交办) a new issue to its lead unit; it starts in the lifecycle's initial state.

        ``due`` is a date, an ISO date string, or ``govflow.working_days(n)``:
        n working days from today in :attr:`calendar`.

        ``responsible`` names the 第一责任人 (``first``) and 直接责任人 (``direct``). ``countersign``
        (``"all"``, ``"any"``, ``"none"``; "all" when there are cooperating units) and ``accept_limit``
        (working days, else the lifecycle's) apply to lifecycles with those steps (``issue-list`` v2).
        ``target`` links the issue to a plan's target measured by issues (see :meth:`add_target`).
        """
        actor = parse_actor(by)
        chosen = self._lifecycle(lifecycle)
        definition = chosen.definition
        actor_unit = self._find_unit(actor.unit)
        if actor_unit is None or not actor_unit.supervisor:
            raise PermissionDenied(
                "(new)", "assign", actor.unit, describe_roles(("supervisor",), (), None),
                "no such unit is registered" if actor_unit is None else "",
            )
        now = self.now()
        check_text("title", title, kind="free", max_len=1000)
        check_text("lead", lead, kind="id")
        if self._find_unit(lead) is None:
            raise ValidationError("lead", f"no unit {lead!r}", "the id of a registered unit")
        due_date, provisional, basis = resolve_due(self._calendar, parse_due("due", due), now.date())
        if due_date < now.date():
            raise ValidationError(
                "due", f"{due_date.isoformat()} is before the assignment ({now.date().isoformat()})",
                f"a date on or after {now.date().isoformat()}",
            )
        if isinstance(cooperating, str):
            cooperating = (cooperating,)
        elif cooperating is None:
            cooperating = ()
        if not isinstance(cooperating, Iterable) or isinstance(cooperating, Mapping | bytes):
            raise ValidationError("cooperating", f"got {type(cooperating).__name__}", "a unit id or a list of unit ids")
        listed = list(cooperating)
        for unit_id in listed:
            check_text("cooperating", unit_id, kind="id")
        coop = tuple(dict.fromkeys(listed))
        for unit_id in coop:
            if self._find_unit(unit_id) is None:
                raise ValidationError(
                    "cooperating", f"no unit {unit_id!r}", "ids of registered units"
                )
            if unit_id == lead:
                raise ValidationError(
                    "cooperating", f"{unit_id!r} is the lead unit", "units other than the lead"
                )
        check_text("description", description, kind="free", empty=True)
        if category is not None:
            check_text("category", category, kind="name", max_len=200)
        persons = parse_responsible(responsible)
        linked = None if target is None else self._link_data(target, lead)
        extra: dict[str, Any] = {}
        self._field_at_assign(definition, coop, countersign, accept_limit, extra)
        data = assign_data(
            definition, title=title, lead=lead, due=due_date, provisional=provisional, basis=basis,
            cooperating=coop, description=description, category=category, responsible=persons, target=linked,
        )
        data.update(extra)
        self._accept_by_at_assign(definition, data, now.date())
        # The issue is what its ledger entry says: verify_ledger() rebuilds it with the same function.
        issue = assigned_issue("", data, now, definition.initial)
        draft = LedgerDraft(
            issue_id="", issue_seq=1, trigger="assign", from_state=None,
            to_state=definition.initial, actor=actor.unit, person=actor.person, at=now, data=data,
        )
        if self._plugins.has_guards:
            self._plugins.before_transition(ProposedTransition(None, issue, "assign", actor, now, copy.deepcopy(data)))
        scope = f"{self._id_prefix}{now.year}-"
        return self._commit(UnitOfWork(issue, 0, draft, id_scope=scope))

    def fire(
        self, issue_id: str, trigger: str, *, by: ActorLike, expected_version: int | None = None, retries: int = 0,
        **data: Any,
    ) -> Issue:
        """Fire ``trigger`` on an issue as ``by``; return the new snapshot.

        Keyword data (``note``, ``result``, ``evidence``, ``reason``, ``rating``,
        ``due``, ``new_lead``) is validated against what the trigger accepts;
        keywords given as None are left out. ``expected_version`` is the
        version the caller last read (say, when a form was shown): if the issue
        has moved on since, :class:`ConcurrentUpdateError` is raised. On any
        error nothing is written. ``retries`` (without ``expected_version``) runs the
        command again, reading the issue afresh, up to that many times when another
        writer committed between this call's read and its write (see :func:`retry_on_conflict`).
        """
        if type(retries) is not int or retries:  # the default 0 passes with one test
            if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
                raise ValidationError("retries", f"got {retries!r}", "an integer >= 0")
            if retries:
                if expected_version is not None:
                    raise ValidationError("retries", "a retry cannot help when expected_version is given",
                                          "retries=0 with expected_version, or no expected_version")
                return retry_on_conflict(lambda: self.fire(issue_id, trigger, by=by, **data), attempts=retries + 1)
        if not isinstance(trigger, str):
            raise ValidationError("trigger", f"got {type(trigger).__name__}", "the name of a trigger (a string)")
        if expected_version is not None and (
            isinstance(expected_version, bool) or not isinstance(expected_version, int)
        ):
            raise ValidationError("expected_version", f"got {type(expected_version).__name__}", "an integer or None")
        given = data if None not in data.values() else {key: value for key, value in data.items() if value is not None}
        subscribers = self._plugins.subscribers("after_transition")
        notify = tuple(("after_transition", name) for name in subscribers) if subscribers else ()

        # SQLite takes the whole step inside its write transaction (one lock); not when plugins vet steps.
        guarded = self._plugins.has_guards
        in_store = getattr(self._store, "commit_step", None)
        try:
            if in_store is not None and not guarded and isinstance(issue_id, str):
                step = functools.partial(self._step, trigger, by, given, expected_version, notify, guarded)
                stored: Issue = in_store(issue_id, step)[0]
            else:
                work = self._step(trigger, by, given, expected_version, notify, guarded, self.get(issue_id))
                stored = self._store.commit(work)[0]
        except WithPartners as found:  # nothing was written: both issues now, in one transaction
            return self._commit_with_partners(found.work, found.partners, found.actor, found.now)
        if subscribers:
            self._start_delivery()
        return stored

    def _step(self, trigger: str, by: ActorLike, given: Mapping[str, Any], expected_version: int | None,
              notify: tuple[tuple[str, str], ...], guarded: bool, issue: Issue) -> UnitOfWork:
        """The unit of work of ``fire`` on ``issue`` as read (a method, not a closure: no cells per step)."""
        actor = parse_actor(by)
        if expected_version is not None and expected_version != issue.version:
            raise ConcurrentUpdateError(issue.id, expected_version, issue.version)
        # The compiled lifecycles are kept by (name, version): only a miss needs the checked lookup.
        lifecycle = self._lifecycles.get((issue.lifecycle, issue.lifecycle_version)) \
            or self._lifecycle(issue.lifecycle, issue.lifecycle_version)
        now = self.now()
        new, ledger_data = lifecycle.fire(
            issue, trigger, actor, given, now, self._find_unit, self._calendar, self._max_extensions,
            escalate_to=self._escalate_to,
        )
        draft = new_draft(issue.id, new.version, trigger, issue.state, new.state, actor.unit, actor.person, now,
                          ledger_data)
        if guarded:
            proposed = ProposedTransition(issue, new, trigger, actor, now, copy.deepcopy(ledger_data))
            self._plugins.before_transition(proposed)
        units_changed = new.lead != issue.lead or new.cooperating != issue.cooperating
        work = new_work(new, issue.version, draft, None, units_changed, notify)
        partners = lifecycle.partners(issue.state, trigger)
        if partners:  # another issue takes its step with this one (并案): several issues, written below
            raise WithPartners(work, partners, actor, now)
        return work

    def _commit(self, work: UnitOfWork, hook: str = "after_transition") -> Issue:
        subscribers = self._plugins.subscribers(hook)
        if subscribers:
            work = attrs.evolve(work, notify=tuple((hook, name) for name in subscribers))
        stored, _ = self._store.commit(work)
        if subscribers:
            self._start_delivery()
        return stored

    # -- reading --------------------------------------------------------------------------

    def allowed_triggers(self, issue_id: str, by: ActorLike) -> list[str]:
        """The triggers ``by`` may fire on the issue now."""
        issue = self.get(issue_id)
        actor = parse_actor(by)
        lifecycle = self._lifecycle(issue.lifecycle, issue.lifecycle_version)
        return lifecycle.allowed(issue, actor.unit, self._find_unit(actor.unit))

    def roles(self, issue_id: str, by: ActorLike) -> frozenset[str]:
        """The roles (``supervisor``, ``lead``, ``cooperating``) ``by`` holds on the issue."""
        actor = parse_actor(by)
        return roles_of(self._find_unit(actor.unit), actor.unit, self.get(issue_id))


#: Labels of the steps govflow takes itself: name -> (Chinese, English).
_SYSTEM_LABELS: Final = {
    "deadline": ("时限提醒督办", "deadline step"),
    "recount_due": ("重新计算时限", "due date counted again"),
    "add_unit": ("登记单位", "unit registered"),  # the unit registry's entries (unit:<id>)
    "registered": ("已登记", "registered"),
}

