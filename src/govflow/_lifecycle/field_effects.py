"""The effects of the field loop (``issue-list`` version 2): 签收时限, 会签, 挂起/恢复, 退回交办/转办,
提级督办, 回访, 并案 and 佐证材料.

Each effect reads the issue and the step's data and writes :class:`~govflow.FieldState` changes (and the
issue's own fields); whatever it computes (a due date moved on, an escalation) it also writes into the
step's ledger data, so the issue can be replayed from its entries. A refusal raises :class:`Refused`
(turned into :class:`~govflow.InvalidTransition`) or :class:`ValidationError`; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._core.errors import ValidationError
from .._core.field import CALLBACK_RESULTS, EMPTY, FieldState, SuspensionRequest
from .._core.model import Issue, Unit
from .._core.workdays import Calendar, CalendarError, Weekdays, add_working_days, working_days_between
from .effects import Effect, Partner, Refused, Work, set_due
from .fields import iso_date

if TYPE_CHECKING:  # the definition module reads DEFAULT_SETTINGS from here
    from .definition import LifecycleDefinition

__all__ = ["DEFAULT_SETTINGS", "FIELD_EFFECTS", "accept_by", "accept_due", "default_accept_limit", "field_of",
           "has_acceptance"]

#: The field loop's settings a lifecycle definition may change (``settings``): after how many transfers
#: or reworks an issue is escalated one level, and for how many days after verification it may be reopened.
DEFAULT_SETTINGS: Final[Mapping[str, int]] = {
    # Working days after assignment (or reassignment) within which the lead accepts (签收时限); 0: no limit
    # (no ``accept_overdue`` step; a misdirected issue may be returned until it is accepted).
    "accept_limit": 0,
    "escalate_after_transfers": 3,
    "escalate_after_reworks": 3,
    "reopen_days": 30,
}


def field_of(issue: Issue) -> FieldState:
    """The issue's field record (the shared empty one when it has none)."""
    return issue.field if issue.field is not None else EMPTY


def has_acceptance(definition: LifecycleDefinition) -> bool:
    """Whether a lifecycle has an acceptance step (签收: a transition with the effect ``record_acceptance``)."""
    return any("record_acceptance" in spec.effects for spec in definition.transitions)


def default_accept_limit(definition: LifecycleDefinition) -> int:
    """The acceptance limit (签收时限, working days) a lifecycle holds an issue without one of its own to: its
    ``accept_limit`` setting when it has an acceptance step (:func:`has_acceptance`), else 0 (none)."""
    if not has_acceptance(definition):
        return 0
    return int(definition.settings.get("accept_limit", DEFAULT_SETTINGS["accept_limit"]))


def accept_due(issue: Issue, calendar: Calendar, default_limit: int) -> dt.date:
    """The last day the current lead may accept (签收) the issue: its acceptance limit in working days
    after the day it was handed to the lead (assignment or reassignment)."""
    state = field_of(issue)
    start = (state.handed_at or issue.created_at).date()
    limit = state.accept_limit if state.accept_limit is not None else default_limit
    return add_working_days(calendar, start, limit)


def accept_by(calendar: Calendar, handed: dt.date, limit: int) -> str | None:
    """The last day (ISO) to accept an issue handed to its lead on ``handed`` within its own acceptance limit of
    ``limit`` working days; None without one (0). Written into the ``assign`` and ``reassign`` entries, where
    the period facts' 及时签收率 reads it. A year the calendar has no schedule for is counted in weekdays
    (as the facts count ``ScoringPolicy.accept_within``)."""
    if not limit:
        return None
    try:
        return iso_date(add_working_days(calendar, handed, limit))  # one string per day, shared by its issues
    except CalendarError:
        return iso_date(add_working_days(Weekdays(), handed, limit))


def _current(work: Work) -> FieldState:
    found = work.changes.get("field")
    return found if isinstance(found, FieldState) else field_of(work.issue)


def _update(work: Work, **changes: Any) -> FieldState:
    new = attrs.evolve(_current(work), **changes)
    work.changes["field"] = new
    return new


def _setting(work: Work, name: str) -> int:
    return int(work.settings.get(name, DEFAULT_SETTINGS[name]))


# -- 签收时限 and 转办 ---------------------------------------------------------------------------


def _hand_over(work: Work) -> None:
    # The new lead's acceptance clock starts now. An issue with a limit of its own records until when (the
    # facts' 及时签收率); the facts count the lifecycle's setting from the lifecycle.
    state = _update(work, handed_at=work.now, accept_overdue=False)
    if work.recorded is None and state.accept_limit:
        last = accept_by(work.calendar, work.now.date(), state.accept_limit)
        if last is not None:
            work.values["accept_by"] = last


def _return(work: Work) -> None:
    issue = work.issue
    limit = _setting(work, "accept_limit")
    if field_of(issue).accept_limit is None and not limit:
        if issue.accepted_at is not None:
            raise Refused("the issue was accepted (签收); ask the office to reassign it instead")
    elif work.now.date() > (last := accept_due(issue, work.calendar, limit)):
        raise Refused(f"the acceptance limit (签收时限) ended on {last.isoformat()}; only within it may the "
                      "lead return a misdirected issue")
    state = _update(work, transfers=field_of(issue).transfers + 1)
    work.values["transfers"] = state.transfers


def _escalate(work: Work) -> None:
    """提级督办: after enough transfers or reworks, the parent of the supervising office takes the issue over
    (once for each reason)."""
    issue, state = work.issue, _current(work)
    rework_count = work.changes.get("rework_count", issue.rework_count)
    reasons = [
        reason for reason, count, limit in (
            ("transfers", state.transfers, _setting(work, "escalate_after_transfers")),
            ("reworks", rework_count, _setting(work, "escalate_after_reworks")),
        ) if limit and count >= limit and reason not in state.escalated
    ]
    if not reasons:
        return
    current = state.office or work.actor.unit
    recorded = work.recorded.get("escalated") if work.recorded is not None else None
    if isinstance(recorded, Mapping) and isinstance(recorded.get("office"), str):
        office = recorded["office"]  # a replay: the office the entry says, whatever the setting is now
    else:
        office = _escalation_office(work, current)
    _update(work, escalated=state.escalated + tuple(reasons), office=office)
    # Counted for the lead the issue had when it was escalated (the new lead, on a reassignment).
    lead = work.changes.get("lead", issue.lead)
    work.values["escalated"] = {"reasons": reasons, "office": office, "unit": lead}


def _escalation_office(work: Work, current: str) -> str:
    """The office that takes the issue over from ``current`` by the deployment's ``escalate_to``."""
    target, unit = work.escalate_to, work.units(current)
    if target is None or target == "parent":
        return unit.parent if unit is not None and unit.parent is not None else current
    found = target(unit) if callable(target) and unit is not None else current if callable(target) else target
    office = found.id if isinstance(found, Unit) else found
    if not isinstance(office, str) or work.units(office) is None:
        raise ValidationError(
            "escalate_to", f"提级督办 from {current} leads to {office!r}, which is no registered unit",
            "'parent', the id of a registered unit, or a callable mapping a unit to a registered unit",
            work.issue.id)
    return office


# -- 会签 ------------------------------------------------------------------------------------------


def _cooperating_turn(work: Work) -> FieldState:
    state = _current(work)
    unit = work.actor.unit
    if unit in state.signed or unit in state.declined:
        raise Refused(f"{unit} has already {'signed' if unit in state.signed else 'declined'} (会签)")
    return state


def _countersign(work: Work) -> None:
    state = _cooperating_turn(work)
    _update(work, signed=(*state.signed, work.actor.unit))


def _decline_countersign(work: Work) -> None:
    state = _cooperating_turn(work)
    _update(work, declined=(*state.declined, work.actor.unit))


def _countersigned(issue: Issue) -> str | None:
    waiting = field_of(issue).awaiting_countersign(issue.cooperating)
    if not waiting:
        return None
    return f"waiting for the countersign (会签) of {', '.join(waiting)}"


# -- 挂起 / 恢复 ----------------------------------------------------------------------------------


def _no_suspension_pending(issue: Issue) -> str | None:
    pending = field_of(issue).suspension
    return None if pending is None else f"a suspension asked by {pending.requested_by} is already pending"


def _suspension_pending(issue: Issue) -> str | None:
    return None if field_of(issue).suspension is not None else "no suspension request is pending"


def _request_suspension(work: Work) -> None:
    until = work.values.get("until")
    if until is not None and until <= work.now.date():
        raise ValidationError("until", f"{until.isoformat()} is not after today",
                              f"a date after {work.now.date().isoformat()}, or None (until resumed)", work.issue.id)
    request = SuspensionRequest(work.values["reason"], work.actor.unit, work.now, until)
    _update(work, suspension=request)


def _approve_suspension(work: Work) -> None:
    request = field_of(work.issue).suspension
    assert request is not None  # guarded
    if request.until is not None and request.until <= work.now.date():
        raise Refused(f"the requested suspension until {request.until.isoformat()} has passed; deny it")
    _update(work, suspension=None, suspended_on=work.now.date(), suspended_until=request.until,
            resumes_to=work.issue.state)


def _deny_suspension(work: Work) -> None:
    _update(work, suspension=None)


def _resume(work: Work) -> None:
    """恢复: back to the state the issue was suspended in; the due date moves on by the working days spent."""
    issue, state = work.issue, field_of(work.issue)
    assert state.suspended_on is not None and state.resumes_to is not None
    end = work.now.date()
    if state.suspended_until is not None and state.suspended_until < end:
        end = state.suspended_until  # a late sweep does not lengthen the suspension
    days = max(0, working_days_between(work.calendar, state.suspended_on, end))
    due = add_working_days(work.calendar, issue.due, days) if days else issue.due
    _update(work, suspended_on=None, suspended_until=None, resumes_to=None,
            suspended_days=state.suspended_days + days)
    work.changes["state"] = state.resumes_to
    work.changes["due"] = due
    work.values.update(due=due, suspended_days=days, resumes_to=state.resumes_to, unit=issue.lead)


def _suspended(issue: Issue) -> str | None:
    return None if field_of(issue).suspended else "the issue is not suspended"


# -- 回访, reopening and verification ---------------------------------------------------------------


def _record_verification(work: Work) -> None:
    _update(work, verified_at=work.now, callback=None, evidence_here=0)
    work.changes["extension"] = None  # verified: nothing left to extend (as in a final state)


def _no_callback_yet(issue: Issue) -> str | None:
    found = field_of(issue).callback
    return None if found is None else f"the call-back (回访) of this verification was recorded already: {found}"


def _callback(work: Work) -> None:
    values, issue = work.values, work.issue
    result = values["result"]
    if result not in CALLBACK_RESULTS:
        raise ValidationError("result", f"got {result!r}", ", ".join(CALLBACK_RESULTS), issue.id)
    values["unit"] = issue.lead  # the unit the call-back counts for in the period facts
    reopen = values.get("reopen", False)
    if not isinstance(reopen, bool):
        raise ValidationError("reopen", f"got {reopen!r}", "True or False", issue.id)
    if result == "dissatisfied" and values.get("reason") is None:
        raise ValidationError("reason", "a dissatisfied call-back needs its reason", "a non-empty string", issue.id)
    if not reopen:
        if values.get("due") is not None:
            raise ValidationError("due", "only a call-back that reopens takes a new due date", "no due", issue.id)
        _update(work, callback=result)
        return
    if result != "dissatisfied":
        raise ValidationError("reopen", f"a {result} call-back cannot reopen the issue",
                              "reopen=True only with result='dissatisfied'", issue.id)
    if values.get("due") is None:
        raise ValidationError("due", "发回重办 needs a new due date", "a date or govflow.working_days(n)", issue.id)
    state = _update(work, callback=result, callback_reworks=field_of(issue).callback_reworks + 1)
    work.changes["state"] = work.initial
    work.changes["rework_count"] = issue.rework_count + 1
    set_due(work)
    values["rework"] = state.callback_reworks
    _escalate(work)


def _reopen(work: Work) -> None:
    state = field_of(work.issue)
    days = _setting(work, "reopen_days")
    if state.verified_at is not None and work.now - state.verified_at > dt.timedelta(days=days):
        raise Refused(f"verified on {state.verified_at.date().isoformat()}: an issue may be reopened within "
                      f"{days} days of its verification")
    _update(work, reopens=state.reopens + 1, callback=None)
    set_due(work)


# -- 并案 ------------------------------------------------------------------------------------------


def _merge_into(work: Work) -> None:
    into = work.values["into"]
    if into == work.issue.id:
        raise ValidationError("into", "an issue cannot be merged into itself", "the id of another issue",
                              work.issue.id)
    _update(work, merged_into=into, suspension=None)


def _take_merged(work: Work) -> None:
    state = _current(work)
    other = work.values["merged_issue"]
    if other in state.merged or other == work.issue.id:
        raise ValidationError("merged_issue", f"{other!r} is merged here already", "another issue's id",
                              work.issue.id)
    _update(work, merged=(*state.merged, other))


# -- 佐证材料 ------------------------------------------------------------------------------------


def _record_evidence(work: Work) -> None:
    state = _current(work)
    _update(work, evidence=(*state.evidence, work.values["sha256"]), evidence_here=state.evidence_here + 1)


#: The field loop's effects, by name (merged into :data:`govflow._lifecycle.effects.EFFECTS`).
FIELD_EFFECTS: Final[Mapping[str, Effect]] = {
    "hand_over": Effect(_hand_over),
    "return_to_dispatcher": Effect(_return),
    "escalate": Effect(_escalate),
    "countersign": Effect(_countersign),
    "decline_countersign": Effect(_decline_countersign),
    "require_countersign": Effect(lambda work: None, _countersigned),
    "request_suspension": Effect(_request_suspension, _no_suspension_pending, needs=("reason",), uses="until"),
    "approve_suspension": Effect(_approve_suspension, _suspension_pending),
    "deny_suspension": Effect(_deny_suspension, _suspension_pending),
    "resume": Effect(_resume, _suspended),
    "record_verification": Effect(_record_verification),
    "callback": Effect(_callback, _no_callback_yet, needs=("result",)),
    "reopen": Effect(_reopen, uses="due"),
    # The issue merged into takes the duplicate in (take_merged) in the same transaction, however fired.
    "merge_into": Effect(_merge_into, needs=("into",),
                         partner=Partner("into", "take_merged", "merged_issue", carry=("reason",))),
    "take_merged": Effect(_take_merged, needs=("merged_issue",)),
    "record_evidence": Effect(_record_evidence, needs=("sha256", "size", "name")),
}
