"""The root ``govflow`` group, the session it hands every command, and the ``@command`` decorator.

Every command is made with :func:`command`: it adds ``--json`` and ``--lang``, opens the flow
on first use, and turns a refused command (a :class:`govflow.GovflowError`) into its message
on stderr and exit status 1 (with ``--json``, a JSON object on stdout as well). Usage errors
are click's: exit status 2.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn, TypeVar

import attrs
import click

import govflow

from ._output import Output

__all__ = ["EXIT_CORRUPTED", "EXIT_REFUSED", "Session", "command", "root"]

#: Exit status of a command govflow refused (a typed error); click's usage errors exit 2.
EXIT_REFUSED: Final = 1
#: Exit status of ``govflow ledger verify`` when the ledger does not check out.
EXIT_CORRUPTED: Final = 3
LANGS: Final = ("zh", "en")

F = TypeVar("F", bound=Callable[..., Any])


@attrs.define(eq=False)
class Session:
    """What one run of the command line works with: the database, the plugins, the output."""

    db: str | None
    plugins: tuple[str, ...] = ()
    lang: str = "zh"
    json: bool = False
    _flow: govflow.Govflow | None = None

    @property
    def out(self) -> Output:
        """Where results go: rich tables, or JSON with ``--json``."""
        return Output(json=self.json, lang=self.lang)

    def flow(self) -> govflow.Govflow:
        """The flow on ``--db`` (opened on first use, closed when the command ends)."""
        if self._flow is None:
            if not self.db:
                raise click.UsageError("no database: give --db PATH_OR_URL or set GOVFLOW_DB")
            # Notifications wait in the outbox for `govflow worker`: a command never blocks on a mail server.
            self._flow = govflow.open(self.db, plugins=[_load_plugin(p) for p in self.plugins], delivery="manual")
        return self._flow

    def close(self) -> None:
        """Close the flow if it was opened."""
        if self._flow is not None:
            self._flow.close()
            self._flow = None

    def refuse(self, error: govflow.GovflowError) -> NoReturn:
        """Report a refused command and exit with status 1."""
        self.out.error(error)
        raise click.exceptions.Exit(EXIT_REFUSED)


def _load_plugin(spec: str) -> object:
    """``module:attribute`` (or a module) to pass to ``govflow.open(plugins=...)``; a class is instantiated."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        plugin: object = functools.reduce(getattr, attribute.split("."), module) if attribute else module
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {spec!r}: {exc}", param_hint="--plugin") from None
    return plugin() if isinstance(plugin, type) else plugin


def _split_plugins(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> tuple[str, ...]:
    # GOVFLOW_PLUGINS holds several, separated by commas or spaces.
    return tuple(part for item in value for part in item.replace(",", " ").split())


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="GOVFLOW_DB", metavar="PATH_OR_URL",
              help="The database: an SQLite file path or a postgresql:// URL (env GOVFLOW_DB).")
@click.option("--lang", type=click.Choice(LANGS), envvar="GOVFLOW_LANG", default="zh", show_default=True,
              help="Language of labels and messages, 中文 or English (env GOVFLOW_LANG).")
@click.option("--plugin", "plugins", multiple=True, envvar="GOVFLOW_PLUGINS", callback=_split_plugins,
              metavar="MODULE:OBJECT",
              help="Load a plugin object (a class is instantiated); repeatable (env GOVFLOW_PLUGINS, comma-separated). "
                   "Installed plugins load by themselves.")
@click.version_option(govflow.__version__, prog_name="govflow")
@click.pass_context
def root(ctx: click.Context, db: str | None, lang: str, plugins: tuple[str, ...]) -> None:
    """govflow: 问题清单制度 — assign, implement, report back, verify and close, with a hash-chained ledger.

    交办 → 签收 → 落实 → 反馈 → 验收销号; every step is a ledger (台账) entry. A refused
    command prints the reason and exits 1; usage errors exit 2; `ledger verify` exits 3 on a
    corrupted ledger. Every command takes --json for scripts.
    """
    session = Session(db=db, plugins=plugins, lang=lang)
    ctx.obj = session
    ctx.call_on_close(session.close)


def command(parent: click.Group, name: str | None = None, **settings: Any) -> Callable[[F], click.Command]:
    """Make ``function(session, **options)`` a subcommand of ``parent`` with ``--json`` and ``--lang``."""

    def decorate(function: F) -> click.Command:
        @functools.wraps(function)
        def run(*args: Any, json_output: bool, lang: str | None, **kwargs: Any) -> Any:
            session = click.get_current_context().find_object(Session)
            if session is None:  # invoked outside the root group (a test calling the command directly)
                session = Session(db=os.environ.get("GOVFLOW_DB"))
                click.get_current_context().call_on_close(session.close)
            session.json = json_output
            if lang is not None:
                session.lang = lang
            try:
                return function(session, *args, **kwargs)
            except govflow.GovflowError as error:
                session.refuse(error)

        run = click.option("--lang", type=click.Choice(LANGS), default=None,
                           help="Language of labels, 中文 or English (default: the global --lang).")(run)
        run = click.option("--json", "json_output", is_flag=True, help="Print JSON (for scripts).")(run)
        return parent.command(name, **settings)(run)

    return decorate
