"""Periods and scoring of :class:`govflow.Govflow` (月收集、考评、月通报): facts, scores, the bulletin and the
evaluation; a mixin of the facade, kept apart to keep each module readable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, cast

from .._core.errors import ValidationError
from .._core.model import LEVELS, Unit
from .._deadlines.calendar import CalendarError, Weekdays, add_working_days
from .._lifecycle.field_effects import default_accept_limit
from .._plans.rollup import rollup_facts
from .._reports.bulletin.build import Bulletin, build_bulletin
from .._reports.bulletin.plans import add_plan_section
from .._reports.period import Period
from .._reports.scoring import Indicator, ScoringPolicy, UnitEvaluation, UnitScore, rank_within_levels, total_of
from .._stores.facts import FactsQuery, UnitFacts

if TYPE_CHECKING:
    from .._lifecycle.machine import Lifecycle
    from .._plugins.manager import Plugins
    from .._plugins.registries import Calendar
    from .._stores.protocol import Store
    from .facade import Govflow

__all__ = ["PeriodsMixin"]


class PeriodsMixin:
    """Periods and scoring of :class:`govflow.Govflow`, which supplies the attributes below."""

    _store: Store
    _calendar: Calendar
    _plugins: Plugins
    _scoring: ScoringPolicy
    _lifecycles: dict[tuple[str, int], Lifecycle]

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...

        def units(self) -> list[Unit]: ...

        def _find_unit(self, unit_id: str) -> Unit | None: ...

        def _lead_states(self) -> tuple[str, ...]: ...

        def _add_callbacks(self, found: dict[str, UnitFacts], start: dt.datetime, end: dt.datetime) -> dict[
            str, UnitFacts
        ]: ...

    @property
    def scoring(self) -> ScoringPolicy:
        """The scoring policy (``govflow.open(..., scoring=ScoringPolicy(...))``)."""
        return self._scoring

    def facts(self, period: str | Period, *, rollup: bool = False) -> dict[str, UnitFacts]:
        """Per-unit facts of a period (``"2020-06"``, ``"2020-Q3"``, ``"2020"``), from the ledger.

        Only ledger entries before the period's end count, so a past period comes out
        the same however late it is asked for. A period not over yet is counted up to
        ``now()``: what has fallen due so far, what is overdue today. The store aggregates them. Keys are unit
        ids: every non-supervisor unit in the order units were added (zeros when nothing
        happened), then any other unit with something to count. docs/scoring.md has the
        exact rule for each figure. ``rollup=True`` gives each unit its own figures plus those
        of every unit below it (逐级汇总: a county with its townships).
        """
        found = self._facts(Period.parse(period), self.now())
        return rollup_facts(found, self.units()) if rollup else found

    def _facts(self, period: Period, now: dt.datetime) -> dict[str, UnitFacts]:
        """:meth:`facts` as of ``now``."""
        if now <= period.start:  # not begun: nothing to count yet
            found: dict[str, UnitFacts] = {}
        else:
            query = self._facts_query(period, now)
            found = self._add_callbacks(self._store.period_facts(query), query.start, query.end)
        result: dict[str, UnitFacts] = {}
        for unit in self.units():
            if unit.id in found or not unit.supervisor:
                result[unit.id] = found.pop(unit.id, UnitFacts(unit.id))
        result.update(found)
        return result

    def _facts_query(self, period: Period, now: dt.datetime | None = None) -> FactsQuery:
        """The store's query for ``period``; a period not over yet is counted up to ``now`` (month to date)."""
        end = max(period.start, min(period.end, self.now() if now is None else now))
        lead_states = self._lead_states()  # first: it loads lifecycles other processes registered
        by_lifecycle = tuple(
            (f"{name}@{version}", tuple(sorted(lifecycle.lead_states)))
            for (name, version), lifecycle in sorted(list(self._lifecycles.items()))
        )
        within = self._scoring.accept_within
        # An issue without an acceptance limit of its own is held to its lifecycle's (its entries record no
        # day); one the same as the policy's needs no second list.
        lifecycle_accept_by = tuple(
            (f"{name}@{version}", self._accept_limits(period, limit))
            for (name, version), lifecycle in sorted(list(self._lifecycles.items()))
            if (limit := default_accept_limit(lifecycle.definition)) and limit != within
        )
        return FactsQuery(period.start, end, self._accept_limits(period), lead_states, by_lifecycle,
                          lifecycle_accept_by)

    def _accept_limits(self, period: Period, within: int | None = None) -> tuple[tuple[dt.date, dt.date], ...]:
        """Each day of ``period`` and the last day an assignment made on it may be accepted on time: within
        ``within`` working days (by default the scoring policy's ``accept_within``)."""
        within = self._scoring.accept_within if within is None else within
        limits = []
        day = period.first_day
        while day <= period.last_day:
            try:
                limit = add_working_days(self._calendar, day, within)
            except CalendarError:  # a year without an official schedule: weekends only
                limit = add_working_days(Weekdays(), day, within)
            limits.append((day, limit))
            day += dt.timedelta(days=1)
        return tuple(limits)

    def scores(self, period: str | Period, *, rollup: bool = False) -> list[UnitScore]:
        """Every unit's score for a period, with its breakdown and its rank within its level.

        The indicators come from every ``govflow_score_unit`` plugin (the default
        :class:`DefaultScoring` first). Ordered by level (county, township, ...), then
        rank, unscored units (``total`` None: nothing fell due) last, then unit id. ``rollup=True``
        scores each unit on its figures rolled up with those of the units below it.
        """
        chosen = Period.parse(period)
        return self._scores(chosen, self.facts(chosen, rollup=rollup))

    def _scores(self, chosen: Period, facts: Mapping[str, UnitFacts]) -> list[UnitScore]:
        rows: list[tuple[Unit, UnitFacts, tuple[Indicator, ...], float | None]] = []
        for unit_id, unit_facts in facts.items():
            unit = self._find_unit(unit_id) or Unit(unit_id, unit_id, "department")
            breakdown = tuple(self._indicators(unit, str(chosen), unit_facts))
            rows.append((unit, unit_facts, breakdown, total_of(breakdown, unit_facts)))
        ranks = rank_within_levels([(unit.id, unit.level, total) for unit, _, _, total in rows])
        found = [UnitScore(unit.id, unit.level, total, breakdown, ranks[unit.id], unit_facts)
                 for unit, unit_facts, breakdown, total in rows]
        return sorted(found, key=_score_order)

    def _indicators(self, unit: Unit, period: str, unit_facts: UnitFacts) -> list[Indicator]:
        indicators = self._plugins.score_unit(unit, period, unit_facts)
        for indicator in indicators:
            if not isinstance(indicator, Indicator):
                raise ValidationError(
                    "govflow_score_unit", f"a plugin returned {indicator!r}", "govflow.Indicator items"
                )
        return indicators

    def bulletin(self, period: str | Period) -> Bulletin:
        """The bulletin (月通报) of a period: facts, scores, red and black lists, overdue issues, changes.

        ``bulletin.render(fmt, lang)`` writes it as ``markdown``, ``html``, ``xlsx``,
        ``csv`` or ``json``, in ``zh`` or ``en``. Like :meth:`facts`, it reads only
        ledger entries before the period's end; for a period not over yet it counts up
        to ``now()`` (``bulletin.as_of``).
        """
        chosen = Period.parse(period)
        now = self.now()  # one instant for every figure
        query = self._facts_query(chosen, now)
        # The previous period's facts are read alongside (stores that can, read them in parallel).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="govflow-facts") as pool:
            before = pool.submit(self._facts, chosen.previous(), now)
            facts = self._facts(chosen, now)
            # after the facts, with the same query: a store may reuse what it found
            overdue = self._store.overdue_at_end(query) if now > chosen.start else []
            previous_facts = before.result()
        scores = self._scores(chosen, facts)
        previous = self._scores(chosen.previous(), previous_facts)
        flow = cast("Govflow", self)  # the mixin is only ever part of Govflow
        rolled = rollup_facts(facts, self.units())
        built = build_bulletin(flow, chosen, query.end, now, facts, scores, previous, overdue)
        return add_plan_section(built, rolled, self._scores(chosen, rolled), flow, query.end, now)

    def evaluation(self, period: str | Period) -> list[UnitEvaluation]:
        """The comprehensive evaluation (综合考评) of a period, usually a year (``"2020"``).

        Per unit, the mean of its monthly totals weighted by what fell due in each month
        (months not over yet are left out),
        graded by the policy (优秀 >= 90, 良好 >= 80, 合格 >= 60, else 不合格) and ranked
        within its level. Ordered like :meth:`scores`.
        """
        chosen = Period.parse(period)
        levels: dict[str, str] = {}
        weighted: dict[str, float] = {}
        due: dict[str, int] = {}
        months: dict[str, int] = {}
        now = self.now()
        for month in chosen.months():
            if month.end > now:  # a month not over yet: its figures are not final
                continue
            for score in self.scores(month):
                levels[score.unit] = score.level
                due[score.unit] = due.get(score.unit, 0) + score.facts.due
                weighted.setdefault(score.unit, 0.0)
                months.setdefault(score.unit, 0)
                if score.total is not None:
                    weighted[score.unit] += score.total * score.facts.due
                    months[score.unit] += 1
        means = {unit: round(weighted[unit] / due[unit], 2) if due[unit] else None for unit in levels}
        ranks = rank_within_levels([(unit, levels[unit], means[unit]) for unit in levels])
        found = [
            UnitEvaluation(unit, levels[unit], means[unit], self._scoring.grade(means[unit]), ranks[unit],
                           due[unit], months[unit])
            for unit in levels
        ]
        return sorted(found, key=_score_order)


def _score_order(score: UnitScore | UnitEvaluation) -> tuple[int, bool, int, str]:
    level = LEVELS.index(score.level) if score.level in LEVELS else len(LEVELS)
    return level, score.rank is None, score.rank or 0, score.unit
