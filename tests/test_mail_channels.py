"""Forwarded mail through Telegram as the operator uses it: a forwarded chat message is mail to
consider from a person known by name (never a made-up address; coo asks for one), a forward from
an author who hides their account is filed as a note (nobody to reply to), and .eml/CSV documents
are downloaded by the background job, with a failed download told in the chat."""

from __future__ import annotations

import time
from email.utils import formataddr
from typing import Any

from bot.rfc822 import compose
from tests.channels import TG_OPERATOR, dm, slack_settings, telegram_settings, worker_held

MAIL = (
    b"From: Jane Doe <jane@acme.example>\r\nTo: Ana Ruiz <ana@studio.example>\r\n"
    b"Subject: Homepage mockups\r\nMessage-ID: <m1@acme.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
    b"\r\nHi Ana,\r\n\r\nCould you send the homepage mockups by Friday?\r\n\r\nJane\r\n"
)


def _forward(update_id: int, text: str, **origin: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": TG_OPERATOR, "type": "private"},
        "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
        "text": text,
        **origin,
    }
    return {"update_id": update_id, "message": message}


def _document(update_id: int, file_id: str, name: str, mime: str, size: int) -> dict[str, Any]:
    document = {"file_id": file_id, "file_unique_id": file_id, "file_name": name, "mime_type": mime, "file_size": size}
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": TG_OPERATOR, "type": "private"},
        "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
        "document": document,
    }
    return {"update_id": update_id, "message": message}


def _said(telegram_api, needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in telegram_api.recorded("sendMessage"):
            if needle in call["text"]:
                return str(call["text"])
        time.sleep(0.01)
    raise AssertionError([c["text"] for c in telegram_api.recorded("sendMessage")])


def test_a_forwarded_message_is_mail_from_a_named_person_and_coo_asks_for_their_address(
    telegram_api, smtp, serve, sqlite_url
):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url, smtp_url=smtp.url)
    sender = {"id": 4242, "is_bot": False, "first_name": "Lena", "last_name": "Park", "username": "lenap"}
    origin = {"type": "user", "sender_user": sender, "date": int(time.time())}
    update = _forward(8001, "Hi! Could you send the final files as PDFs by Friday?", forward_origin=origin)
    assert served.telegram_update(update).status_code == 200
    summary = _said(telegram_api, "Lena Park")
    lines = summary.splitlines()
    assert lines[0].startswith("Telegram message from Lena Park (@lenap), forwarded to me"), summary
    assert "They ask: Could you send the final files as PDFs by Friday?" in summary
    assert "Telegram shares no e-mail address for Lena Park" in summary
    assert lines[-1].startswith("Nothing proposed yet: I have no e-mail address for Lena Park. Tell me it")
    assert len(lines) <= 5 and "@telegram" not in summary and ".invalid" not in summary
    served.settle()
    store = served.runtime.store
    assert store.runs.pending_approvals() == []  # no draft to an address nobody gave
    [filed] = store.artifacts.latest_in_thread("email_in", "telegram", str(TG_OPERATOR))
    assert filed.meta["chat_forward"]["name"] == "Lena Park" and filed.meta["forward_kind"] == "telegram"
    assert filed.meta["from"]["address"] is None  # filed under her name; no address invented

    # The operator answers with the address: the reply is drafted to it, and waits for approval.
    served.telegram_update(
        {
            "update_id": 8002,
            "message": {
                "message_id": 8002,
                "date": int(time.time()),
                "chat": {"id": TG_OPERATOR, "type": "private"},
                "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
                "text": "lena@parkdesign.example",
            },
        }
    )
    served.settle()
    card = _said(telegram_api, "Send it to lena@parkdesign.example?")
    assert "Following up on your message" in card
    served.settle()
    assert [a.status for a in store.runs.pending_approvals()] == ["pending"]
    assert smtp.messages == []  # nothing leaves before approval


def test_forwards_in_their_older_and_group_shapes_keep_the_authors_name(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    now = int(time.time())
    shapes = [
        (
            {"forward_from": {"id": 7, "is_bot": False, "first_name": "Ines"}, "forward_date": now},
            "Telegram message from Ines, forwarded",
        ),
        (
            {
                "forward_origin": {
                    "type": "channel",
                    "chat": {"id": -100123, "type": "channel", "title": "Kestrel Updates"},
                    "message_id": 9,
                    "author_signature": "Tom Reyes",
                    "date": now,
                }
            },
            "the channel “Kestrel Updates”, signed Tom Reyes",
        ),
    ]
    for n, (origin, expected) in enumerate(shapes):
        served.telegram_update(_forward(8100 + n, f"Can we move the call to Monday? ({n})", **origin))
        text = _said(telegram_api, expected)
        assert ".invalid" not in text and "Nothing proposed yet: I have no e-mail address for" in text, text
    served.settle()
    assert served.runtime.store.runs.pending_approvals() == []
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 2


def test_a_forward_from_a_hidden_account_is_filed_as_a_note_and_found_by_recall(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    store = served.runtime.store
    now = int(time.time())
    served.telegram_update(_forward(8400, "new client: Acme Studio, contact Jane Doe jane@acme.example"))
    served.telegram_update(_forward(8401, "new client: Lena Park Design, contact Lena Park lena@parkdesign.example"))
    served.settle()
    assert {c.name for c in store.clients.all()} == {"Acme Studio", "Lena Park Design"}

    # Bot API 7+: the author hides their account. Her display name matches a client's contact,
    # but a name anyone can pick is no evidence: the note is linked to no client.
    hidden = {"type": "hidden_user", "sender_user_name": "Lena Park", "date": now}
    text = "The board moved the launch to March 3rd, so the teaser video can wait a week."
    served.telegram_update(_forward(8402, text, forward_origin=hidden))
    said = _said(telegram_api, "Filed as a note")
    assert said == (
        "Filed as a note (a Telegram message from Lena Park, whose account is hidden — I can't reply to it): "
        "“The board moved the launch to March 3rd, so the teaser video can wait a week.”"
    )
    # Older payloads: only the name shown; and a client named plainly in the text is linked.
    legacy = {"forward_sender_name": "Marco Bianchi", "forward_date": now}
    served.telegram_update(_forward(8403, "Acme Studio wants the brand guide reviewed before the call.", **legacy))
    said = _said(telegram_api, "Marco Bianchi")
    assert said.startswith("Filed as a note (a Telegram message from Marco Bianchi, whose account is hidden")
    assert said.endswith("Linked to Acme Studio (named in it).")
    # No name at all.
    served.telegram_update(_forward(8404, "Call me when you can.", forward_date=now))
    said = _said(telegram_api, "Call me when you can.")
    assert said.startswith("Filed as a note (a Telegram message from someone on Telegram, whose account is hidden")
    served.settle()

    texts = [c["text"] for c in telegram_api.recorded("sendMessage")]
    assert not [t for t in texts if "e-mail address" in t or "Nothing proposed" in t or "/approve" in t], texts
    assert store.runs.pending_approvals() == []  # no reply draft, no approval card
    assert store.conversations.pending_question(f"telegram:{TG_OPERATOR}") is None  # no question waits for an address
    assert store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 0
    notes = {a.meta["from"]["name"]: a for a in store.artifacts.latest_in_thread("note", "telegram", str(TG_OPERATOR))}
    assert set(notes) == {"Lena Park", "Marco Bianchi", "someone on Telegram"}
    assert notes["Lena Park"].client_id is None and notes["Lena Park"].meta["from"]["address"] is None
    acme = store.clients.find("Acme Studio")[0]
    assert notes["Marco Bianchi"].client_id == acme.id and notes["Marco Bianchi"].meta["linked_by"] == "named_in_text"

    # A delivery repeated by Telegram files nothing twice.
    served.telegram_update(_forward(8402, text, forward_origin=hidden))
    served.settle()
    assert store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'note'") == 3

    # Found later, by what she said.
    served.telegram_update(_forward(8405, "what did Lena say about the launch?"))
    found = _said(telegram_api, "Here's what I found")
    first = next(line.strip() for line in found.splitlines() if line.strip().startswith("•"))
    assert first.startswith("• note, ") and "“Telegram message from Lena Park” (artifact #" in first, found
    assert "March 3rd" in first, found


def test_telegram_documents_are_downloaded_by_the_job_not_the_webhook(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    telegram_api.files["documents/doc9.eml"] = MAIL
    with worker_held(served.runtime):
        # Answered before anything is downloaded: that is the queued job's work.
        update = _document(8201, "doc9", "mockups.eml", "message/rfc822", len(MAIL))
        assert served.telegram_update(update).status_code == 200
        assert telegram_api.recorded("getFile") == []
    summary = _said(telegram_api, "Homepage mockups")
    assert summary.startswith("E-mail from Jane Doe <jane@acme.example>")
    served.settle()
    store = served.runtime.store
    item = store.inbox.get(int(store.db.scalar("SELECT MAX(id) AS n FROM inbox")))
    # What the webhook saved: the document's id and name, not its bytes (the worker fetched those).
    assert item is not None and item.kind == "telegram_file" and "data_b64" not in item.payload
    assert item.payload["options"]["document"]["file_id"] == "doc9"
    assert [c["file_id"] for c in telegram_api.recorded("getFile")] == ["doc9"]


def test_a_document_telegram_will_not_serve_is_told_to_the_operator(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    too_big = _document(8301, "huge", "export.csv", "text/csv", 25 * 1024 * 1024)
    served.telegram_update(too_big)
    said = _said(telegram_api, "export.csv")
    assert "I couldn't download export.csv from Telegram (it is 25 MB" in said and "please send it again" in said
    served.telegram_update(_document(8302, "gone", "old.eml", "message/rfc822", 100))
    said = _said(telegram_api, "old.eml")
    assert "I couldn't download old.eml from Telegram (Telegram answered 404" in said
    served.settle()
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 0
    assert [c["file_id"] for c in telegram_api.recorded("getFile")] == ["gone"]  # 25 MB: not even asked


def test_an_eml_file_shared_in_slack_is_downloaded_by_the_job_and_summarised(slack_api, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    file = slack_api.upload("F0EML1", "mockups.eml", MAIL, filetype="eml", mimetype="message/rfc822")
    ts = "1764082800.000930"
    share = dm("", ts, subtype="file_share", upload=False, display_as_bot=False, files=[file])
    with worker_held(served.runtime):
        assert served.slack_event(share, "EvEml1").status_code == 200
        assert slack_api.recorded("files.download") == []
    # The summary (the reply draft it proposes follows it, with its "On it." and card).
    deadline = time.monotonic() + 10
    while not (summaries := [p for p in slack_api.recorded("chat.postMessage") if p["text"].startswith("E-mail")]):
        assert time.monotonic() < deadline, slack_api.recorded("chat.postMessage")
        time.sleep(0.01)
    [summary] = summaries
    assert summary["channel"] == "D0OPS" and summary["thread_ts"] == ts
    assert summary["text"].startswith("E-mail from Jane Doe &lt;jane@acme.example&gt; · Subject: Homepage mockups")
    assert "Proposed: a reply to jane@acme.example" in summary["text"]

    slack_api.token = "xoxb-another-app"  # without files:read Slack answers with its sign-in page
    gone = slack_api.upload("F0EML2", "old.eml", MAIL, filetype="eml", mimetype="message/rfc822")
    share = dm("", "1764082800.000931", subtype="file_share", upload=False, display_as_bot=False, files=[gone])
    served.slack_event(share, "EvEml2")
    [failed] = slack_api.wait_for("chat.postMessage", thread_ts="1764082800.000931")
    assert failed["text"].startswith("I couldn't read old.eml from Slack:") and "files:read" in failed["text"]
    assert "Nothing was filed; share it again." in failed["text"]
    served.settle()
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 1


def test_a_hidden_author_named_like_a_client_is_no_link_and_a_redelivery_files_one_note(chat) -> None:
    from graphs.chat_forward import ChatForward
    from graphs.email_intake import ingest_email

    chat.say("new client: Acme, contact Jane Doe jane@acme.example")
    chat.say("new client: Northwind, contact Tom Reyes tom@northwind.example")
    store = chat.runtime.store

    def forward(name: str, text: str, event_id: str):  # as bot.jobs hands over a Telegram forward
        raw = compose(body=text, sender=formataddr((name, "")), subject=text[:40])
        hidden = ChatForward(kind="hidden_user", name=name)
        return ingest_email(
            chat.runtime.conversation,
            raw,
            channel="console",
            thread_id="console",
            user_id="ana",
            event_id=event_id,
            chat_forward=hidden,
        )

    # Calling oneself "Acme" is not evidence; the text names no client.
    first = forward("Acme", "Running late, will send the files tonight.", "tg-1")
    assert first.client_id is None and first.proposed is None and first.run_ids == []
    assert first.reply.startswith("Filed as a note (a Telegram message from Acme, whose account is hidden")
    again = forward("Acme", "Running late, will send the files tonight.", "tg-1")
    assert again.duplicate and again.artifact_id == first.artifact_id
    # A client the text names is linked; two named clients are no evidence for either.
    named = forward("Dana", "Tom at northwind approved the palette.", "tg-2")
    assert named.client_name == "Northwind" and named.reply.endswith("Linked to Northwind (named in it).")
    both = forward("Dana", "Acme and Northwind both want the call moved.", "tg-3")
    assert both.client_id is None and "Linked to" not in both.reply
    assert store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'note'") == 3
    assert store.runs.pending_approvals() == []
