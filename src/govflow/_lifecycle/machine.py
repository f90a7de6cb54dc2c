"""The compiled lifecycle: one shared ``transitions.Machine`` per (name, version).

One ``Machine(model=None, auto_transitions=False, send_event=True)`` serves
every issue of a (name, version): a transition is
``machine.events[trigger].trigger(work)`` on a throw-away working record, so
nothing is ever added to or removed from the machine per issue. Permissions,
effect guards and data checks are the transition's condition; the effects run
as its ``before`` callback.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

import attrs
from transitions import EventData, Machine

from .._core.errors import InvalidTransition, PermissionDenied, ValidationError
from .._core.model import Actor, Issue, Unit, replace_issue
from .._core.workdays import Calendar, Weekdays
from .definition import ROLES, LifecycleDefinition, TransitionSpec, load_definition
from .effects import EFFECTS, EscalateTo, Partner, Refused, Work
from .field_effects import field_of
from .fields import FIELD_HELP, field_parser, is_missing, json_value

# The definition's names are re-exported: this module is where a reader looks for "lifecycle".
__all__ = [
    "ROLES",
    "Lifecycle",
    "LifecycleDefinition",
    "TransitionSpec",
    "describe_roles",
    "load_definition",
    "roles_of",
]


_ROLE_SETS: Final = {
    (supervisor, lead, cooperating): frozenset(
        role for role, held in (("supervisor", supervisor), ("lead", lead), ("cooperating", cooperating)) if held
    )
    for supervisor in (False, True)
    for lead in (False, True)
    for cooperating in (False, True)
}


def roles_of(unit: Unit | None, actor_unit: str, issue: Issue) -> frozenset[str]:
    """The roles ``actor_unit`` holds on ``issue``."""
    # Eight possible answers, built once: this runs on every transition.
    return _ROLE_SETS[
        unit is not None and unit.supervisor, actor_unit == issue.lead, actor_unit in issue.cooperating
    ]


def describe_roles(roles: Iterable[str], exclude: Iterable[str], issue: Issue | None) -> str:
    """Who may, in words: 'supervisor units (督办单位)', 'the lead unit C1', ..."""
    parts = []
    for role in roles:
        if role == "supervisor":
            parts.append("supervisor units (督办单位)")
        elif role == "lead":
            parts.append(f"the lead unit {issue.lead}" if issue else "the lead unit (牵头单位)")
        elif role == "cooperating":
            coop = ", ".join(issue.cooperating) if issue and issue.cooperating else "none"
            parts.append(f"cooperating units ({coop})")
    text = " or ".join(parts)
    excluded = list(exclude)
    if excluded:
        text += ", but never " + " or ".join(
            f"the {r} unit" if r == "lead" else f"{r} units" for r in excluded
        )
    return text


_NONE: Final[Mapping[str, TransitionSpec]] = {}


@attrs.define(eq=False)
class Lifecycle:
    """A compiled lifecycle: the definition and its one shared Machine."""

    definition: LifecycleDefinition
    machine: Machine = attrs.field(init=False)
    _by_state: dict[str, dict[str, TransitionSpec]] = attrs.field(init=False)
    #: ``_by_state`` without the partner steps: what a caller may fire by name.
    _direct: dict[str, dict[str, TransitionSpec]] = attrs.field(init=False)
    #: Each partner step's trigger -> the triggers whose step it is taken with (``take_merged`` -> ``merge``).
    _partner_steps: dict[str, tuple[str, ...]] = attrs.field(init=False)
    _final: frozenset[str] = attrs.field(init=False)
    _partners: dict[tuple[str, str], tuple[Partner, ...]] = attrs.field(init=False)
    #: States in which the lead unit has something to do (it may fire a transition from them): the
    #: deadline clock runs there. In the default lifecycle ``assigned`` and ``implemented``.
    lead_states: frozenset[str] = attrs.field(init=False)
    #: States that are not final.
    open_states: frozenset[str] = attrs.field(init=False)
    #: States in which the issue is closed in substance: the final ones and those a verification
    #: (a transition with the effect ``record_verification``) leads to, though a call-back or a reopening
    #: may still send it back (``issue-list`` v2's ``verified``). Its due date no longer matters there.
    closed_states: frozenset[str] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        d = self.definition
        self._final = frozenset(d.final)
        self.lead_states = frozenset(source for spec in d.transitions if "lead" in spec.roles for source in spec.source)
        self.open_states = frozenset(d.states) - self._final
        self.closed_states = self._final | {
            spec.dest for spec in d.transitions if spec.dest is not None and "record_verification" in spec.effects
        }
        self._by_state = {state: {} for state in d.states}
        self._partners = {}
        self._partner_steps = d.partner_steps
        config = []
        for spec in d.transitions:
            partners = tuple(p for p in (EFFECTS[name].partner for name in spec.effects) if p is not None)
            for source in spec.source:
                self._by_state[source][spec.trigger] = spec
                if partners:  # looked up on every step: only the few that have partners are kept
                    self._partners[source, spec.trigger] = partners
            config.append(
                {
                    "trigger": spec.trigger,
                    "source": list(spec.source),
                    "dest": spec.dest,
                    "conditions": [self._condition(spec)],
                    "before": [self._apply_effects(spec)] if spec.effects else [],
                }
            )
        self._direct = {
            state: {trigger: spec for trigger, spec in specs.items() if trigger not in self._partner_steps}
            for state, specs in self._by_state.items()
        }
        self.machine = Machine(
            model=None,
            states=list(d.states),
            initial=d.initial,
            transitions=config,
            auto_transitions=False,
            send_event=True,
            name=d.key,
        )

    @property
    def name(self) -> str:
        """The lifecycle's name."""
        return self.definition.name

    @property
    def version(self) -> int:
        """The lifecycle's version."""
        return self.definition.version

    def triggers_from(self, state: str) -> Mapping[str, TransitionSpec]:
        """The transitions that leave ``state``, by trigger (partner steps such as ``take_merged`` included)."""
        return self._by_state.get(state, {})

    def partners(self, state: str, trigger: str) -> tuple[Partner, ...]:
        """The steps other issues take with ``trigger`` from ``state`` (by its effects' ``partner``)."""
        return self._partners.get((state, trigger), ())

    def partner_trigger(self, state: str, effect: str) -> str | None:
        """The trigger leaving ``state`` that has ``effect`` (how an issue takes a partner's step), or None."""
        return next((t for t, spec in self.triggers_from(state).items() if effect in spec.effects), None)

    def states_with(self, effect: str) -> list[str]:
        """The states a transition with ``effect`` leaves, in definition order."""
        found = [s for spec in self.definition.transitions if effect in spec.effects for s in spec.source]
        return list(dict.fromkeys(found))

    def allowed(self, issue: Issue, actor_unit: str, unit: Unit | None) -> list[str]:
        """The triggers ``actor_unit`` may fire on ``issue`` now, in definition order."""
        roles = roles_of(unit, actor_unit, issue)
        allowed = []
        for trigger, spec in self._direct.get(issue.state, _NONE).items():
            if roles.isdisjoint(spec.roles) or not roles.isdisjoint(spec.exclude):
                continue
            if any(EFFECTS[name].guard(issue) for name in spec.effects):
                continue
            allowed.append(trigger)
        return allowed

    def fire(
        self,
        issue: Issue,
        trigger: str,
        actor: Actor,
        data: Mapping[str, object],
        now: dt.datetime,
        units: Callable[[str], Unit | None],
        calendar: Calendar | None = None,
        max_extensions: int = 2,
        recorded: Mapping[str, Any] | None = None,
        *,
        system: bool = False,
        escalate_to: EscalateTo = None,
        partner: bool = False,
    ) -> tuple[Issue, dict[str, Any]]:
        """Run ``trigger`` on a copy of ``issue``; return the new snapshot and ledger data.

        ``recorded`` is for replaying the ledger: the entry's data, whose due date is taken as
        written rather than counted again (see :mod:`govflow._lifecycle.replay`).
        Raises :class:`InvalidTransition`, :class:`PermissionDenied` or
        :class:`ValidationError`; the stored issue is never touched. ``system`` is a step govflow
        takes itself (no role is checked). ``escalate_to`` is where 提级督办 takes an issue (see
        :data:`~govflow._lifecycle.effects.EscalateTo`; the parent of the supervising office by default).
        ``partner``: the step is a partner step, taken with its step on another issue (see
        :attr:`LifecycleDefinition.partner_steps`); a partner step fired otherwise is an
        :class:`InvalidTransition`, except in a replay.
        """
        spec = self._direct.get(issue.state, _NONE).get(trigger)
        if spec is None:
            spec = self._by_state.get(issue.state, _NONE).get(trigger)
            if spec is None or not (partner or recorded is not None):
                raise InvalidTransition(
                    issue.id, issue.state, trigger, self.allowed(issue, actor.unit, units(actor.unit)),
                    self._unknown(trigger),
                )
        d = self.definition
        # By position (every step makes one): state, issue, actor, now, units, values, changes, calendar,
        # max_extensions, recorded, settings, initial, system, escalate_to.
        work = Work(issue.state, issue, actor, now, units, dict(data), {}, calendar or Weekdays(), max_extensions,
                    recorded, d.settings, d.initial, system, escalate_to)
        # The condition raises rather than returns False, so a refused transition
        # always says why; the working copy is simply dropped.
        try:
            self.machine.events[trigger].trigger(work)
        except Refused as refused:
            raise InvalidTransition(
                issue.id, issue.state, trigger, self.allowed(issue, actor.unit, units(actor.unit)), str(refused)
            ) from None
        # An effect may choose the state itself (resume returns to the state suspended in).
        work.state = work.changes.pop("state", work.state)
        if work.state != issue.state:
            state = work.changes.get("field", issue.field)
            if state is not None and state.evidence_here:
                work.changes["field"] = attrs.evolve(state, evidence_here=0)  # evidence counts per state
        # The working record's own copy of the data becomes the entry's: its values made JSON in place.
        ledger_data = work.values
        for key, value in ledger_data.items():
            if type(value) is not str:
                ledger_data[key] = json_value(key, value, issue.id)
        if work.state in self._final and (issue.extension is not None or "extension" in work.changes):
            work.changes["extension"] = None  # a closed issue has nothing left to extend
        if "due" in work.changes and work.changes["due"] != issue.due:
            # A new due date starts the escalation ladder afresh.
            work.changes["escalation_steps"] = 0
            work.changes["escalation_level"] = 0
        changes = work.changes
        changes["state"] = work.state
        changes["version"] = issue.version + 1
        changes["updated_at"] = now
        return replace_issue(issue, changes), ledger_data

    def _unknown(self, trigger: object) -> str:
        """Why a trigger is not fired here when it is no trigger of this lifecycle at all or a partner step
        ('' when it is a trigger that may be fired, from other states)."""
        if isinstance(trigger, str) and trigger in self._partner_steps:
            with_ = " or ".join(repr(t) for t in self._partner_steps[trigger]) or "its partner step"
            return (f"{trigger!r} is taken only together with {with_} on the other issue, in one transaction "
                    f"(fire {with_} there); fired alone it would record a step that never happened")
        if isinstance(trigger, str) and trigger in self.machine.events:
            return ""
        triggers = list(self.machine.events)
        close = difflib.get_close_matches(str(trigger), triggers, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return (f"{trigger!r} is not a trigger of lifecycle {self.definition.key}{hint} "
                f"(its triggers: {', '.join(triggers)})")

    def _condition(self, spec: TransitionSpec) -> Callable[[EventData], bool]:
        accepts = frozenset(spec.accepts)
        effects = [EFFECTS[name] for name in spec.effects]
        allowed_roles = frozenset(spec.roles)
        excluded = frozenset(spec.exclude)

        requires = spec.requires
        parsers = {name: field_parser(name) for name in accepts}

        def check(event: EventData) -> bool:
            work = cast(Work, event.model)
            issue, actor_unit = work.issue, work.actor.unit
            unit = work.units(actor_unit)
            roles = roles_of(unit, actor_unit, issue)
            if work.system:
                pass
            elif roles.isdisjoint(allowed_roles) or not roles.isdisjoint(excluded):
                if unit is None:
                    reason = "no such unit is registered"
                elif not roles.isdisjoint(allowed_roles):
                    reason = f"the {'/'.join(sorted(roles & excluded))} unit may not {spec.trigger} its own issue"
                elif roles:
                    reason = f"its role here: {', '.join(sorted(roles))}"
                else:
                    reason = "it has no role on this issue"
                raise PermissionDenied(
                    issue.id, spec.trigger, actor_unit,
                    describe_roles(spec.roles, spec.exclude, issue), reason,
                )
            for effect in effects:
                why = effect.guard(issue)
                if why:
                    raise InvalidTransition(
                        issue.id, issue.state, spec.trigger,
                        self.allowed(issue, actor_unit, unit), why,
                    )
            values = work.values
            for name in values:
                if name not in accepts:
                    raise ValidationError(
                        name, f"{spec.trigger!r} takes no such keyword",
                        ", ".join(spec.accepts) or "no data keywords", issue.id,
                    )
            for name in requires:
                if is_missing(values.get(name)):
                    raise ValidationError(
                        name, f"{spec.trigger!r} requires it",
                        FIELD_HELP.get(name, "a non-empty value"), issue.id,
                    )
            for name, value in values.items():
                values[name] = parsers[name](name, value, issue.id)
            if spec.requires_evidence and not field_of(issue).evidence_here:
                raise InvalidTransition(
                    issue.id, issue.state, spec.trigger, self.allowed(issue, actor_unit, unit),
                    "it requires evidence (佐证材料): attach a file with flow.attach first",
                )
            return True

        return check

    def _apply_effects(self, spec: TransitionSpec) -> Callable[[EventData], None]:
        effects = [EFFECTS[name].apply for name in spec.effects]

        def apply(event: EventData) -> None:
            for effect in effects:
                effect(cast(Work, event.model))

        return apply
