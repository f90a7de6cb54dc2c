"""Lifecycle diagrams (流程图): Mermaid, Graphviz DOT and SVG from the compiled machine.

The states and transitions are read from the lifecycle's compiled ``transitions.Machine``
(what actually fires), the roles from its definition, and the picture is drawn by
transitions' own diagram extension (``GraphMachine``, its ``mermaid`` and ``graphviz``
engines). Every state and trigger is labelled in Chinese and English; every edge names
the roles that may fire it. SVG needs Graphviz's ``dot`` program.
"""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING, Any, Final, Literal

from transitions import State
from transitions.extensions.diagrams import GraphMachine

from .._core.errors import DiagramError, ValidationError

if TYPE_CHECKING:
    from .definition import LifecycleDefinition, TransitionSpec
    from .machine import Lifecycle

__all__ = ["FORMATS", "DiagramFormat", "draw"]

#: What :meth:`LifecycleDefinition.diagram` draws.
DiagramFormat = Literal["mermaid", "dot", "svg"]
FORMATS: Final = ("mermaid", "dot", "svg")

#: Who may fire a trigger, in both languages: role -> (Chinese, English).
_ROLE_WORDS: Final = {
    "supervisor": ("督办单位", "supervisor"),
    "lead": ("牵头单位", "lead"),
    "cooperating": ("配合单位", "cooperating"),
}
_SAFE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Words Mermaid's state diagrams reserve: a state called so gets a neutral id.
_MERMAID_WORDS: Final = frozenset({"end", "state", "note", "direction", "class", "classdef", "as", "style", "click"})
# Mermaid entity codes for what would end or break a label (labels come from definitions: data).
_MERMAID_ESCAPES: Final = {'"': "#quot;", ";": "#59;", ":": "#58;", "<": "#lt;", ">": "#gt;", "#": "#35;",
                           "|": "#124;", "{": "#123;", "}": "#125;"}


class _LabelledState(State):
    """A state that carries its diagram label (transitions' markup reads ``label``)."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label or self.name


class _Diagram(GraphMachine):
    state_cls = _LabelledState


class _Sketch:
    """The throw-away model GraphMachine draws for (the lifecycle's own machine has none)."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in _one_line(text))


def _dot_text(text: str) -> str:
    # Graphviz reads backslash sequences (\l, \n) in labels; the python package quotes the rest.
    return _one_line(text).replace("\\", "\\\\")


def _bilingual(definition: LifecycleDefinition, name: str) -> str:
    zh = definition.labels.get("zh", {}).get(name, name)
    en = definition.labels.get("en", {}).get(name, name)
    return zh if zh == en else f"{zh} {en}"


def _who(spec: TransitionSpec) -> str:
    parts = [f"{_ROLE_WORDS[r][0]} {_ROLE_WORDS[r][1]}" for r in spec.roles]
    text = ", ".join(parts)
    if spec.exclude:
        text += ", " + ", ".join(f"非{_ROLE_WORDS[r][0]} not {_ROLE_WORDS[r][1]}" for r in spec.exclude)
    return text


def _ids(states: list[str]) -> dict[str, str]:
    """Each state's id in the drawing: its name where Mermaid takes it as it is."""
    return {
        name: name if _SAFE_ID.match(name) and name.lower() not in _MERMAID_WORDS else f"state_{i}"
        for i, name in enumerate(states)
    }


def draw(lifecycle: Lifecycle, fmt: str = "mermaid") -> str:
    """The lifecycle's diagram in ``fmt`` (``mermaid``, ``dot`` or ``svg``), as text.

    Raises :class:`ValidationError` for another format and :class:`DiagramError` for
    ``svg`` when Graphviz's ``dot`` program is not installed.
    """
    if fmt not in FORMATS:
        raise ValidationError("fmt", f"no diagram format {fmt!r}", ", ".join(FORMATS))
    if fmt == "svg" and shutil.which("dot") is None:
        raise DiagramError(
            lifecycle.definition.key,
            "an SVG needs Graphviz's 'dot' program, which is not installed (Debian/Ubuntu: apt install graphviz; "
            "macOS: brew install graphviz); 'mermaid' and 'dot' need nothing",
        )
    definition = lifecycle.definition
    escape = _mermaid_text if fmt == "mermaid" else _dot_text
    machine = lifecycle.machine
    names = list(machine.states)
    ids = _ids(names)
    states = [{"name": ids[name], "label": escape(_bilingual(definition, name))} for name in names]
    transitions = []
    for trigger, event in machine.events.items():
        for source, compiled in event.transitions.items():
            spec = lifecycle.triggers_from(source)[trigger]
            label = escape(f"{_bilingual(definition, trigger)} ({_who(spec)})")
            for transition in compiled:
                # dest None: internal, the state does not change (drawn as a loop marked [internal])
                dest = None if transition.dest is None else ids[transition.dest]
                transitions.append({"trigger": trigger, "source": ids[source], "dest": dest, "label": label})
    named = definition.labels.get("zh", {}).get(definition.name)
    title = f"{named} {definition.key}" if named else definition.key
    sketch = _Sketch()
    diagram = _Diagram(
        model=sketch, states=states, transitions=transitions, initial=ids[definition.initial],
        auto_transitions=False, graph_engine="mermaid" if fmt == "mermaid" else "graphviz",
        title=f"title: {escape(title)}" if fmt == "mermaid" else escape(title), show_state_attributes=False,
    )
    # A diagram of the lifecycle, not of one issue: no state is highlighted as current.
    diagram.model_graphs[id(sketch)].reset_styling()
    # transitions types the graph as a protocol; the engines return graphviz.Digraph or a mock with .source
    graph: Any = diagram.model_graphs[id(sketch)].get_graph()
    if fmt == "mermaid":
        finals = [f"  {ids[state]} --> [*]" for state in definition.final]
        return str(graph.source).rstrip("\n") + "\n" + "\n".join(finals) + "\n"
    for state in definition.final:
        graph.node(ids[state], peripheries="2")  # final states: a double border
    if fmt == "dot":
        return str(graph.source)
    try:
        svg: bytes = graph.pipe(format="svg")
    except Exception as exc:  # dot failed on this machine: say so, with its message
        raise DiagramError(definition.key, f"Graphviz's dot failed: {type(exc).__name__}: {exc}") from exc
    return svg.decode("utf-8")
