"""``govflow ledger verify`` and ``govflow ledger export``: the hash-chained ledger (台账)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import govflow

from ._app import EXIT_CORRUPTED, Session, command
from ._output import clean

__all__ = ["COMMANDS", "ledger"]


@click.group("ledger")
def ledger() -> None:
    """The ledger (台账): verify its hash chain, export it."""


@command(ledger, "verify")
@click.option("--progress/--no-progress", default=None,
              help="A progress bar on stderr (default: when stderr is a terminal).")
def verify(session: Session, progress: bool | None) -> None:
    """Check the hash chain and every issue against its entries: exit 0 intact, 3 corrupted (naming the entry)."""
    flow, out = session.flow(), session.out
    shown = progress if progress is not None else sys.stderr.isatty()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      disable=not shown, transient=False, redirect_stdout=False, redirect_stderr=False,
                      console=Console(stderr=True, highlight=False, markup=False)) as bar:
            task = bar.add_task(out.pick("校验台账", "verifying the ledger"), total=None)
            check = flow.verify_ledger(progress=lambda done, total: bar.update(task, completed=done, total=total))
    except govflow.LedgerCorrupted as error:
        out.note(out.pick(f"台账已损坏 corrupted: {error}", f"ledger corrupted: {error}"))
        out.emit({"intact": False, "seq": error.seq, "issue": error.issue_id, "problem": error.problem,
                  "message": str(error)})
        raise click.exceptions.Exit(EXIT_CORRUPTED) from None
    out.emit({"intact": True, "entries": check.entries, "issues": check.issues, "head": check.head})
    out.line(out.pick(f"台账完好：{check.entries} 条，{check.issues} 个事项，链头 {check.head}",
                      f"ledger intact: {check.entries} entries, {check.issues} issues, head {check.head}"))


@command(ledger, "export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "markdown"]), default="csv", show_default=True,
              help="csv (UTF-8 with a BOM, for Excel), json or markdown.")
@click.option("--issue", "issue_id", metavar="ID", help="Only this issue's steps.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
def export(session: Session, fmt: str, issue_id: str | None, output: Path | None) -> None:
    """Export the ledger (or one issue's steps) with labels in --lang; cells are escaped for the format."""
    out = session.out
    text = session.flow().render("ledger", fmt, issue_id=issue_id, lang=out.lang)
    data = text if isinstance(text, str) else text.decode("utf-8")
    if output is None:
        click.echo(data, nl=not data.endswith("\n"))
        return
    output.write_text(data, encoding="utf-8", newline="")
    out.emit({"path": str(output), "format": fmt, "bytes": len(data.encode("utf-8"))})
    out.line(out.pick(f"已写入 {clean(output)}", f"written: {clean(output)}"))


COMMANDS = [ledger]
