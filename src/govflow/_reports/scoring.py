"""Scoring (考评): indicators per unit and period, totals, ranks and the year's evaluation.

The default indicators come from :class:`DefaultScoring`, an ordinary plugin
implementing ``govflow_score_unit``; other plugins add their own. A unit's
total is the sum of the scores of every indicator, clamped to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._core.errors import ValidationError
from .._core.model import Unit
from .._deadlines.ladder import STEP_LABELS
from .._plugins.manager import hookimpl
from .._stores.facts import UnitFacts

if TYPE_CHECKING:
    from .._flow.facade import Govflow
    from .._plans.progress import PlanProgress

__all__ = [
    "DEFAULT_WEIGHTS",
    "INDICATOR_LABELS",
    "OPTIONAL_INDICATORS",
    "DefaultScoring",
    "Indicator",
    "ScoringPolicy",
    "UnitEvaluation",
    "UnitScore",
    "grade",
    "grade_name",
    "indicator_rates",
    "rank_within_levels",
    "target_completion",
    "total_of",
]

#: The default indicators and their weights (points out of 100).
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = {
    "accepted_on_time": 10.0,
    "fed_back_on_time": 30.0,
    "closed": 20.0,
    "first_pass": 10.0,
    "rework": 10.0,
    "satisfaction": 20.0,
}

#: Indicators a deployment may add by giving them a weight: 目标完成率, a unit's work-plan progress against
#: the progress expected by then (its targets and those of the units below it; see docs/plans.md).
OPTIONAL_INDICATORS: Final = ("target_completion",)

#: Labels of the default indicators and deductions: name -> (Chinese, English).
INDICATOR_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "target_completion": ("目标完成率", "targets on schedule"),
    "accepted_on_time": ("及时签收率", "accepted on time"),
    "fed_back_on_time": ("按时办结率", "fed back by the due date"),
    "closed": ("销号率", "closed"),
    "first_pass": ("一次核验通过率", "passed verification first time"),
    "rework": ("发回重办率（反向）", "not sent back for rework"),
    "satisfaction": ("满意率", "satisfaction"),
    "due_soon": ("临期提醒扣分", "due-soon reminder deduction"),
    "overdue": ("逾期扣分", "overdue deduction"),
    "urge": ("催办扣分", "urge deduction"),
    "supervise": ("督办扣分", "supervision notice deduction"),
    "interview": ("约谈扣分", "interview deduction"),
}

#: The default grades: (lowest total, grade), best first; below the last one: 不合格.
DEFAULT_GRADES: Final = ((90.0, "优秀"), (80.0, "良好"), (60.0, "合格"))
#: The default grades' English names.
DEFAULT_GRADE_NAMES: Final[Mapping[str, str]] = {"优秀": "excellent", "良好": "good", "合格": "pass", "不合格": "fail"}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@attrs.frozen
class ScoringPolicy:
    """How units are scored: pass one to ``govflow.open(..., scoring=ScoringPolicy(...))``.

    ``weights`` maps the default indicators (``accepted_on_time``,
    ``fed_back_on_time``, ``closed``, ``first_pass``, ``satisfaction``) to their
    weight in points; an indicator left out is not scored. The weights must add
    up to ``points`` (100, the most a unit can score; set it lower when a
    plugin's own indicators score the rest), or a perfect unit could not reach
    the top grade: other sums are refused, unless ``normalise=True``, which
    scales the weights given to add up to ``points``. ``deductions`` maps deadline
    steps to the points each one costs (negative). An indicator whose value is
    below ``floor`` (0..100) scores 0. ``accept_within`` is the acceptance (签收)
    limit in working days after the day of assignment. ``grades`` are
    ``(lowest total, grade)`` pairs, best first; a total below the last is
    ``fail_grade``.
    """

    weights: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_WEIGHTS), hash=False)
    deductions: Mapping[str, float] = attrs.field(
        factory=lambda: {"supervise": -1.0, "interview": -2.0}, hash=False
    )
    floor: float | None = None
    accept_within: int = 1
    grades: tuple[tuple[float, str], ...] = DEFAULT_GRADES
    fail_grade: str = "不合格"
    points: float = attrs.field(default=100.0, kw_only=True)
    normalise: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        for name, weight in self.weights.items():
            if name not in DEFAULT_WEIGHTS and name not in OPTIONAL_INDICATORS:
                raise ValidationError("scoring.weights", f"no indicator {name!r}",
                                      ", ".join((*DEFAULT_WEIGHTS, *OPTIONAL_INDICATORS)))
            if not _number(weight) or weight < 0:
                raise ValidationError(f"scoring.weights.{name}", f"got {weight!r}", "a number >= 0")
        if not _number(self.points) or not 0 < self.points <= 100:
            raise ValidationError("scoring.points", f"got {self.points!r}", "a number above 0 and at most 100")
        if not isinstance(self.normalise, bool):
            raise ValidationError("scoring.normalise", f"got {self.normalise!r}", "True or False")
        total = float(sum(self.weights.values()))
        if self.normalise:
            if total <= 0:
                raise ValidationError("scoring.weights", "they add up to 0: nothing to scale", "a weight above 0")
            scaled = {name: float(w) * self.points / total for name, w in self.weights.items()}
            object.__setattr__(self, "weights", scaled)  # frozen: set once, here
        elif abs(total - self.points) > 1e-6:
            raise ValidationError(
                "scoring.weights",
                f"they add up to {total:g}, so a unit that does everything would score {total:g} of {self.points:g}",
                f"weights adding up to {self.points:g}; normalise=True to scale them; or points={total:g} "
                "when a plugin's indicators score the rest",
            )
        for step, points in self.deductions.items():
            if step not in STEP_LABELS:
                raise ValidationError("scoring.deductions", f"no deadline step {step!r}", ", ".join(STEP_LABELS))
            if not _number(points) or points > 0:
                raise ValidationError(f"scoring.deductions.{step}", f"got {points!r}", "a number <= 0")
        if self.floor is not None and (not _number(self.floor) or not 0 <= self.floor <= 100):
            raise ValidationError("scoring.floor", f"got {self.floor!r}", "None or a number from 0 to 100")
        if isinstance(self.accept_within, bool) or not isinstance(self.accept_within, int) or self.accept_within < 0:
            raise ValidationError("scoring.accept_within", f"got {self.accept_within!r}", "an integer >= 0")
        lows = [low for low, _ in self.grades]
        if not all(_number(low) for low in lows) or lows != sorted(lows, reverse=True):
            raise ValidationError("scoring.grades", f"got {self.grades!r}", "(lowest total, grade) pairs, best first")

    def grade(self, total: float | None, lang: str = "zh") -> str | None:
        """The grade of a total (None for None); with ``lang="en"`` the default grades in English
        (优秀 excellent, 良好 good, 合格 pass, 不合格 fail), a deployment's own names as they are."""
        found = grade(total, self.grades, self.fail_grade)
        return None if found is None else grade_name(found, lang)


def grade_name(grade: str | None, lang: str = "zh") -> str:
    """A grade in ``lang``: the default grades (优秀, 良好, 合格, 不合格) have English names; others stay as given."""
    if grade is None:
        return ""
    if lang == "en":
        return DEFAULT_GRADE_NAMES.get(grade, grade)
    return grade


def grade(total: float | None, grades: Sequence[tuple[float, str]] = DEFAULT_GRADES, fail: str = "不合格") -> (
    str | None
):
    """The grade of ``total``: the first ``(lowest, grade)`` it reaches, else ``fail``."""
    if total is None:
        return None
    for low, name in grades:
        if total >= low:
            return name
    return fail


@attrs.frozen
class Indicator:
    """One line of a unit's score: what was measured and the points it gives.

    ``value`` is the rate (0..100; None when it does not apply, say nothing was
    assigned, and for deductions), ``weight`` the configured weight (for a
    deduction: the points per step), ``score`` the points counted in the total
    (negative for deductions). ``count`` is the number of steps a deduction is for.
    Values and scores are not rounded; the unit's total is rounded to 2 decimals.
    """

    name: str
    label_zh: str
    label_en: str
    value: float | None
    weight: float
    score: float
    count: int | None = None

    def label(self, lang: str = "zh") -> str:
        """The label in ``lang`` (``zh`` or ``en``)."""
        return self.label_en if lang == "en" else self.label_zh


@attrs.frozen
class UnitScore:
    """One unit's score for a period: ``total`` (None when nothing fell due), the
    ``breakdown`` of every plugin's indicators, and ``rank`` within the unit's level
    (None when ``total`` is None). ``facts`` are the figures it was computed from."""

    unit: str
    level: str
    total: float | None
    breakdown: tuple[Indicator, ...]
    rank: int | None
    facts: UnitFacts


@attrs.frozen
class UnitEvaluation:
    """One unit's comprehensive evaluation (综合考评) of a period, usually a year.

    ``score`` is the mean of the monthly totals weighted by what fell due in each
    month (``due``: the total workload; ``months``: the months scored); None when
    nothing fell due. ``grade`` follows the policy's thresholds; ``rank`` is
    within the unit's level.
    """

    unit: str
    level: str
    score: float | None
    grade: str | None
    rank: int | None
    due: int
    months: int


def _rate(numerator: int, denominator: int) -> float | None:
    if denominator <= 0:
        return None
    return min(100.0, max(0.0, 100.0 * numerator / denominator))


def indicator_rates(facts: UnitFacts) -> dict[str, float | None]:
    """The default indicators' rates (0..100, None where nothing is measured) of ``facts``.

    及时签收率 ``accepted_on_time / assigned``, 按时办结率 ``fed_back_on_time / due``,
    销号率 ``closed / due``, 一次核验通过率 ``1 - rejections / feedbacks``, 发回重办率 (scored
    inversely) ``1 - (rejections + callback_reworks) / (feedbacks + callbacks)``, 满意率
    ``callbacks_satisfied / callbacks`` where there were call-backs (回访), else ``mean rating * 20``.
    """
    mean = facts.mean_rating
    sent_back = facts.rejections + facts.callback_reworks
    looked_at = facts.feedbacks + facts.callbacks
    if facts.callbacks:
        satisfaction: float | None = _rate(facts.callbacks_satisfied, facts.callbacks)
    else:
        satisfaction = None if mean is None else min(100.0, max(0.0, mean * 20.0))
    return {
        "accepted_on_time": _rate(facts.accepted_on_time, facts.assigned),
        "fed_back_on_time": _rate(facts.fed_back_on_time, facts.due),
        "closed": _rate(facts.closed, facts.due),
        "first_pass": _rate(facts.feedbacks - facts.rejections, facts.feedbacks),
        "rework": _rate(looked_at - sent_back, looked_at),
        "satisfaction": satisfaction,
    }


class DefaultScoring:
    """The default indicators (及时签收率, 按时办结率, 销号率, 一次核验通过率, 满意率) and
    the deductions for 督办 and 约谈, weighted by the flow's :class:`ScoringPolicy`.

    An indicator that does not apply (value None) scores 0, and the weights of
    those that apply are scaled up to the full weight, so a unit is not marked
    down for what it was not asked to do.
    """

    name = "scoring"

    def __init__(self) -> None:
        self.policy = ScoringPolicy()
        self.flow: Govflow | None = None
        self._cache: dict[tuple[str, int], list[PlanProgress]] = {}

    @hookimpl(tryfirst=True)
    def govflow_startup(self, flow: Govflow) -> None:
        """Take the flow's scoring policy."""
        self.policy = flow.scoring
        self.flow = flow

    @hookimpl(tryfirst=True)
    def govflow_score_unit(self, unit: Unit, period: str, facts: Any) -> list[Any] | None:
        """The default indicators for ``unit`` from its ``facts`` (and its targets, if 目标完成率 is weighted)."""
        if not isinstance(facts, UnitFacts):
            return None
        extra: dict[str, float | None] = {}
        if "target_completion" in self.policy.weights and self.flow is not None:
            extra["target_completion"] = target_completion(self._trees(self.flow, period), unit.id)
        return self.indicators(facts, extra)

    def _trees(self, flow: Govflow, period: str) -> list[PlanProgress]:
        """The plans' progress trees at the period's end (or now), kept while the ledger does not move."""
        from .period import Period

        key = (period, flow.store.chain_head()[0])
        if key not in self._cache:
            found = Period.parse(period)
            as_of = min(found.end, flow.now())
            self._cache = {key: [flow.plan_progress(p.id, as_of=as_of) for p in flow.plans() if p.created_at <= as_of]}
        return self._cache[key]

    def indicators(self, facts: UnitFacts, extra: Mapping[str, float | None] | None = None) -> list[Indicator]:
        """The default indicators and deductions for one unit's facts (``extra``: the optional indicators' values)."""
        policy = self.policy
        values = {**indicator_rates(facts), **dict.fromkeys(OPTIONAL_INDICATORS), **(extra or {})}
        weights = {name: float(w) for name, w in policy.weights.items()}
        full = sum(weights.values())
        applied = sum(w for name, w in weights.items() if values[name] is not None)
        scale = full / applied if applied else 0.0
        found: list[Indicator] = []
        for name in (*DEFAULT_WEIGHTS, *OPTIONAL_INDICATORS):
            if name not in weights:
                continue
            value = values[name]
            score = 0.0
            if value is not None and (policy.floor is None or value >= policy.floor):
                score = value * weights[name] / 100.0 * scale
            zh, en = INDICATOR_LABELS[name]
            found.append(Indicator(name, zh, en, value, weights[name], score))
        for step, points in policy.deductions.items():
            count = facts.escalations.get(step, 0)
            zh, en = INDICATOR_LABELS[step]
            found.append(Indicator(step, zh, en, None, float(points), float(count * points) if count else 0.0, count))
        return found


def target_completion(trees: Sequence[PlanProgress], unit: str) -> float | None:
    """目标完成率 of ``unit``: over the plans' progress trees, the mean of its roll-up progress against the
    progress expected by then, capped at 100 (None: it holds no target expected to have progressed yet)."""
    rates: list[float] = []
    for tree in trees:
        try:
            rollup = tree.unit(unit)
        except KeyError:
            continue
        if rollup.expected > 0:
            rates.append(min(100.0, 100.0 * rollup.progress / rollup.expected))
    return sum(rates) / len(rates) if rates else None


def total_of(breakdown: Sequence[Indicator], facts: UnitFacts) -> float | None:
    """The total of a breakdown, clamped to 0..100; None when nothing fell due."""
    if facts.due == 0:
        return None
    return round(min(100.0, max(0.0, sum(i.score for i in breakdown))), 2)


def rank_within_levels(totals: Sequence[tuple[str, str, float | None]]) -> dict[str, int | None]:
    """Competition ranks (1, 2, 2, 4) of ``(unit, level, total)`` within each level, best first."""
    ranks: dict[str, int | None] = {unit: None for unit, _, _ in totals}
    by_level: dict[str, list[tuple[str, float]]] = {}
    for unit, level, total in totals:
        if total is not None:
            by_level.setdefault(level, []).append((unit, total))
    for scored in by_level.values():
        for unit, total in scored:
            ranks[unit] = 1 + sum(1 for _, other in scored if other > total)
    return ranks
