"""Bulk and automated mail is recognised from its headers and shape (issue #13): it is filed and
summarised, and never given a reply draft — forwarded or not. Mail a person wrote still is."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from agents.email_reader import parse_email
from tests.test_email_intake import ACME, FEEDBACK, client_mail, forward_as_attachment, ingest


def _with(headers: dict[str, str], sender: str = "Acme News <news@acme.example>") -> EmailMessage:
    msg = client_mail(FEEDBACK, sender=sender, subject="Our November update")
    for name, value in headers.items():
        del msg[name]
        msg[name] = value
    return msg


def _report(
    report_type: str,
    part_type: str,
    part_body: str,
    sender: str = "Mail Delivery System <MAILER-DAEMON@mx.studio.example>",
) -> bytes:
    """A multipart/report as mail servers send them (RFC 6522); a read receipt comes from a person."""
    return (
        f"From: {sender}\r\n"
        "To: ana@studio.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <report-1@mx.studio.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="B1"\r\n'
        "\r\n--B1\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.studio.example. I'm sorry to have to inform you...\r\n"
        f"--B1\r\nContent-Type: {part_type}\r\n\r\n{part_body}\r\n--B1--\r\n"
    ).encode()


AUTOMATED: dict[str, bytes] = {
    "newsletter (List-Unsubscribe)": bytes(_with({"List-Unsubscribe": "<mailto:unsub@acme.example>"})),
    "mailing list (List-Id)": bytes(_with({"List-Id": "Acme customers <customers.acme.example>"})),
    "Precedence: bulk": bytes(_with({"Precedence": "bulk"})),
    "Precedence: junk": bytes(_with({"Precedence": "junk"})),
    "Auto-Submitted (an out-of-office)": bytes(_with({"Auto-Submitted": "auto-replied"})),
    "gmail-noreply sender": bytes(_with({}, sender="Google <gmail-noreply@google.com>")),
    "no_reply sender": bytes(_with({}, sender="Billing <no_reply@acme.example>")),
    "do-not-reply sender": bytes(_with({}, sender="do-not-reply@portal.acme.example")),
    "team.noreply sender": bytes(_with({}, sender="GitHub <team.noreply@github.com>")),
    "notifications sender": bytes(_with({}, sender="calendar-notification@google.com")),
    "bounce+ VERP sender": bytes(_with({}, sender="bounce+1234-jane=acme.example@mailer.example")),
    "X-Spam-Flag": bytes(_with({"X-Spam-Flag": "YES"}, sender="Prize Team <win@lucky.example>")),
    "X-Spam-Status": bytes(_with({"X-Spam-Status": "Yes, score=12.3"}, sender="deals@cheap.example")),
    "[SPAM] subject": bytes(_with({"Subject": "[SPAM] You have won"}, sender="x@lucky.example")),
    "null Return-Path": bytes(_with({"Return-Path": "<>"}, sender="system@acme.example")),
    "bounce report": _report("delivery-status", "message/delivery-status", "Reporting-MTA: dns; mx\n"),
    "read receipt": _report(
        "disposition-notification",
        "message/disposition-notification",
        "Disposition: manual-action/MDN-sent-manually; displayed\n",
        sender="Jane Doe <jane@acme.example>",
    ),
    "abuse report (ARF)": _report(
        "feedback-report", "message/feedback-report", "Feedback-Type: abuse\n", sender="Abuse Desk <abuse@isp.example>"
    ),
}


@pytest.mark.parametrize("kind", sorted(AUTOMATED))
def test_automated_mail_is_recognised(kind: str) -> None:
    assert parse_email(AUTOMATED[kind]).automated, kind


@pytest.mark.parametrize(
    "sender",
    [
        "Jane Doe <jane@acme.example>",
        "Acme Info <info@acme.example>",
        "Support <support@acme.example>",
        "Noreen Reply <noreen.reply@acme.example>",
        "news.room@acme.example",
        "Replyall Ltd <hello@replyall.example>",
    ],
)
def test_mail_a_person_wrote_is_not_taken_for_automated(sender: str) -> None:
    assert parse_email(bytes(client_mail(FEEDBACK, sender=sender))).automated is None, sender


@pytest.mark.parametrize(
    "kind", ["newsletter (List-Unsubscribe)", "gmail-noreply sender", "bounce report", "X-Spam-Flag"]
)
def test_no_reply_draft_for_bulk_mail_even_when_forwarded(chat, smtp, kind: str) -> None:
    chat.say(ACME)
    raw = AUTOMATED[kind]
    result, shown = ingest(chat, raw)
    assert result.proposed is None and result.run_ids == [], shown
    assert "Nothing proposed: it looks automated" in shown
    inner = parse_email(raw)
    if inner.forwarded is None and kind != "bounce report":
        from email import message_from_bytes, policy

        forwarded = forward_as_attachment(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        result, shown = ingest(chat, forwarded, event_id="mail-2")
        assert result.proposed is None and "looks automated" in shown, shown
    assert chat.runtime.store.runs.pending_approvals() == []
    assert smtp.messages == []


def test_bulk_mail_is_one_line_in_the_thread_and_the_digest_and_can_be_taken_up(chat, smtp, clock) -> None:
    from agents.digest_writer import write_digest

    chat.say(ACME)
    newsletter = bytes(
        _with({"List-Unsubscribe": "<mailto:unsub@acme.example>"}, sender="Jane Doe <jane@acme.example>")
    )
    result, shown = ingest(chat, newsletter)
    assert "Filed without a reply: Jane Doe <jane@acme.example> — “Our November update”." in shown, shown
    assert "it came through a mailing list" in shown and "say “this one matters”" in shown
    assert "open invoice" not in shown and "Acme Studio:" not in shown  # no client context pulled in
    assert result.proposed is None and chat.runtime.store.runs.pending_approvals() == []

    clock.advance(days=1)
    digest = write_digest(chat.runtime.store, clock.today()).text
    assert "Mail filed without a reply (bulk or automated)" in digest
    assert "• jane@acme.example: “Our November update” (it came through a mailing list)" in digest

    shown = chat.say("this one matters")
    assert "Taken up (you said it matters):" in shown and "E-mail from" in shown, shown
    assert "Proposed: a reply to jane@acme.example" in shown
    assert len(chat.runtime.store.runs.pending_approvals()) == 1
    assert "was already taken up" in chat.say("this one matters")
    assert len(chat.runtime.store.runs.pending_approvals()) == 1
    assert smtp.messages == []  # the reply still waits for approval


def test_this_one_matters_with_nothing_filed_is_an_ordinary_message(chat) -> None:
    shown = chat.say("this one matters")
    assert "Taken up" not in shown
