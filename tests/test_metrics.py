"""GET /metrics (issue #16): Prometheus text that the Prometheus client's own parser reads, whose
numbers equal the ledger's, behind a bearer token (or served to this machine only)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from agents.llm import register_provider, unregister_provider
from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel

CLIENT = "new client: Northwind, contact ops@northwind.example"
TOKEN = "metrics-s3cret"


@pytest.fixture
def writer() -> Iterator[ScriptedChatModel]:
    model = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: model)
    yield model
    unregister_provider("scripted")


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def _value(samples, name: str, **labels: str) -> float:
    return sum(v for got, v in samples.get(name, []) if all(got.get(k) == x for k, x in labels.items()))


def test_metrics_parse_and_equal_the_ledger(serve, sqlite_url, smtp, writer, clock):
    served = serve(
        database_url=sqlite_url,
        smtp_url=smtp.url,
        from_email="Ana Ruiz <ana@studio.example>",
        model_mid="scripted:gpt-4o-mini",  # a priced model: its calls cost money
        metrics_token=TOKEN,
    )
    chat = ChatDriver(served.runtime)
    chat.say(CLIENT)
    writer.script.append("Hi,\n\nThe files are uploaded.\n\nAna")
    assert "[/approve 1]" in chat.say("email Northwind that the files are uploaded")
    clock.advance(minutes=5)  # the operator takes five minutes to decide
    assert "Sent e-mail" in chat.say("/approve 1")
    assert "[/approve 2]" in chat.say("invoice Northwind $2,000 for october design work")
    chat.say("/reject 2")
    assert "[/approve 3]" in chat.say("invoice Northwind $500 for hosting")
    smtp.recorder.data_reply = "550 5.1.1 No such mailbox"
    assert "NOT SENT" in chat.say("/approve 3")
    smtp.recorder.data_reply = None
    assert "[/approve 4]" in chat.say("invoice Northwind $300 for fonts")  # left waiting
    served.settle()

    assert served.http.get("/metrics").status_code == 403
    assert served.http.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    response = served.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)

    store = served.runtime.store
    for row in store.db.fetchall("SELECT kind, status, COUNT(*) AS n FROM runs GROUP BY kind, status"):
        assert _value(samples, "coo_runs", kind=row["kind"], status=row["status"]) == row["n"]
    assert _value(samples, "coo_runs") == store.db.scalar("SELECT COUNT(*) AS n FROM runs")
    assert _value(samples, "coo_runs", status="failed") == 1 and _value(samples, "coo_runs", status="done") >= 2
    assert _value(samples, "coo_approvals_waiting") == len(store.runs.pending_approvals()) == 1

    usage = store.ledger.model_usage()
    assert usage["calls"] == 1 and usage["cost_usd"] > 0
    assert _value(samples, "coo_model_cost_usd_total", tier="mid") == pytest.approx(usage["cost_usd"])
    assert _value(samples, "coo_model_tokens_total", tier="mid", direction="prompt") == usage["prompt_tokens"]
    assert _value(samples, "coo_model_tokens_total", direction="completion") == usage["completion_tokens"]
    assert _value(samples, "coo_model_calls_total", tier="mid", agent="email_responder") == 1

    assert _value(samples, "coo_side_effects", action="send_email", outcome="done") == 1
    assert _value(samples, "coo_side_effects", action="send_invoice", outcome="failed") == 1
    decided = store.db.fetchall("SELECT asked_at, decided_at FROM approvals WHERE status <> 'pending'")
    assert _value(samples, "coo_decision_latency_seconds_count") == len(decided) == 3
    assert _value(samples, "coo_decision_latency_seconds_sum", agent="email_responder") == 300
    assert _value(samples, "coo_decisions_total", decision="rejected") == 1
    assert "coo_queue_depth" in response.text and _value(samples, "coo_job_retries_total") == 0
    # A query-string token works too (the dashboard link carries one).
    assert served.http.get(f"/metrics?token={TOKEN}").status_code == 200


def test_without_a_token_metrics_are_served_to_this_machine_only(serve, sqlite_url):
    served = serve(database_url=sqlite_url)
    local = served.http.get("/metrics")  # the test client connects from 127.0.0.1
    assert local.status_code == 200 and "coo_approvals_waiting 0.0" in local.text
    remote = TestClient(served.services.app())  # Starlette's test client is "testclient", not local
    refused = remote.get("/metrics")
    assert refused.status_code == 403 and "coo_" not in refused.text
    assert isinstance(local, httpx.Response)


def test_job_retries_count_every_job_the_queue_retried(serve, sqlite_url, monkeypatch):
    """An intake job, a run job and a tick job each fail once and are retried: /metrics counts the
    three retries by job, as the ledger's job_retry events say (send retries are their own figure)."""
    import bot.ticks
    from bot.intake import Intake
    from bot.job_registry import JOBS
    from graphs.envelope import Envelope
    from store.errors import StoreUnavailable

    served = serve(database_url=sqlite_url)
    runtime = served.runtime
    failed: list[str] = []

    def once(name: str, real, error: type[Exception] = RuntimeError):  # type: ignore[no-untyped-def]
        def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
            if name not in failed:
                failed.append(name)
                raise error(f"the first attempt at the {name} job fails")
            return real(*args, **kwargs)

        return flaky

    monkeypatch.setattr(
        runtime.conversation, "_request", once("inbox", runtime.conversation._request, StoreUnavailable)
    )
    monkeypatch.setattr(runtime.supervisor, "start", once("run", runtime.supervisor.start))
    monkeypatch.setattr(bot.ticks, "run_tick", once("tick", bot.ticks.run_tick))
    env = Envelope(channel="console", event_id="ev-1", thread_id="console", user_id="operator", text=CLIENT)
    assert Intake(runtime.store, runtime.queue).submit(env, post_ack=False)
    runtime.queue.wait_idle()
    assert [c.name for c in runtime.store.clients.all()] == ["Northwind"]  # both retries went on
    tick = JOBS["tick"]
    assert runtime.queue.enqueue(tick.func, "tick-2026-11-25", tick.spec, day="2026-11-25")
    runtime.queue.wait_idle()
    assert failed == ["inbox", "run", "tick"]

    samples = _samples(served.http.get("/metrics").text)
    assert _value(samples, "coo_job_retries_total", job="process_inbox") == 1
    assert _value(samples, "coo_job_retries_total", job="run_intent") == 1
    assert _value(samples, "coo_job_retries_total", job="run_tick") == 1
    assert _value(samples, "coo_send_retries_total") == 0
    events = runtime.store.db.fetchall("SELECT step, payload FROM ledger WHERE kind = 'job_retry' ORDER BY id")
    assert [e["step"] for e in events] == ["process_inbox", "run_intent", "run_tick"]
    assert _value(samples, "coo_job_retries_total") == len(events) == 3


def test_the_aggregates_equal_the_ledger_read_row_by_row(chat, clock):
    """/metrics and /dashboard read grouped rows from the database (store.aggregates); on either
    database those sums equal the ledger's events read one by one, local days included."""
    from collections import defaultdict
    from datetime import datetime

    from store.observability import _payload

    store = chat.runtime.store
    chat.say(CLIENT)
    chat.say("email Northwind that batch 1 is uploaded")
    clock.advance(minutes=3)
    chat.say("/approve 1")
    chat.say("email Northwind that batch 2 is uploaded")
    chat.say("/edit 2 subject=Batch 2 is up")
    clock.advance(seconds=90)
    chat.say("/approve 2")
    chat.say("invoice Northwind $500 for hosting")
    chat.say("/reject 3")
    run_id = store.runs.recent()[0].id
    calls = [
        ("mid", "gpt-4o-mini", 120, 40, 0.0012, True, False),
        ("large", "gpt-4o", 300, 90, 0.0105, True, False),
        ("mid", "local-model", 50, 10, 0.0, False, False),  # unpriced
        ("mid", "local-model", 50, 10, 0.0, False, True),  # unpriced but cached: costs nothing
    ]
    for n, (tier, model, given, taken, usd, priced, cached) in enumerate(calls):
        clock.advance(hours=7)  # the calls fall on several local days
        payload = {"tier": tier, "model": model, "prompt_tokens": given, "completion_tokens": taken}
        store.ledger.append(
            run_id if n % 2 else "never-planned",
            "model",
            "model_call",
            payload | {"cost_usd": usd, "priced": priced, "cached": cached},
            dedupe=str(n),
        )
    store.ledger.append("jobs", "run_intent", "job_retry", {"job": "run_intent", "job_id": "a", "attempt": 3})
    figures = store.observability.figures()

    agents = store.observability.run_agents()
    expected: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
    for row in store.db.fetchall("SELECT run_id, payload, created_at FROM ledger WHERE kind = 'model_call'"):
        call = _payload(row["payload"])
        at = row["created_at"]
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        key = (clock.local(at).date(), call["tier"], agents.get(row["run_id"], "router"), call["model"])
        expected[key][0] += 1
        expected[key][1] += call["prompt_tokens"]
        expected[key][2] += call["completion_tokens"]
        expected[key][3] += call["cost_usd"]
        expected[key][4] += 0 if call["priced"] or call["cached"] else 1
    got = {
        (u.day, u.tier, u.agent, u.model): [u.calls, u.prompt_tokens, u.completion_tokens, u.cost_usd, u.unpriced_calls]
        for u in figures.model
    }
    assert got.keys() == expected.keys() and len({k[0] for k in got}) >= 2
    for key, sums in expected.items():
        assert got[key][:3] == sums[:3] and got[key][3] == pytest.approx(sums[3]) and got[key][4] == sums[4]

    one_by_one = store.observability.decisions()
    assert sum(g.count for g in figures.decisions) == len(one_by_one) == 3
    for group in figures.decisions:
        members = [
            d
            for d in one_by_one
            if (d.agent, d.via == "autonomy", d.decision, d.edited)
            == (group.agent, group.autonomy, group.decision, group.edited)
        ]
        assert group.count == len(members)
        assert group.seconds == pytest.approx(sum(d.seconds for d in members), abs=0.001)
    assert {(g.decision, g.edited) for g in figures.decisions} == {
        ("approved", False),
        ("approved", True),
        ("rejected", False),
    }
    assert figures.human_decision_seconds == pytest.approx(sum(d.seconds for d in one_by_one) / 3)
    assert figures.job_retries == {"run_intent": 2} and figures.send_retries == 0
