"""A full cycle of the problem-list system (问题清单制度全流程), on an embedded SQLite file.

A prefecture office (州领导小组办公室) supervises two counties and a township:
it assigns issues (交办); one goes along the main line to verified (销号), one
is rejected and reworked (退回重办) before it is verified, one is cancelled
(撤销). A refused permission and an invalid trigger show their messages.
The steps are spread over June and July 2020 as an office's would be: a
drain cleared within a fortnight, a dispute mechanism sent back once and
closed five weeks later. The ledger (台账) is printed as a table and its hash
chain is verified.

    .venv/bin/python examples/full_cycle.py [path.sqlite3]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from _display import table  # examples/_display.py, beside this script

import govflow
from govflow.testing import FakeClock


def show(flow: govflow.Govflow, issue: govflow.Issue) -> None:
    state = f"{flow.label(issue.state)} / {flow.label(issue.state, 'en')}"
    print(f"  {issue.id}  {issue.title}  →  {state}  (version {issue.version})")


def on(clock: FakeClock, when: str) -> None:
    """Set the clock to a local time in Asia/Shanghai ("2020-06-08 16:40"): the day a step is taken."""
    clock.now = dt.datetime.fromisoformat(when).replace(tzinfo=govflow.DEFAULT_ZONE)


def main(path: Path) -> None:
    # A fixed clock makes the run reproducible: June 2020, the Dali pilot (大理州试点).
    clock = FakeClock("2020-06-01T09:00:00+08:00", tick=dt.timedelta(minutes=7))
    with govflow.open(path, clock=clock, id_prefix="DL") as flow:
        print(f"govflow {govflow.__version__} — 问题清单制度全流程 / full cycle of the problem list")
        print(f"store 存储: SQLite {path}\n")

        flow.add_unit("DL-OFFICE", "州市域社会治理现代化试点工作领导小组办公室", level="prefecture",
                      supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="DL-OFFICE")
        flow.add_unit("BINCHUAN", "宾川县", level="county", parent="DL-OFFICE")
        flow.add_unit("XIAZHUANG", "祥云县下庄镇", level="township", parent="XIANGYUN")
        print("单位 Units:")
        print(table(["id", "名称 name", "层级 level", "督办 supervisor"],
                    [[u.id, u.name, u.level, "✓" if u.supervisor else ""] for u in flow.units()]))

        print("\n交办 Assign:")
        office = "DL-OFFICE"
        drains = flow.assign(
            "下庄镇集镇区排水沟堵塞", lead="XIAZHUANG", due="2020-06-15", by=office,
            cooperating=["XIANGYUN"], countersign="none", category="基层治理",
            responsible={"first": "李镇长", "direct": "王站长"},
        )
        disputes = flow.assign(
            "矛盾纠纷多元化解机制未建立", lead="BINCHUAN", due="2020-06-30", by=office,
            category="矛盾纠纷化解", responsible={"first": "赵县长", "direct": "钱主任"},
        )
        duplicate = flow.assign("重复交办的事项", lead="XIANGYUN", due="2020-06-30", by=office)
        for issue in (drains, disputes, duplicate):
            show(flow, issue)

        print("\n主线 Main line: 签收 → 落实 → 反馈 → 验收销号")
        on(clock, "2020-06-01 15:20")
        flow.accept(drains.id, by="XIAZHUANG")
        on(clock, "2020-06-05 16:40")
        flow.implement(drains.id, by=govflow.Actor("XIAZHUANG", "王站长"), note="组织清淤，疏通排水沟 300 米")
        on(clock, "2020-06-08 10:05")
        flow.report(drains.id, by="XIAZHUANG", result="排水畅通，群众满意", evidence=["清淤前后对比.jpg"])
        on(clock, "2020-06-10 11:30")
        show(flow, flow.verify(drains.id, by=office, rating=5))

        print("\n撤销 Cancel:")
        on(clock, "2020-06-11 09:00")
        show(flow, flow.cancel(duplicate.id, by=office, reason="与 DL2020-0001 重复"))

        print("\n退回重办 Rejection and rework:")
        on(clock, "2020-06-11 14:10")
        flow.accept(disputes.id, by="BINCHUAN")
        on(clock, "2020-06-16 17:25")
        flow.implement(disputes.id, by="BINCHUAN", note="印发工作方案")
        on(clock, "2020-06-19 09:40")
        flow.report(disputes.id, by="BINCHUAN", result="方案已印发")
        on(clock, "2020-06-22 15:00")
        show(flow, flow.reject(disputes.id, by=office, reason="只有方案，未见调解组织实际运行",
                               due="2020-07-10"))
        on(clock, "2020-07-03 16:15")
        flow.implement(disputes.id, by="BINCHUAN", note="乡镇调解委员会全部挂牌运行")
        on(clock, "2020-07-07 10:30")
        flow.report(disputes.id, by="BINCHUAN", result="已受理并化解纠纷 12 件")
        on(clock, "2020-07-09 11:00")
        done = flow.verify(disputes.id, by=office, rating=4)
        show(flow, done)
        print(f"  重办次数 rework count: {done.rework_count}; 原定期限 original due: {done.original_due}; "
              f"现期限 due: {done.due}")

        print("\n拒绝的操作 Refused commands (nothing is written):")
        on(clock, "2020-07-09 14:00")
        extra = flow.assign("村组道路照明不足", lead="XIANGYUN", due="2020-07-31", by=office)
        try:  # 牵头单位不能自己验收销号 / the lead unit may not verify its own issue
            on(clock, "2020-07-20 16:00")
            flow.implement(extra.id, by="XIANGYUN", note="新装路灯 20 盏")
            on(clock, "2020-07-22 09:50")
            flow.report(extra.id, by="XIANGYUN", result="已完成")
            flow.verify(extra.id, by="XIANGYUN")
        except govflow.PermissionDenied as error:
            print(f"  PermissionDenied: {error}")
        try:  # 已反馈的事项不能再落实 / an issue reported back cannot be implemented again
            flow.implement(extra.id, by="XIANGYUN", note="再次落实")
        except govflow.InvalidTransition as error:
            print(f"  InvalidTransition: {error}")
        print(f"  {extra.id} 可执行 may fire now: XIANGYUN {flow.allowed_triggers(extra.id, 'XIANGYUN')}, "
              f"DL-OFFICE {flow.allowed_triggers(extra.id, office)}")

        print("\n台账 Ledger:")
        rows = [
            [str(e.seq), e.issue_id, f"{flow.label(e.trigger)} {e.trigger}",
             flow.label(e.from_state) if e.from_state else "—", flow.label(e.to_state),
             e.actor + (f"/{e.person}" if e.person else ""), e.at.strftime("%m-%d %H:%M"), e.hash[:10]]
            for e in flow.ledger()
        ]
        print(table(["seq", "事项 issue", "操作 trigger", "原状态 from", "新状态 to", "单位 actor",
                     "时间 at", "哈希 hash"], rows))

        check = flow.verify_ledger()
        print(f"\n台账校验 Ledger verified: {check.entries} 条 entries, {check.issues} 个事项 issues, "
              f"chain head {check.head[:16]}…")
        when = flow.ledger(disputes.id)[4].at
        print(f"回放 Replay: {disputes.id} at {when:%Y-%m-%d %H:%M} was "
              f"{flow.label(flow.state_at(disputes.id, when))} / {flow.state_at(disputes.id, when)}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "full_cycle.sqlite3")
