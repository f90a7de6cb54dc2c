"""The ``govflow`` command line (``pip install govflow`` installs it; click and rich are dependencies).

Each public module of this package is one group of commands and lists them in
``COMMANDS``; the root group collects them all, so adding a command is adding one small
module (``govflow/cli/spreadsheets.py`` with ``COMMANDS = [import_issues, export_issues]``)::

    from govflow.cli._app import command, root

    @command(root, "hello")
    def hello(session, **_):
        "Say hello."
        session.out.line(len(session.flow().units()))

    COMMANDS = [hello]

``govflow --help`` lists the commands; docs/cli.md is generated from that help.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

import click

from ._app import EXIT_CORRUPTED, EXIT_REFUSED, root

__all__ = ["EXIT_CORRUPTED", "EXIT_REFUSED", "cli", "main"]


def _collect(group: click.Group) -> click.Group:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for command in getattr(loaded, "COMMANDS", ()):
            if command.name not in group.commands:
                group.add_command(command)
    return group


#: The root ``govflow`` group with every command of this package.
cli: click.Group = _collect(root)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``govflow`` console script); exits with the command's status."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="govflow")
