"""The ``postgres`` plugin: registers the ``postgresql`` and ``postgres`` URL schemes."""

from __future__ import annotations

from typing import Any

from govflow import BlobStore, hookimpl
from govflow.storage import RegisterStorage

from ._blobs import PostgresBlobStore
from ._store import PostgresStore
from ._url import SCHEMES

__all__ = ["PostgresStorage"]


class PostgresStorage:
    """The storage plugin, and the evidence files of its stores (the ``blobs`` table).

    ``govflow.open("postgresql://user@host/db")`` opens a :class:`PostgresStore`.

    Installed with the package (entry point ``postgres`` in the ``govflow`` group);
    ``GOVFLOW_DISABLE_PLUGINS=postgres`` blocks it.
    """

    name = "postgres"

    @hookimpl
    def govflow_register_storage(self, register: RegisterStorage) -> None:
        """Register :meth:`PostgresStore.from_url` for ``postgresql://`` and ``postgres://``."""
        for scheme in SCHEMES:
            register(scheme, PostgresStore.from_url)

    @hookimpl
    def govflow_blob_store(self, flow: Any) -> BlobStore | None:
        """Evidence files in the ``blobs`` table of a flow on a :class:`PostgresStore` (else None)."""
        store = flow.store
        return PostgresBlobStore(store) if isinstance(store, PostgresStore) else None
