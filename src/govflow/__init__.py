"""govflow: a problem-list system (问题清单制度) for government supervision.

Issues are assigned to lead units (交办), carried out (落实), reported back
(反馈) and verified and closed by a supervising office (验收销号); every step
is a hash-chained ledger entry (台账).

    >>> import govflow
    >>> flow = govflow.open(":memory:")
"""

from . import hookspecs
from ._builtin import DEFAULT_PLUGINS
from ._bulletin import Bulletin, ListedUnit, OverdueIssue, ScoreChange
from ._bulletin_labels import BULLETIN_LABELS
from ._calendar import (
    CalendarError,
    ChinaCalendar,
    Weekdays,
    WorkingDays,
    add_working_days,
    working_days,
    working_days_between,
)
from ._clock import DEFAULT_ZONE, Clock, default_clock
from ._deadlines import DEFAULT_LADDER, STEP_LABELS, Ladder, Overdue, Rung
from ._events import DeadlineEvent, ProposedTransition, TransitionEvent
from ._exceptions import (
    ConcurrentUpdateError,
    GovflowError,
    InvalidTransition,
    LedgerCorrupted,
    LifecycleError,
    NotFound,
    PermissionDenied,
    SchemaVersionError,
    StoreError,
    TransitionVetoed,
    ValidationError,
)
from ._facts import FactsQuery, OverdueAtEnd, UnitFacts
from ._flow import Delivery, Govflow
from ._issue_list import ISSUE_LIST
from ._ledger import GENESIS_HASH, LedgerCheck, LedgerDraft, canonical_bytes
from ._lifecycle import ROLES, LifecycleDefinition, TransitionSpec
from ._memory import MemoryStore
from ._model import LEVELS, Actor, ExtensionRequest, Issue, LedgerEntry, Responsible, Unit
from ._open import open
from ._outbox import DeliveryReport, Outbox, RetryPolicy
from ._period import Period
from ._plugins import PluginInfo, PluginLoadError, PluginWarning, hookimpl
from ._registries import Calendar
from ._retry import retry_on_conflict
from ._scoring import DEFAULT_WEIGHTS, DefaultScoring, Indicator, ScoringPolicy, UnitEvaluation, UnitScore
from ._sqlite import SCHEMA_VERSION, SQLiteStore
from ._store import IssueQuery, OutboxRow, Store, UnitOfWork

__version__ = "0.1.0.dev0"

__all__ = [
    "BULLETIN_LABELS",
    "DEFAULT_LADDER",
    "DEFAULT_PLUGINS",
    "DEFAULT_WEIGHTS",
    "DEFAULT_ZONE",
    "GENESIS_HASH",
    "ISSUE_LIST",
    "LEVELS",
    "ROLES",
    "SCHEMA_VERSION",
    "STEP_LABELS",
    "Actor",
    "Bulletin",
    "Calendar",
    "CalendarError",
    "ChinaCalendar",
    "Clock",
    "ConcurrentUpdateError",
    "DeadlineEvent",
    "DefaultScoring",
    "Delivery",
    "DeliveryReport",
    "ExtensionRequest",
    "FactsQuery",
    "Govflow",
    "GovflowError",
    "Indicator",
    "InvalidTransition",
    "Issue",
    "IssueQuery",
    "Ladder",
    "LedgerCheck",
    "LedgerCorrupted",
    "LedgerDraft",
    "LedgerEntry",
    "LifecycleDefinition",
    "LifecycleError",
    "ListedUnit",
    "MemoryStore",
    "NotFound",
    "Outbox",
    "OutboxRow",
    "Overdue",
    "OverdueAtEnd",
    "OverdueIssue",
    "Period",
    "PermissionDenied",
    "PluginInfo",
    "PluginLoadError",
    "PluginWarning",
    "ProposedTransition",
    "Responsible",
    "RetryPolicy",
    "Rung",
    "SQLiteStore",
    "SchemaVersionError",
    "ScoreChange",
    "ScoringPolicy",
    "Store",
    "StoreError",
    "TransitionEvent",
    "TransitionSpec",
    "TransitionVetoed",
    "Unit",
    "UnitEvaluation",
    "UnitFacts",
    "UnitOfWork",
    "UnitScore",
    "ValidationError",
    "Weekdays",
    "WorkingDays",
    "__version__",
    "add_working_days",
    "canonical_bytes",
    "default_clock",
    "hookimpl",
    "hookspecs",
    "open",
    "retry_on_conflict",
    "working_days",
    "working_days_between",
]
