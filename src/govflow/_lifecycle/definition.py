"""Lifecycle definitions as data: the format, its validation and loading from files.

A definition extends transitions' own dict configuration (``initial``,
``states``, ``transitions`` with ``trigger``/``source``/``dest``) with
``name``, ``version``, ``final``, ``roles``, ``labels`` and, per transition,
the ``roles`` allowed (and ``exclude``d), the data it ``requires`` and accepts
(``optional``) and the named ``effects`` it has on the issue.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from .._core.errors import LifecycleError, ValidationError
from .._core.files import load_yaml, read_small_text
from .._core.text import check_text
from .effects import EFFECTS
from .field_effects import DEFAULT_SETTINGS

__all__ = ["ROLES", "LifecycleDefinition", "TransitionSpec", "load_definition"]

#: The roles a transition may name: any supervisor unit, the issue's lead
#: unit, and its cooperating units.
ROLES: Final = ("supervisor", "lead", "cooperating")

# Triggers govflow writes itself: ``assign`` creates issues; ``deadline`` (the escalation ladder) and
# ``recount_due`` (a provisional due date counted again) are system steps the period facts read.
_RESERVED_TRIGGERS: Final = {
    "assign": "creating issues", "deadline": "govflow's deadline steps", "recount_due": "govflow's due-date recounts",
}
# ``flow.fire``'s own parameters cannot also be data keywords.
_RESERVED_KEYWORDS: Final = ("by", "trigger", "issue_id", "expected_version", "retries")


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
    #: The step needs a file attached (``flow.attach``) in the issue's current state (佐证材料).
    requires_evidence: bool = False

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
    #: The field loop's limits (see ``govflow._lifecycle.field_effects.DEFAULT_SETTINGS``).
    settings: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        """``name@version``, as used in messages."""
        return f"{self.name}@{self.version}"

    @property
    def partner_steps(self) -> dict[str, tuple[str, ...]]:
        """The partner steps: each trigger taken only together with a step on another issue, and the
        triggers of those steps (``issue-list`` v2: ``{"take_merged": ("merge",)}``).

        A transition with an effect that another effect names as its partner (``merge_into`` names
        ``take_merged``) is never fired by name: alone, it would record a merge that never happened.
        ``flow.fire`` refuses it, ``allowed_triggers`` leaves it out, and the command line has no command
        for it; the diagram draws it.
        """
        partner_effects = {effect.partner.effect for effect in EFFECTS.values() if effect.partner is not None}
        return {
            spec.trigger: tuple(dict.fromkeys(
                other.trigger for other in self.transitions
                for partner in (EFFECTS[name].partner for name in other.effects)
                if partner is not None and partner.effect in spec.effects))
            for spec in self.transitions if partner_effects.intersection(spec.effects)
        }

    def diagram(self, fmt: str = "mermaid") -> str:
        """The lifecycle's diagram (流程图): ``mermaid`` (for Markdown), ``dot`` (Graphviz) or ``svg``.

        Drawn from the compiled ``transitions`` machine by transitions' own diagram
        extension: states and triggers labelled in Chinese and English, each edge with the
        roles that may fire it, final states marked. ``svg`` runs Graphviz's ``dot`` and
        raises :class:`DiagramError` when it is not installed.
        """
        from .diagram import draw  # diagram builds on machine, which builds on this module
        from .machine import Lifecycle

        return draw(Lifecycle(self), fmt)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LifecycleDefinition:
        """Validate a definition mapping; raise :class:`LifecycleError` naming the problem."""
        if not isinstance(raw, Mapping):
            raise LifecycleError("?", f"a definition is a mapping, not {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise LifecycleError("?", "'name' must be a non-empty string")
        _name(name, "'name'", name)
        version = raw.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
            shown = repr(version) if not isinstance(version, int) or abs(version) < 10**12 else "a huge number"
            raise LifecycleError(name, f"'version' must be an integer >= 1 (at most {MAX_VERSION}), not {shown}")
        key = f"{name}@{version}"
        known = {"name", "version", "initial", "states", "final", "roles", "transitions", "labels", "settings"}
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
        for lang, table in labels.items():
            _name(key, "a language of 'labels'", lang)
            for label_key, label in table.items():
                _name(key, f"a key of labels.{lang}", label_key)
                if not isinstance(label, str):
                    raise LifecycleError(key, f"labels.{lang}.{label_key} must be a string, not {type(label).__name__}")
                try:
                    check_text(f"labels.{lang}.{label_key}", label, kind="name")
                except ValidationError as exc:
                    raise LifecycleError(key, str(exc)) from None
        return cls(
            name=name,
            version=version,
            initial=initial,
            states=states,
            final=final,
            roles=roles,
            transitions=specs,
            labels={lang: dict(v) for lang, v in labels.items()},
            settings=_settings(key, raw.get("settings", {})),
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
                    # Written only when set: a version-1 definition keeps its stored text.
                    **({"requires_evidence": True} if t.requires_evidence else {}),
                }
                for t in self.transitions
            ],
            "labels": {lang: dict(v) for lang, v in self.labels.items()},
            **({"settings": dict(self.settings)} if self.settings else {}),
        }

    def canonical_json(self) -> str:
        """A stable JSON text of the definition (stored with the issues that use it)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


#: The largest lifecycle version (stores keep it in a 32-bit integer column).
MAX_VERSION: Final = 2**31 - 1


def _name(key: str, where: str, value: object) -> str:
    """A state, trigger, role, keyword or language name by the ``id`` text rule; :class:`LifecycleError`."""
    try:
        return check_text(where, value, kind="id")
    except ValidationError as exc:
        raise LifecycleError(key, str(exc)) from None


def load_definition(path: str | Path) -> dict[str, Any]:
    """Read a raw definition mapping from a JSON, TOML or YAML file.

    A file that is missing, a directory, larger than :data:`~govflow._core.files.MAX_FILE_BYTES`,
    not UTF-8, malformed, or (YAML) built of more aliases or nodes than the limits is a :class:`LifecycleError`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml", ".yaml", ".yml"):
        raise LifecycleError(path.name, f"unknown file type {suffix!r}; accepted: .json, .toml, .yaml, .yml")
    try:
        text = read_small_text(path)
    except ValueError as exc:
        raise LifecycleError(path.name, str(exc)) from None
    raw: object
    if suffix == ".json":
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise LifecycleError(path.name, f"not valid JSON: {exc}") from None
    elif suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            raw = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise LifecycleError(path.name, f"not valid TOML: {exc}") from None
    else:
        try:
            raw = load_yaml(text)
        except ValueError as exc:
            raise LifecycleError(path.name, str(exc)) from None
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
        _name(key, "a state name", name)
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
    known = {"trigger", "source", "dest", "roles", "exclude", "requires", "optional", "effects", "requires_evidence"}
    extra = sorted(set(raw) - known)
    if extra:
        raise LifecycleError(key, f"transition {index}: unknown keys {extra}; accepted: {sorted(known)}")
    trigger = raw.get("trigger")
    if not isinstance(trigger, str) or not trigger.isidentifier():
        raise LifecycleError(key, f"transition {index}: 'trigger' must be an identifier, not {trigger!r}")
    _name(key, f"transition {index} 'trigger'", trigger)
    if trigger in _RESERVED_TRIGGERS:
        raise LifecycleError(key, f"transition {index}: {trigger!r} is reserved for {_RESERVED_TRIGGERS[trigger]}")
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
        _name(key, f"{where}: a data keyword", name)
        if not name.isidentifier() or name in _RESERVED_KEYWORDS:
            raise LifecycleError(
                key, f"{where}: {name!r} cannot be a data keyword (reserved: {', '.join(_RESERVED_KEYWORDS)})"
            )
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
    requires_evidence = raw.get("requires_evidence", False)
    if not isinstance(requires_evidence, bool):
        raise LifecycleError(key, f"{where}: 'requires_evidence' must be true or false, not {requires_evidence!r}")
    return TransitionSpec(
        requires_evidence=requires_evidence,
        trigger=trigger,
        source=source,
        dest=dest,
        roles=t_roles,
        exclude=exclude,
        requires=requires,
        optional=optional,
        effects=effects,
    )


def _settings(key: str, raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise LifecycleError(key, f"'settings' must be a mapping, not {raw!r}")
    settings: dict[str, int] = {}
    for name, value in raw.items():
        if name not in DEFAULT_SETTINGS:
            raise LifecycleError(key, f"unknown setting {name!r}; known: {sorted(DEFAULT_SETTINGS)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LifecycleError(key, f"setting {name!r} must be an integer >= 0, not {value!r}")
        settings[name] = value
    return settings


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


