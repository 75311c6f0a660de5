"""coo serve's doors against hostile or odd requests: bodies over an endpoint's ceiling are 413
before they are read, Slack signatures are checked before anything is parsed, and odd payloads
are a clear 4xx — never a 500, never a traceback."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from bot.body_limit import LIMITS
from tests.channels import OPERATOR, SIGNING_SECRET, TG_SECRET, dm, slack_settings, telegram_settings
from tests.fakes.slack_api import event_body, sign

pytestmark = pytest.mark.slow  # coo serve over HTTP


AUTH = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "X-Coo-Secret": "mail-secret"}


@pytest.fixture
def served(slack_api: Any, telegram_api: Any, serve: Any, sqlite_url: str) -> Any:
    return serve(
        **slack_settings(slack_api),
        **telegram_settings(telegram_api),
        database_url=sqlite_url,
        inbound_email_secret="mail-secret",
    )


def _raw_post(port: int, path: str, headers: dict[str, str], chunks: Any, *, chunked: bool = False) -> tuple[int, int]:
    """POST over a bare socket, feeding ``chunks`` until the server answers; (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
    sock.sendall((head + "\r\n").encode())
    sent = 0
    sock.setblocking(False)
    answer = b""
    try:
        for chunk in chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            data = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
            try:
                sock.setblocking(True)
                sock.sendall(data)
                sock.setblocking(False)
            except OSError:  # the server answered and closed: what it said is in the socket
                break
            sent += len(chunk)
        sock.setblocking(True)
        sock.settimeout(10)
        while b"\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    finally:
        sock.close()
    return int(answer.split(b" ", 2)[1]), sent


def _megabytes(count: int) -> Any:
    block = b"x" * (1024 * 1024)
    for _ in range(count):
        yield block


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_a_100_mb_post_is_refused_before_it_is_read(served, path):
    headers = {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024), **AUTH}
    status, sent = _raw_post(served.port, path, headers, _megabytes(100))
    assert status == 413
    assert sent < 100 * 1024 * 1024  # answered long before the client finished sending


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(served, path):
    headers = {"Content-Type": "application/json", **AUTH}
    status, sent = _raw_post(served.port, path, headers, _megabytes(100), chunked=True)
    assert status == 413
    assert sent < 50 * 1024 * 1024


def test_the_answer_names_the_limit(served):
    response = served.post("/slack/events", b"{" * (LIMITS["/slack/events"] + 1), {"Content-Type": "application/json"})
    assert response.status_code == 413 and "at most 1048576 bytes" in response.text


def test_an_unsigned_body_is_refused_before_it_is_parsed(served, caplog):
    for body in ("{not json", "[1, 2]", json.dumps({"type": "event_callback", "event": {}})):
        response = served.post("/slack/events", body, {"Content-Type": "application/json"})
        assert response.status_code == 401, response.text
        assert "signature" in response.text
        response = served.post(
            "/slack/events", body, {"Content-Type": "application/json", **sign("not-the-secret", body)}
        )
        assert response.status_code == 401 and "invalid Slack signature" in response.text
    assert "JSONDecodeError" not in caplog.text  # never parsed


def _signed(served: Any, body: str | bytes, content_type: str = "application/json", **headers: str) -> Any:
    text = body.decode() if isinstance(body, bytes) else body
    return served.post("/slack/events", body, {"Content-Type": content_type, **sign(SIGNING_SECRET, text), **headers})


def test_signed_but_odd_slack_payloads_get_a_4xx_that_says_why(served):
    cases = {
        "{not json": "not valid JSON",
        "[1, 2]": "JSON list, not an object",
        "7": "JSON int",
        "[" * 100_000 + "]" * 100_000: "nested too deeply",
        event_body({"type": "message", "user": OPERATOR, "text": "hi", "channel_type": "im"}, "Ev1"): "without channel",
        event_body({"type": "message", "user": OPERATOR, "text": "hi", "channel": "D0OPS"}, "Ev2"): "without ts",
        event_body({"type": "app_mention", "user": ["x"], "text": "hi", "channel": "C1", "ts": "1.2"}, "Ev3"): "user",
        json.dumps({"type": "event_callback", "event": "hello", "event_id": "Ev4"}): "without an event object",
        event_body(dm("hi", "yesterday"), "Ev5"): "ts is not a Slack timestamp",
        event_body(dm("hi", "1764082800.000100", thread_ts=12.5), "Ev6"): "thread_ts is not a Slack timestamp",
    }
    for body, why in cases.items():
        response = _signed(served, body)
        assert 400 <= response.status_code < 500, (body[:80], response.status_code, response.text)
        assert why in response.text, (body[:80], response.text)
        assert "Traceback" not in response.text
    deep = "payload=" + "%5B" * 50_000
    response = _signed(served, deep, "application/x-www-form-urlencoded")
    assert response.status_code == 400, response.text


def test_a_non_numeric_slack_timestamp_is_a_401(served):
    body = event_body(dm("hi", "1764082800.000100"), "EvTs")
    headers = sign(SIGNING_SECRET, body) | {"X-Slack-Request-Timestamp": "yesterday"}
    response = served.post("/slack/events", body, {"Content-Type": "application/json", **headers})
    assert response.status_code == 401 and "not a number" in response.text
    old = sign(SIGNING_SECRET, body, int(time.time()) - 3600)
    response = served.post("/slack/events", body, {"Content-Type": "application/json", **old})
    assert response.status_code == 401 and "too old" in response.text


def test_odd_telegram_updates_get_a_400(served):
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
    for body in ("[" * 100_000 + "]" * 100_000, "[1]", "{bad", '{"update_id": "seven"}'):
        response = served.post("/telegram/webhook", body, headers)
        assert response.status_code == 400, (body[:40], response.text)
        assert "Traceback" not in response.text
    # the secret is checked before the body is read
    response = served.post("/telegram/webhook", "{bad", {"Content-Type": "application/json"})
    assert response.status_code == 403


def test_a_good_signed_message_still_gets_through(served, slack_api):
    assert served.slack_event(dm("what's overdue?", "1764082800.000300"), "EvOk").status_code == 200
    assert slack_api.wait_for("chat.postMessage")
