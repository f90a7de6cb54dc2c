"""Evidence files (佐证材料) in the database: the ``blobs`` table, keyed by SHA-256 (migration 4)."""

from __future__ import annotations

import hashlib

from ._store import PostgresStore

__all__ = ["PostgresBlobStore"]


class PostgresBlobStore:
    """A :class:`govflow.BlobStore` in the store's schema: every process sharing the database sees the files."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def put(self, data: bytes) -> str:
        """Store ``data`` (once per content); return its SHA-256."""
        key = hashlib.sha256(data).hexdigest()
        with self.store._connection() as conn:
            conn.execute(
                "INSERT INTO blobs (sha256, size, data) VALUES (%s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                (key, len(data), bytes(data)),
            )
        return key

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""
        with self.store._connection() as conn:
            row = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (sha256,)).fetchone()
        return None if row is None else bytes(row[0])
