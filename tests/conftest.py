"""Shared fixtures: a fake clock and a flow on each store (memory, SQLite, PostgreSQL where a server answers)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import govflow
from govflow.testing import FakeClock

from ._postgres import postgres_store

STORES = ("memory", "sqlite", "postgres")


@pytest.fixture(autouse=True)
def _only_builtin_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block plugins installed through the ``govflow`` entry-point group.

    The core's tests check the core and the built-in backends; a notifier or
    guard installed in the same environment (``make test`` installs the
    packages under plugins/) must not change what they see.
    ``GOVFLOW_DISABLE_PLUGINS`` is the documented switch.
    """
    names = [ep.name for ep in importlib.metadata.entry_points(group="govflow")]
    if names:
        monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", ",".join(names))


def block_plugins(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Add ``names`` to ``GOVFLOW_DISABLE_PLUGINS`` (keeping what is blocked already)."""
    current = [n for n in os.environ.get("GOVFLOW_DISABLE_PLUGINS", "").split(",") if n]
    monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", ",".join([*current, *names]))


@pytest.fixture
def clock() -> FakeClock:
    """A clock at Monday 2026-03-02 09:00 Asia/Shanghai that moves one minute per reading."""
    return FakeClock("2026-03-02T09:00:00+08:00", tick=dt.timedelta(minutes=1))


def open_flow(kind: str, tmp_path: Path, clock: FakeClock) -> govflow.Govflow:
    """A flow on the named store kind."""
    if kind == "postgres":
        return govflow.open(postgres_store(tmp_path), clock=clock)
    target = ":memory:" if kind == "memory" else str(tmp_path / "flow.sqlite3")
    return govflow.open(target, clock=clock)


#: The ledger entries ``add_units`` writes (one per unit registered): an issue's entries come after them.
UNIT_ENTRIES = 4


def add_units(flow: govflow.Govflow) -> None:
    """The standard cast: a prefecture office (supervisor), two counties, a township."""
    flow.add_unit("OFFICE", "大理州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    flow.add_unit("BINCHUAN", "宾川县", level="county", parent="OFFICE")
    flow.add_unit("XIAZHUANG", "下庄镇", level="township", parent="XIANGYUN")


@pytest.fixture(params=STORES)
def flow(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[govflow.Govflow]:
    """A flow with the standard units, once on each store."""
    with open_flow(request.param, tmp_path, clock) as flow:
        add_units(flow)
        yield flow


def snapshot(flow: govflow.Govflow) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: every issue, the ledger, the chain head."""
    return (
        [
            (i.id, i.state, i.version, i.lead, i.due, i.due_provisional, i.extension, i.extension_count,
             i.escalation_steps)
            for i in flow.issues()
        ],
        [(e.seq, e.hash) for e in flow.ledger()],
        flow.store.chain_head(),
    )


def refused(flow: govflow.Govflow, error: type[Exception], command: Callable[[], object]) -> Exception:
    """Run ``command``, expect ``error``, and check that nothing was written."""
    before = snapshot(flow)
    with pytest.raises(error) as info:
        command()
    assert snapshot(flow) == before, "a refused command wrote something"
    return info.value
