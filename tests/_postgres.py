"""PostgreSQL for the core's tests: a store per test, or a skip (a failure with GOVFLOW_REQUIRE_PG=1).

The logic lives in ``govflow_postgres.testing``; this module only covers the
case where the plugin package is not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govflow import Store

try:
    from govflow_postgres.testing import store_for
except ImportError as exc:  # the govflow-postgres package is not installed
    _MISSING: str | None = f"govflow-postgres is not installed ({exc}): pip install -e plugins/govflow-postgres"
else:
    _MISSING = None


def postgres_store(tmp_path: Path) -> Store:
    """A PostgreSQL store in the schema that belongs to ``tmp_path`` (reopened on a second call)."""
    if _MISSING is not None:
        if os.environ.get("GOVFLOW_REQUIRE_PG", "") not in ("", "0"):
            pytest.fail(_MISSING, pytrace=False)
        pytest.skip(_MISSING)
    return store_for(tmp_path)
