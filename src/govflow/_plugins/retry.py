"""``retry_on_conflict``: run a command again when another writer got there first.

A command (a zero-argument callable that reads what it needs and writes) that
raises :class:`ConcurrentUpdateError` wrote nothing, so running it again is
safe: it reads the issue afresh and decides again. After the last attempt the
error is raised to the caller.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from .._core.errors import ConcurrentUpdateError, ValidationError

__all__ = ["retry_on_conflict"]

T = TypeVar("T")


def retry_on_conflict(
    command: Callable[[], T],
    *,
    attempts: int = 3,
    delay: float = 0.0,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call ``command()``; on :class:`ConcurrentUpdateError` call it again, up to ``attempts`` calls in all.

    ``command`` must read what it decides on itself (``lambda: flow.fire(id, ...)``
    does: ``fire`` loads the issue), so each attempt sees the other writer's
    step. Between attempts it waits ``delay`` seconds, doubled after each
    conflict, with random jitter of up to the same again (0: no wait). The
    last attempt's error is raised; any other error is raised at once.

        >>> import govflow
        >>> govflow.retry_on_conflict(lambda: 42)
        42
    """
    if not callable(command):
        raise ValidationError("command", f"got {command!r}", "a zero-argument callable, e.g. lambda: flow.fire(...)")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationError("attempts", f"got {attempts!r}", "an integer >= 1 (calls in all, the first included)")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise ValidationError("delay", f"got {delay!r}", "a number of seconds >= 0")
    wait = float(delay)
    for attempt in range(1, attempts + 1):
        try:
            return command()
        except ConcurrentUpdateError:
            if attempt == attempts:
                raise
        if wait:
            sleep(wait * (1 + random.random()))
            wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover
