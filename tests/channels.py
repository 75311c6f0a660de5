"""Fixtures for the chat-platform tests: fake Slack and Telegram APIs, and `coo serve`'s app
running under uvicorn on a free port (the real Starlette app, its lifespan and delivery loop)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.fakes.slack_api import SlackApi, block_actions, event_body, interaction_body, sign
from tests.fakes.telegram_api import TelegramApi

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OPERATOR = "UOPERATOR"
TG_OPERATOR = 4242
TG_SECRET = "tg-webhook-secret"
RETAINER = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, "
    "contact <mailto:jane@acme.example|jane@acme.example>"
)
PLATFORM_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "TELEGRAM_API_URL",
)


class Served:
    """coo serve's web app in a thread; ``post`` talks to it over real HTTP."""

    def __init__(self, runtime: Any, services: Any) -> None:
        import uvicorn

        self.runtime = runtime
        self.services = services
        # Bound here, on a port the kernel picks, and handed to uvicorn: no other process (a
        # pytest-xdist worker, another developer's run) can take it between choosing and binding.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(services.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("coo serve did not start")
            time.sleep(0.01)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def post(self, path: str, content: str | bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(path, content=content, headers=headers or {})

    def slack_event(
        self,
        event: dict[str, Any],
        event_id: str,
        *,
        retry: int | None = None,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
    ) -> httpx.Response:
        body = event_body(event, event_id)
        headers = {"Content-Type": "application/json", **sign(secret, body, timestamp)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post("/slack/events", body, headers)

    def slack_interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = interaction_body(payload)
        return self.post(
            "/slack/events", body, {"Content-Type": "application/x-www-form-urlencoded", **sign(SIGNING_SECRET, body)}
        )

    def telegram_update(self, update: dict[str, Any], secret: str | None = TG_SECRET) -> httpx.Response:
        import json

        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.post("/telegram/webhook", json.dumps(update), headers)

    def settle(self, timeout: float = 10) -> None:
        """Wait until queued work is done and every reply has been delivered."""
        deadline = time.monotonic() + timeout
        store = self.runtime.store
        while time.monotonic() < deadline:
            self.runtime.queue.wait_idle()
            waiting = store.db.scalar(
                "SELECT COUNT(*) AS n FROM messages WHERE direction = 'out'"
                " AND delivered_at IS NULL AND channel IN ('slack', 'telegram')"
            )
            if not waiting:
                return
            time.sleep(0.01)

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def slack_api() -> Iterator[SlackApi]:
    api = SlackApi().start()
    yield api
    api.stop()


@pytest.fixture
def telegram_api() -> Iterator[TelegramApi]:
    api = TelegramApi().start()
    yield api
    api.stop()


@pytest.fixture
def serve(make_runtime: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Served]]:
    """Start coo serve's app with the given settings (on the in-process queue)."""
    from bot.serve import Services
    from bot.telegram.outbound import Pacer

    for var in PLATFORM_VARS:
        monkeypatch.delenv(var, raising=False)
    started: list[Served] = []

    def start(*, schedule: bool = False, **settings: Any) -> Served:
        runtime = make_runtime(**settings)
        services = Services(runtime, delivery_interval=0.01, pacer=Pacer(per_second=1000), schedule=schedule)
        served = Served(runtime, services)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def slack_settings(slack_api: SlackApi, **more: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_api.url,
        "slack_operators": OPERATOR,
        **more,
    }


def telegram_settings(telegram_api: TelegramApi, **more: Any) -> dict[str, Any]:
    return {
        "telegram_bot_token": "123456:TEST-TOKEN",
        "telegram_api_url": telegram_api.url,
        "telegram_webhook_url": "https://coo.example/telegram/webhook",
        "telegram_webhook_secret": TG_SECRET,
        "telegram_operators": str(TG_OPERATOR),
        **more,
    }


def dm(text: str, ts: str, user: str = OPERATOR, **more: Any) -> dict[str, Any]:
    """A direct message event (message.im)."""
    return {
        "type": "message",
        "channel": "D0OPS",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **more,
    }


def button(
    card: dict[str, Any], verb: str, approval_id: int, user: str = OPERATOR, action_ts: str = "1764082900.000001"
) -> dict[str, Any]:
    """A block_actions payload: ``user`` tapped ``verb`` on the card posted by the chat.postMessage call ``card``."""
    return block_actions(card, verb, approval_id, user, action_ts)


def tg_message(update_id: int, message_id: int, text: str, user: int = TG_OPERATOR) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user, "type": "private", "first_name": "Ana"},
            "from": {"id": user, "is_bot": False, "first_name": "Ana"},
        },
    }


def tg_tap(update_id: int, card: dict[str, Any], data: str, user: int = TG_OPERATOR) -> dict[str, Any]:
    """A callback_query: ``user`` tapped the button with ``data`` on ``card`` (a sendMessage call)."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb-{update_id}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": user, "is_bot": False, "first_name": "Someone"},
            "message": {
                "message_id": card["sent_message_id"],
                "date": int(time.time()),
                "text": "card",
                "chat": {"id": int(card["chat_id"]), "type": "private"},
            },
        },
    }


def wait_for_gate(gate: threading.Event) -> None:
    """A job that keeps the in-process worker busy until the test opens ``gate``."""
    gate.wait(timeout=60)


@contextmanager
def worker_held(runtime: Any) -> Iterator[None]:
    """Inside, the in-process worker is busy, so every job queued meanwhile waits: whatever has
    happened by the time a request returns, the request did itself, not a job it queued."""
    from store.jobqueue import JobSpec

    gate = threading.Event()
    runtime.queue.enqueue("tests.channels.wait_for_gate", f"gate-{id(gate)}", JobSpec(retries=0), gate=gate)
    try:
        yield
    finally:
        gate.set()
