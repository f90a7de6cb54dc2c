"""Evidence files (佐证材料) by content: the :class:`BlobStore` protocol and the built-in stores.

``flow.attach`` stores a file through the ``govflow_blob_store`` hook and records its SHA-256, size and
name in a ledger entry; ``flow.verify_ledger(blobs=True)`` reads every recorded file back and checks its
hash. The default store keeps files in a folder beside the SQLite file (``<file>.blobs/ab/abcdef…``),
or in memory for ``:memory:`` and the memory store.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["BlobStore", "FolderBlobStore", "MemoryBlobStore", "sha256_of"]


def sha256_of(data: bytes) -> str:
    """The lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@runtime_checkable
class BlobStore(Protocol):
    """Where evidence files are kept, by the SHA-256 of their content.

    ``put`` is idempotent (the same bytes, the same key) and returns the key; ``get`` returns the bytes
    stored under a key, or None if there are none.
    """

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 (hex)."""

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""


class MemoryBlobStore:
    """Files held in a dictionary (for ``:memory:`` flows and tests)."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256."""
        key = sha256_of(data)
        with self._lock:
            self._blobs.setdefault(key, bytes(data))
        return key

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""
        return self._blobs.get(sha256)


class FolderBlobStore:
    """Files in a folder, one file per content (``ab/abcdef…``), written atomically (temp file, rename)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256."""
        key = sha256_of(data)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return key

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None
