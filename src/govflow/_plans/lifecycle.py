"""The ``plan-target`` lifecycle (目标任务), as data, registered like ``issue-list``.

active → completed (progress reached 100) → accepted (验收), with ``reject_target``
(退回) back to active. The target's unit is its ``lead``; the supervisor units, and the
unit holding the target it decomposes, are its ``supervisor``. Progress reports do not
change the state until they reach 100 (then the step is ``complete``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["PLAN_LABELS", "PLAN_TARGET"]

#: The lifecycle definition of targets; ``govflow.open`` registers it.
PLAN_TARGET: Final[dict[str, Any]] = {
    "name": "plan-target",
    "version": 1,
    "initial": "active",
    "states": ["active", "completed", "accepted"],
    "final": ["accepted"],
    "roles": ["supervisor", "lead", "cooperating"],
    "transitions": [
        {"trigger": "report_progress", "source": "active", "dest": None, "roles": ["lead"],
         "requires": ["progress", "note"], "optional": ["evidence", "reason"]},
        {"trigger": "complete", "source": "active", "dest": "completed", "roles": ["lead"],
         "requires": ["progress", "note"], "optional": ["evidence", "reason"]},
        {"trigger": "accept_target", "source": "completed", "dest": "accepted", "roles": ["supervisor"],
         "exclude": ["lead"], "optional": ["note"]},
        {"trigger": "reject_target", "source": "completed", "dest": "active", "roles": ["supervisor"],
         "exclude": ["lead"], "requires": ["reason"], "optional": ["progress"]},
    ],
    "labels": {
        "zh": {
            "active": "推进中", "completed": "已完成", "accepted": "已验收",
            "report_progress": "报告进度", "complete": "报告完成", "accept_target": "验收目标",
            "reject_target": "退回目标",
        },
        "en": {
            "active": "in progress", "completed": "completed", "accepted": "accepted",
            "report_progress": "report progress", "complete": "report completion", "accept_target": "accept target",
            "reject_target": "send target back",
        },
    },
}

#: Labels of plan states, target statuses and plan steps: name -> (Chinese, English).
PLAN_LABELS: Final = {
    "draft": ("草案", "draft"),
    "active": ("执行中", "active"),
    "closed": ("已结束", "closed"),
    "on_track": ("正常", "on track"),
    "behind": ("进度落后", "behind schedule"),
    "lagging": ("滞后", "lagging"),
    "completed": ("已完成", "completed"),
    "accepted": ("已验收", "accepted"),
    "add_plan": ("制定方案", "plan drawn up"),
    "activate_plan": ("启动方案", "plan started"),
    "close_plan": ("结束方案", "plan closed"),
    "add_target": ("分解目标", "target set"),
}
