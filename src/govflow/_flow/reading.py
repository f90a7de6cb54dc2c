"""Reading issues and the ledger through :class:`govflow.Govflow` (get, issues, ledger, verify_ledger,
state_at); a mixin of the facade, kept apart to keep each module readable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from .._core.checkpoint import Checkpoint, parse_checkpoints
from .._core.clock import require_aware
from .._core.errors import LedgerCorrupted, NotFound, ValidationError
from .._core.ledger import GENESIS_HASH, PLAN_SUBJECT_PREFIXES, LedgerCheck, verify_chain
from .._core.model import Issue, LedgerEntry, Unit
from .._core.registry import UNIT_SUBJECT_PREFIX, is_unit_subject, unit_from_entry
from .._lifecycle.replay import Replay, difference
from .._plans.model import Plan, Target, apply_entry, plan_actor_problem, to_row
from .._stores.protocol import IssueQuery

if TYPE_CHECKING:
    from .._core.workdays import Calendar
    from .._lifecycle.machine import Lifecycle
    from .._stores.protocol import Store

__all__ = ["ReadingMixin"]


@attrs.define(eq=False)
class _Registry:
    """The unit registry rebuilt from its ``add_unit`` entries while the ledger is verified."""

    units: dict[str, Unit] = attrs.field(factory=dict)
    seqs: dict[str, int] = attrs.field(factory=dict)

    def feed(self, entry: LedgerEntry) -> None:
        try:
            unit = unit_from_entry(entry)
        except ValueError as exc:
            raise LedgerCorrupted(entry.seq, f"{entry.issue_id}: {exc}: the entry was altered") from None
        self.units[unit.id] = unit
        self.seqs[unit.id] = entry.seq

    def compare(self, stored: Mapping[str, Unit], settled: int, entries: int) -> None:
        """Every stored unit must be the one its entry registered, and every unit registered before the
        check began (``settled``) must be stored."""
        for unit_id, unit in stored.items():
            rebuilt = self.units.get(unit_id)
            if rebuilt is None:
                raise LedgerCorrupted(entries + 1, f"unit {unit_id}: no ledger entry registers it: the unit row "
                                      "was added outside govflow")
            for name in ("name", "level", "parent", "supervisor"):
                have, want = getattr(unit, name), getattr(rebuilt, name)
                if have != want:
                    raise LedgerCorrupted(
                        self.seqs[unit_id], f"unit {unit_id}: its {name} is {have!r} where its ledger entry gives "
                        f"{want!r}: the unit row was altered",
                    )
        for unit_id, seq in self.seqs.items():
            if unit_id not in stored and seq <= settled:
                raise LedgerCorrupted(seq, f"unit {unit_id}: registered by this entry but not stored: the unit row "
                                      "was removed")


class ReadingMixin:
    """Reading of :class:`govflow.Govflow`, which supplies the store."""

    _store: Store
    _calendar: Calendar

    if TYPE_CHECKING:

        def _lifecycle_of(self, name: str, version: int) -> Lifecycle | None: ...

        def unit(self, id: str) -> Unit: ...

    def get(self, issue_id: str) -> Issue:
        """The current snapshot of an issue; :class:`NotFound` if there is none."""
        issue = self._store.load(issue_id) if isinstance(issue_id, str) else None
        if issue is None:
            raise NotFound("issue", issue_id)
        return issue

    def issues(self, state: str | None = None, unit: str | None = None) -> list[Issue]:
        """Issues by id, optionally in one state and/or involving one unit (lead or cooperating)."""
        for field, value in (("state", state), ("unit", unit)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(field, f"got {type(value).__name__}", f"a {field} name (a string) or None")
        return self._store.query(IssueQuery(state=state, unit=unit))

    def ledger(
        self, issue_id: str | None = None, *, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        """Ledger entries in order: the whole ledger, or one subject's: an issue's steps, a plan's or a target's
        (``PL-…``, ``TG-…``), or a unit's registration (``unit:<id>``); ``[since, until)`` narrows them."""
        if issue_id is not None:
            self._subject(issue_id)
        if since is not None:
            require_aware("since", since)
        if until is not None:
            require_aware("until", until)
        return list(self._store.ledger(issue_id, since=since, until=until))

    def _subject(self, subject: str) -> None:
        """:class:`NotFound` unless ``subject`` names an issue, a plan, a target or a unit."""
        if isinstance(subject, str) and is_unit_subject(subject):
            self.unit(subject[len(UNIT_SUBJECT_PREFIX):])
        elif isinstance(subject, str) and subject.startswith(PLAN_SUBJECT_PREFIXES):
            if not self._store.plan_rows(ids=[subject]):
                raise NotFound("plan" if subject.startswith(PLAN_SUBJECT_PREFIXES[0]) else "target", subject)
        else:
            self.get(subject)

    def verify_ledger(
        self, *, checkpoints: Iterable[Checkpoint | str] = (), progress: Callable[[int, int], object] | None = None
    ) -> LedgerCheck:
        """Check the hash chain, the sequence, the stored text, and every issue row against a replay of its entries.

        Raises :class:`LedgerCorrupted` naming the first entry that was altered,
        removed or reordered, entries cut from the end, or the first issue row whose
        fields (lead, due date, counters, …) differ from what its entries give, and how.
        ``checkpoints`` (:meth:`checkpoint` values or their text, kept outside the
        database) must each still name an entry with that sequence number and hash.
        Safe while other threads or processes write: steps committed during the check
        are read up to the head as it stands once the ledger is read, and an issue
        written meanwhile is checked against the versions it passed through.

        ``progress(checked, total)`` is called every 1,000 entries and at the end
        (``total``: the entries there were when the check began; a progress bar).
        """
        wanted = parse_checkpoints(checkpoints)
        store = self._store
        settled = store.chain_head()[0]
        versions = store.issue_versions()
        stored = {issue.id: issue for issue in store.query(IssueQuery())}
        stored_units = {unit.id: unit for unit in store.units()}
        head: list[tuple[int, str]] = []
        registry = _Registry()  # the units rebuilt from their entries
        # Units never change once registered, so the stored registry (compared with the rebuilt one below,
        # before any replay problem is reported) answers for every entry; a unit added since it was read
        # is found among the entries read so far.
        replay = Replay(
            self._lifecycle_of, lambda unit_id: stored_units.get(unit_id) or registry.units.get(unit_id),
            self._calendar,
        )
        seen: dict[int, str] = {}
        plans: dict[str, Plan | Target] = {}  # plans and targets rebuilt from their entries

        def to_the_head() -> Iterator[LedgerEntry]:
            last = 0
            for entry in self._with_replay(store.ledger(), replay, wanted, seen, plans, registry):
                last = entry.seq
                if progress is not None and last % 1000 == 0:
                    progress(last, max(settled, last))
                yield entry
            # The head is read after the ledger: every entry read so far is at or before it, and the
            # steps committed since the pages were read are fetched one by one.
            head.append(store.chain_head())
            while last < head[0][0] and (late := store.entry(last + 1)) is not None:
                last = late.seq
                yield from self._with_replay([late], replay, wanted, seen, plans, registry)

        check = verify_chain(to_the_head(), lambda: head[0], versions, settled=settled)
        registry.compare(stored_units, settled, check.entries)
        if replay.problem is not None:
            seq, issue_id, problem = replay.problem
            raise LedgerCorrupted(seq, problem, issue_id)
        for issue_id, issue in stored.items():
            rebuilt = replay.issues.get(issue_id)
            if rebuilt is None or rebuilt.version != issue.version:
                continue  # written while the ledger was read: verify_chain held it to the versions it passed
            why = difference(issue, rebuilt)
            if why is not None:
                raise LedgerCorrupted(
                    check.entries + 1, f"issue {issue_id}: {why}: the issue row was altered", issue_id
                )
        links = store.target_links()
        for issue_id, target_id in sorted(replay.links.items()):
            if links.pop(issue_id, None) != target_id:
                raise LedgerCorrupted(check.entries + 1, f"issue {issue_id}: its link to target {target_id} was "
                                      "altered or removed (the assign entry names it)", issue_id)
        for issue_id, target_id in links.items():
            if replay.issues.get(issue_id) is not None:  # (an issue assigned while the ledger was read is not)
                raise LedgerCorrupted(check.entries + 1, f"issue {issue_id}: linked to target {target_id}, which "
                                      "no assign entry says: the link was added outside govflow", issue_id)
        for row in store.plan_rows():
            rebuilt_plan = plans.get(row.id)
            if rebuilt_plan is None or rebuilt_plan.version != row.version:
                continue  # written while the ledger was read (verify_chain held it to its versions)
            if to_row(rebuilt_plan) != row:
                raise LedgerCorrupted(
                    check.entries + 1, f"{row.kind} {row.id}: the stored row differs from what its entries give: "
                    "the row was altered", row.id,
                )
        for seq, point in sorted(wanted.items()):
            if seen.get(seq) != point.hash:
                found = "no such entry" if seq not in seen else f"entry {seq} has the hash {seen[seq][:12]}…"
                raise LedgerCorrupted(
                    seq, f"the checkpoint {point} is not in the ledger ({found}): the ledger was rewritten "
                    "after the checkpoint was taken",
                )
        if progress is not None:
            progress(check.entries, check.entries)
        return check

    @staticmethod
    def _with_replay(
        entries: Iterable[LedgerEntry], replay: Replay, wanted: Mapping[int, Checkpoint], seen: dict[int, str],
        plans: dict[str, Plan | Target], registry: _Registry,
    ) -> Iterator[LedgerEntry]:
        """``entries``, each fed to the replay (issues) or rebuilding its plan, target or unit, and, if a
        checkpoint names it, its hash noted."""
        for entry in entries:
            if is_unit_subject(entry.issue_id):
                registry.feed(entry)
            elif entry.issue_id.startswith(PLAN_SUBJECT_PREFIXES):
                actor_problem = plan_actor_problem(entry, plans, replay.units)
                if actor_problem is not None:
                    raise LedgerCorrupted(entry.seq, f"{entry.issue_id}: {actor_problem}", entry.issue_id)
                try:
                    plans[entry.issue_id] = apply_entry(
                        plans.get(entry.issue_id), entry.issue_id, entry.trigger, entry.to_state, entry.issue_seq,
                        entry.at, entry.data,
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise LedgerCorrupted(
                        entry.seq, f"{entry.issue_id}: the entry cannot be replayed ({exc!r})", entry.issue_id
                    ) from None
            else:
                replay.feed(entry)
            if entry.seq in wanted:
                seen[entry.seq] = entry.hash
            yield entry

    def checkpoint(self, before: dt.datetime | None = None) -> Checkpoint:
        """The chain as it stands (the head), or as it stood at instant ``before`` (its last entry before then).

        Print it in the bulletin, mail it, file it elsewhere; later,
        ``verify_ledger(checkpoints=[...])`` fails unless the ledger still holds that entry
        with that hash. The empty ledger's checkpoint is ``seq`` 0 with 64 zeros.
        """
        store = self._store
        if before is None:
            seq, digest = store.chain_head()
            entry = store.entry(seq) if seq else None
            return Checkpoint(seq, digest, entry.at if entry is not None else None)
        require_aware("before", before)
        last: LedgerEntry | None = None
        # The last hour first (the index on time), then the last day, the last week, and the whole span before
        # only if those were quiet: a busy ledger's last hour holds a few entries where its last week holds
        # thousands, each read whole. (An entry dated more than that window before an earlier entry, by a
        # clock set back, is not looked for behind a window that has entries.)
        for since in (before - dt.timedelta(hours=1), before - dt.timedelta(days=1), before - dt.timedelta(days=7),
                      None):
            for entry in store.ledger(since=since, until=before):
                if last is None or entry.seq > last.seq:
                    last = entry
            if last is not None:
                break
        if last is None:
            return Checkpoint(0, GENESIS_HASH, None)
        return Checkpoint(last.seq, last.hash, last.at)

    def state_at(self, issue_id: str, when: dt.datetime) -> str:
        """The issue's state at instant ``when``, replayed from the ledger."""
        require_aware("when", when)
        self.get(issue_id)
        state: str | None = None
        first: LedgerEntry | None = None
        for entry in self._store.ledger(issue_id):
            first = first or entry
            if entry.at > when:
                break
            state = entry.to_state
        if state is None:
            assigned = f"; it was assigned at {first.at.isoformat()}" if first else ""
            raise NotFound("issue", issue_id, f"it did not exist at {when.isoformat()}{assigned}")
        return state
