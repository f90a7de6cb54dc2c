"""A realistic March 2026 for the standard cast (used by test_facts and test_scoring).

祥云县 (XIANGYUN) is fast, 宾川县 (BINCHUAN) is late and ends up with a 约谈, 下庄镇
(XIAZHUANG) gets one issue rejected once, takes over an issue by reassignment and
has an extension approved. The deadline sweep runs on 03-12 and 03-31.
"""

from __future__ import annotations

import datetime as dt

import govflow
from govflow.testing import FakeClock

SH = govflow.DEFAULT_ZONE


def at(clock: FakeClock, month: int, day: int, hour: int = 9) -> None:
    """Set the clock to 2026-month-day hour:00 in Shanghai."""
    clock.now = dt.datetime(2026, month, day, hour, tzinfo=SH)


def run_march(flow: govflow.Govflow, clock: FakeClock) -> dict[str, str]:
    """Play March 2026; return the issue ids by name."""
    office = "OFFICE"
    at(clock, 3, 2)
    ids: dict[str, str] = {}

    def assign(name: str, lead: str, due: str, **kw: object) -> None:
        kw.setdefault("accept_limit", 0)  # the facts of the ladder alone: no accept_overdue steps
        ids[name] = flow.assign(f"问题 {name}", lead=lead, due=due, by=office, **kw).id  # type: ignore[arg-type]

    assign("A1", "XIANGYUN", "2026-03-13", cooperating=["BINCHUAN"], countersign="none")
    assign("A2", "XIANGYUN", "2026-03-20")
    assign("B1", "BINCHUAN", "2026-03-10")
    assign("B2", "BINCHUAN", "2026-03-16")
    assign("B3", "BINCHUAN", "2026-03-11")
    assign("B4", "BINCHUAN", "2026-03-12")
    assign("B6", "BINCHUAN", "2026-03-09")
    assign("T1", "XIAZHUANG", "2026-03-12")
    assign("C1", "XIANGYUN", "2026-03-25")
    for name, lead in (("A1", "XIANGYUN"), ("A2", "XIANGYUN"), ("B6", "BINCHUAN"), ("T1", "XIAZHUANG")):
        flow.accept(ids[name], by=lead)
    at(clock, 3, 3)
    flow.accept(ids["B3"], by="BINCHUAN")
    flow.reassign(ids["B2"], by=office, new_lead="XIAZHUANG", reason="属地调整")
    flow.accept(ids["B2"], by="XIAZHUANG")
    at(clock, 3, 4)
    flow.accept(ids["B1"], by="BINCHUAN")  # a day late
    at(clock, 3, 5)
    flow.implement(ids["A1"], by="XIANGYUN", note="已整改")
    at(clock, 3, 6)
    flow.report(ids["A1"], by="XIANGYUN", result="已完成")
    at(clock, 3, 9)
    flow.verify(ids["A1"], by=office, rating=5)
    flow.implement(ids["T1"], by="XIAZHUANG", note="初步整改")
    at(clock, 3, 10)
    flow.report(ids["T1"], by="XIAZHUANG", result="已完成")
    flow.implement(ids["A2"], by="XIANGYUN", note="已整改")
    flow.report(ids["A2"], by="XIANGYUN", result="已完成")
    at(clock, 3, 11)
    flow.verify(ids["A2"], by=office, rating=4)
    flow.reject(ids["T1"], by=office, reason="佐证不足")
    flow.implement(ids["T1"], by="XIAZHUANG", note="补充整改")
    at(clock, 3, 12)
    flow.report(ids["T1"], by="XIAZHUANG", result="已补充")
    at(clock, 3, 12, 18)
    flow.sweep()
    at(clock, 3, 13)
    flow.verify(ids["T1"], by=office, rating=3)
    flow.request_extension(ids["B2"], by="XIAZHUANG", due="2026-03-27", reason="需协调")
    flow.approve_extension(ids["B2"], by=office)
    at(clock, 3, 16)
    flow.implement(ids["B6"], by="BINCHUAN", note="迟办")
    flow.report(ids["B6"], by="BINCHUAN", result="已完成")
    at(clock, 3, 17)
    flow.verify(ids["B6"], by=office, rating=2)
    at(clock, 3, 20)
    flow.cancel(ids["C1"], by=office, reason="重复交办")
    at(clock, 3, 25)
    flow.implement(ids["B2"], by="XIAZHUANG", note="已整改")
    flow.report(ids["B2"], by="XIAZHUANG", result="已完成")
    at(clock, 3, 26)
    flow.verify(ids["B2"], by=office, rating=4)
    at(clock, 3, 30)
    assign("A3", "XIANGYUN", "2026-04-10")
    at(clock, 3, 31, 18)
    flow.sweep()
    return ids


def run_april(flow: govflow.Govflow, clock: FakeClock, ids: dict[str, str]) -> None:
    """Some of April: A3 accepted late but done early; B1 finally reported."""
    office = "OFFICE"
    at(clock, 4, 1)
    flow.accept(ids["A3"], by="XIANGYUN")
    at(clock, 4, 2)
    flow.implement(ids["B1"], by="BINCHUAN", note="终于整改")
    flow.report(ids["B1"], by="BINCHUAN", result="已完成")
    at(clock, 4, 3)
    flow.reject(ids["B1"], by=office, reason="不彻底")
    at(clock, 4, 8)
    flow.implement(ids["A3"], by="XIANGYUN", note="已整改")
    flow.report(ids["A3"], by="XIANGYUN", result="已完成")
    at(clock, 4, 9)
    flow.verify(ids["A3"], by=office, rating=5)
