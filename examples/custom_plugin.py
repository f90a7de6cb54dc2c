"""A custom plugin registered without packaging (自定义插件示例).

Two small plugins in one file:

- ``EvidenceRequired`` vetoes verification (验收销号) of an issue whose report
  back (反馈) carried no evidence (佐证材料), through ``govflow_before_transition``;
- ``Printer`` prints every committed step, through ``govflow_after_transition``
  (delivered from the outbox after commit).

    python examples/custom_plugin.py
"""

from __future__ import annotations

import govflow
from govflow.testing import FakeClock


class EvidenceRequired:
    """验收销号须有佐证材料 / verification needs evidence in the report."""

    name = "evidence-required"

    def __init__(self) -> None:
        self.flow: govflow.Govflow | None = None

    @govflow.hookimpl
    def govflow_startup(self, flow: govflow.Govflow) -> None:
        self.flow = flow  # to read the ledger when a verification is proposed

    @govflow.hookimpl
    def govflow_before_transition(self, event: govflow.ProposedTransition) -> None:
        if event.trigger != "verify" or event.issue is None or self.flow is None:
            return
        reports = [e for e in self.flow.ledger(event.issue.id) if e.trigger == "report"]
        if not reports or not reports[-1].data.get("evidence"):
            raise govflow.TransitionVetoed(
                "反馈未附佐证材料，不能验收销号 / the report has no evidence attached", plugin=self.name
            )


class Printer:
    """Prints each committed step (a stand-in for SMS, email or a webhook)."""

    name = "printer"

    @govflow.hookimpl
    def govflow_after_transition(self, event: govflow.TransitionEvent) -> None:
        arrow = f"{event.from_state or '—'} → {event.to_state}"
        print(f"  [通知 notify] {event.issue_id} {event.trigger:<10} {arrow:<26} by {event.actor}"
              f"  key={event.idempotency_key}")


def main() -> None:
    clock = FakeClock("2020-06-01T09:00:00+08:00")
    plugins = [EvidenceRequired(), Printer()]
    with govflow.open(":memory:", clock=clock, plugins=plugins, delivery="inline") as flow:
        print("插件 Plugins:", ", ".join(f"{p.name}{'' if p.builtin else ' *'}" for p in flow.plugins()))
        flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")

        issue = flow.assign("集镇区排水沟堵塞", lead="XIANGYUN", due="2020-06-15", by="OFFICE")
        flow.implement(issue.id, by="XIANGYUN", note="清淤疏通")
        flow.report(issue.id, by="XIANGYUN", result="已疏通")  # no evidence
        try:
            flow.verify(issue.id, by="OFFICE", rating=5)
        except govflow.TransitionVetoed as veto:
            print(f"  TransitionVetoed: {veto}")
        print(f"  state 状态: {flow.get(issue.id).state} (nothing was written)")

        flow.reject(issue.id, by="OFFICE", reason="请补充佐证材料")
        flow.implement(issue.id, by="XIANGYUN", note="补充照片")
        flow.report(issue.id, by="XIANGYUN", result="已疏通", evidence=["清淤前后对比.jpg"])
        flow.verify(issue.id, by="OFFICE", rating=5)
        print(f"  state 状态: {flow.get(issue.id).state}; delivered 已送达: {len(flow.outbox.delivered())}")


if __name__ == "__main__":
    main()
