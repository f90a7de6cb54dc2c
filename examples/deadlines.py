"""Deadlines in working days and the escalation ladder (期限与督办), over the 2026 Spring Festival.

A prefecture office (州领导小组办公室) assigns five issues (交办) in working
days on Monday 9 February 2026, the week before the Spring Festival (春节,
15–23 February, with the make-up working days 14 and 28 February). One lead
unit asks for an extension (延期) across the holiday and gets it; one county
lets three issues run late. A sweep runs every evening through February and
March and prints each step it takes: 临期提醒 (due soon), 逾期 (overdue), 催办
(urge), 督办 (supervision notice) and, after the county's third 督办, 约谈
(interview); none of the issues is accepted (签收), so each gets its 超时未签收 step
(accept_overdue) once its acceptance limit has passed. The sweeper is down for a week in March and catches up. At the
end: what is late (flow.overdue()), and the ledger (台账) is verified.

    python examples/deadlines.py [path.sqlite3]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from _display import table  # examples/_display.py, beside this script

import govflow
from govflow.testing import FakeClock, RecordingNotifier

OFFICE = "DL-OFFICE"
WEEKDAYS = "一二三四五六日"
START = dt.date(2026, 2, 9)
END = dt.date(2026, 3, 31)
#: The sweeper is down these days (inclusive); the next sweep catches up.
DOWN = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))


def day_label(day: dt.date) -> str:
    return f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]}"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=govflow.DEFAULT_ZONE)


def label(step: str) -> str:
    return f"{govflow.STEP_LABELS[step]['zh']} / {govflow.STEP_LABELS[step]['en']}"


def show_calendar(flow: govflow.Govflow, first: dt.date, weeks: int) -> None:
    """One line per week: 班 a working day, 休 a day off, 调 a make-up working day (调休上班)."""
    print("日历 Calendar (班 working day · 休 day off · 调 make-up working day 调休上班):")
    for week in range(weeks):
        cells = []
        for offset in range(7):
            day = first + dt.timedelta(days=7 * week + offset)
            working = flow.calendar.is_working_day(day)
            mark = ("调" if day.weekday() >= 5 else "班") if working else "休"
            cells.append(f"{day:%m-%d}{WEEKDAYS[day.weekday()]}{mark}")
        print("  " + " ".join(cells))


def show_step(flow: govflow.Govflow, day: dt.date, event: govflow.DeadlineEvent) -> None:
    issue = flow.get(event.issue_id)
    unit = flow.unit(issue.lead).name
    line = f"  {day_label(day)}  {event.issue_id}  {unit}  {label(event.step)}"
    line += f"  (level {event.level}, 期限 due {event.due})"
    seq = int(event.idempotency_key.rsplit("#", 1)[1])
    data = flow.ledger(event.issue_id)[seq - 1].data
    if "working_days" in data:
        fell_due = govflow.Rung(event.step, data["working_days"], event.level).date(flow.calendar, event.due)
        if fell_due != day:
            line += f"  应于 fell due {fell_due:%m-%d}"
    elif "supervised" in data:
        line += f"  督办 supervised: {', '.join(data['supervised'])}"
    else:  # accept_overdue: not accepted (签收) within the acceptance limit
        line += "  签收时限 acceptance limit"
    print(line)


def main(path: Path) -> None:
    clock = FakeClock(at(START, 9))
    notifier = RecordingNotifier("deadline-inbox")  # stands in for SMS or e-mail: keeps what is delivered
    with govflow.open(path, clock=clock, id_prefix="DL", plugins=[notifier], delivery="manual") as flow:
        print(f"govflow {govflow.__version__} — 期限与督办 / deadlines and escalation")
        print(f"store 存储: SQLite {path}\n")

        flow.add_unit(OFFICE, "州市域社会治理现代化试点工作领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent=OFFICE)
        flow.add_unit("BINCHUAN", "宾川县", level="county", parent=OFFICE)
        flow.add_unit("XIAZHUANG", "祥云县下庄镇", level="township", parent="XIANGYUN")

        show_calendar(flow, START, 3)
        print("\n督办阶梯 Escalation ladder:")
        ladder = flow.ladder
        rows = [[r.step, govflow.STEP_LABELS[r.step]["zh"], govflow.STEP_LABELS[r.step]["en"],
                 f"{r.working_days:+d} 个工作日 working days" if r.working_days else "期限次日 the day after",
                 str(r.level)] for r in ladder.rungs]
        window = f"{ladder.interview_after} 次督办 / {ladder.interview_window.days} 天 days"
        rows.append(["interview", "约谈", "interview", window, str(ladder.interview_level)])
        print(table(["step", "中文", "English", "when 时间", "level"], rows))

        print(f"\n交办 Assign, {day_label(START)} (due dates in working days 工作日):")
        plans = [
            ("村组道路照明不足", "XIANGYUN", 5),
            ("村道破损未修复", "BINCHUAN", 3),
            ("饮水工程未完工", "BINCHUAN", 4),
            ("集贸市场周边占道经营", "BINCHUAN", 5),
            ("集镇区排水沟堵塞", "XIAZHUANG", 10),
        ]
        issues = []
        for title, lead, days in plans:
            issue = flow.assign(title, lead=lead, due=govflow.working_days(days), by=OFFICE)
            issues.append(issue)
            print(f"  {issue.id}  {flow.unit(lead).name}  {title}: {days} 个工作日 working days → "
                  f"{day_label(issue.due)}")
        lamps, roads, _water, market, drains = issues

        print("\n每晚 18:00 扫描 Sweeping every evening at 18:00:")
        taken = 0
        day = START
        while day <= END:
            clock.set(at(day, 9))
            if day == dt.date(2026, 2, 12):
                request = flow.request_extension(lamps.id, by="XIANGYUN", due=govflow.working_days(10),
                                                 reason="春节期间无法施工")
                assert request.extension is not None  # pending until approved
                print(f"  {day_label(day)}  {lamps.id}  申请延期 extension requested: 10 个工作日 working days "
                      f"after {lamps.due} → {request.extension.due}, across the Spring Festival")
                approved = flow.approve_extension(lamps.id, by=OFFICE, note="同意延期")
                print(f"  {day_label(day)}  {lamps.id}  批准延期 approved: due {approved.due}, original due "
                      f"{approved.original_due} kept; the ladder starts afresh (steps {approved.escalation_steps})")
            if day == dt.date(2026, 2, 24):
                try:
                    flow.request_extension(roads.id, by="BINCHUAN", due="2026-03-13", reason="春节耽误")
                except govflow.ValidationError as error:
                    print(f"  {day_label(day)}  {roads.id}  延期被拒 extension refused: {error.problem}")
            if day == dt.date(2026, 2, 26):
                flow.implement(drains.id, by="XIAZHUANG", note="组织清淤，疏通排水沟 300 米")
                flow.report(drains.id, by="XIAZHUANG", result="排水畅通")
                flow.verify(drains.id, by=OFFICE, rating=5)
                print(f"  {day_label(day)}  {drains.id}  验收销号 verified: leaves the ladder")
            if day == dt.date(2026, 3, 20):
                flow.implement(market.id, by="BINCHUAN", note="划定临时疏导点")
                flow.report(market.id, by="BINCHUAN", result="占道经营已清理")
                flow.verify(market.id, by=OFFICE, rating=3)
                print(f"  {day_label(day)}  {market.id}  验收销号 verified (late 逾期后)")

            if DOWN[0] <= day <= DOWN[1]:
                if day == DOWN[0]:
                    print(f"  {day_label(DOWN[0])} … {DOWN[1]:%m-%d}  扫描停机 sweeper down: no sweeps")
                day += dt.timedelta(days=1)
                continue
            clock.set(at(day, 18))
            delivered = len(notifier.deadlines)
            events = flow.sweep()
            flow.deliver()  # the outbox: each step reaches every govflow_deadline plugin once
            if len(notifier.deadlines) - delivered != len(events):
                raise SystemExit(f"{day}: {len(events)} steps but {len(notifier.deadlines) - delivered} deliveries")
            if events and day == DOWN[1] + dt.timedelta(days=1):
                print(f"  {day_label(day)}  补扫 catch-up: {len(events)} missed steps, once each, in order")
            for event in events:
                show_step(flow, day, event)
            taken += len(events)
            if day == dt.date(2026, 2, 26):
                again = flow.sweep()
                print(f"  {day_label(day)}  再次扫描 sweep again at the same moment: {len(again)} new steps")
            day += dt.timedelta(days=1)

        print(f"\n逾期清单 Overdue on {day_label(END)} (flow.overdue()):")
        rows = [[late.issue.id, flow.unit(late.issue.lead).name, late.issue.title, str(late.issue.due),
                 str(late.working_days), str(late.issue.escalation_level)] for late in flow.overdue()]
        print(table(["事项 issue", "牵头单位 lead", "标题 title", "期限 due", "逾期工作日 working days late",
                     "level"], rows))

        print("\n事项 Issues:")
        rows = [[i.id, flow.unit(i.lead).name, f"{flow.label(i.state)} {i.state}", str(i.original_due), str(i.due),
                 str(i.extension_count), str(i.escalation_level)] for i in flow.issues()]
        print(table(["事项 issue", "牵头单位 lead", "状态 state", "原定期限 original", "期限 due", "延期 ext.",
                     "level"], rows))

        steps = [e for e in flow.ledger() if e.trigger == "deadline"]
        interviews = [e for e in steps if e.data["step"] == "interview"]
        check = flow.verify_ledger()
        print(f"\n期限步骤 Deadline steps: {len(steps)} in the ledger (actor {steps[0].actor}), {taken} swept, "
              f"{len(notifier.deadlines)} delivered 已送达; 约谈 interviews: "
              + ", ".join(f"{flow.unit(e.data['unit']).name} {e.at:%m-%d}" for e in interviews))
        print(f"台账校验 Ledger verified: {check.entries} 条 entries, {check.issues} 个事项 issues, "
              f"chain head {check.head[:16]}…")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "deadlines.sqlite3")
