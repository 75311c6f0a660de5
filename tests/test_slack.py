"""Slack end to end: signed events and taps against coo serve's app, replies at a fake Slack Web API."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from tests.channels import OPERATOR, RETAINER, button, dm, slack_settings, worker_held
from tests.fakes.slack_api import BOT_ID, BOT_USER
from tests.fakes.smtp import text_body

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted

TS = "1764082800.000100"
FROM = "Ana Ruiz <ana@studio.example>"


def _texts(calls: list) -> list[str]:
    return [c.get("text") for c in calls]


def _card(slack_api, count: int = 1):
    cards = [c for c in slack_api.wait_for("chat.postMessage", count + 1) if c.get("blocks")]
    deadline = time.monotonic() + 10
    while len(cards) < count and time.monotonic() < deadline:
        time.sleep(0.01)
        cards = [c for c in slack_api.recorded("chat.postMessage") if c.get("blocks")]
    assert len(cards) >= count, _texts(slack_api.recorded("chat.postMessage"))
    return cards[count - 1]


def _said(slack_api, part: str) -> dict:
    """The first message posted whose text contains ``part`` (waiting up to 10 s for it)."""
    deadline = time.monotonic() + 10
    while True:
        found = [c for c in slack_api.recorded("chat.postMessage") if part in (c.get("text") or "")]
        if found or time.monotonic() > deadline:
            assert found, _texts(slack_api.recorded("chat.postMessage"))
            return found[0]
        time.sleep(0.01)


def _action_ids(call) -> list[str]:
    return [e["action_id"] for b in call["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _block_text(call) -> str:
    parts = []
    for block in call["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        parts.extend(e.get("text", "") for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(parts)


def test_message_card_approve_button_updates_card_and_sends_once(slack_api, smtp, serve, db_url):
    served = serve(**slack_settings(slack_api), database_url=db_url, smtp_url=smtp.url, from_email=FROM)
    with worker_held(served.runtime):
        # Slack hears 200 while the work is still only queued: the ack never waits for a run.
        assert served.slack_event(dm(RETAINER, TS), "Ev001").status_code == 200
        assert served.runtime.store.runs.recent() == []
        assert [c for c in slack_api.recorded("chat.postMessage") if c.get("thread_ts") == TS] == []

    [on_it] = slack_api.wait_for("chat.postMessage", text="On it.")
    assert on_it["channel"] == "D0OPS" and on_it["thread_ts"] == TS
    card = _card(slack_api)
    assert card["thread_ts"] == TS
    assert _action_ids(card) == ["coo:approve:1", "coo:edit:1", "coo:reject:1"]
    shown = _block_text(card)
    assert "Send it to jane@acme.example?" in shown and "$4,000.00/month" in shown
    assert "I drafted the proposal" in shown and "3 revision rounds" in shown
    assert smtp.messages == []

    assert served.slack_interaction(button(card, "approve", 1)).status_code == 200
    [update] = slack_api.wait_for("chat.update")
    assert update["channel"] == "D0OPS" and update["ts"] == card["posted"]["ts"]
    assert _action_ids(update) == []
    assert f"Approved by <@{OPERATOR}> in Slack at 2026-11-25 15:00" in _block_text(update)
    assert len(smtp.wait_for(1)) == 1
    served.settle()
    final = [t for t in _texts(slack_api.recorded("chat.postMessage")) if t and t.startswith("Sent proposal")]
    assert len(final) == 1
    approval = served.runtime.store.runs.approval(1)
    assert approval.decided_by == OPERATOR and approval.decided_via == "slack"
    answered = [e for e in served.runtime.store.ledger.events(approval.run_id) if e.kind == "approval_answered"]
    assert answered[0].payload["waited_seconds"] == 0 and answered[0].payload["by"] == OPERATOR

    # A double click: the second tap changes nothing and says who decided.
    served.slack_interaction(button(card, "approve", 1, action_ts="1764082901.000002"))
    served.settle()
    assert any("already approved by UOPERATOR" in (t or "") for t in _texts(slack_api.recorded("chat.postMessage")))
    events = served.runtime.store.ledger.events(approval.run_id)  # settled: nothing queued could still send
    assert [e.kind for e in events].count("side_effect") == 1
    assert len(smtp.messages) == 1
    assert len(slack_api.recorded("chat.update")) == 1


def _spy_enqueues(served, monkeypatch) -> list[str]:
    seen: list[str] = []
    real = served.runtime.queue.enqueue

    def spy(func, job_id, spec, **kwargs):
        seen.append(func)
        return real(func, job_id, spec, **kwargs)

    monkeypatch.setattr(served.runtime.queue, "enqueue", spy)
    return seen


def test_forged_and_stale_requests_get_401_and_nothing_is_queued(slack_api, serve, sqlite_url, monkeypatch):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    queued = _spy_enqueues(served, monkeypatch)
    assert served.slack_event(dm("what's overdue?", TS), "Ev100", secret="not-the-secret").status_code == 401
    assert served.slack_event(dm("what's overdue?", TS), "Ev101", timestamp=int(time.time()) - 600).status_code == 401
    unsigned = served.post("/slack/events", '{"type":"event_callback"}', {"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    served.settle()
    assert queued == []
    assert served.runtime.store.conversations.last_message_id() == 0
    assert slack_api.recorded("chat.postMessage") == []


def test_slack_retry_with_the_same_event_id_makes_one_run(slack_api, smtp, serve, db_url):
    served = serve(**slack_settings(slack_api), database_url=db_url, smtp_url=smtp.url)
    event = dm("invoice Bob Lee for 12 hours of logo work at $95/h", TS)
    assert served.slack_event(event, "Ev200").status_code == 200
    assert served.slack_event(event, "Ev200", retry=1).status_code == 200
    assert served.slack_event(event, "Ev200", retry=2).status_code == 200
    _card(slack_api)
    served.settle()
    assert len(served.runtime.store.runs.recent()) == 1
    assert len(slack_api.recorded("chat.postMessage")) == 2  # "On it." and the card


def test_strangers_are_refused_and_their_taps_change_nothing(slack_api, smtp, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url)
    served.slack_event(dm("invoice Northwind $900 for hosting", "1764082800.000200", user="USTRANGER"), "Ev300")
    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert refusal["user"] == "USTRANGER" and "only take instructions" in refusal["text"]
    assert "USTRANGER" in refusal["text"] and "COO_SLACK_OPERATORS" in refusal["text"]
    assert served.runtime.store.runs.recent() == []

    served.slack_event(dm("invoice Northwind $900 for hosting, contact ops@northwind.example", TS), "Ev301")
    card = _card(slack_api)
    served.slack_interaction(button(card, "approve", 1, user="USTRANGER"))
    served.slack_interaction(button(card, "edit", 1, user="USTRANGER", action_ts="1764082900.000003"))
    assert len(slack_api.wait_for("chat.postEphemeral", 3)) == 3
    served.settle()
    assert served.runtime.store.runs.approval(1).status == "pending"
    assert slack_api.recorded("chat.update") == [] and slack_api.recorded("views.open") == []
    assert smtp.messages == []


def test_edit_opens_a_modal_and_the_edited_text_is_what_is_sent(slack_api, smtp, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url, from_email=FROM)
    served.slack_event(dm(RETAINER, TS), "Ev400")
    card = _card(slack_api)
    served.slack_interaction(button(card, "edit", 1))
    [opened] = slack_api.wait_for("views.open")
    view = opened["view"]
    assert opened["trigger_id"] == "trigger-1764082900.000001" and view["callback_id"] == "coo_edit"
    inputs = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert inputs["to"] == "jane@acme.example" and "Hi Jane," in inputs["body"]

    edited = "Hi Jane,\n\nHere is the retainer, as agreed on the phone.\n\nAna"
    submit = {
        "type": "view_submission",
        "user": {"id": OPERATOR},
        "view": {
            **view,
            "id": "V0001",
            "hash": "h1",
            "state": {
                "values": {
                    "to": {"value": {"type": "plain_text_input", "value": inputs["to"]}},
                    "subject": {"value": {"type": "plain_text_input", "value": inputs["subject"]}},
                    "body": {"value": {"type": "plain_text_input", "value": edited}},
                }
            },
        },
    }
    response = served.slack_interaction(submit)
    assert response.status_code == 200
    [update] = slack_api.wait_for("chat.update")
    assert _action_ids(update) == ["coo:approve:1", "coo:edit:1", "coo:reject:1"]  # still pending, new draft
    assert "as agreed on the phone" in _block_text(update) and "Edited #1 (draft text replaced)" in _block_text(update)

    served.slack_interaction(button(card, "approve", 1, action_ts="1764082902.000004"))
    [mail] = smtp.wait_for(1)
    assert text_body(mail).replace("\r\n", "\n").strip() == edited
    decided = slack_api.wait_for("chat.update", 2)[1]
    assert "Approved by" in _block_text(decided) and _action_ids(decided) == []


def test_a_subject_typed_in_the_edit_form_is_kept_whole(slack_api, smtp, serve, sqlite_url):
    """The form's fields arrive typed: a subject containing "to=" is a subject, not a recipient."""
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url, from_email=FROM)
    served.slack_event(dm(RETAINER, TS), "Ev410")
    card = _card(slack_api)
    served.slack_interaction(button(card, "edit", 1))
    [opened] = slack_api.wait_for("views.open")
    view = opened["view"]
    inputs = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    subject = "Next steps to=do list, subject=final"
    submit = {
        "type": "view_submission",
        "user": {"id": OPERATOR},
        "view": {
            **view,
            "id": "V0002",
            "hash": "h2",
            "state": {
                "values": {
                    "to": {"value": {"type": "plain_text_input", "value": inputs["to"]}},
                    "subject": {"value": {"type": "plain_text_input", "value": subject}},
                    "body": {"value": {"type": "plain_text_input", "value": inputs["body"]}},
                }
            },
        },
    }
    assert served.slack_interaction(submit).status_code == 200
    [update] = slack_api.wait_for("chat.update")
    assert "Edited #1 (subject changed)" in _block_text(update)
    assert served.runtime.store.runs.approval(1).draft["to"] == "jane@acme.example"
    served.slack_interaction(button(card, "approve", 1, action_ts="1764082902.000005"))
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "jane@acme.example" and mail["Subject"] == subject


def test_bots_and_own_messages_are_ignored_mentions_reply_in_thread(slack_api, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    served.slack_event(dm("what's overdue?", "1764082800.000300", user=BOT_USER), "Ev500")
    served.slack_event(
        {**dm("what's overdue?", "1764082800.000301"), "bot_id": "BOTHER", "subtype": "bot_message"}, "Ev501"
    )
    served.slack_event({**dm("what's overdue?", "1764082800.000302"), "bot_id": BOT_ID}, "Ev502")
    channel_msg = {
        "type": "message",
        "channel": "C0TEAM",
        "channel_type": "channel",
        "user": OPERATOR,
        "text": f"<@{BOT_USER}> what's overdue?",
        "ts": "1764082800.000400",
    }
    served.slack_event(channel_msg, "Ev503")  # message.channels copy of the mention: app_mention does the work
    served.slack_event({**channel_msg, "type": "app_mention"}, "Ev504")
    served.slack_event({**channel_msg, "text": "lunch anyone?", "ts": "1764082800.000500"}, "Ev505")  # chatter
    slack_api.wait_for("chat.postMessage", 2)
    served.settle()
    posted = slack_api.recorded("chat.postMessage")
    assert [p["text"] for p in posted][0] == "On it." and "Nothing is overdue" in posted[1]["text"]
    assert all(p["channel"] == "C0TEAM" and p["thread_ts"] == "1764082800.000400" for p in posted)
    assert len(served.runtime.store.runs.recent()) == 1


def test_waiting_approval_is_reminded_once_per_period(slack_api, serve, sqlite_url, clock):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, approval_remind_after=24)
    served.slack_event(dm("invoice Northwind $900 for hosting, contact ops@northwind.example", TS), "Ev600")
    _card(slack_api)
    served.settle()
    deliverer = served.services.deliverer
    assert deliverer.remind() == []
    clock.advance(hours=25)
    assert deliverer.remind() == [1]
    assert deliverer.remind() == []
    clock.advance(hours=23)
    assert deliverer.remind() == []
    clock.advance(hours=2)
    assert deliverer.remind() == [1]
    served.settle()
    reminders = [c for c in slack_api.recorded("chat.postMessage") if (c.get("text") or "").startswith("Reminder")]
    assert len(reminders) == 2 and all(r["thread_ts"] == TS for r in reminders)
    assert "approval #1 has been waiting 25 h 0 min" in reminders[0]["text"]
    assert served.runtime.store.runs.approval(1).status == "pending"  # reminded, never expired


# -- a bank / provider CSV export shared in Slack -----------------------------------------------


def _share(file: dict, ts: str, user: str = OPERATOR, **more) -> dict:
    """A file_share message event in the operator's DM."""
    return {**dm("", ts, user=user, subtype="file_share", upload=False, display_as_bot=False, files=[file]), **more}


def test_csv_export_shared_in_a_dm_is_downloaded_and_reconciled_once(slack_api, serve, sqlite_url):
    from tests.test_reconciler import DATA, seed, status

    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    seed(served.runtime.store)
    file = slack_api.upload("F0CSV1", "stripe_payments.csv", (DATA / "stripe_payments.csv").read_bytes())
    with worker_held(served.runtime):
        # Acknowledged before the export is even downloaded: that is the queued job's work.
        assert served.slack_event(_share(file, TS), "Ev700").status_code == 200
        assert slack_api.recorded("files.download") == []
        assert [c for c in slack_api.recorded("chat.postMessage") if c.get("thread_ts") == TS] == []
    [report] = slack_api.wait_for("chat.postMessage")
    assert report["channel"] == "D0OPS" and report["thread_ts"] == TS
    assert "Payments import of stripe_payments.csv — Stripe export" in report["text"]
    assert "→ INV-0001 (Acme Studio; by reference INV-0001)" in report["text"]
    [download] = slack_api.recorded("files.download")
    assert download["token"] == "xoxb-test" and download["path"].endswith("/download/stripe_payments.csv")
    assert status(served.runtime.store, "INV-0001")[0] == "paid"

    # Slack retries the event: one download, one import, one report.
    assert served.slack_event(_share(file, TS), "Ev700", retry=1).status_code == 200
    served.settle()
    assert len(slack_api.recorded("files.download")) == 1
    assert len(slack_api.recorded("chat.postMessage")) == 1
    [run] = served.runtime.store.runs.recent()
    assert run.status == "done" and run.id.startswith("imp-")


def test_csv_from_a_stranger_or_outside_coo_threads_is_not_downloaded(slack_api, serve, sqlite_url):
    from tests.test_reconciler import DATA, seed, status

    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    seed(served.runtime.store)
    file = slack_api.upload("F0CSV2", "us_bank.csv", (DATA / "us_bank.csv").read_bytes())
    served.slack_event(_share(file, TS, user="USTRANGER"), "Ev710")
    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert refusal["user"] == "USTRANGER" and "only take instructions" in refusal["text"]
    # The operator drops it in a team channel, in no thread coo speaks in and without a mention.
    served.slack_event(_share(file, "1764082800.000710", channel="C0TEAM", channel_type="channel"), "Ev711")
    served.settle()
    assert slack_api.recorded("files.download") == []
    assert slack_api.recorded("chat.postMessage") == []
    assert status(served.runtime.store, "INV-0001")[0] == "sent"


def test_a_failed_download_is_said_in_the_thread(slack_api, serve, sqlite_url):
    from tests.test_reconciler import DATA

    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    slack_api.token = "xoxb-another-app"  # our token lacks files:read: Slack answers with its sign-in page
    file = slack_api.upload("F0CSV3", "us_bank.csv", (DATA / "us_bank.csv").read_bytes())
    served.slack_event(_share(file, TS), "Ev720")
    [reply] = slack_api.wait_for("chat.postMessage")
    assert reply["thread_ts"] == TS
    assert reply["text"].startswith("I couldn't read us_bank.csv from Slack:") and "files:read" in reply["text"]
    assert "Nothing was recorded" in reply["text"]

    gone = {**file, "id": "F0GONE", "url_private_download": file["url_private_download"].replace("F0CSV3", "F0GONE")}
    served.slack_event(_share(gone, "1764082800.000721"), "Ev721")
    [_, missing] = slack_api.wait_for("chat.postMessage", 2)
    assert "Slack answered 404" in missing["text"] and missing["thread_ts"] == "1764082800.000721"
    huge = {**file, "id": "F0HUGE", "size": 11 * 1024 * 1024}
    served.slack_event(_share(huge, "1764082800.000722"), "Ev722")
    [*_, too_big] = slack_api.wait_for("chat.postMessage", 3)
    assert "I read payment exports up to 10 MB" in too_big["text"]
    assert len(slack_api.recorded("files.download")) == 2  # the oversized one was not fetched
    assert served.runtime.store.runs.recent() == []


def _offer_tap(message: dict, number: int, **more) -> dict:
    """A tap on the button of ``message`` whose action id is coo:offer:``number`` (its own block id)."""
    payload = button(message, "offer", number, **more)
    [block] = [b for b in message["blocks"] if b["type"] == "actions"]
    payload["actions"][0]["block_id"] = block["block_id"]
    return payload


def test_a_policy_suggestion_is_a_button_only_the_operator_can_tap(slack_api, smtp, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url, from_email=FROM)
    served.slack_event(dm("/policy streak 1", "1764082700.000100"), "Ev500")
    _said(slack_api, "after 1 clean approvals")
    served.slack_event(dm(RETAINER, TS), "Ev501")
    card = _card(slack_api)
    served.slack_interaction(button(card, "approve", 1))
    offer = _card(slack_api, 2)
    assert offer["thread_ts"] == TS and "💡 Your last 1 approvals" in offer["text"]
    [action] = _action_ids(offer)
    assert action.startswith("coo:offer:")
    number = int(action.rsplit(":", 1)[1])
    store = served.runtime.store

    # Someone else's tap is refused and changes nothing.
    served.slack_interaction(_offer_tap(offer, number, user="USTRANGER", action_ts="1764082901.000001"))
    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert refusal["user"] == "USTRANGER"
    served.settle()
    assert [r.level for r in store.autonomy_rules.all()] == []

    served.slack_interaction(_offer_tap(offer, number, action_ts="1764082902.000001"))
    [update] = slack_api.wait_for("chat.update", 2)[-1:]
    assert update["ts"] == offer["posted"]["ts"] and _action_ids(update) == []
    assert f"Tapped by <@{OPERATOR}>" in _block_text(update)
    raised = _said(slack_api, "Raised by you at")
    assert raised["thread_ts"] == TS and "are now auto (known addresses only)" in raised["text"]
    changes = [c for c in store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'policy_changed'")]
    taps = [c for c in changes if '"slack-tap"' in str(c["payload"])]
    assert len(taps) == 1 and taps[0]["actor"] == f"slack:{OPERATOR}"
    assert store.autonomy_rules.level("proposal_drafter", "send_proposal", 1) == "auto"

    # A stale tap (the same button again, say from another device) changes nothing and says so.
    served.slack_interaction(_offer_tap(offer, number, action_ts="1764082903.000001"))
    _said(slack_api, "is out of date")
    assert len(store.db.fetchall("SELECT id FROM ledger WHERE kind = 'policy_changed'")) == len(changes)


def _review_tap(digest: dict, action_id: str, **more) -> dict:
    """A tap on one of the digest's review buttons (the block Slack sends back with it)."""
    payload = button(digest, "offer", int(action_id.rsplit(":", 1)[1]), **more)
    payload["actions"][0]["block_id"] = "coo_review_offers"
    return payload


def test_the_quarterly_review_in_the_digest_lowers_a_level_on_the_operators_tap(slack_api, serve, sqlite_url):
    from bot.digest import post_digest

    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    served.slack_event(dm("/policy invoicer send_invoice auto", "1764082700.000100"), "Ev600")
    _said(slack_api, "OK (ask → auto)")
    served.slack_event(dm("/policy intake change_currency ask-external", "1764082700.000200"), "Ev601")
    _said(slack_api, "OK (ask → ask-external)")
    served.settle()
    store = served.runtime.store
    post_digest(served.runtime, date(2027, 1, 4))  # the first digest of Q1 carries the review
    digest = _said(slack_api, "Quarterly policy review (Q1 2027)")
    assert "autonomy: invoicer send_invoice = auto" in _block_text(digest)
    assert "autonomy: intake change_currency = ask-external" in _block_text(digest)
    [review] = [b for b in digest["blocks"] if b.get("block_id") == "coo_review_offers"]
    labels = {e["text"]["text"].split(" ", 1)[1]: e["action_id"] for e in review["elements"]}
    assert set(labels) == {"invoicer send_invoice → ask", "intake change_currency → ask"}
    lower = labels["invoicer send_invoice → ask"]
    updates = len(slack_api.recorded("chat.update"))

    # Someone else's tap is refused and changes nothing.
    served.slack_interaction(_review_tap(digest, lower, user="USTRANGER", action_ts="1764082910.000001"))
    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert refusal["user"] == "USTRANGER"
    served.settle()
    assert store.autonomy_rules.level("invoicer", "send_invoice", None) == "auto"

    # The operator's tap lowers that one level, says so in the digest's thread, and leaves the digest as it is.
    served.slack_interaction(_review_tap(digest, lower, action_ts="1764082911.000001"))
    lowered = _said(slack_api, "Lowered by you at")
    assert "the invoicer's invoices ask you again before anything goes out" in lowered["text"]
    assert lowered["channel"] == digest["posted"]["channel"]
    assert lowered.get("thread_ts") == digest["posted"]["ts"]
    served.settle()
    assert len(slack_api.recorded("chat.update")) == updates  # the digest keeps its buttons
    assert store.autonomy_rules.level("invoicer", "send_invoice", None) == "ask"
    assert store.autonomy_rules.level("intake", "change_currency", None) == "ask-external"  # the other stays
    [change] = [
        c
        for c in store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'policy_changed'")
        if '"slack-tap"' in str(c["payload"])
    ]
    assert change["actor"] == f"slack:{OPERATOR}"
    payload = change["payload"] if isinstance(change["payload"], dict) else json.loads(change["payload"])
    assert payload["offer"] == int(lower.rsplit(":", 1)[1]) and (payload["before"], payload["after"]) == ("auto", "ask")

    # The same button again (another device) changes nothing and says so.
    served.slack_interaction(_review_tap(digest, lower, action_ts="1764082912.000001"))
    _said(slack_api, "is out of date")
    assert len(store.db.fetchall("SELECT id FROM ledger WHERE kind = 'policy_changed'")) == 3

    # The internal one: the intake's currency changes ask again before the books change.
    served.slack_interaction(_review_tap(digest, labels["intake change_currency → ask"], action_ts="1764082913.000001"))
    _said(slack_api, "the intake's billing currency changes ask you again before changing the books")
    assert store.autonomy_rules.level("intake", "change_currency", None) == "ask"
