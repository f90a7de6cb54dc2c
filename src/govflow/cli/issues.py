"""Issues (问题): ``assign``, ``fire``, the named steps, ``list`` and ``show``."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, Final

import click

import govflow

from ._app import Session, command, root

__all__ = ["COMMANDS", "assign", "fire", "list_issues", "show", "steps"]

_WORKING_DAYS: Final = re.compile(r"(\d+)\s*(?:wd|working[ _-]?days?|个?工作日)", re.I)
#: Data keywords whose values are whole numbers (``--set rating=5``).
_INTEGERS: Final = frozenset({"rating"})
#: Data keywords that may be given several times (``--evidence a.jpg --evidence b.jpg``).
_LISTS: Final = frozenset({"evidence"})


def parse_due(value: str | None) -> str | govflow.WorkingDays | None:
    """``YYYY-MM-DD``, or ``10wd`` / ``10工作日``: 10 working days from today in the flow's calendar."""
    if value is None:
        return None
    match = _WORKING_DAYS.fullmatch(value.strip())
    return govflow.working_days(int(match.group(1))) if match else value


def _actor(by: str, person: str | None) -> govflow.Actor:
    return govflow.Actor(by, person or None)


def _value(key: str, text: str) -> Any:
    if key in _INTEGERS and re.fullmatch(r"-?\d+", text.strip()):
        return int(text)
    if key == "due":
        return parse_due(text)
    return text


def parse_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs as data keywords (``key:=JSON`` for a JSON value; a repeated key makes a list)."""
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip(":").strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        if key.endswith(":"):
            key = key[:-1]
            try:
                value: Any = json.loads(text)
            except json.JSONDecodeError as exc:
                raise click.BadParameter(f"{pair!r}: the value after := is not JSON ({exc})",
                                         param_hint="--set") from None
        else:
            value = _value(key, text)
        key = key.strip()
        if key in data:
            previous = data[key]
            data[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[key] = value
    return data


def show_issue(session: Session, issue: govflow.Issue) -> None:
    """Print one issue's snapshot (a table of fields, labelled in the session's language)."""
    flow, out = session.flow(), session.out
    out.emit(issue)

    def label(name: str) -> str:
        return flow.label(name, out.lang, issue.lifecycle, issue.lifecycle_version)

    people = issue.responsible
    extension = issue.extension
    fields = [
        (out.pick("编号", "id"), issue.id),
        (out.pick("标题", "title"), issue.title),
        (out.pick("状态", "state"), f"{label(issue.state)} ({issue.state})"),
        (out.pick("牵头单位", "lead unit"), issue.lead),
        (out.pick("配合单位", "cooperating"), ", ".join(issue.cooperating)),
        (out.pick("期限", "due"), issue.due.isoformat() + (out.pick("（暂定）", " (provisional)")
                                                            if issue.due_provisional else "")),
        (out.pick("原定期限", "original due"), issue.original_due.isoformat()),
        (out.pick("第一责任人", "first responsible"), people.first if people else None),
        (out.pick("直接责任人", "direct responsible"), people.direct if people else None),
        (out.pick("类别", "category"), issue.category),
        (out.pick("描述", "description"), issue.description),
        (out.pick("签收时间", "accepted at"), issue.accepted_at.isoformat() if issue.accepted_at else None),
        (out.pick("重办次数", "rework count"), issue.rework_count),
        (out.pick("延期申请", "extension request"),
         f"{extension.due.isoformat()} ({extension.reason})" if extension else None),
        (out.pick("生命周期", "lifecycle"), f"{issue.lifecycle}@{issue.lifecycle_version}"),
        (out.pick("版本", "version"), issue.version),
    ]
    out.table([out.pick("项目", "field"), out.pick("内容", "value")], fields)


@command(root, "assign")
@click.argument("title")
@click.option("--lead", required=True, metavar="UNIT", help="The lead unit (牵头单位).")
@click.option("--due", required=True, help="Due date: YYYY-MM-DD, or 10wd for 10 working days from today.")
@click.option("--by", required=True, metavar="UNIT", help="The supervisor unit that assigns (交办).")
@click.option("--person", help="Who at --by does it (经办人).")
@click.option("--cooperating", multiple=True, metavar="UNIT", help="A cooperating unit (配合单位); repeatable.")
@click.option("--description", default="", help="What the problem is.")
@click.option("--category", help="A category (类别).")
@click.option("--first", "first", help="第一责任人 (the first responsible person).")
@click.option("--direct", help="直接责任人 (the directly responsible person).")
@click.option("--lifecycle", default="issue-list", show_default=True, help="The lifecycle the issue follows.")
@click.option("--countersign", type=click.Choice(["all", "any", "none"]),
              help="会签: which cooperating units sign off before the report (default: all, when there are any).")
@click.option("--accept-limit", type=click.IntRange(min=0), metavar="DAYS",
              help="签收时限: working days to acknowledge the issue (default: the lifecycle's).")
def assign(session: Session, title: str, lead: str, due: str, by: str, person: str | None,
           cooperating: tuple[str, ...], description: str, category: str | None, first: str | None,
           direct: str | None, lifecycle: str, countersign: str | None, accept_limit: int | None) -> None:
    """交办: assign a new issue to its lead unit."""
    responsible = {"first": first, "direct": direct} if first or direct else None
    issue = session.flow().assign(
        title, lead=lead, due=parse_due(due) or due, by=_actor(by, person), cooperating=cooperating,
        description=description, category=category, responsible=responsible, lifecycle=lifecycle,
        countersign=countersign, accept_limit=accept_limit,
    )
    show_issue(session, issue)


@command(root, "fire")
@click.argument("issue_id", metavar="ID")
@click.argument("trigger")
@click.option("--by", required=True, metavar="UNIT", help="The unit that fires the trigger.")
@click.option("--person", help="Who at --by does it (经办人).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A data keyword (note=..., rating=5, due=2026-07-01; key:=JSON); repeatable.")
@click.option("--expected-version", type=int, help="Refuse if the issue is no longer at this version.")
def fire(session: Session, issue_id: str, trigger: str, by: str, person: str | None,
         settings: tuple[str, ...], expected_version: int | None) -> None:
    """Fire any TRIGGER of the issue's lifecycle (the named steps below are shortcuts)."""
    data = parse_settings(settings)
    issue = session.flow().fire(issue_id, trigger, by=_actor(by, person), expected_version=expected_version, **data)
    show_issue(session, issue)


def _step(spec: govflow.TransitionSpec, labels: dict[str, dict[str, str]]) -> click.Command:
    """A command for one trigger of the default lifecycle, with an option per data keyword."""
    zh, en = labels["zh"].get(spec.trigger, spec.trigger), labels["en"].get(spec.trigger, spec.trigger)
    roles = " or ".join(spec.roles) + (f", never the {' or '.join(spec.exclude)} unit" if spec.exclude else "")

    def run(session: Session, issue_id: str, by: str, person: str | None, **data: Any) -> None:
        given: dict[str, Any] = {}
        for key, value in data.items():
            if value in (None, ()):
                continue
            given[key] = list(value) if isinstance(value, tuple) else _value(key, value)
        issue = session.flow().fire(issue_id, spec.trigger, by=_actor(by, person), **given)
        show_issue(session, issue)

    run.__doc__ = f"{zh}: {en} (by {roles})."
    params: list[Any] = [
        click.argument("issue_id", metavar="ID"),
        click.option("--by", required=True, metavar="UNIT", help="The unit that takes the step."),
        click.option("--person", help="Who at --by does it (经办人)."),
    ]
    for keyword in spec.accepts:
        required = keyword in spec.requires
        option = "--" + keyword.replace("_", "-")
        params.append(click.option(
            option, keyword, required=required, multiple=keyword in _LISTS,
            help=f"{keyword}{' (required)' if required else ''}"
                 + ("; YYYY-MM-DD or 10wd" if keyword == "due" else "") + ("; repeatable" if keyword in _LISTS else ""),
        ))
    for param in reversed(params):
        run = param(run)
    return command(root, spec.trigger.replace("_", "-"))(run)


def steps() -> list[click.Command]:
    """One command per trigger of the default ``issue-list`` lifecycle (version 2: accept, implement, countersign,
    report, request-suspension, callback, merge, ...). ``attach`` records a file through ``flow.attach``, not here;
    ``govflow fire`` fires any trigger of any lifecycle. A partner step (``take_merged``, taken with ``merge``)
    has no command: it is never fired alone."""
    definition = govflow.LifecycleDefinition.from_dict(govflow.ISSUE_LIST_V2)
    labels = {lang: dict(definition.labels.get(lang, {})) for lang in ("zh", "en")}
    first = {spec.trigger: spec for spec in reversed(definition.transitions)}  # one command per trigger
    skipped = {"attach", *definition.partner_steps}
    return [_step(spec, labels) for trigger, spec in reversed(first.items()) if trigger not in skipped]


@command(root, "list")
@click.option("--state", help="Only issues in this state (assigned, implemented, feedback, ...).")
@click.option("--unit", help="Only issues this unit leads or cooperates on.")
@click.option("--overdue", is_flag=True, help="Only issues past their due date (with the working days late).")
@click.option("--due-before", type=click.DateTime(["%Y-%m-%d"]), help="Only issues due before this date.")
def list_issues(session: Session, state: str | None, unit: str | None, overdue: bool,
                due_before: dt.datetime | None) -> None:
    """List issues, by id."""
    flow, out = session.flow(), session.out
    if overdue:
        late = {o.issue.id: o.working_days for o in flow.overdue(unit)}
        found = [i for i in flow.issues(state=state, unit=unit) if i.id in late]
    else:
        late, found = {}, flow.issues(state=state, unit=unit)
    if due_before is not None:
        found = [i for i in found if i.due < due_before.date()]
    out.emit([{"issue": i, "working_days_late": late.get(i.id)} if overdue else i for i in found])
    columns = [out.pick("编号", "id"), out.pick("标题", "title"), out.pick("状态", "state"),
               out.pick("牵头单位", "lead"), out.pick("期限", "due")]
    if overdue:
        columns.append(out.pick("逾期工作日", "working days late"))
    rows = []
    for i in found:
        row: list[object] = [i.id, i.title, flow.label(i.state, out.lang, i.lifecycle, i.lifecycle_version),
                             i.lead, i.due.isoformat()]
        rows.append([*row, late[i.id]] if overdue else row)
    out.table(columns, rows)
    out.line(out.pick(f"共 {len(found)} 件", f"{len(found)} issues"))


@command(root, "show")
@click.argument("issue_id", metavar="ID")
def show(session: Session, issue_id: str) -> None:
    """An issue and its ledger (台账), labelled in Chinese or English (--lang)."""
    flow, out = session.flow(), session.out
    issue = flow.get(issue_id)
    entries = flow.ledger(issue_id)
    if out.json:
        out.emit({"issue": issue, "ledger": entries})
        return
    show_issue(session, issue)

    def label(name: str | None) -> str:
        return flow.label(name, out.lang, issue.lifecycle, issue.lifecycle_version) if name else "—"

    out.table(
        [out.pick("序号", "seq"), out.pick("时间", "at"), out.pick("操作", "step"), out.pick("状态", "state"),
         out.pick("单位", "unit"), out.pick("内容", "data"), out.pick("哈希", "hash")],
        [[e.seq, e.at.strftime("%Y-%m-%d %H:%M"), label(e.trigger), f"{label(e.from_state)} → {label(e.to_state)}",
          e.actor + (f"/{e.person}" if e.person else ""), json.dumps(dict(e.data), ensure_ascii=False),
          e.hash[:12]] for e in entries],
        title=out.pick("台账", "ledger"),
    )


COMMANDS = [assign, fire, list_issues, show, *steps()]
