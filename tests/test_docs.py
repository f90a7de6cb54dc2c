"""The stand-alone ledger auditor in docs/ works on a real SQLite file and matches ledger.md."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import govflow
from govflow.testing import FakeClock

from .conftest import UNIT_ENTRIES, add_units

DOCS = Path(__file__).resolve().parent.parent / "docs"
AUDITOR = DOCS / "audit_ledger.py"
MARKER = "<!-- audit_ledger.py:"


def audit(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AUDITOR), str(path)],
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


@pytest.fixture
def ledger_file(tmp_path: Path, clock: FakeClock) -> Path:
    """A closed SQLite flow with four units and two issues: 4 + 7 ledger entries."""
    path = tmp_path / "audit.sqlite3"
    with govflow.open(path, clock=clock) as flow:
        add_units(flow)
        a = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE",
                        cooperating=["XIAZHUANG"], countersign="none", responsible={"first": "李县长"})
        b = flow.assign("垃圾清运", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        flow.accept(a.id, by="XIANGYUN")
        flow.implement(a.id, by=govflow.Actor("XIANGYUN", "王五"), note="疏通 \"排水沟\"\n300 米",
                       evidence=["照片.jpg"])
        flow.report(a.id, by="XIANGYUN", result="完成")
        flow.verify(a.id, by="OFFICE", rating=4)
        flow.cancel(b.id, by="OFFICE", reason="重复")
        assert flow.verify_ledger().entries == UNIT_ENTRIES + 7
    return path


def test_the_auditor_passes_a_clean_file(ledger_file: Path) -> None:
    run = audit(ledger_file)
    assert run.returncode == 0, run.stdout + run.stderr
    with govflow.open(ledger_file) as flow:
        head = flow.verify_ledger().head
    assert run.stdout.strip() == f"OK: {UNIT_ENTRIES + 7} entries, head {head}"


def test_the_auditor_names_a_tampered_entry(ledger_file: Path) -> None:
    db = sqlite3.connect(ledger_file)
    db.execute("DROP TRIGGER ledger_no_update")
    seq = UNIT_ENTRIES + 6  # the verify entry
    db.execute(f"""UPDATE ledger SET data = '{{"rating":5}}' WHERE seq = {seq}""")
    db.commit()
    db.close()
    run = audit(ledger_file)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith(f"BAD entry {seq} (issue GF-2026-0001)"), run.stdout
    # govflow itself names the same entry.
    with govflow.open(ledger_file) as flow, pytest.raises(govflow.LedgerCorrupted) as info:
        flow.verify_ledger()
    assert info.value.seq == seq


def test_ledger_md_shows_the_auditor_verbatim() -> None:
    page = (DOCS / "ledger.md").read_text(encoding="utf-8")
    assert page.count(MARKER) == 1
    after = page.split(MARKER, 1)[1].split("\n", 1)[1]
    assert after.startswith("```python\n")
    block = after[len("```python\n"):].split("\n```\n", 1)[0] + "\n"
    assert block == AUDITOR.read_text(encoding="utf-8")


DOC_PAGES = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "docs").glob("*.md"))


@pytest.mark.parametrize("page", [*DOC_PAGES, "../README.md"])
def test_every_python_block_in_the_docs_runs_and_prints_what_the_page_shows(page: str) -> None:
    from .docs_runner import run

    path = Path(__file__).resolve().parent.parent / "docs" / page
    assert run(str(path)) == 0


ROOT = DOCS.parent
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md", *sorted(ROOT.glob("plugins/*/README.md"))]
# A path in backticks: something/with/a/slash.ext (generated output names have no directory).
CITED = re.compile(r"`((?:\.?[\w.-]+/)+[\w.-]+\.(?:py|md|toml|json|ya?ml|cfg|txt|ini))`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_tells_users_to_import_a_private_module(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert re.findall(r"govflow\._\w+", text) == [], f"{page.name} names a private module; make it public"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_a_page_cites_is_in_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = [
        path for path in CITED.findall(text)
        if not any((base / path).exists() for base in (ROOT, page.parent, DOCS))
    ]
    assert missing == [], f"{page.relative_to(ROOT)} cites files that are not in the repository: {missing}"
