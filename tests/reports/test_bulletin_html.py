"""The HTML bulletin: one self-contained page, and what headless Chromium makes of it.

The browser check needs Debian's ``chromium`` (``apt-get install chromium fonts-noto-cjk``);
without it the test skips, except under ``CI`` or ``GOVFLOW_REQUIRE_BROWSER`` where it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

import govflow
from govflow.testing import FakeClock

from ..conftest import add_units
from ..month_scenario import at, run_april, run_march

matplotlib = pytest.importorskip("matplotlib")

UNIT_NAMES = ("祥云县", "宾川县", "下庄镇")
BROWSER_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars",
)


@pytest.fixture
def month_flow(clock: FakeClock) -> govflow.Govflow:
    """The month scenario's March and April on an in-memory store."""
    flow = govflow.open(":memory:", clock=clock)
    add_units(flow)
    run_april(flow, clock, run_march(flow, clock))
    return flow


def html_of(flow: govflow.Govflow, period: str = "2026-03", lang: str = "zh") -> str:
    """The HTML bulletin of ``period`` as str."""
    page = flow.bulletin(period).render("html", lang)
    assert isinstance(page, str)
    return page


# -- structure ----------------------------------------------------------------------------------------------------


def test_the_page_is_self_contained(month_flow: govflow.Govflow) -> None:
    page = html_of(month_flow)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert '<meta charset="utf-8">' in page
    for outside in ("http://", "https://", "src=", "<link", "<script", "<img", "<iframe", "@import", "<?xml",
                    "<!DOCTYPE svg"):
        assert outside not in page, outside
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", page))  # only clip paths inside the page
    assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', page))  # svg <use> of its own markers
    assert page.count("<svg") >= 2
    assert page.count("<style") >= 1


class TagBalance(HTMLParser):
    """Checks every element that is opened is closed, in order (void elements and ``<x/>`` aside)."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]} at {self.getpos()}")
        else:
            self.open.pop()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_markup_is_balanced(month_flow: govflow.Govflow, lang: str) -> None:
    checker = TagBalance()
    checker.feed(html_of(month_flow, lang=lang))
    checker.close()
    assert checker.errors == []
    assert checker.open == []


def test_title_summary_tables_and_charts_in_chinese(month_flow: govflow.Govflow) -> None:
    bulletin = month_flow.bulletin("2026-03")
    page = html_of(month_flow)
    assert f"<title>{bulletin.title('zh')}</title>" in page
    assert "<h1>2026年3月问题清单办理情况通报</h1>" in page
    for name in UNIT_NAMES:
        assert name in page
    for heading in ("总体情况", "图表", "考评得分与排名", "得分明细", "各单位办理情况", "红榜", "黑榜", "期末逾期问题",
                    "与上期（2026年2月）相比", "按时办结率", "销号率", "合计"):
        assert heading in page, heading
    for section in ("summary", "charts", "ranking", "facts", "red_list", "black_list", "overdue", "changes"):
        assert f'<section id="{section}"' in page, section
    # the charts keep their text as text, Chinese included, with a CJK-capable font list
    svgs = re.findall(r"<svg.*?</svg>", page, re.DOTALL)
    assert len(svgs) >= 2
    assert "宾川县" in svgs[0] and "<text" in svgs[0]
    assert "Noto Sans CJK SC" in svgs[0]
    assert "按时办结率" in svgs[1]


def test_score_breakdown_is_shown_per_unit(month_flow: govflow.Govflow) -> None:
    bulletin = month_flow.bulletin("2026-03")
    page = html_of(month_flow)
    ranking = page[page.index('<section id="ranking"'):page.index('<section id="facts"')]
    for indicator in bulletin.scores[0].breakdown:
        assert indicator.label("zh") in ranking
    binchuan = next(s for s in bulletin.scores if s.unit == "BINCHUAN")
    row = next(r for r in ranking.split("<tr>") if "宾川县" in r)
    assert '<td class="num">32</td>' in row or f'<td class="num">{binchuan.total:g}</td>' in row
    assert row.count('title="') == len(binchuan.breakdown)  # every indicator's points, with rate and weight
    assert "badge black" in row  # 宾川县 had a 约谈 in March
    assert '<td class="name fail">不合格</td>' in row


def test_numbers_are_right_aligned_and_lists_distinct(month_flow: govflow.Govflow) -> None:
    page = html_of(month_flow)
    assert "td.num, th.num { text-align: right;" in page
    assert '<td class="num">11</td>' in page  # 交办数 in the totals row
    assert '<section id="red_list" class="red_list">' in page
    assert '<section id="black_list" class="black_list">' in page
    assert "section.red_list {" in page and "section.black_list {" in page
    assert "@media print" in page and "break-inside: avoid" in page


def test_english_labels_under_lang_en(month_flow: govflow.Govflow) -> None:
    page = html_of(month_flow, lang="en")
    assert '<html lang="en">' in page
    assert "<title>Problem list bulletin, March 2026</title>" in page
    for heading in ("Summary", "Charts", "Scores and ranking", "Score breakdown", "Figures by unit", "Red list",
                    "Black list", "Issues overdue at the end of the period", "Changes since February 2026",
                    "Total score by unit", "Main rates"):
        assert heading in page, heading
    assert "总体情况" not in page and "考评得分与排名" not in page
    assert '<td class="name fail">' in page  # 宾川县's grade, marked whatever the language
    for name in UNIT_NAMES:  # names are data: they stay as registered
        assert name in page


def test_text_is_escaped_everywhere(clock: FakeClock) -> None:
    flow = govflow.open(":memory:", clock=clock)
    add_units(flow)
    flow.add_unit("EVIL", "<script>x</script>县$x^2$", level="county", parent="OFFICE")
    at(clock, 3, 2)
    closed = flow.assign("<b>已办</b>", lead="EVIL", due="2026-03-05", by="OFFICE")
    flow.accept(closed.id, by="EVIL")
    flow.implement(closed.id, by="EVIL", note="<i>ok</i>")
    flow.report(closed.id, by="EVIL", result="done")
    flow.verify(closed.id, by="OFFICE", rating=4)
    flow.assign('<script>alert("issue")</script> & co', lead="EVIL", due="2026-03-10", by="OFFICE")
    at(clock, 4, 1)
    page = html_of(flow)
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;县$x^2$" in page  # in the tables
    assert "&lt;script&gt;alert(&quot;issue&quot;)&lt;/script&gt; &amp; co" in page  # the overdue issue's title
    svgs = re.findall(r"<svg.*?</svg>", page, re.DOTALL)
    assert any("&lt;script&gt;x&lt;/script&gt;县$x^2$" in svg for svg in svgs)  # a chart label: no markup, no mathtext


def test_empty_bulletins_render(clock: FakeClock) -> None:
    bare = govflow.open(":memory:", clock=clock)
    page = html_of(bare)
    assert "2026年3月问题清单办理情况通报" in page
    assert '<p class="none">无</p>' in page
    assert "<svg" not in page  # nothing to chart
    quiet = govflow.open(":memory:", clock=clock)
    add_units(quiet)
    for lang, none in (("zh", "无"), ("en", "none")):
        page = html_of(quiet, lang=lang)
        assert f'<p class="none">{none}</p>' in page
        assert "<script" not in page


def test_unscored_units_are_listed_apart(month_flow: govflow.Govflow) -> None:
    page = html_of(month_flow, "2026-04")
    assert '<td class="note" colspan=' in page
    assert "本期无到期任务，不参与排名" in page


def test_rendering_is_deterministic_and_leaves_matplotlib_alone(month_flow: govflow.Govflow) -> None:
    before = dict(matplotlib.rcParams)
    pyplot_loaded = "matplotlib.pyplot" in sys.modules
    bulletin = month_flow.bulletin("2026-03")
    first = bulletin.render("html")
    assert bulletin.render("html") == first  # clip-path ids are salted per chart, not random
    assert dict(matplotlib.rcParams) == before
    assert ("matplotlib.pyplot" in sys.modules) == pyplot_loaded


def test_missing_matplotlib_names_the_extra(month_flow: govflow.Govflow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(govflow.ValidationError, match=re.escape("pip install 'govflow[bulletin]'")):
        month_flow.bulletin("2026-03").render("html")


def test_three_hundred_units_render_quickly(clock: FakeClock) -> None:
    flow = govflow.open(":memory:", clock=clock)
    flow.add_unit("OFFICE", "州领导小组办公室", level="prefecture", supervisor=True)
    rng = random.Random(5)
    issues: list[tuple[str, str]] = []
    for n in range(300):
        level = "county" if n < 12 else "township"
        unit = f"U{n:03d}"
        flow.add_unit(unit, f"第{n}号{'县' if level == 'county' else '镇'}", level=level, parent="OFFICE")
        for k in range(2):
            due = f"2026-03-{rng.randint(5, 25):02d}"
            issues.append((unit, flow.assign(f"问题 {unit}-{k}", lead=unit, due=due, by="OFFICE").id))
    at(clock, 3, 4)
    for unit, issue in issues:
        luck = rng.random()
        if luck < 0.8:
            flow.accept(issue, by=unit)
        if luck < 0.6:
            flow.implement(issue, by=unit, note="已整改")
            flow.report(issue, by=unit, result="已完成")
            flow.verify(issue, by="OFFICE", rating=rng.randint(1, 5))
    at(clock, 3, 31, 18)
    flow.sweep()
    bulletin = flow.bulletin("2026-03")
    assert sum(1 for s in bulletin.scores if s.total is not None) == 300
    bulletin.render("html")  # matplotlib's import and font cache are not the renderer's cost
    started = time.perf_counter()
    page = bulletin.render("html")
    elapsed = time.perf_counter() - started
    assert isinstance(page, str)
    assert "第299号镇" in page and page.count("<svg") >= 3
    assert elapsed < 5.0, f"300 units took {elapsed:.2f} s"


# -- the browser check --------------------------------------------------------------------------------------------


def chromium() -> str:
    """Debian's chromium, or skip (fail under CI / GOVFLOW_REQUIRE_BROWSER) when it is not installed."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if found is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)"
        if os.environ.get("CI") or os.environ.get("GOVFLOW_REQUIRE_BROWSER"):
            pytest.fail(f"{reason}; CI / GOVFLOW_REQUIRE_BROWSER require the browser check")
        pytest.skip(reason)
    return found


def run_browser(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless chromium with a throw-away profile; fail the test on a timeout or an error exit."""
    command = [browser, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within 120 s: {' '.join(command)}")
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def test_headless_chromium_renders_the_bulletin(month_flow: govflow.Govflow, tmp_path: Path) -> None:
    browser = chromium()
    np = pytest.importorskip("numpy")
    from matplotlib.image import imread

    bulletin = month_flow.bulletin("2026-03")
    page = tmp_path / "bulletin.html"
    page.write_text(html_of(month_flow), encoding="utf-8")
    url = page.as_uri()

    dom = run_browser(browser, tmp_path / "profile-dom", "--dump-dom", url).stdout
    assert f"<title>{bulletin.title('zh')}</title>" in dom
    assert "2026年3月问题清单办理情况通报" in dom
    for name in UNIT_NAMES:
        assert name in dom
    assert dom.count("<svg") >= 2

    shot = tmp_path / "bulletin.png"
    run_browser(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,1600", url)
    assert shot.exists() and shot.stat().st_size > 10_000
    pixels = imread(str(shot))[:, :, :3]
    assert pixels.shape[:2] == (1600, 1200)
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"only {len(colours)} colours: blank page?"
    not_white = float((pixels < 0.97).any(axis=2).mean())
    assert 0.05 < not_white < 0.95, f"{not_white:.1%} of the screenshot is not white"
    red = float(((pixels[:, :, 0] > 0.55) & (pixels[:, :, 1] < 0.3) & (pixels[:, :, 2] < 0.3)).mean())
    assert red > 0.0005, "the red title and rule are missing"  # the masthead drew


def test_chromium_skip_or_fail_is_decided_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GOVFLOW_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("GOVFLOW_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="require the browser check"):
        chromium()


def test_dates_in_the_masthead(month_flow: govflow.Govflow) -> None:
    page = html_of(month_flow)
    assert "2026-03-01至2026-03-31" in page
    assert month_flow.bulletin("2026-03").produced_at.date() >= dt.date(2026, 3, 31)
    assert "统计截至2026-03-31" in page
