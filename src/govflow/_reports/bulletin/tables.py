"""Bulletin renderers for text formats: Markdown, JSON and CSV (UTF-8 with a BOM for Excel).

The HTML renderer lives in :mod:`govflow._reports.bulletin.html` and the xlsx one in
:mod:`govflow._reports.bulletin.xlsx`; all of them start from the same tables built here,
so every format shows the same figures under the same labels.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ..._core.errors import ValidationError
from ..._stores.facts import COUNTS
from ..escape import csv_text, md_text
from .labels import check_lang, grade_name, label

if TYPE_CHECKING:
    from ..._flow.facade import Govflow
    from ..scoring import Indicator
    from .build import Bulletin

__all__ = [
    "FACT_COLUMNS",
    "Table",
    "bulletin_csv",
    "bulletin_json",
    "bulletin_markdown",
    "bulletin_tables",
    "cell_text",
    "requested",
]

#: The per-unit figures shown in a bulletin, in order (``due`` is labelled 到期数).
FACT_COLUMNS: Final = (
    "assigned", "accepted_on_time", "due", "fed_back_on_time", "closed", "feedbacks", "first_pass",
    "rejections", "extensions", "overdue_at_end", "cooperating", "mean_rating",
)
#: The tables of a bulletin, in the order every format shows them.
TABLES: Final = ("ranking", "facts", "red_list", "black_list", "overdue", "changes", "rollup", "plans", "lagging")

Cell = str | int | float | None
#: One table: its key, its heading and column headings in a language, and its rows of plain values.
Table = tuple[str, str, list[str], list[list[Cell]]]


def requested(options: dict[str, Any]) -> tuple[Bulletin, str]:
    """The ``bulletin`` and ``lang`` options a bulletin renderer was called with."""
    from .build import Bulletin

    bulletin = options.get("bulletin")
    if not isinstance(bulletin, Bulletin):
        raise ValidationError("bulletin", f"got {bulletin!r}", "a govflow.Bulletin (use bulletin.render(fmt, lang))")
    return bulletin, check_lang(options.get("lang", "zh"))


def level_name(level: str, lang: str) -> str:
    """A unit level in words."""
    return label(f"level_{level}", lang)


def _fact_heading(name: str, lang: str) -> str:
    return label("due_count" if name == "due" else name, lang)


def _fact_value(facts: Any, name: str) -> Cell:
    value = getattr(facts, name)
    return round(value, 2) if isinstance(value, float) else value


def _reasons(reasons: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(label(f"reason_{r}", lang) for r in reasons)


def bulletin_tables(bulletin: Bulletin, lang: str = "zh") -> list[Table]:
    """The bulletin's tables in ``lang``, as plain values (numbers stay numbers)."""
    name = bulletin.unit_name
    ranking_head = [label(k, lang) for k in ("level", "rank", "unit", "total", "grade")]
    # every indicator any unit has, in the order they first appear (a plugin may score some levels only)
    first: dict[str, Indicator] = {}
    for unit_score in bulletin.scores:
        for indicator in unit_score.breakdown:
            first.setdefault(indicator.name, indicator)
    indicators = list(first.values())
    ranking_head += [  # deductions are points already (督办扣分)
        i.label(lang) if i.count is not None else label("points_of", lang).format(name=i.label(lang))
        for i in indicators
    ]
    ranking: list[list[Cell]] = []
    for score in bulletin.scores:
        total = score.total
        row: list[Cell] = [
            level_name(score.level, lang), score.rank, name(score.unit),
            total if total is not None else label("not_scored", lang),
            grade_name(bulletin.flow.scoring.grade(total), lang),
        ]
        points = {i.name: i.score for i in score.breakdown}
        row += [round(points[i.name], 2) if total is not None and i.name in points else None for i in indicators]
        ranking.append(row)
    facts_head = [label("unit", lang)] + [_fact_heading(n, lang) for n in FACT_COLUMNS]
    facts_head += [label(f"step_{s}", lang) for s in ("urge", "supervise", "interview")]
    facts_rows: list[list[Cell]] = []
    for unit_id, facts in bulletin.facts.items():
        cells: list[Cell] = [name(unit_id)]
        cells += [_fact_value(facts, n) for n in FACT_COLUMNS]
        cells += [facts.escalations.get(s, 0) for s in ("urge", "supervise", "interview")]
        facts_rows.append(cells)
    totals = bulletin.totals()
    total_cells: list[Cell] = [label("all_units", lang)]
    total_cells += [_fact_value(totals, n) for n in FACT_COLUMNS]
    total_cells += [totals.escalations.get(s, 0) for s in ("urge", "supervise", "interview")]
    facts_rows.append(total_cells)
    listed_head = [label(k, lang) for k in ("level", "unit", "total", "rank", "reasons")]
    red = [[level_name(u.level, lang), name(u.unit), u.total, u.rank, _reasons(u.reasons, lang)]
           for u in bulletin.red_list]
    black = [[level_name(u.level, lang), name(u.unit), u.total, u.rank, _reasons(u.reasons, lang)]
             for u in bulletin.black_list]
    overdue_head = [label(k, lang) for k in (
        "unit", "issue", "issue_title", "due", "days_overdue", "state", "responsible_first", "responsible_direct")]
    overdue: list[list[Cell]] = []
    for issue in bulletin.overdue_issues():
        people = issue.responsible
        overdue.append([
            name(issue.unit), issue.issue_id, issue.title, issue.due.isoformat(), issue.days_overdue,
            bulletin.flow.label(issue.state, lang), people.first if people else None, people.direct if people else None,
        ])
    changes_head = [label(k, lang) for k in (
        "level", "unit", "total", "previous_total", "change", "rank", "previous_rank", "rank_change")]
    changes = [[level_name(c.level, lang), name(c.unit), c.total, c.previous_total, c.change, c.rank,
                c.previous_rank, c.rank_change] for c in bulletin.changes]
    previous = bulletin.previous
    from .build import period_name
    from .plans import plan_tables

    return [
        ("ranking", label("ranking", lang), ranking_head, ranking),
        ("facts", label("facts", lang), facts_head, facts_rows),
        ("red_list", label("red_list", lang), listed_head, red),
        ("black_list", label("black_list", lang), listed_head, black),
        ("overdue", label("overdue", lang), overdue_head, overdue),
        ("changes", label("changes", lang).format(previous=period_name(previous, lang)), changes_head, changes),
        *plan_tables(bulletin, lang),
    ]


def cell_text(value: Cell) -> str:
    """A cell as text: empty for None, numbers without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def bulletin_markdown(flow: Govflow, **options: Any) -> str:
    """The bulletin as Markdown: a title, the summary, then one table per section."""
    bulletin, lang = requested(options)

    def line(cells: Sequence[Cell]) -> str:
        return "| " + " | ".join(_md(cell_text(c)) for c in cells) + " |"

    totals = bulletin.totals()
    out = [f"# {_md(bulletin.title(lang))}", ""]
    if bulletin.issuer:
        out.append(f"{label('issuer', lang)}: {_md(bulletin.issuer)}  ")
    if bulletin.as_of < bulletin.period.end:
        out.append(f"{label('as_of', lang)}: {bulletin.as_of_text(lang)}  ")
    out.append(f"{label('produced_at', lang)}: {bulletin.produced_on(lang)}")
    out += ["", f"## {label('summary', lang)}", ""]
    out += [f"- {_fact_heading(n, lang)}: {cell_text(_fact_value(totals, n))}" for n in FACT_COLUMNS]
    for _, heading, head, rows in bulletin_tables(bulletin, lang):
        out += ["", f"## {heading}", ""]
        if not rows:
            out.append(label("none", lang))
            continue
        out += [line(head), "|" + "---|" * len(head)]
        out += [line(row) for row in rows]
    if bulletin.checkpoint is not None:
        out += ["", f"{label('checkpoint', lang)}: `{bulletin.checkpoint}`"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Text for a Markdown line or table cell: no raw HTML, no line breaks, no stray column bars, no links."""
    return md_text(text)


def csv_cell(value: Cell) -> str:
    """A cell for CSV: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    text = cell_text(value)
    return csv_text(text) if isinstance(value, str) else text


def bulletin_json(flow: Govflow, **options: Any) -> str:
    """The bulletin as JSON: every figure by field name, with the labels of ``lang`` alongside."""
    bulletin, lang = requested(options)
    grade = bulletin.flow.scoring.grade
    document = {
        "period": str(bulletin.period),
        "previous": str(bulletin.previous),
        "title": bulletin.title(lang),
        "lang": lang,
        "produced_at": bulletin.produced_at.isoformat(),
        "as_of": bulletin.as_of.isoformat(),
        "issuer": bulletin.issuer,
        "checkpoint": None if bulletin.checkpoint is None else str(bulletin.checkpoint),
        "units": {
            unit_id: {"name": unit.name, "level": unit.level, "parent": unit.parent}
            for unit_id, unit in bulletin.units.items()
        },
        "facts": {
            unit_id: {**{n: getattr(f, n) for n in COUNTS}, "mean_rating": f.mean_rating,
                      "escalations": dict(f.escalations)}
            for unit_id, f in bulletin.facts.items()
        },
        "scores": [
            {
                "unit": s.unit, "level": s.level, "total": s.total, "rank": s.rank, "grade": grade(s.total),
                "grade_label": grade_name(grade(s.total), lang),
                "breakdown": [
                    {"name": i.name, "label": i.label(lang), "value": i.value, "weight": i.weight,
                     "score": i.score, "count": i.count}
                    for i in s.breakdown
                ],
            }
            for s in bulletin.scores
        ],
        "red_list": [_listed(u) for u in bulletin.red_list],
        "black_list": [_listed(u) for u in bulletin.black_list],
        "overdue": [
            {"issue_id": i.issue_id, "title": i.title, "unit": i.unit, "due": i.due.isoformat(),
             "days_overdue": i.days_overdue, "state": i.state,
             "responsible": i.responsible.as_dict() if i.responsible else None}
            for i in bulletin.overdue_issues()
        ],
        "changes": [
            {"unit": c.unit, "level": c.level, "total": c.total, "previous_total": c.previous_total,
             "change": c.change, "rank": c.rank, "previous_rank": c.previous_rank, "rank_change": c.rank_change}
            for c in bulletin.changes
        ],
        "labels": {key: label(key, lang) for key in ("ranking", "facts", "red_list", "black_list", "overdue")},
    }
    if bulletin.rollup:
        rolled = {s.unit: s.total for s in bulletin.rollup_scores}
        document["rollup"] = {
            unit_id: {**{n: getattr(f, n) for n in COUNTS}, "escalations": dict(f.escalations),
                      "total": rolled.get(unit_id)}
            for unit_id, f in bulletin.rollup.items()
        }
    if bulletin.plans:
        document["plans"] = [plan_json(tree) for tree in bulletin.plans]
    return json.dumps(document, ensure_ascii=False, indent=2)


def plan_json(tree: Any) -> dict[str, Any]:
    """A plan's progress tree as JSON: totals, phases, units and every target."""
    def roll(r: Any) -> dict[str, Any]:
        return {"key": r.key, "progress": r.progress, "expected": r.expected, "lag": r.lag, "targets": r.targets,
                "lagging": r.lagging}

    return {
        "id": tree.plan.id, "title": tree.plan.title, "state": tree.plan.state, "as_of": tree.as_of.isoformat(),
        "progress": tree.progress, "expected": tree.expected, "lag": tree.lag,
        "phases": [roll(r) for r in tree.phases], "units": [roll(r) for r in tree.units],
        "targets": [
            {"id": n.target.id, "parent": n.target.parent, "title": n.target.title, "unit": n.target.unit,
             "phase": n.target.phase, "due": n.target.due.isoformat(), "weight": n.target.weight,
             "state": n.target.state, "progress": n.progress, "expected": n.expected, "lag": n.lag,
             "status": n.status, "responsible": n.target.responsible.as_dict() if n.target.responsible else None}
            for n in tree.walk()
        ],
    }


def _listed(unit: Any) -> dict[str, Any]:
    return {"unit": unit.unit, "level": unit.level, "total": unit.total, "rank": unit.rank,
            "reasons": list(unit.reasons), "interviews": unit.interviews}


def bulletin_csv(flow: Govflow, **options: Any) -> str:
    """One table of the bulletin as CSV starting with a UTF-8 BOM (Excel shows Chinese correctly).

    ``table`` picks it: ``ranking`` (the default), ``facts``, ``red_list``,
    ``black_list``, ``overdue``, ``changes``, ``rollup``, ``plans`` or ``lagging`` (the last
    three are empty when the bulletin has no roll-up or no plans).
    """
    bulletin, lang = requested(options)
    wanted = options.get("table", "ranking")
    if wanted not in TABLES:
        raise ValidationError("table", f"got {wanted!r}", ", ".join(TABLES))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for key, _, head, rows in bulletin_tables(bulletin, lang):
        if key == wanted:
            writer.writerow(head)
            writer.writerows([[csv_cell(c) for c in row] for row in rows])
    return "\ufeff" + buffer.getvalue()
