"""The ``govflow`` command, run as a real subprocess against SQLite and PostgreSQL.

``cli_db`` is a database URL or path per backend; ``govflow_cli`` runs the installed console
script (the one ``pip install govflow`` puts beside the interpreter) with ``--db`` set to it.
``seeded`` opens the same database in this process (with a fake clock) to prepare data.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import govflow
from govflow.testing import FakeClock

BACKENDS = ("sqlite", "postgres")
EXECUTABLE = shutil.which("govflow", path=str(Path(sys.executable).parent))


@attrs.frozen
class CliDb:
    """A database for the command line: ``url`` for ``--db``, ``open`` for this process."""

    kind: str
    url: str
    open: Callable[..., govflow.Govflow]
    schema: str | None = None  # PostgreSQL's


@pytest.fixture(params=BACKENDS)
def cli_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CliDb]:
    if request.param == "sqlite":
        path = tmp_path / "cli.sqlite3"
        yield CliDb("sqlite", str(path), lambda **options: govflow.open(path, **options))
        return
    try:
        from govflow_postgres import PostgresStore
        from govflow_postgres.testing import server_dsn, temporary_schema
    except ImportError as exc:  # pragma: no cover - make test installs it
        if os.environ.get("GOVFLOW_REQUIRE_PG", "") not in ("", "0"):
            pytest.fail(f"govflow-postgres is not installed: {exc}")
        pytest.skip(f"govflow-postgres is not installed: {exc}")
    with temporary_schema() as schema:
        dsn = server_dsn()
        url = f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
        # In this process the entry-point plugins are blocked (tests/conftest.py): open the store directly.
        yield CliDb("postgres", url, lambda **options: govflow.open(PostgresStore(dsn, schema=schema), **options),
                    schema)


def subprocess_env(**extra: str) -> dict[str, str]:
    """This environment for a subprocess, with the postgres storage plugin let through."""
    env = dict(os.environ)
    postgres = {ep.name for ep in importlib.metadata.entry_points(group="govflow")
                if ep.value.startswith("govflow_postgres")}
    blocked = [n for n in env.get("GOVFLOW_DISABLE_PLUGINS", "").split(",") if n and n not in postgres]
    env["GOVFLOW_DISABLE_PLUGINS"] = ",".join(blocked)
    env.pop("GOVFLOW_DB", None)
    env.pop("GOVFLOW_LANG", None)
    env.update(extra)
    return env


def command_line(*args: str) -> list[str]:
    """The argv of the installed ``govflow`` console script (``python -m govflow.cli`` if there is none)."""
    if EXECUTABLE is None:  # pragma: no cover - make test installs the script
        return [sys.executable, "-m", "govflow.cli", *args]
    return [EXECUTABLE, *args]


@attrs.frozen
class Cli:
    """Runs ``govflow --db URL ARGS`` and returns the completed process."""

    db: CliDb
    cwd: Path

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
                 **options: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command_line("--db", self.db.url, *args), cwd=self.cwd, env=env or subprocess_env(),
            capture_output=True, text=True, encoding="utf-8", timeout=timeout, **options,
        )


@pytest.fixture
def govflow_cli(cli_db: CliDb, tmp_path: Path) -> Cli:
    return Cli(cli_db, tmp_path)


@pytest.fixture
def past_clock() -> FakeClock:
    """Monday 2026-03-02 09:00 in Shanghai, one minute per reading (the data prepared in this process)."""
    import datetime as dt

    return FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))
