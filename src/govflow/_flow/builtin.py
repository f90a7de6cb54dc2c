"""govflow's own backends, as ordinary plugins (listed in ``DEFAULT_PLUGINS``)."""

from __future__ import annotations

import os
from typing import Any, Final

from .._deadlines.calendar import ChinaCalendar, Weekdays
from .._lifecycle.issue_list import ISSUE_LIST, ISSUE_LIST_V2
from .._plans.lifecycle import PLAN_TARGET
from .._plugins.blobs import BlobStore, FolderBlobStore, MemoryBlobStore
from .._plugins.manager import hookimpl
from .._plugins.registries import RegisterCalendar, RegisterLifecycle, RegisterRenderer, RegisterStorage
from .._reports.bulletin.tables import bulletin_csv, bulletin_json, bulletin_markdown
from .._reports.ledger_export import ledger_csv, ledger_json, ledger_markdown
from .._reports.scoring import DefaultScoring
from .._stores.memory import MemoryStore
from .._stores.sqlite.store import SQLiteStore

__all__ = ["DEFAULT_PLUGINS"]


def sqlite_path(url: str) -> str:
    """The file path in ``sqlite:///path`` (or the target itself if it has no scheme)."""
    for prefix in ("sqlite:///", "sqlite://"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return url


class MemoryStorage:
    """Registers the ``memory`` scheme (``":memory:"`` and ``memory://``)."""

    name = "memory"

    @hookimpl(trylast=True)
    def govflow_register_storage(self, register: RegisterStorage) -> None:
        """Register :class:`MemoryStore`."""
        register("memory", lambda url: MemoryStore())


class SQLiteStorage:
    """Registers the ``sqlite`` scheme, also used for plain file paths."""

    name = "sqlite"

    @hookimpl(trylast=True)
    def govflow_register_storage(self, register: RegisterStorage) -> None:
        """Register :class:`SQLiteStore`."""
        register("sqlite", lambda url: SQLiteStore(sqlite_path(url)))


class IssueListLifecycle:
    """Registers the default ``issue-list`` lifecycle."""

    name = "issue-list"

    @hookimpl(trylast=True)
    def govflow_register_lifecycles(self, register: RegisterLifecycle) -> None:
        """Register :data:`ISSUE_LIST` (version 1, kept for the issues created under it) and
        :data:`ISSUE_LIST_V2` (the field loop), which new issues get; and the targets' ``plan-target``."""
        register(ISSUE_LIST)
        register(ISSUE_LIST_V2)
        register(PLAN_TARGET)


class DefaultBlobs:
    """Provides the default store of evidence files: a folder ``<file>.blobs`` beside a SQLite file, else
    memory (``:memory:``, the memory store, and stores whose plugin provides none)."""

    name = "blobs"

    @hookimpl(trylast=True)
    def govflow_blob_store(self, flow: Any) -> BlobStore:
        """:class:`FolderBlobStore` beside the SQLite file, or :class:`MemoryBlobStore`."""
        store = flow.store
        if isinstance(store, SQLiteStore):
            path = store.path
            if path not in ("", ":memory:") and not path.startswith("file:"):
                return FolderBlobStore(os.path.abspath(path) + ".blobs")
        return MemoryBlobStore()


class LedgerRenderers:
    """Registers the ledger formats ``csv``, ``json`` and ``markdown``."""

    name = "ledger-renderers"

    @hookimpl(trylast=True)
    def govflow_register_renderers(self, register: RegisterRenderer) -> None:
        """Register the ledger renderers."""
        register("ledger", "csv", ledger_csv)
        register("ledger", "json", ledger_json)
        register("ledger", "markdown", ledger_markdown)


def _bulletin_html(flow: Any, **options: Any) -> str:
    from .._reports.bulletin.html import bulletin_html  # imported on use: it loads matplotlib

    return bulletin_html(flow, **options)


def _bulletin_xlsx(flow: Any, **options: Any) -> bytes:
    from .._reports.bulletin.xlsx import bulletin_xlsx  # imported on use: it loads openpyxl

    return bulletin_xlsx(flow, **options)


class BulletinRenderers:
    """Registers the bulletin formats ``markdown``, ``html``, ``xlsx``, ``csv`` and ``json``."""

    name = "bulletin-renderers"

    @hookimpl(trylast=True)
    def govflow_register_renderers(self, register: RegisterRenderer) -> None:
        """Register the bulletin renderers."""
        register("bulletin", "markdown", bulletin_markdown)
        register("bulletin", "html", _bulletin_html)
        register("bulletin", "xlsx", _bulletin_xlsx)
        register("bulletin", "csv", bulletin_csv)
        register("bulletin", "json", bulletin_json)


class Calendars:
    """Registers the calendars ``cn`` (China's official working days, the default) and ``weekdays``."""

    name = "calendars"

    @hookimpl(trylast=True)
    def govflow_register_calendars(self, register: RegisterCalendar) -> None:
        """Register :class:`ChinaCalendar` and :class:`Weekdays`."""
        register("cn", ChinaCalendar())
        register("weekdays", Weekdays())


#: The built-in plugins every flow starts with; ``GOVFLOW_DISABLE_PLUGINS`` can block them by name.
DEFAULT_PLUGINS: Final = (
    MemoryStorage, SQLiteStorage, IssueListLifecycle, LedgerRenderers, BulletinRenderers, Calendars,
    DefaultScoring, DefaultBlobs,
)
