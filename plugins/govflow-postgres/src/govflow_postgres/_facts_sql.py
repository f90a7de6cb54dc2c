"""The SQL behind ``PostgresStore.period_facts`` and ``overdue_at_end``.

The rules are govflow's (``govflow.storage.compute_facts`` is the reference
semantics); the contract suite and the property tests hold this SQL to it. The
approach is the SQLite store's (``govflow._stores.sqlite.facts``) in PostgreSQL terms:

* the entries in the period are read once, through the time index (``p``);
* only the issues that can count are read (``relevant``: active in the period,
  due in it, or possibly overdue at its end), and each one's entries before the
  end are folded in one ``GROUP BY`` pass as they are read (``per_issue``:
  ``FILTER`` clauses; "the value at the last such entry" as the ``max()`` of the
  value behind its zero-padded seq, since ``array_agg(... ORDER BY seq DESC)[1]``
  sorts every group and took longer than the whole rest of the pass);
* the lead at the time of an entry in the period is looked up only for issues
  that were reassigned, the acceptance that answers an assignment by a window;
* one result set holds every figure and the overdue issues themselves, which
  ``PostgresStore`` keeps for ``overdue_at_end``.

Instants are exact here (``ledger.at_utc`` is a ``timestamptz``); only the
issue rows keep their times as ISO text with their own offsets, and those are
used only to narrow down the issues read, with two days to spare.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Final

from govflow import FactsQuery, OverdueAtEnd
from govflow.storage import local_day, overdue_order

__all__ = ["FACTS_SQL", "facts_args", "parse_facts_rows"]

_date = dt.date.fromisoformat

# Issue times are ISO text with their own offsets: compared as text, with this much to spare.
_MARGIN: Final = dt.timedelta(days=2)
# The counts in each kind of facts row, in column order (n1, n2, ...).
_ROW_COUNTS: Final = {
    "x": ("assigned", "feedbacks", "rejections", "extensions", "closed", "first_pass", "ratings", "rating_sum"),
    "accepted": ("accepted_on_time",),
    "cooperating": ("cooperating",),
    "end": ("due", "fed_back_on_time", "overdue_at_end"),
}


def _day(at: str) -> str:
    """SQL for the ISO day of the instant ``at`` at UTC+8 (as :func:`govflow.storage.local_day`)."""
    return f"(({at} AT TIME ZONE INTERVAL '+08:00')::date)::text"


def _last(value: str, where: str | None = None) -> str:
    """SQL for ``value`` at the group's row with the highest seq (among those ``where`` holds)."""
    found = f"max((lpad(seq::text, 19, '0') || {value}) COLLATE \"C\")"
    return f"substr({found}{'' if where is None else f' FILTER (WHERE {where})'}, 20)"


_IN_PERIOD: Final = """
p AS MATERIALIZED (
    -- the entries in the period (the time index), with the few values of the data their counts read
    SELECT seq, issue_id, trigger, at_utc,
        CASE WHEN trigger = 'deadline' THEN j ->> 'unit' END AS unit,
        CASE WHEN trigger = 'deadline' THEN j ->> 'step' END AS step,
        CASE WHEN trigger = 'verify' THEN nullif(j -> 'rating', 'null'::jsonb) END AS rating,
        CASE WHEN trigger = 'assign' THEN j -> 'cooperating' END AS coop,
        -- an assignment's own last day to accept (the issue's acceptance limit), when its entry records one
        CASE WHEN trigger IN ('assign', 'reassign') AND jsonb_typeof(j -> 'accept_by') = 'string'
             THEN j ->> 'accept_by' END AS own_limit
    FROM (
        SELECT seq, issue_id, trigger, at_utc,
            CASE WHEN trigger IN ('assign', 'deadline', 'verify')
                      OR trigger = 'reassign' AND strpos(data, '"accept_by":') > 0 THEN data::jsonb END AS j
        FROM ledger WHERE at_utc >= %(start)s AND at_utc < %(end)s
        OFFSET 0  -- parse each row's data once
    ) AS l
)"""


def _issues_to_end(active: str) -> str:
    """The CTEs up to ``issue_end`` (each issue that can count, at the period's end), the issues active in the
    period being ``active`` (SQL naming them ``issue_id``)."""
    return f"""
relevant AS MATERIALIZED (
    -- the issues that can count: active in the period, due in it, or possibly overdue at its end (untouched
    -- since before it and still where the lead must act, or touched only after it). A superset does no
    -- harm, so the issue rows' times (text with offsets) are compared as text, two days off the bounds.
    SELECT issue_id AS id FROM {active}
    UNION
    SELECT id FROM issues
    WHERE created_at < %(end_hi)s
      AND (original_due >= %(start_date)s AND original_due < %(end_date)s
           OR updated_at < %(start_hi)s AND state = ANY(%(lead_states)s::text[])
           OR created_at < %(start_hi)s AND updated_at >= %(start_lo)s)
),
per_issue AS MATERIALIZED (
    -- one pass over each issue's entries before the end. "The value at the issue's last entry where ...": the
    -- value behind the entry's zero-padded seq, so that max() picks it (compared byte by byte;
    -- array_agg(... ORDER BY seq DESC) would sort every issue's rows). The assignment is an issue's first
    -- entry: only later entries that set a lead or a date need the padding.
    SELECT issue_id,
        min(who) FILTER (WHERE trigger = 'assign') AS assign_lead,
        coalesce({_last("who", "trigger = 'reassign'")}, min(who) FILTER (WHERE trigger = 'assign')) AS lead,
        count(*) FILTER (WHERE trigger = 'reassign') AS reassigns,
        -- the original due date: the assignment's, or the latest one an entry carries (counted again)
        coalesce({_last("odue_set", "odue_set IS NOT NULL")}, min(due) FILTER (WHERE trigger = 'assign')) AS odue,
        min(seq) FILTER (WHERE trigger = 'reject') AS first_reject,
        {_day("min(at_utc) FILTER (WHERE trigger = 'report')")} AS first_report,
        bool_or(trigger IN ('cancel', 'merge')) AS cancelled,  -- a merged duplicate counts once, in the original
        bool_or(trigger = 'merge') AS merged,
        max(seq) FILTER (WHERE due IS NOT NULL) AS last_due_seq,
        coalesce({_last("due", "due IS NOT NULL AND trigger <> 'assign'")}, min(due) FILTER (WHERE trigger = 'assign'))
            AS last_due,
        min(seq) FILTER (WHERE trigger = 'request_extension') AS first_request,
        max(seq) FILTER (WHERE trigger = 'approve_extension') AS last_approve,
        min(limit_lifecycle) AS limit_lifecycle,  -- set on the assignment only
        {_last("to_state")} AS state,
        -- an entry dated before the period after one in it (a clock set back)
        coalesce(max(seq) FILTER (WHERE at_utc < %(start)s) > min(seq) FILTER (WHERE at_utc >= %(start)s), false)
            AS set_back
    FROM (
        SELECT seq, issue_id, trigger, to_state, at_utc,
            CASE trigger WHEN 'assign' THEN j ->> 'lead' WHEN 'reassign' THEN j ->> 'new_lead' END AS who,
            CASE WHEN trigger NOT IN ('request_extension', 'deadline', 'approve_extension') THEN j ->> 'due' END
                AS due,
            CASE WHEN trigger <> 'assign' THEN j ->> 'original_due' END AS odue_set,
            -- an assignment without an acceptance limit of its own: its lifecycle's applies, when the query has one
            CASE WHEN %(lifecycle_limits)s AND trigger = 'assign' AND NOT j ? 'accept_limit'
                 THEN (j ->> 'lifecycle') || '@' || (j ->> 'lifecycle_version') END AS limit_lifecycle
        FROM (
            SELECT seq, issue_id, trigger, to_state, at_utc,
                CASE WHEN trigger IN ('assign', 'reassign') OR strpos(data, '"due":') > 0
                          OR strpos(data, '"original_due":') > 0 THEN data::jsonb END AS j
            -- one scan of the (issue_id, issue_seq) index for all of them
            FROM ledger WHERE issue_id = ANY(ARRAY(SELECT id FROM relevant)) AND at_utc < %(end)s
            OFFSET 0  -- parse each row's data once
        ) AS l
    ) AS e
    GROUP BY issue_id
),
issue_end AS MATERIALIZED (
    SELECT issue_id, lead AS unit, state, due,
        odue >= %(start_day)s AND odue < %(end_day)s AND NOT cancelled AS is_due,
        first_report IS NOT NULL AND first_report <= odue AS on_time,
        state = ANY(%(lead_states)s::text[]) AND due < %(end_day)s
            AND (%(any_lifecycle)s OR lifecycle || ':' || state = ANY(%(lead_keys)s::text[])) AS overdue
    FROM (
        SELECT *, (
            SELECT x.lifecycle || '@' || x.lifecycle_version FROM issues x WHERE x.id = i.issue_id
        ) AS lifecycle, CASE
            -- an approval after the last date set otherwise moves the due date to the request it approves
            WHEN last_approve > first_request AND last_approve > coalesce(last_due_seq, 0)
            THEN (SELECT r.data::jsonb ->> 'due' FROM ledger r
                  WHERE r.issue_id = i.issue_id AND r.trigger = 'request_extension' AND r.seq < i.last_approve
                  ORDER BY r.seq DESC LIMIT 1)
            ELSE last_due END AS due
        FROM per_issue i
    ) AS s
)"""


_CTES: Final = "WITH" + _IN_PERIOD + "," + _issues_to_end("p") + f""",
x AS MATERIALIZED (
    -- the entries in the period, with the lead at the time
    SELECT p.seq, p.issue_id, p.trigger, p.at_utc, p.unit, p.step, p.rating, p.coop, p.own_limit, i.first_reject,
        i.merged, i.limit_lifecycle,
        CASE WHEN i.reassigns = 0 OR p.trigger = 'assign' THEN i.assign_lead
             ELSE coalesce((SELECT r.data::jsonb ->> 'new_lead' FROM ledger r
                            WHERE r.issue_id = p.issue_id AND r.trigger = 'reassign' AND r.seq <= p.seq
                              AND r.at_utc < %(end)s
                            ORDER BY r.seq DESC LIMIT 1), i.assign_lead) END AS lead
    FROM p JOIN per_issue i USING (issue_id)
),
answers AS (
    -- the assignments in the period and what can answer them (acceptances, reassignments), there or (only after
    -- a clock was set back) before it
    SELECT issue_id, seq, trigger, at_utc, lead, own_limit, limit_lifecycle, merged FROM x
    WHERE trigger IN ('assign', 'reassign', 'accept')
    UNION ALL
    SELECT issue_id, seq, trigger, at_utc, NULL, NULL, NULL, NULL FROM ledger
    WHERE issue_id = ANY(ARRAY(SELECT issue_id FROM per_issue WHERE set_back))
      AND trigger IN ('accept', 'reassign') AND at_utc < %(start)s
),
accepted AS (
    -- each assignment in the period, and whether the next acceptance (before any reassignment) was on time:
    -- the next answer in sequence order, by a window (no join to go wrong on a poor estimate); on time by the
    -- issue's own limit, else its lifecycle's, else the policy's; not the assignments of an issue merged into
    -- another
    SELECT lead, next_trigger = 'accept' AND {_day("next_at")} <= coalesce(
            own_limit, %(lifecycle_accept_by)s::jsonb -> limit_lifecycle ->> {_day("at_utc")},
            %(accept_by)s::jsonb ->> {_day("at_utc")}) AS on_time
    FROM (
        SELECT issue_id, trigger, at_utc, lead, own_limit, limit_lifecycle, merged,
            lead(trigger) OVER w AS next_trigger, lead(at_utc) OVER w AS next_at
        FROM answers WINDOW w AS (PARTITION BY issue_id ORDER BY seq)
    ) AS a
    WHERE trigger IN ('assign', 'reassign') AND at_utc >= %(start)s AND NOT merged
)"""

#: One row per (kind, unit): kind, unit, eight counts (n1..n8) and three texts (t1..t3). The in-period counts
#: ('x'), the acceptances on time, the cooperating units, the per-issue figures at the end, the ladder's steps
#: (t1 the step, n1 how many) and the overdue issues themselves (t1 id, t2 due date, t3 state).
FACTS_SQL: Final = _CTES + """
SELECT 'x' AS kind, lead AS unit,
    count(*) FILTER (WHERE trigger IN ('assign', 'reassign') AND NOT merged) AS n1,
    count(*) FILTER (WHERE trigger = 'report') AS n2,
    count(*) FILTER (WHERE trigger = 'reject') AS n3,
    count(*) FILTER (WHERE trigger = 'approve_extension') AS n4,
    count(*) FILTER (WHERE trigger = 'verify') AS n5,
    count(*) FILTER (WHERE trigger = 'verify' AND (first_reject IS NULL OR first_reject > seq)) AS n6,
    count(rating) AS n7,
    sum(CASE WHEN jsonb_typeof(rating) = 'number' THEN rating::numeric END)::bigint AS n8,
    NULL::text AS t1, NULL::text AS t2, NULL::text AS t3
    FROM x WHERE trigger <> 'deadline' GROUP BY lead
UNION ALL
SELECT 'accepted', lead, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM accepted WHERE on_time GROUP BY lead
UNION ALL
SELECT 'cooperating', c.unit, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM x CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(x.coop) = 'array' THEN x.coop END)
        AS c (unit)
    WHERE x.trigger = 'assign' GROUP BY c.unit
UNION ALL
SELECT 'end', unit, count(*) FILTER (WHERE is_due), count(*) FILTER (WHERE is_due AND on_time),
    count(*) FILTER (WHERE overdue), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM issue_end GROUP BY unit
UNION ALL
SELECT 'step', unit, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, step, NULL, NULL
    FROM x WHERE trigger = 'deadline' AND step IS NOT NULL GROUP BY unit, step
UNION ALL
SELECT 'overdue', unit, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, issue_id, due, state
    FROM issue_end WHERE overdue
"""

def facts_args(query: FactsQuery) -> dict[str, Any]:
    """The named parameters of the facts queries."""
    start_day, end_day = local_day(query.start), local_day(query.end)
    return {
        "start": query.start,
        "end": query.end,
        "start_lo": (query.start - _MARGIN).isoformat(),
        "start_hi": (query.start + _MARGIN).isoformat(),
        "end_hi": (query.end + _MARGIN).isoformat(),
        "start_day": start_day,
        "end_day": end_day,
        "start_date": _date(start_day),
        "end_date": _date(end_day),
        "lead_states": list(query.lead_states),
        "any_lifecycle": not query.lifecycle_lead_states,
        "lead_keys": list(query.lead_keys()),
        "accept_by": json.dumps({day.isoformat(): until.isoformat() for day, until in query.accept_by}),
        "lifecycle_limits": bool(query.lifecycle_accept_by),
        "lifecycle_accept_by": json.dumps({key: {day.isoformat(): until.isoformat() for day, until in days}
                                           for key, days in query.lifecycle_accept_by}),
    }


def parse_facts_rows(
    rows: Sequence[Sequence[Any]],
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]], list[OverdueAtEnd]]:
    """Per-unit counts, per-unit ladder steps and the overdue issues (sorted) from the rows of FACTS_SQL."""
    counts: dict[str, dict[str, int]] = {}
    escalations: dict[str, dict[str, int]] = {}
    overdue: list[OverdueAtEnd] = []
    for kind, unit, *values in rows:
        if unit is None:
            continue
        numbers, (text1, text2, text3) = values[:8], values[8:]
        if kind == "step":
            escalations.setdefault(unit, {})[text1] = int(numbers[0])
        elif kind == "overdue":
            overdue.append(OverdueAtEnd(text1, unit, _date(text2), text3))
        else:
            found = {name: int(value) for name, value in zip(_ROW_COUNTS[kind], numbers, strict=False) if value}
            if found or kind == "x":  # any step in the period lists its lead unit, as in compute_facts
                counts.setdefault(unit, {}).update(found)
    return counts, escalations, sorted(overdue, key=overdue_order)
