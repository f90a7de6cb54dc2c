"""Units (单位) of :class:`govflow.Govflow`: registering, finding and listing them; a mixin of the facade,
kept apart to keep each module readable."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .._core.errors import NotFound, ValidationError
from .._core.model import LEVELS, Level, Unit
from .._core.registry import UNIT_ACTOR, unit_draft
from .._core.text import check_text, skeleton

if TYPE_CHECKING:
    from .._stores.protocol import Store

__all__ = ["UnitsMixin"]


class UnitsMixin:
    """The unit registry of :class:`govflow.Govflow`, which supplies the store."""

    _store: Store
    _units: dict[str, Unit]

    if TYPE_CHECKING:

        def now(self) -> dt.datetime: ...

    def add_unit(
        self,
        id: str,
        name: str,
        *,
        level: Level,
        parent: str | None = None,
        supervisor: bool = False,
    ) -> Unit:
        """Register a unit (单位). Re-adding the same unit unchanged is allowed.

        ``level`` is one of ``prefecture``, ``county``, ``township``, ``department``.
        """
        check_text("id", id, kind="id")
        if ":" in id:
            raise ValidationError("id", f"got {id!r}", "a unit id without ':' (the ledger names units 'unit:<id>')")
        if id.casefold() == UNIT_ACTOR or skeleton(id) == skeleton(UNIT_ACTOR):
            # govflow's own steps (the sweep's, the registry's) name it as their actor: no unit may pass as it.
            raise ValidationError("id", f"{id!r} is govflow's own actor name", "another unit id")
        check_text("name", name, kind="name", max_len=200)
        if not isinstance(level, str) or level not in LEVELS:
            raise ValidationError("level", f"got {level!r}", ", ".join(LEVELS))
        if parent is not None:
            check_text("parent", parent, kind="id")
        if parent == id:
            raise ValidationError("parent", "a unit cannot be its own parent", "another unit's id")
        if parent is not None and self._find_unit(parent) is None:
            raise ValidationError("parent", f"no unit {parent!r}", "the id of a registered unit")
        if not isinstance(supervisor, bool):
            raise ValidationError("supervisor", f"got {supervisor!r}", "True or False")
        unit = Unit(id=id, name=name, level=level, parent=parent, supervisor=supervisor)
        existing = self._find_unit(id)
        if existing is not None:
            if existing == unit:
                return existing
            raise ValidationError(
                "id", f"unit {id!r} already exists as {existing!r}", "a new id, or the same fields"
            )
        folded = skeleton(id)
        twin = next((u for u in self._units.values() if skeleton(u.id) == folded), None)
        if twin is not None:
            raise ValidationError(
                "id", f"{id!r} looks like the registered unit id {twin.id!r}", "an id that reads differently"
            )
        # The registry decides who may verify: each unit enters the hash chain (its own ``unit:<id>`` entry).
        self._store.add_unit(unit, unit_draft(unit, self.now()))
        self._units[id] = unit
        return unit

    def unit(self, id: str) -> Unit:
        """One unit; :class:`NotFound` if there is none."""
        unit = self._find_unit(id)
        if unit is None:
            raise NotFound("unit", id)
        return unit

    def units(self) -> list[Unit]:
        """Every registered unit, in the order they were added."""
        self._units = {unit.id: unit for unit in self._store.units()}
        return list(self._units.values())

    def _find_unit(self, unit_id: str) -> Unit | None:
        unit = self._units.get(unit_id)
        if unit is None and isinstance(unit_id, str):
            # Another process may have added it since we looked.
            self._units = {u.id: u for u in self._store.units()}
            unit = self._units.get(unit_id)
        return unit
