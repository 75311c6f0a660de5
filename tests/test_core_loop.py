"""The core loop as a user drives it in the console: message → intent → run → approval → side effect → ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fakes.smtp import text_body

RETAINER = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
)

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


def test_retainer_signup_drafts_proposal_and_sends_it_once_approved(chat, smtp):
    shown = chat.say(RETAINER)
    assert (
        "New retainer for Acme Studio (jane@acme.example): $4,000.00/month, 3 revision rounds, billed on day 1."
        in shown
    )
    assert "I drafted the proposal (proposal #P-0001)." in shown
    assert "Send it to jane@acme.example?" in shown
    assert "[/approve 1] [/edit 1 …] [/reject 1]" in shown
    assert "Client constraints: 3 revision rounds included; billed on day 1" in shown
    assert smtp.messages == []  # nothing leaves before approval

    shown = chat.say("/approve 1")
    assert "Sent proposal #P-0001 to jane@acme.example (receipt <coo." in shown
    assert "Ledger: run r-" in shown
    sent = smtp.wait_for(1)
    assert len(sent) == 1
    assert sent[0]["To"] == "jane@acme.example"
    assert sent[0]["From"] == "Ana Ruiz <ana@studio.example>"
    body = text_body(sent[0])
    assert "Hi Jane," in body and "$4,000.00 per month" in body and "Up to 3 revision rounds" in body
    assert body.rstrip().endswith("Ana Ruiz")

    store = chat.runtime.store
    client = store.clients.find("acme studio")[0]
    assert client.contact_email == "jane@acme.example" and client.billing_day == 1
    retainer = store.work.active_retainer(client.id)
    assert retainer is not None and retainer.monthly_amount == Decimal("4000.00") and retainer.revision_rounds == 3
    run = store.runs.recent(1)[0]
    assert run.status == "done"
    kinds = [e.kind for e in store.ledger.events(run.id)]
    assert kinds[0] == "intent_received" and kinds[-1] == "run_finished"
    for expected in ("planned", "step_done", "approval_asked", "approval_answered", "side_effect"):
        assert expected in kinds
    side_effect = next(e for e in store.ledger.events(run.id) if e.kind == "side_effect")
    assert side_effect.receipt["message_id"] == sent[0]["Message-ID"]
    assert side_effect.receipt["transport"] == "smtp" and side_effect.receipt["sent"] is True


def test_double_approve_sends_one_email_and_says_who_decided(chat, smtp):
    chat.say(RETAINER)
    chat.say("/approve 1")
    again = chat.say("/approve 1")
    assert "Approval #1 was already approved by" in again and "nothing changed" in again
    # A second resume job for the same approval (a retried job) does nothing either.
    approval = chat.runtime.store.runs.approval(1)
    chat.runtime.supervisor.resume(approval.run_id, 1)
    chat.runtime.queue.wait_idle()  # nothing left queued or running that could still send
    events = chat.runtime.store.ledger.events(approval.run_id)
    assert [e.kind for e in events].count("side_effect") == 1
    assert len(smtp.messages) == 1


def test_invoice_for_new_client_with_edit_sends_what_was_approved(chat, smtp):
    shown = chat.say("invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days")
    assert "Bob Lee is a new client." in shown
    assert "Invoice #INV-0001 for Bob Lee: $1,140.00, due 2026-12-09." in shown
    assert "logo work: 12 hours × $95.00 = $1,140.00" in shown
    assert "/edit 1 to=" in shown  # no address on file yet: the card says how to give one

    shown = chat.say("/edit 1 to=bob@lee.example rate=100 due=2026-12-15")
    assert "Edited #1" in shown and "Send it to bob@lee.example?" in shown
    assert "12 hours × $100.00 = $1,200.00" in shown and "due 2026-12-15" in shown

    shown = chat.say("/approve 1")
    assert "Sent invoice #INV-0001 to bob@lee.example" in shown
    [mail] = smtp.wait_for(1)
    body = text_body(mail)
    assert "Total: $1,200.00" in body and "Due: 2026-12-15" in body
    invoice = chat.runtime.store.billing.get("INV-0001")
    assert invoice.status == "sent" and invoice.total == Decimal("1200.00")
    assert chat.runtime.store.clients.find("Bob Lee")[0].contact_email == "bob@lee.example"


def test_rejected_invoice_is_voided_and_numbering_stays_gapless(chat, smtp):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,500 for the website")
    shown = chat.say("/reject 1")
    assert "Rejected: invoice #INV-0001 was not sent and is now void" in shown
    again = chat.say("/approve 1")
    assert "already rejected" in again
    shown = chat.say("invoice Northwind $900 for hosting setup")
    assert "#INV-0002" in shown
    assert "Last invoice" not in shown or "INV-0001" not in shown  # a void invoice is no comparison
    assert smtp.messages == []
    assert chat.runtime.store.billing.get("INV-0001").status == "void"


def test_monthly_invoice_card_compares_with_last_month(chat, smtp):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work")
    chat.say("/approve 1")
    shown = chat.say("invoice Northwind $2,500 for november design work")
    assert "Last invoice INV-0001 (2026-11-25): $2,000.00, sent; this one: +$500.00 (+25%)." in shown


def test_status_questions_answer_from_the_store(chat, smtp, clock):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work, due in 7 days")
    chat.say("/approve 1")
    chat.say("Northwind needs the homepage mockups by 2026-11-27")
    assert "Nothing is overdue" in chat.say("what's overdue?")
    clock.advance(days=10)
    shown = chat.say("what's overdue?")
    assert "Overdue invoices (1, $2,000.00 outstanding):" in shown
    assert "INV-0001 Northwind: $2,000.00 — 3 days overdue" in shown and "more:" not in shown
    assert "homepage mockups (Northwind) — 8 days late" in shown
    chat.say("Northwind paid $2,000")
    shown = chat.say("who owes me money?")
    assert "No open invoices" in shown


def test_unknown_text_gets_help_and_no_run(chat):
    shown = chat.say("asdf qwerty")
    assert "I'm not sure what you'd like me to do" in shown and "Type /help to see everything." in shown
    assert chat.runtime.store.runs.recent() == []


def test_bad_inputs_get_clear_replies_and_nothing_half_written(chat, smtp):
    shown = chat.say("Acme signed the retainer: $4,0000 a month")
    assert '"$4,0000"' in shown and "(or /cancel)" in shown
    assert chat.runtime.store.clients.all() == []
    shown = chat.say("$4,000")
    assert "New retainer for Acme: $4,000.00/month" in shown

    assert "There is no approval #999." in chat.say("/approve 999")
    assert "I don't know the command /frobnicate" in chat.say("/frobnicate")
    assert "I don't know a client called 'Globex'" in chat.say("Globex paid $300")
    shown = chat.say("/approve")
    assert "Which approval?" in shown


def test_clarifying_question_completes_the_same_intent(chat):
    shown = chat.say("invoice Bob Lee")
    assert "What should the invoice say?" in shown
    shown = chat.say("3 hours of consulting at $120/h")
    assert "Invoice #INV-0001 for Bob Lee: $360.00" in shown
    assert len(chat.runtime.store.runs.recent()) == 1


def test_remembered_constraints_reach_the_next_proposal(chat, smtp):
    chat.say("new client: Acme, contact jane@acme.example")
    shown = chat.say("remember that Acme allows only 2 revision rounds and prefers Slack")
    assert "Noted for Acme" in shown and "revision_limit" in shown
    shown = chat.say("draft a proposal for Acme for a brand refresh, $6k")
    assert "Client constraints: 2 revision rounds included; prefers slack" in shown
    chat.say("/approve 1")
    body = text_body(smtp.wait_for(1)[0])
    assert "Up to 2 revision rounds" in body and "$6,000.00" in body
