"""Exports escape what they print: the ledger CSV as the bulletin CSV, Markdown without HTML, links or broken rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import govflow
from govflow.testing import FakeClock

OFFICE = "OFFICE"
# A Markdown link: "[text](target" with neither bracket escaped.
LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")
FORMULAS = ("=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\r=1")


def test_the_ledger_csv_neutralises_formula_looking_cells(flow: govflow.Govflow) -> None:
    flow.add_unit("=EVIL()", "=县", level="county", parent=OFFICE)
    issue = flow.assign("=1+1", lead="=EVIL()", due="2026-03-20", by=govflow.Actor(OFFICE, "@张三"))
    flow.implement(issue.id, by=govflow.Actor("=EVIL()", "-李四"), note="+1+1")
    text = str(flow.render("ledger", "csv", lang="en"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, rows
    for cell in cells:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    assert "'=EVIL()" in cells and "'@张三" in cells
    # What the bulletin CSV does, the ledger CSV does: the same rule, cell for cell.
    from govflow._reports.bulletin.tables import csv_cell

    assert all(csv_cell(value) == "'" + value for value in FORMULAS)


def test_the_ledger_markdown_escapes_html_bars_and_line_breaks(flow: govflow.Govflow) -> None:
    flow.add_unit("ODD", "<i>斜</i>", level="county", parent=OFFICE)
    issue = flow.assign("标题", lead="ODD", due="2026-03-20", by=govflow.Actor(OFFICE, "<b>王</b>|五"))
    note = "第一行\n| 伪造 | 一列 |\n<script>alert(1)</script> [点我](javascript:alert(1))"
    flow.implement(issue.id, by="ODD", note=note)
    markdown = str(flow.render("ledger", "markdown", lang="en"))
    assert "<script>" not in markdown and "<b>" not in markdown
    assert not LINK.search(markdown) and "\\[点我\\]" in markdown
    lines = markdown.splitlines()
    assert len(lines) == 2 + len(flow.ledger()), markdown  # one line per entry: no line break escaped into a row
    width = len(lines[0].split(" | "))
    for line in lines[2:]:
        assert len(line.replace("\\|", "").split(" | ")) == width, line


def test_link_looking_text_in_a_markdown_bulletin_is_not_a_link(flow: govflow.Govflow, clock: FakeClock) -> None:
    flow.add_unit("LINK", "[点我](javascript:alert(1))", level="county", parent=OFFICE)
    clock.set(dt.datetime(2026, 3, 2, 9, 0, tzinfo=govflow.DEFAULT_ZONE))
    flow.assign("[x](javascript:alert(document.cookie)) <javascript:alert(1)>", lead="LINK", due="2026-03-06",
                by=OFFICE)
    clock.set(dt.datetime(2026, 4, 1, 9, 0, tzinfo=govflow.DEFAULT_ZONE))
    markdown = str(flow.bulletin("2026-03").render("markdown"))
    assert "javascript:" in markdown  # the text is kept ...
    assert not LINK.search(markdown) and "<javascript:" not in markdown  # ... but never as a link
    assert "\\[点我\\](javascript:alert(1))" in markdown
