"""The field loop of a 12345 work order (12345热线工单), on ``issue-list`` version 2.

A citizen calls the 12345 hotline on Monday 2 February 2026: sewage overflows
from a blocked pipe in a residential compound. The hotline office (12345热线办)
dispatches the case to the housing bureau (住建局), which returns it within its
acceptance limit as not theirs (退回交办, a transfer). The office transfers it
to the urban management bureau (城管局) as lead unit, with the sub-district
office (街道办) and the water bureau (水务局) cooperating. The lead accepts,
clears the pipe and attaches photos (佐证材料); both cooperating units
countersign (会签). The repair of the main sewer cannot go on over the Spring
Festival: the lead asks to suspend (挂起) until 24 February, the office
approves, and the nightly sweep resumes the case on that day, moving the due
date on by the working days spent suspended. The lead reports back, the office
verifies; at the call-back (回访) the citizen is dissatisfied and the office
finds the cause in the unit's work: 发回重办. The second repair holds, the
call-back is satisfied. At the end: the ledger (台账) with Chinese labels, the
ledger and its files verified, and the lead unit's figures for the quarter
(及时签收率, 满意率, 发回重办率).

    python examples/field_loop.py [path.sqlite3]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from _display import table  # examples/_display.py, beside this script

import govflow
from govflow.testing import FakeClock

HOTLINE = "HOTLINE"


def at(clock: FakeClock, day: str, hour: int = 9) -> None:
    clock.set(f"{day}T{hour:02d}:00:00+08:00")


def main(path: str) -> None:
    clock = FakeClock("2026-02-02T09:00:00+08:00", tick=dt.timedelta(minutes=5))
    with govflow.open(path, clock=clock, id_prefix="12345-", delivery="manual") as flow:
        flow.add_unit("CITY", "大理市人民政府督查室", level="prefecture", supervisor=True)
        flow.add_unit(HOTLINE, "大理市12345热线办", level="prefecture", parent="CITY", supervisor=True)
        flow.add_unit("HOUSING", "市住建局", level="department", parent="CITY")
        flow.add_unit("URBAN", "市城管局", level="department", parent="CITY")
        flow.add_unit("STREET", "下关街道办", level="township", parent="CITY")
        flow.add_unit("WATER", "市水务局", level="department", parent="CITY")
        labels = flow.lifecycle().labels["zh"]

        order = flow.assign("小区污水管道堵塞外溢", lead="HOUSING", due=govflow.working_days(10), by=HOTLINE,
                            cooperating=["STREET", "WATER"], description="市民来电：某小区3栋旁污水外溢，气味难闻。")
        version = f"{order.lifecycle}@{order.lifecycle_version}"
        print(f"交办 {order.id}（{version}），限 {order.due} 办结，签收时限 1 个工作日")
        flow.return_to_dispatcher(order.id, by=govflow.Actor("HOUSING", "李科长"), reason="市政排水管网不属本局职责")
        order = flow.reassign(order.id, by=HOTLINE, new_lead="URBAN", reason="转市城管局办理")
        print(f"退回交办后转办：牵头单位 {order.lead}，转办 {order.field.transfers if order.field else 0} 次")

        # A second call about the same overflow: merged into the first work order (并案).
        at(clock, "2026-02-03")
        duplicate = flow.assign("小区污水外溢（重复来电）", lead="URBAN", due=govflow.working_days(10), by=HOTLINE)
        flow.merge(duplicate.id, into=order.id, by=HOTLINE, reason="同一地点同一诉求，重复来电")
        print(f"并案：{duplicate.id} → {order.id}")

        flow.accept(order.id, by=govflow.Actor("URBAN", "王队长"))
        flow.attach(order.id, b"JPEG: the blocked pipe before clearing", by="URBAN", name="疏通前.jpg", kind="photo")
        flow.implement(order.id, by="URBAN", note="已疏通支管，主管破损需更换")
        try:
            flow.report(order.id, by="URBAN", result="已完成")
        except govflow.InvalidTransition as refused:
            print(f"反馈被拒（会签未完成）：{refused}")
        flow.countersign(order.id, by=govflow.Actor("STREET", "赵主任"), note="已组织居民临时避让并做好解释")
        flow.countersign(order.id, by=govflow.Actor("WATER", "钱工"), note="已核实主管管径，提供更换方案")

        # Suspension (挂起) across the Spring Festival: materials and crews are not available.
        at(clock, "2026-02-12")
        flow.request_suspension(order.id, by="URBAN", reason="春节期间管材停供、施工队伍休假", until="2026-02-24")
        flow.approve_suspension(order.id, by=HOTLINE, note="同意挂起至2月24日")
        day = dt.date(2026, 2, 12)
        while day <= dt.date(2026, 2, 24):
            at(clock, day.isoformat(), 20)
            flow.sweep()  # no reminders while suspended; resumed automatically on the 24th
            day += dt.timedelta(days=1)
        resumed = flow.get(order.id)
        print(f"恢复：{resumed.state}，原期限 {resumed.original_due}，顺延后期限 {resumed.due}，"
              f"挂起 {resumed.field.suspended_days if resumed.field else 0} 个工作日")

        at(clock, "2026-02-26")
        flow.attach(order.id, b"JPEG: the new main sewer in place", by="URBAN", name="主管更换后.jpg", kind="photo")
        flow.report(order.id, by="URBAN", result="主管已更换，污水不再外溢")
        flow.verify(order.id, by=HOTLINE, rating=4)
        at(clock, "2026-02-27")
        back = flow.callback(order.id, by=HOTLINE, result="dissatisfied", reason="雨后仍有返溢，整改不彻底",
                             reopen=True, due=govflow.working_days(5))
        print(f"回访不满意，发回重办：{back.state}，新期限 {back.due}，重办 {back.rework_count} 次")
        at(clock, "2026-03-04")
        flow.implement(order.id, by="URBAN", note="加装止回阀，清理化粪池")
        flow.report(order.id, by="URBAN", result="雨后复查无返溢")
        flow.verify(order.id, by=HOTLINE, rating=5)
        at(clock, "2026-03-06")
        flow.callback(order.id, by=HOTLINE, result="satisfied")

        print("\n台账 Ledger")
        rows = []
        for entry in flow.ledger(order.id):
            step = labels.get(entry.trigger, flow.label(entry.trigger))
            if entry.trigger == "deadline":
                step = govflow.STEP_LABELS.get(str(entry.data.get("step")), {}).get("zh", step)
            who = entry.actor + (f"/{entry.person}" if entry.person else "")
            rows.append([str(entry.issue_seq), entry.at.strftime("%m-%d %H:%M"), step,
                         labels.get(entry.to_state, entry.to_state), who])
        print(table(["#", "时间", "环节", "状态", "操作人"], rows))

        check = flow.verify_ledger(blobs=True)
        print(f"\n台账及佐证材料校验 Ledger and files verified: {check.entries} 条 entries, "
              f"{check.issues} 个事项 issues")

        at(clock, "2026-04-01")
        facts = flow.facts("2026-Q1")["URBAN"]
        score = next(s for s in flow.scores("2026-Q1") if s.unit == "URBAN")
        print("\n市城管局 2026年第一季度 KPI")
        kpis = [[i.label_zh, f"{i.value:.1f}%"] for i in score.breakdown if i.value is not None]
        kpis.append(["回访 / 满意（含基本满意） / 发回重办",
                     f"{facts.callbacks} / {facts.callbacks_satisfied} / {facts.callback_reworks}"])
        print(table(["指标", "值"], kpis))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(str(Path(folder) / "field_loop.sqlite3"))
