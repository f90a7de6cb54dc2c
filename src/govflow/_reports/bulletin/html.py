"""The HTML bulletin: one self-contained, printable file with inline CSS and inline SVG charts.

``bulletin.render("html", lang)`` lands here (through the lazy wrapper in
:mod:`govflow._flow.builtin`, so matplotlib is imported only when an HTML bulletin is
asked for). The tables are the same as every other format's
(:func:`govflow._reports.bulletin.tables.bulletin_tables`); the charts come from
:mod:`govflow._reports.bulletin.charts` (matplotlib, text kept as text, a CJK-capable
font list). Nothing in the file points outside it: no scripts, no stylesheets,
no images, no fonts to fetch.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ..scoring import indicator_rates
from .charts import FONT_FAMILIES, RATES, bulletin_charts, rate_label, require_matplotlib
from .labels import label
from .plans import timeline_svg
from .tables import FACT_COLUMNS, Cell, bulletin_tables, cell_text, requested

if TYPE_CHECKING:
    from ..._flow.facade import Govflow
    from .build import Bulletin

__all__ = ["bulletin_html"]

_CJK_CSS: Final = ", ".join(f'"{name}"' for name in FONT_FAMILIES[:5]) + ", sans-serif"
_SERIF_CSS: Final = '"Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", serif'
_CHINESE_NUMBERS: Final = "一二三四五六七八九十"


def _e(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


_CSS: Final = """
:root { --red: #b71c1c; --red-bg: #fdecea; --black: #212121; --black-bg: #eeeeee; --rule: #c9c9c9; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #f4f4f1; }
body { font-family: __SANS__; color: #1a1a1a; font-size: 14px; line-height: 1.5;
       max-width: 1120px; margin: 0 auto; padding: 24px 32px 40px; background: #ffffff; }
header.masthead { text-align: center; border-bottom: 3px solid var(--red); padding-bottom: 10px; margin-bottom: 18px; }
header.masthead h1 { font-family: __SERIF__; color: var(--red); font-size: 26px; letter-spacing: 1px;
                     margin: 8px 0 6px; font-weight: 700; }
header.masthead .meta { color: #555; font-size: 13px; margin: 0; }
header.masthead .meta span + span::before { content: "　|　"; color: #aaa; }
h2 { font-size: 18px; border-left: 5px solid #1f5fa8; padding-left: 8px; margin: 28px 0 10px;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 15px; margin: 14px 0 6px; break-after: avoid; page-break-after: avoid; }
section { margin-bottom: 8px; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 6px; margin: 6px 0; }
dl.figures > div { border: 1px solid var(--rule); border-radius: 4px; padding: 6px 8px; break-inside: avoid; }
dl.figures dt { font-size: 12px; color: #555; }
dl.figures dd { margin: 0; font-size: 20px; font-weight: 600; text-align: right; font-variant-numeric: tabular-nums; }
dl.figures.rates dd { color: #1f5fa8; }
figure { margin: 10px 0 18px; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; font-size: 14px; margin-bottom: 4px; }
figcaption small { font-weight: 400; color: #666; margin-left: 8px; }
svg.chart { display: block; width: 100%; max-width: 860px; height: auto; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px; }
th, td { border: 1px solid var(--rule); padding: 3px 6px; vertical-align: top; }
thead th { background: #e8eef6; font-weight: 600; text-align: center; vertical-align: middle; }
thead { display: table-header-group; }
tbody tr:nth-child(even) { background: #fafafa; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.facts { font-size: 12px; }
table.facts th, table.facts td { padding: 3px 4px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, td.name { white-space: nowrap; }
td.note { color: #777; font-style: italic; }
tr.total td { font-weight: 700; background: #f0f0f0; border-top: 2px solid #888; }
td.fail { color: var(--red); font-weight: 700; }
td.up { color: #1b7a3a; }
td.down { color: var(--red); }
td.severe { color: var(--red); font-weight: 700; }
.badge { display: inline-block; font-size: 11px; line-height: 1.3; padding: 0 4px; margin-left: 4px;
         border-radius: 3px; border: 1px solid currentColor; white-space: nowrap; }
.badge.red { color: var(--red); background: var(--red-bg); }
.badge.black { color: #ffffff; background: var(--black); border-color: var(--black); }
section.red_list { border: 2px solid var(--red); background: var(--red-bg); padding: 2px 12px 8px; border-radius: 4px; }
section.red_list h2 { border-left-color: var(--red); color: var(--red); }
section.red_list thead th { background: #f7c9c4; }
section.black_list { border: 2px solid var(--black); background: var(--black-bg); padding: 2px 12px 8px;
                     border-radius: 4px; }
section.black_list h2 { border-left-color: var(--black); color: var(--black); }
section.black_list thead th { background: var(--black); color: #ffffff; }
section.red_list tbody tr, section.black_list tbody tr { background: #ffffff; }
p.none { color: #666; margin: 4px 0; }
p.hint { color: #666; font-size: 12px; margin: 2px 0; }
footer { margin-top: 28px; border-top: 1px solid var(--rule); padding-top: 8px; color: #555; font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { background: #ffffff; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  th, td { padding: 2px 3px; }
  header.masthead h1 { font-size: 20pt; }
  h2 { font-size: 13pt; margin-top: 16px; }
  dl.figures dd { font-size: 14pt; }
  svg.chart { max-width: 100%; }
  section.charts { break-inside: auto; }
  section.red_list, section.black_list { break-inside: avoid; page-break-inside: avoid; }
}
""".replace("__SANS__", _CJK_CSS).replace("__SERIF__", _SERIF_CSS)


def _number(value: Cell) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbering(index: int, lang: str) -> str:
    if lang == "en" or index > len(_CHINESE_NUMBERS):
        return f"{index}. "
    return f"{_CHINESE_NUMBERS[index - 1]}、"


def _td(value: Cell, classes: Sequence[str] = (), text: str | None = None, title: str | None = None) -> str:
    names = (["num"] if _number(value) else []) + list(classes)
    attrs = f' class="{" ".join(names)}"' if names else ""
    if title:
        attrs += f' title="{_e(title)}"'
    return f"<td{attrs}>{_e(cell_text(value) if text is None else text)}</td>"


def _signed(value: Cell, arrow: bool = False) -> tuple[str, list[str]]:
    """A change with its sign (``+7``, ``−3``) or, for places, an arrow (``↑2``, ``↓1``), and its CSS class."""
    if not isinstance(value, (int, float)) or value == 0:
        return cell_text(value), []
    up = value > 0
    mark = ("↑" if up else "↓") if arrow else ("+" if up else "−")
    return mark + cell_text(abs(value)), ["up" if up else "down"]


def _ranking_table(bulletin: Bulletin, lang: str, head: list[str], rows: list[list[Cell]]) -> str:
    """The ranking with its breakdown columns grouped under one heading and the list badges on unit names."""
    fixed = 5  # level, rank, unit, total, grade; then one column per indicator (see bulletin_tables)
    breakdown = head[fixed:]
    red = {u.unit for u in bulletin.red_list}
    black = {u.unit for u in bulletin.black_list}
    fail = bulletin.flow.scoring.fail_grade
    out = ['<div class="scroll"><table class="ranking">', "<thead><tr>"]
    span = ' rowspan="2"' if breakdown else ""
    out += [f'<th scope="col"{span}>{_e(h)}</th>' for h in head[:fixed]]
    if breakdown:
        out.append(f'<th scope="colgroup" colspan="{len(breakdown)}">{_e(label("breakdown", lang))}</th>')
        out.append("</tr><tr>")
        out += [f'<th scope="col">{_e(h)}</th>' for h in breakdown]
    out.append("</tr></thead><tbody>")
    for score, row in zip(bulletin.scores, rows, strict=True):
        badges = ""
        if score.unit in red:
            badges += f'<span class="badge red">{_e(label("red_list", lang))}</span>'
        if score.unit in black:
            badges += f'<span class="badge black">{_e(label("black_list", lang))}</span>'
        cells = [_td(row[0], ["name"]), _td(row[1]), f'<td class="name">{_e(cell_text(row[2]))}{badges}</td>']
        if score.total is None:
            cells.append(f'<td class="note" colspan="{len(head) - 3}">{_e(cell_text(row[3]))}</td>')
        else:
            cells.append(_td(row[3]))
            failed = bulletin.flow.scoring.grade(score.total) == fail
            cells.append(_td(row[4], ["name", "fail"] if failed else ["name"]))
            for indicator, value in zip(score.breakdown, row[fixed:], strict=True):
                if indicator.value is not None:
                    tip = (f"{label('value', lang)} {indicator.value:.1f}%, "
                           f"{label('weight', lang)} {cell_text(indicator.weight)}")
                elif indicator.count is not None:
                    tip = f"{label('count', lang)} {indicator.count}"
                else:
                    tip = label("chart_missing", lang)
                cells.append(_td(value, title=tip))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    out.append(f'<p class="hint">{_e(label("breakdown_hint", lang))}</p>')
    return "\n".join(out)


def _plain_table(key: str, lang: str, head: list[str], rows: list[list[Cell]]) -> str:
    """Any other table: numbers right-aligned, the facts total row bold, changes signed, long overdue marked."""
    numeric = [any(_number(row[c]) for row in rows) for c in range(len(head))]
    out = [f'<div class="scroll"><table class="{_e(key)}">', "<thead><tr>"]
    num = ' class="num"'
    out += [f'<th scope="col"{num if numeric[c] else ""}>{_e(h)}</th>' for c, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    signed = {head.index(label("change", lang)): False, head.index(label("rank_change", lang)): True} \
        if key == "changes" else {}
    days = head.index(label("days_overdue", lang)) if key == "overdue" else -1
    names = {c for c, h in enumerate(head) if h in (label("unit", lang), label("level", lang))}
    for number, row in enumerate(rows):
        cells: list[str] = []
        for c, value in enumerate(row):
            if c in signed:
                text, classes = _signed(value, arrow=signed[c])
                cells.append(_td(value, classes, text=text))
            elif c == days and isinstance(value, (int, float)) and value >= 30:
                cells.append(_td(value, ["severe"]))
            else:
                cells.append(_td(value, ["name"] if c in names else []))
        total_row = key == "facts" and number == len(rows) - 1
        out.append(('<tr class="total">' if total_row else "<tr>") + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _figures(items: Sequence[tuple[str, str]], classes: str = "figures") -> str:
    inner = "".join(f"<div><dt>{_e(name)}</dt><dd>{_e(value)}</dd></div>" for name, value in items)
    return f'<dl class="{classes}">{inner}</dl>'


def _summary(bulletin: Bulletin, lang: str) -> str:
    totals = bulletin.totals()
    shown = [(label("due_count" if n == "due" else n, lang), cell_text(_rounded(getattr(totals, n))))
             for n in FACT_COLUMNS if n != "mean_rating"]
    ranked = sum(1 for s in bulletin.scores if s.total is not None)
    units = [
        (label("units_ranked", lang), f"{ranked}"),
        (label("units_not_ranked", lang), f"{len(bulletin.scores) - ranked}"),
        (label("red_list", lang), f"{len(bulletin.red_list)}"),
        (label("black_list", lang), f"{len(bulletin.black_list)}"),
    ]
    overall = indicator_rates(totals)
    rate_items = [(rate_label(n, lang), _percent(overall[n])) for n in RATES]
    return "\n".join([
        _figures(units + shown),
        f"<h3>{_e(label('overall_rates', lang))}</h3>",
        _figures(rate_items, "figures rates"),
    ])


def _rounded(value: Any) -> Cell:
    return round(value, 2) if isinstance(value, float) else value


def _chart_section(bulletin: Bulletin, lang: str) -> str:
    notes = {"totals": label("grade_lines", lang), "rates": label("chart_missing", lang)}
    out: list[str] = []
    for key, svg in bulletin_charts(bulletin, lang):
        caption, note = label(f"chart_{key}", lang), notes.get(key, "")
        if svg is None:
            if key == "overdue":
                continue
            out.append(f'<figure class="{key}"><figcaption>{_e(caption)}</figcaption>'
                       f'<p class="none">{_e(label("none", lang))}</p></figure>')
            continue
        small = f"<small>{_e(note)}</small>" if note else ""
        out.append(f'<figure class="{key}"><figcaption>{_e(caption)}{small}</figcaption>\n{svg}</figure>')
    return "\n".join(out)


def _day(when: dt.date) -> str:
    return when.isoformat()


def bulletin_html(flow: Govflow, **options: Any) -> str:
    """The bulletin as one self-contained HTML page (use ``bulletin.render("html", lang)``).

    ``options`` carry ``bulletin`` and ``lang`` (``zh`` or ``en``). The page holds a
    title, the period and production time, a summary of every figure and the main
    rates, SVG charts (every scored unit's total by level, the main rates by level,
    the units with the most overdue issues), then every table of the bulletin (the
    ranking with its score breakdown, figures by unit, red list, black list, overdue
    issues, changes since the previous period). CSS and SVG are inline; the page
    prints on A4. Raises :class:`ValidationError` when matplotlib is missing
    (``pip install 'govflow[bulletin]'``) or the options are wrong.
    """
    bulletin, lang = requested(options)
    require_matplotlib()
    title = bulletin.title(lang)
    period = bulletin.period
    span = label("period_range", lang).format(start=_day(period.first_day), end=_day(period.last_day))
    span = f" ({span})" if lang == "en" else f"（{span}）"
    produced = bulletin.produced_on(lang)
    issuer = (f"<span>{_e(label('issuer', lang))}: {_e(bulletin.issuer)}</span>" if bulletin.issuer else "")
    if bulletin.as_of < period.end:  # a period not over yet: say up to when it was counted
        issuer += f"<span>{_e(label('as_of', lang))}: {_e(bulletin.as_of_text(lang))}</span>"
    sections: list[tuple[str, str, str]] = [
        ("summary", label("summary", lang), _summary(bulletin, lang)),
        ("charts", label("charts", lang), _chart_section(bulletin, lang)),
    ]
    if bulletin.plans:  # the plans' timetables, each an inline SVG
        sections.append(("timeline", label("timeline", lang),
                         "\n".join(f"<figure>{timeline_svg(tree, lang)}</figure>" for tree in bulletin.plans)))
    for key, heading, head, rows in bulletin_tables(bulletin, lang):
        if not rows:
            body = f'<p class="none">{_e(label("none", lang))}</p>'
        elif key == "ranking":
            body = _ranking_table(bulletin, lang, head, rows)
        else:
            body = _plain_table(key, lang, head, rows)
        sections.append((key, heading, body))
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if lang == "en" else "zh-CN"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="govflow">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="masthead">',
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta"><span>{_e(label("period", lang))}: {_e(bulletin.period_name(lang))}{_e(span)}</span>'
        f"{issuer}<span>{_e(label('produced_at', lang))}: {_e(produced)}</span></p>",
        "</header>",
    ]
    if bulletin.checkpoint is not None:
        sections.append(("checkpoint", label("checkpoint", lang),
                         f'<p class="checkpoint"><code>{_e(str(bulletin.checkpoint))}</code></p>'))
    for number, (key, heading, body) in enumerate(sections, start=1):
        out.append(f'<section id="{_e(key)}" class="{_e(key)}">')
        out.append(f"<h2>{_e(_numbering(number, lang))}{_e(heading)}</h2>")
        out.append(body)
        out.append("</section>")
    counted_to = _day(period.last_day) if bulletin.as_of >= period.end else bulletin.as_of_text(lang)
    note = label("source_note", lang).format(end=counted_to)
    out += [f"<footer><p>{_e(note)}</p></footer>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
