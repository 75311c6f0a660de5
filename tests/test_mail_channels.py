"""Forwarded mail through Telegram as the operator uses it: a forwarded chat message is mail to
consider from a person known by name (never a made-up address; coo asks for one), and .eml/CSV
documents are downloaded by the background job, with a failed download told in the chat."""

from __future__ import annotations

import time
from typing import Any

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
        ({"forward_sender_name": "Marco Bianchi", "forward_date": now}, "Marco Bianchi (account hidden)"),
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
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 3


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
    [summary] = slack_api.wait_for("chat.postMessage")
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
