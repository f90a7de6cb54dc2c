"""The notifier's settings: the environment variables, and reading and checking each setting.

Every check raises :class:`SmtpConfigError` naming the setting (the keyword
argument, or the environment variable it was read from), so a deployment
learns what to fix when the notifier is constructed, not when mail is due.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from email.utils import formataddr, parseaddr
from typing import Final, NamedTuple

import govflow

__all__ = [
    "ADDRESS_ACCEPTED",
    "DEFAULT_TIMEOUT",
    "ENV_CC",
    "ENV_HOST",
    "ENV_PASSWORD",
    "ENV_PORT",
    "ENV_RECIPIENTS",
    "ENV_SENDER",
    "ENV_SSL",
    "ENV_STARTTLS",
    "ENV_TIMEOUT",
    "ENV_USER",
    "RECIPIENTS_ACCEPTED",
    "Mailbox",
    "SmtpConfigError",
    "check_recipients",
    "mailbox",
    "parse_recipients",
    "read_bool",
    "read_number",
    "setting",
    "split_addresses",
]

#: Environment variable: the SMTP server's host name (required unless host= is given).
ENV_HOST: Final = "GOVFLOW_SMTP_HOST"
#: Environment variable: the SMTP port (default 465 with SSL, 587 with STARTTLS, else 25).
ENV_PORT: Final = "GOVFLOW_SMTP_PORT"
#: Environment variable: the login user (no login when unset).
ENV_USER: Final = "GOVFLOW_SMTP_USER"
#: Environment variable: the login password (required with a user).
ENV_PASSWORD: Final = "GOVFLOW_SMTP_PASSWORD"
#: Environment variable: the From address, e.g. ``督办系统 <noreply@example.gov.cn>`` (required).
ENV_SENDER: Final = "GOVFLOW_SMTP_SENDER"
#: Environment variable: ``true`` to upgrade the connection with STARTTLS.
ENV_STARTTLS: Final = "GOVFLOW_SMTP_STARTTLS"
#: Environment variable: ``true`` to connect with implicit TLS (SMTPS, usually port 465).
ENV_SSL: Final = "GOVFLOW_SMTP_SSL"
#: Environment variable: the timeout of the connection and of each command, in seconds.
ENV_TIMEOUT: Final = "GOVFLOW_SMTP_TIMEOUT"
#: Environment variable: unit id -> addresses, as JSON or as ``UNIT=a@x,b@x;UNIT2=c@y``.
ENV_RECIPIENTS: Final = "GOVFLOW_SMTP_RECIPIENTS"
#: Environment variable: addresses that get every email (comma-separated).
ENV_CC: Final = "GOVFLOW_SMTP_CC"
#: The timeout, in seconds, when none is configured.
DEFAULT_TIMEOUT: Final = 10.0

#: What an address setting accepts (the ``accepted`` of its :class:`SmtpConfigError`).
ADDRESS_ACCEPTED: Final = "an email address such as 'ops@example.gov.cn' or '督办室 <ops@example.gov.cn>'"
#: What the recipients setting accepts.
RECIPIENTS_ACCEPTED: Final = (
    f"a mapping of unit id to addresses (recipients={{...}}, or {ENV_RECIPIENTS} as JSON "
    "'{\"UNIT\": [\"a@x.cn\"]}' or as 'UNIT=a@x.cn,b@x.cn;UNIT2=c@y.cn')"
)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


class SmtpConfigError(govflow.ValidationError):
    """An SMTP setting that cannot be used, raised when the notifier is constructed.

    ``field`` names the setting (the keyword argument, or the environment
    variable it was read from), ``problem`` what is wrong and ``accepted``
    what would be accepted. Also a :class:`ValueError` and a
    :class:`govflow.GovflowError`.
    """


class Mailbox(NamedTuple):
    """One configured address: ``header`` as written in From/To/Cc, ``address`` the bare one for the envelope."""

    header: str
    address: str


def mailbox(text: object, where: str) -> Mailbox:
    """The address ``text`` (``a@x.cn`` or ``Name <a@x.cn>``) read from setting ``where``."""
    if not isinstance(text, str):
        raise SmtpConfigError(where, f"got {text!r}", ADDRESS_ACCEPTED)
    name, address = parseaddr(text.strip())
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address):
        raise SmtpConfigError(where, f"{text!r} is not an email address", ADDRESS_ACCEPTED)
    return Mailbox(formataddr((name, address)) if name else address, address)


def split_addresses(text: str) -> list[str]:
    """The non-blank parts of a comma-separated list of addresses."""
    return [part for part in (p.strip() for p in text.split(",")) if part]


def parse_recipients(text: str, where: str) -> object:
    """The recipients written as JSON or as ``UNIT=a@x,b@x;UNIT2=c@y`` (checked by :func:`check_recipients`)."""
    text = text.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SmtpConfigError(where, f"is not valid JSON ({exc})", RECIPIENTS_ACCEPTED) from None
    parsed: dict[str, list[str]] = {}
    for part in re.split(r"[;\n]+", text):
        if not part.strip():
            continue
        unit, sep, addresses = part.partition("=")
        if not sep or not unit.strip():
            raise SmtpConfigError(where, f"{part.strip()!r} is not UNIT=address[,address...]", RECIPIENTS_ACCEPTED)
        parsed.setdefault(unit.strip(), []).extend(split_addresses(addresses))
    return parsed


def check_recipients(raw: object, where: str) -> dict[str, tuple[Mailbox, ...]]:
    """Unit id -> its mailboxes, from a mapping of unit ids to an address or a list of addresses."""
    if not isinstance(raw, Mapping):
        raise SmtpConfigError(where, f"got {raw!r}", RECIPIENTS_ACCEPTED)
    checked: dict[str, tuple[Mailbox, ...]] = {}
    for unit, addresses in raw.items():
        if not isinstance(unit, str) or not unit.strip():
            raise SmtpConfigError(where, f"unit id {unit!r}", RECIPIENTS_ACCEPTED)
        listed = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(listed, Sequence):
            raise SmtpConfigError(f"{where}[{unit!r}]", f"got {addresses!r}", "an address or a list of addresses")
        checked[unit] = tuple(mailbox(item, f"{where}[{unit!r}]") for item in listed)
    return checked


def read_bool(value: object, where: str) -> bool:
    """A boolean given as such, or as ``true/false``, ``yes/no``, ``on/off`` or ``1/0``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SmtpConfigError(where, f"got {value!r}", "true/false, yes/no, on/off or 1/0")


def read_number(value: object, where: str, accepted: str, *, integer: bool) -> float:
    """A number given as such or as text; with ``integer``, a whole one (never a bool)."""
    if isinstance(value, bool):
        raise SmtpConfigError(where, f"got {value!r}", accepted)
    try:
        number = int(value) if integer else float(value)  # type: ignore[call-overload, arg-type]
    except (TypeError, ValueError):
        raise SmtpConfigError(where, f"got {value!r}", accepted) from None
    if integer and isinstance(value, float) and value != number:
        raise SmtpConfigError(where, f"got {value!r}", accepted)
    return number


def setting(value: object | None, keyword: str, variable: str) -> tuple[object | None, str]:
    """The keyword's value if given, else the environment variable's (None when unset or empty), and its name."""
    if value is not None:
        return value, keyword
    raw = os.environ.get(variable, "")
    return (raw if raw.strip() else None), variable
