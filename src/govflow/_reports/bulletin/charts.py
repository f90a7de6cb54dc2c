"""The HTML bulletin's charts: matplotlib figures saved as SVG to inline in the page.

:mod:`govflow._reports.bulletin.html` asks :func:`bulletin_charts` for them. The charts
are drawn with matplotlib's object API (:class:`matplotlib.figure.Figure`,
Agg/SVG, never pyplot), with text kept as text (``svg.fonttype: none``) and a
CJK-capable font list, so Chinese stays legible and searchable. matplotlib is
imported inside the functions, so importing this module costs nothing; the SVG
is byte-for-byte the same on every run (fixed ``svg.hashsalt``, no date).
"""

from __future__ import annotations

import html
import io
import re
import textwrap
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from ..._core.errors import ValidationError
from ..._stores.facts import UnitFacts, sum_facts
from ..scoring import INDICATOR_LABELS, indicator_rates
from .labels import grade_name, label
from .tables import cell_text, level_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .build import Bulletin

__all__ = ["CHARTS", "FONT_FAMILIES", "RATES", "bulletin_charts", "rate_label", "require_matplotlib"]

#: The font families charts and page ask for, first found wins: CJK-capable ones first.
FONT_FAMILIES: Final = (
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
    "Noto Sans CJK JP", "DejaVu Sans",
)
#: The rates a bulletin charts and sums up, in order (the default scoring's rate indicators).
RATES: Final = ("accepted_on_time", "fed_back_on_time", "closed", "first_pass", "satisfaction")
#: The charts of a bulletin, in the order the page shows them.
CHARTS: Final = ("totals", "rates", "overdue")
#: The levels in the order charts show them.
_LEVELS: Final = ("prefecture", "county", "township", "department")
_LEVEL_COLOURS: Final = {
    "prefecture": "#6a3d9a", "county": "#1f5fa8", "township": "#2e8b57", "department": "#c8641e",
}
_OVERALL_COLOUR: Final = "#555555"
_OVERDUE_COLOUR: Final = "#a31f1f"
#: At most this many units in the overdue chart.
_OVERDUE_CHART_UNITS: Final = 15
#: Charts' width and base font size; unit names longer than _NAME_EMS ems are cut in charts.
_CHART_WIDTH: Final = 7.2
_FONT_SIZE: Final = 9.0
_NAME_EMS: Final = 16.0
_SVG_XMLNS: Final = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SVG_METADATA: Final = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


def require_matplotlib() -> None:
    """Raise :class:`ValidationError` unless matplotlib can be imported (``pip install 'govflow[bulletin]'``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ValidationError(
            "fmt", "the html bulletin needs matplotlib, which is not installed",
            "pip install 'govflow[bulletin]'",
        ) from exc


def rate_label(name: str, lang: str) -> str:
    """The label of the rate indicator ``name`` in ``lang``."""
    zh, en = INDICATOR_LABELS[name]
    return en if lang == "en" else zh


def bulletin_charts(bulletin: Bulletin, lang: str) -> list[tuple[str, str | None]]:
    """``(key, svg)`` for each of :data:`CHARTS`; ``svg`` is None when there is nothing to draw.

    ``totals``: every scored unit's total by level, grade thresholds dashed; ``rates``:
    the main rates by level and for all units; ``overdue``: the units with the most
    issues overdue at the period's end. Each ``svg`` is an ``<svg>`` element to inline.
    """
    with _chart_style():
        return [
            ("totals", _totals_chart(bulletin, lang)),
            ("rates", _rates_chart(bulletin, lang)),
            ("overdue", _overdue_chart(bulletin, lang)),
        ]


@contextmanager
def _chart_style() -> Iterator[None]:
    """matplotlib settings for every chart, restored afterwards; glyph warnings on font-poor machines muted."""
    import matplotlib

    style: dict[Any, Any] = {
        "svg.fonttype": "none",
        "font.family": ["sans-serif"],
        "font.sans-serif": list(FONT_FAMILIES),
        "font.size": _FONT_SIZE,
        "axes.titlesize": 10.0,
        "axes.edgecolor": "#888888",
        "axes.labelcolor": "#333333",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "axes.unicode_minus": False,
        "text.parse_math": False,  # a unit named "A$x$" is text, not mathtext
    }
    with warnings.catch_warnings(), matplotlib.rc_context(style):
        # Without a CJK font installed, the layout falls back to DejaVu Sans; the browser still gets the CJK list.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        yield


def _svg(figure: Figure, name: str, title: str) -> str:
    """``figure`` as an ``<svg>`` element to inline: no XML prolog, doctype, metadata or namespace URLs."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"govflow-{name}"}):  # stable, per-chart unique clip-path ids
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = _SVG_METADATA.sub("", text, count=1)
    head_end = text.index(">")
    root = _SVG_XMLNS.sub("", text[:head_end])  # the HTML parser knows svg and xlink without them
    root += f' class="chart" role="img" aria-label="{html.escape(title, quote=True)}"'
    return root + text[head_end:].rstrip() + "\n"


def _tidy(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _ems(text: str) -> float:
    """``text``'s width in ems, roughly: wide (CJK) characters 1, others 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6 for char in text)


def _short(name: str, limit: float = _NAME_EMS) -> str:
    """``name`` cut to about ``limit`` ems with an ellipsis (the tables carry the full name)."""
    if _ems(name) <= limit:
        return name
    while name and _ems(name) > limit - 1:
        name = name[:-1]
    return name + "…"


def _bar_figure(
    names: Sequence[str], top: float, bottom: float, row: float, least: float,
) -> tuple[Figure, Axes]:
    """A figure for one horizontal bar per name, laid out by hand (inches) so hundreds of bars stay fast.

    constrained layout would measure every label twice; the browser draws the text with its own font
    anyway (``svg.fonttype: none``), so an estimate of the longest name is as good as a measurement.
    """
    from matplotlib.figure import Figure

    width = _CHART_WIDTH
    left = 0.25 + max((_ems(n) for n in names), default=2.0) * _FONT_SIZE / 72.0
    height = top + bottom + max(least, row * len(names))
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=left / width, right=1 - 0.35 / width, top=1 - top / height, bottom=bottom / height)
    return figure, figure.add_subplot()


def _hbars(axes: Axes, values: Sequence[float], colours: Sequence[str], names: Sequence[str], height: float) -> None:
    """One horizontal bar per value, first on top, named on the left, the value at its end.

    One collection of rectangles and plain texts rather than ``barh`` and tick labels: for 300
    units that is ten times faster, and the SVG is the same to a reader.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.transforms import ScaledTranslation

    half = height / 2
    boxes = [[(0.0, i - half), (v, i - half), (v, i + half), (0.0, i + half)] for i, v in enumerate(values)]
    axes.add_collection(PolyCollection(boxes, facecolors=list(colours), edgecolors="none"))
    axes.set_yticks([])
    axes.set_ylim(len(values) - 0.5, -0.5)
    names_at = axes.get_yaxis_transform() + ScaledTranslation(-4 / 72, 0, axes.figure.dpi_scale_trans)
    values_at = axes.transData + ScaledTranslation(3 / 72, 0, axes.figure.dpi_scale_trans)
    for index, (name, value) in enumerate(zip(names, values, strict=True)):
        axes.text(0, index, name, transform=names_at, ha="right", va="center", color="#333333")
        axes.text(value, index, cell_text(value), transform=values_at, va="center", fontsize=7.5, color="#222222")


def _totals_chart(bulletin: Bulletin, lang: str) -> str | None:
    """Every scored unit's total as a horizontal bar, grouped and coloured by level, grade thresholds dashed."""
    from matplotlib.patches import Patch

    scored = [s for s in bulletin.scores if s.total is not None]
    if not scored:
        return None
    count = len(scored)
    names = [_short(bulletin.unit_name(s.unit)) for s in scored]
    figure, axes = _bar_figure(names, top=0.3, bottom=0.8, row=0.2, least=1.1)
    totals = [float(s.total or 0.0) for s in scored]
    _hbars(axes, totals, [_LEVEL_COLOURS.get(s.level, _OVERALL_COLOUR) for s in scored], names, 0.72)
    axes.set_xlim(0, 108)
    axes.set_xticks(range(0, 101, 10))
    axes.set_xlabel(label("total", lang))
    for low, grade in bulletin.flow.scoring.grades:
        if 0 < low <= 100:
            axes.axvline(low, color="#999999", linestyle="--", linewidth=0.8, zorder=0)
            axes.text(low, 1.0, grade_name(grade, lang), transform=axes.get_xaxis_transform(), ha="center", va="bottom",
                      fontsize=7.5, color="#555555")
    for index in range(1, count):
        if scored[index].level != scored[index - 1].level:
            axes.axhline(index - 0.5, color="#bbbbbb", linewidth=0.8)
    present = list(dict.fromkeys(s.level for s in scored))
    handles = [Patch(color=_LEVEL_COLOURS.get(level, _OVERALL_COLOUR), label=level_name(level, lang))
               for level in present]
    figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=len(handles), frameon=False)
    _tidy(axes)
    return _svg(figure, "totals", label("chart_totals", lang))


def _rates_chart(bulletin: Bulletin, lang: str) -> str | None:
    """The main rates for each level and for all units, as grouped bars."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    by_level: dict[str, list[UnitFacts]] = {}
    for unit_id, facts in bulletin.facts.items():
        unit = bulletin.units.get(unit_id)
        by_level.setdefault(unit.level if unit is not None else "department", []).append(facts)
    groups: list[tuple[str, str, dict[str, float | None]]] = []
    levels = [lv for lv in _LEVELS if lv in by_level] + [lv for lv in by_level if lv not in _LEVELS]
    if len(levels) > 1:
        groups += [(level_name(lv, lang), _LEVEL_COLOURS.get(lv, _OVERALL_COLOUR),
                    indicator_rates(sum_facts(by_level[lv])))
                   for lv in levels]
    groups.append((label("all_units", lang), _OVERALL_COLOUR, indicator_rates(bulletin.totals())))
    if all(value is None for _, _, values in groups for value in values.values()):
        return None
    figure = Figure(figsize=(_CHART_WIDTH, 3.4), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / len(groups)
    for index, (_, colour, values) in enumerate(groups):
        xs = [x - 0.4 + width * (index + 0.5) for x in range(len(RATES))]
        heights = [values[name] for name in RATES]
        bars = axes.bar(xs, [h if h is not None else 0.0 for h in heights], width=width * 0.92, color=colour)
        texts = [f"{h:.0f}" if h is not None else "" for h in heights]
        axes.bar_label(bars, labels=texts, padding=1.5, fontsize=7 if len(groups) > 3 else 7.5, color="#222222")
    wrap = 24 if lang == "en" else 8  # at most two lines: a third would be cut at the figure's edge
    axes.set_xticks(range(len(RATES)), [textwrap.fill(rate_label(n, lang), wrap) for n in RATES])
    axes.tick_params(axis="x", length=0)
    axes.set_ylim(0, 112)
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel(label("rate_percent", lang))
    axes.grid(axis="y", color="#e3e3e3", linewidth=0.6)
    axes.set_axisbelow(True)
    handles = [Patch(color=colour, label=name) for name, colour, _ in groups]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), frameon=False)
    _tidy(axes)
    return _svg(figure, "rates", label("chart_rates", lang))


def _overdue_chart(bulletin: Bulletin, lang: str) -> str | None:
    """The units with the most issues overdue at the period's end (at most 15)."""
    from matplotlib.ticker import MaxNLocator

    counts = sorted(((len(rows), unit) for unit, rows in bulletin.overdue.items() if rows),
                    key=lambda pair: (-pair[0], pair[1]))[:_OVERDUE_CHART_UNITS]
    if not counts:
        return None
    names = [_short(bulletin.unit_name(unit)) for _, unit in counts]
    figure, axes = _bar_figure(names, top=0.15, bottom=0.5, row=0.26, least=0.45)
    numbers = [n for n, _ in counts]
    _hbars(axes, [float(n) for n in numbers], [_OVERDUE_COLOUR] * len(numbers), names, 0.65)
    axes.set_xlim(0, max(numbers) * 1.1 + 0.2)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(label("overdue_at_end", lang))
    _tidy(axes)
    return _svg(figure, "overdue", label("chart_overdue", lang))
