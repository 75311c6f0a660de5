"""Soft SLAs per category (issue #16): a breach is flagged in the run's thread and in the digest;
the operator sets them with /policy sla; the quarterly review in the digest shows the policy."""

from __future__ import annotations

from datetime import date

import pytest

from agents.digest_writer import write_digest
from tests.conftest import ChatDriver

pytestmark = pytest.mark.clock

CLIENT = "new client: Northwind, contact ops@northwind.example"


@pytest.fixture
def lite(make_runtime, sqlite_url, smtp) -> ChatDriver:
    runtime = make_runtime(database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>")
    return ChatDriver(runtime)


def test_a_billing_breach_is_flagged_in_the_thread_and_the_digest(lite, clock):
    chat = lite
    chat.say(CLIENT)
    assert "billing (billing): 1h" in chat.say("/policy")
    assert "[/approve 1]" in chat.say("invoice Northwind $2,000 for october design work")
    assert "[/approve 2]" in chat.say("invoice Northwind $300 for fonts")
    clock.advance(hours=2)
    said = chat.say("/approve 1")
    assert "Sent invoice #INV-0001" in said
    assert "⏱ SLA breach: this work took longer than its soft SLA" in said

    store = chat.runtime.store
    digest = write_digest(store, clock.today()).text
    assert "SLA breaches:" in digest
    assert "took 2.0 h; the SLA is 1h" in digest  # the invoice sent late
    assert "has been open for 2.0 h; the SLA is 1h" in digest  # the one still waiting
    flagged = store.db.fetchall("SELECT run_id FROM ledger WHERE kind = 'sla_breached'")
    assert len(flagged) == 2
    # The open one was flagged in its own thread, once, even after a second digest.
    write_digest(store, clock.today())
    waiting = store.runs.approval(2)
    assert waiting is not None
    posts = store.db.fetchall(
        "SELECT text FROM messages WHERE run_id = ? AND text LIKE '%SLA breach%'", (waiting.run_id,)
    )
    assert len(posts) == 1 and "has been open for 2.0 h" in posts[0]["text"]


def test_the_operator_sets_an_sla_and_it_is_in_the_ledger(lite, clock):
    chat = lite
    chat.say(CLIENT)
    assert "OK: billing should be done within 3h of the request." in chat.say("/policy sla billing 3h")
    assert "is not a duration" in chat.say("/policy sla billing soon")
    assert "Write /policy sla billing|client_email|marketing" in chat.say("/policy sla cooking 2h")
    chat.say("invoice Northwind $2,000 for october design work")
    clock.advance(hours=2)
    assert "SLA breach" not in chat.say("/approve 1")
    store = chat.runtime.store
    assert "SLA breaches" not in write_digest(store, clock.today()).text
    changes = store.db.fetchall("SELECT payload FROM ledger WHERE kind = 'policy_changed'")
    assert len(changes) == 1


def test_the_first_digest_of_a_quarter_reviews_the_policy_once(lite):
    chat = lite
    chat.say(CLIENT)
    chat.say('/policy invoicer send_invoice auto client="Northwind" max=1000')
    chat.say("/policy cap daily 5")
    store = chat.runtime.store
    assert "Quarterly policy review" not in write_digest(store, date(2026, 12, 1)).text
    digest = write_digest(store, date(2027, 1, 4))
    review = digest.text
    assert "Quarterly policy review (Q1 2027)" in review
    assert "• autonomy: invoicer send_invoice for Northwind = auto" in review
    [offer] = digest.offers
    assert offer.label == f"#{offer.id} invoicer send_invoice → ask"
    assert f"tap #{offer.id} invoicer send_invoice → ask (/policy accept {offer.id}; or /policy invoicer" in review
    assert "2 policy change(s) last quarter" in review and "cap.daily: None → 5" in review
    assert "spend caps: daily 5, monthly as configured" in review
    assert "billing 1h (0 breach(es))" in review
    assert "Quarterly policy review" not in write_digest(store, date(2027, 1, 5)).text

    # The review's one-tap action (the console's numbered command; a button in Slack and Telegram).
    said = chat.say(f"/policy accept {offer.id}")
    assert "✅ Lowered by you at " in said and "invoicer's invoices for Northwind ask you again" in said
    assert store.autonomy_rules.level("invoicer", "send_invoice", 1) == "ask"
    assert "out of date" in chat.say(f"/policy accept {offer.id}")
    assert len(store.db.fetchall("SELECT id FROM ledger WHERE kind = 'policy_changed'")) == 3
