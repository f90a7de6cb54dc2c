"""Fixtures of the govflow-postgres tests: the server (or a skip, or a failure with GOVFLOW_REQUIRE_PG=1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from govflow_postgres.testing import require_server, temporary_schema


@pytest.fixture
def dsn() -> str:
    """The test server's connection string; skips (or fails) the test where none answers."""
    return require_server()


@pytest.fixture
def schema(dsn: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test."""
    with temporary_schema(dsn) as name:
        yield name
