"""Checkpoints (校验点): the chain pinned from outside.

A chain rewritten whole, head included, checks out from inside. A checkpoint is a
small value (the sequence number and hash of one entry, and its time) that an office
prints in its monthly bulletin, mails to the auditor or files elsewhere; later,
``flow.verify_ledger(checkpoints=[...])`` fails unless the ledger still holds an entry
with that sequence number and that hash. Its text form, ``str(checkpoint)``, reads back
with :meth:`Checkpoint.parse`::

    govflow-checkpoint 19 6e9e01fb3db7…(64 hex) 2026-03-31T17:30:00+08:00
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Final

import attrs

from .errors import ValidationError

__all__ = ["Checkpoint", "parse_checkpoints"]

_TEXT: Final = re.compile(r"govflow-checkpoint (\d{1,18}) ([0-9a-f]{64})(?: (\S+))?")


@attrs.frozen
class Checkpoint:
    """The ledger entry ``seq`` with hash ``hash`` (written at ``at``): what the chain held then.

    ``seq`` 0 with 64 zeros is the empty ledger (``at`` None).
    """

    seq: int
    hash: str
    at: dt.datetime | None = None

    def __str__(self) -> str:
        at = f" {self.at.isoformat()}" if self.at is not None else ""
        return f"govflow-checkpoint {self.seq} {self.hash}{at}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """A checkpoint from its text form (``str(checkpoint)``); :class:`ValidationError` if it is not one."""
        found = _TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
        accepted = "'govflow-checkpoint <seq> <64 lowercase hex digits> [<ISO time>]', as str(checkpoint) writes it"
        if found is None:
            raise ValidationError("checkpoint", f"got {str(text)[:100]!r}", accepted)
        at = None
        if found.group(3):
            try:
                at = dt.datetime.fromisoformat(found.group(3))
            except ValueError:
                raise ValidationError("checkpoint", f"got the time {found.group(3)[:40]!r}", accepted) from None
        return cls(int(found.group(1)), found.group(2), at)


def parse_checkpoints(checkpoints: Iterable[Checkpoint | str]) -> dict[int, Checkpoint]:
    """Checkpoints (values or their text) by seq; :class:`ValidationError` for anything else."""
    if isinstance(checkpoints, str | Checkpoint):
        checkpoints = [checkpoints]
    wanted: dict[int, Checkpoint] = {}
    for item in checkpoints:
        point = item if isinstance(item, Checkpoint) else Checkpoint.parse(item)
        if not isinstance(point.seq, int) or point.seq < 0 or not isinstance(point.hash, str):
            raise ValidationError("checkpoints", f"got {point!r}", "govflow.Checkpoint values or their text")
        other = wanted.get(point.seq)
        if other is not None and other.hash != point.hash:
            raise ValidationError("checkpoints", f"two checkpoints name entry {point.seq} with different hashes",
                                  "at most one hash per entry")
        wanted[point.seq] = point
    return wanted
