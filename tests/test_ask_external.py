"""`ask-external` differs from `ask` (issue #16): at ask-external an agent's internal bookkeeping
(changes to the books that stay in coo) runs on its own and says so, while anything leaving the
system (an e-mail, a proposal) still waits for a card; money that is uncertain is still a question;
the ledger records the level each change ran under."""

from __future__ import annotations

import json

import pytest

from graphs.autonomy_policy import SIDE_EFFECTS, is_external

pytestmark = pytest.mark.clock  # the clock is 2026-11-25

SIGNED = "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"


@pytest.fixture
def acme(chat):  # type: ignore[no-untyped-def]
    chat.say(SIGNED)
    chat.say("/approve 1")
    return chat


def _by_policy(chat) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = chat.runtime.store.db.fetchall("SELECT payload FROM ledger WHERE kind = 'approved_by_policy' ORDER BY id")
    return [r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"]) for r in rows]


def _active(chat):  # type: ignore[no-untyped-def]
    [active] = chat.runtime.store.work.active_retainers()
    return active


def test_every_side_effect_kind_is_classified_once():
    assert {k for k, v in SIDE_EFFECTS.items() if v.external} == {
        "send_invoice",
        "resend_invoice",
        "send_email",
        "send_proposal",
        "send_reminder",
        "send_credit_note",
    }
    assert not is_external("pause_retainer") and not is_external("change_currency")
    assert is_external("something_new")  # an unlisted kind waits, whatever the level


def test_at_ask_external_new_terms_are_booked_without_asking_but_the_proposal_waits(acme, smtp):
    said = acme.say("/policy proposal_drafter change_retainer ask-external")
    assert "OK (ask → ask-external)" in said and "retainer term changes: ask-external" in said
    sent = len(smtp.messages)
    shown = acme.say("Acme Studio signed the retainer: $5,000 a month, bill on the 15th")
    assert "Reply yes" not in shown, shown
    assert "It replaces the earlier retainer ($4,000.00/month, billed on day 1)" in shown
    assert "Done without asking: your /policy has the proposal_drafter's retainer term changes at ask-external" in (
        shown
    )
    assert "[/approve 2]" in shown  # the proposal leaves the system: its card waits
    active = _active(acme)
    assert (active.monthly_amount, active.billing_day) == (5000, 15)
    assert len(smtp.messages) == sent  # nothing went out
    [event] = _by_policy(acme)
    assert event["autonomy"] == "ask-external" and event["kind"] == "change_retainer" and event["external"] is False
    assert event["agent"] == "proposal_drafter"


def test_at_ask_the_same_change_still_asks(acme):
    acme.say("/policy proposal_drafter change_retainer ask")
    shown = acme.say("Acme Studio signed the retainer: $5,000 a month, bill on the 15th")
    assert "Reply yes to go ahead" in shown and "Done without asking" not in shown
    assert _active(acme).monthly_amount == 4000
    assert _by_policy(acme) == []


def test_an_e_mail_still_waits_for_its_card_at_ask_external(acme, smtp):
    acme.say("/policy email_responder send_email ask-external")
    sent = len(smtp.messages)
    shown = acme.say("email Acme Studio that the files are uploaded")
    assert "[/approve 2]" in shown and "Sent without asking" not in shown
    assert len(smtp.messages) == sent
    assert _by_policy(acme) == []


def test_a_pause_and_a_rename_run_on_their_own_and_undo_still_works(acme):
    acme.say("/policy intake pause_retainer ask-external")
    shown = acme.say("pause Acme Studio's retainer until March")
    assert "Reply yes" not in shown and "Acme Studio's retainer is paused until 2027-03-01" in shown, shown
    assert "Done without asking: your /policy has the intake's retainer pauses at ask-external" in shown
    shown = acme.say("rename Acme Studio to Acme Studio Ltd")
    assert "Rename the client Acme Studio?" in shown  # rename is still at ask
    acme.say("no")
    acme.say('/policy intake rename_client ask-external client="Acme Studio"')
    shown = acme.say("rename Acme Studio to Acme Studio Ltd")
    assert "Renamed Acme Studio to Acme Studio Ltd." in shown and "Done without asking" in shown, shown
    assert [e["kind"] for e in _by_policy(acme)] == ["pause_retainer", "rename_client"]
    assert "Acme Studio Ltd is called Acme Studio again" in acme.say("undo")


def test_money_that_is_uncertain_is_still_a_question(acme, clock):
    from datetime import date

    from bot.ticks import run_tick

    acme.say("/policy intake end_retainer ask-external")
    clock.advance(days=15)  # 2026-12-10, the December invoice is already prepared
    run_tick(acme.runtime, date(2026, 12, 1))
    acme.runtime.queue.wait_idle()
    shown = acme.say("Acme Studio ended the retainer from December 1")
    assert "Already invoiced for dates from then on: INV-0001 (draft)" in shown and "Reply yes" in shown, shown
    assert _active(acme).ends_on is None and _by_policy(acme) == []
    acme.say("no")
    shown = acme.say("Acme Studio ended the retainer from January 1")  # nothing billed after it yet
    assert "Acme Studio's retainer ends 2027-01-01" in shown and "Done without asking" in shown, shown


def test_internal_kinds_take_no_sending_limits(acme):
    said = acme.say("/policy intake change_currency auto max=1000")
    assert "change_currency is internal bookkeeping: nothing leaves the system" in said
    assert acme.runtime.store.autonomy_rules.all() == []
