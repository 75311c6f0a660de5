"""Failed sends never look done (issue #11, class 11): when the mail server refuses an approved
e-mail or is down, the run says NOT SENT and why, the invoice stays a draft, a transient failure
is tried again with backoff on the clock, the operator can /resend (to another address), and
nothing is ever sent twice."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from agents.digest_writer import write_digest
from agents.errors import SendFailed
from agents.mailer import OutgoingEmail, SmtpMailer
from tests.fakes.smtp import SmtpServer, free_port

pytestmark = pytest.mark.clock

CLIENT = "new client: Northwind, contact ops@northwind.example"
INVOICE = "invoice Northwind $2,000 for october design work"


def _invoice_waiting(chat) -> None:
    chat.say(CLIENT)
    shown = chat.say(INVOICE)
    assert "[/approve 1]" in shown


def _thread(chat) -> str:
    """Everything coo posted since the last line, as the operator sees it on their next message."""
    chat.runtime.queue.wait_idle()
    return chat.say("/help").split("Commands:")[0]


def _advance(chat, clock, **delta: float) -> None:
    """Let business time pass and wait for what the schedule then runs."""
    queue = chat.runtime.queue
    queue.wait_idle()  # what is running now schedules first
    clock.advance(**delta)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(when <= clock.now() for when, _ in queue.scheduled()):
        time.sleep(0.02)
    queue.wait_idle()


def _status(store, number: str) -> str:
    invoice = store.billing.get(number)
    assert invoice is not None
    return invoice.status


def _send_retries(chat) -> list[str]:
    chat.runtime.queue.wait_idle()  # the run settles first; its job then schedules the retry
    return [job for _, job in chat.runtime.queue.scheduled() if job.startswith("send-retry-")]


def test_a_try_later_answer_is_not_sent_then_retried_with_backoff_until_it_goes(chat, smtp, clock):
    _invoice_waiting(chat)
    smtp.recorder.data_reply = "451 4.3.0 Mail server temporarily rejected message"
    shown = chat.say("/approve 1")
    assert "NOT SENT: I could not send the invoice #INV-0001 to ops@northwind.example" in shown
    assert "451 Mail server temporarily rejected message" in shown or "451 4.3.0" in shown
    assert "The invoice stays a draft until it goes out" in shown
    assert "I'll try again at 15:01 (attempt 2 of 4); /resend 1 tries now." in shown
    assert "Sent invoice" not in shown and smtp.messages == []

    store = chat.runtime.store
    run = store.runs.recent(1)[0]
    assert run.status == "failed" and "451" in (run.error or "")
    assert _status(store, "INV-0001") == "draft"
    assert _send_retries(chat) == ["send-retry-1-1"]

    # A second tap on Approve does not pretend it went out.
    again = chat.say("/approve 1")
    assert "was already approved" in again and "But it was NOT sent (" in again and "/resend 1 tries again" in again

    # The digest lists it.
    digest = write_digest(store, clock.today()).text
    assert (
        "Approved but NOT sent:" in digest and "#1 Send invoice #INV-0001" in digest and "next try at 15:01" in digest
    )

    # Still refused a minute later: the next attempt is five minutes on.
    _advance(chat, clock, minutes=1)
    said = _thread(chat)
    assert "I'll try again at 15:06 (attempt 3 of 4)" in said
    assert smtp.messages == []

    # The server takes it on the third attempt: sent once, the run done, the invoice sent.
    smtp.recorder.data_reply = None
    _advance(chat, clock, minutes=5)
    said = _thread(chat)
    assert "Sent invoice #INV-0001 to ops@northwind.example (attempt 3)" in said
    assert len(smtp.wait_for(1)) == 1
    assert store.runs.get(run.id).status == "done" and store.runs.get(run.id).error is None
    assert _status(store, "INV-0001") == "sent"
    assert store.side_effects.not_sent() == []
    kinds = [e.kind for e in store.ledger.events(run.id)]
    assert kinds.count("side_effect_failed") == 2 and kinds.count("side_effect") == 1
    assert "Approved but NOT sent" not in write_digest(store, clock.today()).text

    # Nothing later sends it again: no retry is left, and /resend refuses.
    assert _send_retries(chat) == []
    assert "was already sent; nothing was sent again" in chat.say("/resend 1")
    _advance(chat, clock, hours=2)
    assert len(smtp.messages) == 1


def test_a_server_that_stays_down_is_tried_four_times_then_the_operator_resends(chat, smtp, clock):
    _invoice_waiting(chat)
    smtp.stop()
    try:
        shown = chat.say("/approve 1")
        assert "NOT SENT" in shown and "did not answer" in shown
        assert "I'll try again at 15:01 (attempt 2 of 4)" in shown
        _advance(chat, clock, minutes=1)
        assert "I'll try again at 15:06 (attempt 3 of 4)" in _thread(chat)
        _advance(chat, clock, minutes=5)
        assert "I'll try again at 15:36 (attempt 4 of 4)" in _thread(chat)
        _advance(chat, clock, minutes=30)
        said = _thread(chat)
        assert "I gave up after 4 attempts: /resend 1 once the mail server is back." in said
        assert _send_retries(chat) == []
        store = chat.runtime.store
        assert _status(store, "INV-0001") == "draft"
        digest = write_digest(store, clock.today()).text
        assert "#1 Send invoice #INV-0001" in digest and "/resend 1" in digest
    finally:
        smtp.restart()
    shown = chat.say("/resend 1")
    assert "Sent invoice #INV-0001 to ops@northwind.example (attempt 5)" in shown
    assert len(smtp.wait_for(1)) == 1
    assert _status(chat.runtime.store, "INV-0001") == "sent"


def test_a_refused_recipient_is_not_retried_and_can_be_resent_to_a_corrected_address(chat, smtp, clock):
    chat.say("Acme Studio signed the retainer: $4,000 a month, bill on the 1st, contact jane@acme.example")
    smtp.recorder.rcpt_reply = "550 5.1.1 <jane@acme.example>: Recipient address rejected: User unknown"
    shown = chat.say("/approve 1")
    assert "NOT SENT: I could not send the proposal #P-0001 to jane@acme.example" in shown
    assert "refused the recipient" in shown and "User unknown" in shown
    assert "Trying again won't help until that is fixed: /resend 1 to=name@example.com" in shown
    assert _send_retries(chat) == []  # a permanent refusal is not retried on its own
    run = chat.runtime.store.runs.recent(1)[0]
    assert run.status == "failed"

    assert '"jane.doe" is not an e-mail address; nothing was sent.' in chat.say("/resend 1 to=jane.doe")
    assert "Write /resend 1 or /resend 1 to=name@example.com." in chat.say("/resend 1 jane.doe@acme.example")

    smtp.recorder.rcpt_reply = None
    shown = chat.say("/resend 1 to=jane.doe@acme.example")
    assert "Sent proposal #P-0001 to jane.doe@acme.example (attempt 2)" in shown
    sent = smtp.wait_for(1)
    assert len(sent) == 1 and sent[0]["To"] == "jane.doe@acme.example"
    store = chat.runtime.store
    assert store.runs.get(run.id).status == "done"
    resent = [e for e in store.ledger.events(run.id) if e.kind == "resend_requested"]
    assert resent and resent[0].payload["to"] == "jane.doe@acme.example" and resent[0].actor.startswith("console:")


def test_resend_refuses_what_it_must_not_send(chat, smtp):
    _invoice_waiting(chat)
    assert "Approval #1 is still waiting for your decision: /approve 1." in chat.say("/resend 1")
    assert "There is no approval #7." in chat.say("/resend 7")
    assert "Which approval? Write /resend N" in chat.say("/resend")
    chat.say("/reject 1")
    assert "Approval #1 was rejected; nothing is sent for it." in chat.say("/resend 1")
    chat.say(INVOICE)
    chat.say("/approve 2")
    assert len(smtp.wait_for(1)) == 1
    assert "Approval #2 was already sent; nothing was sent again." in chat.say("/resend 2")
    assert len(smtp.messages) == 1


def test_a_resend_after_a_retry_already_sent_it_does_nothing(chat, smtp, clock):
    """The operator's /resend and the scheduled retry race: one e-mail, whoever comes first."""
    _invoice_waiting(chat)
    smtp.recorder.data_reply = "421 4.7.0 Try again later, closing connection"
    chat.say("/approve 1")
    smtp.recorder.data_reply = None
    assert "Sent invoice #INV-0001" in chat.say("/resend 1")
    _advance(chat, clock, minutes=1)  # the retry scheduled after the first failure comes due
    assert len(smtp.wait_for(1)) == 1
    time.sleep(0.1)
    assert len(smtp.messages) == 1
    invoice = chat.runtime.store.billing.get("INV-0001")
    assert invoice is not None and invoice.total == Decimal("2000.00")


@pytest.mark.parametrize(
    ("where", "reply", "transient"),
    [
        ("data", "451 4.3.0 Temporary local problem", True),
        ("data", "421 4.3.2 Service shutting down", True),
        ("data", "554 5.7.1 Message rejected as spam", False),
        ("rcpt", "452 4.2.2 Mailbox full", True),
        ("rcpt", "550 5.1.1 No such user", False),
        ("rcpt", "553 5.7.1 Relaying denied", False),
    ],
)
def test_the_mailer_tells_try_later_from_never(smtp, where: str, reply: str, transient: bool):
    setattr(smtp.recorder, f"{where}_reply", reply)
    mailer = SmtpMailer(smtp.url, "Ana <ana@studio.example>")
    with pytest.raises(SendFailed) as failed:
        mailer.send(OutgoingEmail(to="x@client.example", subject="s", body="b", idempotency_key="k"))
    assert failed.value.transient is transient
    assert reply.split(" ")[0] in str(failed.value)


def test_an_unreachable_mail_server_is_a_transient_failure():
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", "Ana <ana@studio.example>")
    with pytest.raises(SendFailed) as failed:
        mailer.send(OutgoingEmail(to="x@client.example", subject="s", body="b", idempotency_key="k"))
    assert failed.value.transient is True and "did not answer" in str(failed.value)


def test_failed_sends_survive_export_and_import_and_are_scheduled_again(chat, smtp, clock, make_runtime, db_url):
    """The retry time is on record: a restarted worker (or serve) schedules it again."""
    from bot.jobs import schedule_send_retries

    _invoice_waiting(chat)
    smtp.recorder.data_reply = "451 4.3.0 Try again later"
    chat.say("/approve 1")
    runtime = chat.runtime
    failure = runtime.store.side_effects.not_sent()[0]
    assert failure.attempts == 1 and failure.retry_at is not None
    # A fresh process: nothing scheduled in memory until it schedules what is on record.
    fresh = make_runtime(database_url=db_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>")
    assert [job for _, job in fresh.queue.scheduled()] == []
    assert schedule_send_retries(fresh) == 1
    assert [job for _, job in fresh.queue.scheduled()] == ["send-retry-1-1"]
    assert SmtpServer  # the same local server speaks real SMTP to both processes


def test_a_retry_the_scheduler_runs_a_little_early_still_sends(chat, smtp, clock):
    """RQ's scheduler keeps whole seconds, so a retry due at 15:01:00.6 runs at 15:01:00.0; it
    must send then, not find itself early and finish (its job done, it would never run again)."""
    from graphs.sending import retry_due

    _invoice_waiting(chat)
    smtp.recorder.data_reply = "451 4.3.0 Try again later"
    assert "NOT SENT" in chat.say("/approve 1")
    store = chat.runtime.store
    failure = store.side_effects.not_sent()[0]
    assert failure.retry_at is not None
    smtp.recorder.data_reply = None
    clock.advance(seconds=(failure.retry_at - clock.now()).total_seconds() - 0.6)
    result = retry_due(chat.runtime.deps, 1)
    assert result is not None and result.sent
    assert len(smtp.wait_for(1)) == 1
    assert store.side_effects.not_sent() == []
