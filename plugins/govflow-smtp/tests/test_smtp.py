"""govflow-smtp against a real aiosmtpd server on 127.0.0.1, started by the tests.

The tests pass their own notifier to ``govflow.open(plugins=[...])`` under the
name ``smtp-test`` and block every installed ``govflow`` entry point (this
package's own included), so they run the same whether or not the package is
installed; the tests at the end load the entry point (installed, or a
stand-in dist-info made from pyproject.toml) configured from the environment.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import importlib.metadata
import logging
import shutil
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from govflow_smtp import SmtpConfigError, SmtpDeliveryError, SmtpNotifier, from_environment

import govflow
from govflow import RetryPolicy
from govflow.testing import FakeClock

NAME = "smtp-test"
SENDER = "督办系统 <govflow@dali.example.cn>"
RECIPIENTS = {
    "OFFICE": ["office@dali.example.cn"],
    "XIANGYUN": ["ducha@xiangyun.example.cn", "张科长 <zhang@xiangyun.example.cn>"],
    "BINCHUAN": "ducha@binchuan.example.cn",
}
CC = ["archive@dali.example.cn", "OFFICE@dali.example.cn"]
POLICY = RetryPolicy(max_attempts=3, first_delay=dt.timedelta(seconds=30))


@attrs.frozen
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    login: bytes | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


class Mailbox:
    """An aiosmtpd handler that keeps every envelope."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(Received(
            envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content or envelope.content,
            session.ssl is not None, login,
        ))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(port: int, **options: Any) -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiosmtpd warns about AUTH without TLS
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
        controller.start()
    return controller, mailbox


@pytest.fixture
def server() -> Iterator[tuple[int, Mailbox]]:
    port = free_port()
    controller, mailbox = serve(port)
    yield port, mailbox
    controller.stop()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No installed govflow plugin and no SMTP settings from the environment."""
    installed = sorted({ep.name for ep in importlib.metadata.entry_points(group="govflow")})
    monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", ",".join(installed))
    for suffix in ("HOST", "PORT", "USER", "PASSWORD", "SENDER", "STARTTLS", "SSL", "TIMEOUT", "RECIPIENTS", "CC"):
        monkeypatch.delenv(f"GOVFLOW_SMTP_{suffix}", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-03-02T09:00:00+08:00")


@pytest.fixture(params=["memory", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ":memory:" if request.param == "memory" else str(tmp_path / "smtp.sqlite3")


def mailer(port: int, **options: Any) -> SmtpNotifier:
    settings: dict[str, Any] = {"recipients": RECIPIENTS, "cc": CC, "timeout": 5}
    settings.update(options)
    return SmtpNotifier(host="127.0.0.1", port=port, sender=SENDER, name=NAME, **settings)


def open_flow(target: str, clock: FakeClock, plugin: SmtpNotifier, **options: Any) -> govflow.Govflow:
    options.setdefault("delivery", "manual")
    flow = govflow.open(target, clock=clock, plugins=[plugin], retry=POLICY, **options)
    flow.add_unit("OFFICE", "大理州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    flow.add_unit("BINCHUAN", "宾川县", level="county", parent="OFFICE")
    return flow


def test_a_transition_is_emailed_in_chinese_then_english(
    target: str, clock: FakeClock, server: tuple[int, Mailbox]
) -> None:
    port, mailbox = server
    with open_flow(target, clock, mailer(port)) as flow:
        issue = flow.assign("道路积水严重", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        clock.advance(hours=2)
        flow.implement(issue.id, by=govflow.Actor("XIANGYUN", "张三"), note="已疏通排水沟")
        assert mailbox.received == [], "manual delivery: nothing is sent before flow.deliver()"
        assert flow.deliver().delivered == 2
        assert [row.plugin for row in flow.outbox.delivered()] == [NAME, NAME]

    assign, implement = mailbox.received
    # Envelope: the lead unit and the actor's unit (deduplicated), then the cc addresses not already there.
    assert assign.mail_from == "govflow@dali.example.cn"
    assert assign.rcpt_tos == (
        "ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn", "office@dali.example.cn", "archive@dali.example.cn",
    )
    assert implement.rcpt_tos == (
        "ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn", "archive@dali.example.cn", "OFFICE@dali.example.cn",
    )
    message = implement.message
    assert message["Subject"] == f"【govflow】{issue.id} 落实 implement：已落实 implemented"
    raw_headers = implement.content.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii() and b"Subject: =?utf-8?" in raw_headers, "RFC 2047 encoded"
    assert message["X-Govflow-Idempotency-Key"] == f"{issue.id}#2"
    assert message["X-Govflow-Event"] == "transition"
    assert message["From"].addresses[0].display_name == "督办系统"
    assert [a.addr_spec for a in message["To"].addresses] == ["ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn"]
    assert message["To"].addresses[1].display_name == "张科长"
    assert parsedate_to_datetime(message["Date"]) == dt.datetime.fromisoformat("2026-03-02T11:00:00+08:00")
    assert message["Message-ID"].startswith("<govflow.") and message["Message-ID"].endswith("@dali.example.cn>")
    assert message["Message-ID"] != assign.message["Message-ID"]
    part = message.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode("utf-8")
    for expected in ("问题标题：道路积水严重", "事项：落实（已交办 → 已落实）", "办理单位：祥云县（XIANGYUN）",
                     "经办人：张三", "时间：2026-03-02 11:00+08:00", "说明：已疏通排水沟",
                     "Step: implement (assigned → implemented)", "By: 祥云县 (XIANGYUN)", "Person: 张三",
                     "note: 已疏通排水沟"):
        assert expected in text, expected
    assert text.index("问题标题") < text.index("Title: 道路积水严重"), "Chinese first, then English"
    assign_text = assign.text
    assert "事项：交办（— → 已交办）" in assign_text and "牵头单位：祥云县（XIANGYUN）" in assign_text
    assert "lifecycle" not in assign_text


def test_a_reassignment_tells_the_old_and_the_new_lead(clock: FakeClock, server: tuple[int, Mailbox]) -> None:
    port, mailbox = server
    with open_flow(":memory:", clock, mailer(port, cc=[]), delivery="inline") as flow:
        issue = flow.assign("占道经营", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
    reassign = mailbox.received[-1]
    assert reassign.rcpt_tos == (
        "ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn", "ducha@binchuan.example.cn", "office@dali.example.cn",
    )
    assert reassign.message["Subject"] == f"【govflow】{issue.id} 改派 reassign：已交办 assigned"
    assert "新牵头单位：宾川县（BINCHUAN）" in reassign.text and "new lead unit: 宾川县 (BINCHUAN)" in reassign.text


def test_a_step_after_a_merge_tells_the_merged_issue_s_unit(clock: FakeClock, server: tuple[int, Mailbox]) -> None:
    """并案: B (BINCHUAN) merged into A (XIANGYUN); A's later steps are mailed to BINCHUAN too, naming B."""
    port, mailbox = server
    with open_flow(":memory:", clock, mailer(port, cc=[]), delivery="inline") as flow:
        a = flow.assign("道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        b = flow.assign("道路积水（重复）", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        flow.accept(a.id, by="XIANGYUN")
        before = mailbox.received[-1]
        flow.merge(b.id, into=a.id, by="OFFICE", reason="重复")
        flow.implement(a.id, by="XIANGYUN", note="已疏通")
    assert "ducha@binchuan.example.cn" not in before.rcpt_tos and "并案" not in before.text
    implement = mailbox.received[-1]
    assert implement.message["Subject"].startswith(f"【govflow】{a.id} 落实")
    assert implement.rcpt_tos == (
        "ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn", "ducha@binchuan.example.cn",
    )
    assert f"并案：{b.id} 已并入本问题" in implement.text and f"Merged into this issue: {b.id}" in implement.text


def test_steps_delivered_after_a_reassignment_go_to_the_lead_of_their_time(
    target: str, clock: FakeClock, server: tuple[int, Mailbox]
) -> None:
    port, mailbox = server
    with open_flow(target, clock, mailer(port, cc=["archive@dali.example.cn"])) as flow:
        issue = flow.assign("占道经营", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        clock.advance(hours=1)
        flow.accept(issue.id, by="XIANGYUN")
        clock.set("2026-03-17T09:00:00+08:00")  # three working days before the due date: 临期提醒
        (due_soon,) = flow.sweep()
        assert due_soon.step == "due_soon"
        clock.advance(hours=1)
        flow.reassign(issue.id, by="OFFICE", new_lead="BINCHUAN", reason="属地调整")
        # Nothing was sent yet: every email goes out now, after the lead changed.
        assert mailbox.received == []
        assert flow.deliver().delivered == 4
        assert flow.get(issue.id).lead == "BINCHUAN"

    by_key = {r.message["X-Govflow-Idempotency-Key"]: r for r in mailbox.received}
    assert sorted(by_key) == [f"{issue.id}#{n}" for n in (1, 2, 3, 4)]
    xiangyun = ("ducha@xiangyun.example.cn", "zhang@xiangyun.example.cn")
    # Steps taken while XIANGYUN led: to XIANGYUN (and the actor), never to BINCHUAN.
    assert by_key[f"{issue.id}#1"].rcpt_tos == (*xiangyun, "office@dali.example.cn", "archive@dali.example.cn")
    accept = by_key[f"{issue.id}#2"]
    assert accept.rcpt_tos == (*xiangyun, "archive@dali.example.cn")
    assert "牵头单位：祥云县（XIANGYUN）" in accept.text and "Lead unit: 祥云县 (XIANGYUN)" in accept.text
    deadline = by_key[f"{issue.id}#3"]
    assert deadline.message["X-Govflow-Event"] == "deadline"
    assert deadline.rcpt_tos == (*xiangyun, "archive@dali.example.cn")
    assert "牵头单位：祥云县（XIANGYUN）" in deadline.text and "Lead unit: 祥云县 (XIANGYUN)" in deadline.text
    # The reassignment itself: the old lead, the new lead and the supervisor who acted.
    reassign = by_key[f"{issue.id}#4"]
    assert reassign.rcpt_tos == (
        *xiangyun, "ducha@binchuan.example.cn", "office@dali.example.cn", "archive@dali.example.cn",
    )
    assert "牵头单位：宾川县（BINCHUAN）" in reassign.text


def test_deadline_steps_go_to_the_lead_unit(clock: FakeClock, server: tuple[int, Mailbox]) -> None:
    port, mailbox = server
    with open_flow(":memory:", clock, mailer(port)) as flow:
        issue = flow.assign("路灯不亮", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        # Nothing in the core writes deadline steps yet; deliver one through the flow's hook facade.
        event = govflow.DeadlineEvent(
            issue_id=issue.id, step="urge", level=1, due=dt.date(2026, 3, 20),
            at=dt.datetime.fromisoformat("2026-03-21T09:00:00+08:00"), idempotency_key=f"{issue.id}#2",
        )
        flow.hooks.deliver("deadline", NAME, event)
    (received,) = mailbox.received
    assert received.rcpt_tos == ("ducha@binchuan.example.cn", "archive@dali.example.cn", "OFFICE@dali.example.cn")
    assert received.message["Subject"] == f"【govflow】{issue.id} 催办 reminder：期限 due 2026-03-20"
    assert received.message["X-Govflow-Event"] == "deadline"
    assert "提醒：催办（第 1 级）" in received.text and "Notice: reminder (level 1)" in received.text
    assert "问题标题：路灯不亮" in received.text


def test_a_lagging_target_is_mailed_to_its_unit(clock: FakeClock, server: tuple[int, Mailbox]) -> None:
    port, mailbox = server
    with open_flow(":memory:", clock, mailer(port)) as flow:
        plan = flow.add_plan("试点方案", by="OFFICE", phases=[("建机制", "2026-03-20")])
        flow.activate_plan(plan.id, by="OFFICE")
        target = flow.add_target(plan.id, "网格化全覆盖", unit="BINCHUAN", phase="建机制", by="OFFICE")
        clock.set("2026-03-24T09:00:00+08:00")
        steps = [e.step for e in flow.sweep() if e.issue_id == target.id]
        assert steps == ["due_soon", "due_soon", "overdue", "urge"]
        report = flow.deliver()
        assert (report.delivered, report.retrying, report.dead) == (4, 0, 0)
    assert len(mailbox.received) == 4
    urge = mailbox.received[-1]
    assert urge.rcpt_tos[0] == "ducha@binchuan.example.cn"
    assert urge.message["Subject"] == f"【govflow】{target.id} 催办 reminder：期限 due 2026-03-20"
    assert "问题标题：网格化全覆盖" in urge.text


def test_a_server_that_is_down_makes_delivery_retry(target: str, clock: FakeClock) -> None:
    port = free_port()  # nobody listens there yet
    with open_flow(target, clock, mailer(port, timeout=2)) as flow:
        issue = flow.assign("井盖缺失", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        report = flow.deliver()
        assert (report.delivered, report.retrying) == (0, 1)
        (row,) = flow.outbox.pending()
        assert (row.plugin, row.attempts) == (NAME, 1)
        assert "SmtpDeliveryError" in (row.last_error or "") and "ConnectionRefusedError" in (row.last_error or "")
        assert row.next_attempt_at == clock.now + dt.timedelta(seconds=30)
        assert flow.get(issue.id).state == "assigned"
        # The server comes up; the retry goes out once it is due.
        controller, mailbox = serve(port)
        try:
            assert flow.deliver().delivered == 0
            clock.advance(seconds=30)
            assert flow.deliver().delivered == 1
        finally:
            controller.stop()
    (received,) = mailbox.received
    assert received.message["X-Govflow-Idempotency-Key"] == f"{issue.id}#1"


def test_the_same_event_is_the_same_message(clock: FakeClock, server: tuple[int, Mailbox]) -> None:
    port, _ = server
    plugin = mailer(port)
    with open_flow(":memory:", clock, plugin) as flow:
        issue = flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        event = govflow.TransitionEvent.from_entry(flow.ledger(issue.id)[0])
        first, again = plugin.compose(event), plugin.compose(event)
    assert first is not None and again is not None
    assert first.as_bytes() == again.as_bytes(), "Message-ID and Date come from the event: a retry resends the same"


def test_units_without_addresses_send_nothing_and_say_so(
    clock: FakeClock, server: tuple[int, Mailbox], caplog: pytest.LogCaptureFixture
) -> None:
    port, mailbox = server
    plugin = mailer(port, recipients={"OFFICE": "office@dali.example.cn"}, cc=[])
    with open_flow(":memory:", clock, plugin, delivery="inline") as flow:
        flow.add_unit("XIAZHUANG", "下庄镇", level="township", parent="XIANGYUN")
        issue = flow.assign("t", lead="XIAZHUANG", due="2026-03-20", by="OFFICE")
        with caplog.at_level(logging.WARNING, logger="govflow.smtp"):
            flow.implement(issue.id, by="XIAZHUANG", note="n")
        assert len(flow.outbox.delivered()) == 2 and flow.outbox.pending() == []
    assert [r.rcpt_tos for r in mailbox.received] == [("office@dali.example.cn",)]
    assert "no address for units XIAZHUANG" in caplog.text


def test_an_email_that_cannot_be_composed_is_a_delivery_error(clock: FakeClock) -> None:
    plugin = mailer(free_port())
    with open_flow(":memory:", clock, plugin):
        event = govflow.DeadlineEvent("GF-2026-9999", "overdue", 1, dt.date(2026, 3, 1), clock.now, "GF-2026-9999#3")
        with pytest.raises(SmtpDeliveryError, match="cannot compose: NotFound: no issue 'GF-2026-9999'") as info:
            plugin.govflow_deadline(event)
        assert info.value.idempotency_key == "GF-2026-9999#3"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_without_tls(clock: FakeClock) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        ok = data.password == b"s3cret-pw"
        # handled=False: aiosmtpd answers 535 itself when the credentials are refused.
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    port = free_port()
    # Only AUTH PLAIN: aiosmtpd's AUTH LOGIN does not take smtplib's initial response and stalls.
    controller, mailbox = serve(
        port, authenticator=authenticator, auth_require_tls=False, auth_required=True, auth_exclude_mechanism=["LOGIN"]
    )
    try:
        with open_flow(":memory:", clock, mailer(port, user="govflow", password="s3cret-pw"), delivery="inline") as f:
            f.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        with open_flow(":memory:", clock, mailer(port, user="govflow", password="wrong")) as flow:
            flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert flow.deliver().retrying == 1
            assert "SMTPAuthenticationError" in (flow.outbox.pending()[0].last_error or "")
    finally:
        controller.stop()
    assert [r.login for r in mailbox.received] == [b"govflow"]
    assert logins[0] == (b"govflow", b"s3cret-pw")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (needs the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "use_ssl"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_tls_and_login(mode: str, clock: FakeClock, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (data.login, data.password) == (b"govflow", b"pw")
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    # With implicit TLS aiosmtpd does not see the session as TLS for auth_require_tls; it is, though.
    tls = {"tls_context": server_context, "require_starttls": True} if mode == "starttls" else {
        "ssl_context": server_context, "auth_require_tls": False
    }
    port = free_port()
    controller, mailbox = serve(port, authenticator=authenticator, auth_required=True, **tls)  # type: ignore[arg-type]
    try:
        plugin = mailer(port, user="govflow", password="pw", tls_context=client_context, **{mode: True})
        with open_flow(":memory:", clock, plugin, delivery="inline") as flow:
            flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert flow.outbox.pending() == []
        # Without trusting the certificate, the TLS handshake fails and the delivery is retried.
        untrusting = mailer(port, user="govflow", password="pw", **{mode: True})
        with open_flow(":memory:", clock, untrusting) as flow:
            flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert flow.deliver().retrying == 1
            assert "SSLCertVerificationError" in (flow.outbox.pending()[0].last_error or "")
    finally:
        controller.stop()
    (received,) = mailbox.received
    assert received.login == b"govflow"
    assert received.tls or mode == "use_ssl"  # aiosmtpd sets session.ssl only after STARTTLS


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVFLOW_SMTP_HOST", "smtp.example.gov.cn")
    monkeypatch.setenv("GOVFLOW_SMTP_SENDER", SENDER)
    monkeypatch.setenv("GOVFLOW_SMTP_STARTTLS", "yes")
    monkeypatch.setenv("GOVFLOW_SMTP_USER", "govflow")
    monkeypatch.setenv("GOVFLOW_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("GOVFLOW_SMTP_TIMEOUT", "3")
    recipients = '{"XIANGYUN": ["a@xy.example.cn", "b@xy.example.cn"], "OFFICE": "o@x.cn"}'
    monkeypatch.setenv("GOVFLOW_SMTP_RECIPIENTS", recipients)
    monkeypatch.setenv("GOVFLOW_SMTP_CC", "archive@x.cn, boss@x.cn")
    plugin = SmtpNotifier()
    assert (plugin.name, plugin.host, plugin.port, plugin.starttls, plugin.use_ssl) == (
        "smtp", "smtp.example.gov.cn", 587, True, False,
    )
    assert (plugin.user, plugin.timeout, plugin.sender) == ("govflow", 3.0, "=?utf-8?b?552j5Yqe57O757uf?= "
                                                            "<govflow@dali.example.cn>")
    assert {unit: [box.address for box in boxes] for unit, boxes in plugin.recipients.items()} == {
        "XIANGYUN": ["a@xy.example.cn", "b@xy.example.cn"], "OFFICE": ["o@x.cn"],
    }
    assert [box.address for box in plugin.cc] == ["archive@x.cn", "boss@x.cn"]
    assert "pw" not in repr(plugin)
    # The shell-friendly form of the recipients, and keywords winning over the environment.
    monkeypatch.setenv("GOVFLOW_SMTP_RECIPIENTS", "XIANGYUN=a@xy.example.cn, b@xy.example.cn; OFFICE=o@x.cn")
    monkeypatch.setenv("GOVFLOW_SMTP_SSL", "0")
    other = SmtpNotifier(host="relay.local", starttls=False, user="u", password="p")
    assert (other.host, other.port, other.starttls, other.user) == ("relay.local", 25, False, "u")
    assert [box.address for box in other.recipients["XIANGYUN"]] == ["a@xy.example.cn", "b@xy.example.cn"]


BASE = {"GOVFLOW_SMTP_HOST": "smtp.x.cn", "GOVFLOW_SMTP_SENDER": "g@x.cn", "GOVFLOW_SMTP_CC": "a@x.cn"}


@pytest.mark.parametrize(("env", "kwargs", "setting", "problem"), [
    ({}, {}, "GOVFLOW_SMTP_HOST", "not set"),
    ({**BASE, "GOVFLOW_SMTP_SENDER": ""}, {}, "GOVFLOW_SMTP_SENDER", "not set"),
    (BASE, {"sender": "not an address"}, "sender", "is not an email address"),
    ({**BASE, "GOVFLOW_SMTP_PORT": "smtp"}, {}, "GOVFLOW_SMTP_PORT", "'smtp'"),
    (BASE, {"port": 70000}, "port", "70000"),
    ({**BASE, "GOVFLOW_SMTP_STARTTLS": "maybe"}, {}, "GOVFLOW_SMTP_STARTTLS", "'maybe'"),
    ({**BASE, "GOVFLOW_SMTP_STARTTLS": "1", "GOVFLOW_SMTP_SSL": "1"}, {}, "GOVFLOW_SMTP_SSL", "both"),
    ({**BASE, "GOVFLOW_SMTP_TIMEOUT": "-1"}, {}, "GOVFLOW_SMTP_TIMEOUT", "'-1'"),
    ({**BASE, "GOVFLOW_SMTP_USER": "u"}, {}, "GOVFLOW_SMTP_PASSWORD", "not set, but a user is"),
    (BASE, {"password": "p"}, "GOVFLOW_SMTP_USER", "not set, but a password is"),
    (BASE, {"user": "u", "password": "口令"}, "password", "not ASCII"),
    ({**BASE, "GOVFLOW_SMTP_CC": ""}, {}, "GOVFLOW_SMTP_RECIPIENTS", "no unit has an address"),
    ({**BASE, "GOVFLOW_SMTP_RECIPIENTS": "{not json"}, {}, "GOVFLOW_SMTP_RECIPIENTS", "not valid JSON"),
    ({**BASE, "GOVFLOW_SMTP_RECIPIENTS": "XIANGYUN a@x.cn"}, {}, "GOVFLOW_SMTP_RECIPIENTS", "UNIT=address"),
    ({**BASE, "GOVFLOW_SMTP_RECIPIENTS": '["a@x.cn"]'}, {}, "GOVFLOW_SMTP_RECIPIENTS", "got ['a@x.cn']"),
    (BASE, {"recipients": {"XIANGYUN": ["a@x.cn", "nobody"]}}, "recipients['XIANGYUN']", "'nobody'"),
    (BASE, {"cc": ["a@x.cn", "@x.cn"]}, "cc", "'@x.cn'"),
])
def test_a_bad_configuration_raises_a_typed_error_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], kwargs: dict[str, Any], setting: str, problem: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SmtpConfigError) as info:
        SmtpNotifier(**kwargs)
    error = info.value
    assert isinstance(error, govflow.GovflowError) and isinstance(error, ValueError)
    assert error.field == setting and problem in error.problem, str(error)
    assert str(error).startswith(f"{setting}: ") and "accepted: " in str(error)


@pytest.mark.parametrize("host", [None, "", "  \t "])
def test_from_environment_declines_without_a_host(monkeypatch: pytest.MonkeyPatch, host: str | None) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    if host is None:
        monkeypatch.delenv("GOVFLOW_SMTP_HOST")
    else:
        monkeypatch.setenv("GOVFLOW_SMTP_HOST", host)
    assert from_environment() is None


def test_from_environment_builds_the_notifier(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    plugin = from_environment()
    assert isinstance(plugin, SmtpNotifier)
    assert (plugin.name, plugin.host, plugin.port, plugin.sender) == ("smtp", "smtp.x.cn", 25, "g@x.cn")


@pytest.mark.parametrize(("env", "setting"), [
    ({"GOVFLOW_SMTP_HOST": "smtp.x.cn"}, "GOVFLOW_SMTP_SENDER"),
    ({"GOVFLOW_SMTP_HOST": "smtp.x.cn", "GOVFLOW_SMTP_SENDER": "g@x.cn"}, "GOVFLOW_SMTP_RECIPIENTS"),
    ({"GOVFLOW_SMTP_HOST": "smtp x.cn"}, "GOVFLOW_SMTP_HOST"),
    ({**BASE, "GOVFLOW_SMTP_USER": "u"}, "GOVFLOW_SMTP_PASSWORD"),
])
def test_from_environment_raises_for_a_partial_configuration(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], setting: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SmtpConfigError) as info:
        from_environment()
    assert info.value.field == setting


def entry_point(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> importlib.metadata.EntryPoint:
    """The ``govflow`` entry point ``name``: the installed one, or else a stand-in made from pyproject.toml.

    The stand-in is a ``.dist-info`` on ``sys.path`` declaring what this
    package's pyproject.toml declares, so the entry point is tested even when
    the package is only on ``PYTHONPATH``.
    """
    found = [ep for ep in importlib.metadata.entry_points(group="govflow") if ep.name == name]
    if not found:
        project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))["project"]
        info = tmp_path / "site" / f"{project['name'].replace('-', '_')}-0.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: 0.0\n")
        (info / "entry_points.txt").write_text(f"[govflow]\n{name} = {project['entry-points']['govflow'][name]}\n")
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        found = [ep for ep in importlib.metadata.entry_points(group="govflow") if ep.name == name]
    (ep,) = found
    others = sorted({ep.name for ep in importlib.metadata.entry_points(group="govflow")} - {name})
    monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", ",".join(others))
    return ep


def test_the_entry_point_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock, server: tuple[int, Mailbox]
) -> None:
    assert entry_point("smtp", monkeypatch, tmp_path).value == "govflow_smtp:from_environment"
    port, mailbox = server
    monkeypatch.setenv("GOVFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOVFLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("GOVFLOW_SMTP_SENDER", SENDER)
    monkeypatch.setenv("GOVFLOW_SMTP_RECIPIENTS", "XIANGYUN=ducha@xiangyun.example.cn")
    with govflow.open(":memory:", clock=clock, delivery="inline") as flow:
        info = {p.name: p for p in flow.plugins()}
        assert info["smtp"].distribution == "govflow-smtp"
        assert info["smtp"].hooks == ("govflow_after_transition", "govflow_deadline", "govflow_startup")
        flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county")
        flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert [row.plugin for row in flow.outbox.delivered()] == ["smtp"]
    (received,) = mailbox.received
    assert received.rcpt_tos == ("ducha@xiangyun.example.cn",)


@pytest.mark.parametrize("host", [None, "   "])
def test_an_unconfigured_entry_point_is_skipped_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str | None
) -> None:
    entry_point("smtp", monkeypatch, tmp_path)
    if host is not None:
        monkeypatch.setenv("GOVFLOW_SMTP_HOST", host)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with govflow.open(":memory:", strict_plugins=True) as flow:
            assert "smtp" not in {p.name for p in flow.plugins()}
            assert flow.plugin_failures() == []


def test_a_partially_configured_entry_point_is_skipped_with_a_warning_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    entry_point("smtp", monkeypatch, tmp_path)
    monkeypatch.setenv("GOVFLOW_SMTP_HOST", "smtp.example.cn")  # but no sender
    with pytest.warns(govflow.PluginWarning, match="'smtp' from distribution 'govflow-smtp'.*GOVFLOW_SMTP_SENDER"):
        flow = govflow.open(":memory:")
    with flow:
        assert "smtp" not in {p.name for p in flow.plugins()}
        (failure,) = flow.plugin_failures()
        assert failure.name == "smtp" and failure.distribution == "govflow-smtp"
        assert "SmtpConfigError" in failure.problem and "not set" in failure.problem
    with pytest.raises(govflow.PluginLoadError, match="GOVFLOW_SMTP_SENDER"):
        govflow.open(":memory:", strict_plugins=True)


@pytest.mark.parametrize("environment", ["complete", "partial"])
def test_an_explicit_instance_wins_over_the_entry_point_of_the_same_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock, server: tuple[int, Mailbox], environment: str
) -> None:
    entry_point("smtp", monkeypatch, tmp_path)
    port, mailbox = server
    # The environment configures the entry point for other addresses on the same server (or leaves out the sender).
    monkeypatch.setenv("GOVFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOVFLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("GOVFLOW_SMTP_RECIPIENTS", "XIANGYUN=from-the-environment@xiangyun.example.cn")
    if environment == "complete":
        monkeypatch.setenv("GOVFLOW_SMTP_SENDER", "env@dali.example.cn")
    mine = SmtpNotifier(host="127.0.0.1", port=port, sender=SENDER, recipients={"XIANGYUN": "mine@xiangyun.example.cn"})
    assert mine.name == "smtp"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no duplicate-name warning, and the entry point is not even built
        with govflow.open(":memory:", clock=clock, plugins=[mine], delivery="inline") as flow:
            (info,) = [p for p in flow.plugins() if p.name == "smtp"]
            assert info.distribution is None, "the explicit instance, not the installed entry point"
            assert flow.plugin_failures() == []
            flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
            flow.add_unit("XIANGYUN", "祥云县", level="county")
            flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert [row.plugin for row in flow.outbox.delivered()] == ["smtp"]
    (received,) = mailbox.received
    assert received.rcpt_tos == ("mine@xiangyun.example.cn",)
    assert received.mail_from == "govflow@dali.example.cn"


@pytest.mark.parametrize("injected", ["\r\nBcc: everyone@example.gov.cn", "\nX-Evil: 1", "\r"])
def test_a_header_value_with_a_line_break_is_its_own_delivery_error(
    clock: FakeClock, server: tuple[int, Mailbox], monkeypatch: pytest.MonkeyPatch, injected: str
) -> None:
    from govflow_smtp import SmtpHeaderError
    from govflow_smtp._text import Text

    port, mailbox = server
    transition = Text.transition

    def subject_with(self: Text, event: govflow.TransitionEvent, lead: str) -> tuple[str, str]:
        subject, body = transition(self, event, lead)
        return subject + injected, body  # as a label or name from an older, unchecked store could make it

    monkeypatch.setattr(Text, "transition", subject_with)
    plugin = mailer(port)
    with open_flow(":memory:", clock, plugin) as flow:
        issue = flow.assign("占道经营", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        event = govflow.TransitionEvent.from_entry(flow.ledger(issue.id)[0])
        with pytest.raises(SmtpHeaderError) as info:
            plugin.govflow_after_transition(event)
        assert info.value.header == "Subject" and isinstance(info.value, SmtpDeliveryError)
        assert flow.deliver().retrying == 1
        (row,) = flow.outbox.pending()
        assert "line break" in (row.last_error or "")
    assert mailbox.received == []
