"""Every command of ``govflow`` in a real subprocess, on SQLite and PostgreSQL.

Outcomes in the store, exit codes, and nothing written on refusal.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from govflow.testing import FakeClock

from ..conftest import UNIT_ENTRIES, add_units
from ..month_scenario import at, run_march
from .conftest import Cli, CliDb

REQUIRE_GRAPHVIZ = bool(os.environ.get("GOVFLOW_REQUIRE_GRAPHVIZ"))


def ok(run: Any) -> Any:
    """The JSON a successful ``--json`` command printed."""
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def ledger_size(db: CliDb) -> int:
    with db.open() as flow:
        return len(flow.ledger())


def test_a_whole_issue_through_the_command_line(govflow_cli: Cli, cli_db: CliDb) -> None:
    assert "lifecycles" in ok(govflow_cli("init", "--json"))
    assert ok(govflow_cli("units", "add", "OFFICE", "州督查室", "--level", "prefecture", "--supervisor", "--json"))
    govflow_cli("units", "add", "XY", "祥云县", "--level", "county", "--parent", "OFFICE")
    assert [u["id"] for u in ok(govflow_cli("units", "list", "--json"))] == ["OFFICE", "XY"]
    issue = ok(govflow_cli("assign", "集镇区排水沟堵塞", "--lead", "XY", "--due", "10wd", "--by", "OFFICE",
                           "--person", "张主任", "--first", "李县长", "--cooperating", "OFFICE", "--accept-limit", "2",
                           "--json"))
    ident = issue["id"]
    assert (issue["state"], issue["responsible"]["first"], issue["due_basis"][1]) == ("assigned", "李县长", 10)
    assert ok(govflow_cli("accept", ident, "--by", "XY", "--json"))["accepted_at"]
    ok(govflow_cli("implement", ident, "--by", "XY", "--person", "王站长", "--note", "清淤",
                   "--evidence", "前.jpg", "--evidence", "后.jpg", "--json"))
    waiting = govflow_cli("report", ident, "--by", "XY", "--result", "排水畅通")  # 会签 first (issue-list v2)
    assert waiting.returncode == 1 and "waiting for the countersign (会签) of OFFICE" in waiting.stderr
    ok(govflow_cli("countersign", ident, "--by", "OFFICE", "--note", "配合清淤", "--json"))
    ok(govflow_cli("report", ident, "--by", "XY", "--result", "排水畅通", "--json"))
    closed = ok(govflow_cli("fire", ident, "verify", "--by", "OFFICE", "--set", "rating=5", "--set", "note=好",
                            "--json"))
    assert (closed["state"], closed["version"]) == ("verified", 6)
    shown = ok(govflow_cli("show", ident, "--json"))
    assert [e["trigger"] for e in shown["ledger"]] == ["assign", "accept", "implement", "countersign", "report",
                                                       "verify"]
    assert shown["ledger"][2]["data"] == {"evidence": ["前.jpg", "后.jpg"], "note": "清淤"}
    assert shown["ledger"][2]["person"] == "王站长" and shown["ledger"][5]["data"] == {"rating": 5, "note": "好"}
    assert [i["id"] for i in ok(govflow_cli("list", "--state", "verified", "--json"))] == [ident]
    assert ok(govflow_cli("list", "--state", "assigned", "--json")) == []
    people = govflow_cli("show", ident, "--lang", "en")
    assert people.returncode == 0 and "verify and close" in people.stdout and "reported → verified" in people.stdout
    assert "验收销号" in govflow_cli("show", ident).stdout
    verified = ok(govflow_cli("ledger", "verify", "--json"))
    assert verified["intact"] is True and verified["entries"] == 2 + 6  # the two units' registrations, the steps
    with cli_db.open() as flow:  # what the store holds, read back in this process
        assert flow.get(ident).state == "verified"
        assert flow.verify_ledger().head == verified["head"]


def test_a_refused_command_exits_1_with_the_typed_message_and_writes_nothing(govflow_cli: Cli, cli_db: CliDb) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        ident = flow.assign("道路积水", lead="XIANGYUN", due=flow.now().date(), by="OFFICE").id
        flow.implement(ident, by="XIANGYUN", note="n")
        flow.report(ident, by="XIANGYUN", result="r")
    before = ledger_size(cli_db)
    own = govflow_cli("verify", ident, "--by", "XIANGYUN")
    assert own.returncode == 1 and own.stdout == ""
    assert "已拒绝 (PermissionDenied): unit 'XIANGYUN' may not 'verify' issue" in own.stderr
    typo = govflow_cli("fire", ident, "verifyy", "--by", "OFFICE", "--lang", "en", "--json")
    assert typo.returncode == 1 and "refused (InvalidTransition)" in typo.stderr
    error = json.loads(typo.stdout)["error"]
    assert error["type"] == "InvalidTransition"
    assert "'verifyy' is not a trigger of lifecycle issue-list@2" in error["message"]
    bad = govflow_cli("verify", ident, "--by", "OFFICE", "--rating", "9")
    assert bad.returncode == 1 and "ValidationError" in bad.stderr and "rating" in bad.stderr
    missing = govflow_cli("show", "GF-1999-0001")
    assert missing.returncode == 1 and "NotFound" in missing.stderr
    # 并入 alone would record a merge that never happened: no command, and `fire` refuses it.
    alone = govflow_cli("fire", ident, "take_merged", "--by", "OFFICE", "--set", "merged_issue=GF-1999-0001",
                        "--lang", "en")
    assert alone.returncode == 1 and "'take_merged' is taken only together with 'merge'" in alone.stderr
    assert govflow_cli("take-merged", ident, "--by", "OFFICE").returncode == 2
    assert ledger_size(cli_db) == before


@pytest.mark.parametrize("args", [
    ("verify",),                                         # no ID, no --by
    ("fire", "X", "verify", "--by", "OFFICE", "--set", "rating"),  # not KEY=VALUE
    ("units", "add", "X", "名", "--level", "galaxy"),      # not a level
    ("list", "--due-before", "next week"),
    ("no-such-command",),
])
def test_usage_errors_exit_2(govflow_cli: Cli, args: tuple[str, ...]) -> None:
    run = govflow_cli(*args)
    assert run.returncode == 2, run.stderr
    assert "Usage:" in run.stderr or "Error:" in run.stderr


def test_without_a_database_the_command_says_how_to_give_one(tmp_path: Path) -> None:
    import subprocess

    from .conftest import command_line, subprocess_env

    run = subprocess.run(command_line("units", "list"), env=subprocess_env(), capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 2 and "no database: give --db PATH_OR_URL or set GOVFLOW_DB" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_units_import_checks_every_row_first(govflow_cli: Cli, cli_db: CliDb, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,level,parent,supervisor\nOFFICE,州督查室,prefecture,,yes\nXY,祥云县,county,NOPE,\n",
                   encoding="utf-8")
    run = govflow_cli("units", "import", str(bad))
    assert run.returncode == 1 and "row 3.parent: no unit 'NOPE' before this row" in run.stderr
    with cli_db.open() as flow:
        assert flow.units() == []
    good = tmp_path / "units.json"
    good.write_text(json.dumps([
        {"id": "OFFICE", "name": "州督查室", "level": "prefecture", "supervisor": True},
        {"id": "XY", "name": "祥云县", "level": "county", "parent": "OFFICE"},
    ], ensure_ascii=False), encoding="utf-8")
    assert [u["id"] for u in ok(govflow_cli("units", "import", str(good), "--json"))] == ["OFFICE", "XY"]
    again = ok(govflow_cli("units", "import", str(good), "--json"))  # the same units again: allowed
    assert len(again) == 2
    with cli_db.open() as flow:
        found = [(u.id, u.parent, u.supervisor) for u in flow.units()]
        assert found == [("OFFICE", None, True), ("XY", "OFFICE", False)]


def test_ledger_verify_exits_3_naming_the_corrupted_entry(govflow_cli: Cli, cli_db: CliDb) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        ident = flow.assign("道路积水", lead="XIANGYUN", due=flow.now().date(), by="OFFICE").id
        flow.implement(ident, by="XIANGYUN", note="n")
    seq = UNIT_ENTRIES + 2  # the implement entry, after the units' registrations and the assign
    tampered = f"""UPDATE ledger SET data = '{{"note":"改过"}}' WHERE seq = {seq}"""
    if cli_db.kind == "sqlite":
        db = sqlite3.connect(cli_db.url)
        db.execute("DROP TRIGGER ledger_no_update")
        db.execute(tampered)
        db.commit()
        db.close()
    else:  # someone with the database owner's rights, by hand
        import psycopg
        from govflow_postgres.testing import server_dsn

        with psycopg.connect(server_dsn(), autocommit=True) as conn:
            conn.execute(f"SET search_path TO {cli_db.schema}")
            conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_no_update")
            conn.execute(tampered)
    run = govflow_cli("ledger", "verify", "--json")
    assert run.returncode == 3
    found = json.loads(run.stdout)
    assert (found["intact"], found["seq"], found["issue"]) == (False, seq, ident)
    assert f"ledger entry {seq}" in run.stderr


def test_ledger_export_writes_what_the_flow_renders(govflow_cli: Cli, cli_db: CliDb, tmp_path: Path) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        ident = flow.assign("=HYPERLINK(\"x\")", lead="XIANGYUN", due=flow.now().date(), by="OFFICE").id
        expected = flow.render("ledger", "csv", lang="en")
    target = tmp_path / "ledger.csv"
    assert ok(govflow_cli("ledger", "export", "-o", str(target), "--lang", "en", "--json"))["format"] == "csv"
    assert target.read_bytes().decode("utf-8") == expected
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["seq", "issue"] and [row[1] for row in rows[1:]] == [
        "unit:OFFICE", "unit:XIANGYUN", "unit:BINCHUAN", "unit:XIAZHUANG", ident,
    ]
    assert rows[1][3] == "unit registered" and rows[5][3] == "assign"
    printed = govflow_cli("ledger", "export", "--format", "json", "--issue", ident)
    assert json.loads(printed.stdout)[0]["issue_id"] == ident


def test_list_overdue_and_due_before_and_sweep(govflow_cli: Cli, cli_db: CliDb, past_clock: FakeClock) -> None:
    with cli_db.open(clock=past_clock) as flow:  # assigned in March: overdue by now
        add_units(flow)
        late = flow.assign("逾期的", lead="BINCHUAN", due="2026-03-10", by="OFFICE").id
        flow.assign("未到期", lead="XIANGYUN", due="2099-01-01", by="OFFICE")
    overdue = ok(govflow_cli("list", "--overdue", "--json"))
    assert [o["issue"]["id"] for o in overdue] == [late] and overdue[0]["working_days_late"] > 100
    assert [i["id"] for i in ok(govflow_cli("list", "--due-before", "2026-04-01", "--json"))] == [late]
    assert [i["id"] for i in ok(govflow_cli("list", "--unit", "BINCHUAN", "--json"))] == [late]
    events = ok(govflow_cli("sweep", "--json"))
    assert {e["issue_id"] for e in events} == {late}
    assert [e["step"] for e in events][:3] == ["due_soon", "due_soon", "overdue"]
    assert ok(govflow_cli("sweep", "--json")) == []  # each step once
    with cli_db.open() as flow:
        assert [e.trigger for e in flow.ledger(late)][1:] == ["deadline"] * len(events)


def test_scores_evaluation_and_the_bulletin(govflow_cli: Cli, cli_db: CliDb, past_clock: FakeClock,
                                            tmp_path: Path) -> None:
    with cli_db.open(clock=past_clock) as flow:
        add_units(flow)
        run_march(flow, past_clock)
        flow.add_unit("JIANSHE", "州住建局", level="department", parent="OFFICE")  # nothing due: not scored
        at(past_clock, 4, 1)
        expected = {s.unit: s.total for s in flow.scores("2026-03")}
    scores = ok(govflow_cli("scores", "2026-03", "--json"))
    assert {s["unit"]: s["total"] for s in scores} == expected
    table = govflow_cli("scores", "2026-03", "--lang", "en")
    assert "祥云县" in table.stdout and "not scored" in table.stdout
    graded = ok(govflow_cli("evaluation", "2026", "--json"))
    assert {e["unit"] for e in graded} == set(expected) and all("grade" in e for e in graded)
    # The default grades in the table's language (a deployment's own grade names stay as they are).
    english = {"优秀": "excellent", "良好": "good", "合格": "pass", "不合格": "fail"}
    assert any(e["grade"] for e in graded)
    shown = govflow_cli("evaluation", "2026", "--lang", "en").stdout
    assert all(english[e["grade"]] in shown for e in graded if e["grade"]), shown
    assert not any(e["grade"] in shown for e in graded if e["grade"])
    chinese = govflow_cli("evaluation", "2026").stdout
    assert all(e["grade"] in chinese for e in graded if e["grade"])
    formats = (("json", "b.json"), ("markdown", "b.md"), ("csv", "b.csv"), ("html", "b.html"), ("xlsx", "b.xlsx"))
    for fmt, name in formats:
        made = ok(govflow_cli("bulletin", "2026-03", "--format", fmt, "-o", str(tmp_path / name), "--json"))
        assert made["bytes"] == (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["period"] == "2026-03"
    assert "2026年3月问题清单办理情况通报" in (tmp_path / "b.md").read_text(encoding="utf-8")
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert len(book.sheetnames) >= 2
    english = govflow_cli("bulletin", "2026-03", "--format", "html", "-o", str(tmp_path / "en.html"), "--lang", "en")
    assert english.returncode == 0 and "March 2026" in (tmp_path / "en.html").read_text(encoding="utf-8")


def test_diagram_and_plugins(govflow_cli: Cli, cli_db: CliDb, tmp_path: Path) -> None:
    with cli_db.open() as flow:
        expected = flow.lifecycle("issue-list").diagram("mermaid")
        names = {p.name for p in flow.plugins()}
    run = govflow_cli("diagram", "issue-list")
    assert run.returncode == 0 and run.stdout == expected
    assert ok(govflow_cli("diagram", "issue-list", "--format", "dot", "--json"))["diagram"].startswith("digraph")
    missing = govflow_cli("diagram", "no-such-lifecycle")
    assert missing.returncode == 1 and "NotFound" in missing.stderr
    if shutil.which("dot") or REQUIRE_GRAPHVIZ:
        target = tmp_path / "issue-list.svg"
        ok(govflow_cli("diagram", "--format", "svg", "-o", str(target), "--json"))
        assert target.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    listed = ok(govflow_cli("plugins", "--json"))
    assert names <= {p["name"] for p in listed["plugins"]} and listed["failures"] == []
    assert "ledger-renderers" in govflow_cli("plugins").stdout


def test_printed_text_cannot_drive_the_terminal(govflow_cli: Cli, cli_db: CliDb) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        due = flow.now().date().isoformat()
        ident = flow.assign("标题[red]红[bold]粗[/bold]", lead="XIANGYUN", due=due, by="OFFICE").id
    # A terminal escape never reaches the store: the text rule refuses it at the door.
    escape = govflow_cli("assign", "标题\x1b[31m红", "--lead", "XIANGYUN", "--due", due, "--by", "OFFICE")
    assert escape.returncode == 1 and "control character U+001B" in escape.stderr
    run = govflow_cli("list")
    assert run.returncode == 0 and "\x1b" not in run.stdout
    assert "标题[red]红[bold]粗[/bold]" in run.stdout  # shown as written, markup not interpreted
    assert ok(govflow_cli("show", ident, "--json"))["issue"]["title"] == "标题[red]红[bold]粗[/bold]"
    with cli_db.open() as flow:
        assert [issue.id for issue in flow.issues()] == [ident]


def test_ledger_verify_shows_a_progress_bar_over_a_large_ledger(govflow_cli: Cli, cli_db: CliDb) -> None:
    with cli_db.open() as flow:
        add_units(flow)
        for n in range(1200):
            flow.assign(f"问题 {n}", lead="XIANGYUN", due=flow.now().date(), by="OFFICE")
        entries = len(flow.ledger())
    run = govflow_cli("ledger", "verify", "--progress", "--lang", "en")
    assert run.returncode == 0, run.stderr
    assert "verifying the ledger" in run.stderr and f"{entries}/{entries}" in run.stderr
    assert f"ledger intact: {entries} entries" in run.stdout
    quiet = govflow_cli("ledger", "verify")  # not a terminal: no bar unless asked
    assert quiet.returncode == 0 and quiet.stderr == ""
