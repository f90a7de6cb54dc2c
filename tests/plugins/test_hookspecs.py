"""Every hook has a docs section and a test that implements it; the spec module is well formed."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from govflow import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name, obj in vars(hookspecs).items()
               if name.startswith("govflow_") and inspect.isfunction(obj))


def test_the_hooks_are_the_designed_ones() -> None:
    designed = {
        "govflow_register_storage", "govflow_register_lifecycles", "govflow_register_renderers",
        "govflow_register_calendars", "govflow_before_transition", "govflow_after_transition",
        "govflow_deadline", "govflow_score_unit", "govflow_startup", "govflow_blob_store",
    }
    assert set(HOOKS) == designed


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_has_a_docstring_naming_its_parameters(hook: str) -> None:
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    for parameter in inspect.signature(spec).parameters:
        named = f"``{parameter}``" in doc or f"``{parameter}(" in doc
        assert named, f"{hook}: the docstring does not name {parameter!r}"
    assert "firstresult" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_has_a_docs_section(hook: str) -> None:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = re.search(rf"^### `{hook}`\n(.*?)(?=^### |\Z)", text, re.S | re.M)
    assert section, f"docs/plugins.md has no '### `{hook}`' section"
    body = section.group(1)
    assert f"{hook}(" in body, "the section must show the signature"
    assert "```python" in body and f"def {hook}(" in body, "the section must show an example"


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_is_exercised_by_a_test(hook: str) -> None:
    sources = [*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    implemented = [p.name for p in sources if re.search(rf"def {hook}\(", p.read_text(encoding="utf-8"))]
    assert implemented, f"no test implements {hook}"
