"""govflow: a problem-list system (问题清单制度) for government supervision.

Issues are assigned to lead units (交办), carried out (落实), reported back
(反馈) and verified and closed by a supervising office (验收销号); every step
is a hash-chained ledger entry (台账).

    >>> import govflow
    >>> flow = govflow.open(":memory:")
"""

from . import hookspecs
from ._core.checkpoint import Checkpoint
from ._core.clock import DEFAULT_ZONE, Clock, default_clock
from ._core.errors import (
    ConcurrentUpdateError,
    DiagramError,
    FlowClosed,
    GovflowError,
    ImportProblem,
    ImportRejected,
    InvalidTransition,
    LedgerCorrupted,
    LifecycleError,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    SchemaVersionError,
    StoreBusy,
    StoreError,
    TransitionVetoed,
    ValidationError,
)
from ._core.events import DeadlineEvent, ProposedTransition, TransitionEvent
from ._core.field import CALLBACK_RESULTS, COUNTERSIGN_MODES, FieldState, SuspensionRequest
from ._core.ledger import GENESIS_HASH, LedgerCheck, LedgerDraft, canonical_bytes
from ._core.model import LEVELS, Actor, ExtensionRequest, Issue, LedgerEntry, Responsible, Unit
from ._core.text import check_text
from ._core.workdays import Calendar
from ._deadlines.calendar import (
    CalendarError,
    ChinaCalendar,
    Weekdays,
    WorkingDays,
    add_working_days,
    working_days,
    working_days_between,
)
from ._deadlines.ladder import DEFAULT_LADDER, STEP_LABELS, Ladder, Overdue, Rung
from ._flow.builtin import DEFAULT_PLUGINS
from ._flow.facade import Delivery, Govflow
from ._flow.open import open
from ._interop.report import ImportReport
from ._lifecycle.issue_list import ISSUE_LIST, ISSUE_LIST_V2
from ._lifecycle.machine import ROLES, LifecycleDefinition, TransitionSpec
from ._plans.lifecycle import PLAN_TARGET
from ._plans.model import Phase, Plan, Target
from ._plans.model import replay as replay_plan_or_target
from ._plans.progress import PlanProgress, Rollup, TargetProgress
from ._plugins.blobs import BlobStore
from ._plugins.manager import PluginInfo, PluginLoadError, PluginWarning, hookimpl
from ._plugins.outbox import DeliveryReport, Outbox, RetryPolicy
from ._plugins.retry import retry_on_conflict
from ._reports.bulletin.build import Bulletin, ListedUnit, OverdueIssue, ScoreChange
from ._reports.bulletin.labels import BULLETIN_LABELS
from ._reports.period import Period
from ._reports.scoring import (
    DEFAULT_WEIGHTS,
    OPTIONAL_INDICATORS,
    DefaultScoring,
    Indicator,
    ScoringPolicy,
    UnitEvaluation,
    UnitScore,
)
from ._stores.facts import FactsQuery, OverdueAtEnd, UnitFacts
from ._stores.memory import MemoryStore
from ._stores.protocol import IssueQuery, OutboxRow, Store, UnitOfWork
from ._stores.sqlite.store import SCHEMA_VERSION, SQLiteStore

__version__ = "0.1.0.dev0"

__all__ = [
    "BULLETIN_LABELS",
    "CALLBACK_RESULTS",
    "COUNTERSIGN_MODES",
    "DEFAULT_LADDER",
    "DEFAULT_PLUGINS",
    "DEFAULT_WEIGHTS",
    "DEFAULT_ZONE",
    "GENESIS_HASH",
    "ISSUE_LIST",
    "ISSUE_LIST_V2",
    "LEVELS",
    "OPTIONAL_INDICATORS",
    "PLAN_TARGET",
    "ROLES",
    "SCHEMA_VERSION",
    "STEP_LABELS",
    "Actor",
    "BlobStore",
    "Bulletin",
    "Calendar",
    "CalendarError",
    "Checkpoint",
    "ChinaCalendar",
    "Clock",
    "ConcurrentUpdateError",
    "DeadlineEvent",
    "DefaultScoring",
    "Delivery",
    "DeliveryReport",
    "DiagramError",
    "ExtensionRequest",
    "FactsQuery",
    "FieldState",
    "FlowClosed",
    "Govflow",
    "GovflowError",
    "ImportProblem",
    "ImportRejected",
    "ImportReport",
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
    "OutcomeUnknown",
    "Overdue",
    "OverdueAtEnd",
    "OverdueIssue",
    "Period",
    "PermissionDenied",
    "Phase",
    "Plan",
    "PlanProgress",
    "PluginInfo",
    "PluginLoadError",
    "PluginWarning",
    "ProposedTransition",
    "Responsible",
    "RetryPolicy",
    "Rollup",
    "Rung",
    "SQLiteStore",
    "SchemaVersionError",
    "ScoreChange",
    "ScoringPolicy",
    "Store",
    "StoreBusy",
    "StoreError",
    "SuspensionRequest",
    "Target",
    "TargetProgress",
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
    "check_text",
    "default_clock",
    "hookimpl",
    "hookspecs",
    "open",
    "replay_plan_or_target",
    "retry_on_conflict",
    "working_days",
    "working_days_between",
]
