"""The documentation site: an API reference for every public name, the CLI page from the real help, diagrams."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import govflow

ROOT = Path(__file__).resolve().parent.parent


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("govflow_docs_hooks", ROOT / "docs" / "_hooks" / "govflow_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_on_a_reference_page_in_the_nav() -> None:
    pages = hooks().reference_pages()
    text = "\n".join(pages.values())
    for name in set(govflow.__all__) - {"__version__", "hookspecs"}:
        assert f"::: govflow.{name}\n" in text, name
    for module in ("hookspecs", "storage", "testing"):
        assert f"::: govflow.{module}\n" in pages[f"reference/{module}.md"]
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in pages:
        assert f"- {path}" in nav, f"{path} is not in mkdocs.yml's nav"


def test_the_build_fails_on_a_public_name_without_a_docstring(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.exceptions import PluginError

    module = hooks()
    assert module.undocumented() == []
    monkeypatch.setattr(govflow.Period, "__doc__", None)
    with pytest.raises(PluginError, match=r"public names without a docstring: govflow\.Period"):
        module.on_config({})


def test_the_cli_page_is_the_commands_own_help() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "<!-- govflow:cli-reference -->" in page
    reference = hooks().cli_reference()
    real = subprocess.run([sys.executable, "-m", "govflow.cli", "ledger", "verify", "--help"],
                          capture_output=True, text=True, encoding="utf-8", timeout=60, env={"COLUMNS": "100"})
    assert real.returncode == 0
    # The same text the command prints (click wraps by width: compare the words).
    section = reference.split("## `govflow ledger verify`", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert section.split()[1:] == real.stdout.split()[1:]
    from govflow.cli import cli

    for name, command in cli.commands.items():
        assert f"`govflow {name}`" in reference, name
        for sub in getattr(command, "commands", {}):
            assert f"`govflow {name} {sub}`" in reference


def test_the_lifecycles_page_embeds_the_default_diagram() -> None:
    module = hooks()
    page = (ROOT / "docs" / "lifecycles.md").read_text(encoding="utf-8")
    expanded = module.on_page_markdown(page, None, None, None)
    with govflow.open(":memory:") as flow:
        assert f"```mermaid\n{flow.lifecycle('issue-list').diagram()}```" in expanded
