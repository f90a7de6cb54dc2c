"""Plugins: loading, blocking, failures, and every registration and guard hook."""

from __future__ import annotations

import datetime as dt
import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import PluginLoadError, PluginWarning, TransitionVetoed, hookimpl
from govflow.testing import FakeClock, RecordingNotifier, memory_flow

from ..conftest import block_plugins
from ..lifecycle.test_lifecycle import WORK_ORDER


def snapshot(flow: govflow.Govflow) -> tuple[Any, ...]:
    """The issues and the entries after the units' registrations."""
    return ([(i.id, i.state, i.version) for i in flow.issues()], len(flow.ledger()) - len(flow.units()))


class EvidenceGuard:
    """Vetoes verification unless the report carried evidence, and assignments without a category."""

    name = "evidence-guard"

    def __init__(self) -> None:
        self.seen: list[govflow.ProposedTransition] = []

    @hookimpl
    def govflow_before_transition(self, event: govflow.ProposedTransition) -> None:
        self.seen.append(event)
        if event.trigger == "assign" and event.new.category is None:
            raise TransitionVetoed("an issue needs a category (问题类别)", plugin=self.name)
        if event.trigger == "verify" and event.issue is not None and event.issue.state == "feedback":
            raise TransitionVetoed("verification needs evidence (佐证材料)", plugin=self.name)


def test_builtins_are_plugins_listed_with_their_hooks() -> None:
    with memory_flow() as flow:
        info = {p.name: p for p in flow.plugins()}
    assert list(info) == [
        "memory", "sqlite", "issue-list", "ledger-renderers", "bulletin-renderers", "calendars", "scoring",
        "blobs",
    ]
    assert info["sqlite"].hooks == ("govflow_register_storage",)
    assert info["issue-list"].builtin and info["issue-list"].distribution == "govflow"
    assert [cls.name for cls in govflow.DEFAULT_PLUGINS] == list(info)


def test_before_transition_vetoes_and_nothing_is_written() -> None:
    guard = EvidenceGuard()
    with memory_flow(plugins=[guard]) as flow:
        with pytest.raises(TransitionVetoed, match="category"):
            flow.assign("无类别", lead="COUNTY-A", due="2026-02-01", by="OFFICE")
        assert snapshot(flow) == ([], 0)
        issue = flow.assign("有类别", lead="COUNTY-A", due="2026-02-01", by="OFFICE", category="治安")
        flow.implement(issue.id, by="COUNTY-A", note="n")
        flow.report(issue.id, by="COUNTY-A", result="r")
        before = snapshot(flow)
        with pytest.raises(TransitionVetoed, match="evidence") as info:
            flow.verify(issue.id, by="OFFICE")
        assert info.value.plugin == "evidence-guard"
        assert snapshot(flow) == before
        # The guard saw the proposed step, before and after.
        last = guard.seen[-1]
        assert (last.from_state, last.to_state, last.actor.unit) == ("feedback", "verified", "OFFICE")
        # Guards run only for transitions the lifecycle allows: a refused one never reaches them.
        seen = len(guard.seen)
        with pytest.raises(govflow.PermissionDenied):
            flow.verify(issue.id, by="COUNTY-A")
        assert len(guard.seen) == seen


def test_plugins_can_be_blocked_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    block_plugins(monkeypatch, "evidence-guard", " ledger-renderers")
    with memory_flow(plugins=[EvidenceGuard()]) as flow:
        assert "evidence-guard" not in {p.name for p in flow.plugins()}
        flow.assign("无类别也可以", lead="COUNTY-A", due="2026-02-01", by="OFFICE")
        with pytest.raises(govflow.ValidationError, match="no renderer for ledger/csv"):
            flow.render("ledger", "csv")


def test_a_misspelt_name_in_the_disable_list_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    block_plugins(monkeypatch, "ledger-renderer")  # the plugin is "ledger-renderers"
    with pytest.warns(PluginWarning, match="names 'ledger-renderer', but no plugin has that name; did you mean "
                                           "'ledger-renderers'"), memory_flow() as flow:
        assert "ledger-renderers" in {p.name for p in flow.plugins()}
    assert any("ledger-renderer" in record.getMessage() for record in caplog.records if record.levelname == "WARNING")


def test_a_correct_disable_list_warns_about_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    block_plugins(monkeypatch, "ledger-renderers")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with memory_flow() as flow:
            assert "ledger-renderers" not in {p.name for p in flow.plugins()}


class WrongSignature:
    name = "wrong-signature"

    @hookimpl
    def govflow_after_transition(self, event: object, flow: object) -> None:
        """``flow`` is not an argument of this hook."""


class UnknownHook:
    name = "unknown-hook"

    @hookimpl
    def govflow_after_transiton(self, event: object) -> None:  # misspelt on purpose
        """Not a govflow hook."""


@pytest.mark.parametrize(("plugin", "problem"), [
    (WrongSignature(), "invalid hook implementation"),
    (UnknownHook(), "unknown hooks ['govflow_after_transiton']"),
])
def test_a_broken_plugin_is_reported_and_skipped_or_raises_in_strict_mode(plugin: object, problem: str) -> None:
    with pytest.warns(PluginWarning, match=problem.replace("[", r"\[").replace("]", r"\]")), memory_flow(
        plugins=[plugin]
    ) as flow:
        assert getattr(plugin, "name", None) not in {p.name for p in flow.plugins()}
        assert [f.name for f in flow.plugin_failures()] == [plugin.name]  # type: ignore[attr-defined]
    with pytest.raises(PluginLoadError, match="was not loaded"):
        govflow.open(":memory:", plugins=[plugin], strict_plugins=True)


@pytest.fixture
def installed_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two distributions on sys.path with entry points in the ``govflow`` group."""
    (tmp_path / "govflow_printer.py").write_text(textwrap.dedent('''
        import govflow

        __version__ = "9.9"

        class Printer:
            @govflow.hookimpl
            def govflow_startup(self, flow):
                flow.started_by = "printer"
    '''), encoding="utf-8")
    for dist, version, entry in [
        ("govflow-printer", "1.2.3", "printer = govflow_printer:Printer"),
        ("govflow-broken", "0.1", "broken = govflow_no_such_module:Plugin"),
    ]:
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[govflow]\n{entry}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_entry_point_plugins_load_with_their_distribution(installed_plugins: Path) -> None:
    with pytest.warns(PluginWarning, match="'broken' from distribution 'govflow-broken'"), govflow.open(
        ":memory:"
    ) as flow:
        info = {p.name: p for p in flow.plugins()}
        assert (info["printer"].distribution, info["printer"].version) == ("govflow-printer", "1.2.3")
        assert info["printer"].hooks == ("govflow_startup",)
        assert flow.started_by == "printer"  # type: ignore[attr-defined]
        assert "import failed" in flow.plugin_failures()[0].problem
    with pytest.raises(PluginLoadError, match="govflow-broken"):
        govflow.open(":memory:", strict_plugins=True)


def test_entry_point_plugins_can_be_blocked(installed_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block_plugins(monkeypatch, "broken", "printer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with govflow.open(":memory:", strict_plugins=True) as flow:
            builtins = {
                "memory", "sqlite", "issue-list", "ledger-renderers", "bulletin-renderers", "calendars", "scoring",
                "blobs",
            }
            assert {p.name for p in flow.plugins()} == builtins


class CustomStorage:
    name = "custom-storage"

    def __init__(self) -> None:
        self.urls: list[str] = []

    @hookimpl
    def govflow_register_storage(self, register: Any) -> None:
        def factory(url: str) -> govflow.Store:
            self.urls.append(url)
            return govflow.MemoryStore()

        register("scratch", factory)


def test_register_storage_adds_a_url_scheme() -> None:
    storage = CustomStorage()
    with govflow.open("scratch://anything", plugins=[storage]) as flow:
        assert isinstance(flow.store, govflow.MemoryStore)
    assert storage.urls == ["scratch://anything"]
    with pytest.raises(govflow.ValidationError, match="no storage plugin for scheme 'nosuch'") as info:
        govflow.open("nosuch://x")
    assert "memory, sqlite" in str(info.value)


class WorkOrders:
    name = "work-orders"

    @hookimpl
    def govflow_register_lifecycles(self, register: Any) -> None:
        register(WORK_ORDER)


def test_register_lifecycles() -> None:
    with memory_flow(plugins=[WorkOrders()]) as flow:
        assert flow.lifecycle("work-order-12345").version == 1
        order = flow.assign("噪音投诉", lead="COUNTY-A", due="2026-01-06", by="OFFICE", lifecycle="work-order-12345")
        assert flow.fire(order.id, "sign", by="COUNTY-A").state == "signed"


class TabSeparated:
    name = "tsv"

    @hookimpl
    def govflow_register_renderers(self, register: Any) -> None:
        def tsv(flow: govflow.Govflow, **options: Any) -> str:
            return "\n".join(f"{e.seq}\t{e.issue_id}\t{e.trigger}" for e in flow.ledger(options.get("issue_id")))

        register("ledger", "tsv", tsv)


def test_register_renderers() -> None:
    with memory_flow(plugins=[TabSeparated()]) as flow:
        issue = flow.assign("t", lead="COUNTY-A", due="2026-02-01", by="OFFICE")
        units = len(flow.units())  # each registered by an entry before the issue's
        assert flow.render("ledger", "tsv").splitlines()[units:] == [f"{units + 1}\t{issue.id}\tassign"]


class Weekdays:
    name = "weekdays"

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5

    @hookimpl
    def govflow_register_calendars(self, register: Any) -> None:
        register("weekdays", self)


def test_register_calendars() -> None:
    with memory_flow(plugins=[Weekdays()]) as flow:
        calendar = flow.calendars()["weekdays"]
        assert calendar.is_working_day(dt.date(2026, 1, 5))
        assert not calendar.is_working_day(dt.date(2026, 1, 4))
    with govflow.open(":memory:", plugins=[Weekdays()], calendar="weekdays") as flow:
        assert isinstance(flow.calendar, Weekdays)
    with pytest.raises(govflow.ValidationError, match="no calendar 'lunar'"):
        govflow.open(":memory:", calendar="lunar")


class Starter:
    name = "starter"

    def __init__(self) -> None:
        self.flows: list[govflow.Govflow] = []

    @hookimpl
    def govflow_startup(self, flow: govflow.Govflow) -> None:
        # Everything is configured by now: the default lifecycle is registered.
        assert flow.lifecycle("issue-list").version == 2
        self.flows.append(flow)


def test_startup_gets_the_configured_flow() -> None:
    starter = Starter()
    with memory_flow(plugins=[starter], units=False) as flow:
        assert starter.flows == [flow]


class Timeliness:
    name = "timeliness"

    @hookimpl
    def govflow_score_unit(self, unit: govflow.Unit, period: str, facts: Mapping[str, int]) -> list[Any]:
        return [("及时签收率", facts["accepted"] / facts["assigned"] * 100, unit.id, period)]


class Quality:
    name = "quality"

    @hookimpl
    def govflow_score_unit(self, unit: govflow.Unit, period: str, facts: Mapping[str, int]) -> None:
        return None  # contributes nothing this period


def test_score_unit_combines_the_indicators_of_every_plugin() -> None:
    with memory_flow(plugins=[Timeliness(), Quality()]) as flow:
        indicators = flow.hooks.score_unit(flow.unit("COUNTY-A"), "2026-01", {"assigned": 4, "accepted": 3})
    assert indicators == [("及时签收率", 75.0, "COUNTY-A", "2026-01")]


class Escalations:
    """Keeps the 约谈 (interview) steps only."""

    name = "escalations"

    def __init__(self) -> None:
        self.interviews: list[str] = []
        self.steps: list[str] = []

    @hookimpl
    def govflow_deadline(self, event: govflow.DeadlineEvent) -> None:
        self.steps.append(event.step)
        if event.step == "interview":
            self.interviews.append(event.issue_id)


def test_after_transition_and_deadline_are_delivered_to_the_recorder(tmp_path: Path) -> None:
    recorder, escalations = RecordingNotifier(), Escalations()
    with memory_flow(FakeClock(), [recorder, escalations]) as flow:
        issue = flow.assign("t", lead="COUNTY-A", due="2026-02-01", by="OFFICE")
        assert recorder.triggers == ["assign"]
        assert recorder.transitions[0].issue_id == issue.id
        # A deadline step (the sweep writes these) goes through the same outbox to govflow_deadline.
        store = flow.store
        current = flow.get(issue.id)
        at = flow.now()
        draft = govflow.LedgerDraft(
            issue_id=issue.id, issue_seq=current.version + 1, trigger="deadline", from_state="assigned",
            to_state="assigned", actor="OFFICE", person=None, at=at,
            data={"step": "urge", "level": 1, "due": "2026-02-01"},
        )
        store.commit(govflow.UnitOfWork(
            govflow.Issue(**{**_fields(current), "version": current.version + 1}), current.version, draft,
            notify=tuple(("deadline", name) for name in flow.hooks.subscribers("deadline")),
        ))
        assert flow.hooks.subscribers("deadline") == ("escalations", "recorder")
        assert flow.deliver().delivered == 2
    assert escalations.steps == ["urge"] and escalations.interviews == []
    (event,) = recorder.deadlines
    assert (event.issue_id, event.step, event.level, event.due) == (issue.id, "urge", 1, dt.date(2026, 2, 1))
    assert event.idempotency_key == f"{issue.id}#2"


def _fields(issue: govflow.Issue) -> dict[str, Any]:
    import attrs

    return attrs.asdict(issue, recurse=False)


def test_an_explicit_plugin_wins_over_an_installed_one_of_the_same_name(installed_plugins: Path) -> None:
    class MyPrinter:
        name = "printer"

        @hookimpl
        def govflow_startup(self, flow: govflow.Govflow) -> None:
            flow.started_by = "mine"  # type: ignore[attr-defined]

    with pytest.warns(PluginWarning, match="broken"), govflow.open(":memory:", plugins=[MyPrinter()]) as flow:
        assert flow.started_by == "mine"  # type: ignore[attr-defined]
        assert [f.name for f in flow.plugin_failures()] == ["broken"]


def test_an_entry_point_factory_may_decline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "govflow_optional.py").write_text(textwrap.dedent('''
        import os

        class Configured:
            name = "optional"

        def from_environment():
            return Configured() if os.environ.get("OPTIONAL_URL") else None
    '''), encoding="utf-8")
    info = tmp_path / "govflow_optional-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: govflow-optional\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[govflow]\noptional = govflow_optional:from_environment\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with govflow.open(":memory:") as flow:
            assert "optional" not in {p.name for p in flow.plugins()} and flow.plugin_failures() == []
    monkeypatch.setenv("OPTIONAL_URL", "http://127.0.0.1:9")
    with govflow.open(":memory:") as flow:
        assert {p.name: p.distribution for p in flow.plugins()}["optional"] == "govflow-optional"


class Meddler:
    """Changes what it is given: neither the ledger nor the other plugins may see it."""

    name = "meddler"

    @hookimpl
    def govflow_before_transition(self, event: govflow.ProposedTransition) -> None:
        if isinstance(event.data, dict) and "rating" in event.data:
            event.data["rating"] = 99

    @hookimpl
    def govflow_after_transition(self, event: govflow.TransitionEvent) -> None:
        if isinstance(event.data, dict):
            event.data.clear()


def test_plugins_get_copies_of_the_ledger_data() -> None:
    with memory_flow(plugins=[Meddler()]) as flow:
        issue = flow.assign("t", lead="COUNTY-A", due="2026-02-01", by="OFFICE")
        flow.implement(issue.id, by="COUNTY-A", note="n")
        flow.report(issue.id, by="COUNTY-A", result="r")
        flow.verify(issue.id, by="OFFICE", rating=4)
        assert flow.ledger(issue.id)[-1].data == {"rating": 4}
        assert flow.ledger(issue.id)[1].data == {"note": "n"}
        assert flow.verify_ledger().entries == len(flow.units()) + 4
