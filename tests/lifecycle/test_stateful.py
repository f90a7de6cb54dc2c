"""Stateful property test: random commands against a reference model of ``issue-list`` (version 2).

A hypothesis ``RuleBasedStateMachine`` fires random triggers as random actors
with random (valid and invalid) data, assigns new issues and moves a fake
clock, on every store kind. A small reference model, written from the
lifecycle table and independent of govflow's lifecycle code, predicts the
outcome of every command: the new state and fields, or the exact class of
the error (precedence ``NotFound`` > ``InvalidTransition`` > ``PermissionDenied``
> ``ValidationError``, with a bad ``by`` and a stale ``expected_version``
checked right after the issue is found), and a refused command must write
nothing. After every step every issue is compared with the model (its state, due dates, counters
and the field loop's record: countersigns, suspension and the days suspended, transfers,
escalations, call-backs, reopenings, merges into and out of it (并案: ``merge`` writes the duplicate's step and
the original's ``take_merged`` in one transaction, by ``flow.merge`` or a plain ``fire``; ``take_merged`` fired
alone is refused), and the evidence
attached (``flow.attach``: the files' hashes and how many in the current state)), and the ledger must verify.

``--hypothesis-show-statistics`` lists how often each trigger succeeded or
failed with each error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import govflow
from govflow.testing import FakeClock

from ..conftest import STORES, UNIT_ENTRIES, add_units, open_flow

# -- the reference model ------------------------------------------------------------------

#: Registered units and whether each is a supervisor. INSPECT is a second
#: supervisor so that "a supervisor that leads the issue" is exercised.
UNITS: dict[str, bool] = {
    "OFFICE": True,
    "XIANGYUN": False,
    "BINCHUAN": False,
    "XIAZHUANG": False,
    "INSPECT": True,
}
GHOST = "GHOST"  # never registered
ACTORS = (*UNITS, GHOST)
OPEN = frozenset({"assigned", "implemented", "feedback"})
OPEN2 = OPEN | {"suspended", "returned"}
ACTIVE = frozenset({"assigned", "implemented"})
FINAL = frozenset({"cancelled", "merged"})
CALENDAR = govflow.ChinaCalendar()  # the flow's default calendar ("cn"); the model counts days with it
BOGUS_IDS = ("GF-2026-9999", "GF-1999-0001", "nope")


@dataclasses.dataclass(frozen=True)
class Spec:
    sources: frozenset[str]
    dest: str | None
    roles: frozenset[str]
    exclude: frozenset[str] = frozenset()
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def accepts(self) -> tuple[str, ...]:
        return self.requires + self.optional


def _spec(sources: str | frozenset[str], dest: str | None, roles: str, **kw: Any) -> Spec:
    src = frozenset({sources}) if isinstance(sources, str) else sources
    return Spec(src, dest, frozenset(roles.split()), **kw)


#: The lifecycle table, written out independently of src/govflow/_issue_list.py.
SPECS: dict[str, Spec] = {
    "accept": _spec("assigned", None, "lead"),
    "implement": _spec("assigned", "implemented", "lead", requires=("note",), optional=("evidence",)),
    "report": _spec("implemented", "feedback", "lead", requires=("result",), optional=("evidence",)),
    "verify": _spec("feedback", "verified", "supervisor", exclude=frozenset({"lead"}),
                    optional=("rating", "note")),
    "reject": _spec("feedback", "assigned", "supervisor", exclude=frozenset({"lead"}),
                    requires=("reason",), optional=("due",)),
    "cancel": _spec(OPEN2, "cancelled", "supervisor", requires=("reason",)),
    "reassign": _spec(frozenset({"assigned", "returned"}), "assigned", "supervisor", requires=("new_lead", "reason"),
                      optional=("due",)),
    "request_extension": _spec(frozenset({"assigned", "implemented"}), None, "lead",
                               requires=("due", "reason")),
    "approve_extension": _spec(OPEN, None, "supervisor", optional=("note",)),
    "deny_extension": _spec(OPEN, None, "supervisor", requires=("reason",)),
    # the field loop of version 2
    "return_to_dispatcher": _spec("assigned", "returned", "lead", requires=("reason",)),
    "countersign": _spec(ACTIVE, None, "cooperating", requires=("note",)),
    "decline_countersign": _spec(ACTIVE, None, "cooperating", requires=("reason",)),
    "request_suspension": _spec(ACTIVE, None, "lead", requires=("reason",), optional=("until",)),
    "approve_suspension": _spec(ACTIVE, "suspended", "supervisor", optional=("note",)),
    "deny_suspension": _spec(ACTIVE, None, "supervisor", requires=("reason",)),
    "resume": _spec("suspended", None, "supervisor", optional=("note",)),
    "callback": _spec("verified", None, "supervisor", exclude=frozenset({"lead"}), requires=("result",),
                      optional=("reason", "reopen", "due")),
    "reopen": _spec("verified", "assigned", "supervisor", exclude=frozenset({"lead"}), requires=("reason",),
                    optional=("due",)),
    "merge": _spec(OPEN2, "merged", "supervisor", requires=("into", "reason")),
    "take_merged": _spec(OPEN2 | {"verified"}, None, "supervisor", requires=("merged_issue",), optional=("reason",)),
    "attach": _spec(ACTIVE, None, "supervisor lead cooperating", requires=("sha256", "size", "name"),
                    optional=("kind",)),
}
#: Steps taken only with a step on another issue, never fired by name: ``take_merged`` with ``merge``.
PARTNER_STEPS = frozenset({"take_merged"})
#: ``attach`` once the lead has nothing to do: by the supervisor and the cooperating units only.
ATTACH_LATER = _spec(frozenset({"feedback", "suspended", "returned", "verified"}), None, "supervisor cooperating",
                     requires=("sha256", "size", "name"), optional=("kind",))


def spec_of(trigger: str, state: str) -> Spec | None:
    """The transition ``trigger`` takes from ``state`` (attach has two)."""
    if trigger == "attach" and state in ATTACH_LATER.sources:
        return ATTACH_LATER
    return SPECS.get(trigger)
#: What the effects add to a step's ledger data besides the keywords given.
COMPUTED = {"due", "working_days", "suspended_days", "resumes_to", "unit", "rework", "escalated", "transfers",
            "accept_by"}
CALLBACKS = ("satisfied", "basically_satisfied", "dissatisfied")
#: The main line from each open state (verify and reject share feedback).
MAIN_LINE = {"assigned": ["implement"], "implemented": ["report"], "feedback": ["verify", "reject"]}
#: Triggers fired at random: every real one, plus two that never exist in fire().
ALL_TRIGGERS = (*SPECS, "assign", "frobnicate")
UNKNOWN_KEYWORDS = ("colour", "priority", "by_person")


@dataclasses.dataclass
class Extension:
    due: dt.date
    reason: str
    requested_by: str
    requested_at: dt.datetime


@dataclasses.dataclass
class ModelIssue:
    id: str
    title: str
    state: str
    lead: str
    cooperating: tuple[str, ...]
    due: dt.date
    original_due: dt.date
    created_at: dt.datetime
    updated_at: dt.datetime
    responsible: govflow.Responsible | None = None
    version: int = 1
    rework_count: int = 0
    accepted_at: dt.datetime | None = None
    extension: Extension | None = None
    extension_count: int = 0
    # the field loop
    countersign: str | None = None
    signed: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    handed_at: dt.datetime | None = None
    suspension: tuple[str, dt.date | None] | None = None  # (reason, until) of a pending request
    suspended_on: dt.date | None = None
    suspended_until: dt.date | None = None
    resumes_to: str | None = None
    suspended_days: int = 0
    transfers: int = 0
    escalated: tuple[str, ...] = ()
    callback: str | None = None
    callback_reworks: int = 0
    verified_at: dt.datetime | None = None
    reopens: int = 0
    merged_into: str | None = None
    merged: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    evidence_here: int = 0

    def awaiting(self) -> tuple[str, ...]:
        if self.countersign is None:
            return ()
        unsigned = tuple(u for u in self.cooperating if u not in self.signed and u not in self.declined)
        if self.countersign == "any" and (self.signed or not unsigned):
            return ()
        return unsigned

    def field(self) -> tuple[Any, ...]:
        return (self.countersign, self.signed, self.declined, self.handed_at, self.suspended_on,
                self.suspended_until, self.resumes_to, self.suspended_days, self.transfers, self.escalated,
                self.callback, self.callback_reworks, self.verified_at, self.reopens,
                None if self.suspension is None else self.suspension[1], self.merged_into, self.merged,
                self.evidence, self.evidence_here)


def as_date(value: object) -> dt.date | None:
    """The date a ``due`` value stands for, or None if it is not a valid one."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict) and not value


def _nonblank(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def field_ok(name: str, value: object) -> bool:
    """Whether a data keyword's value parses (effects are checked separately)."""
    if name in ("note", "result", "reason", "new_lead"):
        return _nonblank(value)
    if name == "until":
        return as_date(value) is not None
    if name == "reopen":
        return isinstance(value, bool)
    if name == "evidence":
        return _nonblank(value) or (
            isinstance(value, list | tuple) and all(_nonblank(v) for v in value)
        )
    if name == "rating":
        return type(value) is int and 1 <= value <= 5
    if name == "due":
        return as_date(value) is not None
    if name in ("into", "merged_issue", "name", "kind"):
        return _nonblank(value)
    if name == "sha256":
        return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    if name == "size":
        return type(value) is int and value >= 0
    return True


def ledger_form(name: str, value: object) -> object:
    """The JSON form a parsed keyword takes in the ledger entry."""
    if name == "evidence":
        return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    if name in ("due", "until"):
        parsed = as_date(value)
        assert parsed is not None
        return parsed.isoformat()
    return value


def roles_of(actor: str, issue: ModelIssue) -> set[str]:
    roles = set()
    if UNITS.get(actor, False):
        roles.add("supervisor")
    if actor == issue.lead:
        roles.add("lead")
    if actor in issue.cooperating:
        roles.add("cooperating")
    return roles


def expected_error(
    issue: ModelIssue | None,
    trigger: str,
    actor: str,
    given: dict[str, Any],
    today: dt.date,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    issues: dict[str, ModelIssue] | None = None,
) -> type[govflow.GovflowError] | None:
    """The error class the command must raise, or None if it must succeed.

    ``given`` is the data with None values already dropped. The order of checks
    is the spec's: issue exists -> ``by`` is a unit id -> ``expected_version``
    (if given) -> trigger exists from the state -> role -> effect guard ->
    keywords/required/parsing -> effect validation.
    """
    if issue is None:
        return govflow.NotFound
    if not actor:
        return govflow.ValidationError  # by="" is not a unit id
    if expected_version is not None and expected_version != issue.version:
        return govflow.ConcurrentUpdateError
    spec = spec_of(trigger, issue.state)
    if spec is None or issue.state not in spec.sources:
        return govflow.InvalidTransition
    if trigger in PARTNER_STEPS:
        return govflow.InvalidTransition  # taken only with its partner step on another issue (merge)
    roles = roles_of(actor, issue)
    if not roles & spec.roles or roles & spec.exclude:
        return govflow.PermissionDenied
    if trigger == "accept" and issue.accepted_at is not None:
        return govflow.InvalidTransition
    if trigger == "report" and issue.awaiting():
        return govflow.InvalidTransition
    if trigger == "request_suspension" and issue.suspension is not None:
        return govflow.InvalidTransition
    if trigger in ("approve_suspension", "deny_suspension") and issue.suspension is None:
        return govflow.InvalidTransition
    if trigger == "callback" and issue.callback is not None:
        return govflow.InvalidTransition
    if trigger == "request_extension" and issue.extension is not None:
        return govflow.InvalidTransition
    if trigger in ("approve_extension", "deny_extension") and issue.extension is None:
        return govflow.InvalidTransition
    if any(name not in spec.accepts for name in given):
        return govflow.ValidationError
    if trigger == "approve_extension" and issue.extension is not None and issue.extension.due < today:
        return govflow.ValidationError  # the requested date has passed: deny it and let the unit ask again
    if any(is_missing(given.get(name)) for name in spec.requires):
        return govflow.ValidationError
    if not all(field_ok(name, value) for name, value in given.items()):
        return govflow.ValidationError
    if trigger == "reassign" and (given["new_lead"] == issue.lead or given["new_lead"] not in UNITS):
        return govflow.ValidationError
    if trigger == "reopen" and issue.verified_at is not None and now is not None \
            and now - issue.verified_at > dt.timedelta(days=30):
        return govflow.InvalidTransition
    if trigger in ("reject", "reassign", "reopen") and "due" in given and as_date(given["due"]) < today:  # type: ignore[operator]
        return govflow.ValidationError
    if trigger == "return_to_dispatcher" and today > accept_by(issue):
        return govflow.InvalidTransition
    if trigger in ("countersign", "decline_countersign") and (actor in issue.signed or actor in issue.declined):
        return govflow.InvalidTransition
    if trigger == "request_suspension" and "until" in given and as_date(given["until"]) <= today:  # type: ignore[operator]
        return govflow.ValidationError
    if trigger == "approve_suspension" and issue.suspension is not None and issue.suspension[1] is not None \
            and issue.suspension[1] <= today:
        return govflow.InvalidTransition
    if trigger == "callback":
        result, reopen, due = given["result"], given.get("reopen", False), given.get("due")
        if result not in CALLBACKS or (result == "dissatisfied" and "reason" not in given):
            return govflow.ValidationError
        if not reopen:
            return govflow.ValidationError if due is not None else None
        if result != "dissatisfied" or due is None or as_date(due) < today:  # type: ignore[operator]
            return govflow.ValidationError

    if trigger == "merge":
        # the duplicate cannot repeat itself; the original must be able to take it in (its take_merged)
        into = (issues or {}).get(given["into"])
        if given["into"] == issue.id or into is None or into.state not in SPECS["take_merged"].sources \
                or issue.id in into.merged:
            return govflow.ValidationError
    if trigger == "take_merged" and given["merged_issue"] in (*issue.merged, issue.id):
        return govflow.ValidationError

    if trigger == "request_extension":
        wanted = as_date(given["due"])
        assert wanted is not None
        if issue.extension_count >= 2:  # govflow.open(max_extensions=2), the default
            return govflow.ValidationError
        if today > issue.due or wanted <= issue.due:
            return govflow.ValidationError
    return None


def accept_by(issue: ModelIssue) -> dt.date:
    """The last day of the acceptance limit (1 working day after the issue was handed to the lead)."""
    return govflow.add_working_days(CALENDAR, (issue.handed_at or issue.created_at).date(), 1)


def escalate(issue: ModelIssue) -> None:
    """提级督办 after 3 transfers or 3 reworks, once for each reason."""
    for reason, count in (("transfers", issue.transfers), ("reworks", issue.rework_count)):
        if count >= 3 and reason not in issue.escalated:
            issue.escalated += (reason,)


def apply(issue: ModelIssue, trigger: str, actor: str, given: dict[str, Any], now: dt.datetime) -> None:
    """Apply a successful trigger to the model issue."""
    spec = spec_of(trigger, issue.state)
    assert spec is not None
    today = now.date()
    before = issue.state
    issue.state = spec.dest or issue.state
    issue.version += 1
    issue.updated_at = now
    if trigger == "accept":
        issue.accepted_at = now
    elif trigger == "reject":
        issue.rework_count += 1
        if "due" in given:
            issue.due = as_date(given["due"])  # type: ignore[assignment]
        escalate(issue)
    elif trigger == "reassign":
        issue.handed_at = now
        if "due" in given:
            issue.due = as_date(given["due"])  # type: ignore[assignment]
        escalate(issue)
        issue.lead = given["new_lead"]
        issue.cooperating = tuple(u for u in issue.cooperating if u != issue.lead)
        issue.accepted_at = None
        issue.extension = None  # the old lead's request does not pass to the new lead
        issue.responsible = None  # the people named were the old lead's
    elif trigger == "request_extension":
        issue.extension = Extension(as_date(given["due"]), given["reason"], actor, now)  # type: ignore[arg-type]
    elif trigger == "approve_extension":
        assert issue.extension is not None
        issue.due = issue.extension.due
        issue.extension = None
        issue.extension_count += 1
    elif trigger == "deny_extension":
        issue.extension = None
    elif trigger == "verify":
        issue.verified_at, issue.callback, issue.extension = now, None, None
    elif trigger == "return_to_dispatcher":
        issue.transfers += 1
    elif trigger == "countersign":
        issue.signed += (actor,)
    elif trigger == "decline_countersign":
        issue.declined += (actor,)
    elif trigger == "request_suspension":
        issue.suspension = (given["reason"], as_date(given["until"]) if "until" in given else None)
    elif trigger == "approve_suspension":
        assert issue.suspension is not None
        issue.suspended_on, issue.suspended_until = today, issue.suspension[1]
        issue.resumes_to, issue.suspension = spec_source(issue), None
    elif trigger == "deny_suspension":
        issue.suspension = None
    elif trigger == "resume":
        assert issue.suspended_on is not None and issue.resumes_to is not None
        end = min(today, issue.suspended_until) if issue.suspended_until else today
        days = max(0, govflow.working_days_between(CALENDAR, issue.suspended_on, end))
        if days:
            issue.due = govflow.add_working_days(CALENDAR, issue.due, days)
        issue.suspended_days += days
        issue.state = issue.resumes_to
        issue.suspended_on = issue.suspended_until = issue.resumes_to = None
    elif trigger == "callback":
        issue.callback = given["result"]
        if given.get("reopen"):
            issue.state = "assigned"
            issue.rework_count += 1
            issue.callback_reworks += 1
            issue.due = as_date(given["due"])  # type: ignore[assignment]
            escalate(issue)
    elif trigger == "reopen":
        issue.reopens += 1
        issue.callback = None
        if "due" in given:
            issue.due = as_date(given["due"])  # type: ignore[assignment]
    elif trigger == "merge":
        issue.merged_into, issue.suspension = given["into"], None
    elif trigger == "take_merged":
        issue.merged += (given["merged_issue"],)
    elif trigger == "attach":
        issue.evidence += (given["sha256"],)
        issue.evidence_here += 1
    if issue.state != before or trigger == "verify":
        issue.evidence_here = 0  # evidence counts per state
    if issue.state in FINAL:
        issue.extension = None  # a closed issue has nothing left to extend


def spec_source(issue: ModelIssue) -> str:
    """The state an approved suspension leaves (set before ``apply`` moves the state on)."""
    return issue.before  # type: ignore[attr-defined, no-any-return]


# -- strategies for data ------------------------------------------------------------------

TEXTS = ("整改已完成", "measures taken", "需要更多时间", "x")
BAD_TEXTS: tuple[object, ...] = ("", "   ", 7, ["text"])


def _as_given(data: st.DataObject, day: dt.date) -> object:
    """A date as a date object or as an ISO string."""
    return data.draw(st.sampled_from([day, day.isoformat()]))


def _bad_due(data: st.DataObject, near: dt.date) -> object:
    """A due date that does not parse, or a date before ``near`` (an effect error)."""
    past = near - dt.timedelta(days=data.draw(st.integers(1, 10)))
    return data.draw(
        st.sampled_from([
            _as_given(data, past),
            "2026-02-30",
            "soon",
            dt.datetime.combine(near, dt.time(12), tzinfo=govflow.DEFAULT_ZONE),
            20260301,
        ])
    )


def valid_value(
    data: st.DataObject, name: str, issue: ModelIssue, today: dt.date, others: tuple[str, ...] = ()
) -> object:
    if name == "into":  # mostly another issue; sometimes the issue itself, or none at all
        return data.draw(st.sampled_from([*others, *others, *others, issue.id, BOGUS_IDS[0]]))
    if name == "merged_issue":
        return data.draw(st.sampled_from([*others, BOGUS_IDS[0]]))
    if name == "sha256":
        return hashlib.sha256(data.draw(st.binary(min_size=1, max_size=8))).hexdigest()
    if name == "size":
        return data.draw(st.integers(0, 10**6))
    if name == "name":
        return data.draw(st.sampled_from(["现场照片.jpg", "整改报告.pdf"]))
    if name == "kind":
        return data.draw(st.sampled_from(["photo", "report"]))
    if name == "result" and issue.state == "verified":
        return data.draw(st.sampled_from([*CALLBACKS, *CALLBACKS, "happy"]))
    if name in ("note", "result", "reason"):
        return data.draw(st.sampled_from(TEXTS))
    if name == "evidence":
        return data.draw(st.sampled_from(["photo.jpg", ["a.pdf", "b.pdf"], ("c.png",), []]))
    if name == "rating":
        return data.draw(st.integers(1, 5))
    if name == "due":
        if issue.state in ("feedback", "verified", "returned"):  # reject, callback, reopen, reassign
            return _as_given(data, today + dt.timedelta(days=data.draw(st.integers(0, 30))))
        # request_extension: after the current due date (may still be refused if too late)
        return _as_given(data, issue.due + dt.timedelta(days=data.draw(st.integers(1, 30))))
    if name == "new_lead":
        others = [u for u in UNITS if u != issue.lead]
        return data.draw(st.sampled_from(others))
    if name == "until":
        return _as_given(data, today + dt.timedelta(days=data.draw(st.integers(0, 20))))
    if name == "reopen":
        return data.draw(st.booleans())
    return "value"


def invalid_value(data: st.DataObject, name: str, issue: ModelIssue, today: dt.date) -> object:
    if name in ("into", "merged_issue", "name", "kind"):
        return data.draw(st.sampled_from(BAD_TEXTS))
    if name == "sha256":
        return data.draw(st.sampled_from(["abc", "G" * 64, 5]))
    if name == "size":
        return data.draw(st.sampled_from([-1, True, "3"]))
    if name in ("note", "result", "reason"):
        return data.draw(st.sampled_from(BAD_TEXTS))
    if name == "evidence":
        return data.draw(st.sampled_from(["", [""], 3, ["ok", 4], {"a": "b"}]))
    if name == "rating":
        return data.draw(st.sampled_from([0, 6, -2, True, "3", 4.0]))
    if name == "due":
        near = today if issue.state == "feedback" else issue.due + dt.timedelta(days=1)
        if issue.state != "feedback" and data.draw(st.booleans()):
            return _as_given(data, issue.due)  # not after the current due date
        return _bad_due(data, near)
    if name == "new_lead":
        return data.draw(st.sampled_from([issue.lead, GHOST, "", 5]))
    if name == "until":
        return _bad_due(data, today)
    if name == "reopen":
        return data.draw(st.sampled_from(["yes", 1]))
    return object()


def draw_kwargs(
    data: st.DataObject, trigger: str, issue: ModelIssue | None, today: dt.date, *, chaos: bool,
    others: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Keyword data for ``trigger``: mostly well-formed, sometimes missing, None, bad or unknown."""
    kwargs: dict[str, Any] = {}
    spec = SPECS.get(trigger)
    if spec is not None and issue is not None:
        for name in spec.accepts:
            if name in spec.requires:
                modes = ["valid"] * (2 if chaos else 12) + ["absent", "none", "invalid"]
            else:
                modes = ["absent"] * 3 + ["valid"] * 3 + ["none"] + ["invalid"] * (2 if chaos else 1)
            mode = data.draw(st.sampled_from(modes), label=f"{name} mode")
            if mode == "valid":
                kwargs[name] = valid_value(data, name, issue, today, others)
            elif mode == "invalid":
                kwargs[name] = invalid_value(data, name, issue, today)
            elif mode == "none":
                kwargs[name] = None
    if data.draw(st.integers(0, 9 if chaos else 29), label="extra keyword?") == 0:
        extra = data.draw(st.sampled_from((*UNKNOWN_KEYWORDS, "rating", "note", "due", "new_lead")))
        value = data.draw(st.sampled_from(["v", 3, None]))
        kwargs.setdefault(extra, value)
    return kwargs


# -- the state machine --------------------------------------------------------------------

START = "2026-03-02T09:00:00+08:00"


class LifecycleMachine(RuleBasedStateMachine):
    """Drives one flow and the reference model side by side."""

    store_kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="govflow-stateful-"))
        # No tick: the clock moves only in the advance_* rules, so "today" is known exactly.
        self.clock = FakeClock(START)
        self.flow = open_flow(self.store_kind, self.tmp, self.clock)
        add_units(self.flow)
        self.flow.add_unit("INSPECT", "州督查室", level="department", supervisor=True)
        self.issues: dict[str, ModelIssue] = {}
        self.counters: dict[str, int] = {}
        self.ledger_len = UNIT_ENTRIES + 1  # one registration entry per unit, INSPECT's included

    def teardown(self) -> None:
        self.flow.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers

    @property
    def now(self) -> dt.datetime:
        return self.clock.now

    @property
    def today(self) -> dt.date:
        return self.clock.now.date()

    def _snapshot(self, issue_id: str | None) -> tuple[Any, ...]:
        got = self.flow.store.load(issue_id) if issue_id else None
        head = self.flow.store.chain_head()
        return (None if got is None else (got.state, got.version, got)), head, len(self.flow.ledger())

    def _expect_refusal(
        self, error: type[govflow.GovflowError], issue_id: str | None, call: Any
    ) -> None:
        before = self._snapshot(issue_id)
        with pytest.raises(govflow.GovflowError) as caught:
            call()
        # The exact class, not a subclass or a sibling: the precedence is part of the contract.
        assert type(caught.value) is error, f"expected {error.__name__}, got {caught.value!r}"
        assert self._snapshot(issue_id) == before, "a refused command wrote something"

    # -- rules

    @initialize()
    def first_issue(self) -> None:
        self._assign("OFFICE", "整治乱搭乱建", "XIANGYUN", self.today + dt.timedelta(days=10),
                     ["XIAZHUANG"], None)

    @rule(data=st.data())
    def assign(self, data: st.DataObject) -> None:
        actor = data.draw(st.sampled_from(["OFFICE"] * 6 + ["INSPECT", "XIANGYUN", GHOST]), label="by")
        title = data.draw(st.sampled_from(["整治违建", "Fix the road"] * 4 + ["", "  "]), label="title")
        lead = data.draw(
            st.sampled_from(["XIANGYUN", "BINCHUAN", "XIAZHUANG"] * 3 + ["OFFICE", "INSPECT", GHOST]),
            label="lead",
        )
        offset = data.draw(st.integers(-3, 40), label="due offset")
        due: object = _as_given(data, self.today + dt.timedelta(days=offset))
        if data.draw(st.integers(0, 14), label="bad due?") == 0:
            due = data.draw(st.sampled_from(["soon", "2026-02-30", self.now]))
        coop = data.draw(st.lists(st.sampled_from(ACTORS), max_size=2), label="cooperating")
        responsible = data.draw(st.sampled_from([None, {"first": "李四", "direct": "王五"}]))
        self._assign(actor, title, lead, due, coop, responsible)

    def _assign(
        self, actor: str, title: str, lead: str, due: object, coop: list[str], responsible: Any
    ) -> None:
        kwargs = {"lead": lead, "due": due, "by": actor, "cooperating": coop,
                  "responsible": responsible}
        due_date = as_date(due)
        error: type[govflow.GovflowError] | None = None
        if not UNITS.get(actor, False):
            error = govflow.PermissionDenied
        elif (
            not title.strip()
            or lead not in UNITS
            or due_date is None
            or due_date < self.today
            or any(u not in UNITS or u == lead for u in coop)
        ):
            error = govflow.ValidationError
        event(f"assign -> {error.__name__ if error else 'ok'}")
        if error is not None:
            self._expect_refusal(error, None, lambda: self.flow.assign(title, **kwargs))
            return
        got = self.flow.assign(title, **kwargs)
        scope = f"GF-{self.now.year}-"
        self.counters[scope] = self.counters.get(scope, 0) + 1
        assert got.id == f"{scope}{self.counters[scope]:04d}"
        assert due_date is not None
        self.issues[got.id] = ModelIssue(
            id=got.id, title=title, state="assigned", lead=lead,
            cooperating=tuple(dict.fromkeys(coop)), due=due_date, original_due=due_date,
            created_at=self.now, updated_at=self.now,
            responsible=None if responsible is None else govflow.Responsible(**responsible),
            countersign="all" if coop else None,
        )
        self.ledger_len += 1
        entry = self.flow.ledger(got.id)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state, entry.actor, entry.at) == (
            "assign", None, "assigned", actor, self.now
        )

    @rule(data=st.data())
    def fire_anything(self, data: st.DataObject) -> None:
        """Any trigger, any actor, any issue id (or an unknown one), sloppy data."""
        ids = sorted(self.issues)
        known = st.sampled_from(ids) if ids else st.nothing()
        issue_id = data.draw(st.one_of(known, known, known, st.sampled_from(BOGUS_IDS)), label="issue")
        trigger = data.draw(st.sampled_from(ALL_TRIGGERS), label="trigger")
        actor = data.draw(st.sampled_from(["@lead", "@coop", *ACTORS, ""]), label="by")
        self._fire(data, issue_id, trigger, actor, chaos=True)

    @precondition(lambda self: any(m.state in OPEN for m in self.issues.values()))
    @rule(data=st.data())
    def fire_main_line(self, data: st.DataObject) -> None:
        """The main line (implement, report, verify or reject), usually by the right unit."""
        issue_id = data.draw(
            st.sampled_from(sorted(i for i, m in self.issues.items() if m.state in OPEN)), label="issue"
        )
        model = self.issues[issue_id]
        trigger = data.draw(st.sampled_from(MAIN_LINE[model.state]), label="trigger")
        if SPECS[trigger].roles == {"lead"}:
            right = model.lead
        else:
            right = next(u for u, sup in UNITS.items() if sup and u != model.lead)
        actor = data.draw(st.sampled_from([right] * 5 + ["@coop", "OFFICE", GHOST]), label="by")
        self._fire(data, issue_id, trigger, actor, chaos=False)

    @precondition(lambda self: bool(self.issues))
    @rule(data=st.data())
    def fire_plausible(self, data: st.DataObject) -> None:
        """A trigger of the issue's state, usually by the right role, usually with good data."""
        open_ids = sorted(i for i, m in self.issues.items() if m.state in OPEN2 | {"verified"})
        # Issues further along get more weight, so verify and reject are reached often.
        later = [i for i in open_ids if self.issues[i].state != "assigned"]
        issue_id = data.draw(st.sampled_from(open_ids + later or sorted(self.issues)), label="issue")
        state = self.issues[issue_id].state
        triggers = [t for t, s in SPECS.items() if state in s.sources] or list(ALL_TRIGGERS)
        if self.issues[issue_id].extension is not None:  # a pending request is usually decided
            triggers += ["approve_extension", "deny_extension"] * 4
        trigger = data.draw(st.sampled_from(triggers), label="trigger")
        spec = SPECS.get(trigger)
        if spec and "lead" in spec.roles:
            right = ["@lead"] * 4
        elif spec and "cooperating" in spec.roles:
            right = ["@coop"] * 4
        else:
            right = ["OFFICE"] * 3 + ["INSPECT"]
        actor = data.draw(st.sampled_from([*right, "@coop", "XIANGYUN", GHOST]), label="by")
        self._fire(data, issue_id, trigger, actor, chaos=False)

    def _fire(self, data: st.DataObject, issue_id: str, trigger: str, actor: str, *, chaos: bool) -> None:
        model = self.issues.get(issue_id)
        if actor == "@lead":
            actor = model.lead if model else "XIANGYUN"
        elif actor == "@coop":
            actor = model.cooperating[0] if model and model.cooperating else "XIAZHUANG"
        others = tuple(i for i in sorted(self.issues) if i != issue_id)
        kwargs = draw_kwargs(data, trigger, model, self.today, chaos=chaos, others=others)
        given = {k: v for k, v in kwargs.items() if v is not None}
        # fire(expected_version=...): mostly left out; sometimes current, sometimes stale.
        version = model.version if model else 1
        expected_version = data.draw(
            st.sampled_from([None] * (4 if chaos else 14) + [version, version - 1] + [version + 1] * chaos),
            label="expected_version",
        )
        if expected_version is not None:
            kwargs["expected_version"] = expected_version
        # By a unit id, or an Actor naming the person acting for the unit.
        person = data.draw(st.sampled_from([None, None, "张三"]), label="person")
        by: str | govflow.Actor = actor if person is None or not actor else govflow.Actor(actor, person)
        error = expected_error(model, trigger, actor, given, self.today, expected_version, self.now, self.issues)
        note(f"{trigger} on {issue_id} by {by!r} with {kwargs!r} -> {error and error.__name__}")
        event(f"{trigger} -> {error.__name__ if error else 'ok'}")  # --hypothesis-show-statistics
        if trigger == "request_extension" and model and self.today > model.due:
            event(f"request_extension after the due date -> {error and error.__name__}")
        if error is not None:
            self._expect_refusal(
                error, issue_id if model else None,
                lambda: self.flow.fire(issue_id, trigger, by=by, **kwargs),
            )
            return
        assert model is not None
        from_state = model.state
        got = self.flow.fire(issue_id, trigger, by=by, **kwargs)
        model.before = from_state  # type: ignore[attr-defined]
        apply(model, trigger, actor, given, self.now)
        self.ledger_len += 1
        assert got.state == model.state and got.version == model.version
        entry = self.flow.ledger(issue_id)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state, entry.actor, entry.at) == (
            trigger, from_state, model.state, actor, self.now
        )
        assert entry.issue_seq == model.version and entry.person == person
        expected = {k: ledger_form(k, v) for k, v in given.items()}
        assert {k: v for k, v in entry.data.items() if k in expected} == expected
        assert set(entry.data) - set(expected) <= COMPUTED
        if trigger == "merge":
            self._took_in(issue_id, given, actor, person)

    def _took_in(self, duplicate: str, given: dict[str, Any], actor: str, person: str | None) -> None:
        """The original's side of a merge (its take_merged step), written with the duplicate's."""
        original = self.issues[given["into"]]
        original.before = original.state  # type: ignore[attr-defined]
        taken = {"merged_issue": duplicate, "reason": given["reason"]}
        apply(original, "take_merged", actor, taken, self.now)
        self.ledger_len += 1
        entry = self.flow.ledger(original.id)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state, entry.actor, entry.person, entry.at) == (
            "take_merged", original.state, original.state, actor, person, self.now
        )
        assert entry.data == taken and entry.seq == self.flow.ledger(duplicate)[-1].seq + 1
        event("merge -> both steps")

    @precondition(lambda self: len(self.issues) > 1)
    @rule(data=st.data())
    def merge_duplicate(self, data: st.DataObject) -> None:
        """并案 by flow.merge or a plain fire: mostly an open issue into another open or verified one."""
        ids = sorted(self.issues)
        duplicate = data.draw(st.sampled_from(ids), label="duplicate")
        into = data.draw(st.sampled_from([i for i in ids if i != duplicate] * 4 + [duplicate, BOGUS_IDS[0]]),
                         label="into")
        actor = data.draw(st.sampled_from(["OFFICE"] * 4 + ["INSPECT", "XIANGYUN", GHOST]), label="by")
        reason = data.draw(st.sampled_from(["同一问题重复反映"] * 6 + ["", "  "]), label="reason")
        person = data.draw(st.sampled_from([None, "张三"]), label="person")
        by: str | govflow.Actor = actor if person is None else govflow.Actor(actor, person)
        by_name = data.draw(st.booleans(), label="flow.merge?")
        model = self.issues[duplicate]
        given = {"into": into, **({"reason": reason} if reason else {})}
        error = expected_error(model, "merge", actor, given, self.today, None, self.now, self.issues)
        note(f"merge {duplicate} into {into} by {by!r} ({'flow.merge' if by_name else 'fire'}) -> {error}")
        event(f"merge ({'flow.merge' if by_name else 'fire'}) -> {error.__name__ if error else 'ok'}")

        def command() -> govflow.Issue:
            if by_name:
                return self.flow.merge(duplicate, into=into, by=by, reason=reason)
            return self.flow.fire(duplicate, "merge", by=by, into=into, reason=reason)

        if error is not None:
            before = self._snapshot(into if into in self.issues else None)
            self._expect_refusal(error, duplicate, command)
            assert self._snapshot(into if into in self.issues else None) == before
            return
        from_state = model.state
        got = command()
        model.before = from_state  # type: ignore[attr-defined]
        apply(model, "merge", actor, given, self.now)
        self.ledger_len += 1
        assert (got.state, got.version) == ("merged", model.version)
        entry = self.flow.ledger(duplicate)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state, entry.data) == (
            "merge", from_state, "merged", given)
        self._took_in(duplicate, given, actor, person)

    @precondition(lambda self: bool(self.issues))
    @rule(data=st.data())
    def attach_file(self, data: st.DataObject) -> None:
        """佐证材料 by flow.attach: the file stored, its hash, size and name in the ledger."""
        issue_id = data.draw(st.sampled_from([*sorted(self.issues), BOGUS_IDS[0]]), label="issue")
        model = self.issues.get(issue_id)
        actor = data.draw(st.sampled_from(["@lead", "@coop", "OFFICE", "BINCHUAN", GHOST]), label="by")
        if actor == "@lead":
            actor = model.lead if model else "XIANGYUN"
        elif actor == "@coop":
            actor = model.cooperating[0] if model and model.cooperating else "XIAZHUANG"
        content = data.draw(st.sampled_from([b"photo-1", "照片".encode(), bytes(range(7)), b""]), label="file")
        name = data.draw(st.sampled_from(["现场照片.jpg"] * 5 + ["", " "]), label="name")
        kind = data.draw(st.sampled_from([None, "photo"]), label="kind")
        given: dict[str, Any] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content), "name": name}
        if kind is not None:
            given["kind"] = kind
        # The file is read first: an empty one is refused before the issue is looked up.
        error = govflow.ValidationError if not content else expected_error(
            model, "attach", actor, given, self.today, None, self.now, self.issues)
        event(f"attach -> {error.__name__ if error else 'ok'}")
        note(f"attach {content!r} to {issue_id} by {actor} -> {error}")
        if error is not None:
            self._expect_refusal(error, issue_id if model else None,
                                 lambda: self.flow.attach(issue_id, content, by=actor, name=name, kind=kind))
            return
        assert model is not None
        model.before = model.state  # type: ignore[attr-defined]
        from_state = model.state
        got = self.flow.attach(issue_id, content, by=actor, name=name, kind=kind)
        apply(model, "attach", actor, given, self.now)
        self.ledger_len += 1
        assert (got.state, got.version) == (model.state, model.version)
        entry = self.flow.ledger(issue_id)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state, entry.data) == ("attach", from_state, from_state,
                                                                               given)
        assert self.flow.evidence(given["sha256"]) == content

    @rule(minutes=st.integers(0, 6 * 24 * 60))
    def advance_clock(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @precondition(lambda self: any(m.due >= self.today for m in self.issues.values()))
    @rule(data=st.data())
    def advance_past_a_due_date(self, data: st.DataObject) -> None:
        """Jump to just after some issue's due date, so late extension requests happen."""
        due = data.draw(st.sampled_from(sorted({m.due for m in self.issues.values() if m.due >= self.today})))
        days = (due - self.today).days + data.draw(st.integers(0, 2))
        self.clock.advance(days=days, minutes=data.draw(st.integers(0, 12 * 60)))

    # -- invariants

    @invariant()
    def issues_match_model(self) -> None:
        stored = self.flow.issues()
        assert [i.id for i in stored] == sorted(self.issues)
        for got in stored:
            m = self.issues[got.id]
            ext = None if got.extension is None else Extension(
                got.extension.due, got.extension.reason, got.extension.requested_by,
                got.extension.requested_at,
            )
            actual = (got.state, got.version, got.rework_count, got.lead, got.cooperating, got.due,
                      got.original_due, ext, got.extension_count, got.accepted_at, got.updated_at,
                      got.created_at, got.title, got.responsible)
            wanted = (m.state, m.version, m.rework_count, m.lead, m.cooperating, m.due,
                      m.original_due, m.extension, m.extension_count, m.accepted_at, m.updated_at,
                      m.created_at, m.title, m.responsible)
            assert actual == wanted, got.id
            assert field_of(got) == m.field(), got.id
            assert len(self.flow.ledger(got.id)) == m.version
            assert self.flow.get(got.id) == got

    @invariant()
    def ledger_verifies(self) -> None:
        assert len(self.flow.ledger()) == self.ledger_len
        check = self.flow.verify_ledger()
        assert check.entries == self.ledger_len
        assert check.issues == len(self.issues)


def field_of(issue: govflow.Issue) -> tuple[Any, ...]:
    """What the model keeps of an issue's field record, in :meth:`ModelIssue.field`'s order."""
    f = issue.field or govflow.FieldState()
    return (f.countersign, f.signed, f.declined, f.handed_at, f.suspended_on, f.suspended_until, f.resumes_to,
            f.suspended_days, f.transfers, f.escalated, f.callback, f.callback_reworks, f.verified_at, f.reopens,
            None if f.suspension is None else f.suspension.until, f.merged_into, f.merged, f.evidence,
            f.evidence_here)


SETTINGS = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _machine_for(kind: str) -> type[LifecycleMachine]:
    machine = type(f"LifecycleMachine_{kind}", (LifecycleMachine,), {"store_kind": kind})
    machine.TestCase.settings = SETTINGS
    return machine


# One TestCase per store kind of conftest.STORES: TestLifecycle_memory, TestLifecycle_sqlite, ...
for _kind in STORES:
    globals()[f"TestLifecycle_{_kind}"] = _machine_for(_kind).TestCase
