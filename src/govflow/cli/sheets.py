"""``govflow import``, ``govflow export`` and ``govflow template``: an office's problem list in spreadsheets."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import govflow

from ._app import Session, command, root
from ._output import clean

__all__ = ["COMMANDS", "export_issues", "import_issues", "import_template"]


@command(root, "import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", required=True, metavar="UNIT", help="The supervisor unit that assigns (交办) the rows.")
@click.option("--person", help="Who at --by does it (经办人).")
@click.option("--sheet", help="The worksheet to read (default: the first with the headers).")
@click.option("--dry-run", is_flag=True, help="Check every row and say what would be done; write nothing.")
@click.option("--update", is_flag=True,
              help="Apply changed rows through the lifecycle's own steps (改派, an approved extension).")
@click.option("--progress/--no-progress", default=None,
              help="A progress bar on stderr (default: when stderr is a terminal).")
def import_issues(session: Session, source: Path, by: str, person: str | None, sheet: str | None,
                  dry_run: bool, update: bool, progress: bool | None) -> None:
    """Import a problem list (.xlsx or .csv): all rows or none; every bad cell is reported, exit 1."""
    flow, out = session.flow(), session.out
    shown = progress if progress is not None else sys.stderr.isatty()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not shown, transient=False, redirect_stdout=False, redirect_stderr=False,
                  console=Console(stderr=True, highlight=False, markup=False)) as bar:
        task = bar.add_task(out.pick("检查各行", "checking rows"), total=None)
        report = flow.import_issues(
            source, by=govflow.Actor(by, person or None), sheet=sheet, dry_run=dry_run, update=update,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    out.emit(report)
    out.line(report.text(out.lang))
    if not report.ok:  # a dry run of a sheet the import would refuse
        raise click.exceptions.Exit(1)


@command(root, "export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--state", help="Only issues in this state.")
@click.option("--unit", metavar="ID", help="Only issues this unit leads or cooperates on.")
@click.option("--period", help="Only issues open at some time in it: 2026-06, 2026-Q2 or 2026.")
def export_issues(session: Session, path: Path, state: str | None, unit: str | None, period: str | None) -> None:
    """Export the problem list (.xlsx or .csv) in the columns `govflow import` reads, headers in --lang."""
    out = session.out
    written = session.flow().export_issues(path, state=state, unit=unit, period=period, lang=out.lang)
    out.emit({"path": str(written)})
    out.line(out.pick(f"已写入 {clean(written)}", f"written: {clean(written)}"))


@command(root, "template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_template(session: Session, path: Path) -> None:
    """Write an import template (.xlsx): headers, instructions, drop-down lists of the registered units."""
    out = session.out
    written = session.flow().import_template(path, lang=out.lang)
    out.emit({"path": str(written)})
    out.line(out.pick(f"已写入模板 {clean(written)}", f"template written: {clean(written)}"))


COMMANDS = [import_issues, export_issues, import_template]
