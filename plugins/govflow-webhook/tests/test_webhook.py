"""govflow-webhook against a real HTTP server on 127.0.0.1, started by each test.

The tests pass their own notifier to ``govflow.open(plugins=[...])`` under the
name ``webhook-test`` and block every installed ``govflow`` entry point (this
package's own included), so they run the same whether or not the package is
installed; the tests at the end load the entry point (installed, or a
stand-in dist-info made from pyproject.toml) configured from the environment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib.metadata
import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import attrs
import pytest
from govflow_webhook import (
    WebhookConfigError,
    WebhookDeliveryError,
    WebhookNotifier,
    encode_event,
    from_environment,
    sign,
)

import govflow
from govflow import RetryPolicy
from govflow.testing import FakeClock

SECRET = "测试-shared-secret"
NAME = "webhook-test"


@attrs.frozen
class Request:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 (port 0) in a thread, recording every POST.

    ``status`` is the answer; ``delay`` makes it sleep before answering.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.status = 204
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                """Quiet: a client that timed out leaves a broken pipe behind."""

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/govflow?source=test"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No installed govflow plugin, no webhook settings and no proxy from the environment."""
    installed = sorted({ep.name for ep in importlib.metadata.entry_points(group="govflow")})
    monkeypatch.setenv("GOVFLOW_DISABLE_PLUGINS", ",".join(installed))
    for variable in ("GOVFLOW_WEBHOOK_URLS", "GOVFLOW_WEBHOOK_SECRET", "GOVFLOW_WEBHOOK_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-03-02T09:00:00+08:00")


@pytest.fixture(params=["memory", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ":memory:" if request.param == "memory" else str(tmp_path / "webhook.sqlite3")


POLICY = RetryPolicy(max_attempts=3, first_delay=dt.timedelta(seconds=30))


def open_flow(target: str, clock: FakeClock, notifier: WebhookNotifier, **options: Any) -> govflow.Govflow:
    options.setdefault("delivery", "manual")
    flow = govflow.open(target, clock=clock, plugins=[notifier], retry=POLICY, **options)
    flow.add_unit("OFFICE", "大理州领导小组办公室", level="prefecture", supervisor=True)
    flow.add_unit("XIANGYUN", "祥云县", level="county", parent="OFFICE")
    return flow


def notifier(*urls: str, **options: Any) -> WebhookNotifier:
    return WebhookNotifier(urls=list(urls), secret=SECRET, name=NAME, **options)


def verified(request: Request) -> bool:
    """What a receiver does: recompute the HMAC of the exact body and compare in constant time."""
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["x-govflow-signature"])


def test_each_transition_is_posted_as_signed_json(target: str, clock: FakeClock, receiver: Receiver) -> None:
    with notifier(receiver.url) as plugin, open_flow(target, clock, plugin) as flow:
        issue = flow.assign("道路积水严重", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        clock.advance(hours=2)
        flow.implement(issue.id, by=govflow.Actor("XIANGYUN", "张三"), note="已疏通排水沟")
        assert receiver.requests == [], "manual delivery: nothing goes out before flow.deliver()"
        report = flow.deliver()
        assert (report.delivered, report.retrying) == (2, 0)
        assert [row.plugin for row in flow.outbox.delivered()] == [NAME, NAME]
        entry = flow.ledger(issue.id)[1]

    assign, implement = receiver.requests
    assert implement.path == "/hooks/govflow?source=test"
    assert implement.headers["content-type"] == "application/json"
    assert implement.headers["x-govflow-event"] == "transition"
    assert implement.headers["x-govflow-idempotency-key"] == f"{issue.id}#2"
    assert implement.headers["user-agent"].startswith("govflow-webhook/")
    assert all(verified(request) for request in receiver.requests)
    assert "已疏通排水沟".encode() in implement.body, "UTF-8, not \\u escapes"
    assert implement.json() == {
        "kind": "transition",
        "issue_id": issue.id,
        "trigger": "implement",
        "from_state": "assigned",
        "to_state": "implemented",
        "actor": "XIANGYUN",
        "at": "2026-03-02T11:00:00+08:00",
        "data": {"note": "已疏通排水沟"},
        "idempotency_key": f"{issue.id}#2",
        "person": "张三",
        "seq": entry.seq,
        "merged": [],
    }
    first = assign.json()
    assert (first["trigger"], first["from_state"], first["to_state"], first["person"]) == (
        "assign", None, "assigned", None,
    )
    assert first["data"]["title"] == "道路积水严重" and first["data"]["due"] == "2026-03-20"
    # A tampered body no longer matches its signature.
    assert not verified(attrs.evolve(implement, body=implement.body.replace(b"XIANGYUN", b"BINCHUAN")))


def test_a_step_after_a_merge_names_the_merged_issue(target: str, clock: FakeClock, receiver: Receiver) -> None:
    """并案: B merged into A; A's later steps reach B's subscribers (the payload's ``merged`` names B)."""
    with notifier(receiver.url) as plugin, open_flow(target, clock, plugin) as flow:
        flow.add_unit("BINCHUAN", "宾川县", level="county", parent="OFFICE")
        a = flow.assign("某村道路积水", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        b = flow.assign("某村道路积水（重复反映）", lead="BINCHUAN", due="2026-03-20", by="OFFICE")
        flow.accept(a.id, by="XIANGYUN")
        clock.advance(hours=1)
        flow.fire(b.id, "merge", by="OFFICE", into=a.id, reason="同一积水点")
        clock.advance(hours=1)
        flow.implement(a.id, by="XIANGYUN", note="已疏通排水沟")
        report = flow.deliver()
        assert (report.delivered, report.retrying, report.dead) == (6, 0, 0)
    got = [(r.json()["issue_id"], r.json()["trigger"], r.json()["merged"]) for r in receiver.requests]
    assert got == [
        (a.id, "assign", []), (b.id, "assign", []), (a.id, "accept", []),
        (b.id, "merge", []), (a.id, "take_merged", [b.id]), (a.id, "implement", [b.id]),
    ]
    assert receiver.requests[3].json()["data"] == {"into": a.id, "reason": "同一积水点"}
    assert all(verified(request) for request in receiver.requests)


def test_deadline_events_are_posted_with_iso_dates(clock: FakeClock, receiver: Receiver) -> None:
    # Nothing in the core writes deadline steps yet; deliver one through the flow's hook facade.
    event = govflow.DeadlineEvent(
        issue_id="GF-2026-0001", step="urge", level=1, due=dt.date(2026, 3, 20),
        at=dt.datetime.fromisoformat("2026-03-21T09:00:00+08:00"), idempotency_key="GF-2026-0001#4",
        unit="XIANGYUN", seq=9,
    )
    with notifier(receiver.url) as plugin, open_flow(":memory:", clock, plugin) as flow:
        flow.hooks.deliver("deadline", NAME, event)
    (request,) = receiver.requests
    assert request.headers["x-govflow-event"] == "deadline"
    assert request.headers["x-govflow-idempotency-key"] == "GF-2026-0001#4"
    assert verified(request) and request.body == encode_event(event)
    assert request.json() == {
        "kind": "deadline", "issue_id": "GF-2026-0001", "step": "urge", "level": 1, "due": "2026-03-20",
        "at": "2026-03-21T09:00:00+08:00", "idempotency_key": "GF-2026-0001#4", "unit": "XIANGYUN", "seq": 9,
    }


def test_a_500_is_retried_with_the_same_key_until_the_server_recovers(
    target: str, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.status = 500
    with notifier(receiver.url) as plugin, open_flow(target, clock, plugin) as flow:
        issue = flow.assign("路灯不亮", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        report = flow.deliver()
        assert (report.delivered, report.retrying) == (0, 1)
        (row,) = flow.outbox.pending()
        assert (row.plugin, row.attempts) == (NAME, 1)
        assert "500" in (row.last_error or "") and "WebhookDeliveryError" in (row.last_error or "")
        assert "/hooks" not in (row.last_error or ""), "the stored error names the origin, never the path"
        assert row.next_attempt_at == clock.now + dt.timedelta(seconds=30)
        receiver.status = 200
        assert flow.deliver().delivered == 0, "the retry is not due yet"
        clock.advance(seconds=30)
        assert flow.deliver().delivered == 1
        assert flow.outbox.pending() == [] and len(flow.outbox.delivered()) == 1
        assert flow.get(issue.id).state == "assigned"
    first, second = receiver.requests
    assert first.headers["x-govflow-idempotency-key"] == second.headers["x-govflow-idempotency-key"] == (
        f"{issue.id}#1"
    )
    assert first.body == second.body and verified(second)


def test_a_timeout_counts_as_a_failure(clock: FakeClock, receiver: Receiver) -> None:
    receiver.delay = 1.0
    with notifier(receiver.url, timeout=0.2) as plugin, open_flow(":memory:", clock, plugin) as flow:
        flow.assign("噪音扰民", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        started = time.monotonic()
        assert flow.deliver().retrying == 1
        assert time.monotonic() - started < 0.9, "the request must give up after the timeout"
        (row,) = flow.outbox.pending()
        assert row.attempts == 1 and "timed out after 0.2 s" in (row.last_error or "")
    assert len(receiver.requests) == 1


def test_an_unreachable_server_is_retried_and_ends_in_the_dead_letters(clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with notifier(f"http://127.0.0.1:{port}/hook") as plugin, open_flow(":memory:", clock, plugin) as flow:
        flow.assign("井盖缺失", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        for _ in range(POLICY.max_attempts):
            flow.deliver()
            clock.advance(hours=1)
        (dead,) = flow.outbox.dead()
        assert dead.attempts == POLICY.max_attempts and "ConnectError" in (dead.last_error or "")
        assert f"http://127.0.0.1:{port}:" in (dead.last_error or "")


def test_a_retry_skips_the_urls_that_already_took_the_event(
    clock: FakeClock, receiver: Receiver, second_receiver: Receiver
) -> None:
    second_receiver.status = 503
    with notifier(receiver.url, second_receiver.url) as plugin, open_flow(":memory:", clock, plugin) as flow:
        flow.assign("占道经营", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert flow.deliver().retrying == 1
        (row,) = flow.outbox.pending()
        assert "503" in (row.last_error or "") and row.last_error.count("answered") == 1  # type: ignore[union-attr]
        second_receiver.status = 200
        clock.advance(seconds=30)
        assert flow.deliver().delivered == 1
    assert len(receiver.requests) == 1, "the first receiver answered 2xx the first time"
    assert len(second_receiver.requests) == 2
    assert receiver.requests[0].body == second_receiver.requests[1].body


def test_a_non_ascii_idempotency_key_is_percent_encoded_in_its_header(clock: FakeClock, receiver: Receiver) -> None:
    with notifier(receiver.url) as plugin, govflow.open(
        ":memory:", clock=clock, plugins=[plugin], delivery="inline", id_prefix="督办-"
    ) as flow:
        flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county")
        issue = flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
    (request,) = receiver.requests
    assert issue.id.startswith("督办-")
    assert request.headers["x-govflow-idempotency-key"] == "%E7%9D%A3%E5%8A%9E-2026-0001#1"
    assert request.json()["idempotency_key"] == f"{issue.id}#1"


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = " https://a.example.org/hook,http://10.0.0.2:8080/x  https://a.example.org/hook "
    monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", urls)
    monkeypatch.setenv("GOVFLOW_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("GOVFLOW_WEBHOOK_TIMEOUT", "2.5")
    plugin = WebhookNotifier()
    assert plugin.name == "webhook"
    assert plugin.urls == ("https://a.example.org/hook", "http://10.0.0.2:8080/x")
    assert plugin.timeout == 2.5
    body = b'{"kind":"transition"}'
    event = govflow.DeadlineEvent("GF-1", "urge", 1, dt.date(2026, 1, 1), dt.datetime.now(dt.timezone.utc), "GF-1#2")
    assert plugin.headers(event, body)["X-Govflow-Signature"] == sign(body, "from-env")
    # Keywords win over the environment, setting by setting.
    explicit = WebhookNotifier(urls="https://b.example.org/", timeout=1)
    assert (explicit.urls, explicit.timeout) == (("https://b.example.org/",), 1.0)
    assert explicit.headers(event, body)["X-Govflow-Signature"] == sign(body, "from-env")
    assert "from-env" not in repr(explicit) and "b.example.org" in repr(explicit)
    monkeypatch.delenv("GOVFLOW_WEBHOOK_TIMEOUT")
    assert WebhookNotifier().timeout == 5.0


@pytest.mark.parametrize(("env", "kwargs", "setting", "problem"), [
    ({}, {}, "GOVFLOW_WEBHOOK_URLS", "not set"),
    ({"GOVFLOW_WEBHOOK_URLS": " , "}, {}, "GOVFLOW_WEBHOOK_URLS", "no URL"),
    ({}, {"urls": []}, "urls", "no URL"),
    ({}, {"urls": ["ftp://files.example.org/in"]}, "urls", "has scheme 'ftp'"),
    ({"GOVFLOW_WEBHOOK_URLS": "hooks.example.org/govflow"}, {}, "GOVFLOW_WEBHOOK_URLS", "has no scheme"),
    ({}, {"urls": ["http://example.org:99999/"]}, "urls", "not a valid URL"),
    ({}, {"urls": ["http:///path-only"]}, "urls", "has no host"),
    ({"GOVFLOW_WEBHOOK_URLS": "https://ok.example.org/"}, {}, "GOVFLOW_WEBHOOK_SECRET", "not set"),
    ({}, {"urls": ["https://ok.example.org/"], "secret": ""}, "secret", "empty"),
    ({"GOVFLOW_WEBHOOK_TIMEOUT": "soon"}, {"urls": ["https://ok.example.org/"], "secret": "s"},
     "GOVFLOW_WEBHOOK_TIMEOUT", "'soon'"),
    ({}, {"urls": ["https://ok.example.org/"], "secret": "s", "timeout": 0}, "timeout", "got 0"),
    ({}, {"urls": ["https://ok.example.org/"], "secret": "s", "timeout": float("nan")}, "timeout", "nan"),
])
def test_a_bad_configuration_raises_a_typed_error_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], kwargs: dict[str, Any], setting: str, problem: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(WebhookConfigError) as info:
        WebhookNotifier(**kwargs)
    error = info.value
    assert isinstance(error, govflow.GovflowError) and isinstance(error, ValueError)
    assert error.field == setting and problem in error.problem
    assert str(error).startswith(f"{setting}: ") and "accepted: " in str(error)


@pytest.mark.parametrize("urls", [None, "", "  \t "])
def test_from_environment_declines_without_urls(monkeypatch: pytest.MonkeyPatch, urls: str | None) -> None:
    if urls is not None:
        monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", urls)
    monkeypatch.setenv("GOVFLOW_WEBHOOK_SECRET", "set, but the URLs are what switches the plugin on")
    assert from_environment() is None


def test_from_environment_builds_the_notifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", "https://a.example.org/hook")
    monkeypatch.setenv("GOVFLOW_WEBHOOK_SECRET", "s")
    plugin = from_environment()
    assert isinstance(plugin, WebhookNotifier)
    assert (plugin.name, plugin.urls, plugin.timeout) == ("webhook", ("https://a.example.org/hook",), 5.0)


@pytest.mark.parametrize(("env", "setting"), [
    ({"GOVFLOW_WEBHOOK_URLS": "https://a.example.org/hook"}, "GOVFLOW_WEBHOOK_SECRET"),
    ({"GOVFLOW_WEBHOOK_URLS": " , "}, "GOVFLOW_WEBHOOK_URLS"),
    ({"GOVFLOW_WEBHOOK_URLS": "https://a.example.org/hook", "GOVFLOW_WEBHOOK_SECRET": "s",
      "GOVFLOW_WEBHOOK_TIMEOUT": "soon"}, "GOVFLOW_WEBHOOK_TIMEOUT"),
])
def test_from_environment_raises_for_a_partial_configuration(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], setting: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(WebhookConfigError) as info:
        from_environment()
    assert info.value.field == setting


def test_a_failure_lists_every_endpoint_that_failed() -> None:
    error = WebhookDeliveryError("GF-2026-0001#1", ["http://a:1: answered 500", "http://b:2: timed out"])
    assert str(error) == "event GF-2026-0001#1 was not delivered: http://a:1: answered 500; http://b:2: timed out"


def test_close_releases_the_client_and_a_later_delivery_reopens_it(clock: FakeClock, receiver: Receiver) -> None:
    plugin = notifier(receiver.url)
    with open_flow(":memory:", clock, plugin, delivery="inline") as flow:
        issue = flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        plugin.close()
        plugin.close()  # idempotent
        flow.implement(issue.id, by="XIANGYUN", note="n")
    plugin.close()
    assert [r.json()["trigger"] for r in receiver.requests] == ["assign", "implement"]


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
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    assert entry_point("webhook", monkeypatch, tmp_path).value == "govflow_webhook:from_environment"
    monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", receiver.url)
    monkeypatch.setenv("GOVFLOW_WEBHOOK_SECRET", SECRET)
    with govflow.open(":memory:", clock=clock, delivery="inline") as flow:
        info = {p.name: p for p in flow.plugins()}
        assert info["webhook"].distribution == "govflow-webhook"
        assert info["webhook"].hooks == ("govflow_after_transition", "govflow_deadline")
        flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
        flow.add_unit("XIANGYUN", "祥云县", level="county")
        flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
        assert [row.plugin for row in flow.outbox.delivered()] == ["webhook"]
    (request,) = receiver.requests
    assert verified(request) and request.json()["trigger"] == "assign"


@pytest.mark.parametrize("urls", [None, "   "])
def test_an_unconfigured_entry_point_is_skipped_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, urls: str | None
) -> None:
    entry_point("webhook", monkeypatch, tmp_path)
    if urls is not None:
        monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", urls)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with govflow.open(":memory:", strict_plugins=True) as flow:
            assert "webhook" not in {p.name for p in flow.plugins()}
            assert flow.plugin_failures() == []


def test_a_partially_configured_entry_point_is_skipped_with_a_warning_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    entry_point("webhook", monkeypatch, tmp_path)
    monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", "https://ops.example.org/hook")  # but no secret
    warning = "'webhook' from distribution 'govflow-webhook'.*GOVFLOW_WEBHOOK_SECRET"
    with pytest.warns(govflow.PluginWarning, match=warning):
        flow = govflow.open(":memory:")
    with flow:
        assert "webhook" not in {p.name for p in flow.plugins()}
        (failure,) = flow.plugin_failures()
        assert failure.name == "webhook" and failure.distribution == "govflow-webhook"
        assert "WebhookConfigError" in failure.problem and "not set" in failure.problem
    with pytest.raises(govflow.PluginLoadError, match="GOVFLOW_WEBHOOK_SECRET"):
        govflow.open(":memory:", strict_plugins=True)


@pytest.mark.parametrize("environment", ["complete", "partial"])
def test_an_explicit_instance_wins_over_the_entry_point_of_the_same_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock, receiver: Receiver,
    second_receiver: Receiver, environment: str,
) -> None:
    entry_point("webhook", monkeypatch, tmp_path)
    # The environment configures the entry point for another receiver (completely, or without a secret).
    monkeypatch.setenv("GOVFLOW_WEBHOOK_URLS", second_receiver.url)
    if environment == "complete":
        monkeypatch.setenv("GOVFLOW_WEBHOOK_SECRET", "the-environment's-secret")
    mine = WebhookNotifier(urls=[receiver.url], secret=SECRET)
    assert mine.name == "webhook"
    with mine, warnings.catch_warnings():
        warnings.simplefilter("error")  # no duplicate-name warning, and the entry point is not even built
        with govflow.open(":memory:", clock=clock, plugins=[mine], delivery="inline") as flow:
            (info,) = [p for p in flow.plugins() if p.name == "webhook"]
            assert info.distribution is None, "the explicit instance, not the installed entry point"
            assert flow.plugin_failures() == []
            flow.add_unit("OFFICE", "办公室", level="prefecture", supervisor=True)
            flow.add_unit("XIANGYUN", "祥云县", level="county")
            flow.assign("t", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert [row.plugin for row in flow.outbox.delivered()] == ["webhook"]
    (request,) = receiver.requests
    assert verified(request) and request.json()["trigger"] == "assign"
    assert second_receiver.requests == []


# -- bounded deliveries (issue #12) -----------------------------------------------------------------------


class Dripper:
    """A server that answers one byte every ``pause`` seconds: in the body, or already in the headers."""

    def __init__(self, *, in_headers: bool, pause: float = 0.5, size: int = 16) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.stop = threading.Event()
        self.in_headers, self.pause, self.size = in_headers, pause, size
        threading.Thread(target=self.serve, daemon=True, name="dripper").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(conn,), daemon=True).start()

    def drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {self.size}\r\n\r\n".encode()
            payload = head + b"x" * self.size
            if not self.in_headers:
                conn.sendall(head)
                payload = b"x" * self.size
            for byte in payload:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(self.pause)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_receiver_cannot_hold_a_delivery_past_the_timeout(clock: FakeClock, in_headers: bool) -> None:
    dripper = Dripper(in_headers=in_headers)
    try:
        with notifier(dripper.url, timeout=1.0) as plugin, open_flow(":memory:", clock, plugin) as flow:
            flow.assign("噪音扰民", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            started = time.monotonic()
            assert flow.deliver().retrying == 1
            assert time.monotonic() - started < 2.5, "a byte every half second held the delivery"
            (row,) = flow.outbox.pending()
            assert "timed out after 1 s" in (row.last_error or "")
    finally:
        dripper.close()


def test_only_a_capped_answer_is_read(clock: FakeClock) -> None:
    from govflow_webhook import MAX_RESPONSE_BYTES

    size = 50 * 1024 * 1024
    sent: list[int] = []

    class Big(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"y" * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
                    sent.append(len(chunk))
            except OSError:
                pass  # the notifier stopped reading and closed: what we want

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with notifier(url, timeout=5.0) as plugin, open_flow(":memory:", clock, plugin) as flow:
            flow.assign("噪音扰民", lead="XIANGYUN", due="2026-03-20", by="OFFICE")
            assert flow.deliver().delivered == 1
        time.sleep(0.2)
        assert sum(sent) < size // 2, "the whole 50 MB answer was read"
        assert MAX_RESPONSE_BYTES <= 1024 * 1024
    finally:
        server.shutdown()
        server.server_close()
