"""Work plans at scale on SQLite: a plan with 10,000 targets over three levels and 100,000 linked problems.

    .venv/bin/python benchmarks/bench_plans.py            # 10,100 targets, 100,000 linked problems
    .venv/bin/python benchmarks/bench_plans.py --quick    # 1,010 targets, 10,000 problems

Targets (issue #14): ``flow.plan_progress(plan)`` under 1 s and a bulletin with the plan
section under 3 s.

The store is built under ``build/bench/`` and kept for the next run (``--rebuild``
builds it again): a prefecture office, 10 counties and 90 townships; one plan with three
phases; 100 top-level targets held by the office, each decomposed by the office to the
10 counties and by each county to its 9 townships (100 + 1,000 + 9,000 targets, every one
through ``flow.add_target``). Half of the top-level targets are measured by issues: their
4,500 township targets get the 100,000 problems, linked at assignment (``target=``), of
which about 85 % are verified, 12 % reported back and 3 % still open (December's: 30 %
verified), written through ``store.commit_many`` in govflow's own
units of work (assign, implement, report, verify), spread over 2026. The other township
targets get a progress report each (``flow.report_progress``).

Timed on a freshly opened flow each, the clock at 2 January 2027, best, median and worst of
``--samples`` (default 3):

- ``plan_progress``: the tree from the current rows (every target's progress, expected progress,
  lag and status; per phase and per unit roll-ups);
- ``plan_progress as_of``: the same, replayed from the ledger as of 1 December 2026;
- ``bulletin 2026-12``: ``flow.bulletin("2026-12")`` with its roll-up and plan section (the plan
  replayed as of the month's end), rendered as Markdown;
- ``bulletin html``: the same bulletin rendered as HTML (charts and the plan timeline);
- ``floor``: one hand-written SQL aggregation: linked problems verified per target (``JOIN
  target_links, issues GROUP BY``), the least any progress tree has to read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import attrs

import govflow
from govflow import Issue, LedgerDraft, UnitOfWork
from govflow.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
OFFICE = "OFFICE"
SH = govflow.DEFAULT_ZONE


def units() -> list[tuple[str, str, list[str]]]:
    return [(f"C{c:02d}", f"县{c:02d}", [f"C{c:02d}T{t}" for t in range(9)]) for c in range(10)]


def build(path: Path, tops: int, problems: int) -> None:
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    clock = FakeClock("2026-01-05T09:00:00+08:00", tick=dt.timedelta(milliseconds=10))
    rng = random.Random(14)
    started = time.perf_counter()
    with govflow.open(path, clock=clock, delivery="manual") as flow:
        flow.add_unit(OFFICE, "州领导小组办公室", level="prefecture", supervisor=True)
        for county, name, towns in units():
            flow.add_unit(county, name, level="county", parent=OFFICE)
            for town in towns:
                flow.add_unit(town, town, level="township", parent=county)
        plan = flow.add_plan("市域社会治理现代化试点", by=OFFICE,
                             phases=[("建机制", "2026-06-30"), ("见成效", "2026-12-31"), ("达目标", "2027-06-30")])
        flow.activate_plan(plan.id, by=OFFICE)
        linked: list[tuple[str, str]] = []
        reported: list[tuple[str, str]] = []
        phases = ("建机制", "见成效", "达目标")
        for n in range(tops):
            measure = "issues" if n % 2 == 0 else "reported"
            phase = phases[n % 3]
            top = flow.add_target(plan.id, f"目标{n}", unit=OFFICE, phase=phase, by=OFFICE, measure=measure,
                                  weight=1 + n % 3)
            for county, _, towns in units():
                mid = flow.add_target(plan.id, f"目标{n}-{county}", unit=county, phase=phase, by=OFFICE,
                                      parent=top.id, measure=measure)
                for town in towns:
                    leaf = flow.add_target(plan.id, f"目标{n}-{town}", unit=town, phase=phase, by=county,
                                           parent=mid.id, measure=measure, responsible={"first": f"{town}镇长"})
                    (linked if measure == "issues" else reported).append((leaf.id, town))
        print(f"  {len(linked) + len(reported) + tops + tops * 10:,} targets in {time.perf_counter() - started:.0f} s",
              flush=True)
        for target_id, town in reported:
            flow.report_progress(target_id, by=town, progress=rng.choice([10, 35, 60, 80, 100]), note="进度")
        print(f"  progress reported in {time.perf_counter() - started:.0f} s", flush=True)
        store = flow.store
        day0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=SH)
        works: list[UnitOfWork] = []
        for k in range(problems):
            target_id, town = linked[k % len(linked)]
            at = day0 + dt.timedelta(minutes=k * 4)  # ~ 100,000 problems over the year
            due = at.date() + dt.timedelta(days=20)
            issue = Issue(id="", title="问题", lead=town, due=due, original_due=due, state="assigned", version=1,
                          lifecycle="issue-list", lifecycle_version=1, created_at=at, updated_at=at)
            data: dict[str, Any] = {"title": "问题", "lead": town, "due": due.isoformat(), "lifecycle": "issue-list",
                                    "lifecycle_version": 1, "target": target_id}
            draft = LedgerDraft(issue_id="", issue_seq=1, trigger="assign", from_state=None, to_state="assigned",
                                actor=OFFICE, person=None, at=at, data=data)
            works.append(UnitOfWork(issue, 0, draft, id_scope="GF-2026-"))
            if len(works) >= 2000:
                store.commit_many(works)
                works = []
        store.commit_many(works)
        steps = (("implement", "implemented", {"note": "n"}), ("report", "feedback", {"result": "r"}),
                 ("verify", "verified", {"rating": 5}))
        works = []
        late = dt.datetime(2026, 12, 1, tzinfo=SH)
        for issue in store.query(govflow.IssueQuery(state="assigned")):
            # 85 % verified, 12 % reported back and awaiting verification, 3 % still open (overdue); of
            # December's, 30 % verified so far
            chance = rng.random()
            taken = 3 if chance < (0.85 if issue.created_at < late else 0.3) else 2 if chance < 0.97 else 0
            current = issue
            for offset, (trigger, state, data) in enumerate(steps[:taken], start=1):
                at = issue.created_at + dt.timedelta(days=2 * offset)
                new = attrs.evolve(current, state=state, version=current.version + 1, updated_at=at)
                draft = LedgerDraft(issue_id=issue.id, issue_seq=new.version, trigger=trigger,
                                    from_state=current.state, to_state=state,
                                    actor=OFFICE if trigger == "verify" else issue.lead, person=None, at=at, data=data)
                works.append(UnitOfWork(new, current.version, draft))
                current = new
            if len(works) >= 3000:
                store.commit_many(works)
                works = []
        store.commit_many(works)
        print(f"  built in {time.perf_counter() - started:.0f} s: {store.chain_head()[0]:,} ledger entries", flush=True)


def timed(label: str, samples: int, run: Any) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    print(f"{label:<24} best {min(times):6.3f} s  median {statistics.median(times):6.3f} s  worst {max(times):6.3f} s")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1,010 targets and 10,000 problems")
    parser.add_argument("--rebuild", action="store_true", help="build the store again")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    tops, problems = (10, 10_000) if args.quick else (100, 100_000)
    path = ROOT / "build" / "bench" / f"plans-{tops}-{problems}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"govflow work plans on SQLite: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{platform.machine()}")
    if args.rebuild or not path.exists():
        print(f"building {path.relative_to(ROOT)} ...", flush=True)
        build(path, tops, problems)

    def flow() -> govflow.Govflow:
        return govflow.open(path, clock=FakeClock("2027-01-02T09:00:00+08:00"), delivery="manual")

    with flow() as reading:
        (plan,) = reading.plans()
        tree = reading.plan_progress(plan.id)
        count = sum(1 for _ in tree.walk())
        linked = sum(sum(s.values()) for s in reading.store.target_issue_states(plan.id).values())
        print(f"{count:,} targets, {linked:,} linked problems, {reading.store.chain_head()[0]:,} ledger entries; "
              f"plan progress {tree.progress:.1f} %, {len(tree.lagging()):,} lagging")
    as_of = dt.datetime(2026, 12, 1, tzinfo=SH)
    best: dict[str, float] = {}
    with flow() as f:
        best["plan_progress"] = timed("plan_progress", args.samples, lambda: f.plan_progress(plan.id))
        best["as_of"] = timed("plan_progress as_of", args.samples, lambda: f.plan_progress(plan.id, as_of=as_of))
        best["bulletin"] = timed("bulletin 2026-12", args.samples, lambda: f.bulletin("2026-12").render("markdown"))
        bulletin = f.bulletin("2026-12")
        assert bulletin.plans and bulletin.rollup
        best["html"] = timed("bulletin html", args.samples, lambda: f.bulletin("2026-12").render("html"))
    db = sqlite3.connect(path)
    floor_sql = ("SELECT t.target_id, sum(i.state = 'verified'), count(*) FROM target_links t "
                 "JOIN issues i ON i.id = t.issue_id GROUP BY t.target_id")
    best["floor"] = timed("floor (SQL)", args.samples, lambda: db.execute(floor_sql).fetchall())
    db.close()
    print(f"plan_progress / floor: {best['plan_progress'] / best['floor']:.1f}x; "
          f"targets: plan_progress < 1 s: {'met' if best['plan_progress'] < 1 else 'MISSED'}, "
          f"bulletin < 3 s: {'met' if best['bulletin'] < 3 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
