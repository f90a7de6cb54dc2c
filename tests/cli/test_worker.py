"""``govflow worker``: delivers the outbox until SIGTERM/SIGINT, finishes its batch, exits 0 (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from govflow import hookimpl

from ..conftest import add_units
from .conftest import CliDb, command_line, subprocess_env

PLUGIN = textwrap.dedent("""
    import os, time
    from govflow import hookimpl

    class FileRecorder:
        name = "file-recorder"

        @hookimpl
        def govflow_after_transition(self, event):
            with open(os.environ["RECORDER_FILE"], "a", encoding="utf-8") as out:
                out.write(f"start {event.issue_id} {event.trigger}\\n")
            time.sleep(float(os.environ.get("RECORDER_DELAY", "0")))
            with open(os.environ["RECORDER_FILE"], "a", encoding="utf-8") as out:
                out.write(f"done {event.issue_id} {event.trigger}\\n")
""")


class Subscriber:
    """Same name as the worker's plugin: the steps taken here write outbox rows for it."""

    name = "file-recorder"

    @hookimpl
    def govflow_after_transition(self, event: object) -> None:
        """Not called here: delivery is manual, the worker delivers."""


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def start_worker(cli_db: CliDb, tmp_path: Path, delay: float, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "recorder_plugin.py").write_text(PLUGIN, encoding="utf-8")
    record = tmp_path / "delivered.txt"
    env = subprocess_env(PYTHONPATH=str(tmp_path), RECORDER_FILE=str(record), RECORDER_DELAY=str(delay))
    worker = subprocess.Popen(
        command_line("--db", cli_db.url, "--plugin", "recorder_plugin:FileRecorder", "worker", "--interval", "0.1",
                     "--json", *extra),
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )
    return worker, record


def seed(cli_db: CliDb, issues: int) -> list[str]:
    with cli_db.open(plugins=[Subscriber()], delivery="manual") as flow:
        add_units(flow)
        ids = [flow.assign(f"问题 {n}", lead="XIANGYUN", due=flow.now().date(), by="OFFICE").id for n in range(issues)]
        assert len(flow.outbox.pending()) == issues
    return ids


def finish(worker: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return worker.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure being tested for
        worker.kill()
        raise


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_worker_delivers_then_stops_cleanly_on_a_signal(cli_db: CliDb, tmp_path: Path, sig: signal.Signals) -> None:
    ids = seed(cli_db, 3)
    worker, record = start_worker(cli_db, tmp_path, 0.0, "--sweep-every", "0")
    try:
        wait_for(lambda: len([x for x in lines(record) if x.startswith("done")]) == 3)
        with cli_db.open(plugins=[Subscriber()], delivery="manual") as flow:  # a step taken while it runs
            flow.implement(ids[0], by="XIANGYUN", note="落实")
        wait_for(lambda: f"done {ids[0]} implement" in lines(record))
    finally:
        worker.send_signal(sig)
    out, err = finish(worker)
    assert worker.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["event"] == "started" and "file-recorder" in events[0]["detail"]["plugins"]
    assert events[-1] == {"at": events[-1]["at"], "event": "stopped", "detail": {"signal": sig.name}}
    assert sum(e["detail"]["delivered"] for e in events if e["event"] == "delivered") == 4
    with cli_db.open(plugins=[Subscriber()], delivery="manual") as flow:
        assert flow.outbox.pending() == [] and len(flow.outbox.delivered()) == 4


def test_a_signal_mid_batch_lets_the_batch_finish(cli_db: CliDb, tmp_path: Path) -> None:
    seed(cli_db, 4)
    worker, record = start_worker(cli_db, tmp_path, 0.4, "--sweep-every", "0")
    wait_for(lambda: any(x.startswith("start") for x in lines(record)))
    worker.send_signal(signal.SIGTERM)  # while the first of four deliveries sleeps
    out, err = finish(worker)
    assert worker.returncode == 0, err
    got = lines(record)
    assert len([x for x in got if x.startswith("done")]) == 4, got  # the whole batch, none cut short
    assert len([x for x in got if x.startswith("start")]) == 4
    assert json.loads(out.splitlines()[-1])["detail"] == {"signal": "SIGTERM"}
    with cli_db.open(plugins=[Subscriber()], delivery="manual") as flow:
        assert flow.outbox.pending() == [] and len(flow.outbox.delivered()) == 4


def test_the_worker_sweeps_on_its_schedule(cli_db: CliDb, tmp_path: Path) -> None:
    from govflow.testing import FakeClock

    with cli_db.open(clock=FakeClock("2026-03-02T09:00:00+08:00")) as flow:
        add_units(flow)
        late = flow.assign("逾期", lead="BINCHUAN", due="2026-03-10", by="OFFICE").id
    worker, _ = start_worker(cli_db, tmp_path, 0.0, "--sweep-every", "3600")
    try:
        def swept() -> bool:
            with cli_db.open() as flow:
                return any(e.trigger == "deadline" for e in flow.ledger(late))

        wait_for(swept)
    finally:
        worker.send_signal(signal.SIGTERM)
    out, err = finish(worker)
    assert worker.returncode == 0, err
    swept_events = [json.loads(line) for line in out.splitlines() if '"swept"' in line]
    assert len(swept_events) == 1 and swept_events[0]["detail"]["issues"] == [late]  # once in the hour


def test_the_worker_module_runs_as_python_dash_m(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "govflow.cli", "worker", "--help"], capture_output=True, text=True,
                         env=subprocess_env(), timeout=60)
    assert run.returncode == 0 and "SIGTERM" in run.stdout
