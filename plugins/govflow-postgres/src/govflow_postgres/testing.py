"""Test helpers for code that runs govflow on PostgreSQL (used by govflow's own test suites).

The server is ``GOVFLOW_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Where no server answers, :func:`require_server` skips the test with the reason;
with ``GOVFLOW_REQUIRE_PG=1`` (as CI sets it) the skip becomes a failure, so a
run that was meant to prove PostgreSQL cannot pass without it.

Every test gets its own PostgreSQL schema: :func:`store_for` (one per key, reopened
on the next call with the same key, dropped when the process exits) or
:func:`temporary_schema` (dropped on leaving the block).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, NoReturn

import psycopg
import psycopg.conninfo
from psycopg import sql

from ._store import PostgresStore

__all__ = [
    "DEFAULT_DSN",
    "DSN_ENV",
    "REQUIRE_ENV",
    "drop_schema",
    "fast_dsn",
    "require_server",
    "server_dsn",
    "server_problem",
    "store_for",
    "temporary_schema",
    "unavailable",
]

#: The environment variable naming the test server.
DSN_ENV: Final = "GOVFLOW_PG_DSN"
#: Set to ``1`` to turn "no PostgreSQL server" from a skip into a failure.
REQUIRE_ENV: Final = "GOVFLOW_REQUIRE_PG"
#: The server tests use when ``GOVFLOW_PG_DSN`` is not set.
DEFAULT_DSN: Final = "postgresql://postgres@127.0.0.1:5432/test"

_problems: dict[str, str | None] = {}
_created: set[str] = set()


def server_dsn() -> str:
    """The test server's connection string: ``GOVFLOW_PG_DSN`` or :data:`DEFAULT_DSN`."""
    return os.environ.get(DSN_ENV) or DEFAULT_DSN


def server_problem(dsn: str | None = None) -> str | None:
    """Why the server cannot be used (None when it answers); asked once per process and DSN."""
    dsn = dsn or server_dsn()
    if dsn not in _problems:
        try:
            with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
                conn.execute("SELECT 1")
            _problems[dsn] = None
        except psycopg.Error as exc:
            _problems[dsn] = f"no PostgreSQL server at {DSN_ENV}={dsn!r}: {str(exc).strip()}"
    return _problems[dsn]


def unavailable(reason: str) -> NoReturn:
    """Skip the running test with ``reason``, or fail it when ``GOVFLOW_REQUIRE_PG=1``."""
    import pytest

    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE_ENV}={os.environ[REQUIRE_ENV]} requires it)", pytrace=False)
    pytest.skip(reason)


def require_server(dsn: str | None = None) -> str:
    """The test server's DSN; skips (or, with ``GOVFLOW_REQUIRE_PG=1``, fails) the test without one."""
    dsn = dsn or server_dsn()
    problem = server_problem(dsn)
    if problem is not None:
        unavailable(problem)
    return dsn


def drop_schema(name: str, dsn: str | None = None) -> None:
    """Drop a PostgreSQL schema and everything in it (if it exists)."""
    with psycopg.connect(dsn or server_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _drop_created() -> None:
    dsn = server_dsn()
    for name in sorted(_created):
        try:
            drop_schema(name, dsn)
        except psycopg.Error:  # pragma: no cover - the server went away: nothing to clean
            return
    _created.clear()


def fast_dsn(dsn: str) -> str:
    """``dsn`` with ``synchronous_commit`` off for its sessions: commits do not wait for the disk.

    For tests only: what is committed and seen is the same, only a crash of the
    server could lose the last commits. It makes a test suite several times faster.
    """
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    options = str(params.get("options") or "")
    return psycopg.conninfo.make_conninfo(dsn, options=f"{options} -c synchronous_commit=off".strip())


def store_for(key: str | os.PathLike[str], *, durable: bool = False, **options: Any) -> PostgresStore:
    """A store in the schema that belongs to ``key`` (a test's ``tmp_path``, say).

    The first call in a process with a key starts from an empty schema; later
    calls with the same key reopen it (as a file path does for SQLite). The
    schemas are dropped when the process exits. Commits do not wait for the
    disk (see :func:`fast_dsn`) unless ``durable``. ``options`` go to
    :class:`PostgresStore` (``pool_size``, ``timeout``, ``group_commit``).
    """
    dsn = require_server()
    digest = hashlib.sha1(os.fspath(key).encode()).hexdigest()[:12]
    name = f"gftest_{os.getpid()}_{digest}"
    if name not in _created:
        drop_schema(name, dsn)
        if not _created:
            atexit.register(_drop_created)
        _created.add(name)
    return PostgresStore(dsn if durable else fast_dsn(dsn), schema=name, **options)


@contextmanager
def temporary_schema(dsn: str | None = None) -> Iterator[str]:
    """A new, unique schema name on the test server (not created yet); dropped on leaving the block."""
    dsn = require_server(dsn)
    name = f"gftest_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        drop_schema(name, dsn)
