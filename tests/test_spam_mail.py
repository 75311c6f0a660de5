"""Spam forwarded to coo gets no reply draft; mail people wrote is not called spam.

The messages are a sample of Apache SpamAssassin's own test mail (tests/data/spamassassin,
Apache-2.0): real spam from its test suite, and person-to-person mail from the same suite.
The rules (agents/spam_signs.py) are general signs of bulk mail, not fitted to these files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.email_reader import parse_email
from agents.spam_signs import GTUBE
from tests.test_email_intake import ACME, client_mail, forward_as_attachment, ingest

DATA = Path(__file__).parent / "data" / "spamassassin"
SPAM = sorted((DATA / "spam").iterdir())
HAM = sorted((DATA / "ham").iterdir())


def test_no_spam_message_gets_a_reply_draft_forwarded_or_not(chat, smtp):
    chat.say(ACME)
    outcome = {"filed as spam or bulk": 0, "nothing proposed": 0}
    for n, path in enumerate(SPAM):
        for how, raw in (("direct", path.read_bytes()), ("forwarded", None)):
            if raw is None:
                inner = parse_email(path.read_bytes())
                if inner.sender is None:
                    continue
                raw = _forwarded(path.read_bytes())
            result, shown = ingest(chat, raw, event_id=f"spam-{n}-{how}")
            assert result.proposed != "send_email" and result.run_ids == [], (path.name, how, shown)
            assert "Proposed: a reply" not in shown, (path.name, how, shown)
            outcome[
                "filed as spam or bulk" if shown.startswith("coo> Filed without a reply") else "nothing proposed"
            ] += 1
    print(f"spam sample: {outcome}")
    # Most are recognised as spam outright (one line in the digest); the rest ask nothing of the
    # operator and come from strangers, so nothing is proposed for them either.
    assert outcome["filed as spam or bulk"] >= len(SPAM) // 2
    store = chat.runtime.store
    assert store.runs.pending_approvals() == []
    chat.runtime.queue.wait_idle()
    assert smtp.messages == []


def _forwarded(raw: bytes) -> bytes:
    from email import message_from_bytes, policy

    inner = message_from_bytes(raw, policy=policy.default)
    return forward_as_attachment(inner)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", HAM, ids=lambda p: p.name)
def test_mail_people_wrote_is_not_taken_for_spam(path: Path):
    parsed = parse_email(path.read_bytes())
    assert parsed.original.spam_reason is None, dict(parsed.original.spam)


def test_spam_signs_are_ignored_for_a_clients_own_address_and_promotion_still_works(chat, smtp):
    chat.say(ACME)
    # The client forwards a vendor's promotion and asks about it: their address links it for sure.
    body = (
        "Hi Ana, could you look at this offer before Friday?\n\n"
        "SPECIAL OFFER!!! ACT NOW, LIMITED TIME!\nCLICK HERE TO ORDER NOW, 100% FREE SHIPPING\n"
        "To be removed from our mailing list reply REMOVE.\n"
    )
    result, shown = ingest(chat, bytes(client_mail(body, subject="FREE!!! Special offer")))
    assert shown.startswith("coo> E-mail from Jane Doe <jane@acme.example> — Acme Studio"), shown
    assert result.proposed == "send_email"
    # The same text from a stranger is spam: filed, no draft; "this one matters" takes it up.
    raw = bytes(client_mail(body, subject="FREE!!! Special offer", sender="Deals <deals@bargains.example>"))
    result, shown = ingest(chat, raw, event_id="mail-2")
    assert shown.startswith("coo> Filed without a reply: Deals <deals@bargains.example>"), shown
    assert "Nothing proposed: it looks like spam (" in shown and result.run_ids == []
    shown = chat.say("this one matters")
    assert "Taken up (you said it matters): E-mail from Deals <deals@bargains.example>" in shown, shown
    assert "Proposed: a reply to deals@bargains.example" in shown


def test_the_gtube_test_string_is_spam_by_definition():
    raw = f"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\n\r\n{GTUBE}\r\n".encode()
    assert parse_email(raw).spam_reason == "it looks like spam (the GTUBE spam test string)"
