"""Sends that tell the truth (issue #14): when the mail server was handed the whole message and
the connection then dropped before it confirmed, coo cannot know whether it went out. It says
so ("may or may not have gone out"), keeps its claim, and never sends it again on its own —
not on a retry, not on a second tap, not on /resend. A failure before the message was handed
over is an ordinary "not sent" that is retried."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.clock

CLIENT = "new client: Northwind, contact ops@northwind.example"
INVOICE = "invoice Northwind $2,000 for october design work"


def test_a_relay_that_drops_the_connection_after_taking_the_message_is_reported_uncertain(chat, smtp, clock):
    chat.say(CLIENT)
    assert "[/approve 1]" in chat.say(INVOICE)
    smtp.recorder.drop_after_data = True
    shown = chat.say("/approve 1")
    assert "The invoice #INV-0001 to ops@northwind.example may or may not have gone out" in shown
    assert "I won't send it again on my own" in shown
    assert "NOT SENT" not in shown and "Sent invoice" not in shown
    assert len(smtp.messages) == 1  # the relay did take it

    store = chat.runtime.store
    run_id = store.runs.approval(1).run_id
    assert store.side_effects.status(f"{run_id}:{store.runs.approval(1).step}") == "sending"  # the claim is kept
    assert "sent-uncertain" in (store.runs.get(run_id).error or "")
    assert store.runs.get(run_id).status == "sent_uncertain"  # never counted done, nor a plain failure
    events = [e.kind for e in store.ledger.events(run_id)]
    assert "side_effect_uncertain" in events and "side_effect" not in events

    # Nothing sends it blindly: no retry is scheduled, and neither a tap nor /resend sends it.
    smtp.recorder.drop_after_data = False
    chat.runtime.queue.wait_idle()
    assert [job for _, job in chat.runtime.queue.scheduled() if job.startswith("send-retry-")] == []
    assert "was already approved" in chat.say("/approve 1")
    refused = chat.say("/resend 1")
    assert "may have gone out; I won't send it again" in refused
    clock.advance(hours=2)
    chat.runtime.queue.wait_idle()
    assert len(smtp.messages) == 1


def test_a_relay_that_is_down_is_not_sent_and_retried_until_it_takes_it(chat, smtp, clock):
    chat.say(CLIENT)
    chat.say(INVOICE)
    smtp.stop()
    shown = chat.say("/approve 1")
    assert "NOT SENT" in shown and "did not answer" in shown and "I'll try again at 15:01" in shown
    assert "may or may not" not in shown
    smtp.restart()
    chat.runtime.queue.wait_idle()
    clock.advance(minutes=1)
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not smtp.messages:
        time.sleep(0.05)
    chat.runtime.queue.wait_idle()
    assert len(smtp.messages) == 1
    assert "Sent invoice #INV-0001 to ops@northwind.example (attempt 2)" in chat.say("/help")
