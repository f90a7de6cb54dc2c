"""The field loop on :class:`govflow.Govflow`: 会签, 挂起/恢复, 退回交办, 回访, 重新打开, 并案 and 佐证材料
by name, the acceptance limit and automatic resumes in the sweep, and evidence files.

Every named step is ``fire`` with the trigger of that name: what it does is the lifecycle's (``issue-list``
version 2, or a deployment's own), not this module's. A step whose effect names a partner (``merge``: the
issue it repeats takes it in) writes both issues in one transaction, by ``fire`` or by name;
:meth:`FieldMixin.attach` stores the file first. A mixin of the
facade, kept apart to keep each module readable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import attrs

from .._core.checkpoint import Checkpoint
from .._core.clock import in_zone
from .._core.errors import InvalidTransition, LedgerCorrupted, ValidationError
from .._core.events import DeadlineEvent
from .._core.field import COUNTERSIGN_MODES, FieldState
from .._core.ledger import LedgerCheck, LedgerDraft
from .._core.model import Actor, Issue, LedgerEntry
from .._core.text import check_text
from .._core.workdays import WorkingDays
from .._deadlines.calendar import CalendarError
from .._lifecycle.effects import EscalateTo, Partner
from .._lifecycle.field_effects import accept_by, accept_due, default_accept_limit, field_of, has_acceptance
from .._lifecycle.fields import parse_actor
from .._plugins.blobs import BlobStore, sha256_of
from .._stores.facts import CALLBACK_COUNTS, UnitFacts
from .._stores.protocol import IssueQuery, UnitOfWork
from .deadlines import SYSTEM_ACTOR
from .steps import ActorLike

if TYPE_CHECKING:
    from .._lifecycle.machine import Lifecycle, LifecycleDefinition
    from .._plugins.manager import Plugins
    from .._plugins.registries import Calendar
    from .._stores.protocol import Store

__all__ = ["FieldMixin", "WithPartners"]

# How far back the sweep looks for assignments not yet accepted (calendar days beyond the limit).
_ACCEPT_LOOKBACK = dt.timedelta(days=30)
_MAX_FILE = 256 * 1024 * 1024


class FieldMixin:
    """The field loop of :class:`govflow.Govflow`, which supplies the attributes below."""

    _store: Store
    _plugins: Plugins
    _calendar: Calendar
    _lifecycles: dict[tuple[str, int], Lifecycle]
    _blob_store: BlobStore | None = None
    _escalate_to: EscalateTo = None

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...

        def get(self, issue_id: str) -> Issue: ...

        def fire(
            self, issue_id: str, trigger: str, *, by: ActorLike, expected_version: int | None = None,
            retries: int = 0, **data: Any,
        ) -> Issue: ...

        def _lifecycle_of(self, name: str, version: int) -> Lifecycle | None: ...

        def _reload_lifecycles(self) -> bool: ...

        def _find_unit(self, unit_id: str) -> Any: ...

        def _commit_many(self, works: Sequence[UnitOfWork]) -> list[LedgerEntry]: ...

        def _plan_system_step(
            self, issue: Issue, trigger: str, data: dict[str, Any], hook: str, at: dt.datetime
        ) -> tuple[Issue, UnitOfWork]: ...

    @staticmethod
    def _check_escalate_to(escalate_to: object) -> EscalateTo:
        """``govflow.open(..., escalate_to=...)``: where 提级督办 takes an issue. Whether a unit id names a
        registered unit is checked when an issue is escalated (units may be added after opening)."""
        if callable(escalate_to):
            return cast(EscalateTo, escalate_to)
        if isinstance(escalate_to, str):
            check_text("escalate_to", escalate_to, kind="id")
            return escalate_to
        raise ValidationError("escalate_to", f"got {type(escalate_to).__name__}",
                              "'parent', the id of a registered unit, or a callable mapping a unit to a unit")

    # -- assignment ------------------------------------------------------------------------

    @staticmethod
    def _field_at_assign(
        definition: LifecycleDefinition, cooperating: tuple[str, ...], countersign: str | None,
        accept_limit: int | None, data: dict[str, Any],
    ) -> FieldState | None:
        """The field record a new issue starts with (None: nothing set), its values added to ``data``."""
        triggers = {spec.trigger for spec in definition.transitions}
        if countersign is not None and countersign not in COUNTERSIGN_MODES:
            raise ValidationError("countersign", f"got {countersign!r}", "'all', 'any' or 'none'")
        if countersign not in (None, "none") and "countersign" not in triggers:
            raise ValidationError("countersign", f"lifecycle {definition.key} has no countersign step", "None")
        if countersign in ("all", "any") and not cooperating:
            raise ValidationError("countersign", f"{countersign!r} without cooperating units",
                                  "cooperating units, or countersign='none'")
        mode = countersign or ("all" if cooperating and "countersign" in triggers else "none")
        if accept_limit is not None:
            if isinstance(accept_limit, bool) or not isinstance(accept_limit, int) or accept_limit < 0:
                raise ValidationError("accept_limit", f"got {accept_limit!r}", "working days, an integer >= 0")
            if "accept" not in triggers:
                if accept_limit:
                    raise ValidationError("accept_limit", f"lifecycle {definition.key} has no accept step", "None or 0")
                accept_limit = None
        if mode == "none" and accept_limit is None:
            return None
        if mode != "none":
            data["countersign"] = mode
        if accept_limit is not None:
            data["accept_limit"] = accept_limit
        return FieldState(countersign=None if mode == "none" else mode, accept_limit=accept_limit)

    def _accept_by_at_assign(self, definition: LifecycleDefinition, data: dict[str, Any], today: dt.date) -> None:
        """The last day of a new issue's own acceptance limit (its ``accept_limit`` > 0) into
        ``data["accept_by"]``. An issue held to its lifecycle's setting records nothing: the period facts
        count that limit from the lifecycle (``FactsQuery.lifecycle_accept_by``), so most issues carry no
        sixth key (a larger dict for every issue a store keeps)."""
        limit = data.get("accept_limit")
        if not limit or not has_acceptance(definition):
            return
        last = accept_by(self._calendar, today, int(limit))
        if last is not None:
            data["accept_by"] = last

    # -- the named steps ---------------------------------------------------------------------

    def countersign(self, issue_id: str, *, by: ActorLike, note: str) -> Issue:
        """会签: a cooperating unit signs its contribution (配合意见) off."""
        return self.fire(issue_id, "countersign", by=by, note=note)

    def decline_countersign(self, issue_id: str, *, by: ActorLike, reason: str) -> Issue:
        """拒绝会签: a cooperating unit declines to sign, with its reason (the supervisor sees it)."""
        return self.fire(issue_id, "decline_countersign", by=by, reason=reason)

    def request_suspension(
        self, issue_id: str, *, by: ActorLike, reason: str, until: dt.date | str | None = None
    ) -> Issue:
        """申请挂起: the lead unit asks to stop the deadline clock (until a day, or until resumed)."""
        return self.fire(issue_id, "request_suspension", by=by, reason=reason, until=until)

    def approve_suspension(self, issue_id: str, *, by: ActorLike, note: str | None = None) -> Issue:
        """批准挂起: a supervisor suspends the issue; its clock stops."""
        return self.fire(issue_id, "approve_suspension", by=by, note=note)

    def deny_suspension(self, issue_id: str, *, by: ActorLike, reason: str) -> Issue:
        """驳回挂起: a supervisor refuses the pending request."""
        return self.fire(issue_id, "deny_suspension", by=by, reason=reason)

    def resume(self, issue_id: str, *, by: ActorLike, note: str | None = None) -> Issue:
        """恢复: a supervisor resumes a suspended issue; the due date moves on by the working days suspended."""
        return self.fire(issue_id, "resume", by=by, note=note)

    def return_to_dispatcher(self, issue_id: str, *, by: ActorLike, reason: str) -> Issue:
        """退回交办: within the acceptance limit the lead returns a misdirected issue (a transfer)."""
        return self.fire(issue_id, "return_to_dispatcher", by=by, reason=reason)

    def callback(
        self, issue_id: str, *, by: ActorLike, result: str, reason: str | None = None, reopen: bool = False,
        due: dt.date | str | WorkingDays | None = None,
    ) -> Issue:
        """回访: the call-back after verification; a dissatisfied one with ``reopen=True`` and a new ``due``
        sends the issue back (发回重办, a rework)."""
        return self.fire(issue_id, "callback", by=by, result=result, reason=reason,
                         reopen=reopen or None, due=due)

    def reopen(
        self, issue_id: str, *, by: ActorLike, reason: str, due: dt.date | str | WorkingDays | None = None
    ) -> Issue:
        """重新打开: within the lifecycle's ``reopen_days`` of verification, when the effect did not last."""
        return self.fire(issue_id, "reopen", by=by, reason=reason, due=due)

    def merge(self, issue_id: str, *, into: str, by: ActorLike, reason: str) -> Issue:
        """并案: close the duplicate ``issue_id`` into ``into``; the duplicate's new snapshot is returned.

        The same as ``fire(issue_id, "merge", into=..., reason=...)``: the lifecycle's ``merge`` step and the
        ``take_merged`` step of ``into`` (the partner of its ``merge_into`` effect), in one transaction."""
        if not isinstance(into, str):
            raise ValidationError("into", f"got {into!r}", "the id of an issue")
        return self.fire(issue_id, "merge", by=by, into=into, reason=reason)

    def _commit_with_partners(self, work: UnitOfWork, partners: Sequence[Partner], actor: Actor,
                              now: dt.datetime) -> Issue:
        """Write ``work`` with the steps its ``partners`` take on other issues, in one transaction; the
        first issue's new snapshot. A partner issue that is missing, or cannot take its step in its state,
        is a :class:`ValidationError` naming the data keyword; nothing is written."""
        notify = tuple(("after_transition", name) for name in self._plugins.subscribers("after_transition"))
        works = [attrs.evolve(work, notify=notify)]
        data, issue_id = work.entry.data, work.issue.id
        for partner in partners:
            other_id = data.get(partner.key)
            other = self._store.load(other_id) if isinstance(other_id, str) else None
            if other is None:
                raise ValidationError(partner.key, f"no issue {other_id!r}", "the id of an issue", issue_id)
            lifecycle = self._lifecycle_of(other.lifecycle, other.lifecycle_version)
            trigger = None if lifecycle is None else lifecycle.partner_trigger(other.state, partner.effect)
            if lifecycle is None or trigger is None:
                states = [] if lifecycle is None else lifecycle.states_with(partner.effect)
                merged = field_of(other).merged_into
                why = f"{other.id} is {other.state}" + (f" (merged into {merged})" if merged else "")
                raise ValidationError(partner.key, why, f"an issue in one of the states {', '.join(states)}",
                                      issue_id)
            given = {partner.as_: issue_id, **{k: data[k] for k in partner.carry if data.get(k) is not None}}
            _, other_work = self._plan_fire(other, trigger, actor, given, at=now, partner=True)
            works.append(other_work)
        self._commit_many(works)
        return work.issue

    def _plan_fire(self, issue: Issue, trigger: str, actor: Actor, data: dict[str, Any],
                   system: bool = False, at: dt.datetime | None = None,
                   partner: bool = False) -> tuple[Issue, UnitOfWork]:
        """Fire ``trigger`` on a working copy; the new snapshot and its unit of work (not written).
        ``partner``: the step is a partner step, taken with another issue's step (see ``Lifecycle.fire``)."""
        lifecycle = self._lifecycle_of(issue.lifecycle, issue.lifecycle_version)
        assert lifecycle is not None
        now = self.now() if at is None else at
        new, ledger_data = lifecycle.fire(issue, trigger, actor, data, now, self._find_unit, self._calendar,
                                          system=system, escalate_to=self._escalate_to, partner=partner)
        draft = LedgerDraft(
            issue_id=issue.id, issue_seq=new.version, trigger=trigger, from_state=issue.state,
            to_state=new.state, actor=actor.unit, person=actor.person, at=now, data=ledger_data,
        )
        if self._plugins.has_guards:
            from .._core.events import ProposedTransition

            self._plugins.before_transition(ProposedTransition(issue, new, trigger, actor, now, dict(ledger_data)))
        notify = tuple(("after_transition", name) for name in self._plugins.subscribers("after_transition"))
        return new, UnitOfWork(new, issue.version, draft, notify=notify)

    # -- evidence ------------------------------------------------------------------------------

    @property
    def blobs(self) -> BlobStore:
        """The store of evidence files (from the ``govflow_blob_store`` hook, asked once)."""
        if self._blob_store is None:
            self._blob_store = self._plugins.blob_store(self)  # type: ignore[arg-type]
        return self._blob_store

    def attach(
        self, issue_id: str, file: bytes | str | os.PathLike[str] | IO[bytes], *, by: ActorLike, name: str,
        kind: str | None = None,
    ) -> Issue:
        """Attach a file (佐证材料): store it through the blob store, then record its SHA-256, size and
        name in a ledger entry (trigger ``attach``). ``file`` is bytes, a path or a binary file object."""
        data = _read(file)
        issue = self.get(issue_id)
        sha = sha256_of(data)
        values: dict[str, Any] = {"sha256": sha, "size": len(data), "name": name, "kind": kind}
        given = {k: v for k, v in values.items() if v is not None}
        # The step is planned (and refused, storing nothing) before the file is stored; it is written after.
        new, work = self._plan_fire(issue, "attach", parse_actor(by), given)
        if self.blobs.put(data) != sha:
            raise ValidationError("file", "the blob store returned another key", "a store keyed by SHA-256")
        self._commit_many([work])
        return new

    def evidence(self, sha256: str) -> bytes:
        """The bytes of an attached file, checked against its hash."""
        data = self.blobs.get(sha256) if isinstance(sha256, str) else None
        if data is None or sha256_of(data) != sha256:
            raise ValidationError("sha256", f"no intact file {sha256!r} in the blob store", "a recorded SHA-256")
        return data

    def verify_ledger(
        self, *, checkpoints: Iterable[Checkpoint | str] = (), progress: Callable[[int, int], object] | None = None,
        blobs: bool = False,
    ) -> LedgerCheck:
        """Check the ledger: the hash chain, the stored text, every row against a replay of its entries, and the
        ``checkpoints`` (see :meth:`checkpoint`); ``progress(checked, total)`` as the check goes. With
        ``blobs=True`` also that every file an ``attach`` entry recorded is in the blob store, unaltered
        (:class:`LedgerCorrupted` names the entry)."""
        check: LedgerCheck = super().verify_ledger(  # type: ignore[misc]
            checkpoints=checkpoints, progress=progress)
        if blobs:
            store = self.blobs
            for entry in self._store.ledger(trigger="attach"):
                sha = str(entry.data.get("sha256", ""))
                data = store.get(sha)
                if data is None:
                    raise LedgerCorrupted(entry.seq, f"the file {sha} ({entry.data.get('name')}) is missing",
                                          entry.issue_id)
                if sha256_of(data) != sha or len(data) != entry.data.get("size"):
                    raise LedgerCorrupted(entry.seq, f"the file {sha} ({entry.data.get('name')}) was altered",
                                          entry.issue_id)
        return check

    # -- facts --------------------------------------------------------------------------------

    def _add_callbacks(self, found: dict[str, UnitFacts], start: dt.datetime, end: dt.datetime) -> dict[
        str, UnitFacts
    ]:
        """The period facts with the field loop's steps of ``[start, end)`` (回访, 退回交办, 恢复, 提级督办)
        counted for the unit each names."""
        counts: dict[str, Counter[str]] = {}

        def tally(unit: object) -> Counter[str]:
            return counts.setdefault(unit, Counter()) if isinstance(unit, str) else Counter()

        for trigger in ("callback", "return_to_dispatcher", "resume", "reject", "reassign"):
            for entry in self._store.ledger(since=start, until=end, trigger=trigger):
                data = entry.data
                if trigger == "callback":
                    one = tally(data.get("unit"))
                    one["callbacks"] += 1
                    one["callbacks_satisfied"] += data.get("result") in ("satisfied", "basically_satisfied")
                    one["callback_reworks"] += data.get("reopen") is True
                elif trigger == "return_to_dispatcher":
                    tally(entry.actor)["transfers"] += 1
                elif trigger == "resume":
                    tally(data.get("unit"))["suspended_days"] += int(data.get("suspended_days", 0))
                escalated = data.get("escalated")
                if isinstance(escalated, dict):
                    tally(escalated.get("unit"))["escalated"] += 1
        for unit, figures in counts.items():
            base = found.get(unit, UnitFacts(unit))
            found[unit] = attrs.evolve(base, **{name: getattr(base, name) + figures[name] for name in CALLBACK_COUNTS})
        return found

    # -- the sweep ------------------------------------------------------------------------------

    def sweep(self, now: dt.datetime | None = None) -> list[DeadlineEvent]:
        """The deadline ladder (see the base), then the field loop's steps: ``accept_overdue`` once for an
        issue not accepted within its acceptance limit (签收时限), and automatic resumes at ``until``."""
        when = self.now() if now is None else in_zone("now", now)
        self._resume_due(when)
        events: list[DeadlineEvent] = super().sweep(when)  # type: ignore[misc]
        return events + self._accept_overdue(when)

    def _field_lifecycles(self, effect: str) -> list[Lifecycle]:
        self._reload_lifecycles()
        return [lc for lc in list(self._lifecycles.values())
                if any(effect in spec.effects for spec in lc.definition.transitions)]

    def _resume_due(self, when: dt.datetime) -> None:
        states = {s for lc in self._field_lifecycles("resume") for spec in lc.definition.transitions
                  if "resume" in spec.effects for s in spec.source}
        if not states:
            return
        for issue in self._store.query(IssueQuery(states=tuple(sorted(states)))):
            state = field_of(issue)
            if state.suspended_until is None or when.date() < state.suspended_until:
                continue
            lifecycle = self._lifecycle_of(issue.lifecycle, issue.lifecycle_version)
            if lifecycle is None:
                continue
            trigger = next((t for t, spec in lifecycle.triggers_from(issue.state).items()
                            if "resume" in spec.effects), None)
            if trigger is None:
                continue
            try:
                _, work = self._plan_fire(issue, trigger, Actor(SYSTEM_ACTOR), {}, system=True, at=when)
            except InvalidTransition:
                continue
            self._commit_many([work])

    def _accept_overdue(self, when: dt.datetime) -> list[DeadlineEvent]:
        lifecycles = {(lc.name, lc.version): lc for lc in self._field_lifecycles("record_acceptance")}
        # Each lifecycle's limit for issues without one of their own, derived once (not per entry below).
        default_limits = {key: default_accept_limit(lc.definition) for key, lc in lifecycles.items()}
        seen: set[str] = set()
        events: list[DeadlineEvent] = []
        since = when - _ACCEPT_LOOKBACK - dt.timedelta(days=2 * max(default_limits.values(), default=0))
        for entry in [*self._store.ledger(since=since, trigger="assign"),
                      *self._store.ledger(since=since, trigger="reassign")]:
            if entry.issue_id in seen:
                continue
            seen.add(entry.issue_id)
            issue = self._store.load(entry.issue_id)
            lifecycle = lifecycles.get((issue.lifecycle, issue.lifecycle_version)) if issue else None
            if issue is None or lifecycle is None or issue.accepted_at is not None:
                continue
            state = field_of(issue)
            limit = state.accept_limit if state.accept_limit is not None else \
                default_limits[issue.lifecycle, issue.lifecycle_version]
            steps = lifecycle.triggers_from(issue.state).values()
            accepting = any("record_acceptance" in spec.effects for spec in steps)
            if not limit or state.accept_overdue or not accepting:
                continue
            try:
                last = accept_due(issue, self._calendar, limit)
            except CalendarError:
                continue
            if when.date() <= last:
                continue
            data = {"step": "accept_overdue", "level": 1, "due": last.isoformat(), "unit": issue.lead}
            # The change (accept_overdue noted) follows from the data by the registered "deadline" step.
            new, work = self._plan_system_step(issue, "deadline", data, "deadline", when)
            written = self._commit_many([work])
            events.append(DeadlineEvent(
                issue_id=issue.id, step="accept_overdue", level=1, due=last, at=when,
                idempotency_key=f"{issue.id}#{new.version}", unit=issue.lead, seq=written[0].seq,
            ))
        return events


def _read(file: bytes | str | os.PathLike[str] | IO[bytes]) -> bytes:
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    elif isinstance(file, str | os.PathLike):
        try:
            path = Path(file)
            if path.stat().st_size > _MAX_FILE:
                raise ValidationError("file", f"{path.name} is larger than {_MAX_FILE} bytes", "a smaller file")
            data = path.read_bytes()
        except OSError as error:
            raise ValidationError("file", f"cannot read {os.fspath(file)!r}: {error.strerror}",
                                  "bytes, a readable file path or a binary file object") from None
    elif hasattr(file, "read"):
        data = file.read()
        if not isinstance(data, bytes):
            raise ValidationError("file", "the file object gave text", "a file opened in binary mode ('rb')")
    else:
        raise ValidationError("file", f"got {type(file).__name__}", "bytes, a file path or a binary file object")
    if not data:
        raise ValidationError("file", "the file is empty", "a file with content")
    return data

class WithPartners(Exception):
    """A step whose effect has another issue take a step with it (并案): raised out of the one-issue commit
    path, which then writes nothing, so that ``fire`` writes both issues in one transaction."""

    def __init__(self, work: UnitOfWork, partners: Sequence[Partner], actor: Actor, now: dt.datetime) -> None:
        super().__init__(work.issue.id)
        self.work, self.partners, self.actor, self.now = work, partners, actor, now
