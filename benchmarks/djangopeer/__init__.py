"""The persisted peer of govflow's SQLite store: Django with django-fsm-2 and django-fsm-log.

This is what a Django shop would most likely build a problem list with instead of
govflow: a model with an ``FSMField``, ``@transition`` methods for the same states,
django-fsm-log writing a ``StateLog`` row for every transition, and each step as a
view would run it: load the row in a transaction, fire, save. The database is an
SQLite file with govflow's settings (WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``).

Installed only for benchmarks (``pip install -e '.[bench]'``); ``bench_engine.py``
skips the row, saying so, when Django is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["django_round", "django_version"]

_configured: Path | None = None


def _setup(path: Path) -> None:
    """Configure Django once per process on the SQLite file ``path`` and create its tables."""
    global _configured
    if _configured is not None:
        if _configured != path:
            raise RuntimeError("Django is configured once per process: one database file per run")
        return
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        DEBUG=False,  # DEBUG would keep every query in memory
        USE_TZ=True,
        TIME_ZONE="Asia/Shanghai",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_fsm_log",
            "djangopeer",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(path),
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                    "transaction_mode": "IMMEDIATE",
                },
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    _configured = path


def django_version() -> str:
    """The versions of Django, django-fsm-2 and django-fsm-log, or raise ImportError."""
    import importlib.metadata

    import django  # noqa: F401 - ImportError when not installed
    import django_fsm  # noqa: F401
    import django_fsm_log  # noqa: F401

    return ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("django", "django-fsm-2", "django-fsm-log")
    )


def django_round(
    path: Path, issues: int, title: str, lead: str, due: str
) -> tuple[Callable[[], int], Callable[[], Any]]:
    """A round of implement → report → reject on ``issues`` Django rows; and a check of the log.

    Each step: ``transaction.atomic()``, ``select_for_update().get(pk=…)`` (a no-op on SQLite,
    kept as a view would write it), the ``@transition`` method, ``save()``; django-fsm-log's
    signal handler inserts the ``StateLog`` row in the same transaction.
    """
    _setup(path)
    import datetime as dt

    from django.db import transaction

    from .models import Issue

    due_date = dt.date.fromisoformat(due)
    Issue.objects.bulk_create([Issue(title=title, lead=lead, due=due_date) for _ in range(issues)])
    ids = list(Issue.objects.order_by("pk").values_list("pk", flat=True)[:issues])
    rows = Issue.objects.select_for_update()

    def step(pk: int, name: str) -> None:
        with transaction.atomic():
            issue = rows.get(pk=pk)
            getattr(issue, name)()
            issue.save()

    def run() -> int:
        for pk in ids:
            step(pk, "implement")
        for pk in ids:
            step(pk, "report")
        for pk in ids:
            step(pk, "reject")
        return 3 * len(ids)

    def logged() -> int:
        from django_fsm_log.models import StateLog

        return StateLog.objects.count()

    return run, logged
