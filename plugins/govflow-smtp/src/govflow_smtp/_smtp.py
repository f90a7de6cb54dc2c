"""The SMTP notifier: one bilingual (Chinese, then English) email per govflow event.

Who gets it: the addresses configured for the units concerned (for a
transition the issue's lead unit and the actor's unit, both the old and the
new lead for a reassignment; for a deadline step the lead unit), plus the
always-cc addresses, deduplicated. Sent with :mod:`smtplib` (optional
STARTTLS or implicit TLS, optional login); any SMTP or network error raises
:class:`SmtpDeliveryError`, so govflow's outbox records it and retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Final, NamedTuple
from urllib.parse import quote

import govflow

from ._version import __version__

__all__ = [
    "DEADLINE_STEPS",
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
    "Mailbox",
    "SmtpConfigError",
    "SmtpDeliveryError",
    "SmtpNotifier",
    "from_environment",
]

_log = logging.getLogger("govflow.smtp")

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

#: Chinese and English labels of the deadline steps (a lifecycle's own labels win).
DEADLINE_STEPS: Final[Mapping[str, tuple[str, str]]] = {
    "due_soon": ("即将到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
    "urge": ("催办", "reminder"),
    "supervise": ("督办", "supervision notice"),
    "interview": ("约谈", "interview"),
}

# Labels of the ledger data keys (English falls back to the key with spaces).
_KEYS_ZH: Final[Mapping[str, str]] = {
    "title": "问题标题", "lead": "牵头单位", "due": "完成时限", "cooperating": "配合单位",
    "description": "问题描述", "category": "问题类别", "responsible": "责任人", "note": "说明",
    "result": "落实结果", "evidence": "佐证材料", "reason": "理由", "rating": "满意度",
    "new_lead": "新牵头单位", "first": "第一责任人", "direct": "直接责任人",
}
_KEYS_EN: Final[Mapping[str, str]] = {
    "new_lead": "new lead unit", "lead": "lead unit", "cooperating": "cooperating units",
    "first": "first responsible", "direct": "directly responsible",
}
_UNIT_KEYS: Final = frozenset({"lead", "new_lead", "cooperating"})
# Data keys left out of the body: bookkeeping, or shown in the lines above the details.
_HIDDEN_KEYS: Final = frozenset({"lifecycle", "lifecycle_version", "title"})
_HIDDEN_ON_ASSIGN: Final = frozenset({"lead", "due"})
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})
_DOMAIN: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_ADDRESS_ACCEPTED: Final = "an email address such as 'ops@example.gov.cn' or '督办室 <ops@example.gov.cn>'"
_RECIPIENTS_ACCEPTED: Final = (
    f"a mapping of unit id to addresses (recipients={{...}}, or {ENV_RECIPIENTS} as JSON "
    "'{\"UNIT\": [\"a@x.cn\"]}' or as 'UNIT=a@x.cn,b@x.cn;UNIT2=c@y.cn')"
)


class SmtpConfigError(govflow.ValidationError):
    """An SMTP setting that cannot be used, raised when the notifier is constructed.

    ``field`` names the setting (the keyword argument, or the environment
    variable it was read from), ``problem`` what is wrong and ``accepted``
    what would be accepted. Also a :class:`ValueError` and a
    :class:`govflow.GovflowError`.
    """


class SmtpDeliveryError(govflow.GovflowError):
    """An email could not be composed or sent: the server refused it, or could not be reached.

    govflow's outbox records the message and retries. ``idempotency_key``
    names the event.
    """

    def __init__(self, idempotency_key: str, problem: str) -> None:
        self.idempotency_key = idempotency_key
        self.problem = problem
        super().__init__(f"email for event {idempotency_key} was not sent: {problem}")


class Mailbox(NamedTuple):
    """One configured address: ``header`` as written in From/To/Cc, ``address`` the bare one for the envelope."""

    header: str
    address: str


def _mailbox(text: object, setting: str) -> Mailbox:
    if not isinstance(text, str):
        raise SmtpConfigError(setting, f"got {text!r}", _ADDRESS_ACCEPTED)
    name, address = parseaddr(text.strip())
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address):
        raise SmtpConfigError(setting, f"{text!r} is not an email address", _ADDRESS_ACCEPTED)
    return Mailbox(formataddr((name, address)) if name else address, address)


def _split_addresses(text: str) -> list[str]:
    return [part for part in (p.strip() for p in text.split(",")) if part]


def _parse_recipients(text: str, setting: str) -> object:
    text = text.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SmtpConfigError(setting, f"is not valid JSON ({exc})", _RECIPIENTS_ACCEPTED) from None
    parsed: dict[str, list[str]] = {}
    for part in re.split(r"[;\n]+", text):
        if not part.strip():
            continue
        unit, sep, addresses = part.partition("=")
        if not sep or not unit.strip():
            raise SmtpConfigError(setting, f"{part.strip()!r} is not UNIT=address[,address...]", _RECIPIENTS_ACCEPTED)
        parsed.setdefault(unit.strip(), []).extend(_split_addresses(addresses))
    return parsed


def _check_recipients(raw: object, setting: str) -> dict[str, tuple[Mailbox, ...]]:
    if not isinstance(raw, Mapping):
        raise SmtpConfigError(setting, f"got {raw!r}", _RECIPIENTS_ACCEPTED)
    checked: dict[str, tuple[Mailbox, ...]] = {}
    for unit, addresses in raw.items():
        if not isinstance(unit, str) or not unit.strip():
            raise SmtpConfigError(setting, f"unit id {unit!r}", _RECIPIENTS_ACCEPTED)
        listed = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(listed, Sequence):
            raise SmtpConfigError(f"{setting}[{unit!r}]", f"got {addresses!r}", "an address or a list of addresses")
        checked[unit] = tuple(_mailbox(item, f"{setting}[{unit!r}]") for item in listed)
    return checked


def _read_bool(value: object, setting: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SmtpConfigError(setting, f"got {value!r}", "true/false, yes/no, on/off or 1/0")


def _read_number(value: object, setting: str, accepted: str, *, integer: bool) -> float:
    if isinstance(value, bool):
        raise SmtpConfigError(setting, f"got {value!r}", accepted)
    try:
        number = int(value) if integer else float(value)  # type: ignore[call-overload, arg-type]
    except (TypeError, ValueError):
        raise SmtpConfigError(setting, f"got {value!r}", accepted) from None
    if integer and isinstance(value, float) and value != number:
        raise SmtpConfigError(setting, f"got {value!r}", accepted)
    return number


def _setting(value: object | None, keyword: str, variable: str) -> tuple[object | None, str]:
    """The keyword's value if given, else the environment variable's (None when unset or empty)."""
    if value is not None:
        return value, keyword
    raw = os.environ.get(variable, "")
    return (raw if raw.strip() else None), variable


class SmtpNotifier:
    """A govflow plugin that emails every transition and deadline step to the units concerned.

    Every keyword left out is read from the environment (``GOVFLOW_SMTP_HOST``,
    ``_PORT``, ``_USER``, ``_PASSWORD``, ``_SENDER``, ``_STARTTLS``, ``_SSL``,
    ``_TIMEOUT``, ``_RECIPIENTS``, ``_CC``); the entry point,
    :func:`from_environment`, builds it from those alone::

        notifier = SmtpNotifier(
            host="smtp.example.gov.cn", port=587, starttls=True, user="govflow", password="...",
            sender="督办系统 <govflow@example.gov.cn>",
            recipients={"XIANGYUN": ["ducha@xiangyun.example.gov.cn"]}, cc=["archive@example.gov.cn"],
        )
        flow = govflow.open("supervision.sqlite3", plugins=[notifier])

    A missing or unusable setting raises :class:`SmtpConfigError` here,
    naming the setting. ``recipients`` maps unit ids to addresses; ``cc``
    addresses get every email. ``tls_context`` (default: the system's
    trusted CAs) is used for STARTTLS and implicit TLS. ``name`` is the name
    the outbox records deliveries under; keep it stable. Each email opens its
    own SMTP connection, closed once the email is sent.

    The notifier keeps the flow it gets in ``govflow_startup`` to read issue
    titles, unit names and labels: give each flow its own instance.
    """

    #: The plugin name (the entry point's name); an instance may be given another.
    name: str = "smtp"
    #: The plugin's version, shown by ``flow.plugins()`` for an instance passed to ``govflow.open``.
    __version__: str = __version__

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        sender: str | None = None,
        recipients: Mapping[str, str | Sequence[str]] | None = None,
        cc: str | Sequence[str] | None = None,
        user: str | None = None,
        password: str | None = None,
        starttls: bool | None = None,
        use_ssl: bool | None = None,
        timeout: float | None = None,
        tls_context: ssl.SSLContext | None = None,
        name: str = "smtp",
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise SmtpConfigError("name", f"got {name!r}", "a non-empty plugin name, such as 'smtp'")
        self.name = name

        value, setting = _setting(host, "host", ENV_HOST)
        if value is None:
            raise SmtpConfigError(setting, "not set, and no host= was given", "the SMTP server's host name")
        if not isinstance(value, str) or not value.strip() or any(ch.isspace() for ch in value.strip()):
            raise SmtpConfigError(setting, f"got {value!r}", "the SMTP server's host name")
        self.host: str = value.strip()

        value, setting = _setting(starttls, "starttls", ENV_STARTTLS)
        self.starttls: bool = False if value is None else _read_bool(value, setting)
        value, setting = _setting(use_ssl, "use_ssl", ENV_SSL)
        self.use_ssl: bool = False if value is None else _read_bool(value, setting)
        if self.starttls and self.use_ssl:
            raise SmtpConfigError(
                setting, "both STARTTLS and implicit TLS were asked for", "at most one of starttls and use_ssl"
            )

        value, setting = _setting(port, "port", ENV_PORT)
        default_port = 465 if self.use_ssl else 587 if self.starttls else 25
        accepted = f"a port number from 1 to 65535 (default {default_port})"
        self.port: int = default_port if value is None else int(_read_number(value, setting, accepted, integer=True))
        if not 0 < self.port < 65536:
            raise SmtpConfigError(setting, f"got {value!r}", accepted)

        value, setting = _setting(timeout, "timeout", ENV_TIMEOUT)
        accepted = f"a number of seconds greater than 0 (default {DEFAULT_TIMEOUT})"
        self.timeout: float = (
            DEFAULT_TIMEOUT if value is None else _read_number(value, setting, accepted, integer=False)
        )
        if not math.isfinite(self.timeout) or self.timeout <= 0:
            raise SmtpConfigError(setting, f"got {value!r}", accepted)

        value, setting = _setting(sender, "sender", ENV_SENDER)
        if value is None:
            raise SmtpConfigError(setting, "not set, and no sender= was given", _ADDRESS_ACCEPTED)
        self._sender = _mailbox(value, setting)

        user_value, user_setting = _setting(user, "user", ENV_USER)
        password_value, password_setting = _setting(password, "password", ENV_PASSWORD)
        if user_value is not None and not isinstance(user_value, str):
            raise SmtpConfigError(user_setting, f"got {user_value!r}", "a login name")
        if password_value is not None and not isinstance(password_value, str):
            raise SmtpConfigError(password_setting, "not a string", "the login password")
        if user_value is not None and password_value is None:
            raise SmtpConfigError(password_setting, f"not set, but a user is ({user_setting})", "the login password")
        if user_value is None and password_value is not None:
            raise SmtpConfigError(user_setting, f"not set, but a password is ({password_setting})", "a login name")
        for text, where in ((user_value, user_setting), (password_value, password_setting)):
            if text is not None and not text.isascii():
                raise SmtpConfigError(where, "not ASCII (smtplib logs in with ASCII only)", "ASCII characters")
        self.user: str | None = user_value
        self._password: str | None = password_value

        value, setting = _setting(recipients, "recipients", ENV_RECIPIENTS)
        if isinstance(value, str) and setting == ENV_RECIPIENTS:
            value = _parse_recipients(value, setting)
        self.recipients: dict[str, tuple[Mailbox, ...]] = {} if value is None else _check_recipients(value, setting)

        value, setting = _setting(cc, "cc", ENV_CC)
        if isinstance(value, str):
            value = _split_addresses(value)
        if value is not None and not isinstance(value, Sequence):
            raise SmtpConfigError(setting, f"got {value!r}", "an address or a list of addresses")
        self.cc: tuple[Mailbox, ...] = tuple(_mailbox(item, setting) for item in value or ())

        if not self.cc and not any(self.recipients.values()):
            raise SmtpConfigError(
                ENV_RECIPIENTS if recipients is None else "recipients",
                f"no unit has an address and there is no cc address ({ENV_CC} / cc=)",
                _RECIPIENTS_ACCEPTED,
            )
        self._tls_context = tls_context
        self._flow: govflow.Govflow | None = None

    def __repr__(self) -> str:
        tls = " starttls" if self.starttls else " ssl" if self.use_ssl else ""
        login = f" user={self.user!r}" if self.user else ""
        return f"<SmtpNotifier {self.name!r} {self.host}:{self.port}{tls}{login} units={sorted(self.recipients)}>"

    @property
    def sender(self) -> str:
        """The From address, as written in the header."""
        return self._sender.header

    # -- the hooks --------------------------------------------------------------------------

    @govflow.hookimpl
    def govflow_startup(self, flow: govflow.Govflow) -> None:
        """Keep the flow, to read issue titles, unit names, leads and labels when composing."""
        self._flow = flow

    @govflow.hookimpl
    def govflow_after_transition(self, event: govflow.TransitionEvent) -> None:
        """Email a committed transition; raise :class:`SmtpDeliveryError` if it cannot be sent."""
        self._deliver(event)

    @govflow.hookimpl
    def govflow_deadline(self, event: govflow.DeadlineEvent) -> None:
        """Email a deadline step; raise :class:`SmtpDeliveryError` if it cannot be sent."""
        self._deliver(event)

    def _deliver(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> None:
        try:
            message = self.compose(event)
        except govflow.GovflowError as exc:  # e.g. NotFound: the issue is not in the bound flow
            raise SmtpDeliveryError(event.idempotency_key, f"cannot compose: {type(exc).__name__}: {exc}") from exc
        if message is not None:
            self.send(message)

    # -- composing ------------------------------------------------------------------------

    def units_for(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> list[str]:
        """The units an event concerns, in order, without duplicates.

        A transition: the lead unit before it, the lead unit after it (they
        differ for a reassignment) and the actor's unit. A deadline step: the
        issue's lead unit.
        """
        return self._units(self._bound_flow(), event)[0]

    @staticmethod
    def _units(
        flow: govflow.Govflow, event: govflow.TransitionEvent | govflow.DeadlineEvent
    ) -> tuple[list[str], str]:
        """The units concerned, and the lead unit to name in the email."""
        if isinstance(event, govflow.DeadlineEvent):
            lead = flow.get(event.issue_id).lead
            return [lead], lead
        before, after = _leads(flow, event)
        return list(dict.fromkeys(unit for unit in (before, after, event.actor) if unit)), after

    def compose(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> EmailMessage | None:
        """The email for an event, or None when none of its units has an address and there is no cc.

        Subject and body are in Chinese, then English. ``Date`` is the time
        of the event and ``Message-ID`` is derived from the idempotency key,
        so a retried email is the same message.
        """
        flow = self._bound_flow()
        issue = flow.get(event.issue_id)
        units, lead = self._units(flow, event)
        to = _unique([box for unit in units for box in self.recipients.get(unit, ())])
        cc = [box for box in _unique(self.cc) if box.address.casefold() not in {t.address.casefold() for t in to}]
        if not to:
            to, cc = cc, []
        if not to:
            _log.warning(
                "govflow-smtp %r: no address for units %s; event %s not emailed",
                self.name, ", ".join(units), event.idempotency_key,
            )
            return None
        text = _Text(flow, issue)
        if isinstance(event, govflow.TransitionEvent):
            subject, body = text.transition(event, lead)
            kind = "transition"
        else:
            subject, body = text.deadline(event)
            kind = "deadline"
        message = EmailMessage(policy=SMTP_POLICY)
        message["Subject"] = subject
        message["From"] = self._sender.header
        message["To"] = ", ".join(box.header for box in to)
        if cc:
            message["Cc"] = ", ".join(box.header for box in cc)
        message["Date"] = format_datetime(event.at)
        message["Message-ID"] = self._message_id(event)
        message["X-Govflow-Idempotency-Key"] = event.idempotency_key
        message["X-Govflow-Event"] = kind
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body, charset="utf-8", cte="base64")
        return message

    def _message_id(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> str:
        domain = self._sender.address.rpartition("@")[2]
        if not _DOMAIN.fullmatch(domain):
            domain = "govflow.invalid"
        digest = hashlib.sha256(
            f"{self._sender.address}\n{event.idempotency_key}\n{event.at.isoformat()}".encode()
        ).hexdigest()[:16]
        return f"<govflow.{quote(event.idempotency_key, safe='')}.{digest}@{domain}>"

    def _bound_flow(self) -> govflow.Govflow:
        if self._flow is None:
            raise govflow.GovflowError(
                f"plugin {self.name!r} has no flow: pass it to govflow.open(plugins=[...]) so govflow_startup runs"
            )
        return self._flow

    # -- sending ----------------------------------------------------------------------------

    def send(self, message: EmailMessage) -> None:
        """Send one composed email to its To and Cc addresses over a new SMTP connection.

        Raises :class:`SmtpDeliveryError` for a connection, TLS, login or
        SMTP error, or when every recipient is refused. When only some are
        refused the email is not sent again to the others: the refusals are
        logged as a warning.
        """
        key = str(message.get("X-Govflow-Idempotency-Key", ""))
        envelope: dict[str, str] = {}
        for address in _addresses(message):
            envelope.setdefault(address.casefold(), address)
        try:
            smtp = (
                smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
                if self.use_ssl
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            )
            with smtp:
                if self.starttls:
                    smtp.starttls(context=self._context())
                if self.user is not None and self._password is not None:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(message, from_addr=self._sender.address, to_addrs=list(envelope.values()))
        except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: e.g. a UnicodeError
            raise SmtpDeliveryError(key, f"{self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        if refused:
            _log.warning("govflow-smtp %r: event %s: recipients refused: %s", self.name, key, refused)

    def _context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context


def from_environment() -> SmtpNotifier | None:
    """The ``smtp`` entry point: a notifier configured from the environment, or None if it is not.

    Returns None, and govflow then loads no ``smtp`` plugin without a word,
    when ``GOVFLOW_SMTP_HOST`` is unset or blank. Otherwise returns
    ``SmtpNotifier()``, which reads every setting from the environment and
    raises :class:`SmtpConfigError` naming the setting that is missing or
    unusable (govflow turns that into a ``PluginWarning``, or a
    ``PluginLoadError`` with ``strict_plugins=True``).
    """
    if not os.environ.get(ENV_HOST, "").strip():
        return None
    return SmtpNotifier()


def _addresses(message: EmailMessage) -> list[str]:
    """The bare To and Cc addresses of a message, in order."""
    found: list[str] = []
    for field in ("To", "Cc"):
        header = message.get(field)
        if header is not None:
            found += [address.addr_spec for address in header.addresses]
    return found


def _unique(boxes: Sequence[Mailbox]) -> list[Mailbox]:
    seen: dict[str, Mailbox] = {}
    for box in boxes:
        seen.setdefault(box.address.casefold(), box)
    return list(seen.values())


def _leads(flow: govflow.Govflow, event: govflow.TransitionEvent) -> tuple[str | None, str]:
    """The issue's lead unit before and after the event's step, replayed from the ledger."""
    lead: str | None = None
    for entry in flow.ledger(event.issue_id):
        before = lead
        if entry.from_state is None and isinstance(entry.data.get("lead"), str):
            lead = entry.data["lead"]
        if isinstance(entry.data.get("new_lead"), str):
            lead = entry.data["new_lead"]
        if entry.seq == event.seq and lead is not None:
            return before, lead
    current = flow.get(event.issue_id).lead
    return current, current


def _both(zh: str, en: str) -> str:
    return zh if zh == en else f"{zh} {en}"


class _Text:
    """Subject and body of the emails about one issue, in Chinese then English."""

    def __init__(self, flow: govflow.Govflow, issue: govflow.Issue) -> None:
        self.flow = flow
        self.issue = issue

    def label(self, name: str | None, lang: str) -> str:
        if name is None:
            return "—"
        try:
            return self.flow.label(name, lang, self.issue.lifecycle)
        except govflow.GovflowError:
            return name

    def unit(self, unit_id: str) -> str:
        try:
            return self.flow.unit(unit_id).name
        except govflow.NotFound:
            return unit_id

    def unit_zh(self, unit_id: str) -> str:
        name = self.unit(unit_id)
        return name if name == unit_id else f"{name}（{unit_id}）"

    def unit_en(self, unit_id: str) -> str:
        name = self.unit(unit_id)
        return name if name == unit_id else f"{name} ({unit_id})"

    def value(self, key: str, value: Any, lang: str) -> str:
        zh = lang == "zh"
        if key in _UNIT_KEYS:
            units = [value] if isinstance(value, str) else list(value) if isinstance(value, Sequence) else None
            if units is not None and all(isinstance(u, str) for u in units):
                return ("、" if zh else ", ").join(self.unit_zh(u) if zh else self.unit_en(u) for u in units)
        if isinstance(value, Mapping):
            parts = [f"{self.key(str(k), lang)} {v}" for k, v in value.items() if v is not None]
            return ("；" if zh else "; ").join(parts) or "—"
        if isinstance(value, list | tuple):
            return ("、" if zh else ", ").join(str(item) for item in value)
        return str(value)

    @staticmethod
    def key(key: str, lang: str) -> str:
        if lang == "zh":
            return _KEYS_ZH.get(key, key)
        return _KEYS_EN.get(key, key.replace("_", " "))

    def items(self, data: Mapping[str, Any], lang: str) -> list[str]:
        colon = "：" if lang == "zh" else ": "
        return [
            f"  {self.key(key, lang)}{colon}{self.value(key, value, lang)}"
            for key, value in data.items()
            if value is not None
        ]

    def transition(self, event: govflow.TransitionEvent, lead: str) -> tuple[str, str]:
        issue = self.issue
        trigger = (self.label(event.trigger, "zh"), self.label(event.trigger, "en"))
        before = (self.label(event.from_state, "zh"), self.label(event.from_state, "en"))
        after = (self.label(event.to_state, "zh"), self.label(event.to_state, "en"))
        subject = f"【govflow】{issue.id} {_both(*trigger)}：{_both(*after)}"
        at = event.at.isoformat(sep=" ", timespec="minutes")
        zh = [
            f"问题编号：{issue.id}",
            f"问题标题：{issue.title}",
            f"事项：{trigger[0]}（{before[0]} → {after[0]}）",
            f"牵头单位：{self.unit_zh(lead)}",
            f"办理单位：{self.unit_zh(event.actor)}",
        ]
        en = [
            f"Issue: {issue.id}",
            f"Title: {issue.title}",
            f"Step: {trigger[1]} ({before[1]} → {after[1]})",
            f"Lead unit: {self.unit_en(lead)}",
            f"By: {self.unit_en(event.actor)}",
        ]
        if event.person:
            zh.append(f"经办人：{event.person}")
            en.append(f"Person: {event.person}")
        zh += [f"时间：{at}", f"完成时限：{issue.due.isoformat()}"]
        en += [f"Time: {at}", f"Due: {issue.due.isoformat()}"]
        hidden = _HIDDEN_KEYS | (_HIDDEN_ON_ASSIGN if event.from_state is None else frozenset())
        data = {key: value for key, value in event.data.items() if key not in hidden}
        details_zh, details_en = self.items(data, "zh"), self.items(data, "en")
        if details_zh:
            zh += ["内容：", *details_zh]
            en += ["Details:", *details_en]
        return subject, self.body("问题清单办理通知", zh, "Problem-list notice", en, event.idempotency_key)

    def deadline(self, event: govflow.DeadlineEvent) -> tuple[str, str]:
        issue = self.issue
        zh_step, en_step = DEADLINE_STEPS.get(event.step, (event.step, event.step))
        zh_step = self.label(event.step, "zh") if self.label(event.step, "zh") != event.step else zh_step
        en_step = self.label(event.step, "en") if self.label(event.step, "en") != event.step else en_step
        due = event.due.isoformat()
        subject = f"【govflow】{issue.id} {_both(zh_step, en_step)}：期限 due {due}"
        at = event.at.isoformat(sep=" ", timespec="minutes")
        zh = [
            f"问题编号：{issue.id}",
            f"问题标题：{issue.title}",
            f"提醒：{zh_step}（第 {event.level} 级）",
            f"牵头单位：{self.unit_zh(issue.lead)}",
            f"完成时限：{due}",
            f"当前状态：{self.label(issue.state, 'zh')}",
            f"时间：{at}",
        ]
        en = [
            f"Issue: {issue.id}",
            f"Title: {issue.title}",
            f"Notice: {en_step} (level {event.level})",
            f"Lead unit: {self.unit_en(issue.lead)}",
            f"Due: {due}",
            f"State: {self.label(issue.state, 'en')}",
            f"Time: {at}",
        ]
        return subject, self.body("问题清单时限提醒", zh, "Problem-list deadline notice", en, event.idempotency_key)

    @staticmethod
    def body(title_zh: str, zh: list[str], title_en: str, en: list[str], key: str) -> str:
        lines = [f"【govflow】{title_zh}", "", *zh, "", "—" * 20, "", f"govflow: {title_en}", "", *en, ""]
        lines.append("（本邮件由 govflow 自动发送，请勿直接回复。）")
        lines.append(f"(Sent by govflow; do not reply. Idempotency key: {key})")
        return "\n".join(lines) + "\n"
