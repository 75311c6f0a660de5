"""Run states tell the truth (issue #16): a send that may or may not have gone out is
"sent_uncertain" with its reason, a refused send is "failed" with its reason; neither is "done"."""

from __future__ import annotations

from bot.ledger_view import list_runs, show_run

CLIENT = "new client: Northwind, contact ops@northwind.example"
INVOICE = "invoice Northwind $2,000 for october design work"


def test_a_send_interrupted_mid_way_ends_sent_uncertain_not_done(chat, smtp):
    chat.say(CLIENT)
    assert "[/approve 1]" in chat.say(INVOICE)
    store = chat.runtime.store
    approval = store.runs.approval(1)
    assert approval is not None
    # An earlier attempt claimed the send and died before the receipt was written.
    store.side_effects.claim(f"{approval.run_id}:{approval.step}", approval.run_id, approval.action)

    shown = chat.say("/approve 1")
    assert "may or may not have gone out" in shown and "Sent invoice" not in shown
    run = store.runs.get(approval.run_id)
    assert run.status == "sent_uncertain"
    assert run.error is not None and "interrupted" in run.error
    assert run.finished_at is not None
    assert smtp.messages == []
    # `coo ledger` shows the state and why.
    listed = [line for line in list_runs(store).splitlines() if line.startswith(run.id)]
    assert listed and "sent_uncertain" in listed[0] and "I did not send the invoice" in listed[0]
    assert "Why: an earlier attempt to send this was interrupted" in show_run(store, run.id)


def test_a_refused_send_ends_failed_with_its_reason(chat, smtp):
    chat.say(CLIENT)
    chat.say(INVOICE)
    smtp.recorder.data_reply = "550 5.1.1 No such mailbox"
    shown = chat.say("/approve 1")
    assert "NOT SENT" in shown
    run = chat.runtime.store.runs.recent(1)[0]
    assert run.status == "failed" and "550" in (run.error or "")
