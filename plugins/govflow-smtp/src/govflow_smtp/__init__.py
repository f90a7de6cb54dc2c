"""govflow-smtp: one bilingual (Chinese, then English) email per govflow event, sent with smtplib.

Installed, it is the ``smtp`` plugin of the ``govflow`` entry-point group:
:func:`from_environment` configures it from ``GOVFLOW_SMTP_*`` environment
variables, and leaves it out where ``GOVFLOW_SMTP_HOST`` is not set. Or
construct it yourself (an instance passed to ``govflow.open`` wins over the
entry point of the same name)::

    import govflow
    from govflow_smtp import SmtpNotifier

    mailer = SmtpNotifier(host="smtp.example.gov.cn", sender="督办系统 <govflow@example.gov.cn>",
                          recipients={"XIANGYUN": ["ducha@xiangyun.example.gov.cn"]})
    flow = govflow.open("supervision.sqlite3", plugins=[mailer])
"""

from ._config import (
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
    Mailbox,
    SmtpConfigError,
)
from ._smtp import SmtpDeliveryError, SmtpHeaderError, SmtpNotifier, from_environment
from ._text import DEADLINE_STEPS
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
    "SmtpHeaderError",
    "SmtpNotifier",
    "__version__",
    "from_environment",
]
