"""What a storage plugin needs besides the top-level names (:class:`govflow.Store`,
:class:`govflow.UnitOfWork`, :class:`govflow.IssueQuery`, :class:`govflow.FactsQuery`,
:class:`govflow.OverdueAtEnd`, :class:`govflow.LedgerDraft`, :func:`govflow.canonical_bytes`).

A store published as its own package imports these rather than govflow's private
modules, so it keeps working when those move::

    import govflow
    from govflow.storage import RegisterStorage, build_facts, canonical_json

    class MyStore: ...  # the members of govflow.Store

    @govflow.hookimpl
    def govflow_register_storage(register: RegisterStorage) -> None:
        register("mystore", MyStore.from_url)

``seal(draft, seq, prev_hash)`` places a :class:`govflow.LedgerDraft` in the chain (the
entry's hash over its canonical bytes and the previous hash), as every store must.
``parse_stored_at`` and ``parse_stored_data`` read a ledger row's ``at`` and ``data`` text
(a :class:`govflow.LedgerCorrupted` for text that does not parse); a store hands the text it
read to :class:`govflow.LedgerEntry` as ``stored=(at_text, data_text)`` so that
``verify_ledger()`` can check it is byte for byte canonical.
``compute_facts`` and ``compute_overdue`` are the reference semantics of
``period_facts`` and ``overdue_at_end``: the contract tests hold every store to
them, and a store may fall back on them. ``PlanRow`` and ``PlanWork`` are what
``commit_plan`` and ``plan_rows`` take and give (work plans and targets), and
``compute_link_states`` is the reference semantics of ``target_issue_states``.
``add_unit`` writes the unit with the entry it is given; a store's schema upgrade that
brings units registered before the registry entered the ledger gives each one its entry
with ``unit_draft(unit, at, adopted=True)``, and ``refuse_other_unit`` is what ``add_unit``
does when the id is taken. ``new_external_ids(works)`` are the external ids (imported 编号)
the new issues of a ``commit_many`` carry: a store refuses one that an issue's assign entry
already holds (:class:`govflow.ConcurrentUpdateError` naming that issue).
"""

from __future__ import annotations

from ._core.ledger import canonical_json, parse_stored_at, parse_stored_data, seal
from ._core.registry import unit_draft
from ._plugins.registries import RegisterStorage, StoreFactory
from ._stores.facts import build_facts, compute_facts, compute_overdue, local_day, overdue_order
from ._stores.plans import PlanRow, PlanWork, compute_link_states
from ._stores.protocol import new_external_ids, refuse_other_unit

__all__ = [
    "PlanRow",
    "PlanWork",
    "RegisterStorage",
    "StoreFactory",
    "build_facts",
    "canonical_json",
    "compute_facts",
    "compute_link_states",
    "compute_overdue",
    "local_day",
    "new_external_ids",
    "overdue_order",
    "parse_stored_at",
    "parse_stored_data",
    "refuse_other_unit",
    "seal",
    "unit_draft",
]
