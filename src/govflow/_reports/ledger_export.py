"""Ledger renderers (台账导出): CSV with a BOM for Excel, JSON and Markdown, in zh or en."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._core.errors import ValidationError
from .._core.ledger import is_issue_subject
from .escape import csv_text, md_text

if TYPE_CHECKING:
    from .._core.model import LedgerEntry
    from .._flow.facade import Govflow

__all__ = ["LEDGER_COLUMNS", "ledger_csv", "ledger_json", "ledger_markdown"]

#: The ledger columns and their headings in each language.
LEDGER_COLUMNS: Final = {
    "zh": ("序号", "事项编号", "事项步骤", "操作", "原状态", "新状态", "单位", "经办人", "时间", "内容", "哈希"),
    "en": ("seq", "issue", "step", "trigger", "from", "to", "unit", "person", "at", "data", "hash"),
}


def _rows(flow: Govflow, issue_id: str | None, lang: str) -> list[list[str]]:
    if lang not in LEDGER_COLUMNS:
        raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
    entries: list[LedgerEntry] = flow.ledger(issue_id)
    label = labeller(flow, lang)
    return [
        [
            str(e.seq), e.issue_id, str(e.issue_seq), label(e.issue_id, e.trigger),
            label(e.issue_id, e.from_state) if e.from_state else "", label(e.issue_id, e.to_state),
            e.actor, e.person or "", e.at.isoformat(),
            json.dumps(e.data, ensure_ascii=False, sort_keys=True), e.hash,
        ]
        for e in entries
    ]


def labeller(flow: Govflow, lang: str) -> Callable[[str, str], str]:
    """``label(issue_id, name)`` in the labels of the lifecycle version that issue runs under."""
    lifecycles: dict[str, tuple[str, int]] = {}

    def label(issue_id: str, name: str) -> str:
        if not is_issue_subject(issue_id):  # a unit's, a plan's or a target's entry: labels of their own
            return flow.label(name, lang)
        found = lifecycles.get(issue_id)
        if found is None:
            issue = flow.get(issue_id)
            found = lifecycles[issue_id] = (issue.lifecycle, issue.lifecycle_version)
        return flow.label(name, lang, found[0], found[1])

    return label


def ledger_csv(flow: Govflow, *, issue_id: str | None = None, lang: str = "zh", **_: Any) -> str:
    """The ledger as CSV text that starts with a UTF-8 BOM, so Excel shows Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    rows = _rows(flow, issue_id, lang)
    writer.writerow(LEDGER_COLUMNS[lang])
    # Every cell as the bulletin's CSV has it: text that looks like a formula stays text.
    writer.writerows([csv_text(cell) for cell in row] for row in rows)
    return "\ufeff" + buffer.getvalue()


def ledger_json(flow: Govflow, *, issue_id: str | None = None, lang: str = "zh", **_: Any) -> str:
    """The ledger as a JSON array of entries (field names in English, labels in ``lang``)."""
    if lang not in LEDGER_COLUMNS:
        raise ValidationError("lang", f"got {lang!r}", "'zh' or 'en'")
    label = labeller(flow, lang)
    return json.dumps(
        [
            {
                "seq": e.seq, "issue_id": e.issue_id, "issue_seq": e.issue_seq, "trigger": e.trigger,
                "trigger_label": label(e.issue_id, e.trigger), "from_state": e.from_state,
                "to_state": e.to_state, "actor": e.actor, "person": e.person, "at": e.at.isoformat(),
                "data": dict(e.data), "prev_hash": e.prev_hash, "hash": e.hash,
            }
            for e in flow.ledger(issue_id)
        ],
        ensure_ascii=False,
        indent=2,
    )


def ledger_markdown(flow: Govflow, *, issue_id: str | None = None, lang: str = "zh", **_: Any) -> str:
    """The ledger as a Markdown table (the hash shortened to 12 characters); text escaped so that it can
    neither add HTML, a link or a column nor break a row."""
    rows = _rows(flow, issue_id, lang)
    head = LEDGER_COLUMNS[lang]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "| " + " | ".join(md_text(c) for c in cells) + " |"

    lines = [line(head), "|" + "---|" * len(head)]
    lines += [line([*row[:-1], row[-1][:12]]) for row in rows]
    return "\n".join(lines) + "\n"
