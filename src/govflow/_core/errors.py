"""The govflow error hierarchy.

Every error govflow raises on purpose derives from :class:`GovflowError`::

    GovflowError
    ├── NotFound                 an issue, unit or lifecycle that does not exist
    ├── InvalidTransition        the trigger cannot be fired in the issue's state
    ├── PermissionDenied         the actor may not fire the trigger
    ├── ValidationError          bad input data (also a ValueError)
    │   └── ImportRejected       a spreadsheet import with bad rows: every problem, nothing written
    ├── ConcurrentUpdateError    a write named a version that is no longer current
    ├── LedgerCorrupted          the hash-chained ledger does not check out
    ├── LifecycleError           a lifecycle definition is malformed
    ├── TransitionVetoed         a plugin's before_transition hook refused the step
    ├── PluginLoadError          a plugin failed to load (strict mode; see govflow._plugins.manager)
    ├── CalendarError            no official holiday schedule for a year (see govflow._deadlines.calendar)
    ├── DiagramError             a lifecycle diagram cannot be drawn here (SVG without Graphviz)
    ├── FlowClosed               the flow was closed; open a new one
    └── StoreError               the store cannot be opened or used
        ├── SchemaVersionError   the store was written by a newer govflow
        ├── StoreBusy            the database stayed locked past the timeout; nothing was written, retry
        └── OutcomeUnknown       the connection failed after the step was sent; read the issue before repeating

When several errors apply to one command, the first of ``NotFound``,
``InvalidTransition``, ``PermissionDenied``, ``ValidationError`` wins, and
nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "ConcurrentUpdateError",
    "DiagramError",
    "FlowClosed",
    "GovflowError",
    "ImportProblem",
    "ImportRejected",
    "InvalidTransition",
    "LedgerCorrupted",
    "LifecycleError",
    "NotFound",
    "OutcomeUnknown",
    "PermissionDenied",
    "SchemaVersionError",
    "StoreBusy",
    "StoreError",
    "TransitionVetoed",
    "ValidationError",
]


class GovflowError(Exception):
    """Base class of every error govflow raises on purpose."""


class NotFound(GovflowError, LookupError):
    """An issue, unit or lifecycle that does not exist.

    ``kind`` is ``"issue"``, ``"unit"`` or ``"lifecycle"``; ``key`` is what was
    looked up.
    """

    def __init__(self, kind: str, key: object, detail: str = "") -> None:
        self.kind = kind
        self.key = key
        message = f"no {kind} {key!r}"
        super().__init__(f"{message}: {detail}" if detail else message)


class InvalidTransition(GovflowError):
    """The trigger cannot be fired on the issue in its current state.

    Names the issue, its state, the trigger and ``allowed``: the triggers this
    actor may fire now.
    """

    def __init__(
        self,
        issue_id: str,
        state: str,
        trigger: str,
        allowed: Sequence[str],
        reason: str = "",
    ) -> None:
        self.issue_id = issue_id
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(allowed)
        why = reason or f"{trigger!r} is not a trigger of state {state!r}"
        may = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"issue {issue_id} is {state!r}: cannot fire {trigger!r} ({why}); "
            f"triggers this actor may fire now: {may}"
        )


class PermissionDenied(GovflowError):
    """The actor may not fire this trigger on this issue.

    ``allowed`` describes who may (role names resolved to units where possible).
    """

    def __init__(
        self, issue_id: str, trigger: str, actor: str, allowed: str, reason: str = ""
    ) -> None:
        self.issue_id = issue_id
        self.trigger = trigger
        self.actor = actor
        self.allowed = allowed
        extra = f" ({reason})" if reason else ""
        super().__init__(
            f"unit {actor!r} may not {trigger!r} issue {issue_id}{extra}; allowed: {allowed}"
        )


class ValidationError(GovflowError, ValueError):
    """Input that govflow refuses: names the field and what would be accepted."""

    def __init__(self, field: str, problem: str, accepted: str, issue_id: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.accepted = accepted
        self.issue_id = issue_id
        where = f"issue {issue_id}: " if issue_id else ""
        super().__init__(f"{where}{field}: {problem}; accepted: {accepted}")


@attrs.frozen
class ImportProblem:
    """One problem of a spreadsheet import, where the clerk sees it.

    ``sheet`` is the sheet's name (a CSV file's name), ``row`` the row number as the
    spreadsheet shows it (0 for the file as a whole), ``column`` the header as written
    in the sheet (empty when the problem is not one cell's), ``value`` the cell as read.
    ``problem`` and ``accepted`` say what is wrong and what would be accepted, in
    Chinese (``*_zh``) and English.
    """

    sheet: str
    row: int
    column: str
    value: str
    problem_zh: str
    problem: str
    accepted_zh: str
    accepted: str

    def text(self, lang: str = "zh") -> str:
        """One line for a person: where, the value, what is wrong and what is accepted."""
        shown = self.value if len(self.value) <= 40 else self.value[:39] + "…"
        if lang == "zh":
            where = f"{self.sheet} 第{self.row}行" if self.row else self.sheet
            cell = f" {self.column}" if self.column else ""
            got = f"「{shown}」" if self.value else ""
            return f"{where}{cell}{got}：{self.problem_zh}；可接受：{self.accepted_zh}"
        where = f"{self.sheet} row {self.row}" if self.row else self.sheet
        cell = f", {self.column}" if self.column else ""
        got = f" {shown!r}" if self.value else ""
        return f"{where}{cell}{got}: {self.problem}; accepted: {self.accepted}"


class ImportRejected(ValidationError):
    """A spreadsheet import was refused: ``problems`` lists every bad row and cell; nothing was written."""

    #: How many problems the message itself lists (``problems`` has them all).
    SHOWN = 50

    def __init__(self, source: str, problems: Sequence[ImportProblem], lang: str = "en") -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [p.text(lang) for p in self.problems[: self.SHOWN]]
        more = len(self.problems) - len(lines)
        if more:
            lines.append(f"... and {more} more")
        count = len(self.problems)
        super().__init__(
            "source",
            f"{source}: {count} problem{'s' if count != 1 else ''}, nothing was written\n  " + "\n  ".join(lines),
            "a sheet whose every row is valid (see .problems)",
        )


class ConcurrentUpdateError(GovflowError):
    """A write named a version of the issue that is no longer the current one."""

    def __init__(self, issue_id: str, expected: int, actual: int | None) -> None:
        self.issue_id = issue_id
        self.expected = expected
        self.actual = actual
        now = "it no longer exists" if actual is None else f"it is now at version {actual}"
        super().__init__(
            f"issue {issue_id} changed since it was read: expected version {expected}, {now}; "
            "nothing was written; read it again and retry"
        )


class LedgerCorrupted(GovflowError):
    """The ledger does not check out; names the first entry that is wrong."""

    def __init__(self, seq: int, problem: str, issue_id: str | None = None) -> None:
        self.seq = seq
        self.problem = problem
        self.issue_id = issue_id
        about = f" (issue {issue_id})" if issue_id else ""
        super().__init__(f"ledger entry {seq}{about}: {problem}")


class LifecycleError(GovflowError):
    """A lifecycle definition is malformed or conflicts with a registered one."""

    def __init__(self, lifecycle: str, problem: str) -> None:
        self.lifecycle = lifecycle
        self.problem = problem
        super().__init__(f"lifecycle {lifecycle}: {problem}")


class TransitionVetoed(GovflowError):
    """A plugin refused a transition in ``govflow_before_transition``; nothing was written.

    Plugins raise it with the reason: ``raise TransitionVetoed("verification needs evidence")``.
    """

    def __init__(self, reason: str, *, plugin: str | None = None) -> None:
        self.reason = reason
        self.plugin = plugin
        super().__init__(f"vetoed by plugin {plugin!r}: {reason}" if plugin else f"vetoed: {reason}")


class DiagramError(GovflowError):
    """A lifecycle diagram cannot be drawn on this machine (an SVG without Graphviz's ``dot``).

    Names the lifecycle and what is missing; the Mermaid and DOT formats need nothing installed.
    """

    def __init__(self, lifecycle: str, problem: str) -> None:
        self.lifecycle = lifecycle
        self.problem = problem
        super().__init__(f"lifecycle {lifecycle}: cannot draw the diagram: {problem}")


class StoreError(GovflowError):
    """The store cannot be opened or used."""


class SchemaVersionError(StoreError):
    """The store's schema is newer than this govflow understands."""

    def __init__(self, target: str, found: int, supported: int) -> None:
        self.target = target
        self.found = found
        self.supported = supported
        super().__init__(
            f"{target} has schema version {found}, written by a newer govflow; "
            f"this govflow reads versions up to {supported}: upgrade govflow to open it"
        )


class StoreBusy(StoreError):
    """The database stayed locked (another writer, a long checkpoint) past the store's timeout.

    Nothing was written; run the command again, later or with a longer ``timeout``.
    """

    def __init__(self, target: str, detail: str) -> None:
        self.target = target
        super().__init__(
            f"{target} stayed locked past the timeout ({detail}); nothing was written: "
            "run the command again (or open the store with a longer timeout)"
        )


class OutcomeUnknown(StoreError):
    """The connection failed after a step was sent: it may or may not have been committed.

    Read the issue (its ``version`` and last ledger entry) before repeating the command;
    repeating it blindly could take the step twice.
    """

    def __init__(self, target: str, issue_id: str | None, detail: str) -> None:
        self.target = target
        self.issue_id = issue_id
        about = f"issue {issue_id}" if issue_id else "the issue"
        super().__init__(
            f"{target}: the connection failed after the step was sent ({detail}); whether it was committed "
            f"is unknown: read {about} (its version and ledger) before repeating the command"
        )


class FlowClosed(GovflowError):
    """The flow was closed (``flow.close()`` or the end of its ``with`` block); open a new one."""

    def __init__(self, what: str = "") -> None:
        self.what = what
        doing = f" ({what})" if what else ""
        super().__init__(f"this flow is closed{doing}: open a new one with govflow.open(...)")
