"""govflow-webhook: govflow events POSTed as HMAC-signed JSON to HTTP endpoints (httpx).

Installed, it is the ``webhook`` plugin of the ``govflow`` entry-point group:
:func:`from_environment` configures it from ``GOVFLOW_WEBHOOK_URLS``,
``GOVFLOW_WEBHOOK_SECRET`` and ``GOVFLOW_WEBHOOK_TIMEOUT``, and leaves it out
where ``GOVFLOW_WEBHOOK_URLS`` is not set. Or construct it yourself (an
instance passed to ``govflow.open`` wins over the entry point of the same name)::

    import govflow
    from govflow_webhook import WebhookNotifier

    flow = govflow.open("supervision.sqlite3",
                        plugins=[WebhookNotifier(urls=["https://ops.example.gov.cn/govflow"], secret="s3cret")])
"""

from ._version import __version__
from ._webhook import (
    DEFAULT_TIMEOUT,
    ENV_SECRET,
    ENV_TIMEOUT,
    ENV_URLS,
    MAX_RESPONSE_BYTES,
    WebhookConfigError,
    WebhookDeliveryError,
    WebhookNotifier,
    encode_event,
    event_kind,
    event_payload,
    from_environment,
    sign,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_SECRET",
    "ENV_TIMEOUT",
    "ENV_URLS",
    "MAX_RESPONSE_BYTES",
    "WebhookConfigError",
    "WebhookDeliveryError",
    "WebhookNotifier",
    "__version__",
    "encode_event",
    "event_kind",
    "event_payload",
    "from_environment",
    "sign",
]
