"""The report's roadmap as a work plan: 2020 建机制, 2021 见成效, by mid-2022 达目标 (时间表、路线图).

A prefecture (大理州) draws up one plan with the three phases and six top-level targets
(问题清单交办, 网格化服务管理覆盖, 综治中心规范化建设, 雪亮工程联网, 12345 热线满意率,
矛盾纠纷化解), each decomposed to its three counties and by each county to its two
townships (分解落实). Targets measured by issues take the share of their linked problems
that are verified; the others are reported by their townships every month. Eighteen
months (July 2020 to December 2021) are simulated, seeded so every run is the same:
大理市 and 祥云县 keep pace, 宾川县 falls behind and its targets lag (滞后) and climb
the escalation ladder in the sweep. Completed targets are accepted by the unit above.

Then the plan's progress tree is printed as it stood at three dates (replayed from the
ledger), with the roll-up by phase and by county, and the December 2021 bulletin is
written with its plan section (Markdown and HTML with the timeline chart).

    python examples/roadmap.py [OUTPUT_DIR]

OUTPUT_DIR defaults to ./roadmap-out; the SQLite file OUTPUT_DIR/roadmap.sqlite3 is
replaced on every run.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

from _display import table  # examples/_display.py, beside this script

import govflow
from govflow.testing import FakeClock

OFFICE = "DL-PAB"
COUNTIES = {
    "DALI": ("大理市", {"XIAGUAN": "下关镇", "DALIZHEN": "大理镇"}, 1.15),
    "XIANGYUN": ("祥云县", {"XIANGCHENG": "祥城镇", "XIAZHUANG": "下庄镇"}, 1.0),
    "BINCHUAN": ("宾川县", {"JINNIU": "金牛镇", "BINJU": "宾居镇"}, 0.5),
}
PHASES = [("建机制", "2020-12-31"), ("见成效", "2021-12-31"), ("达目标", "2022-06-30")]
#: (title, phase, measure, weight)
TARGETS = [
    ("问题清单交办销号", "建机制", "issues", 2),
    ("网格化服务管理覆盖", "建机制", "reported", 1),
    ("综治中心规范化建设", "见成效", "reported", 1),
    ("雪亮工程联网", "见成效", "reported", 1),
    ("12345热线满意率提升", "达目标", "reported", 1),
    ("矛盾纠纷化解", "达目标", "issues", 1),
]
SHOWN = ("2020-12-31", "2021-06-30", "2021-12-31")


def close_issue(flow: govflow.Govflow, issue: govflow.Issue) -> None:
    flow.fire(issue.id, "implement", by=issue.lead, note="已整改")
    flow.fire(issue.id, "report", by=issue.lead, result="整改完成")
    flow.fire(issue.id, "verify", by=OFFICE, rating=5)


def build(flow: govflow.Govflow, clock: FakeClock) -> govflow.Plan:
    flow.add_unit(OFFICE, "州委平安大理建设领导小组办公室", level="prefecture", supervisor=True)
    for county, (name, towns, _) in COUNTIES.items():
        flow.add_unit(county, name, level="county", parent=OFFICE)
        for town, town_name in towns.items():
            flow.add_unit(town, town_name, level="township", parent=county)
    plan = flow.add_plan("市域社会治理现代化试点工作方案", by=OFFICE, phases=PHASES, code="DL-SZ-2020",
                         start="2020-06-11")
    for title, phase, measure, weight in TARGETS:
        top = flow.add_target(plan.id, title, unit=OFFICE, phase=phase, by=OFFICE, weight=weight, measure=measure)
        for county, (name, towns, _) in COUNTIES.items():
            mid = flow.add_target(plan.id, f"{name}{title}", unit=county, phase=phase, by=OFFICE, parent=top.id,
                                  measure=measure, responsible={"first": f"{name}县（市）长", "direct": "政法委书记"})
            for town, town_name in towns.items():
                flow.add_target(plan.id, f"{town_name}{title}", unit=town, phase=phase, by=county, parent=mid.id,
                                measure=measure, responsible={"first": f"{town_name}镇长", "direct": "综治办主任"})
    return flow.activate_plan(plan.id, by=OFFICE)


def simulate(flow: govflow.Govflow, clock: FakeClock, plan: govflow.Plan, rng: random.Random) -> None:
    pace = {town: speed for _, (_, towns, speed) in COUNTIES.items() for town in towns}
    open_issues: list[govflow.Issue] = []
    for month in range(18):
        year, index = 2020 + (6 + month) // 12, (6 + month) % 12 + 1
        clock.set(dt.datetime(year, index, 20, 9, 0, tzinfo=govflow.DEFAULT_ZONE))
        phase_of = {p.name: p.end for p in plan.phases}
        for target in flow.targets(plan.id):
            if target.unit not in pace or target.state != "active":
                continue
            if target.measure == "issues":
                if phase_of[target.phase] >= clock().date():
                    for _ in range(rng.randint(1, 3)):
                        due = clock().date() + dt.timedelta(days=20)
                        open_issues.append(flow.assign(f"{target.title}问题", lead=target.unit, due=due, by=OFFICE,
                                                       target=target.id))
                continue
            begun = plan.phase_start(target.phase) <= clock().date()
            step = (rng.uniform(8, 18) if begun else rng.uniform(0, 4)) * pace[target.unit]  # groundwork before
            progress = min(100.0, round(target.progress + step, 1))
            flow.report_progress(target.id, by=target.unit, progress=progress, note=f"{index}月工作进展")
        still_open = []
        for issue in open_issues:
            if rng.random() < 0.55 * pace[issue.lead] + 0.2:
                close_issue(flow, issue)
            else:
                still_open.append(issue)
        open_issues = still_open
        clock.set(dt.datetime(year, index, 28, 18, 0, tzinfo=govflow.DEFAULT_ZONE))
        flow.sweep()
        for target in flow.targets(plan.id):
            if target.state == "completed" and target.parent is not None:  # the office's own: for the leaders
                flow.accept_target(target.id, by=flow.target(target.parent).unit, note="验收通过")


def show_tree(flow: govflow.Govflow, plan: govflow.Plan, day: str) -> None:
    when = dt.datetime.fromisoformat(f"{day}T23:59:59+08:00")
    tree = flow.plan_progress(plan.id, as_of=when)
    names = {u.id: u.name for u in flow.units()}
    print(f"\n== {day} 方案进度 Plan progress: {tree.progress:.1f}% (应达 expected {tree.expected:.1f}%) ==")
    rows = []
    for root in tree.targets:
        for node in root.walk():
            if names.get(node.target.unit, "").endswith("镇"):
                continue  # the townships are in the unit roll-up below
            indent = "  " if node.target.parent else ""
            rows.append([f"{indent}{node.target.title}", names[node.target.unit], f"{node.progress:.1f}",
                         f"{node.expected:.1f}", f"{node.lag:.1f}", flow.label(node.status)])
    print(table(["目标 Target", "单位 Unit", "进度%", "应达%", "滞后点", "状态"], rows))
    print(table(["阶段 Phase", "进度%", "应达%", "滞后目标"],
                [[r.key, f"{r.progress:.1f}", f"{r.expected:.1f}", str(r.lagging)] for r in tree.phases]))
    print(table(["单位(含下级) Unit", "进度%", "应达%", "滞后目标"],
                [[names[r.key], f"{r.progress:.1f}", f"{r.expected:.1f}", str(r.lagging)] for r in tree.units
                 if r.key in COUNTIES or r.key == OFFICE]))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "roadmap.sqlite3"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    clock = FakeClock("2020-06-11T09:00:00+08:00", tick=dt.timedelta(seconds=1))
    with govflow.open(db, clock=clock, delivery="manual") as flow:
        plan = build(flow, clock)
        print(f"{plan.id} {plan.title}: {len(flow.targets(plan.id))} 个目标 targets, "
              f"{len(plan.phases)} 个阶段 phases")
        simulate(flow, clock, plan, random.Random(2020))
        for day in SHOWN:
            show_tree(flow, plan, day)
        clock.set("2022-01-04T09:00:00+08:00")
        bulletin = flow.bulletin("2021-12")
        for lang, fmt, suffix in (("zh", "markdown", "md"), ("zh", "html", "html"), ("en", "html", "html")):
            path = out / f"bulletin-2021-12.{lang}.{suffix}"
            text = bulletin.render(fmt, lang)
            path.write_text(str(text), encoding="utf-8")
            print(f"wrote {path.name}")
        lagging = bulletin.plans[0].lagging()
        print(f"滞后目标 Lagging targets at the end of 2021: {len(lagging)}")
        check = flow.verify_ledger()
        print(f"台账校验 Ledger verified: {check.entries} 条 entries")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("roadmap-out"))
