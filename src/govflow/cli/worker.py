"""``govflow sweep`` and ``govflow worker``: deadline steps and the long-running delivery worker."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

import govflow

from ._app import Session, command, root
from ._output import jsonable

__all__ = ["COMMANDS", "sweep", "worker"]


def _sweep_rows(session: Session, events: list[govflow.DeadlineEvent]) -> None:
    out = session.out
    out.emit(events)
    labels = govflow.STEP_LABELS
    out.table(
        [out.pick("事项", "issue"), out.pick("步骤", "step"), out.pick("单位", "unit"), out.pick("期限", "due")],
        [[e.issue_id, labels[e.step][out.lang] if e.step in labels else e.step, e.unit,
          e.due.isoformat()] for e in events],
    )
    out.line(out.pick(f"督办步骤 {len(events)} 个", f"{len(events)} deadline steps"))


@command(root, "sweep")
def sweep(session: Session) -> None:
    """Take the deadline steps that have fallen due (临期提醒, 逾期, 催办, 督办, 约谈), each once."""
    _sweep_rows(session, session.flow().sweep())


class _Stop:
    """Set by SIGTERM or SIGINT: the worker finishes the batch it is in, then exits 0."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: str | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signal.Signals(signum).name
        self.event.set()


@command(root, "worker")
@click.option("--interval", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Seconds between delivery runs of the outbox.")
@click.option("--sweep-every", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds between deadline sweeps (0: never sweep).")
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Outbox rows delivered per run at most.")
def worker(session: Session, interval: float, sweep_every: float, batch: int) -> None:
    """Deliver the outbox and sweep deadlines on a schedule until SIGTERM or SIGINT (for systemd).

    On a signal it finishes the batch it is in and exits 0. What each run did goes to stderr
    (with --json: one JSON object per line on stdout).
    """
    flow, _out = session.flow(), session.out
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log = _logger(session)
    log("started", {"db": session.db, "interval": interval, "sweep_every": sweep_every,
                    "plugins": [p.name for p in flow.plugins()]})
    next_sweep = time.monotonic()
    try:
        while not stop.event.is_set():
            report = flow.deliver(batch)
            if report.delivered or report.retrying or report.dead or report.skipped:
                log("delivered", report)
            if sweep_every and time.monotonic() >= next_sweep:
                events = flow.sweep()
                next_sweep = time.monotonic() + sweep_every
                if events:
                    log("swept", {"steps": len(events), "issues": sorted({e.issue_id for e in events})})
            if report.delivered >= batch:
                continue  # more rows are waiting: no pause
            stop.event.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log("stopped", {"signal": stop.signal})


def _logger(session: Session) -> Callable[[str, Any], None]:
    out = session.out

    def log(what: str, detail: Any) -> None:
        stamp = dt.datetime.now(govflow.DEFAULT_ZONE).isoformat(timespec="seconds")
        if out.json:
            click.echo(json.dumps({"at": stamp, "event": what, "detail": jsonable(detail)}, ensure_ascii=False))
        else:
            out.note(f"{stamp} worker {what}: {detail}")

    return log


COMMANDS = [sweep, worker]
