"""``govflow init`` and ``govflow units add|list|import``: the database and its units (单位)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

import govflow

from ._app import Session, command, root

__all__ = ["COMMANDS", "init", "units"]

_TRUE = {"1", "true", "yes", "y", "是", "x", "✓"}
_FALSE = {"", "0", "false", "no", "n", "否"}


@command(root, "init")
def init(session: Session) -> None:
    """Create the database's tables (or check an existing one) and register the default lifecycle."""
    flow = session.flow()
    check = flow.verify_ledger()
    lifecycles = [definition.key for definition in flow.lifecycles()]
    session.out.emit({"db": session.db, "lifecycles": lifecycles, "units": len(flow.units()), "entries": check.entries})
    session.out.line(session.out.pick(
        f"已就绪 {session.db}：生命周期 {', '.join(lifecycles)}，单位 {len(flow.units())} 个，台账 {check.entries} 条",
        f"ready: {session.db}: lifecycles {', '.join(lifecycles)}, {len(flow.units())} units, "
        f"{check.entries} ledger entries",
    ))


@click.group("units")
def units() -> None:
    """Units (单位): supervisor offices, counties, townships, departments."""


def _unit_rows(session: Session, found: list[govflow.Unit]) -> None:
    out = session.out
    out.emit(found)
    out.table(
        [out.pick("编号", "id"), out.pick("名称", "name"), out.pick("层级", "level"),
         out.pick("上级", "parent"), out.pick("督办单位", "supervisor")],
        [[u.id, u.name, u.level, u.parent, "✓" if u.supervisor else ""] for u in found],
    )


@command(units, "add")
@click.argument("unit_id", metavar="ID")
@click.argument("name")
@click.option("--level", required=True, type=click.Choice(govflow.LEVELS), help="The unit's level.")
@click.option("--parent", metavar="ID", help="The unit above it.")
@click.option("--supervisor", is_flag=True, help="A supervising office (督办单位): it assigns, verifies and closes.")
def add(session: Session, unit_id: str, name: str, level: Any, parent: str | None, supervisor: bool) -> None:
    """Register a unit (adding the same unit again unchanged is allowed)."""
    unit = session.flow().add_unit(unit_id, name, level=level, parent=parent, supervisor=supervisor)
    _unit_rows(session, [unit])


@command(units, "list")
def list_units(session: Session) -> None:
    """Every registered unit, in the order they were added."""
    _unit_rows(session, session.flow().units())


def _read_units(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The rows of a units file, CSV (with a header) or JSON (a list of objects), and the first row's number."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise govflow.ValidationError("FILE", f"{path.name} is not JSON: {exc}", "a JSON list of units") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise govflow.ValidationError("FILE", f"{path.name} is not a list of objects", "[{\"id\": ..., ...}]")
        return rows, 1
    return [dict(row) for row in csv.DictReader(io.StringIO(text))], 2  # row 1 is the header


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise govflow.ValidationError(f"{where}.supervisor", f"got {value!r}", "yes/no, true/false, 1/0 or empty")


def _check(rows: list[dict[str, Any]], first: int, known: dict[str, govflow.Unit]) -> list[govflow.Unit]:
    """Every row as a unit, checked against the registered units and the rows before it (nothing written)."""
    seen = dict(known)
    found: list[govflow.Unit] = []
    for number, row in enumerate(rows, start=first):
        where = f"row {number}"
        extra = sorted(str(k) for k in set(row) - {"id", "name", "level", "parent", "supervisor"})
        if extra:
            raise govflow.ValidationError(where, f"unknown columns {extra}", "id, name, level, parent, supervisor")
        unit_id, name = str(row.get("id") or "").strip(), str(row.get("name") or "").strip()
        level, parent = str(row.get("level") or "").strip(), str(row.get("parent") or "").strip() or None
        if not unit_id or not name:
            raise govflow.ValidationError(f"{where}.id/name", f"got {row!r}", "a non-empty id and name")
        if level not in govflow.LEVELS:
            raise govflow.ValidationError(f"{where}.level", f"got {level!r}", ", ".join(govflow.LEVELS))
        if parent is not None and (parent not in seen or parent == unit_id):
            raise govflow.ValidationError(f"{where}.parent", f"no unit {parent!r} before this row",
                                          "a registered unit or one in an earlier row")
        unit = govflow.Unit(unit_id, name, level, parent, _flag(row.get("supervisor"), where))  # type: ignore[arg-type]
        if unit_id in seen and seen[unit_id] != unit:
            raise govflow.ValidationError(f"{where}.id", f"unit {unit_id!r} already exists as {seen[unit_id]!r}",
                                          "a new id, or the same fields")
        seen[unit_id] = unit
        found.append(unit)
    return found


@command(units, "import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units(session: Session, file: Path) -> None:
    """Register the units of a CSV file (columns id, name, level, parent, supervisor) or a JSON list.

    Every row is checked first: one bad row and nothing is registered.
    """
    flow = session.flow()
    rows, first = _read_units(file)
    checked = _check(rows, first, {unit.id: unit for unit in flow.units()})
    added = [flow.add_unit(u.id, u.name, level=u.level, parent=u.parent, supervisor=u.supervisor) for u in checked]
    _unit_rows(session, added)


COMMANDS = [init, units]
