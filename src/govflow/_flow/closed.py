"""What a closed :class:`govflow.Govflow` holds in place of its store: every use raises :class:`FlowClosed`.

Every command and read of the facade goes through its store, so putting this in the
store's place on ``close()`` makes every later use a typed error, on every backend
(the memory store included, which has nothing to close), before anything is written.
"""

from __future__ import annotations

from typing import NoReturn

from .._core.errors import FlowClosed

__all__ = ["ClosedStore"]


class ClosedStore:
    """Stands in for the store of a closed flow."""

    schema_version = 0

    def __getattr__(self, name: str) -> NoReturn:
        raise FlowClosed(name)

    def close(self) -> None:
        """Closing again does nothing."""
