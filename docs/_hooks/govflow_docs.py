"""MkDocs hooks: what the docs show is generated from the code at build time, so it cannot drift.

- ``reference/*.md``: one API reference page per wing, listing every name in ``govflow.__all__``
  (and the public modules ``govflow.hookspecs``, ``govflow.storage``, ``govflow.testing``) for
  mkdocstrings; the build fails on a public name without a docstring or without a page.
- ``<!-- govflow:diagram NAME -->`` in a page becomes the Mermaid diagram of that lifecycle.
- ``<!-- govflow:cli-reference -->`` becomes the help of every ``govflow`` command.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import click
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

import govflow  # noqa: E402  - from this checkout, not an installed copy

#: The reference pages: file, title, and the private wings whose public names they show.
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("flow", "流程 Flow: open() and Govflow", ("_flow",)),
    ("values", "数据 Values: issues, units, the ledger",
     ("_core.model", "_core.events", "_core.ledger", "_core.clock", "_core.checkpoint", "_core.text",
      "_core.field")),
    ("errors", "错误 Errors", ("_core.errors",)),
    ("lifecycles", "生命周期 Lifecycles", ("_lifecycle",)),
    ("deadlines", "期限 Deadlines and calendars", ("_deadlines", "_core.workdays")),
    ("reports", "考评与通报 Scoring, periods and bulletins", ("_reports",)),
    ("plugins", "插件 Plugins and the outbox", ("_plugins",)),
    ("stores", "存储 Stores", ("_stores",)),
    ("plans", "工作方案 Work plans and roll-ups", ("_plans",)),
    ("interop", "电子表格 Spreadsheets in and out", ("_interop",)),
)
MODULES: tuple[tuple[str, str], ...] = (
    ("hookspecs", "govflow.hookspecs: the hook specifications"),
    ("storage", "govflow.storage: helpers for store plugins"),
    ("testing", "govflow.testing: fake clock, recorder, fixtures"),
)
DIAGRAM = re.compile(r"<!-- govflow:diagram ([\w.-]+) -->")
CLI_REFERENCE = "<!-- govflow:cli-reference -->"


def defining_module(name: str) -> str:
    """The private module a public name comes from (its ``__module__``, or the one whose ``__all__`` has it)."""
    value = getattr(govflow, name)
    module = getattr(value, "__module__", None) if inspect.isclass(value) or inspect.isfunction(value) else None
    if module and module.startswith("govflow._"):
        return module
    for loaded, candidate in sorted(sys.modules.items()):
        if loaded.startswith("govflow._") and name in getattr(candidate, "__all__", ()) \
                and getattr(candidate, name, None) is value:
            return loaded
    raise PluginError(f"govflow.{name}: cannot tell which module defines it, so it has no reference page")


def page_of(name: str) -> str:
    """The reference page that shows ``govflow.name``."""
    module = defining_module(name).removeprefix("govflow.")
    for page, _, prefixes in PAGES:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return page
    raise PluginError(f"govflow.{name} (from {module}) belongs to no reference page: add its wing to PAGES")


def undocumented() -> list[str]:
    """Public names (and their public methods) that have no docstring."""
    missing = []
    for name in govflow.__all__:
        value = getattr(govflow, name)
        if (inspect.isclass(value) or inspect.isfunction(value)) and not inspect.getdoc(value):
            missing.append(f"govflow.{name}")
    return missing


def reference_pages() -> dict[str, str]:
    """The Markdown of every reference page, by file name."""
    names: dict[str, list[str]] = {page: [] for page, _, _ in PAGES}
    for name in govflow.__all__:
        if name in ("__version__", "hookspecs"):
            continue
        names[page_of(name)].append(name)
    pages = {}
    for page, title, _ in PAGES:
        body = [f"# {title}\n", "Every name here is imported from `govflow` (`import govflow`).\n"]
        body += [f"::: govflow.{name}\n" for name in names[page]]
        pages[f"reference/{page}.md"] = "\n".join(body)
    for module, title in MODULES:
        pages[f"reference/{module}.md"] = f"# {title}\n\n::: govflow.{module}\n"
    listed = [f"- [{title}]({page}.md)" for page, title, _ in PAGES]
    listed += [f"- [{title}]({module}.md)" for module, title in MODULES]
    pages["reference/index.md"] = (
        "# API 参考 / API reference\n\nGenerated from the code's docstrings when the site is built: every "
        "public name of `govflow` is on one of these pages.\n\n" + "\n".join(listed) + "\n"
    )
    return pages


def on_config(config: Any) -> Any:
    """Fail the build on a public name without a docstring."""
    missing = undocumented()
    if missing:
        raise PluginError(f"public names without a docstring: {', '.join(missing)}")
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages."""
    for path, text in reference_pages().items():
        files.append(File.generated(config, path, content=text))
    return files


def cli_reference() -> str:
    """The help of ``govflow`` and of every command, as the terminal shows it."""
    from govflow.cli import cli

    sections: list[str] = []

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        # A context chain as the command line builds one: the root's settings (-h) reach every command.
        settings = {**command.context_settings, "terminal_width": 100}
        ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
        help_text = command.get_help(ctx)
        heading = "#" * min(len(path) + 1, 4)
        sections.append(f"{heading} `{' '.join(path)}` {{ #{'-'.join(path)} }}\n\n```text\n{help_text}\n```\n")
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name], ctx)

    walk(cli, ["govflow"], None)
    return "\n".join(sections)


def diagram(match: re.Match[str]) -> str:
    with govflow.open(":memory:") as flow:
        return f"```mermaid\n{flow.lifecycle(match.group(1)).diagram('mermaid')}```"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Expand the diagram and CLI markers."""
    markdown = DIAGRAM.sub(diagram, markdown)
    if CLI_REFERENCE in markdown:
        markdown = markdown.replace(CLI_REFERENCE, cli_reference())
    return markdown


def _reimport() -> None:
    """Make sure every wing is loaded (``defining_module`` looks through them)."""
    for module in ("govflow._flow.facade", "govflow._reports.bulletin.build", "govflow._deadlines.ladder"):
        importlib.import_module(module)


_reimport()
