"""One intake door: every message is saved before it is queued. A dead Redis delays the
answer, never loses the message; a dead database makes the platform retry, and nothing is
half-written; no payload shape gets a 500 or a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels import (
    OPERATOR,
    TG_SECRET,
    dm,
    slack_settings,
    telegram_settings,
    tg_message,
)
from tests.fakes.smtp import free_port

pytestmark = pytest.mark.slow  # coo serve over HTTP


class RedisServer:
    """A Redis of this test's own, to stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (scripts/services starts the machine's Redis)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                Redis.from_url(self.url).ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def _wait(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # e.g. a health check still waiting on the database's pool
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_messages_sent_while_redis_is_down_are_answered_once_it_is_back(
    slack_api, telegram_api, serve, pg_url, own_redis
):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from bot.job_registry import QUEUES

    served = serve(
        **slack_settings(slack_api), **telegram_settings(telegram_api), database_url=pg_url, redis_url=own_redis.url
    )
    assert served.slack_event(dm("what's overdue?", "1764082800.000700"), "EvR1").status_code == 200
    assert served.telegram_update(tg_message(7001, 70, "who owes me money?")).status_code == 200
    inbox = served.runtime.store.inbox
    assert [i.status for i in inbox.unqueued()] == ["saved", "saved"]  # saved, not lost
    health = served.http.get("/healthz")
    assert health.status_code == 200 and health.json()["queue"] == "down" and health.json()["waiting"] == 2

    own_redis.start()  # Redis is back: the sweeper queues what was saved, without a worker restart
    _wait(lambda: inbox.unqueued() == [])
    redis = Redis.from_url(own_redis.url)
    SimpleWorker([Queue(n, connection=redis) for n in QUEUES], connection=redis).work(burst=True)
    _wait(
        lambda: any(
            "Nothing is overdue" in c["text"] or "overdue" in c["text"].lower()
            for c in slack_api.recorded("chat.postMessage")
        )
    )
    _wait(lambda: telegram_api.recorded("sendMessage"))
    assert served.slack_event(dm("what's overdue?", "1764082800.000700"), "EvR1").status_code == 200  # a retry
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM inbox") == 2


def _database_accepts(url: str, accepts: bool) -> None:
    """Refuse (or allow again) every new connection to this test's database, and end the open ones."""
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if accepts else 'false'}")
        if not accepts:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_while_the_database_is_down_platforms_get_a_retryable_status_and_nothing_is_half_written(
    slack_api, telegram_api, serve, pg_url
):
    served = serve(**slack_settings(slack_api), **telegram_settings(telegram_api), database_url=pg_url)
    _database_accepts(pg_url, False)
    try:
        slack = served.slack_event(dm("new client: Northwind", "1764082800.000800"), "EvD1")
        telegram = served.telegram_update(tg_message(8001, 80, "new client: Globex"))
        health = served.http.get("/healthz")
    finally:
        _database_accepts(pg_url, True)
    assert slack.status_code == 503 and telegram.status_code == 503  # both platforms send it again
    assert health.status_code == 503 and health.json()["database"] == "down"
    assert "Traceback" not in slack.text + telegram.text
    store = served.runtime.store
    _wait(lambda: served.http.get("/healthz").status_code == 200)
    assert store.db.scalar("SELECT COUNT(*) AS n FROM inbox") == 0
    assert store.db.scalar("SELECT COUNT(*) AS n FROM runs") == 0

    # The platforms' retries, once the database is back: each message is taken once.
    assert served.slack_event(dm("new client: Northwind", "1764082800.000800"), "EvD1", retry=1).status_code == 200
    assert served.telegram_update(tg_message(8001, 80, "new client: Globex")).status_code == 200
    served.settle()
    names = sorted(c.name for c in store.clients.all())
    assert names == ["Globex", "Northwind"]
    assert store.db.scalar("SELECT COUNT(*) AS n FROM inbox") == 2


# -- fuzzed payload shapes -------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
SLACK_KEYS = ("type", "event", "event_id", "user", "channel", "container", "message", "actions", "view", "trigger_id")


def _slack_shapes() -> st.SearchStrategy[dict[str, Any]]:
    action = st.fixed_dictionaries(
        {"action_id": st.sampled_from(["coo:approve:1", "coo:reject:2", "coo:edit:1", "other"])},
        optional={"action_ts": st.text(max_size=5), "block_id": JSON, "value": JSON},
    )
    event = st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "app_mention", "reaction_added"])},
        optional={k: JSON for k in ("user", "text", "channel", "ts", "files", "subtype", "channel_type", "bot_id")},
    )
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("event_callback"), "event": event, "event_id": st.text(min_size=1, max_size=8)},
            optional={"team_id": JSON, "authorizations": JSON},
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["block_actions", "view_submission"]), "actions": st.lists(action, max_size=2)},
            optional={k: JSON for k in ("user", "channel", "container", "message", "view", "trigger_id")},
        ),
        st.dictionaries(st.sampled_from(SLACK_KEYS), JSON, max_size=6),
    )


@pytest.fixture
def served_all(slack_api: Any, telegram_api: Any, serve: Any, sqlite_url: str) -> Any:
    return serve(
        **slack_settings(slack_api),
        **telegram_settings(telegram_api),
        database_url=sqlite_url,
        inbound_email_secret="mail-secret",
    )


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(payload=_slack_shapes(), as_form=st.booleans())
def test_fuzzed_slack_payloads_never_get_a_500(served_all, payload, as_form):
    from urllib.parse import urlencode

    from tests.fakes.slack_api import sign

    if as_form:
        body = urlencode({"payload": json.dumps(payload)})
        content_type = "application/x-www-form-urlencoded"
    else:
        body = json.dumps(payload)
        content_type = "application/json"
    from tests.channels import SIGNING_SECRET

    response = served_all.post("/slack/events", body, {"Content-Type": content_type, **sign(SIGNING_SECRET, body)})
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert "Traceback" not in response.text


@FUZZ
@given(
    payload=JSON
    | st.fixed_dictionaries(
        {"update_id": st.integers(0, 2**31)}, optional={"message": JSON, "callback_query": JSON, "edited_message": JSON}
    )
)
def test_fuzzed_telegram_updates_never_get_a_500(served_all, payload):
    response = served_all.telegram_update(payload)  # a fuzzed shape, often not a dict
    assert response.status_code in (200, 400), response.text
    assert "Traceback" not in response.text


@FUZZ
@given(raw=st.binary(max_size=400))
def test_fuzzed_inbound_email_never_gets_a_500(served_all, raw):
    response = served_all.post("/inbound/email", raw, {"X-Coo-Secret": "mail-secret"})
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert "Empty message" in response.text


def test_the_telegram_body_that_is_a_json_array_is_a_clear_400(served_all):
    response = served_all.post("/telegram/webhook", "[1, 2]", {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    assert response.status_code == 400 and "Telegram Update" in response.text


def test_empty_posts_say_why_they_are_refused(served_all):
    from tests.channels import SIGNING_SECRET
    from tests.fakes.slack_api import sign

    response = served_all.post("/telegram/webhook", "", {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    assert response.status_code == 400 and "the body is empty" in response.text, response.text
    response = served_all.post("/slack/events", "", {"Content-Type": "application/json", **sign(SIGNING_SECRET, "")})
    assert response.status_code in (400, 401, 404), response.text
    assert response.text.strip(), "a refusal says why"
    response = served_all.post("/inbound/email", "", {"X-Coo-Secret": "mail-secret"})
    assert response.status_code == 400 and "Empty message" in response.text


def test_unexpected_slack_shapes_from_the_field_are_answered_without_a_500(served_all, caplog):
    from tests.channels import SIGNING_SECRET
    from tests.fakes.slack_api import interaction_body, sign

    no_container = {
        "type": "block_actions",
        "user": {"id": OPERATOR},
        "channel": {"id": "D0OPS"},
        "actions": [{"action_id": "coo:approve:1", "action_ts": "1.2"}],
    }
    no_metadata = {"type": "view_submission", "user": {"id": OPERATOR}, "view": {"callback_id": "coo_edit"}}
    for payload in (no_container, no_metadata):
        body = interaction_body(payload)
        response = served_all.post(
            "/slack/events", body, {"Content-Type": "application/x-www-form-urlencoded", **sign(SIGNING_SECRET, body)}
        )
        assert response.status_code in (200, 400) and "Traceback" not in response.text
    assert "payload shape" in caplog.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_console_goes_through_the_same_door(chat):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("what's overdue?")
    rows = chat.runtime.store.db.fetchall("SELECT channel, kind, status FROM inbox ORDER BY id")
    assert [(r["channel"], r["kind"], r["status"]) for r in rows] == [("console", "message", "done")] * 2
