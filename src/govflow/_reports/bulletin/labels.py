"""Every label a bulletin prints, in Chinese and English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..._core.errors import ValidationError
from ..._deadlines.ladder import STEP_LABELS
from ..scoring import DEFAULT_GRADE_NAMES, grade_name

__all__ = ["BULLETIN_LABELS", "DEFAULT_GRADE_NAMES", "LANGS", "check_lang", "grade_name", "label"]

#: The languages a bulletin is rendered in.
LANGS: Final = ("zh", "en")

#: The default grades in English.


#: key -> (Chinese, English). ``{period}`` and ``{previous}`` are filled in by the renderers.
BULLETIN_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("{period}问题清单办理情况通报", "Problem list bulletin, {period}"),
    "produced_at": ("生成时间", "Produced"),
    "period": ("通报期间", "Period"),
    "summary": ("总体情况", "Summary"),
    "ranking": ("考评得分与排名", "Scores and ranking"),
    "breakdown": ("得分明细", "Score breakdown"),
    "red_list": ("红榜", "Red list"),
    "black_list": ("黑榜", "Black list"),
    "overdue": ("期末逾期问题", "Issues overdue at the end of the period"),
    "changes": ("与上期（{previous}）相比", "Changes since {previous}"),
    "facts": ("各单位办理情况", "Figures by unit"),
    "ledger": ("台账", "Ledger"),
    "overdue_sheet": ("期末逾期问题", "Overdue at period end"),
    "charts": ("图表", "Charts"),
    "chart_totals": ("各单位综合得分", "Total score by unit"),
    "chart_rates": ("主要指标", "Main rates"),
    # the HTML bulletin
    "chart_overdue": ("期末逾期问题最多的单位", "Units with the most issues overdue"),
    "chart_missing": ("缺柱表示本期无可计算的事项", "a missing bar: nothing to measure this period"),
    "grade_lines": ("虚线为等次分数线", "dashed lines: grade thresholds"),
    "rate_percent": ("比率（%）", "rate (%)"),
    "overall_rates": ("总体指标", "Overall rates"),
    "units_ranked": ("参与排名单位", "Units ranked"),
    "units_not_ranked": ("本期无到期任务单位", "Units with nothing due"),
    "period_range": ("{start}至{end}", "{start} to {end}"),
    "source_note": (
        "本通报所有数据均取自台账，统计截至{end}。",
        "Every figure in this bulletin comes from the ledger, up to and including {end}.",
    ),
    "breakdown_hint": ("得分明细为各指标计入综合得分的分值", "the breakdown shows the points each indicator adds"),
    "unit": ("单位", "Unit"),
    "unit_id": ("单位编码", "Unit id"),
    "level": ("层级", "Level"),
    "total": ("综合得分", "Total"),
    "rank": ("本级排名", "Rank in level"),
    "grade": ("等次", "Grade"),
    "previous_total": ("上期得分", "Previous total"),
    "change": ("得分变化", "Change"),
    "previous_rank": ("上期排名", "Previous rank"),
    "rank_change": ("名次变化", "Places moved"),
    "reasons": ("上榜原因", "Why listed"),
    "reason_top": ("本级前五名", "top five of its level"),
    "reason_bottom": ("综合得分后五名", "bottom five overall"),
    "reason_interview": ("被约谈", "interviewed (约谈)"),
    "interviews": ("约谈次数", "Interviews"),
    "issue": ("问题编号", "Issue"),
    "issue_title": ("问题", "Title"),
    "due": ("办理时限", "Due"),
    "days_overdue": ("逾期工作日", "Working days overdue"),
    "points_of": ("{name}得分", "{name} (points)"),
    "issuer": ("发布单位", "Issued by"),
    "as_of": ("统计截至", "Counted up to"),
    "checkpoint": ("台账校验点", "Ledger checkpoint"),
    "state": ("状态", "State"),
    "responsible_first": ("第一责任人", "First responsible"),
    "responsible_direct": ("直接责任人", "Directly responsible"),
    "not_scored": ("本期无到期任务，不参与排名", "nothing fell due: not ranked"),
    "none": ("无", "none"),
    "indicator": ("指标", "Indicator"),
    "value": ("完成率", "Rate"),
    "weight": ("权重", "Weight"),
    "score": ("得分", "Points"),
    "count": ("次数", "Count"),
    "all_units": ("合计", "All units"),
    "seq": ("序号", "Seq"),
    "step": ("步骤", "Step"),
    "trigger": ("操作", "Action"),
    "from_state": ("原状态", "From"),
    "to_state": ("新状态", "To"),
    "actor": ("经办单位", "By unit"),
    "person": ("经办人", "Person"),
    "at": ("时间", "At"),
    "data": ("内容", "Details"),
    "hash": ("哈希", "Hash"),
    # the period's figures (govflow.UnitFacts)
    "assigned": ("交办数", "Assigned"),
    "accepted_on_time": ("按时签收数", "Accepted on time"),
    "cooperating": ("协办数", "Cooperating"),
    "fed_back_on_time": ("按时反馈数", "Fed back on time"),
    "closed": ("销号数", "Closed"),
    "feedbacks": ("反馈数", "Feedbacks"),
    "first_pass": ("一次通过数", "Passed first time"),
    "rejections": ("退回重办数", "Rejections"),
    "extensions": ("延期数", "Extensions"),
    "overdue_at_end": ("期末逾期数", "Overdue at end"),
    "ratings": ("评价数", "Ratings"),
    "rating_sum": ("评分合计", "Rating sum"),
    "callbacks": ("回访数", "Call-backs"),
    "callbacks_satisfied": ("回访满意数（含基本满意）", "Call-backs satisfied"),
    "callback_reworks": ("回访发回重办数", "Sent back at call-back"),
    "transfers": ("退回交办数", "Returned to the dispatcher"),
    "escalated": ("提级督办数", "Escalated one level"),
    "suspended_days": ("挂起工作日数", "Working days suspended"),
    "mean_rating": ("平均满意度", "Mean rating"),
    "due_count": ("到期数", "Fell due"),
    # roll-ups and work plans
    "rollup": ("逐级汇总（含下级单位）", "Roll-up with the units below"),
    "units_counted": ("含单位数", "Units counted"),
    "plans": ("工作方案进度", "Work plan progress"),
    "plan": ("工作方案", "Plan"),
    "scope": ("范围", "Scope"),
    "scope_overall": ("整体", "overall"),
    "scope_phase": ("阶段：{name}", "phase: {name}"),
    "scope_unit": ("单位：{name}", "unit: {name}"),
    "progress": ("实际进度(%)", "Progress (%)"),
    "expected": ("应达进度(%)", "Expected (%)"),
    "lag": ("滞后(百分点)", "Lag (points)"),
    "targets": ("目标数", "Targets"),
    "lagging_count": ("滞后目标数", "Lagging targets"),
    "lagging": ("滞后目标", "Lagging targets"),
    "target": ("目标编号", "Target"),
    "target_title": ("目标任务", "Target"),
    "timeline": ("时间表、路线图", "Timetable and roadmap"),
    "as_of_line": ("统计截至", "as of"),
    # unit levels
    "level_prefecture": ("州（市）", "prefecture"),
    "level_county": ("县（市、区）", "county"),
    "level_township": ("乡（镇）", "township"),
    "level_department": ("部门", "department"),
    # the escalation ladder's steps
    **{f"step_{step}": (names["zh"], names["en"]) for step, names in STEP_LABELS.items()},
}


def check_lang(lang: object) -> str:
    """``lang`` if it is a bulletin language; otherwise :class:`ValidationError`."""
    if lang not in LANGS:
        raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
    return str(lang)


def label(key: str, lang: str = "zh") -> str:
    """The label ``key`` in ``lang`` (the key itself when there is none)."""
    pair = BULLETIN_LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
