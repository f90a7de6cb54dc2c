"""Every input checked at the door, on every store: text, unhashable and unencodable arguments, a closed
flow, the calendar's bounds. A refused command raises a typed error and writes nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govflow
from govflow import FlowClosed, GovflowError, LifecycleError, StoreBusy, ValidationError
from govflow.testing import FakeClock

from ..conftest import STORES, UNIT_ENTRIES, add_units, open_flow, refused, snapshot

DUE = dt.date(2026, 3, 20)
DEEP: dict[str, object] = {"leaf": 1}
for _ in range(20):
    DEEP = {"level": DEEP}


def new(flow: govflow.Govflow, **kwargs: Any) -> govflow.Issue:
    return flow.assign(**{"title": "道路积水", "lead": "XIANGYUN", "due": DUE, "by": "OFFICE", **kwargs})


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("title", lambda f: new(f, title="a\udc80")),
        ("title", lambda f: new(f, title="a\x00b")),
        ("title", lambda f: new(f, title="x" * 10_000_000)),
        ("description", lambda f: new(f, description="bell\x07")),
        ("category", lambda f: new(f, category="two\nlines")),
        ("responsible.first", lambda f: new(f, responsible={"first": "王\x00五"})),
        ("by.person", lambda f: new(f, by=govflow.Actor("OFFICE", "\udcff"))),
        ("lead", lambda f: new(f, lead=["XIANGYUN"])),
        ("cooperating", lambda f: new(f, cooperating=[["BINCHUAN"]])),
        ("note", lambda f: f.implement(new(f).id, by="XIANGYUN", note="done\x00")),
        ("reason", lambda f: f.cancel(new(f).id, by="OFFICE", reason="\udc80")),
        ("evidence", lambda f: f.implement(new(f).id, by="XIANGYUN", note="ok", evidence=["a\nb"])),
        ("new_lead", lambda f: f.reassign(new(f).id, by="OFFICE", new_lead=["BINCHUAN"], reason="r")),
        ("trigger", lambda f: f.fire(new(f).id, [], by="XIANGYUN")),  # type: ignore[arg-type]
        ("expected_version", lambda f: f.fire(new(f).id, "accept", by="XIANGYUN", expected_version=[])),
        ("state", lambda f: f.issues(state=[])),  # type: ignore[arg-type]
        ("unit", lambda f: f.issues(unit={})),  # type: ignore[arg-type]
        ("parent", lambda f: f.add_unit("NEW", "新县", level="county", parent=[])),  # type: ignore[arg-type]
        ("id", lambda f: f.add_unit("NEW\x00", "新县", level="county")),
        ("id", lambda f: f.add_unit(" NEW", "新县", level="county")),
        ("id", lambda f: f.add_unit("unit:NEW", "新县", level="county")),
        ("name", lambda f: f.add_unit("NEW", "新\x1b县", level="county")),
        ("level", lambda f: f.add_unit("NEW", "新县", level=["county"])),  # type: ignore[arg-type]
        ("working_days", lambda f: new(f, due=govflow.working_days(10**9))),
        ("due", lambda f: new(f, due="9999-12-31")),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_field(flow: govflow.Govflow, field: str, call: Any) -> None:
    if field in ("note", "reason", "evidence", "new_lead", "trigger", "expected_version"):
        new(flow)  # the issue the call makes first is written; the refused step is what is checked
        issue_id = flow.issues()[-1].id
        call = {
            "note": lambda f: f.implement(issue_id, by="XIANGYUN", note="done\x00"),
            "reason": lambda f: f.cancel(issue_id, by="OFFICE", reason="\udc80"),
            "evidence": lambda f: f.implement(issue_id, by="XIANGYUN", note="ok", evidence=["a\nb"]),
            "new_lead": lambda f: f.reassign(issue_id, by="OFFICE", new_lead=["BINCHUAN"], reason="r"),
            "trigger": lambda f: f.fire(issue_id, [], by="XIANGYUN"),
            "expected_version": lambda f: f.fire(issue_id, "accept", by="XIANGYUN", expected_version=[]),
        }[field]
    units = flow.units()
    error = refused(flow, ValidationError, lambda: call(flow))
    assert isinstance(error, ValidationError) and error.field == field, error
    assert flow.units() == units


def test_a_unit_id_that_looks_like_another_is_refused(flow: govflow.Govflow) -> None:
    flow.add_unit("XY", "甲", level="county", parent="OFFICE")
    for twin in ("\u0425\u04ae", "ＸＹ", "xy"):  # Cyrillic, full width, lower case
        error = refused(flow, ValidationError, lambda twin=twin: flow.add_unit(twin, "乙", level="county"))
        assert "looks like" in str(error)
    assert [u.id for u in flow.units()][-1] == "XY"
    with pytest.raises(ValidationError, match="more than one script"):
        flow.add_unit("\u0425Y", "丙", level="county")


@pytest.mark.parametrize(
    "value",
    [pytest.param(10**5000, id="huge"), object(), pytest.param(DEEP, id="deep"), {1: 2}, float("nan"), "\x00"],
)
def test_values_that_cannot_be_encoded_are_refused(flow: govflow.Govflow, value: object) -> None:
    flow.register_lifecycle({
        "name": "survey", "version": 1, "initial": "open", "states": ["open", "done"], "final": ["done"],
        "transitions": [{"trigger": "answer", "source": "open", "dest": "done", "roles": ["lead"],
                         "optional": ["extra"]}],
    })
    issue = new(flow, lifecycle="survey")
    error = refused(flow, ValidationError, lambda: flow.fire(issue.id, "answer", by="XIANGYUN", extra=value))
    assert error.field == "extra"  # type: ignore[attr-defined]


def test_every_use_of_a_closed_flow_is_flow_closed(flow: govflow.Govflow) -> None:
    issue = new(flow)
    flow.close()
    for call in (
        lambda: new(flow), lambda: flow.get(issue.id), lambda: flow.issues(), lambda: flow.ledger(),
        lambda: flow.implement(issue.id, by="XIANGYUN", note="n"), lambda: flow.verify_ledger(),
        lambda: flow.add_unit("NEW", "新县", level="county"), lambda: flow.sweep(), lambda: flow.deliver(),
        lambda: flow.facts("2026-03"), lambda: flow.store.units(), lambda: flow.outbox.pending(),
        lambda: flow.checkpoint(), lambda: flow.bulletin("2026-03"),
    ):
        with pytest.raises(FlowClosed):
            call()
    flow.close()  # closing twice does nothing


def test_a_locked_sqlite_file_is_store_busy_and_nothing_is_written(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "busy.sqlite3"
    with govflow.open(path, clock=clock) as setup:
        add_units(setup)
    flow = govflow.open(govflow.SQLiteStore(path, timeout=0.2), clock=clock)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreBusy) as info:
            new(flow)
        assert "run the command again" in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert flow.issues() == [] and len(flow.ledger()) == UNIT_ENTRIES  # the units' registrations only
    assert new(flow).version == 1  # and once the lock is gone, the retry goes through
    flow.close()


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_clock_at_the_ends_of_time_is_refused(tmp_path: Path, when: str) -> None:
    flow = govflow.open(":memory:", clock=lambda: dt.datetime.fromisoformat(when))
    with pytest.raises(ValidationError) as info:
        flow.add_unit("OFFICE", "办", level="prefecture", supervisor=True) and new(flow)
        new(flow)
    assert info.value.field == "clock()"
    with pytest.raises(ValidationError):
        flow.sweep(dt.datetime.fromisoformat(when))


def test_working_days_are_bounded_before_counting() -> None:
    started = threading.Event()
    with pytest.raises(ValidationError) as info:
        started.set()
        govflow.working_days(10**18)
    assert "2500" in info.value.accepted


# -- lifecycle and schedule files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.json", None),
        ("dir.json", "DIR"),
        ("bad.json", "{not json"),
        ("bad.toml", "name = [unclosed"),
        ("bad.yaml", "a: [b"),
        ("list.json", "[1, 2]"),
        ("huge.json", '{"name": "x", "version": 1000000000000000000000000000000}'),
        ("latin1.json", b'{"name": "\xe9"}'),
        ("labels.json", '{"name": "x", "version": 1, "initial": "a", "states": ["a", "b"], "final": ["b"],'
                        ' "transitions": [{"trigger": "go", "source": "a", "dest": "b", "roles": ["lead"]}],'
                        ' "labels": {"zh": {"a": 5}}}'),
        ("nul.json", '{"name": "x\\u0000", "version": 1}'),
        ("type.txt", "name: x"),
    ],
)
def test_register_lifecycle_refuses_bad_files_with_a_lifecycle_error(
    flow: govflow.Govflow, tmp_path: Path, name: str, content: str | bytes | None
) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    before = flow.lifecycles()
    with pytest.raises(LifecycleError):
        flow.register_lifecycle(path)
    assert flow.lifecycles() == before


BILLION_LAUGHS = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_yaml_bomb_is_refused_quickly(flow: govflow.Govflow, tmp_path: Path) -> None:
    import time

    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(LifecycleError, match="expands to more than"):
        flow.register_lifecycle(path)
    assert time.perf_counter() - started < 2
    path.write_text("a: &a [*a]\n", encoding="utf-8")
    with pytest.raises(LifecycleError):
        flow.register_lifecycle(path)


def test_yaml_with_a_few_anchors_still_loads(flow: govflow.Govflow, tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "name: anchored\nversion: 1\ninitial: open\nstates: [open, done]\nfinal: [done]\n"
        "transitions:\n  - &t {trigger: close, source: open, dest: done, roles: [supervisor]}\n"
        "labels: {zh: {open: 办理中, done: 办结}}\n",
        encoding="utf-8",
    )
    assert flow.register_lifecycle(path).labels["zh"]["done"] == "办结"


@pytest.mark.parametrize(
    ("name", "content"),
    [("missing.toml", None), ("dir.toml", "DIR"), ("bad.toml", "[2027\n"), ("year.toml", '[99999999999999]\n')],
)
def test_load_schedule_refuses_bad_files_with_a_validation_error(
    flow: govflow.Govflow, tmp_path: Path, name: str, content: str | None
) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        flow.load_schedule(path)
    assert info.value.field == "schedule"


# -- arbitrary text through every text parameter -------------------------------------------------------------

# Arbitrary text (surrogates, NUL, controls, any plane), awkward samples, and ordinary text so that most
# commands get far enough for the later parameters to be tried too.
TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.sampled_from(["a\x00b", "\udc80", "x\ry", "\u202e", " lead", "ХY", "line\nbreak", "tab\there", ""]),
    st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=12),
    st.sampled_from(["正常文本", "道路积水", "Xiangyun"]),
)


#: Each text parameter: how to pass ``text`` to it, and how to read back what was kept.
PARAMETERS: dict[str, tuple[Any, Any]] = {
    "title": (lambda f, i, t: new(f, title=t), lambda f, i: f.issues()[-1].title),
    "description": (lambda f, i, t: new(f, description=t), lambda f, i: f.issues()[-1].description),
    "category": (lambda f, i, t: new(f, category=t), lambda f, i: f.issues()[-1].category),
    "responsible.first": (lambda f, i, t: new(f, responsible={"first": t}),
                          lambda f, i: f.issues()[-1].responsible.first),
    "note": (lambda f, i, t: f.implement(i, by="XIANGYUN", note=t), lambda f, i: f.ledger(i)[-1].data["note"]),
    "by.person": (lambda f, i, t: f.accept(i, by=govflow.Actor("XIANGYUN", t)), lambda f, i: f.ledger(i)[-1].person),
    "evidence": (lambda f, i, t: f.implement(i, by="XIANGYUN", note="n", evidence=[t]),
                 lambda f, i: f.ledger(i)[-1].data["evidence"][0]),
    "reason": (lambda f, i, t: f.cancel(i, by="OFFICE", reason=t), lambda f, i: f.ledger(i)[-1].data["reason"]),
    "id": (lambda f, i, t: f.add_unit(t, "新县", level="county"), lambda f, i: f.units()[-1].id),
    "name": (lambda f, i, t: f.add_unit(f"U{len(f.units())}", t, level="county"), lambda f, i: f.units()[-1].name),
}


@pytest.mark.parametrize("kind", STORES)
def test_arbitrary_text_is_refused_or_kept_faithfully(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    """Any text into any text parameter: a ValidationError naming it and nothing written, or kept as it is;
    what was kept verifies, counts and prints on every store (NUL once broke PostgreSQL's facts)."""
    with open_flow(kind, tmp_path, clock) as flow:
        add_units(flow)
        kept: list[str] = []

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(field=st.sampled_from(sorted(PARAMETERS)), text=TEXT)
        def run(field: str, text: str) -> None:
            issue = new(flow).id
            write, read = PARAMETERS[field]
            before = snapshot(flow), flow.units()
            try:
                write(flow, issue, text)
            except ValidationError as error:
                assert error.field == field, error
                assert (snapshot(flow), flow.units()) == before, "a refused command wrote something"
            else:
                assert read(flow, issue) == text
                kept.append(field)

        run()
        assert kept, "no example got through: the strategy tests only refusals"
        flow.verify_ledger()
        flow.facts("2026-03")
        assert isinstance(flow.bulletin("2026-03").render("markdown"), str)
        assert isinstance(flow.render("ledger", "csv"), str)


def test_errors_are_all_govflow_errors() -> None:
    for error in (FlowClosed, StoreBusy, govflow.OutcomeUnknown):
        assert issubclass(error, GovflowError)
