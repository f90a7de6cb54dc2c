"""The ``postgres`` plugin: registers the ``postgresql`` and ``postgres`` URL schemes."""

from __future__ import annotations

from govflow import hookimpl
from govflow.storage import RegisterStorage

from ._store import PostgresStore
from ._url import SCHEMES

__all__ = ["PostgresStorage"]


class PostgresStorage:
    """The storage plugin: ``govflow.open("postgresql://user@host/db")`` opens a :class:`PostgresStore`.

    Installed with the package (entry point ``postgres`` in the ``govflow`` group);
    ``GOVFLOW_DISABLE_PLUGINS=postgres`` blocks it.
    """

    name = "postgres"

    @hookimpl
    def govflow_register_storage(self, register: RegisterStorage) -> None:
        """Register :meth:`PostgresStore.from_url` for ``postgresql://`` and ``postgres://``."""
        for scheme in SCHEMES:
            register(scheme, PostgresStore.from_url)
