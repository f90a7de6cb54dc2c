"""The SMTP notifier: one bilingual (Chinese, then English) email per govflow event.

Who gets it: the addresses configured for the units concerned (for a
transition the issue's lead unit and the actor's unit, both the old and the
new lead for a reassignment; for a deadline step the lead unit), plus the
always-cc addresses, deduplicated. The lead unit is the one at the step, not
at delivery (see :mod:`._recipients`). Sent with :mod:`smtplib` (optional
STARTTLS or implicit TLS, optional login); any SMTP or network error raises
:class:`SmtpDeliveryError`, so govflow's outbox records it and retries.
Settings are read in :mod:`._config`, the wording is in :mod:`._text`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Final
from urllib.parse import quote

import govflow

from . import _config
from ._config import (
    ADDRESS_ACCEPTED,
    DEFAULT_TIMEOUT,
    ENV_CC,
    ENV_HOST,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_RECIPIENTS,
    ENV_SENDER,
    ENV_SSL,
    ENV_STARTTLS,
    ENV_TIMEOUT,
    ENV_USER,
    RECIPIENTS_ACCEPTED,
    Mailbox,
    SmtpConfigError,
)
from ._recipients import step_units, subject_issue, unique
from ._text import Text
from ._version import __version__

__all__ = ["SmtpDeliveryError", "SmtpHeaderError", "SmtpNotifier", "from_environment"]

_log = logging.getLogger("govflow.smtp")

_DOMAIN: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class SmtpDeliveryError(govflow.GovflowError):
    """An email could not be composed or sent: the server refused it, or could not be reached.

    govflow's outbox records the message and retries. ``idempotency_key``
    names the event.
    """

    def __init__(self, idempotency_key: str, problem: str) -> None:
        self.idempotency_key = idempotency_key
        self.problem = problem
        super().__init__(f"email for event {idempotency_key} was not sent: {problem}")


class SmtpHeaderError(SmtpDeliveryError):
    """A header value held a line break (CR or LF): refused rather than sent (header injection).

    ``header`` names the header.
    """

    def __init__(self, idempotency_key: str, header: str) -> None:
        self.header = header
        super().__init__(
            idempotency_key, f"the {header} header would hold a line break (CR/LF): refused, a header "
            "value is one line"
        )


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

        value, setting = _config.setting(host, "host", ENV_HOST)
        if value is None:
            raise SmtpConfigError(setting, "not set, and no host= was given", "the SMTP server's host name")
        if not isinstance(value, str) or not value.strip() or any(ch.isspace() for ch in value.strip()):
            raise SmtpConfigError(setting, f"got {value!r}", "the SMTP server's host name")
        self.host: str = value.strip()

        value, setting = _config.setting(starttls, "starttls", ENV_STARTTLS)
        self.starttls: bool = False if value is None else _config.read_bool(value, setting)
        value, setting = _config.setting(use_ssl, "use_ssl", ENV_SSL)
        self.use_ssl: bool = False if value is None else _config.read_bool(value, setting)
        if self.starttls and self.use_ssl:
            raise SmtpConfigError(
                setting, "both STARTTLS and implicit TLS were asked for", "at most one of starttls and use_ssl"
            )

        value, setting = _config.setting(port, "port", ENV_PORT)
        default_port = 465 if self.use_ssl else 587 if self.starttls else 25
        accepted = f"a port number from 1 to 65535 (default {default_port})"
        self.port: int = (
            default_port if value is None else int(_config.read_number(value, setting, accepted, integer=True))
        )
        if not 0 < self.port < 65536:
            raise SmtpConfigError(setting, f"got {value!r}", accepted)

        value, setting = _config.setting(timeout, "timeout", ENV_TIMEOUT)
        accepted = f"a number of seconds greater than 0 (default {DEFAULT_TIMEOUT})"
        self.timeout: float = (
            DEFAULT_TIMEOUT if value is None else _config.read_number(value, setting, accepted, integer=False)
        )
        if not math.isfinite(self.timeout) or self.timeout <= 0:
            raise SmtpConfigError(setting, f"got {value!r}", accepted)

        value, setting = _config.setting(sender, "sender", ENV_SENDER)
        if value is None:
            raise SmtpConfigError(setting, "not set, and no sender= was given", ADDRESS_ACCEPTED)
        self._sender = _config.mailbox(value, setting)

        user_value, user_setting = _config.setting(user, "user", ENV_USER)
        password_value, password_setting = _config.setting(password, "password", ENV_PASSWORD)
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

        value, setting = _config.setting(recipients, "recipients", ENV_RECIPIENTS)
        if isinstance(value, str) and setting == ENV_RECIPIENTS:
            value = _config.parse_recipients(value, setting)
        self.recipients: dict[str, tuple[Mailbox, ...]] = (
            {} if value is None else _config.check_recipients(value, setting)
        )

        value, setting = _config.setting(cc, "cc", ENV_CC)
        if isinstance(value, str):
            value = _config.split_addresses(value)
        if value is not None and not isinstance(value, Sequence):
            raise SmtpConfigError(setting, f"got {value!r}", "an address or a list of addresses")
        self.cc: tuple[Mailbox, ...] = tuple(_config.mailbox(item, setting) for item in value or ())

        if not self.cc and not any(self.recipients.values()):
            raise SmtpConfigError(
                ENV_RECIPIENTS if recipients is None else "recipients",
                f"no unit has an address and there is no cc address ({ENV_CC} / cc=)",
                RECIPIENTS_ACCEPTED,
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
        except SmtpDeliveryError:
            raise
        except govflow.GovflowError as exc:  # e.g. NotFound: the issue is not in the bound flow
            raise SmtpDeliveryError(event.idempotency_key, f"cannot compose: {type(exc).__name__}: {exc}") from exc
        if message is not None:
            self.send(message)

    # -- composing ------------------------------------------------------------------------

    def units_for(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> list[str]:
        """The units an event concerns, in order, without duplicates.

        A transition: the lead unit before it, the lead unit after it (they
        differ for a reassignment) and the actor's unit. A deadline step: the
        issue's lead unit at that step. Leads are read from the ledger as of
        the event's step, so an email delivered after a reassignment still
        goes to the lead of its time.
        """
        return step_units(self._bound_flow(), event).units

    def compose(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> EmailMessage | None:
        """The email for an event, or None when none of its units has an address and there is no cc.

        Subject and body are in Chinese, then English. ``Date`` is the time
        of the event and ``Message-ID`` is derived from the idempotency key,
        so a retried email is the same message.
        """
        flow = self._bound_flow()
        issue = subject_issue(flow, event.issue_id)
        units, lead, state = step_units(flow, event)
        to = unique([box for unit in units for box in self.recipients.get(unit, ())])
        cc = [box for box in unique(self.cc) if box.address.casefold() not in {t.address.casefold() for t in to}]
        if not to:
            to, cc = cc, []
        if not to:
            _log.warning(
                "govflow-smtp %r: no address for units %s; event %s not emailed",
                self.name, ", ".join(units), event.idempotency_key,
            )
            return None
        text = Text(flow, issue)
        if isinstance(event, govflow.TransitionEvent):
            subject, body = text.transition(event, lead)
            kind = "transition"
        else:
            subject, body = text.deadline(event, lead, state)
            kind = "deadline"
        headers = {
            "Subject": subject, "From": self._sender.header, "To": ", ".join(box.header for box in to),
            "Cc": ", ".join(box.header for box in cc), "Date": format_datetime(event.at),
            "Message-ID": self._message_id(event), "X-Govflow-Idempotency-Key": event.idempotency_key,
            "X-Govflow-Event": kind, "Auto-Submitted": "auto-generated",
        }
        message = EmailMessage(policy=SMTP_POLICY)
        for header, value in headers.items():
            if "\r" in value or "\n" in value:
                raise SmtpHeaderError(event.idempotency_key, header)
            if value:
                message[header] = value
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
