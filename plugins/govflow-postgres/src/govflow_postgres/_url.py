"""Connection strings: a libpq URL or key=value string, plus govflow's own options.

``postgresql://user:password@host:5432/dbname?schema=dali&pool_size=8`` — the
query options ``schema``, ``pool_size`` and ``group_commit`` are govflow's and
are taken out before the rest goes to libpq (which would refuse them); every
other option (``sslmode``, ``application_name``, ``connect_timeout``, ...) is libpq's.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import psycopg.conninfo

from govflow import ValidationError

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_SCHEMA", "Target", "describe", "parse_target"]

#: The PostgreSQL schema govflow's tables go in when none is named.
DEFAULT_SCHEMA: Final = "public"
#: Connections per store when none is named: enough for commands, a delivery thread and a sweep.
DEFAULT_POOL_SIZE: Final = 4
#: The URL schemes this plugin registers.
SCHEMES: Final = ("postgresql", "postgres")

_SCHEMA_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_ACCEPTED_SCHEMA: Final = "a PostgreSQL schema name: a letter or '_', then letters, digits or '_' (at most 63)"


@attrs.frozen
class Target:
    """A parsed connection string: what goes to libpq, and govflow's options (None if not given)."""

    conninfo: str
    schema: str | None = None
    pool_size: int | None = None
    group_commit: bool | None = None


_SWITCH: Final = {"on": True, "true": True, "1": True, "yes": True, "off": False, "false": False, "0": False,
                  "no": False}


def check_schema(schema: object) -> str:
    """``schema`` if it is a plain schema name, else :class:`govflow.ValidationError`."""
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise ValidationError("schema", f"got {schema!r}", _ACCEPTED_SCHEMA)
    return schema


def check_pool_size(pool_size: object) -> int:
    """``pool_size`` if it is an integer >= 1, else :class:`govflow.ValidationError`."""
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ValidationError("pool_size", f"got {pool_size!r}", "an integer >= 1 (connections in the pool)")
    return pool_size


def parse_target(dsn: object) -> Target:
    """Split a connection string into the libpq part and govflow's options (``schema``, ``pool_size``,
    ``group_commit``)."""
    accepted = (
        "a PostgreSQL URL such as 'postgresql://user@host:5432/dbname?schema=govflow' or a libpq key=value string"
    )
    if not isinstance(dsn, str) or not dsn.strip():
        raise ValidationError("dsn", f"got {dsn!r}", accepted)
    if "://" not in dsn:
        _check_libpq(dsn, accepted)
        return Target(dsn)
    parts = urlsplit(dsn)
    if parts.scheme.lower() not in SCHEMES:
        raise ValidationError("dsn", f"the scheme {parts.scheme!r} is not PostgreSQL's", accepted)
    schema: str | None = None
    pool_size: int | None = None
    group_commit: bool | None = None
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "schema":
            schema = check_schema(value)
        elif key == "pool_size":
            try:
                number = int(value)
            except ValueError:
                raise ValidationError(
                    "pool_size", f"got {value!r} in the URL", "an integer >= 1 (connections in the pool)"
                ) from None
            pool_size = check_pool_size(number)
        elif key == "group_commit":
            if value.lower() not in _SWITCH:
                raise ValidationError("group_commit", f"got {value!r} in the URL", "on or off (also true/false, 1/0)")
            group_commit = _SWITCH[value.lower()]
        else:
            rest.append((key, value))
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), parts.fragment))
    _check_libpq(conninfo, accepted)
    return Target(conninfo, schema, pool_size, group_commit)


def _check_libpq(conninfo: str, accepted: str) -> None:
    try:
        psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ValidationError("dsn", f"libpq refuses it: {exc}", accepted) from None


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` of a connection string, without its password (for messages)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(an unreadable connection string)"
    user = str(params.get("user") or "")
    host = str(params.get("host") or "localhost")
    port = str(params.get("port") or 5432)
    dbname = str(params.get("dbname") or user)
    return f"{user + '@' if user else ''}{host}:{port}/{dbname}"
