"""Lifecycles as data, compiled once into one shared ``transitions.Machine``.

A definition extends transitions' own dict configuration (``initial``,
``states``, ``transitions`` with ``trigger``/``source``/``dest``) with
``name``, ``version``, ``final``, ``roles``, ``labels`` and, per
transition, the ``roles`` allowed (and ``exclude``d), the data it ``requires``
and accepts (``optional``) and the named ``effects`` it has on the issue.

One ``Machine(model=None, auto_transitions=False, send_event=True)`` serves
every issue of a (name, version): a transition is
``machine.events[trigger].trigger(work)`` on a throw-away working record, so
nothing is ever added to or removed from the machine per issue.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import attrs
from transitions import EventData, Machine

from ._calendar import Weekdays, resolve_due
from ._exceptions import InvalidTransition, LifecycleError, PermissionDenied, ValidationError
from ._fields import FIELD_HELP, is_missing, json_value, parse_field
from ._model import Actor, ExtensionRequest, Issue, Unit
from ._registries import Calendar

__all__ = ["ROLES", "Lifecycle", "LifecycleDefinition", "TransitionSpec", "load_definition"]

#: The roles a transition may name: any supervisor unit, the issue's lead
#: unit, and its cooperating units.
ROLES: Final = ("supervisor", "lead", "cooperating")

_RESERVED_TRIGGERS: Final = frozenset({"assign"})


@attrs.frozen
class TransitionSpec:
    """One transition of a lifecycle definition.

    ``dest`` None means the state does not change (an internal transition).
    """

    trigger: str
    source: tuple[str, ...]
    dest: str | None
    roles: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    @property
    def accepts(self) -> tuple[str, ...]:
        """Every data keyword this transition accepts."""
        return self.requires + self.optional


def _strings(lifecycle: str, where: str, value: object, *, allow_empty: bool = True) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        if not value and not allow_empty:
            raise LifecycleError(lifecycle, f"{where} must not be empty")
        return tuple(value)
    raise LifecycleError(lifecycle, f"{where} must be a string or a list of strings, not {value!r}")


@attrs.frozen
class LifecycleDefinition:
    """A validated lifecycle definition; build it with :meth:`from_dict` or :meth:`load`."""

    name: str
    version: int
    initial: str
    states: tuple[str, ...]
    final: tuple[str, ...]
    roles: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    labels: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        """``name@version``, as used in messages."""
        return f"{self.name}@{self.version}"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LifecycleDefinition:
        """Validate a definition mapping; raise :class:`LifecycleError` naming the problem."""
        if not isinstance(raw, Mapping):
            raise LifecycleError("?", f"a definition is a mapping, not {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise LifecycleError("?", "'name' must be a non-empty string")
        version = raw.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise LifecycleError(name, f"'version' must be an integer >= 1, not {version!r}")
        key = f"{name}@{version}"
        known = {"name", "version", "initial", "states", "final", "roles", "transitions", "labels"}
        extra = sorted(set(raw) - known)
        if extra:
            raise LifecycleError(key, f"unknown keys {extra}; accepted: {sorted(known)}")
        states = _states(key, raw.get("states"))
        initial = raw.get("initial")
        if initial not in states:
            raise LifecycleError(key, f"initial state {initial!r} is not one of the states {list(states)}")
        assert isinstance(initial, str)
        final = _strings(key, "'final'", raw.get("final", ()), allow_empty=False)
        for state in final:
            if state not in states:
                raise LifecycleError(key, f"final state {state!r} is not one of the states {list(states)}")
        roles = _strings(key, "'roles'", raw.get("roles", ROLES))
        for role in roles:
            if role not in ROLES:
                raise LifecycleError(key, f"unknown role {role!r}; known roles: {list(ROLES)}")
        specs = tuple(
            _transition(key, i, t, states, final, roles) for i, t in enumerate(_list(key, raw.get("transitions")))
        )
        seen: dict[tuple[str, str], int] = {}
        for i, spec in enumerate(specs):
            for source in spec.source:
                if source in final:
                    raise LifecycleError(
                        key, f"transition {i} ({spec.trigger!r}) leaves the final state {source!r}"
                    )
                if (spec.trigger, source) in seen:
                    raise LifecycleError(
                        key,
                        f"trigger {spec.trigger!r} is defined twice from state {source!r} "
                        f"(transitions {seen[spec.trigger, source]} and {i})",
                    )
                seen[spec.trigger, source] = i
        _check_reaches_final(key, initial, final, specs)
        labels = raw.get("labels", {})
        if not isinstance(labels, Mapping) or not all(
            isinstance(v, Mapping) for v in labels.values()
        ):
            raise LifecycleError(key, "'labels' maps a language to {state or trigger: label}")
        return cls(
            name=name,
            version=version,
            initial=initial,
            states=states,
            final=final,
            roles=roles,
            transitions=specs,
            labels={lang: dict(v) for lang, v in labels.items()},
        )

    @classmethod
    def load(cls, path: str | Path) -> LifecycleDefinition:
        """Read a definition from a ``.json``, ``.toml`` or ``.yaml``/``.yml`` file."""
        return cls.from_dict(load_definition(path))

    def to_dict(self) -> dict[str, Any]:
        """The definition as a JSON-ready mapping that :meth:`from_dict` reads back."""
        return {
            "name": self.name,
            "version": self.version,
            "initial": self.initial,
            "states": list(self.states),
            "final": list(self.final),
            "roles": list(self.roles),
            "transitions": [
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "roles": list(t.roles),
                    "exclude": list(t.exclude),
                    "requires": list(t.requires),
                    "optional": list(t.optional),
                    "effects": list(t.effects),
                }
                for t in self.transitions
            ],
            "labels": {lang: dict(v) for lang, v in self.labels.items()},
        }

    def canonical_json(self) -> str:
        """A stable JSON text of the definition (stored with the issues that use it)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def load_definition(path: str | Path) -> dict[str, Any]:
    """Read a raw definition mapping from a JSON, TOML or YAML file."""
    path = Path(path)
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    raw: object
    if suffix == ".json":
        raw = json.loads(text)
    elif suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        raw = tomllib.loads(text)
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise LifecycleError(
                path.name, "reading YAML needs PyYAML: pip install 'govflow[yaml]'"
            ) from exc
        raw = yaml.safe_load(text)
    else:
        raise LifecycleError(path.name, f"unknown file type {suffix!r}; accepted: .json, .toml, .yaml, .yml")
    if not isinstance(raw, dict):
        raise LifecycleError(path.name, "the file must hold one mapping")
    return raw


def _list(key: str, value: object) -> list[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise LifecycleError(key, "'transitions' must be a non-empty list")
    return list(value)


def _states(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise LifecycleError(key, "'states' must be a non-empty list of state names")
    names: list[str] = []
    for item in value:
        # transitions accepts {"name": ...} mappings too; only the name matters here.
        name = item.get("name") if isinstance(item, Mapping) else item
        if not isinstance(name, str) or not name:
            raise LifecycleError(key, f"a state name must be a non-empty string, not {item!r}")
        if name in names:
            raise LifecycleError(key, f"state {name!r} is listed twice")
        names.append(name)
    return tuple(names)


def _check_roles(key: str, where: str, roles: Sequence[str], declared: Sequence[str]) -> None:
    for role in roles:
        if role not in declared:
            raise LifecycleError(
                key, f"{where} names the unknown role {role!r}; declared roles: {list(declared)}"
            )


def _transition(
    key: str,
    index: int,
    raw: object,
    states: tuple[str, ...],
    final: tuple[str, ...],
    roles: tuple[str, ...],
) -> TransitionSpec:
    if not isinstance(raw, Mapping):
        raise LifecycleError(key, f"transition {index} must be a mapping, not {raw!r}")
    known = {"trigger", "source", "dest", "roles", "exclude", "requires", "optional", "effects"}
    extra = sorted(set(raw) - known)
    if extra:
        raise LifecycleError(key, f"transition {index}: unknown keys {extra}; accepted: {sorted(known)}")
    trigger = raw.get("trigger")
    if not isinstance(trigger, str) or not trigger.isidentifier():
        raise LifecycleError(key, f"transition {index}: 'trigger' must be an identifier, not {trigger!r}")
    if trigger in _RESERVED_TRIGGERS:
        raise LifecycleError(key, f"transition {index}: {trigger!r} is reserved for creating issues")
    where = f"transition {index} ({trigger!r})"
    source_raw = raw.get("source")
    # "*" means every state a transition may leave: all but the final ones.
    open_states = tuple(s for s in states if s not in final)
    source = open_states if source_raw == "*" else _strings(key, f"{where} 'source'", source_raw)
    for state in source:
        if state not in states:
            raise LifecycleError(key, f"{where}: unknown source state {state!r}; states: {list(states)}")
    dest = raw.get("dest")
    if dest == "=":
        if len(source) != 1:
            raise LifecycleError(key, f"{where}: dest '=' needs exactly one source; use null to stay")
        dest = source[0]
    if dest is not None and dest not in states:
        raise LifecycleError(key, f"{where}: unknown dest state {dest!r}; states: {list(states)}")
    t_roles = _strings(key, f"{where} 'roles'", raw.get("roles", ()), allow_empty=False)
    _check_roles(key, f"{where} 'roles'", t_roles, roles)
    exclude = _strings(key, f"{where} 'exclude'", raw.get("exclude", ()))
    _check_roles(key, f"{where} 'exclude'", exclude, roles)
    requires = _strings(key, f"{where} 'requires'", raw.get("requires", ()))
    optional = _strings(key, f"{where} 'optional'", raw.get("optional", ()))
    for name in (*requires, *optional):
        if not name.isidentifier() or name in ("by", "trigger", "issue_id"):
            raise LifecycleError(key, f"{where}: {name!r} cannot be a data keyword")
    effects = _strings(key, f"{where} 'effects'", raw.get("effects", ()))
    for effect in effects:
        if effect not in EFFECTS:
            raise LifecycleError(key, f"{where}: unknown effect {effect!r}; known: {sorted(EFFECTS)}")
        for needed in EFFECTS[effect].needs:
            if needed not in requires:
                raise LifecycleError(key, f"{where}: effect {effect!r} needs {needed!r} in 'requires'")
        used = EFFECTS[effect].uses
        if used and used not in requires + optional:
            raise LifecycleError(key, f"{where}: effect {effect!r} reads {used!r}: list it in 'requires' or 'optional'")
    return TransitionSpec(
        trigger=trigger,
        source=source,
        dest=dest,
        roles=t_roles,
        exclude=exclude,
        requires=requires,
        optional=optional,
        effects=effects,
    )


def _check_reaches_final(
    key: str, initial: str, final: tuple[str, ...], specs: tuple[TransitionSpec, ...]
) -> None:
    edges: dict[str, set[str]] = {}
    for spec in specs:
        for source in spec.source:
            edges.setdefault(source, set()).add(spec.dest or source)
    reachable = {initial}
    frontier = [initial]
    while frontier:
        for nxt in edges.get(frontier.pop(), ()):
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    reaches_final = set(final)
    changed = True
    while changed:
        changed = False
        for state, targets in edges.items():
            if state not in reaches_final and targets & reaches_final:
                reaches_final.add(state)
                changed = True
    stuck = sorted(reachable - reaches_final)
    if stuck:
        raise LifecycleError(key, f"no path to a final state from {stuck}")


# -- the working record and effects -----------------------------------------------------


@attrs.define
class Work:
    """The throw-away record a transition runs on; the stored snapshot is untouched."""

    state: str
    issue: Issue
    actor: Actor
    now: dt.datetime
    units: Callable[[str], Unit | None]
    values: dict[str, Any]
    changes: dict[str, Any] = attrs.field(factory=dict)
    calendar: Calendar = attrs.field(factory=Weekdays)
    max_extensions: int = 2

    def resolve_due(self, base: dt.date) -> dt.date:
        """The ``due`` keyword as a date (a working-day count is counted from ``base``).

        Records the provisional flag and basis in the changes and the date in the ledger data.
        """
        due, provisional, basis = resolve_due(self.calendar, self.values["due"], base)
        if basis is not None:
            self.values["working_days"] = basis[1]
        self.values["due"] = due
        self.changes["due_provisional"] = provisional
        self.changes["due_basis"] = basis
        return due


@attrs.frozen
class Effect:
    """A named change a transition makes to the issue beyond its state."""

    apply: Callable[[Work], None]
    guard: Callable[[Issue], str | None] = lambda issue: None
    needs: tuple[str, ...] = ()
    uses: str | None = None


def _record_acceptance(work: Work) -> None:
    work.changes["accepted_at"] = work.now


def _not_accepted(issue: Issue) -> str | None:
    if issue.accepted_at is None:
        return None
    return f"already accepted (签收) at {issue.accepted_at.isoformat()}"


def _change_lead(work: Work) -> None:
    new_lead = work.values["new_lead"]
    issue = work.issue
    if new_lead == issue.lead:
        raise ValidationError("new_lead", f"{new_lead!r} already leads this issue",
                              FIELD_HELP["new_lead"], issue.id)
    unit = work.units(new_lead)
    if unit is None:
        raise ValidationError("new_lead", f"no unit {new_lead!r}", FIELD_HELP["new_lead"], issue.id)
    work.changes["lead"] = new_lead
    work.changes["cooperating"] = tuple(u for u in issue.cooperating if u != new_lead)
    work.changes["accepted_at"] = None
    work.changes["extension"] = None  # the old lead's request does not pass to the new one


def _set_due(work: Work) -> None:
    if work.values.get("due") is None:
        return
    due = work.resolve_due(work.now.date())
    if due < work.now.date():
        raise ValidationError(
            "due", f"{due.isoformat()} is in the past",
            f"a date on or after {work.now.date().isoformat()}", work.issue.id,
        )
    work.changes["due"] = due


def _count_rework(work: Work) -> None:
    work.changes["rework_count"] = work.issue.rework_count + 1
    _set_due(work)


def _no_extension_pending(issue: Issue) -> str | None:
    if issue.extension is None:
        return None
    return f"an extension to {issue.extension.due.isoformat()} is already pending"


def _extension_pending(issue: Issue) -> str | None:
    return None if issue.extension is not None else "no extension request is pending"


def _request_extension(work: Work) -> None:
    issue = work.issue
    if issue.extension_count >= work.max_extensions:
        raise ValidationError(
            "due", f"the issue has had {issue.extension_count} extensions already",
            f"at most {work.max_extensions} extensions per issue", issue.id,
        )
    # A working-day count is counted from the current due date.
    due = work.resolve_due(issue.due)
    work.changes.pop("due_provisional", None)
    work.changes.pop("due_basis", None)
    if work.now.date() > issue.due:
        raise ValidationError(
            "due", f"the request comes after the due date {issue.due.isoformat()}",
            "a request made on or before the current due date", issue.id,
        )
    if due <= issue.due:
        raise ValidationError(
            "due", f"{due.isoformat()} is not later than the current due date {issue.due.isoformat()}",
            f"a date after {issue.due.isoformat()}", issue.id,
        )
    work.changes["extension"] = ExtensionRequest(
        due=due, reason=work.values["reason"], requested_by=work.actor.unit, requested_at=work.now
    )


def _approve_extension(work: Work) -> None:
    request = work.issue.extension
    assert request is not None  # guarded
    work.changes["due"] = request.due
    work.changes["due_provisional"] = False  # an approved request names a date
    work.changes["due_basis"] = None
    work.changes["extension"] = None
    work.changes["extension_count"] = work.issue.extension_count + 1


def _deny_extension(work: Work) -> None:
    work.changes["extension"] = None


#: The effects a transition may name, by name.
EFFECTS: Final[Mapping[str, Effect]] = {
    "record_acceptance": Effect(_record_acceptance, _not_accepted),
    "change_lead": Effect(_change_lead, needs=("new_lead",)),
    "count_rework": Effect(_count_rework),
    "set_due": Effect(_set_due, uses="due"),
    "request_extension": Effect(_request_extension, _no_extension_pending, needs=("due", "reason")),
    "approve_extension": Effect(_approve_extension, _extension_pending),
    "deny_extension": Effect(_deny_extension, _extension_pending),
}


# -- the compiled lifecycle ---------------------------------------------------------------


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


@attrs.define(eq=False)
class Lifecycle:
    """A compiled lifecycle: the definition and its one shared Machine."""

    definition: LifecycleDefinition
    machine: Machine = attrs.field(init=False)
    _by_state: dict[str, dict[str, TransitionSpec]] = attrs.field(init=False)
    _final: frozenset[str] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        d = self.definition
        self._final = frozenset(d.final)
        self._by_state = {state: {} for state in d.states}
        config = []
        for spec in d.transitions:
            for source in spec.source:
                self._by_state[source][spec.trigger] = spec
            config.append(
                {
                    "trigger": spec.trigger,
                    "source": list(spec.source),
                    "dest": spec.dest,
                    "conditions": [self._condition(spec)],
                    "before": [self._apply_effects(spec)] if spec.effects else [],
                }
            )
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
        """The transitions that leave ``state``, by trigger."""
        return self._by_state.get(state, {})

    def allowed(self, issue: Issue, actor_unit: str, unit: Unit | None) -> list[str]:
        """The triggers ``actor_unit`` may fire on ``issue`` now, in definition order."""
        roles = roles_of(unit, actor_unit, issue)
        allowed = []
        for trigger, spec in self.triggers_from(issue.state).items():
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
    ) -> tuple[Issue, dict[str, Any]]:
        """Run ``trigger`` on a copy of ``issue``; return the new snapshot and ledger data.

        Raises :class:`InvalidTransition`, :class:`PermissionDenied` or
        :class:`ValidationError`; the stored issue is never touched.
        """
        spec = self._by_state.get(issue.state, {}).get(trigger)
        if spec is None:
            raise InvalidTransition(
                issue.id, issue.state, trigger, self.allowed(issue, actor.unit, units(actor.unit))
            )
        work = Work(state=issue.state, issue=issue, actor=actor, now=now, units=units,
                    values=dict(data), calendar=calendar or Weekdays(), max_extensions=max_extensions)
        # The condition raises rather than returns False, so a refused transition
        # always says why; the working copy is simply dropped.
        self.machine.events[trigger].trigger(work)
        ledger_data = {k: v if type(v) is str else json_value(k, v, issue.id) for k, v in work.values.items()}
        if work.state in self._final and (issue.extension is not None or "extension" in work.changes):
            work.changes["extension"] = None  # a closed issue has nothing left to extend
        if "due" in work.changes and work.changes["due"] != issue.due:
            # A new due date starts the escalation ladder afresh.
            work.changes["escalation_steps"] = 0
            work.changes["escalation_level"] = 0
        new = attrs.evolve(
            issue,
            state=work.state,
            version=issue.version + 1,
            updated_at=now,
            **work.changes,
        )
        return new, ledger_data

    def _condition(self, spec: TransitionSpec) -> Callable[[EventData], bool]:
        accepts = frozenset(spec.accepts)
        effects = [EFFECTS[name] for name in spec.effects]
        allowed_roles = frozenset(spec.roles)
        excluded = frozenset(spec.exclude)

        def check(event: EventData) -> bool:
            work = cast(Work, event.model)
            issue, actor_unit = work.issue, work.actor.unit
            unit = work.units(actor_unit)
            roles = roles_of(unit, actor_unit, issue)
            if not roles & allowed_roles or roles & excluded:
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
            for name in spec.requires:
                if is_missing(values.get(name)):
                    raise ValidationError(
                        name, f"{spec.trigger!r} requires it",
                        FIELD_HELP.get(name, "a non-empty value"), issue.id,
                    )
            for name, value in values.items():
                values[name] = parse_field(name, value, issue.id)
            return True

        return check

    def _apply_effects(self, spec: TransitionSpec) -> Callable[[EventData], None]:
        effects = [EFFECTS[name].apply for name in spec.effects]

        def apply(event: EventData) -> None:
            for effect in effects:
                effect(cast(Work, event.model))

        return apply
