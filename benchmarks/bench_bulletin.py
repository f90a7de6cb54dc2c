"""A month's bulletin (月通报) on a large SQLite store, against a hand-written SQL floor.

    .venv/bin/python benchmarks/bench_bulletin.py            # 100,000 issues, 300 units, ~1M entries
    .venv/bin/python benchmarks/bench_bulletin.py --quick    # 10,000 issues, ~100k entries

Target (issue #5): ``flow.bulletin(month)`` over a SQLite store with 100k
issues, 300 units and 1M ledger entries takes under 2 s.

The store is built fast and kept under ``build/bench/`` for the next run
(``--rebuild`` builds it again): ``govflow.open(path)`` creates the schema and
the units (a prefecture office, 30 counties, 269 townships, registered the day before the year); then a seeded
simulation of 2026 writes, in govflow's own row formats, every issue's ledger
entries (assign, accept, reassign, request/approve extension, implement,
report, reject, verify with a rating, cancel, and the escalation ladder's
``deadline`` steps), sealed into one hash chain in time order, and the issue
rows as they stand at the end. Units differ: some are fast, some late (and
climb the ladder to 督办 and 约谈), some are often rejected. The built store
passes ``flow.verify_ledger()`` (checked with ``--verify``).

Timed on a freshly opened flow each, with the clock at 2 January 2027 (every month of the
data over), best, median and worst of ``--samples`` (default 3):

- ``bulletin 2026-12``: ``flow.bulletin("2026-12")``: the month's facts and
  scores, the previous month's for the changes, the red and black lists and
  the overdue issues with their responsible persons;
- ``bulletin 2026-06``: the same for a month in the middle of the data;
- ``facts 2026-12``: ``flow.facts("2026-12")`` alone;
- ``floor``: one hand-written SQL aggregation over the same tables: the
  period's ledger entries counted by the issue's current lead and trigger
  (``JOIN issues ... GROUP BY lead, trigger``). It answers a simpler question
  than the facts (the lead at the time of each step, original and current
  due dates, acceptance limits, overdue at the end need more), so it is a
  floor, not an equivalent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GOVFLOW_DISABLE_PLUGINS", "webhook,smtp,postgres")

import govflow
from govflow import DEFAULT_ZONE, LedgerEntry, Responsible, Unit, canonical_bytes

# Private on purpose: the floor must run govflow's own schema and row format, which are not API, and the issue
# rows are what govflow's own replay makes of the entries.
from govflow._lifecycle.replay import Replay
from govflow._stores.sqlite.rows import ISSUE_COLUMNS as _ISSUE_COLUMNS
from govflow._stores.sqlite.rows import issue_row as _issue_row
from govflow.storage import canonical_json

SH = DEFAULT_ZONE
YEAR_START = dt.datetime(2026, 1, 1, 9, tzinfo=SH)
HORIZON = dt.datetime(2027, 1, 1, tzinfo=SH)  # the data ends here: what the store holds on New Year's Day


def NEXT_YEAR() -> dt.datetime:
    """The moment the bulletins are produced: 2 January 2027, every month of 2026 over."""
    return dt.datetime(2027, 1, 2, 9, tzinfo=SH)
SCOPE = "GF-2026-"
DAY = dt.timedelta(days=1)
TARGET_S = 2.0

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def build_units(rng: random.Random, counties: int, townships: int) -> list[Unit]:
    """A prefecture office (the supervisor), its counties and their townships."""
    units = [Unit("OFFICE", "州委督查室", "prefecture", supervisor=True)]
    county_ids = [f"C{n:02d}" for n in range(1, counties + 1)]
    units += [Unit(c, f"第{n}县", "county", parent="OFFICE") for n, c in enumerate(county_ids, 1)]
    for n in range(1, townships + 1):
        parent = county_ids[(n - 1) % counties]
        units.append(Unit(f"T{n:03d}", f"第{n}镇", "township", parent=parent))
    return units


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def at_text(when: dt.datetime) -> str:
    return when.isoformat()


def simulate(rng: random.Random, number: int, leads: list[str], profile: dict[str, tuple[float, float, float]]
             ) -> list[tuple[Any, ...]]:
    """One issue's steps ``(issue id, issue seq, at, trigger, from, to, actor, person, data)`` up to the horizon.

    The issue rows are not simulated: they are what govflow's own replay makes of these steps (see :func:`build`).
    """
    issue_id = f"{SCOPE}{number:04d}"
    created = YEAR_START + dt.timedelta(minutes=rng.randrange(0, 355 * 24 * 60))
    created = created.replace(hour=rng.randrange(8, 18))
    lead = rng.choice(leads)
    speed, lateness, rejection = profile[lead]
    span = rng.randrange(10, 31)
    due = (created + span * DAY).date()
    responsible = Responsible(first=person(rng), direct=person(rng))
    cooperating = [rng.choice(leads)] if rng.random() < 0.2 else []
    cooperating = [c for c in cooperating if c != lead]
    steps: list[tuple[Any, ...]] = []
    data: dict[str, Any] = {"title": f"问题 {number}", "lead": lead, "due": due.isoformat(),
                            "lifecycle": "issue-list", "lifecycle_version": 1,
                            "responsible": responsible.as_dict()}
    if cooperating:
        data["cooperating"] = cooperating
    steps.append((created, "assign", None, "assigned", "OFFICE", "督查员", data))
    state = "assigned"
    t = created
    if rng.random() < 0.03:
        t += dt.timedelta(hours=rng.randrange(2, 30))
        new_lead = rng.choice(leads)
        if new_lead != lead:
            steps.append((t, "reassign", state, state, "OFFICE", None, {"new_lead": new_lead, "reason": "属地调整"}))
            lead = new_lead
            speed, lateness, rejection = profile[lead]
    accepted_at = t + dt.timedelta(hours=rng.randrange(1, 20 if speed > 0.5 else 90))
    steps.append((accepted_at, "accept", state, state, lead, None, {}))
    t = accepted_at
    if rng.random() < 0.08:
        t += DAY * rng.randrange(1, 5)
        wanted = due + DAY * rng.randrange(5, 16)
        steps.append((t, "request_extension", state, state, lead, None,
                      {"due": wanted.isoformat(), "reason": "需协调多部门"}))
        if rng.random() < 0.8:
            t += dt.timedelta(hours=rng.randrange(2, 40))
            steps.append((t, "approve_extension", state, state, "OFFICE", None, {}))
            due = wanted
    if rng.random() < 0.01:
        t += DAY
        steps.append((t, "cancel", state, "cancelled", "OFFICE", None, {"reason": "重复交办"}))
        state = "cancelled"
    rework = 0
    taken = 0  # the ladder's steps taken for the current due date
    ladder = (("due_soon", -3, 1), ("overdue", 1, 2), ("urge", 3, 2), ("supervise", 6, 3), ("interview", 11, 4))
    while state == "assigned":
        late = rng.random() < lateness
        factor = rng.uniform(1.05, 1.8) if late else rng.uniform(0.3, 0.95)
        report_at = created + (due - created.date()).days * factor * DAY
        report_at = max(report_at, t + dt.timedelta(hours=4))
        implement_at = max(report_at - dt.timedelta(hours=rng.randrange(2, 30)), t + dt.timedelta(minutes=30))
        for step, offset, level in ladder[taken:]:
            when = dt.datetime.combine(due + offset * DAY, dt.time(0, 5), SH)
            if when >= report_at or when < t:
                break
            now_in = "assigned" if when < implement_at else "implemented"  # the ladder runs in both
            steps.append((when, "deadline", now_in, now_in, "system", None,
                          {"step": step, "level": level, "due": due.isoformat(), "working_days": offset,
                           "unit": lead}))
            taken += 1
        steps.append((implement_at, "implement", "assigned", "implemented", lead, None, {"note": "已整改"}))
        steps.append((max(report_at, t + dt.timedelta(hours=1)), "report", "implemented", "feedback", lead, None,
                      {"result": "整改完成"}))
        t = max(report_at, t + dt.timedelta(hours=1)) + dt.timedelta(hours=rng.randrange(4, 72))
        if rng.random() < rejection and rework < 4:
            rework += 1
            new_due = (t + DAY * rng.randrange(5, 12)).date()
            steps.append((t, "reject", "feedback", "assigned", "OFFICE", None,
                          {"reason": "整改不到位", "due": new_due.isoformat()}))
            due = new_due
            taken = 0  # a new due date starts the ladder again
        else:
            steps.append((t, "verify", "feedback", "verified", "OFFICE", None,
                          {"rating": rng.choice((3, 4, 4, 5, 5, 5) if speed > 0.5 else (2, 3, 3, 4, 5))}))
            state = "verified"
    kept = [s for s in steps if s[0] < HORIZON]
    kept.sort(key=lambda s: s[0])
    return [(issue_id, i + 1, *s) for i, s in enumerate(kept)]


def build(path: Path, issues: int, seed: int) -> tuple[int, float]:
    """Write the store; return (ledger entries, seconds).

    The entries are sealed into one chain in time order; each issue row is what govflow's own replay (the one
    ``verify_ledger()`` runs) makes of the issue's entries, so the store is consistent by construction.
    """
    began = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    units = build_units(rng, 30, 269)
    # The units are registered before the year's first issue, as an office would have them (their entries
    # dated now would fall inside the data's December and widen every scan of that month to the whole ledger).
    flow = govflow.open(path, clock=lambda: YEAR_START - DAY)
    try:
        for unit in units:
            flow.add_unit(unit.id, unit.name, level=unit.level, parent=unit.parent, supervisor=unit.supervisor)
        replay = Replay(flow._lifecycle_of, flow._find_unit, flow.calendar)
    finally:
        flow.close()
    leads = [u.id for u in units if not u.supervisor]
    profile = {u: (rng.random(), rng.choice((0.05, 0.15, 0.3, 0.6)), rng.choice((0.15, 0.3, 0.5, 0.7)))
               for u in leads}
    rows: list[tuple[Any, ...]] = []
    for number in range(1, issues + 1):
        rows.extend(simulate(rng, number, leads, profile))
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    first, prev = db.execute("SELECT seq, hash FROM chain_head").fetchone()  # after the units' registrations
    ledger = []
    sha256 = hashlib.sha256
    for seq, (issue_id, issue_seq, when, trigger, source, dest, actor, who, data) in enumerate(rows, first + 1):
        at = at_text(when)
        digest = sha256(canonical_bytes(seq=seq, issue_id=issue_id, issue_seq=issue_seq, trigger=trigger,
                                        from_state=source, to_state=dest, actor=actor, person=who, at=at,
                                        data=data, prev_hash=prev)).hexdigest()
        ledger.append((seq, issue_id, issue_seq, trigger, source, dest, actor, who, at,
                       canonical_json(data), prev, digest))
        replay.feed(LedgerEntry(seq, issue_id, issue_seq, trigger, source, dest, actor, who, when, data, prev,
                                digest))
        prev = digest
    if replay.problem is not None:
        raise SystemExit(f"the simulation wrote a step govflow would not take: {replay.problem}")
    issue_rows = [_issue_row(issue) for issue in replay.issues.values()]
    with db:
        marks = ", ".join("?" * len(issue_rows[0]))
        db.executemany(f"INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES ({marks})", issue_rows)
        db.executemany("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ledger)
        db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (first + len(ledger), prev))
        db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (SCOPE, issues))
        cooperation = [(u, r[0]) for r in issue_rows for u in json.loads(r[5])]
        db.executemany("INSERT INTO cooperation VALUES (?, ?)", cooperation)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()
    return len(ledger), time.perf_counter() - began


FLOOR_SQL = """
SELECT i.lead, l.trigger, count(*) FROM ledger l JOIN issues i ON i.id = l.issue_id
WHERE l.at >= ? AND l.at < ? GROUP BY i.lead, l.trigger
"""


def best(samples: int, work: Any) -> tuple[float, float, float]:
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 issues")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="build the store again even if it is kept")
    parser.add_argument("--verify", action="store_true", help="check the built store's hash chain")
    args = parser.parse_args()
    issues = 10_000 if args.quick else args.issues
    path = Path("build/bench") / f"bulletin-{issues}-{args.seed}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.rebuild or not path.exists():
        entries, seconds = build(path, issues, args.seed)
        print(f"built {path}: {issues:,} issues, {entries:,} ledger entries in {seconds:.1f} s")
    db = sqlite3.connect(path)
    entries = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    unit_count = db.execute("SELECT count(*) FROM units").fetchone()[0]
    if args.verify:
        with govflow.open(path, clock=NEXT_YEAR) as flow:
            check = flow.verify_ledger()
            print(f"verify_ledger: {check.entries:,} entries, {check.issues:,} issues: ok")

    def bulletin(month: str) -> Any:
        def run() -> None:
            with govflow.open(path, clock=NEXT_YEAR) as flow:
                flow.bulletin(month)
        return run

    def facts(month: str) -> Any:
        def run() -> None:
            with govflow.open(path, clock=NEXT_YEAR) as flow:
                flow.facts(month)
        return run

    def floor() -> None:
        start = dt.datetime(2026, 12, 1, tzinfo=SH).isoformat()
        end = dt.datetime(2027, 1, 1, tzinfo=SH).isoformat()
        db.execute(FLOOR_SQL, (start, end)).fetchall()

    with govflow.open(path, clock=NEXT_YEAR) as flow:
        sample = flow.bulletin("2026-12")
        overdue = sum(1 for _ in sample.overdue_issues())
    print(f"\n{platform.python_implementation()} {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{platform.machine()}; store: {issues:,} issues, {unit_count} units, {entries:,} ledger entries; "
          f"2026-12: {overdue:,} issues overdue at the end")
    floor_best = best(args.samples, floor)
    rows = [
        ("bulletin 2026-12", best(args.samples, bulletin("2026-12"))),
        ("bulletin 2026-06", best(args.samples, bulletin("2026-06"))),
        ("facts 2026-12", best(args.samples, facts("2026-12"))),
        ("floor: one SQL aggregation", floor_best),
    ]
    print(f"\n{'what':<30}{'best s':>10}{'median s':>10}{'max s':>10}{'/ floor':>10}")
    for name, (low, mid, high) in rows:
        print(f"{name:<30}{low:>10.3f}{mid:>10.3f}{high:>10.3f}{mid / floor_best[1]:>9.1f}x")
    slowest = max(rows[0][1][1], rows[1][1][1])
    verdict = "PASS" if slowest < TARGET_S else "MISS"
    scale = "" if issues == 100_000 else " (at the target scale only with the default --issues)"
    print(f"\ntarget: a month's bulletin < {TARGET_S:.0f} s: {slowest:.2f} s: {verdict}{scale}")
    sys.exit(0)


if __name__ == "__main__":
    main()
