"""govflow-postgres: govflow on PostgreSQL, for many application processes on one database.

Installed, it is the ``postgres`` plugin of the ``govflow`` entry-point group and
registers the URL schemes ``postgresql`` and ``postgres``::

    import govflow

    flow = govflow.open("postgresql://govflow@db.example.gov.cn:5432/supervision?schema=dali&pool_size=8")

or build the store yourself and pass it on: ``govflow.open(PostgresStore(dsn, schema="dali"))``.
See docs/postgres.md in the govflow repository.
"""

from ._blobs import PostgresBlobStore
from ._plugin import PostgresStorage
from ._schema import MIGRATIONS, SCHEMA_VERSION, migrate
from ._store import PostgresStore
from ._url import DEFAULT_POOL_SIZE, DEFAULT_SCHEMA, SCHEMES, Target, parse_target
from ._version import __version__

__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_SCHEMA",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SCHEMES",
    "PostgresBlobStore",
    "PostgresStorage",
    "PostgresStore",
    "Target",
    "__version__",
    "migrate",
    "parse_target",
]
