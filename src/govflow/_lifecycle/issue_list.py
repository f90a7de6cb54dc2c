"""The default ``issue-list`` lifecycle (问题清单), as data.

assigned → implemented → feedback → verified, with rejection back to
assigned (退回重办), cancellation (撤销), acceptance (签收), reassignment
(改派) and extension requests (延期) that do not change the state.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ISSUE_LIST"]

_OPEN = ["assigned", "implemented", "feedback"]

#: The default lifecycle definition; ``govflow.open`` registers it.
ISSUE_LIST: Final[dict[str, Any]] = {
    "name": "issue-list",
    "version": 1,
    "initial": "assigned",
    "states": ["assigned", "implemented", "feedback", "verified", "cancelled"],
    "final": ["verified", "cancelled"],
    "roles": ["supervisor", "lead", "cooperating"],
    "transitions": [
        {"trigger": "accept", "source": "assigned", "dest": None, "roles": ["lead"],
         "effects": ["record_acceptance"]},
        {"trigger": "implement", "source": "assigned", "dest": "implemented", "roles": ["lead"],
         "requires": ["note"], "optional": ["evidence"]},
        {"trigger": "report", "source": "implemented", "dest": "feedback", "roles": ["lead"],
         "requires": ["result"], "optional": ["evidence"]},
        {"trigger": "verify", "source": "feedback", "dest": "verified", "roles": ["supervisor"],
         "exclude": ["lead"], "optional": ["rating", "note"]},
        {"trigger": "reject", "source": "feedback", "dest": "assigned", "roles": ["supervisor"],
         "exclude": ["lead"], "requires": ["reason"], "optional": ["due"],
         "effects": ["count_rework"]},
        {"trigger": "cancel", "source": _OPEN, "dest": "cancelled", "roles": ["supervisor"],
         "requires": ["reason"]},
        {"trigger": "reassign", "source": "assigned", "dest": None, "roles": ["supervisor"],
         "requires": ["new_lead", "reason"], "effects": ["change_lead"]},
        {"trigger": "request_extension", "source": ["assigned", "implemented"], "dest": None,
         "roles": ["lead"], "requires": ["due", "reason"], "effects": ["request_extension"]},
        {"trigger": "approve_extension", "source": _OPEN, "dest": None, "roles": ["supervisor"],
         "optional": ["note"], "effects": ["approve_extension"]},
        {"trigger": "deny_extension", "source": _OPEN, "dest": None, "roles": ["supervisor"],
         "requires": ["reason"], "effects": ["deny_extension"]},
    ],
    "labels": {
        "zh": {
            "assigned": "已交办", "implemented": "已落实", "feedback": "已反馈",
            "verified": "已销号", "cancelled": "已撤销",
            "assign": "交办", "accept": "签收", "implement": "落实", "report": "反馈",
            "verify": "验收销号", "reject": "退回重办", "cancel": "撤销", "reassign": "改派",
            "request_extension": "申请延期", "approve_extension": "批准延期",
            "deny_extension": "驳回延期",
        },
        "en": {
            "assigned": "assigned", "implemented": "implemented", "feedback": "reported",
            "verified": "verified", "cancelled": "cancelled",
            "assign": "assign", "accept": "accept", "implement": "implement",
            "report": "report back", "verify": "verify and close", "reject": "reject for rework",
            "cancel": "cancel", "reassign": "reassign", "request_extension": "request extension",
            "approve_extension": "approve extension", "deny_extension": "deny extension",
        },
    },
}
