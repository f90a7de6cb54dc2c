"""The webhook notifier: each govflow event POSTed as HMAC-signed JSON, one ``httpx.Client`` per notifier.

The body is the event as compact UTF-8 JSON (``kind`` first, then every field
of the event; dates and datetimes in ISO 8601). The signature header carries
``sha256=`` and the hex HMAC-SHA256 of exactly those bytes under the shared
secret. A non-2xx answer, a timeout or a network error raises
:class:`WebhookDeliveryError`, so govflow's outbox records it and retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import os
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote, urlsplit

import attrs
import httpx

import govflow

from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_SECRET",
    "ENV_TIMEOUT",
    "ENV_URLS",
    "MAX_RESPONSE_BYTES",
    "WebhookConfigError",
    "WebhookDeliveryError",
    "WebhookNotifier",
    "encode_event",
    "event_kind",
    "event_payload",
    "from_environment",
    "sign",
]

#: Environment variable: the endpoint URLs, separated by commas and/or whitespace.
ENV_URLS: Final = "GOVFLOW_WEBHOOK_URLS"
#: Environment variable: the shared secret the body is signed with (HMAC-SHA256).
ENV_SECRET: Final = "GOVFLOW_WEBHOOK_SECRET"
#: Environment variable: the timeout of each request, in seconds.
ENV_TIMEOUT: Final = "GOVFLOW_WEBHOOK_TIMEOUT"
#: The timeout of each request, in seconds, when none is configured.
DEFAULT_TIMEOUT: Final = 5.0
#: The most bytes of a receiver's answer read (the status is what counts; the rest is dropped).
MAX_RESPONSE_BYTES: Final = 64 * 1024

_URLS_ACCEPTED: Final = (
    f"one or more absolute http:// or https:// URLs (urls=[...], or {ENV_URLS} separated by commas or spaces)"
)
_SECRET_ACCEPTED: Final = f"a non-empty shared secret (secret=..., or {ENV_SECRET}) to sign each body with HMAC-SHA256"
_TIMEOUT_ACCEPTED: Final = (
    f"a number of seconds greater than 0 (timeout=..., or {ENV_TIMEOUT}); default {DEFAULT_TIMEOUT}"
)
# Events whose delivery reached some URLs but not all, remembered so a retry skips those URLs.
_PARTIAL_LIMIT: Final = 4096
# Characters an idempotency key may keep as they are in a header; anything else is percent-encoded.
_HEADER_SAFE: Final = re.compile(r"[!-~]*")


class WebhookConfigError(govflow.ValidationError):
    """A webhook setting that cannot be used, raised when the notifier is constructed.

    ``field`` names the setting (the keyword argument, or the environment
    variable it was read from), ``problem`` what is wrong and ``accepted``
    what would be accepted. Also a :class:`ValueError` and a
    :class:`govflow.GovflowError`.
    """


class WebhookDeliveryError(govflow.GovflowError):
    """An event did not reach every endpoint: a non-2xx answer, a timeout or a network error.

    ``failures`` holds one line per endpoint that failed, naming its origin
    (scheme, host and port; never the path or query, which may hold tokens)
    and what happened. govflow's outbox records the message and retries.
    """

    def __init__(self, idempotency_key: str, failures: Sequence[str]) -> None:
        self.idempotency_key = idempotency_key
        self.failures = tuple(failures)
        super().__init__(f"event {idempotency_key} was not delivered: " + "; ".join(self.failures))


def event_kind(event: govflow.TransitionEvent | govflow.DeadlineEvent) -> str:
    """``"transition"`` or ``"deadline"``: the ``kind`` of the body and the ``X-Govflow-Event`` header."""
    if isinstance(event, govflow.TransitionEvent):
        return "transition"
    if isinstance(event, govflow.DeadlineEvent):
        return "deadline"
    raise TypeError(f"not a govflow event: {event!r}")


def event_payload(event: govflow.TransitionEvent | govflow.DeadlineEvent) -> dict[str, Any]:
    """The JSON object sent for an event: ``kind``, then every field of the event, in order.

    Values are left as they are; :func:`encode_event` turns dates and
    datetimes into ISO 8601 strings.
    """
    payload: dict[str, Any] = {"kind": event_kind(event)}
    payload.update(attrs.asdict(event, recurse=False))
    return payload


def _json_default(value: object) -> object:
    if isinstance(value, dt.date | dt.time):  # dt.datetime is a dt.date
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"a {type(value).__name__} in the event cannot be encoded as JSON: {value!r}")


def encode_event(event: govflow.TransitionEvent | govflow.DeadlineEvent) -> bytes:
    """The exact body bytes POSTed for an event: compact JSON, UTF-8, non-ASCII kept as is."""
    text = json.dumps(event_payload(event), ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return text.encode("utf-8")


def sign(body: bytes, secret: str | bytes) -> str:
    """The ``X-Govflow-Signature`` value: ``"sha256="`` and the hex HMAC-SHA256 of ``body``.

    A ``str`` secret is encoded as UTF-8. Receivers compute the same and
    compare with :func:`hmac.compare_digest`.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


def _header_value(key: str) -> str:
    """The key itself if it is printable ASCII, else percent-encoded as UTF-8."""
    if _HEADER_SAFE.fullmatch(key):
        return key
    return quote(key, safe="!#$&'()*+,-./:;=?@[]^_`{|}~")


def _check_urls(urls: Sequence[str], setting: str) -> tuple[str, ...]:
    if not urls:
        raise WebhookConfigError(setting, "no URL was given", _URLS_ACCEPTED)
    checked: list[str] = []
    for url in urls:
        if not isinstance(url, str):
            raise WebhookConfigError(setting, f"got {url!r}", _URLS_ACCEPTED)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise WebhookConfigError(setting, f"{url!r} is not a valid URL ({exc})", _URLS_ACCEPTED) from None
        if parts.scheme.lower() not in ("http", "https"):
            scheme = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
            raise WebhookConfigError(setting, f"{url!r} has {scheme}", _URLS_ACCEPTED)
        if not parts.hostname:
            raise WebhookConfigError(setting, f"{url!r} has no host", _URLS_ACCEPTED)
        if url not in checked:
            checked.append(url)
    return tuple(checked)


def _read_timeout(value: object, setting: str) -> float:
    if isinstance(value, bool):
        raise WebhookConfigError(setting, f"got {value!r}", _TIMEOUT_ACCEPTED)
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise WebhookConfigError(setting, f"got {value!r}", _TIMEOUT_ACCEPTED) from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise WebhookConfigError(setting, f"got {value!r}", _TIMEOUT_ACCEPTED)
    return seconds


class WebhookNotifier:
    """A govflow plugin that POSTs every transition and deadline step to one or more URLs.

    Every keyword left out is read from the environment:
    ``GOVFLOW_WEBHOOK_URLS`` (comma- or space-separated), ``GOVFLOW_WEBHOOK_SECRET``
    and ``GOVFLOW_WEBHOOK_TIMEOUT`` (seconds, default 5); the entry point,
    :func:`from_environment`, builds it from those alone::

        notifier = WebhookNotifier(urls=["https://ops.example.gov.cn/govflow"], secret="s3cret")
        flow = govflow.open("supervision.sqlite3", plugins=[notifier])

    A missing or unusable setting raises :class:`WebhookConfigError` here,
    naming the setting. ``urls`` (a tuple) and ``timeout`` (seconds) are the
    settings in use; the secret is kept out of ``repr``. ``name`` is the name
    the outbox records deliveries under; keep it stable. Requests go through
    one :class:`httpx.Client`,
    opened on the first delivery and closed by :meth:`close` (or when the
    notifier is garbage-collected, or at interpreter exit).
    """

    #: The plugin name (the entry point's name); an instance may be given another.
    name: str = "webhook"
    #: The plugin's version, shown by ``flow.plugins()`` for an instance passed to ``govflow.open``.
    __version__: str = __version__

    def __init__(
        self,
        *,
        urls: str | Sequence[str] | None = None,
        secret: str | bytes | None = None,
        timeout: float | None = None,
        name: str = "webhook",
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise WebhookConfigError("name", f"got {name!r}", "a non-empty plugin name, such as 'webhook'")
        self.name = name
        if urls is None:
            raw = os.environ.get(ENV_URLS, "")
            if not raw:
                raise WebhookConfigError(ENV_URLS, "not set, and no urls= was given", _URLS_ACCEPTED)
            self.urls = _check_urls([url for url in re.split(r"[\s,]+", raw) if url], ENV_URLS)
        else:
            self.urls = _check_urls([urls] if isinstance(urls, str) else list(urls), "urls")
        if secret is None:
            secret = os.environ.get(ENV_SECRET, "")
            if not secret:
                raise WebhookConfigError(ENV_SECRET, "not set, and no secret= was given", _SECRET_ACCEPTED)
        elif not isinstance(secret, str | bytes) or not secret:
            raise WebhookConfigError("secret", "an empty or non-string secret", _SECRET_ACCEPTED)
        self._secret: bytes = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if timeout is None:
            raw_timeout = os.environ.get(ENV_TIMEOUT, "").strip()
            self.timeout = _read_timeout(raw_timeout, ENV_TIMEOUT) if raw_timeout else DEFAULT_TIMEOUT
        else:
            self.timeout = _read_timeout(timeout, "timeout")
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._finalizer: weakref.finalize[[], WebhookNotifier] | None = None
        self._partial: OrderedDict[bytes, set[str]] = OrderedDict()

    def __repr__(self) -> str:
        origins = ", ".join(_origin(url) for url in self.urls)
        return f"<WebhookNotifier {self.name!r} -> {origins} timeout={self.timeout}s>"

    # -- the hooks --------------------------------------------------------------------------

    @govflow.hookimpl
    def govflow_after_transition(self, event: govflow.TransitionEvent) -> None:
        """POST a committed transition to every URL; raise :class:`WebhookDeliveryError` if one fails."""
        self.send(event)

    @govflow.hookimpl
    def govflow_deadline(self, event: govflow.DeadlineEvent) -> None:
        """POST a deadline step to every URL; raise :class:`WebhookDeliveryError` if one fails."""
        self.send(event)

    # -- delivery ---------------------------------------------------------------------------

    def headers(self, event: govflow.TransitionEvent | govflow.DeadlineEvent, body: bytes) -> dict[str, str]:
        """The headers sent with ``body`` for ``event`` (the signature is over ``body``).

        A non-ASCII idempotency key is percent-encoded (UTF-8) in its header;
        the body carries it as it is.
        """
        return {
            "Content-Type": "application/json",
            "X-Govflow-Event": event_kind(event),
            "X-Govflow-Idempotency-Key": _header_value(event.idempotency_key),
            "X-Govflow-Signature": sign(body, self._secret),
        }

    def send(self, event: govflow.TransitionEvent | govflow.DeadlineEvent) -> None:
        """POST ``event`` to every URL that has not taken it yet.

        Every URL is tried even when an earlier one fails; then, if any
        failed, :class:`WebhookDeliveryError` lists them. A retry of the same
        event by this notifier skips the URLs that already answered 2xx
        (receivers still drop duplicates by the idempotency key: delivery is
        at least once). An event whose data cannot be encoded as JSON raises
        (a :class:`TypeError`) before any request is made; the outbox counts
        that as a failed attempt like any other.
        """
        body = encode_event(event)
        headers = self.headers(event, body)
        digest = hashlib.sha256(body).digest()
        with self._lock:
            done = set(self._partial.get(digest, ()))
        client = self._http()
        failures: list[str] = []
        for url in self.urls:
            if url in done:
                continue
            try:
                status, reason = self._post(client, url, body, headers)
            except httpx.TimeoutException as exc:
                failures.append(f"{_origin(url)}: timed out after {self.timeout:g} s ({type(exc).__name__})")
            except _DeadlinePassed:
                failures.append(f"{_origin(url)}: timed out after {self.timeout:g} s (no whole answer by then)")
                client = self._http()  # the old client was given up with its request
            except Exception as exc:
                failures.append(f"{_origin(url)}: {type(exc).__name__}: {exc}")
            else:
                if 200 <= status < 300:
                    done.add(url)
                else:
                    failures.append(f"{_origin(url)}: answered {status} {reason}".rstrip())
        with self._lock:
            if failures and done:
                self._partial[digest] = done
                self._partial.move_to_end(digest)
                while len(self._partial) > _PARTIAL_LIMIT:
                    self._partial.popitem(last=False)
            else:
                self._partial.pop(digest, None)
        if failures:
            raise WebhookDeliveryError(event.idempotency_key, failures)

    def _post(self, client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """POST and read the answer (at most :data:`MAX_RESPONSE_BYTES`) within ``timeout`` in all.

        httpx's timeout bounds each read, not the whole: a receiver that drips a byte at a time
        would hold the worker for ever. The request runs in a thread of its own; when the
        deadline passes first, its client is given up (closed, a new one made for what follows)
        and :class:`_DeadlinePassed` is raised, so a delivery never takes much longer than ``timeout``.
        """
        answer: list[tuple[int, str]] = []
        error: list[BaseException] = []

        def run() -> None:
            try:
                with client.stream("POST", url, content=body, headers=headers) as response:
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            break  # enough: the status is the answer
                    answer.append((response.status_code, response.reason_phrase))
            except BaseException as exc:  # handed to the caller
                error.append(exc)

        worker = threading.Thread(target=run, name="govflow-webhook-post", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            with self._lock:
                if self._client is client:
                    finalizer, self._finalizer, self._client = self._finalizer, None, None
                    if finalizer is not None:
                        finalizer.detach()
            # Closing the connections ends the stalled read soon; the worker is a daemon either way.
            threading.Thread(target=client.close, name="govflow-webhook-close", daemon=True).start()
            raise _DeadlinePassed
        if error:
            raise error[0]
        return answer[0]

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                client = httpx.Client(
                    timeout=self.timeout,
                    follow_redirects=False,
                    headers={"User-Agent": f"govflow-webhook/{__version__}"},
                )
                self._client = client
                self._finalizer = weakref.finalize(self, client.close)
            return self._client

    # -- resources --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client and its connections; a later delivery opens a new one."""
        with self._lock:
            finalizer, self._finalizer, self._client = self._finalizer, None, None
        if finalizer is not None:
            finalizer()

    def __enter__(self) -> WebhookNotifier:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _DeadlinePassed(Exception):
    """A request got no whole answer within the notifier's timeout."""


def from_environment() -> WebhookNotifier | None:
    """The ``webhook`` entry point: a notifier configured from the environment, or None if it is not.

    Returns None, and govflow then loads no ``webhook`` plugin without a
    word, when ``GOVFLOW_WEBHOOK_URLS`` is unset or blank. Otherwise returns
    ``WebhookNotifier()``, which reads every setting from the environment and
    raises :class:`WebhookConfigError` naming the setting that is missing or
    unusable (govflow turns that into a ``PluginWarning``, or a
    ``PluginLoadError`` with ``strict_plugins=True``).
    """
    if not os.environ.get(ENV_URLS, "").strip():
        return None
    return WebhookNotifier()
