"""The examples run and show what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import govflow
from govflow.testing import FakeClock

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_full_cycle(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "full_cycle.py"), str(path)],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=120,
    )
    out = run.stdout
    assert "PermissionDenied" in out and "InvalidTransition" in out
    assert "台账校验 Ledger verified: 22 条 entries, 4 个事项 issues" in out  # 4 units' registrations, 18 steps
    with govflow.open(path) as flow:
        states = {issue.id: issue.state for issue in flow.issues()}
        assert states == {
            "DL2020-0001": "verified", "DL2020-0002": "verified",
            "DL2020-0003": "cancelled", "DL2020-0004": "feedback",
        }
        assert flow.get("DL2020-0002").rework_count == 1
        assert flow.verify_ledger().entries == 4 + 18
        # Spread over realistic days, in order: June and July 2020, never two steps of an issue in one go.
        times = [entry.at for entry in flow.ledger()]
        assert times == sorted(times)
        assert len({t.date() for t in times}) >= 12 and (times[-1] - times[0]).days >= 45


def test_monthly_bulletin_says_which_extra_it_needs_before_it_starts(tmp_path: Path) -> None:
    script = EXAMPLES / "monthly_bulletin.py"
    code = (
        "import runpy, sys; sys.modules['matplotlib'] = None; "  # as if the bulletin extra were missing
        f"sys.path.insert(0, {str(EXAMPLES)!r}); sys.argv = ['monthly_bulletin.py', {str(tmp_path / 'out')!r}]; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 1
    assert "needs matplotlib (the bulletin extra): pip install 'govflow[bulletin]'" in run.stderr
    assert run.stdout == "" and not (tmp_path / "out").exists()


def test_the_readme_quick_start_runs(tmp_path: Path) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path,
        capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") == 5 and "verify feedback → verified" in run.stdout
    assert (tmp_path / "supervision.sqlite3").exists()


def test_custom_plugin() -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_plugin.py")],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=120,
    )
    out = run.stdout
    assert "TransitionVetoed: vetoed by plugin 'evidence-required'" in out
    assert "state 状态: feedback (nothing was written)" in out
    assert out.count("[通知 notify]") == 7 and "state 状态: verified; delivered 已送达: 7" in out


def test_deadlines(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.sqlite3"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "deadlines.py"), str(path)],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=120,
    )
    out = run.stdout
    assert ("  2026-02-28 周六  DL2026-0004  宾川县  约谈 / interview  (level 4, 期限 due 2026-02-14)  "
            "督办 supervised: DL2026-0002, DL2026-0003, DL2026-0004") in out
    assert "  2026-03-09 周一  补扫 catch-up: 4 missed steps, once each, in order" in out
    # 4 units' registrations, 36 ladder and command steps, and 5 超时未签收 (accept_overdue): the issues are
    # never accepted.
    assert "台账校验 Ledger verified: 45 条 entries, 5 个事项 issues" in out
    assert out.count("签收时限 acceptance limit") == 5
    with govflow.open(path) as flow:
        states = {issue.id: issue.state for issue in flow.issues()}
        assert states["DL2026-0004"] == states["DL2026-0005"] == "verified"
        first = flow.get("DL2026-0001")
        assert (first.due.isoformat(), first.original_due.isoformat()) == ("2026-03-06", "2026-02-14")
        assert flow.verify_ledger().entries == 4 + 41


def test_monthly_bulletin(tmp_path: Path) -> None:
    import io
    import json

    import attrs
    import openpyxl

    out = tmp_path / "bulletin"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "monthly_bulletin.py"), str(out)],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=120,
    )
    assert "2026 年度综合考评 Comprehensive evaluation" in run.stdout
    assert "台账校验 Ledger verified:" in run.stdout
    stem = "bulletin-2026-06"
    tables = ("ranking", "facts", "red_list", "black_list", "overdue", "changes")
    expected = {f"{stem}.zh.{suffix}" for suffix in ("md", "html", "xlsx", "json")}
    expected |= {f"{stem}.zh.{name}.csv" for name in tables} | {f"{stem}.en.md", f"{stem}.en.html"}
    written = {p.name for p in out.iterdir()}
    assert expected <= written, expected - written
    for name in expected:
        assert (out / name).stat().st_size > 0 and name in run.stdout

    assert "2026年6月问题清单办理情况通报" in (out / f"{stem}.zh.html").read_text(encoding="utf-8")
    assert "June 2026" in (out / f"{stem}.en.html").read_text(encoding="utf-8")
    assert (out / f"{stem}.zh.md").read_text(encoding="utf-8").startswith("# 2026年6月问题清单办理情况通报")
    for name in tables:
        assert (out / f"{stem}.zh.{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    book = openpyxl.load_workbook(io.BytesIO((out / f"{stem}.zh.xlsx").read_bytes()))
    assert book.sheetnames

    # Every figure in the JSON is what the ledger in the example's SQLite file says.
    document = json.loads((out / f"{stem}.zh.json").read_text(encoding="utf-8"))
    assert document["period"] == "2026-06"
    counts = [f.name for f in attrs.fields(govflow.UnitFacts) if f.name not in ("unit", "escalations")]
    with govflow.open(out / "monthly_bulletin.sqlite3") as flow:
        facts = flow.facts("2026-06")
        assert set(document["facts"]) == set(facts)
        for unit, figures in facts.items():
            shown = document["facts"][unit]
            assert {name: shown[name] for name in counts} == {name: getattr(figures, name) for name in counts}
            assert shown["escalations"] == dict(figures.escalations)
            assert shown["mean_rating"] == figures.mean_rating
        assert sum(f.assigned for f in facts.values()) >= 100  # a month with enough issues to rank
        assert any(f.interviews for f in facts.values())  # and a unit that was interviewed (约谈)
        scores = {s.unit: (s.total, s.rank) for s in flow.scores("2026-06")}
        assert {s["unit"]: (s["total"], s["rank"]) for s in document["scores"]} == scores
        bulletin = flow.bulletin("2026-06")
        overdue = {i.issue_id for i in bulletin.overdue_issues()}
        assert {i["issue_id"] for i in document["overdue"]} == overdue
        assert all(flow.get(i).state in ("assigned", "implemented") for i in overdue)
        assert all(i["days_overdue"] >= 1 for i in document["overdue"])  # working days, at least 1
        ranked = [s["unit"] for s in document["scores"]]
        assert [i["unit"] for i in document["overdue"]] == sorted(
            (i["unit"] for i in document["overdue"]), key=ranked.index)  # units in the ranking's order
        # The red list: the top five of each level, never more than half of it, never a unit with a 约谈.
        interviewed = {u for u, f in facts.items() if f.interviews}
        assert interviewed and not interviewed & {u["unit"] for u in document["red_list"]}
        assert interviewed <= {u["unit"] for u in document["black_list"]}
        for level in ("county", "township"):
            scored = [s for s in bulletin.scores if s.level == level and s.total is not None]
            red = [u["unit"] for u in document["red_list"] if u["level"] == level]
            assert len(red) == min(5, len(scored) // 2), level  # 4 counties -> 2; 8 townships -> 4
            assert [s.unit for s in scored if s.unit not in interviewed][: len(red)] == red
        assert flow.verify_ledger().issues > 500
    # The example prints the year's evaluation on 1 July: the six months are over and all count; on
    # 30 June, June would be left out.
    for when, months in (("2026-07-01T09:00:00+08:00", 6), ("2026-06-30T18:00:00+08:00", 5)):
        with govflow.open(out / "monthly_bulletin.sqlite3", clock=FakeClock(when)) as flow:
            assert {e.months for e in flow.evaluation("2026")} == {months}


def test_roadmap(tmp_path: Path) -> None:
    import datetime as dt
    import re

    out = tmp_path / "roadmap"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "roadmap.py"), str(out)],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=300,
    )
    text = run.stdout
    assert "PL-2020-0001 市域社会治理现代化试点工作方案: 60 个目标 targets, 3 个阶段 phases" in text
    shown = re.findall(r"== (\S+) 方案进度 Plan progress: ([\d.]+)%", text)
    assert [day for day, _ in shown] == ["2020-12-31", "2021-06-30", "2021-12-31"]
    assert "滞后" in text and "台账校验 Ledger verified:" in text
    first = text[text.index("== 2020-12-31"):].splitlines()[0]
    assert first in (EXAMPLES.parent / "docs" / "plans.md").read_text(encoding="utf-8")  # the page shows this run
    page = (out / "bulletin-2021-12.zh.html").read_text(encoding="utf-8")
    assert '<section id="timeline"' in page and "工作方案进度" in page and "滞后目标" in page
    assert (out / "bulletin-2021-12.zh.md").read_text(encoding="utf-8").count("市域社会治理现代化试点工作方案") > 3
    with govflow.open(out / "roadmap.sqlite3") as flow:
        (plan,) = flow.plans()
        for day, progress in shown:  # what was printed is what the ledger replays to
            when = dt.datetime.fromisoformat(f"{day}T23:59:59+08:00")
            assert f"{flow.plan_progress(plan.id, as_of=when).progress:.1f}" == progress
        # the slow county lags more than the fast one at the end of the first phase
        end_2020 = flow.plan_progress(plan.id, as_of=dt.datetime.fromisoformat("2021-01-01T09:00:00+08:00"))
        slow, fast = end_2020.unit("BINCHUAN"), end_2020.unit("DALI")
        assert slow.lagging > fast.lagging and slow.progress < fast.progress
        flow.verify_ledger()


def test_field_loop(tmp_path: Path) -> None:
    path = tmp_path / "field.sqlite3"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "field_loop.py"), str(path)],
        capture_output=True, text=True, encoding="utf-8", check=True, timeout=120,
    )
    out = run.stdout
    assert "waiting for the countersign (会签) of STREET, WATER" in out
    assert "原期限 2026-02-14，顺延后期限 2026-02-26，挂起 3 个工作日" in out
    assert "回访不满意，发回重办：assigned" in out
    assert "台账及佐证材料校验 Ledger and files verified: 29 条 entries, 2 个事项 issues" in out  # 6 units + 23 steps
    assert "2 / 1 / 1" in out
    with govflow.open(path) as flow:
        order = flow.get("12345-2026-0001")
        assert (order.state, order.lead, order.rework_count) == ("verified", "URBAN", 1)
        assert order.field is not None
        assert (order.field.transfers, order.field.signed, order.field.callback) == (
            1, ("STREET", "WATER"), "satisfied")
        assert order.field.merged == ("12345-2026-0002",) and len(order.field.evidence) == 2
        assert flow.get("12345-2026-0002").state == "merged"
        steps = [e.trigger for e in flow.ledger(order.id)]
        assert steps.count("callback") == 2 and "resume" in steps
        assert flow.verify_ledger(blobs=True).entries == 6 + 23
