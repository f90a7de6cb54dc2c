"""The default ``issue-list`` lifecycle (问题清单), as data.

assigned → implemented → feedback → verified, with rejection back to
assigned (退回重办), cancellation (撤销), acceptance (签收), reassignment
(改派) and extension requests (延期) that do not change the state.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ISSUE_LIST", "ISSUE_LIST_V2"]

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

# -- version 2: the field loop of 督查督办 and 12345 practice -------------------------------------------

_ACTIVE = ["assigned", "implemented"]
_OPEN2 = ["assigned", "implemented", "feedback", "suspended", "returned"]

#: ``issue-list`` version 2: version 1 with 签收时限, 会签, 挂起/恢复, 退回交办/转办, 提级督办, 回访, 并案
#: and 佐证材料 (see docs/lifecycles.md). ``verified`` is no longer final: a call-back or a reopening may
#: send a verified issue back; ``merged`` is final.
ISSUE_LIST_V2: Final[dict[str, Any]] = {
    "name": "issue-list",
    "version": 2,
    "initial": "assigned",
    "states": ["assigned", "implemented", "feedback", "suspended", "returned", "verified", "cancelled", "merged"],
    "final": ["cancelled", "merged"],
    "roles": ["supervisor", "lead", "cooperating"],
    "settings": {"accept_limit": 1, "escalate_after_transfers": 3, "escalate_after_reworks": 3, "reopen_days": 30},
    "transitions": [
        {"trigger": "accept", "source": "assigned", "dest": None, "roles": ["lead"],
         "effects": ["record_acceptance"]},
        {"trigger": "return_to_dispatcher", "source": "assigned", "dest": "returned", "roles": ["lead"],
         "requires": ["reason"], "effects": ["return_to_dispatcher"]},
        {"trigger": "implement", "source": "assigned", "dest": "implemented", "roles": ["lead"],
         "requires": ["note"], "optional": ["evidence"]},
        {"trigger": "countersign", "source": _ACTIVE, "dest": None, "roles": ["cooperating"],
         "requires": ["note"], "effects": ["countersign"]},
        {"trigger": "decline_countersign", "source": _ACTIVE, "dest": None, "roles": ["cooperating"],
         "requires": ["reason"], "effects": ["decline_countersign"]},
        {"trigger": "report", "source": "implemented", "dest": "feedback", "roles": ["lead"],
         "requires": ["result"], "optional": ["evidence"], "effects": ["require_countersign"]},
        {"trigger": "verify", "source": "feedback", "dest": "verified", "roles": ["supervisor"],
         "exclude": ["lead"], "optional": ["rating", "note"], "effects": ["record_verification"]},
        {"trigger": "reject", "source": "feedback", "dest": "assigned", "roles": ["supervisor"],
         "exclude": ["lead"], "requires": ["reason"], "optional": ["due"],
         "effects": ["count_rework", "escalate"]},
        {"trigger": "callback", "source": "verified", "dest": None, "roles": ["supervisor"],
         "exclude": ["lead"], "requires": ["result"], "optional": ["reason", "reopen", "due"],
         "effects": ["callback"]},
        {"trigger": "reopen", "source": "verified", "dest": "assigned", "roles": ["supervisor"],
         "exclude": ["lead"], "requires": ["reason"], "optional": ["due"], "effects": ["reopen"]},
        {"trigger": "cancel", "source": _OPEN2, "dest": "cancelled", "roles": ["supervisor"],
         "requires": ["reason"]},
        {"trigger": "reassign", "source": ["assigned", "returned"], "dest": "assigned", "roles": ["supervisor"],
         "requires": ["new_lead", "reason"], "optional": ["due"],
         "effects": ["change_lead", "hand_over", "set_due", "escalate"]},
        {"trigger": "request_extension", "source": _ACTIVE, "dest": None,
         "roles": ["lead"], "requires": ["due", "reason"], "effects": ["request_extension"]},
        {"trigger": "approve_extension", "source": _OPEN, "dest": None, "roles": ["supervisor"],
         "optional": ["note"], "effects": ["approve_extension"]},
        {"trigger": "deny_extension", "source": _OPEN, "dest": None, "roles": ["supervisor"],
         "requires": ["reason"], "effects": ["deny_extension"]},
        {"trigger": "request_suspension", "source": _ACTIVE, "dest": None, "roles": ["lead"],
         "requires": ["reason"], "optional": ["until"], "effects": ["request_suspension"]},
        {"trigger": "approve_suspension", "source": _ACTIVE, "dest": "suspended", "roles": ["supervisor"],
         "optional": ["note"], "effects": ["approve_suspension"]},
        {"trigger": "deny_suspension", "source": _ACTIVE, "dest": None, "roles": ["supervisor"],
         "requires": ["reason"], "effects": ["deny_suspension"]},
        {"trigger": "resume", "source": "suspended", "dest": None, "roles": ["supervisor"],
         "optional": ["note"], "effects": ["resume"]},
        {"trigger": "merge", "source": _OPEN2, "dest": "merged", "roles": ["supervisor"],
         "requires": ["into", "reason"], "effects": ["merge_into"]},
        {"trigger": "take_merged", "source": [*_OPEN2, "verified"], "dest": None, "roles": ["supervisor"],
         "requires": ["merged_issue"], "optional": ["reason"], "effects": ["take_merged"]},
        # Evidence: by anyone on the issue while the lead works; by the others afterwards (a lead's
        # transition would make those states lead states, where the deadline clock runs).
        {"trigger": "attach", "source": _ACTIVE, "dest": None, "roles": ["supervisor", "lead", "cooperating"],
         "requires": ["sha256", "size", "name"], "optional": ["kind"], "effects": ["record_evidence"]},
        {"trigger": "attach", "source": ["feedback", "suspended", "returned", "verified"], "dest": None,
         "roles": ["supervisor", "cooperating"], "requires": ["sha256", "size", "name"], "optional": ["kind"],
         "effects": ["record_evidence"]},
    ],
    "labels": {
        "zh": {
            "assigned": "已交办", "implemented": "已落实", "feedback": "已反馈", "suspended": "已挂起",
            "returned": "已退回待派", "verified": "已销号", "cancelled": "已撤销", "merged": "已并案",
            "assign": "交办", "accept": "签收", "return_to_dispatcher": "退回交办", "implement": "落实",
            "countersign": "会签", "decline_countersign": "拒绝会签", "report": "反馈",
            "verify": "验收销号", "reject": "退回重办", "callback": "回访", "reopen": "重新打开",
            "cancel": "撤销", "reassign": "改派", "request_extension": "申请延期",
            "approve_extension": "批准延期", "deny_extension": "驳回延期", "request_suspension": "申请挂起",
            "approve_suspension": "批准挂起", "deny_suspension": "驳回挂起", "resume": "恢复",
            "merge": "并案", "take_merged": "并入", "attach": "上传佐证材料",
        },
        "en": {
            "assigned": "assigned", "implemented": "implemented", "feedback": "reported",
            "suspended": "suspended", "returned": "returned to the dispatcher", "verified": "verified",
            "cancelled": "cancelled", "merged": "merged",
            "assign": "assign", "accept": "accept", "return_to_dispatcher": "return to the dispatcher",
            "implement": "implement", "countersign": "countersign", "decline_countersign": "decline to countersign",
            "report": "report back", "verify": "verify and close", "reject": "reject for rework",
            "callback": "call-back", "reopen": "reopen", "cancel": "cancel", "reassign": "reassign",
            "request_extension": "request extension", "approve_extension": "approve extension",
            "deny_extension": "deny extension", "request_suspension": "request suspension",
            "approve_suspension": "approve suspension", "deny_suspension": "deny suspension",
            "resume": "resume", "merge": "merge", "take_merged": "take in a merged issue",
            "attach": "attach evidence",
        },
    },
}
