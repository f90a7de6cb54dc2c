"""Lifecycle diagrams: drawn from the compiled machine, bilingual, with roles; SVG through Graphviz."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import govflow
from govflow import ISSUE_LIST, DiagramError, LifecycleDefinition, ValidationError

# .ci/run sets it: there the SVG test must run, not skip.
REQUIRE_GRAPHVIZ = bool(os.environ.get("GOVFLOW_REQUIRE_GRAPHVIZ"))

MERMAID_EDGE = re.compile(r"^\s*(\S+) --> (\S+?)(?:: (.*))?$")
DOT_EDGE = re.compile(r'^\s*"?([^"\s]+)"? -> "?([^"\s]+)"? \[label="(.*)"\]$')


def compiled_edges(definition: LifecycleDefinition) -> set[tuple[str, str, str]]:
    """(source, dest, trigger) of every transition the definition compiles to; internal ones loop."""
    return {
        (source, spec.dest or source, spec.trigger)
        for spec in definition.transitions for source in spec.source
    }


def drawn_edges(pattern: re.Pattern[str], text: str, labels: dict[str, str]) -> set[tuple[str, str, str]]:
    """Edges of a drawing, each label split back into triggers by their bilingual labels."""
    found = set()
    for line in text.splitlines():
        match = pattern.match(line)
        if not match or match.group(1) == "[*]" or match.group(2) == "[*]":
            continue
        for part in (match.group(3) or "").split(" | "):
            trigger = next(t for t, label in labels.items() if part.startswith(label + " ("))
            found.add((match.group(1), match.group(2), trigger))
    return found


@pytest.fixture
def issue_list() -> LifecycleDefinition:
    with govflow.open(":memory:") as flow:
        return flow.lifecycle("issue-list", 1)


def trigger_labels(definition: LifecycleDefinition) -> dict[str, str]:
    zh, en = definition.labels["zh"], definition.labels["en"]
    return {spec.trigger: f"{zh[spec.trigger]} {en[spec.trigger]}" for spec in definition.transitions}


def test_the_mermaid_diagram_has_every_compiled_transition_labelled_with_roles(
    issue_list: LifecycleDefinition,
) -> None:
    text = issue_list.diagram("mermaid")
    assert text.startswith("---\ntitle: issue-list@1\n---\nstateDiagram-v2\n")
    assert drawn_edges(MERMAID_EDGE, text, trigger_labels(issue_list)) == compiled_edges(issue_list)
    assert 'state "已交办 assigned" as assigned' in text and 'state "已反馈 reported" as feedback' in text
    assert "feedback --> verified: 验收销号 verify and close (督办单位 supervisor, 非牵头单位 not lead)" in text
    assert "签收 accept (牵头单位 lead) [internal]" in text
    assert {line.strip() for line in text.splitlines() if "[*]" in line} == {
        "[*] --> assigned", "verified --> [*]", "cancelled --> [*]",
    }
    assert "s_active" not in text.split("classDef s_active", 1)[1]  # no state is drawn as current


def test_the_dot_diagram_has_the_same_edges_and_marks_final_states(issue_list: LifecycleDefinition) -> None:
    text = issue_list.diagram("dot")
    assert text.startswith('digraph "issue-list@1" {')
    assert drawn_edges(DOT_EDGE, text, trigger_labels(issue_list)) == compiled_edges(issue_list)
    assert "verified [peripheries=2]" in text and "cancelled [peripheries=2]" in text
    assert 'assigned [label="已交办 assigned\\l"]' in text


def test_a_registered_lifecycle_is_drawn_by_version_through_the_flow() -> None:
    with govflow.open(":memory:") as flow:
        v3 = dict(ISSUE_LIST, version=3, states=[*ISSUE_LIST["states"]])
        v3["transitions"] = [t for t in ISSUE_LIST["transitions"] if t["trigger"] != "reassign"]
        flow.register_lifecycle(v3)
        assert "改派 reassign" in flow.lifecycle("issue-list", 1).diagram()
        assert "会签 countersign" in flow.lifecycle("issue-list", 2).diagram()  # the field loop's version
        latest = flow.lifecycle("issue-list").diagram()
        assert "issue-list@3" in latest and "改派" not in latest


AWKWARD: dict[str, Any] = {
    "name": "awkward", "version": 1, "initial": "end", "states": ["end", "two words", "done"],
    "final": ["done"], "roles": ["supervisor", "lead", "cooperating"],
    "transitions": [
        {"trigger": "go", "source": "end", "dest": "two words", "roles": ["cooperating"]},
        {"trigger": "finish", "source": "two words", "dest": "done", "roles": ["supervisor"]},
    ],
    "labels": {"zh": {"go": '推进"; x: <b>#1|{a}', "two words": "第二 步"}, "en": {"go": "go\\l on"}},
}


def test_labels_and_state_names_from_a_definition_cannot_break_the_drawing() -> None:
    definition = LifecycleDefinition.from_dict(AWKWARD)
    text = definition.diagram("mermaid")
    lines = text.splitlines()
    # A reserved word and a name with a space get neutral ids; the names stay in the labels.
    assert any(line.strip() == 'state "end" as state_0' for line in lines)
    assert any(line.strip() == 'state "第二 步 two words" as state_1' for line in lines)
    edge = next(line.strip() for line in lines if line.strip().startswith("state_0 --> state_1"))
    assert edge == (
        "state_0 --> state_1: 推进#quot;#59; x#58; #lt;b#gt;#35;1#124;#123;a#125; go\\l on (配合单位 cooperating)"
    )
    dot = definition.diagram("dot")
    assert '[label="推进\\"; x: <b>#1|{a} go\\\\l on (配合单位 cooperating)"]' in dot
    if shutil.which("dot"):  # Graphviz reads it back
        run = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr


def test_an_unknown_format_is_refused(issue_list: LifecycleDefinition) -> None:
    with pytest.raises(ValidationError, match="no diagram format 'png'; accepted: mermaid, dot, svg"):
        issue_list.diagram("png")


def test_svg_without_graphviz_is_a_clear_typed_error(
    issue_list: LifecycleDefinition, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    with pytest.raises(DiagramError, match="Graphviz's 'dot' program, which is not installed") as caught:
        issue_list.diagram("svg")
    assert isinstance(caught.value, govflow.GovflowError) and caught.value.lifecycle == "issue-list@1"


@pytest.mark.skipif(shutil.which("dot") is None and not REQUIRE_GRAPHVIZ, reason="Graphviz's dot is not installed")
def test_svg_is_drawn_by_graphviz(issue_list: LifecycleDefinition) -> None:
    assert shutil.which("dot"), "GOVFLOW_REQUIRE_GRAPHVIZ is set but Graphviz's dot is not installed"
    svg = issue_list.diagram("svg")
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")}
    assert "已交办 assigned" in texts
    assert any(text.startswith("验收销号 verify and close") for text in texts)
    titles = {node.text for node in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"assigned", "feedback->verified"} <= titles


LABELS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf")), min_size=1, max_size=40)


@given(LABELS, LABELS)
def test_any_label_stays_inside_its_mermaid_line(zh: str, en: str) -> None:
    for label in (zh, en):  # labels that the text rule refuses never reach a drawing (tests/core/test_text.py)
        try:
            govflow.check_text("label", label, kind="name")
        except govflow.ValidationError:
            assume(False)
    definition = govflow.LifecycleDefinition.from_dict({
        "name": "any", "version": 1, "initial": "a", "states": ["a", "b"], "final": ["b"],
        "transitions": [{"trigger": "go", "source": "a", "dest": "b", "roles": ["supervisor"]}],
        "labels": {"zh": {"go": zh, "a": zh}, "en": {"go": en}},
    })
    lines = definition.diagram("mermaid").splitlines()
    edge = [line for line in lines if line.strip().startswith("a --> b")]
    assert len(edge) == 1
    label = edge[0].split(": ", 1)[1]
    # Mermaid decodes its entity codes (#58;) before parsing; nothing else may end or break the label.
    assert re.search(r'[";:<>|{}\n]', re.sub(r"#\w+;", "", label.removesuffix(" (督办单位 supervisor)"))) is None
    state = [line for line in lines if line.strip().startswith('state "') and line.strip().endswith(" as a")]
    assert len(state) == 1 and state[0].count('"') == 2
