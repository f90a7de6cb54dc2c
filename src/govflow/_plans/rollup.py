"""Roll-ups along the unit hierarchy (逐级汇总): a unit's figures together with those of the units below it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from .._core.model import Unit
from .._stores.facts import UnitFacts, sum_facts

__all__ = ["descendants", "rollup_facts"]


def descendants(units: Iterable[Unit]) -> dict[str, list[str]]:
    """Each unit's id mapped to itself and every unit below it (depth first, in the order units were added)."""
    listed = list(units)
    below: dict[str | None, list[str]] = defaultdict(list)
    for unit in listed:
        if unit.parent != unit.id:
            below[unit.parent].append(unit.id)
    found: dict[str, list[str]] = {}
    for unit in listed:
        seen: list[str] = []
        stack = [unit.id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue  # a cycle in the stored parents: count each unit once
            seen.append(current)
            stack.extend(reversed(below.get(current, [])))
        found[unit.id] = seen
    return found


def rollup_facts(facts: Mapping[str, UnitFacts], units: Iterable[Unit]) -> dict[str, UnitFacts]:
    """Per unit of ``facts`` (same keys, same order), its own facts added to those of every unit below it."""
    tree = descendants(units)
    return {
        unit_id: sum_facts((facts[u] for u in tree.get(unit_id, [unit_id]) if u in facts), unit_id)
        for unit_id in facts
    }
