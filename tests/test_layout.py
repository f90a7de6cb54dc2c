"""The house rules of the source tree: capability wings, short modules, public imports outside src/.

The layering itself is checked by ``lint-imports`` (contracts in pyproject.toml, run by .ci/run);
these tests keep the shape that makes those contracts readable.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "govflow"
WINGS = ("_core", "_lifecycle", "_stores", "_plugins", "_deadlines", "_plans", "_reports", "_flow")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def test_each_capability_has_its_wing() -> None:
    for wing in WINGS:
        assert (PACKAGE / wing / "__init__.py").is_file(), wing


def test_the_package_top_level_stays_small() -> None:
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 16, entries
    # Outside the wings, only the public modules.
    flat = [name for name in entries if name.endswith(".py") and name.startswith("_") and name != "__init__.py"]
    assert flat == [], f"private modules belong in a wing: {flat}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("_*/**/*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_is_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 500, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_the_layer_contracts_are_configured() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = {contract["id"]: contract for contract in config["contracts"]}
    layers = contracts["layers"]["layers"]
    assert (layers[0], layers[-1]) == ("_flow", "_core")
    assert set(layers) >= set(WINGS)
    assert {"core", "stores", "plugin-packages"} <= set(contracts)
    assert "lint-imports" in (ROOT / "Makefile").read_text(encoding="utf-8")


PRIVATE_IMPORT = re.compile(r"^\s*(?:from|import)\s+govflow\._", re.M)
WHY = "# Private on purpose:"


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("examples/*.py"), *ROOT.glob("plugins/*/src/**/*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_outside_src_only_public_names_or_a_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    private = PRIVATE_IMPORT.findall(text)
    if private:
        assert "plugins" not in path.parts, f"{path.name}: plugin packages import public names only"
        assert WHY in text, f"{path.name} imports govflow's private modules without saying why ({WHY} ...)"
