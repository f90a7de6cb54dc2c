"""Lifecycles as data: validation at registration, file formats, versions, the shared machine."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow import ISSUE_LIST, LifecycleDefinition, LifecycleError
from govflow.testing import FakeClock

from ..conftest import UNIT_ENTRIES, add_units

WORK_ORDER: dict[str, Any] = {
    "name": "work-order-12345",
    "version": 1,
    "initial": "dispatched",
    "states": ["dispatched", "signed", "handled", "closed", "void"],
    "final": ["closed", "void"],
    "roles": ["supervisor", "lead"],
    "transitions": [
        {"trigger": "sign", "source": "dispatched", "dest": "signed", "roles": ["lead"],
         "effects": ["record_acceptance"]},
        {"trigger": "handle", "source": "signed", "dest": "handled", "roles": ["lead"],
         "requires": ["result"]},
        {"trigger": "close", "source": "handled", "dest": "closed", "roles": ["supervisor"],
         "exclude": ["lead"], "optional": ["rating"]},
        {"trigger": "void", "source": "*", "dest": "void", "roles": ["supervisor"], "requires": ["reason"]},
    ],
    "labels": {"zh": {"sign": "签收"}, "en": {"sign": "sign for"}},
}


def broken(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(WORK_ORDER)
    definition.update(changes)
    return definition


def test_the_default_lifecycle_matches_the_design() -> None:
    definition = LifecycleDefinition.from_dict(ISSUE_LIST)
    assert definition.key == "issue-list@1"
    assert definition.initial == "assigned"
    assert definition.final == ("verified", "cancelled")
    table = {(t.trigger, s): t.dest for t in definition.transitions for s in t.source}
    assert table["implement", "assigned"] == "implemented"
    assert table["report", "implemented"] == "feedback"
    assert table["verify", "feedback"] == "verified"
    assert table["reject", "feedback"] == "assigned"
    assert {s for (t, s) in table if t == "cancel"} == {"assigned", "implemented", "feedback"}
    assert table["accept", "assigned"] is None
    verify = next(t for t in definition.transitions if t.trigger == "verify")
    assert verify.roles == ("supervisor",) and verify.exclude == ("lead",)
    assert LifecycleDefinition.from_dict(definition.to_dict()) == definition


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (broken(initial="nowhere"), "initial state 'nowhere'"),
        (broken(final=["closed", "gone"]), "final state 'gone'"),
        (broken(roles=["supervisor", "mayor"]), "unknown role 'mayor'"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "dest": "lost"}]), "unknown dest state 'lost'"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "source": "limbo"}]), "unknown source state"),
        (broken(transitions=[*WORK_ORDER["transitions"], {**WORK_ORDER["transitions"][0], "dest": "handled"}]),
         "trigger 'sign' is defined twice from state 'dispatched'"),
        (broken(transitions=[{**WORK_ORDER["transitions"][1], "roles": ["cooperating"]}]),
         "unknown role 'cooperating'"),
        (broken(transitions=WORK_ORDER["transitions"][:2]), "no path to a final state"),
        (broken(transitions=[*WORK_ORDER["transitions"],
                             {"trigger": "reopen", "source": "closed", "dest": "signed", "roles": ["lead"]}]),
         "leaves the final state 'closed'"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "trigger": "assign"}]), "reserved for creating issues"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "trigger": "deadline"}]),
         "'deadline' is reserved for govflow's deadline steps"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "trigger": "recount_due"}]),
         "'recount_due' is reserved for govflow's due-date recounts"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "optional": ["retries"]}]),
         "'retries' cannot be a data keyword .reserved: by, trigger, issue_id, expected_version, retries."),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "requires": ["expected_version"]}]),
         "'expected_version' cannot be a data keyword"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "effects": ["teleport"]}]), "unknown effect"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "when": "later"}]), "unknown keys ['when']"),
        (broken(colour="red"), "unknown keys ['colour']"),
        (broken(version=0), "'version' must be an integer >= 1"),
        (broken(states=["a", "a"]), "listed twice"),
        (broken(transitions=[{**WORK_ORDER["transitions"][0], "roles": []}]), "must not be empty"),
    ],
)
def test_malformed_definitions_are_refused_with_the_problem_named(
    definition: dict[str, Any], message: str
) -> None:
    with pytest.raises(LifecycleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        LifecycleDefinition.from_dict(definition)


def test_a_refused_definition_is_not_registered(flow: govflow.Govflow) -> None:
    with pytest.raises(LifecycleError):
        flow.register_lifecycle(broken(initial="nowhere"))
    assert [d.key for d in flow.lifecycles()] == ["issue-list@1", "issue-list@2", "plan-target@1"]
    assert flow.store.lifecycles() == [
        ("issue-list", 1, flow.lifecycle(version=1).canonical_json()),
        ("issue-list", 2, flow.lifecycle().canonical_json()),
        ("plan-target", 1, flow.lifecycle("plan-target").canonical_json()),
    ]


def test_a_custom_lifecycle_runs_with_its_own_triggers(flow: govflow.Govflow) -> None:
    flow.register_lifecycle(WORK_ORDER)
    order = flow.assign("噪音扰民投诉", lead="XIANGYUN", due="2026-03-05", by="OFFICE",
                        lifecycle="work-order-12345")
    assert (order.state, order.lifecycle, order.lifecycle_version) == ("dispatched", "work-order-12345", 1)
    assert flow.allowed_triggers(order.id, "XIANGYUN") == ["sign"]
    assert flow.fire(order.id, "sign", by="XIANGYUN").accepted_at is not None
    flow.fire(order.id, "handle", by="XIANGYUN", result="已协调")
    assert flow.fire(order.id, "close", by="OFFICE", rating=5).state == "closed"
    assert flow.label("sign", lifecycle="work-order-12345") == "签收"
    assert flow.verify_ledger().entries == UNIT_ENTRIES + 4


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yaml"])
def test_definitions_load_from_files(tmp_path: Path, suffix: str, flow: govflow.Govflow) -> None:
    path = tmp_path / f"order{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(WORK_ORDER, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".yaml":
        import yaml

        path.write_text(yaml.safe_dump(WORK_ORDER, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(TOML_WORK_ORDER, encoding="utf-8")
    definition = flow.register_lifecycle(path)
    assert definition == LifecycleDefinition.from_dict(WORK_ORDER)


TOML_WORK_ORDER = """
name = "work-order-12345"
version = 1
initial = "dispatched"
states = ["dispatched", "signed", "handled", "closed", "void"]
final = ["closed", "void"]
roles = ["supervisor", "lead"]

[[transitions]]
trigger = "sign"
source = "dispatched"
dest = "signed"
roles = ["lead"]
effects = ["record_acceptance"]

[[transitions]]
trigger = "handle"
source = "signed"
dest = "handled"
roles = ["lead"]
requires = ["result"]

[[transitions]]
trigger = "close"
source = "handled"
dest = "closed"
roles = ["supervisor"]
exclude = ["lead"]
optional = ["rating"]

[[transitions]]
trigger = "void"
source = "*"
dest = "void"
roles = ["supervisor"]
requires = ["reason"]

[labels.zh]
sign = "签收"

[labels.en]
sign = "sign for"
"""


def test_unknown_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "order.ini"
    path.write_text("x=1")
    with pytest.raises(LifecycleError, match="unknown file type"):
        LifecycleDefinition.load(path)


def test_issues_keep_the_version_they_were_created_under(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "versions.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        flow.register_lifecycle(WORK_ORDER)
        old = flow.assign("旧工单", lead="XIANGYUN", due="2026-03-05", by="OFFICE", lifecycle="work-order-12345")
        v2 = broken(version=2)
        v2["transitions"] = [{**t, "requires": ["result", "note"]} if t["trigger"] == "handle" else t
                             for t in v2["transitions"]]
        flow.register_lifecycle(v2)
        new = flow.assign("新工单", lead="XIANGYUN", due="2026-03-05", by="OFFICE", lifecycle="work-order-12345")
        assert (old.lifecycle_version, new.lifecycle_version) == (1, 2)
        with pytest.raises(LifecycleError, match="already registered"):
            flow.register_lifecycle(broken(version=2))
        assert flow.register_lifecycle(v2).version == 2  # the same content again is fine
    # Reopened without registering anything: the stored definitions are used.
    with govflow.open(path, clock=clock) as flow:
        for issue in (old, new):
            flow.fire(issue.id, "sign", by="XIANGYUN")
        flow.fire(old.id, "handle", by="XIANGYUN", result="r")  # v1 needs no note
        with pytest.raises(govflow.ValidationError, match="note"):
            flow.fire(new.id, "handle", by="XIANGYUN", result="r")


def test_one_machine_per_lifecycle_version_and_no_models(flow: govflow.Govflow) -> None:
    issues = [flow.assign(f"问题{i}", lead="XIANGYUN", due="2026-03-20", by="OFFICE") for i in range(20)]
    for issue in issues:
        flow.implement(issue.id, by="XIANGYUN", note="n")
    lifecycle = flow._lifecycle("issue-list", 2)
    assert lifecycle.machine.models == []
    assert lifecycle is flow._lifecycle("issue-list")


@pytest.mark.parametrize(("transition", "message"), [
    ({"trigger": "extend", "source": "signed", "dest": None, "roles": ["lead"], "requires": ["due"],
      "effects": ["request_extension"]}, "effect 'request_extension' needs 'reason'"),
    ({"trigger": "redo", "source": "signed", "dest": None, "roles": ["supervisor"], "effects": ["set_due"]},
     "effect 'set_due' reads 'due'"),
])
def test_effects_must_get_the_keywords_they_read(transition: dict[str, Any], message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        LifecycleDefinition.from_dict(broken(transitions=[*WORK_ORDER["transitions"], transition]))


def test_a_lifecycle_registered_by_another_process_is_found(tmp_path: Path, clock: FakeClock) -> None:
    """Two flows on one database (two processes, in production): what one registers, the other finds
    on a miss, and cannot register differently under the same name and version."""
    path = tmp_path / "shared.sqlite3"
    with govflow.open(path, clock=clock, delivery="manual") as first, \
            govflow.open(path, clock=clock, delivery="manual") as second:
        add_units(first)
        first.register_lifecycle(WORK_ORDER)
        order = first.assign("噪音扰民投诉", lead="XIANGYUN", due="2026-03-05", by="OFFICE",
                             lifecycle="work-order-12345")
        assert second.allowed_triggers(order.id, "XIANGYUN") == ["sign"]
        assert second.fire(order.id, "sign", by="XIANGYUN").state == "signed"
        assert second.lifecycle("work-order-12345").key == "work-order-12345@1"
        with pytest.raises(LifecycleError, match="already registered"):
            second.register_lifecycle({**WORK_ORDER, "states": [*WORK_ORDER["states"], "extra"]})
        assert first.store.lifecycles() == second.store.lifecycles()
        assert [(o.issue.id, o.working_days) for o in second.overdue()] == []
        clock.set("2026-03-10T10:00:00+08:00")
        assert [o.issue.id for o in second.overdue()] == [order.id]


def test_actors_are_checked_every_time_and_kept_only_when_valid() -> None:
    """parse_actor keeps the actors that passed the text rule; a refused one is refused again, and an
    instance of an Actor subclass is passed on as given."""
    from govflow._lifecycle.fields import parse_actor

    assert parse_actor("OFFICE") == govflow.Actor("OFFICE") and parse_actor("OFFICE") is parse_actor("OFFICE")
    assert parse_actor(govflow.Actor("OFFICE", "王五")) == govflow.Actor("OFFICE", "王五")
    for _ in range(2):
        with pytest.raises(govflow.ValidationError):
            parse_actor("OFF\u202eICE")
        with pytest.raises(govflow.ValidationError):
            parse_actor(govflow.Actor("OFFICE", "a\x00b"))

    class Clerk(govflow.Actor):
        pass

    clerk = Clerk("OFFICE")
    assert parse_actor(clerk) is clerk


def test_partner_steps_are_the_steps_taken_only_with_another_issues() -> None:
    """take_merged is merge's partner step (never fired alone); issue-list v1 has none; a lifecycle without
    merge still names take_merged as one (it is never fired alone there either)."""
    v2 = govflow.LifecycleDefinition.from_dict(govflow.ISSUE_LIST_V2)
    assert v2.partner_steps == {"take_merged": ("merge",)}
    assert govflow.LifecycleDefinition.from_dict(govflow.ISSUE_LIST).partner_steps == {}
    no_merge = govflow.LifecycleDefinition.from_dict({**govflow.ISSUE_LIST_V2, "name": "no-merge", "transitions": [
        t for t in govflow.ISSUE_LIST_V2["transitions"] if t["trigger"] != "merge"]})
    assert no_merge.partner_steps == {"take_merged": ()}
