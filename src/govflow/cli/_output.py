"""What the command line prints: rich tables for people, JSON for scripts, errors on stderr.

Everything printed from the store (titles, notes, unit names) is data: rich markup in it is
not interpreted and control characters (a terminal's escape sequences) are replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import govflow

__all__ = ["Output", "clean", "jsonable"]

_REFUSED: Final = {"zh": "已拒绝", "en": "refused"}


def clean(value: object) -> str:
    """``value`` as one safe line of terminal text: control characters become U+FFFD, None is empty."""
    if value is None:
        return ""
    text = str(value)
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text)


def jsonable(value: Any) -> Any:
    """Plain JSON values for attrs objects, dates, mappings and sequences."""
    if attrs.has(type(value)):
        return {field.name: jsonable(getattr(value, field.name)) for field in attrs.fields(type(value))
                if not field.name.startswith("_") and field.name != "flow"}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # A pipe or a file gets lines as long as they need (rich would wrap them at 80 columns).
    width = None if stream.isatty() else 200
    return Console(file=stream, highlight=False, markup=False, emoji=False, width=width, soft_wrap=not stream.isatty())


@attrs.frozen
class Output:
    """One command's output: ``json`` for scripts, else tables and lines in ``lang``."""

    json: bool = False
    lang: str = "zh"

    def pick(self, zh: str, en: str) -> str:
        """The text in this output's language."""
        return en if self.lang == "en" else zh

    def emit(self, payload: Any) -> None:
        """Print ``payload`` as JSON (only with ``--json``)."""
        if self.json:
            click.echo(json.dumps(jsonable(payload), ensure_ascii=False, indent=2))

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None) -> None:
        """Print a table (nothing with ``--json``: the command emits its payload instead)."""
        if self.json:
            return
        table = Table(title=clean(title) if title else None, title_justify="left", show_lines=False)
        for column in columns:
            table.add_column(clean(column), overflow="fold")
        for row in rows:
            table.add_row(*(Text(clean(cell)) for cell in row))
        _console().print(table)

    def line(self, text: object) -> None:
        """Print a line for people (nothing with ``--json``)."""
        if not self.json:
            _console().print(Text(clean(text)))

    def note(self, text: object) -> None:
        """A message on stderr, with or without ``--json`` (progress, warnings, what a worker did)."""
        _console(stderr=True).print(Text(clean(text)))

    def error(self, error: govflow.GovflowError) -> None:
        """A refused command: its type and message on stderr; with ``--json`` also on stdout."""
        kind = type(error).__name__
        self.note(f"{_REFUSED.get(self.lang, 'refused')} ({kind}): {error}")
        if self.json:
            click.echo(json.dumps({"error": {"type": kind, "message": str(error)}}, ensure_ascii=False, indent=2))
