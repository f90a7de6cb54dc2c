"""The SQL behind ``SQLiteStore.period_facts`` and ``overdue_at_end`` (one statement gives both).

The rules are in :mod:`govflow._stores.facts` (``compute_facts`` is the reference
semantics); the property tests hold this SQL to it on random histories.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Final

from ..facts import FactsQuery, OverdueAtEnd, local_day, overdue_order

_date = dt.date.fromisoformat

__all__ = ["FACTS_SQL", "facts_args", "parse_facts_rows"]

# Entry times are ISO text with their own offsets: compared as text only this far off a bound.
_MARGIN: Final = dt.timedelta(days=2)
# The in-period counts of a facts row of kind 'x', in column order.
_IN_PERIOD: Final = (
    "assigned", "feedbacks", "rejections", "extensions", "closed", "first_pass", "ratings", "rating_sum",
)
# The counts in each kind of facts row, in column order.
_ROW_COUNTS: Final = {
    "x": _IN_PERIOD, "accepted": ("accepted_on_time",), "cooperating": ("cooperating",),
    "end": ("due", "fed_back_on_time", "overdue_at_end"),
}
# How far before a period the facts read the ledger in time order (see FACTS_CTES).
_SCAN: Final = dt.timedelta(days=60)


def _at_utc(at: str = "at") -> str:
    """SQL for the exact UTC instant of the ISO text ``at`` (with its own offset), as fixed-width text."""
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', substr({at}, 1, 19) || substr({at}, -6))"
        f" || CASE WHEN substr({at}, 20, 1) = '.' THEN substr({at}, 20, 7) ELSE '.000000' END"
    )


def _day(at: str = "at") -> str:
    """SQL for the day of the ISO text ``at`` in Asia/Shanghai (UTC+8, no daylight saving since 1991).

    Most entries are written in +08:00 and need no date arithmetic.
    """
    return (f"CASE WHEN substr({at}, -6) = '+08:00' THEN substr({at}, 1, 10)"
            f" ELSE date(substr({at}, 1, 19) || substr({at}, -6), '+8 hours') END")


def _before_end(at: str = "at") -> str:
    """SQL: ``at`` is before the period's end, exactly: compared as text two days off the bound
    (where offsets cannot matter), converted to UTC only near it."""
    return f"({at} < :end_lo OR {at} < :end_hi AND {_at_utc(at)} < :end)"


def _from_start(at: str = "at") -> str:
    """SQL: ``at`` is at or after the period's start (as :func:`_before_end`)."""
    return f"({at} >= :start_hi OR {at} >= :start_lo AND {_at_utc(at)} >= :start)"


# The triggers whose entries the per-issue figures read (besides any entry that sets a due date).
_PER_ISSUE_TRIGGERS: Final = (
    "'assign', 'reassign', 'reject', 'report', 'cancel', 'merge', 'request_extension', 'approve_extension'"
)
# "The value at the last row where ...": the row's seq, zero-padded, before the value; max() picks it.
_PAD: Final = "printf('%012d', seq)"

# The rules are in govflow._stores.facts (compute_facts is the reference). Read only the issues that can
# count; per issue, one pass over its entries (GROUP BY); per entry in the period, its lead at the
# time (looked up only for issues that were reassigned) and, for assignments, the next acceptance.
FACTS_CTES: Final = f"""
WITH active AS MATERIALIZED (
    -- issues with an entry in the period (times carry their own offsets, hence the two-day margins)
    SELECT DISTINCT issue_id AS id FROM ledger WHERE at >= :start_lo AND at < :end_hi
),
relevant AS (
    -- the issues that can count: active in the period, due in it, or possibly overdue at its end
    -- (untouched since before it and still where the lead must act, or quiet in it and touched after it)
    SELECT id FROM active
    UNION
    SELECT id FROM issues
    WHERE created_at < :end_hi
      AND (original_due >= :start_day AND original_due < :end_day
           OR updated_at < :start_hi AND state IN (SELECT value FROM json_each(:lead_states))
           OR created_at < :start_hi AND updated_at >= :start_lo AND id NOT IN active)
),
e AS MATERIALIZED (
    -- each entry with the few values of its data the facts read (`instr` spares parsing most rows)
    SELECT seq, issue_id, trigger, to_state, at,
        CASE trigger WHEN 'assign' THEN json_extract(data, '$.lead')
                     WHEN 'reassign' THEN json_extract(data, '$.new_lead')
                     WHEN 'deadline' THEN json_extract(data, '$.unit') END AS who,
        CASE WHEN trigger NOT IN ('request_extension', 'deadline', 'approve_extension') AND instr(data, '"due":')
             THEN json_extract(data, '$.due') END AS due,
        CASE trigger WHEN 'verify' THEN json_extract(data, '$.rating') WHEN 'deadline' THEN json_extract(data, '$.step')
                     WHEN 'assign' THEN json_extract(data, '$.cooperating') END AS extra,
        CASE WHEN trigger <> 'assign' AND instr(data, '"original_due":')
             THEN json_extract(data, '$.original_due') END AS odue_set,
        -- an assignment's own last day to accept (the issue's acceptance limit), when its entry records one
        CASE WHEN trigger IN ('assign', 'reassign') AND instr(data, '"accept_by":')
                  AND json_type(data, '$.accept_by') = 'text'
             THEN json_extract(data, '$.accept_by') END AS own_limit,
        -- an assignment without an acceptance limit of its own: its lifecycle's applies, when the query has one
        CASE WHEN :lifecycle_limits AND trigger = 'assign'
                  AND NOT (instr(data, '"accept_limit":') AND json_type(data, '$.accept_limit') IS NOT NULL)
             THEN json_extract(data, '$.lifecycle') || '@' || json_extract(data, '$.lifecycle_version') END
            AS limit_lifecycle
    FROM (
        -- Entries are read in time order (the `at` index, nearly sequential in the file) from some weeks
        -- before the period, and through the issue index only for issues older than that.
        SELECT * FROM ledger WHERE at >= :scan_lo AND at < :end_hi AND +issue_id IN relevant
        UNION ALL
        SELECT * FROM ledger WHERE issue_id IN (
            SELECT id FROM issues WHERE id IN relevant AND created_at < :scan_hi
        ) AND +at < :scan_lo
    )
    WHERE {_before_end()}
),
per_issue AS MATERIALIZED (
    -- every issue has its `assign` here; acceptances, implementations, verifications and ladder steps
    -- change none of these figures
    SELECT issue_id,
        max(CASE WHEN trigger = 'assign' THEN who END) AS assign_lead,
        substr(max(CASE WHEN trigger = 'assign' THEN {_PAD} || due
                        WHEN odue_set IS NOT NULL THEN {_PAD} || odue_set END), 13) AS odue,
        substr(max(CASE WHEN trigger IN ('assign', 'reassign') THEN {_PAD} || who END), 13) AS lead,
        sum(trigger = 'reassign') AS reassigns,
        min(CASE WHEN trigger = 'reject' THEN seq END) AS first_reject,
        min(CASE WHEN trigger = 'report' THEN {_day()} END) AS first_report,
        max(trigger IN ('cancel', 'merge')) AS cancelled,  -- a merged duplicate counts once, in the original
        max(trigger = 'merge') AS merged,
        max(CASE WHEN due IS NOT NULL THEN {_PAD} || due END) AS last_due,
        min(CASE WHEN trigger = 'request_extension' THEN seq END) AS first_request,
        max(CASE WHEN trigger = 'approve_extension' THEN seq END) AS last_approve,
        max(limit_lifecycle) AS limit_lifecycle  -- set on the assignment only
    FROM e
    WHERE trigger IN ({_PER_ISSUE_TRIGGERS}) OR due IS NOT NULL OR odue_set IS NOT NULL
    GROUP BY issue_id
),
issue_end AS MATERIALIZED (
    SELECT issue_id, lead AS unit, state, due,
        odue >= :start_day AND odue < :end_day AND NOT cancelled AS is_due,
        first_report IS NOT NULL AND first_report <= odue AS on_time,
        state IN (SELECT value FROM json_each(:lead_states)) AND due < :end_day
            AND (:any_lifecycle OR lifecycle || ':' || state IN (SELECT value FROM json_each(:lead_keys))) AS overdue
    FROM (
        SELECT *, (
            SELECT i.lifecycle || '@' || i.lifecycle_version FROM issues i WHERE i.id = per_issue.issue_id
        ) AS lifecycle, (
            -- the state after the issue's last entry before the end: its latest entry, unless it moved since
            SELECT to_state FROM ledger l WHERE l.issue_id = per_issue.issue_id AND {_before_end("l.at")}
            ORDER BY l.issue_seq DESC LIMIT 1
        ) AS state, CASE
            -- an approval after the last date set otherwise moves the due date to the request it approves
            WHEN last_approve > first_request AND last_approve > coalesce(CAST(substr(last_due, 1, 12) AS INTEGER), 0)
            THEN (SELECT json_extract(r.data, '$.due') FROM ledger r
                  WHERE r.issue_id = per_issue.issue_id AND r.trigger = 'request_extension' AND r.seq < last_approve
                  ORDER BY r.seq DESC LIMIT 1)
            ELSE substr(last_due, 13) END AS due
        FROM per_issue
    )
),
x AS MATERIALIZED (
    SELECT e.seq, e.issue_id, e.trigger, e.at, e.who, e.extra, e.own_limit, p.first_reject, p.merged, p.limit_lifecycle,
        CASE WHEN p.reassigns = 0 OR e.trigger = 'assign' THEN p.assign_lead
             ELSE coalesce((SELECT json_extract(r.data, '$.new_lead') FROM ledger r
                            WHERE r.issue_id = e.issue_id AND r.trigger = 'reassign' AND r.seq <= e.seq
                            ORDER BY r.seq DESC LIMIT 1), p.assign_lead) END AS lead
    FROM e JOIN per_issue p USING (issue_id)
    WHERE e.at >= :start_lo AND {_from_start("e.at")}
),
limits AS MATERIALIZED (
    SELECT json_extract(value, '$[0]') AS day, json_extract(value, '$[1]') AS until FROM json_each(:accept_by)
),
lifecycle_limits AS MATERIALIZED (
    SELECT json_extract(value, '$[0]') AS lifecycle, json_extract(value, '$[1]') AS day,
        json_extract(value, '$[2]') AS until
    FROM json_each(:lifecycle_accept_by)
),
assignments AS MATERIALIZED (
    -- not those of an issue merged into another: it counts in the issue it repeats
    SELECT issue_id, seq, lead, {_day()} AS day, own_limit, limit_lifecycle FROM x
    WHERE trigger IN ('assign', 'reassign') AND NOT merged
),
accepted AS (
    -- each assignment in the period, and whether the next acceptance (before any reassignment) was on time
    -- (by the issue's own limit, else its lifecycle's, else the policy's): with one min() in a group, SQLite
    -- takes the other columns from the row that has it
    SELECT a.lead, min(n.seq),
        n.trigger = 'accept' AND {_day("n.at")} <= coalesce(a.own_limit, lifecycle_limits.until, limits.until)
        AS on_time
    FROM assignments a LEFT JOIN limits ON limits.day = a.day
    LEFT JOIN lifecycle_limits ON lifecycle_limits.lifecycle = a.limit_lifecycle AND lifecycle_limits.day = a.day
    JOIN e n ON n.issue_id = a.issue_id AND n.seq > a.seq AND n.trigger IN ('accept', 'reassign')
    GROUP BY a.seq
)
"""

# One row per (kind, unit): the in-period counts in one pass over the period's entries, then the
# acceptances, the cooperating units, the per-issue figures at the end, the ladder's steps and the
# overdue issues themselves (so that a bulletin need not run the query again).
FACTS_SQL: Final = FACTS_CTES + """
SELECT 'x', lead, sum(trigger IN ('assign', 'reassign') AND NOT merged), sum(trigger = 'report'),
       sum(trigger = 'reject'), sum(trigger = 'approve_extension'), sum(trigger = 'verify'),
       sum(trigger = 'verify' AND (first_reject IS NULL OR first_reject > seq)),
       count(CASE WHEN trigger = 'verify' THEN extra END), sum(CASE WHEN trigger = 'verify' THEN extra END)
    FROM x WHERE trigger <> 'deadline' GROUP BY lead
UNION ALL
SELECT 'accepted', lead, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM accepted WHERE on_time GROUP BY lead
UNION ALL
SELECT 'cooperating', j.value, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM x, json_each(x.extra) AS j
    WHERE x.trigger = 'assign' AND x.extra IS NOT NULL GROUP BY j.value
UNION ALL
SELECT 'end', unit, sum(is_due), sum(is_due AND on_time), sum(overdue), NULL, NULL, NULL, NULL, NULL
    FROM issue_end GROUP BY unit
UNION ALL
SELECT 'step', who, extra, count(*), NULL, NULL, NULL, NULL, NULL, NULL FROM x
    WHERE trigger = 'deadline' AND extra IS NOT NULL GROUP BY who, extra
UNION ALL
SELECT 'overdue', unit, issue_id, due, state, NULL, NULL, NULL, NULL, NULL FROM issue_end WHERE overdue
"""


def facts_args(query: FactsQuery) -> dict[str, str]:
    """The named parameters of the facts queries."""
    return {
        "start": query.start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "end": query.end.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "scan_lo": (query.start - _SCAN).isoformat(),
        "scan_hi": (query.start - _SCAN + _MARGIN).isoformat(),
        "start_lo": (query.start - _MARGIN).isoformat(),
        "start_hi": (query.start + _MARGIN).isoformat(),
        "end_lo": (query.end - _MARGIN).isoformat(),
        "end_hi": (query.end + _MARGIN).isoformat(),
        "start_day": local_day(query.start),
        "end_day": local_day(query.end),
        "lead_states": json.dumps(list(query.lead_states)),
        "any_lifecycle": "0" if query.lifecycle_lead_states else "1",
        "lead_keys": json.dumps(list(query.lead_keys())),
        "accept_by": json.dumps([[day.isoformat(), until.isoformat()] for day, until in query.accept_by]),
        "lifecycle_limits": "1" if query.lifecycle_accept_by else "0",
        "lifecycle_accept_by": json.dumps([[key, day.isoformat(), until.isoformat()]
                                           for key, days in query.lifecycle_accept_by for day, until in days]),
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
        if kind == "step":
            escalations.setdefault(unit, {})[values[0]] = int(values[1])
        elif kind == "overdue":
            overdue.append(OverdueAtEnd(values[0], unit, _date(values[1]), values[2]))
        else:
            found = {name: int(value) for name, value in zip(_ROW_COUNTS[kind], values, strict=False) if value}
            if found or kind == "x":  # any step in the period lists its lead unit, as in compute_facts
                counts.setdefault(unit, {}).update(found)
    return counts, escalations, sorted(overdue, key=overdue_order)
