"""The monthly bulletin (月通报): a period's facts, scores, lists and changes in one value.

``flow.bulletin("2020-06")`` builds a :class:`Bulletin`; ``bulletin.render(fmt, lang)``
hands it to the renderer registered for ``("bulletin", fmt)`` through
``govflow_register_renderers`` (markdown, html, xlsx, csv and json are built in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..._core.checkpoint import Checkpoint
from ..._core.clock import DEFAULT_ZONE
from ..._core.errors import ValidationError
from ..._core.model import Issue, LedgerEntry, Responsible, Unit
from ..._core.workdays import CalendarError, Weekdays, working_days_between
from ..._stores.facts import OverdueAtEnd, UnitFacts, sum_facts
from ..period import Period
from ..scoring import UnitScore
from .labels import check_lang, label

if TYPE_CHECKING:
    from ..._flow.facade import Govflow
    from ..._plans.progress import PlanProgress

__all__ = ["Bulletin", "ListedUnit", "OverdueIssue", "ScoreChange", "build_bulletin"]

# English month names, whatever the process's locale.
_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")

#: How many units the red list takes per level and the black list overall.
LIST_SIZE: Final = 5


@attrs.frozen
class OverdueIssue:
    """An issue overdue at the period's end, with the people answerable for it.

    ``unit`` is the lead unit at the period's end, ``due`` the due date then (after
    any approved extension), ``days_overdue`` the working days it was late on the
    day after the period (as the escalation ladder counts them: an issue due on the
    period's last day is 1 day late), ``state`` the issue's state then,
    ``responsible`` the 第一责任人 and 直接责任人 named at assignment (None after a
    reassignment: they were the old lead's people).
    """

    issue_id: str
    title: str
    unit: str
    due: dt.date
    days_overdue: int
    state: str
    responsible: Responsible | None


@attrs.frozen
class ListedUnit:
    """A unit on the red list (红榜) or the black list (黑榜), and why.

    ``reasons`` holds ``top`` (among the best of its level), ``bottom`` (among the
    lowest overall) or ``interview`` (约谈 in the period, with ``interviews`` the count).
    """

    unit: str
    level: str
    total: float | None
    rank: int | None
    reasons: tuple[str, ...]
    interviews: int = 0


@attrs.frozen
class ScoreChange:
    """How a unit's score and rank moved since the previous period.

    ``change`` is ``total - previous_total`` and ``rank_change`` is
    ``previous_rank - rank`` (positive: moved up); each is None when either side is.
    """

    unit: str
    level: str
    total: float | None
    previous_total: float | None
    rank: int | None
    previous_rank: int | None

    @property
    def change(self) -> float | None:
        """Points gained (negative: lost) since the previous period."""
        if self.total is None or self.previous_total is None:
            return None
        return round(self.total - self.previous_total, 2)

    @property
    def rank_change(self) -> int | None:
        """Places moved up (negative: down) within the level since the previous period."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@attrs.frozen
class Bulletin:
    """One period's bulletin: build it with ``flow.bulletin(period)``.

    ``facts`` and ``scores`` cover every unit (facts in the order of ``flow.facts``,
    scores ordered by level, then rank);
    ``red_list`` is the top five scored units of each level, but never more than
    half of the level's scored units and never a unit with a 约谈 in the period;
    ties at the fifth place are all listed, unless that would pass half, when the
    tied units are all left out;
    ``black_list`` the lowest five scored units overall, but never more than half of
    all scored units and none on the red list, and every unit with a 约谈 in the period;
    ``overdue`` maps each unit to its issues overdue at the period's end;
    ``changes`` compares each unit with ``previous`` (the period before).
    ``rollup`` holds, for each unit with units below it (a county with its townships), its
    figures rolled up with theirs (逐级汇总), and ``rollup_scores`` their scores on them;
    ``plans`` the progress tree of every work plan drawn up by ``as_of`` (工作方案进度).
    ``as_of`` is the instant counted up to: the period's end, or for a period not
    over yet, when the bulletin was produced.
    Every figure comes from ledger entries recorded before the period's end (for a
    period not over yet: before ``flow.now()``, see :meth:`Govflow.bulletin`).
    """

    period: Period
    previous: Period
    produced_at: dt.datetime
    as_of: dt.datetime
    units: Mapping[str, Unit] = attrs.field(hash=False)
    facts: Mapping[str, UnitFacts] = attrs.field(hash=False)
    scores: tuple[UnitScore, ...]
    red_list: tuple[ListedUnit, ...]
    black_list: tuple[ListedUnit, ...]
    overdue: Mapping[str, tuple[OverdueIssue, ...]] = attrs.field(hash=False)
    changes: tuple[ScoreChange, ...]
    flow: Govflow = attrs.field(eq=False, repr=False, hash=False)
    rollup: Mapping[str, UnitFacts] = attrs.field(factory=dict, hash=False)
    rollup_scores: tuple[UnitScore, ...] = ()
    plans: tuple[PlanProgress, ...] = ()
    #: The ledger's checkpoint at the period's end (or ``as_of``): its last entry then, printed so that
    #: the chain is pinned outside the database (``flow.verify_ledger(checkpoints=[...])``).
    checkpoint: Checkpoint | None = None

    def render(self, fmt: str, lang: str = "zh", **options: Any) -> str | bytes:
        """The bulletin in ``fmt`` (``markdown``, ``html``, ``csv``, ``json``: str; ``xlsx``: bytes).

        ``lang`` is ``zh`` or ``en``; ``options`` go to the renderer (``csv`` takes
        ``table=``). Any format a plugin registers for the report ``bulletin`` works
        too. Raises :class:`ValidationError` for an unknown format or language.
        """
        check_lang(lang)
        if "bulletin" in options:
            raise ValidationError("bulletin", "given twice", "render options other than 'bulletin' and 'lang'")
        return self.flow.render("bulletin", fmt, **options, bulletin=self, lang=lang)

    def tables(self, lang: str = "zh") -> list[tuple[str, str, list[str], list[list[str | int | float | None]]]]:
        """The tables every built-in format shows, in ``lang``: for a renderer of your own.

        Each table is ``(key, heading, column headings, rows)``; keys are ``ranking``, ``facts``,
        ``red_list``, ``black_list``, ``overdue`` and ``changes``; cells are plain values
        (numbers stay numbers, None is an empty cell). Escape them for your format.
        """
        from .tables import bulletin_tables  # the renderers import this module

        return bulletin_tables(self, check_lang(lang))

    def title(self, lang: str = "zh") -> str:
        """The bulletin's title in ``lang`` (``"2026年3月问题清单办理情况通报"``)."""
        return label("title", lang).format(period=self.period_name(lang))

    def period_name(self, lang: str = "zh") -> str:
        """The period in words (``"2026年3月"``, ``"March 2026"``, ``"2026年第一季度"``)."""
        return period_name(self.period, lang)

    @property
    def issuer(self) -> str | None:
        """The name of the supervising unit that issues the bulletin (the first supervisor unit), if any."""
        for unit in self.units.values():
            if unit.supervisor:
                return unit.name
        return None

    def produced_on(self, lang: str = "zh") -> str:
        """When the bulletin was produced, in words (``"2026年7月1日 09:00"``, ``"1 July 2026, 09:00"``)."""
        return _when(self.produced_at, lang)

    def as_of_text(self, lang: str = "zh") -> str:
        """``as_of`` in words, as :meth:`produced_on` says times."""
        return _when(self.as_of, lang)

    def unit_name(self, unit_id: str) -> str:
        """A unit's name (its id when the unit is not registered)."""
        unit = self.units.get(unit_id)
        return unit.name if unit is not None else unit_id

    def totals(self) -> UnitFacts:
        """Every unit's counts added up (``unit`` is ``"*"``; cooperating work counts once per unit)."""
        return sum_facts(self.facts.values())

    def overdue_issues(self) -> Iterator[OverdueIssue]:
        """Every overdue issue, unit by unit."""
        for issues in self.overdue.values():
            yield from issues

    def issue_ids(self) -> list[str]:
        """The issues the bulletin covers: any step in the period (up to ``as_of``), or overdue then; sorted."""
        touched = {entry.issue_id for entry in self.flow.ledger(since=self.period.start, until=self.as_of)}
        touched.update(issue.issue_id for issue in self.overdue_issues())
        return sorted(touched)

    def ledger(self) -> Iterator[tuple[Issue, list[LedgerEntry]]]:
        """``(issue, its steps up to the period's end, or as_of)`` for every issue the bulletin covers (台账)."""
        store = self.flow.store
        for issue_id in self.issue_ids():
            issue = store.load(issue_id)
            if issue is not None:
                yield issue, list(store.ledger(issue_id, until=self.as_of))


def _when(instant: dt.datetime, lang: str) -> str:
    local = instant.astimezone(DEFAULT_ZONE)
    if lang == "en":
        return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def period_name(period: Period, lang: str = "zh") -> str:
    """A period in words, in ``lang``."""
    if lang == "en":
        if period.kind == "month":
            return f"{_MONTHS[period.index - 1]} {period.year}"
        if period.kind == "quarter":
            return f"Q{period.index} {period.year}"
        return str(period.year)
    if period.kind == "month":
        return f"{period.year}年{period.index}月"
    if period.kind == "quarter":
        return f"{period.year}年第{'一二三四'[period.index - 1]}季度"
    return f"{period.year}年"


def _top(scores: list[UnitScore], best_first: bool, size: int, cap: int) -> list[UnitScore]:
    """The first ``size`` scored units by total and any tied with the last of them, but never more
    than ``cap``: a tie that would pass it is left out whole (no unit is picked from a tie at random)."""
    scored = sorted(
        (s for s in scores if s.total is not None),
        key=lambda s: (-s.total if best_first else s.total, s.unit),  # type: ignore[operator]
    )
    if size <= 0 or not scored:
        return []
    edge = scored[min(size, len(scored)) - 1].total
    chosen = scored[:size] + [s for s in scored[size:] if s.total == edge]
    if len(chosen) > cap:
        chosen = [s for s in chosen if s.total != edge]
    return chosen


def _responsible_at(entries: Iterable[LedgerEntry]) -> Responsible | None:
    """The persons named at assignment, unless a reassignment among ``entries`` cleared them."""
    people: Responsible | None = None
    for entry in entries:
        if entry.trigger == "assign":
            named = entry.data.get("responsible")
            people = Responsible(**named) if isinstance(named, dict) else None
        elif entry.trigger == "reassign":
            people = None
    return people


def build_bulletin(
    flow: Govflow,
    period: Period,
    as_of: dt.datetime,
    produced_at: dt.datetime,
    facts: Mapping[str, UnitFacts],
    scores: list[UnitScore],
    previous_scores: list[UnitScore],
    overdue: list[OverdueAtEnd],
) -> Bulletin:
    """Put a bulletin together from the period's scores, the previous period's and the overdue issues."""
    units = {unit.id: unit for unit in flow.units()}
    for score in scores:
        units.setdefault(score.unit, Unit(score.unit, score.unit, "department"))
    red: list[ListedUnit] = []
    for level in dict.fromkeys(s.level for s in scores):
        peers = [s for s in scores if s.level == level]
        half = sum(1 for s in peers if s.total is not None) // 2  # a small level does not put everyone on it
        eligible = [s for s in peers if not s.facts.interviews]
        for score in _top(eligible, best_first=True, size=min(LIST_SIZE, half), cap=half):
            red.append(ListedUnit(score.unit, score.level, score.total, score.rank, ("top",)))
    reasons: dict[str, list[str]] = {}
    on_red = {u.unit for u in red}
    lower_half = sum(1 for s in scores if s.total is not None) // 2  # with few units, not the better ones
    off_red = [s for s in scores if s.unit not in on_red]
    for score in _top(off_red, best_first=False, size=min(LIST_SIZE, lower_half), cap=lower_half):
        reasons.setdefault(score.unit, []).append("bottom")
    for score in scores:
        if score.facts.interviews:
            reasons.setdefault(score.unit, []).append("interview")
    by_unit = {s.unit: s for s in scores}
    black = sorted(
        (
            ListedUnit(unit, by_unit[unit].level, by_unit[unit].total, by_unit[unit].rank, tuple(why),
                       by_unit[unit].facts.interviews)
            for unit, why in reasons.items()
        ),
        key=lambda u: (u.total is None, u.total or 0.0, u.unit),
    )
    before = {s.unit: s for s in previous_scores}
    changes = tuple(
        ScoreChange(
            s.unit, s.level, s.total, before[s.unit].total if s.unit in before else None, s.rank,
            before[s.unit].rank if s.unit in before else None,
        )
        for s in scores
    )
    found: dict[str, list[OverdueIssue]] = {s.unit: [] for s in scores}  # units in ranking order
    calendar = flow.calendar
    day_after = as_of.astimezone(DEFAULT_ZONE).date()  # the day after the period, or today
    for row in overdue:
        issue = flow.get(row.issue_id)
        people = issue.responsible
        # None now: never named, or cleared by a reassignment, maybe after the period. Persons are named only
        # at assignment and every step sets updated_at: with no step since the end they were None then too, so
        # only an issue touched since is read (one read each, not one per overdue issue without persons).
        if people is None and issue.updated_at >= as_of:
            people = _responsible_at(flow.store.ledger(row.issue_id, until=as_of))
        try:
            late = max(1, working_days_between(calendar, row.due, day_after))
        except CalendarError:  # a year without an official schedule: weekends only
            late = max(1, working_days_between(Weekdays(), row.due, day_after))
        found.setdefault(row.unit, []).append(
            OverdueIssue(row.issue_id, issue.title, row.unit, row.due, late, row.state, people)
        )
    return Bulletin(
        period=period,
        previous=period.previous(),
        produced_at=produced_at,
        as_of=as_of,
        units=units,
        facts=dict(facts),
        scores=tuple(scores),
        red_list=tuple(red),
        black_list=tuple(black),
        overdue={unit: tuple(rows) for unit, rows in found.items() if rows},
        changes=changes,
        flow=flow,
        checkpoint=flow.checkpoint(before=as_of),
    )
