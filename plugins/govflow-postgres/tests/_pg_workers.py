"""What the worker processes of the multi-process and crash tests run (importable by ``spawn`` children)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import random
import time
from typing import Any

import psycopg
from govflow_postgres import PostgresStore
from psycopg import sql

import govflow
from govflow import ConcurrentUpdateError, InvalidTransition, TransitionEvent, ValidationError, hookimpl

SUPERVISOR = "OFFICE"
COUNTIES = ("XIANGYUN", "BINCHUAN", "MIDU", "WEISHAN")
ISSUES = 1000
#: A small set of issues every worker picks often, so that writers really collide.
HOT = 12

Step = tuple[str, int, str]  # (issue id, version written, trigger)


class Recorder:
    """A notification plugin that records each delivery in the table ``deliveries`` (duplicates kept)."""

    name = "recorder"

    def __init__(self, dsn: str, schema: str, worker: str) -> None:
        self.worker = worker
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    @hookimpl
    def govflow_after_transition(self, event: TransitionEvent) -> None:
        self.conn.execute(
            "INSERT INTO deliveries (key, seq, worker) VALUES (%s, %s, %s)",
            (event.idempotency_key, event.seq, self.worker),
        )


def create_deliveries_table(dsn: str, schema: str) -> None:
    """The table the recorders write to."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {}.deliveries (key text NOT NULL, seq bigint NOT NULL, worker text NOT NULL)").format(
                sql.Identifier(schema)
            )
        )


def open_flow(dsn: str, schema: str, worker: str, *, pool_size: int = 2) -> govflow.Govflow:
    """A worker's flow: its own store (and pool), a recorder, delivery only when asked."""
    store = PostgresStore(dsn, schema=schema, pool_size=pool_size)
    return govflow.open(store, plugins=[Recorder(dsn, schema, worker)], delivery="manual", calendar="weekdays")


def issue_id(n: int) -> str:
    """The id of the n-th issue (1-based) the setup assigns."""
    return f"GF-{dt.date.today().year}-{n:04d}"


def set_up(dsn: str, schema: str, issues: int = ISSUES) -> govflow.Govflow:
    """Units, the deliveries table and ``issues`` assigned issues, due in two months."""
    PostgresStore(dsn, schema=schema).close()  # creates the schema
    create_deliveries_table(dsn, schema)
    flow = open_flow(dsn, schema, "setup", pool_size=1)
    flow.add_unit(SUPERVISOR, "州领导小组办公室", level="prefecture", supervisor=True)
    for county in COUNTIES:
        flow.add_unit(county, county, level="county", parent=SUPERVISOR)
    due = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    for n in range(issues):
        flow.assign(f"问题 {n + 1}", lead=COUNTIES[n % len(COUNTIES)], due=due, by=SUPERVISOR,
                    cooperating=[COUNTIES[(n + 1) % len(COUNTIES)]] if n % 3 == 0 else ())
    return flow


# Weights of the triggers a worker picks from (cancel and reassign rarely: they end or move issues).
WEIGHTS = {
    "accept": 3, "implement": 5, "report": 5, "verify": 3, "reject": 3, "cancel": 1, "reassign": 1,
    "request_extension": 2, "approve_extension": 2, "deny_extension": 2,
}


def data_for(trigger: str, issue: govflow.Issue, rng: random.Random) -> dict[str, Any]:
    """Valid data for ``trigger`` on ``issue``."""
    later = (issue.due + dt.timedelta(days=rng.randint(1, 30))).isoformat()
    return {
        "implement": {"note": "整改"},
        "report": {"result": "已完成"},
        "verify": {"rating": rng.randint(1, 5)},
        "reject": {"reason": "仍有问题"},
        "cancel": {"reason": "重复"},
        "reassign": {"new_lead": rng.choice([c for c in COUNTIES if c != issue.lead]), "reason": "改派"},
        "request_extension": {"due": later, "reason": "汛期"},
        "deny_extension": {"reason": "不予延期"},
    }.get(trigger, {})


def one_step(flow: govflow.Govflow, target: str, rng: random.Random, *, final: bool = True) -> Step | None:
    """Read the issue, pick a trigger some actor may fire now, and fire it naming the version read.

    Without ``final`` the issue is never verified or cancelled (it keeps going round).
    """
    issue = flow.get(target)
    actors = [issue.lead, SUPERVISOR]
    rng.shuffle(actors)
    for actor in actors:
        allowed = [t for t in flow.allowed_triggers(target, actor)
                   if t in WEIGHTS and (final or t not in ("verify", "cancel"))]
        if allowed:
            break
    else:
        return None
    trigger = rng.choices(allowed, weights=[WEIGHTS[t] for t in allowed])[0]
    new = flow.fire(target, trigger, by=actor, expected_version=issue.version, **data_for(trigger, issue, rng))
    return new.id, new.version, trigger


def drive(dsn: str, schema: str, worker: int, steps: int, seed: int) -> dict[str, Any]:
    """Fire ``steps`` random valid triggers (with retries on conflict) and deliver now and then."""
    rng = random.Random(seed)
    flow = open_flow(dsn, schema, f"w{worker}")
    done: list[Step] = []
    conflicts = lost = idle = refused = delivered = 0

    def attempt(target: str, final: bool) -> Step | None:
        nonlocal conflicts
        try:
            return one_step(flow, target, rng, final=final)
        except ConcurrentUpdateError:
            conflicts += 1
            raise

    try:
        for k in range(steps):
            hot = rng.random() < 0.3
            target = issue_id(rng.randint(1, HOT) if hot else rng.randint(HOT + 1, ISSUES))
            try:
                step = govflow.retry_on_conflict(functools.partial(attempt, target, not hot), attempts=3)
            except ConcurrentUpdateError:
                lost += 1
                continue
            except (InvalidTransition, ValidationError):  # e.g. no more extensions: refused, nothing written
                refused += 1
                continue
            if step is None:
                idle += 1
            else:
                done.append(step)
            if k % 10 == 9:
                delivered += flow.deliver(limit=200).delivered
        while True:  # the rest of the outbox, whoever wrote it
            report = flow.deliver(limit=500)
            delivered += report.delivered
            if not report.delivered and not flow.outbox.pending():
                break
            time.sleep(0.05)
    finally:
        flow.close()
    return {"done": done, "conflicts": conflicts, "lost": lost, "idle": idle, "refused": refused,
            "delivered": delivered}


def hang_in_commit(dsn: str, schema: str, target: str, ready: Any) -> None:
    """Fire a step on ``target`` and stop inside its transaction (rows written, head locked, no COMMIT)."""
    flow = open_flow(dsn, schema, "hanging")
    store = flow.store
    assert isinstance(store, PostgresStore)

    def pause() -> None:
        ready.set()
        time.sleep(600)

    store._pause_before_commit = pause
    flow.fire(target, "implement", by=flow.get(target).lead, note="never committed")


def step_once(dsn: str, schema: str, target: str) -> None:
    """Fire one step on ``target`` through the single-statement path (no pause hook)."""
    flow = open_flow(dsn, schema, "single")
    flow.fire(target, "implement", by=flow.get(target).lead, note="one statement")


def churn(dsn: str, schema: str, seed: int, issues: int, started: Any) -> None:
    """Fire random steps (never closing an issue) until killed."""
    rng = random.Random(seed)
    flow = open_flow(dsn, schema, f"churn{seed}")
    started.set()
    while True:
        with contextlib.suppress(ConcurrentUpdateError, InvalidTransition, ValidationError):
            one_step(flow, issue_id(rng.randint(1, issues)), rng, final=False)
