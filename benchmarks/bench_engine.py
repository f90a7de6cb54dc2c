"""Side-by-side benchmark of govflow's transition engine against peers and floors.

    .venv/bin/python benchmarks/bench_engine.py            # full run, several minutes
    .venv/bin/python benchmarks/bench_engine.py --quick    # smaller sizes, under a minute
    .venv/bin/python benchmarks/bench_engine.py --profile memory   # cProfile of flow.fire

Every throughput row runs the same repeating legal path over many issues:
implement -> report -> reject -> implement -> ...  One "round" fires each
trigger once on every issue (3 x issues transitions). A row is warmed up with
one round, then timed in samples of enough rounds to last at least
``min_time`` seconds; the best sample is reported. The clock given to govflow
returns a constant, so reading the time costs nothing. Everything runs in
this one process and thread; the throughput rows take turns, one sample each,
so a busy spell on the machine does not fall on one row only (the benchmark
machine has two cores: run nothing else meanwhile). docs/benchmarks.md
records the figures and what each row measures.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import pstats
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import attrs
import transitions
from statemachine import State, StateMachine

import govflow
from govflow import LedgerDraft

# Private on purpose: the floor must run govflow's own schema and row format, which are not API.
from govflow._stores.sqlite.rows import ISSUE_COLUMNS as _ISSUE_COLUMNS
from govflow._stores.sqlite.rows import issue_row as _issue_row
from govflow._stores.sqlite.schema import MIGRATIONS as _MIGRATIONS
from govflow._stores.sqlite.schema import split_script as _split
from govflow.storage import seal
from govflow.testing import FakeClock

OFFICE = "OFFICE"  # the supervisor unit: rejects
LEAD = "XIANGYUN"  # the lead unit: implements and reports
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=govflow.DEFAULT_ZONE)
TITLE = "大理州社会治理现代化试点问题清单交办事项"  # 20 Chinese characters
DUE = "2026-12-31"

# The lifecycle the peers and floors implement: govflow's issue-list states and
# main-line transitions (the benchmark fires only implement, report and reject).
STATES = ["assigned", "implemented", "feedback", "verified", "cancelled"]
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "implement", "source": "assigned", "dest": "implemented"},
    {"trigger": "report", "source": "implemented", "dest": "feedback"},
    {"trigger": "reject", "source": "feedback", "dest": "assigned"},
    {"trigger": "verify", "source": "feedback", "dest": "verified"},
    {"trigger": "cancel", "source": ["assigned", "implemented", "feedback"], "dest": "cancelled"},
]
# (trigger, from_state, to_state, ledger data) of the path every row repeats.
CYCLE = [
    ("implement", "assigned", "implemented", {"note": "n"}),
    ("report", "implemented", "feedback", {"result": "r"}),
    ("reject", "feedback", "assigned", {"reason": "x"}),
]


@dataclass(frozen=True)
class Sizes:
    """How big and how long each part of the run is."""

    name: str
    issues: int  # issues the throughput rows spread their transitions over
    min_time: float  # seconds a timed sample lasts at least
    repeats: int  # timed samples per row; the best one counts
    scale_memory: tuple[int, ...]  # issues stored for the memory scaling rows
    scale_sqlite: tuple[int, ...]  # issues stored for the SQLite scaling rows
    active: int  # issues fired on (spread over the whole store) in the scaling rows
    footprint: int  # issues assigned for the bytes-per-issue row


FULL = Sizes(
    name="full", issues=1_000, min_time=0.2, repeats=15,
    scale_memory=(1_000, 100_000, 1_000_000), scale_sqlite=(1_000, 100_000, 1_000_000),
    active=1_000, footprint=10_000,
)
QUICK = Sizes(
    name="quick", issues=500, min_time=0.05, repeats=5,
    scale_memory=(1_000, 10_000, 50_000), scale_sqlite=(1_000, 10_000, 50_000),
    active=500, footprint=10_000,
)


# -- timing ------------------------------------------------------------------------------

Key = TypeVar("Key")


def sample(run_round: Callable[[], int], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        run_round()
    return time.perf_counter() - start


def measure(rows: dict[Key, Callable[[], int]], sizes: Sizes) -> dict[Key, float]:
    """Transitions per second of each row (``run_round`` returns how many it did).

    Each row is warmed up with one round and given enough rounds per sample to
    last ``min_time``; then the rows take turns, one sample each, so that a busy
    spell on the machine does not fall on one row only. The best sample counts.
    """
    gc.collect()
    per_round: dict[Key, int] = {}
    rounds: dict[Key, int] = {}
    best: dict[Key, float] = {}
    for name, run_round in rows.items():
        per_round[name] = run_round()  # warm-up
        rounds[name] = 1
        while (elapsed := sample(run_round, rounds[name])) < sizes.min_time:
            rounds[name] *= 2
        best[name] = elapsed
    for _ in range(sizes.repeats - 1):
        for name, run_round in rows.items():
            best[name] = min(best[name], sample(run_round, rounds[name]))
    return {name: per_round[name] * rounds[name] / best[name] for name in rows}


def fixed_clock() -> dt.datetime:
    return NOW


# -- govflow -----------------------------------------------------------------------------


def new_flow(target: str) -> govflow.Govflow:
    flow = govflow.open(target, clock=fixed_clock)
    flow.add_unit(OFFICE, "大理州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit(LEAD, "祥云县", level="county", parent=OFFICE)
    return flow


def memory_flow(issues: int) -> tuple[govflow.Govflow, list[str]]:
    """A memory-store flow with ``issues`` issues made by ``flow.assign``."""
    flow = new_flow(":memory:")
    ids = [flow.assign(TITLE, lead=LEAD, due=DUE, by=OFFICE).id for _ in range(issues)]
    return flow, ids


def sqlite_flow(path: Path, issues: int) -> tuple[govflow.Govflow, list[str]]:
    """An SQLite flow with ``issues`` issues, written directly (see :func:`fill_issues`)."""
    flow = new_flow(str(path))
    db = connect(path)
    head = fill_issues(db, issues)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (f"GF-{NOW.year}-", issues))
    db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", head)
    db.execute("COMMIT")
    db.close()
    return flow, [issue_id(n) for n in range(1, issues + 1)]


def govflow_round(flow: govflow.Govflow, ids: list[str]) -> Callable[[], int]:
    fire = flow.fire

    def run() -> int:
        for issue_id in ids:
            fire(issue_id, "implement", by=LEAD, note="n")
        for issue_id in ids:
            fire(issue_id, "report", by=LEAD, result="r")
        for issue_id in ids:
            fire(issue_id, "reject", by=OFFICE, reason="x")
        return 3 * len(ids)

    return run


# -- the peers and the dict floor ----------------------------------------------------------


class Record:
    """A plain model object for transitions to bind its trigger methods to."""

    state: str


def transitions_round(issues: int) -> Callable[[], int]:
    """transitions 0.9 as documented: one Machine per model, trigger methods on the model."""
    models: list[Any] = []
    for _ in range(issues):
        model = Record()
        transitions.Machine(
            model=model, states=STATES, transitions=TRANSITIONS, initial="assigned",
            auto_transitions=False,
        )
        models.append(model)

    def run() -> int:
        for model in models:
            model.implement()
        for model in models:
            model.report()
        for model in models:
            model.reject()
        return 3 * len(models)

    return run


class IssueChart(StateMachine):
    """The same states and transitions in python-statemachine."""

    assigned = State(initial=True)
    implemented = State()
    feedback = State()
    verified = State(final=True)
    cancelled = State(final=True)

    implement = assigned.to(implemented)
    report = implemented.to(feedback)
    reject = feedback.to(assigned)
    verify = feedback.to(verified)
    cancel = assigned.to(cancelled) | implemented.to(cancelled) | feedback.to(cancelled)


def statemachine_round(issues: int) -> Callable[[], int]:
    charts = [IssueChart() for _ in range(issues)]

    def run() -> int:
        for chart in charts:
            chart.implement()
        for chart in charts:
            chart.report()
        for chart in charts:
            chart.reject()
        return 3 * len(charts)

    return run


def dict_round(issues: int) -> Callable[[], int]:
    """The floor of any engine: look the next state up in a table and set it on a dict."""
    table: dict[tuple[str, str], str] = {}
    for t in TRANSITIONS:
        sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
        for source in sources:
            table[source, t["trigger"]] = t["dest"]
    records = [{"state": "assigned"} for _ in range(issues)]

    def run() -> int:
        for record in records:
            record["state"] = table[record["state"], "implement"]
        for record in records:
            record["state"] = table[record["state"], "report"]
        for record in records:
            record["state"] = table[record["state"], "reject"]
        return 3 * len(records)

    return run


# -- SQLite: filling a file, and the raw sqlite3 floor -------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up as govflow's SQLiteStore sets up its own."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def schema(indexes: bool) -> list[str]:
    """govflow's own schema statements (every migration, so it always matches the store).

    Without ``indexes``: the same tables without secondary indexes and without the
    ledger's UNIQUE (issue_id, issue_seq); the primary keys stay.
    """
    statements = [statement for script in _MIGRATIONS for statement in _split(script)]
    if indexes:
        return statements
    plain = []
    for statement in statements:
        if statement.startswith(("CREATE INDEX", "DROP INDEX")):
            continue
        if statement.startswith("CREATE TABLE ledger"):
            statement, found = re.subn(r",\s*UNIQUE \(issue_id, issue_seq\)", "", statement)
            assert found == 1, "govflow's ledger table changed: update schema()"
        plain.append(statement)
    return plain


LEDGER_COLUMNS = (
    "seq, issue_id, issue_seq, trigger, from_state, to_state, actor, person, at, data, prev_hash, hash"
)
INSERT_LEDGER = f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES ({', '.join('?' * 12)})"


def marks(row: tuple[Any, ...]) -> str:
    return ", ".join("?" * len(row))


def issue_id(number: int) -> str:
    return f"GF-{NOW.year}-{number:04d}"


def template() -> tuple[govflow.Issue, govflow.LedgerEntry]:
    """A real assigned issue and its ledger entry, made by govflow itself."""
    flow, (first,) = memory_flow(1)
    return flow.get(first), flow.ledger(first)[0]


def fill_issues(db: sqlite3.Connection, issues: int) -> tuple[int, str]:
    """Write issues 1..``issues`` and their assign entries as govflow would; return the chain head.

    The rows are govflow's own rows of a template issue (only the id differs)
    and each ledger entry is sealed into the chain, so ``verify_ledger`` passes.
    """
    issue, entry = template()
    draft_fields = {name: getattr(entry, name) for name in attrs.fields_dict(LedgerDraft)}
    seq, head = db.execute("SELECT seq, hash FROM chain_head").fetchone()  # after the units' registrations
    batch = 20_000
    for start in range(1, issues + 1, batch):
        issue_rows, ledger_rows = [], []
        for number in range(start, min(start + batch, issues + 1)):
            this_id = issue_id(number)
            issue_rows.append(_issue_row(attrs.evolve(issue, id=this_id)))
            seq += 1
            sealed = seal(LedgerDraft(**{**draft_fields, "issue_id": this_id}), seq, head)
            head = sealed.hash
            ledger_rows.append((
                sealed.seq, sealed.issue_id, sealed.issue_seq, sealed.trigger, sealed.from_state,
                sealed.to_state, sealed.actor, sealed.person, sealed.at.isoformat(),
                json.dumps(sealed.data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                sealed.prev_hash, sealed.hash,
            ))
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES ({marks(issue_rows[0])})", issue_rows)
        db.executemany(INSERT_LEDGER, ledger_rows)
        db.execute("COMMIT")
    return seq, head


def sqlite_floor_round(path: Path, issues: int, variant: str) -> Callable[[], int]:
    """Raw sqlite3 doing what one transition must write, with no Python engine around it.

    ``indexes``: BEGIN IMMEDIATE; UPDATE the issue row; INSERT a ledger row; COMMIT, on
    govflow's schema. ``bare``: the same on tables without secondary indexes or UNIQUE.
    ``govflow``: the statements govflow's SQLiteStore runs for one transition today (BEGIN
    IMMEDIATE; UPDATE the columns the step changed, naming the cached row's version and time
    (no read first); move the chain head by compare-and-set; INSERT the ledger row; COMMIT),
    with constant hashes. Keep this variant in step with ``SQLiteStore.commit_step``.
    """
    db = connect(path)
    for statement in schema(indexes=variant != "bare"):
        db.execute(statement)
    seq = fill_issues(db, issues)[0]
    ids = [issue_id(n) for n in range(1, issues + 1)]
    versions = [1] * issues
    reworks = [0] * issues
    at = NOW.isoformat()
    fake_hash = "f" * 64
    update = (
        "UPDATE issues SET state = ?, version = ?, rework_count = ?, updated_at = ?"
        " WHERE id = ? AND version = ?"
    )
    # The store updates only the columns a step changed: here state, version and, on reject, rework_count.
    update_changed = (
        "UPDATE issues SET state = ?, version = ? WHERE id = ? AND version = ? AND updated_at = ?",
        "UPDATE issues SET state = ?, version = ?, rework_count = ? WHERE id = ? AND version = ? AND updated_at = ?",
    )
    move_head = "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?"
    db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, fake_hash))
    steps = [
        (trigger, source, dest, json.dumps(data), int(trigger == "reject"))
        for trigger, source, dest, data in CYCLE
    ]

    def run() -> int:
        nonlocal seq
        execute = db.execute
        for trigger, source, dest, data, rework in steps:
            for k, this_id in enumerate(ids):
                version, rework_count = versions[k], reworks[k] + rework
                seq += 1
                if variant == "govflow":
                    execute("BEGIN IMMEDIATE")
                    if rework:
                        execute(update_changed[1], (dest, version + 1, rework_count, this_id, version, at))
                    else:
                        execute(update_changed[0], (dest, version + 1, this_id, version, at))
                    execute(move_head, (seq, fake_hash, seq - 1, fake_hash))
                else:
                    execute("BEGIN IMMEDIATE")
                    execute(update, (dest, version + 1, rework_count, at, this_id, version))
                execute(INSERT_LEDGER, (seq, this_id, version + 1, trigger, source, dest, LEAD, None, at,
                                        data, fake_hash, fake_hash))
                execute("COMMIT")
                versions[k], reworks[k] = version + 1, rework_count
        return 3 * len(ids)

    return run


# -- scaling and footprint -----------------------------------------------------------------


def spread(ids: list[str], active: int) -> list[str]:
    """``active`` ids drawn evenly at random from the whole store (fixed seed)."""
    if active >= len(ids):
        return ids
    return sorted(random.Random(20261126).sample(ids, active))


def bytes_per_issue(issues: int) -> float:
    """Traced memory one assigned issue adds to a memory store (issue, ledger entry, indexes).

    Each issue gets its own 20-character Chinese title and its own timestamp,
    as it would in use; the title is made inside the measured span because
    the store keeps it.
    """
    clock = FakeClock(NOW, tick=dt.timedelta(seconds=1))
    flow = govflow.open(":memory:", clock=clock)
    flow.add_unit(OFFICE, "大理州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit(LEAD, "祥云县", level="county", parent=OFFICE)
    flow.assign(TITLE, lead=LEAD, due=DUE, by=OFFICE)  # first-use allocations
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(issues):
            title = TITLE[:-1] + chr(0x4E00 + number % 20_000)  # still 20 Chinese characters
            flow.assign(title, lead=LEAD, due=DUE, by=OFFICE)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / issues


# -- the report ----------------------------------------------------------------------------


@dataclass
class Table:
    rows: list[tuple[str, str, str, str]]

    def figure(self, what: str, value: str) -> None:
        self.rows.append((what, value, "", ""))
        print(f"  {what}: {value}", flush=True)

    def check(self, what: str, value: float, unit: str, target: float, higher_is_better: bool) -> None:
        passed = value >= target if higher_is_better else value <= target
        sign = ">=" if higher_is_better else "<="
        shown = f"{value:,.2f}{unit}" if unit == "x" else f"{value:,.0f}{unit}"
        goal = f"{sign} {target:,.2f}{unit}" if unit == "x" else f"{sign} {target:,.0f}{unit}"
        self.rows.append((what, shown, goal, "PASS" if passed else "MISS"))
        print(f"  {what}: {shown} (target {goal}) {'PASS' if passed else 'MISS'}", flush=True)

    def render(self) -> str:
        lines = ["| measure | figure | target | result |", "|---|---:|---:|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(lines)


def rate(value: float) -> str:
    return f"{value:,.0f} /s"


def count(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1_000}k"


def run(sizes: Sizes, workdir: Path) -> Table:
    table = Table([])
    n = sizes.issues
    print(f"throughput: {n:,} issues, cycle implement -> report -> reject; rows take turns", flush=True)
    in_memory, memory_ids = memory_flow(n)
    on_disk, disk_ids = sqlite_flow(workdir / "govflow.sqlite3", n)
    statemachine_version = sys.modules["statemachine"].__version__
    try:
        from djangopeer import django_round, django_version

        django_peer: str | None = django_version()
    except ImportError:
        django_peer = None
        print("  (no Django peer: install it with `pip install -e '.[bench]'`)", flush=True)
    labels = {
        "memory": f"govflow `flow.fire`, memory store, {n:,} issues",
        "sqlite": f"govflow `flow.fire`, SQLite store, {n:,} issues",
        "transitions": f"transitions {transitions.__version__}, bound model per issue, {n:,} issues",
        "statemachine": f"python-statemachine {statemachine_version}, one machine per issue, {n:,} issues",
        "dict": f"floor: dict lookup, {n:,} issues",
        "floor": f"floor: raw sqlite3 UPDATE + INSERT, govflow schema, {n:,} issues",
        "bare": f"floor: raw sqlite3 UPDATE + INSERT, no secondary indexes, {n:,} issues",
        "statements": f"raw sqlite3 running govflow's statements per transition, {n:,} issues",
    }
    rows = {
        "memory": govflow_round(in_memory, memory_ids),
        "sqlite": govflow_round(on_disk, disk_ids),
        "transitions": transitions_round(n),
        "statemachine": statemachine_round(n),
        "dict": dict_round(n),
        "floor": sqlite_floor_round(workdir / "floor.sqlite3", n, "indexes"),
        "bare": sqlite_floor_round(workdir / "bare.sqlite3", n, "bare"),
        "statements": sqlite_floor_round(workdir / "statements.sqlite3", n, "govflow"),
    }
    if django_peer is not None:
        labels["django"] = f"peer: {django_peer}, SQLite (WAL, synchronous=NORMAL), {n:,} issues"
        rows["django"], django_logged = django_round(workdir / "django.sqlite3", n, TITLE, LEAD, DUE)
    rates = measure(rows, sizes)
    on_disk.verify_ledger()  # the directly written rows and the run's own make one valid chain
    on_disk.close()
    del in_memory, memory_ids
    for key, label in labels.items():
        table.figure(label, rate(rates[key]))
    if django_peer is not None:
        assert django_logged() > 0, "django-fsm-log wrote no StateLog rows"
    table.check("ratio: memory store / raw transitions", rates["memory"] / rates["transitions"], "x", 0.33,
                True)
    table.check("ratio: memory store / python-statemachine", rates["memory"] / rates["statemachine"], "x",
                3.5, True)
    table.check("ratio: SQLite store / raw sqlite3 floor (govflow schema)", rates["sqlite"] / rates["floor"],
                "x", 0.5, True)
    if django_peer is not None:
        table.check("ratio: SQLite store / Django + django-fsm-2 + django-fsm-log", rates["sqlite"] / rates["django"],
                    "x", 5.0, True)
    table.figure("ratio: SQLite store / raw sqlite3 floor (no secondary indexes)",
                 f"{rates['sqlite'] / rates['bare']:.2f}x")
    table.figure("ratio: SQLite store / raw sqlite3 running govflow's statements",
                 f"{rates['sqlite'] / rates['statements']:.2f}x")

    print(f"scaling: fire on {sizes.active:,} issues spread over the whole store; the sizes take turns",
          flush=True)
    flows = {}
    for stored in sizes.scale_memory:
        start = time.perf_counter()
        flows[stored] = memory_flow(stored)
        print(f"    (assigned {stored:,} issues with flow.assign in {time.perf_counter() - start:.1f} s)",
              flush=True)
    scaled = measure({stored: govflow_round(flow, spread(ids, sizes.active))
                      for stored, (flow, ids) in flows.items()}, sizes)
    del flows
    for stored, value in scaled.items():
        table.figure(f"govflow `flow.fire`, memory store, {count(stored)} issues stored", rate(value))
    small, large = sizes.scale_memory[0], sizes.scale_memory[-1]
    table.check(f"ratio: memory store {count(large)} / {count(small)} issues stored",
                scaled[large] / scaled[small], "x", 0.9, True)

    flows = {}
    for stored in sizes.scale_sqlite:
        start = time.perf_counter()
        flows[stored] = sqlite_flow(workdir / f"scale-{stored}.sqlite3", stored)
        print(f"    (wrote {stored:,} issues and ledger entries in {time.perf_counter() - start:.1f} s)",
              flush=True)
    scaled = measure({stored: govflow_round(flow, spread(ids, sizes.active))
                      for stored, (flow, ids) in flows.items()}, sizes)
    flows[sizes.scale_sqlite[0]][0].verify_ledger()
    for flow, _ in flows.values():
        flow.close()
    del flows
    for stored, value in scaled.items():
        table.figure(f"govflow `flow.fire`, SQLite store, {count(stored)} issues stored", rate(value))
    small, large = sizes.scale_sqlite[0], sizes.scale_sqlite[-1]
    table.figure(f"ratio: SQLite store {count(large)} / {count(small)} issues stored",
                 f"{scaled[large] / scaled[small]:.2f}x")

    print(f"footprint: {sizes.footprint:,} issues with 20-character Chinese titles", flush=True)
    per_issue = bytes_per_issue(sizes.footprint)
    table.check("bytes per stored issue, memory store (with its ledger entry)", per_issue, " B", 1024, False)
    return table


def profile(store: str, sizes: Sizes, workdir: Path) -> None:
    """cProfile of flow.fire on one store: the costliest functions by own and by cumulative time."""
    if store == "memory":
        flow, ids = memory_flow(sizes.issues)
    else:
        flow, ids = sqlite_flow(workdir / "profile.sqlite3", sizes.issues)
    run_round = govflow_round(flow, ids)
    run_round()
    profiler = cProfile.Profile()
    profiler.enable()
    fired = run_round() + run_round()
    profiler.disable()
    flow.close()
    print(f"cProfile of {fired:,} flow.fire calls on the {store} store")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)


def block_installed_plugins() -> list[str]:
    """Block the plugins installed through the ``govflow`` entry-point group.

    The benchmark measures govflow itself with its built-in plugins; an installed
    notifier would add outbox rows and delivery to every transition.
    """
    names = sorted({ep.name for ep in importlib.metadata.entry_points(group="govflow")})
    if names:
        already = os.environ.get("GOVFLOW_DISABLE_PLUGINS", "")
        os.environ["GOVFLOW_DISABLE_PLUGINS"] = ",".join([already, *names]).strip(",")
    return names


def revision() -> str:
    """The git commit of the tree being measured, and whether src/ has uncommitted changes."""
    here = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=here, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes in src/" if dirty else "")


def describe(sizes: Sizes, blocked: list[str]) -> Iterator[str]:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    yield f"govflow {govflow.__version__} bench_engine ({sizes.name} mode), revision {revision()}"
    yield f"plugins: built-ins only (installed entry-point plugins blocked: {', '.join(blocked) or 'none'})"
    yield f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    yield f"python: {platform.python_version()} ({platform.python_implementation()}), sqlite {sqlite3.sqlite_version}"
    yield f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}"
    yield (
        f"sizes: {sizes.issues:,} issues per throughput row; scaling memory {sizes.scale_memory}, "
        f"SQLite {sizes.scale_sqlite}, firing on {sizes.active:,}; best of {sizes.repeats} samples "
        f">= {sizes.min_time} s"
    )
    if sizes is QUICK:
        yield "NOTE: --quick shrinks every size; the scaling rows stop at 50k issues, not 1M."
    if hasattr(os, "getloadavg") and os.getloadavg()[0] >= 0.5:
        yield "WARNING: the machine is busy (see the load average): figures will be lower and noisier."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: the whole run takes < 60 s")
    parser.add_argument("--profile", choices=("memory", "sqlite"),
                        help="only profile flow.fire on this store with cProfile")
    parser.add_argument("--dir", type=Path, help="where SQLite files go (default: a temporary directory)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    blocked = block_installed_plugins()
    with tempfile.TemporaryDirectory(prefix="govflow-bench-", dir=args.dir) as tmp:
        if args.profile:
            profile(args.profile, sizes, Path(tmp))
            return
        for line in describe(sizes, blocked):
            print(line)
        started = time.perf_counter()
        table = run(sizes, Path(tmp))
    print()
    print(table.render())
    print(f"\ntotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
