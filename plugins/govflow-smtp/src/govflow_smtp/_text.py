"""The wording of the emails: subject and body, in Chinese then English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import govflow

__all__ = ["DEADLINE_STEPS", "Text"]

#: Chinese and English labels of the deadline steps (a lifecycle's own labels win).
DEADLINE_STEPS: Final[Mapping[str, tuple[str, str]]] = {
    "due_soon": ("即将到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
    "urge": ("催办", "reminder"),
    "supervise": ("督办", "supervision notice"),
    "interview": ("约谈", "interview"),
}

# Labels of the ledger data keys (English falls back to the key with spaces).
_KEYS_ZH: Final[Mapping[str, str]] = {
    "title": "问题标题", "lead": "牵头单位", "due": "完成时限", "cooperating": "配合单位",
    "description": "问题描述", "category": "问题类别", "responsible": "责任人", "note": "说明",
    "result": "落实结果", "evidence": "佐证材料", "reason": "理由", "rating": "满意度",
    "new_lead": "新牵头单位", "first": "第一责任人", "direct": "直接责任人",
}
_KEYS_EN: Final[Mapping[str, str]] = {
    "new_lead": "new lead unit", "lead": "lead unit", "cooperating": "cooperating units",
    "first": "first responsible", "direct": "directly responsible",
}
_UNIT_KEYS: Final = frozenset({"lead", "new_lead", "cooperating"})
# Data keys left out of the body: bookkeeping, or shown in the lines above the details.
_HIDDEN_KEYS: Final = frozenset({"lifecycle", "lifecycle_version", "title"})
_HIDDEN_ON_ASSIGN: Final = frozenset({"lead", "due"})


def _both(zh: str, en: str) -> str:
    return zh if zh == en else f"{zh} {en}"


class Text:
    """Subject and body of the emails about one issue, in Chinese then English.

    Names come from the flow: state and trigger labels from the issue's
    lifecycle, unit names from the registered units (the id where there is
    none).
    """

    def __init__(self, flow: govflow.Govflow, issue: govflow.Issue) -> None:
        self.flow = flow
        self.issue = issue

    def label(self, name: str | None, lang: str) -> str:
        """The lifecycle's label of a state or trigger (``—`` for None, the name itself if it has none)."""
        if name is None:
            return "—"
        try:
            return self.flow.label(name, lang, self.issue.lifecycle)
        except govflow.GovflowError:
            return name

    def unit(self, unit_id: str) -> str:
        """The unit's name, or its id if it is not registered."""
        try:
            return self.flow.unit(unit_id).name
        except govflow.NotFound:
            return unit_id

    def unit_zh(self, unit_id: str) -> str:
        """``名称（ID）``, or the id alone."""
        name = self.unit(unit_id)
        return name if name == unit_id else f"{name}（{unit_id}）"

    def unit_en(self, unit_id: str) -> str:
        """``Name (ID)``, or the id alone."""
        name = self.unit(unit_id)
        return name if name == unit_id else f"{name} ({unit_id})"

    def value(self, key: str, value: Any, lang: str) -> str:
        """One ledger data value in words: unit ids as names, mappings and lists joined."""
        zh = lang == "zh"
        if key in _UNIT_KEYS:
            units = [value] if isinstance(value, str) else list(value) if isinstance(value, Sequence) else None
            if units is not None and all(isinstance(u, str) for u in units):
                return ("、" if zh else ", ").join(self.unit_zh(u) if zh else self.unit_en(u) for u in units)
        if isinstance(value, Mapping):
            parts = [f"{self.key(str(k), lang)} {v}" for k, v in value.items() if v is not None]
            return ("；" if zh else "; ").join(parts) or "—"
        if isinstance(value, list | tuple):
            return ("、" if zh else ", ").join(str(item) for item in value)
        return str(value)

    @staticmethod
    def key(key: str, lang: str) -> str:
        """The label of a ledger data key."""
        if lang == "zh":
            return _KEYS_ZH.get(key, key)
        return _KEYS_EN.get(key, key.replace("_", " "))

    def items(self, data: Mapping[str, Any], lang: str) -> list[str]:
        """The indented ``key: value`` lines of ledger data (None values left out)."""
        colon = "：" if lang == "zh" else ": "
        return [
            f"  {self.key(key, lang)}{colon}{self.value(key, value, lang)}"
            for key, value in data.items()
            if value is not None
        ]

    def transition(self, event: govflow.TransitionEvent, lead: str) -> tuple[str, str]:
        """Subject and body for a transition; ``lead`` is the lead unit after the step."""
        issue = self.issue
        trigger = (self.label(event.trigger, "zh"), self.label(event.trigger, "en"))
        before = (self.label(event.from_state, "zh"), self.label(event.from_state, "en"))
        after = (self.label(event.to_state, "zh"), self.label(event.to_state, "en"))
        subject = f"【govflow】{issue.id} {_both(*trigger)}：{_both(*after)}"
        at = event.at.isoformat(sep=" ", timespec="minutes")
        zh = [
            f"问题编号：{issue.id}",
            f"问题标题：{issue.title}",
            f"事项：{trigger[0]}（{before[0]} → {after[0]}）",
            f"牵头单位：{self.unit_zh(lead)}",
            f"办理单位：{self.unit_zh(event.actor)}",
        ]
        en = [
            f"Issue: {issue.id}",
            f"Title: {issue.title}",
            f"Step: {trigger[1]} ({before[1]} → {after[1]})",
            f"Lead unit: {self.unit_en(lead)}",
            f"By: {self.unit_en(event.actor)}",
        ]
        if event.person:
            zh.append(f"经办人：{event.person}")
            en.append(f"Person: {event.person}")
        if event.merged:  # 并案: the duplicates' units get this email too
            zh.append(f"并案：{'、'.join(event.merged)} 已并入本问题")
            en.append(f"Merged into this issue: {', '.join(event.merged)}")
        zh += [f"时间：{at}", f"完成时限：{issue.due.isoformat()}"]
        en += [f"Time: {at}", f"Due: {issue.due.isoformat()}"]
        hidden = _HIDDEN_KEYS | (_HIDDEN_ON_ASSIGN if event.from_state is None else frozenset())
        data = {key: value for key, value in event.data.items() if key not in hidden}
        details_zh, details_en = self.items(data, "zh"), self.items(data, "en")
        if details_zh:
            zh += ["内容：", *details_zh]
            en += ["Details:", *details_en]
        return subject, self.body("问题清单办理通知", zh, "Problem-list notice", en, event.idempotency_key)

    def deadline(self, event: govflow.DeadlineEvent, lead: str, state: str) -> tuple[str, str]:
        """Subject and body for a deadline step; ``lead`` and ``state`` are the issue's at the step."""
        issue = self.issue
        zh_step, en_step = DEADLINE_STEPS.get(event.step, (event.step, event.step))
        zh_step = self.label(event.step, "zh") if self.label(event.step, "zh") != event.step else zh_step
        en_step = self.label(event.step, "en") if self.label(event.step, "en") != event.step else en_step
        due = event.due.isoformat()
        subject = f"【govflow】{issue.id} {_both(zh_step, en_step)}：期限 due {due}"
        at = event.at.isoformat(sep=" ", timespec="minutes")
        zh = [
            f"问题编号：{issue.id}",
            f"问题标题：{issue.title}",
            f"提醒：{zh_step}（第 {event.level} 级）",
            f"牵头单位：{self.unit_zh(lead)}",
            f"完成时限：{due}",
            f"当前状态：{self.label(state, 'zh')}",
            f"时间：{at}",
        ]
        en = [
            f"Issue: {issue.id}",
            f"Title: {issue.title}",
            f"Notice: {en_step} (level {event.level})",
            f"Lead unit: {self.unit_en(lead)}",
            f"Due: {due}",
            f"State: {self.label(state, 'en')}",
            f"Time: {at}",
        ]
        return subject, self.body("问题清单时限提醒", zh, "Problem-list deadline notice", en, event.idempotency_key)

    @staticmethod
    def body(title_zh: str, zh: list[str], title_en: str, en: list[str], key: str) -> str:
        """The whole body: the Chinese block, a rule, the English block and the footer."""
        lines = [f"【govflow】{title_zh}", "", *zh, "", "—" * 20, "", f"govflow: {title_en}", "", *en, ""]
        lines.append("（本邮件由 govflow 自动发送，请勿直接回复。）")
        lines.append(f"(Sent by govflow; do not reply. Idempotency key: {key})")
        return "\n".join(lines) + "\n"
