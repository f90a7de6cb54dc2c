"""``SQLiteStore.ledger()``: the ledger read in pages, the store's lock held only while one page is fetched.

A caller may walk a million entries, or stop halfway and keep the iterator: in
between pages it holds neither the lock nor an open statement, so the store's other
threads (and writers in other processes) carry on. Pages follow a key (``seq``, or
``issue_seq`` for one issue) rather than an offset, so each starts with an index seek.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any, Final

from ..._core.model import LedgerEntry
from .rows import LEDGER_COLUMNS, entry_from_row

__all__ = ["PAGE", "read_ledger"]

#: Entries fetched per page (one statement, under the store's lock). Tests lower it to cross pages.
PAGE = 5000
# `at` is ISO text with its own offset: text order is wall-clock order, which differs from instant
# order by at most a day across offsets. SQL compares text this far outside a bound so that the
# ledger_at_issue index can narrow the scan; the exact comparison on datetimes follows in Python.
_MARGIN: Final = dt.timedelta(days=2)


def read_ledger(
    db: sqlite3.Connection,
    lock: threading.RLock,
    issue_id: str | None = None,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    trigger: str | None = None,
) -> Iterator[LedgerEntry]:
    """Ledger entries in sequence order (one issue's in ``issue_seq`` order), filtered as
    :meth:`govflow.Store.ledger` says, read from ``db`` a page at a time under ``lock``.

    Each page is read when it is needed, so an entry committed while the iterator is suspended
    is read too if pages are still to come (not under ``since``/``until``: those read the ``seq``
    range their span had when the first page was fetched).
    """
    where: list[str] = []
    args: list[Any] = []
    span: list[str] = []
    span_args: list[str] = []
    if since is not None:
        span.append("at >= ?")
        span_args.append((since - _MARGIN).isoformat())
    if until is not None:
        span.append("at < ?")
        span_args.append((until + _MARGIN).isoformat())
    if issue_id is not None:
        where.append("issue_id = ?")
        args.append(issue_id)
        # One issue's steps come in their own order, each page a seek in the (issue_id, issue_seq) index.
        key, column, last = "issue_seq", 2, 0
    else:
        key, column, last = "seq", 0, 0
        if span:
            # A page keyed on seq scans rows in seq order, not the time index: find the span's first and
            # last seq in that index once, so that the pages read only the rows in between.
            with lock:
                low, high = db.execute(
                    f"SELECT MIN(seq), MAX(seq) FROM ledger WHERE {' AND '.join(span)}", span_args
                ).fetchone()
            if low is None:
                return
            last = int(low) - 1
            where.append("seq <= ?")
            args.append(int(high))
    if trigger is not None:
        where.append("trigger = ?")
        args.append(trigger)
    where.extend(span)
    args.extend(span_args)
    where.append(f"{key} > ?")
    sql = f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE {' AND '.join(where)} ORDER BY {key} LIMIT ?"
    page = PAGE
    while True:
        # fetchall() finishes the statement: between pages nothing is held on the connection.
        with lock:
            rows = db.execute(sql, (*args, last, page)).fetchall()
        for row in rows:
            entry = entry_from_row(row)
            if since is not None and entry.at < since:
                continue
            if until is not None and entry.at >= until:
                continue
            yield entry
        if len(rows) < page:
            return
        # The key of the last row fetched, not of the last one yielded: Python may have filtered it out.
        last = int(rows[-1][column])
