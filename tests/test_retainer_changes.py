"""Changing a running retainer asks first: new terms show old → new, an end or a pause shows
which billing dates will and will not be billed; only "yes" changes anything, and the daily
tick bills what the retainer now says (issue #11, class 7)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.ticks import run_tick
from store.books_check import check_books
from tests.conftest import phrasings

pytestmark = pytest.mark.clock  # the clock is 2026-11-25

SIGNED = "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"


@pytest.fixture
def acme(chat):  # type: ignore[no-untyped-def]
    chat.say(SIGNED)
    chat.say("/approve 1")
    return chat


def _active(chat):  # type: ignore[no-untyped-def]
    [active] = chat.runtime.store.work.active_retainers()
    return active


def _invoices(chat) -> list[str]:  # type: ignore[no-untyped-def]
    rows = chat.runtime.store.db.fetchall("SELECT number, issue_date FROM invoices ORDER BY seq")
    return [str(r["issue_date"])[:10] for r in rows]


def _tick(chat, *days: date) -> list[str]:  # type: ignore[no-untyped-def]
    for day in days:
        run_tick(chat.runtime, day)
        chat.runtime.queue.wait_idle()
    return _invoices(chat)


def _events(chat, kind: str) -> int:  # type: ignore[no-untyped-def]
    return int(chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM ledger WHERE kind = ?", (kind,)) or 0)


MONTHS = (date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1))

# -- new terms -------------------------------------------------------------------------------

NEW_TERMS = [
    "Acme Studio signed the retainer: $5,000 a month, bill on the 15th",
    "Acme Studio signed the retainer at $5k/month, billed on the 15th",
    "new retainer: Acme Studio, $5,000 a month, bill on the 15th",
]


@pytest.mark.parametrize("said", NEW_TERMS)
def test_new_terms_show_old_and_new_and_change_only_on_yes(acme, said):
    shown = acme.say(said)
    assert "Acme Studio already has a retainer ($4,000.00/month, 3 revision rounds, billed on day 1)" in shown
    assert "Amount: $4,000.00/month → $5,000.00/month" in shown
    assert "Billing day: 1 → 15" in shown
    assert "Next invoice: 2026-12-15 for $5,000.00 (was 2026-12-01 for $4,000.00)" in shown
    assert "Reply yes to go ahead, or no to keep things as they are." in shown
    assert "[/approve" not in shown  # no proposal before the answer
    assert _active(acme).monthly_amount == 4000 and _active(acme).billing_day == 1
    shown = acme.say("yes")
    assert "It replaces the earlier retainer ($4,000.00/month, billed on day 1), as you confirmed" in shown
    assert "[/approve 2]" in shown
    active = _active(acme)
    assert (active.monthly_amount, active.billing_day, active.revision_rounds) == (5000, 15, 3)
    assert _events(acme, "retainer_terms_changed") == 1
    assert _tick(acme, date(2026, 12, 1), date(2026, 12, 15)) == ["2026-12-15"]


@phrasings("answer", ["no", "nope", "No, keep the current terms", "don't"])
def test_no_keeps_the_current_terms(acme, answer):
    acme.say("Acme Studio signed the retainer: $5,000 a month, bill on the 15th")
    shown = acme.say(answer)
    assert "OK, nothing changed: Acme Studio's retainer stays as it is." in shown
    active = _active(acme)
    assert (active.monthly_amount, active.billing_day) == (4000, 1)
    assert acme.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM approvals") == 1  # no second proposal
    assert _events(acme, "retainer_terms_changed") == 0
    assert _tick(acme, date(2026, 12, 1)) == ["2026-12-01"]


@phrasings(
    "said",
    [
        "Acme Studio signed the retainer: $4,000 a month, bill on the 1st",
        "Acme Studio signed the retainer again, $4k a month, billed on the 1st",
        "Acme Studio signed the retainer: $4,000 a month",  # unsaid terms stay as they are
    ],
)
def test_the_same_terms_change_nothing_and_ask_nothing(acme, said):
    shown = acme.say(said)
    assert (
        "Nothing changed: Acme Studio's retainer is already $4,000.00/month, 3 revision rounds, billed on day 1."
        in (shown)
    )
    assert "Reply yes" not in shown
    assert acme.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM retainers") == 1
    shown = acme.say("yes")
    assert "I'm not sure what you'd like me to do" in shown  # no question was waiting


def test_unsaid_terms_carry_over_and_a_new_currency_is_said(acme):
    shown = acme.say("Acme Studio signed the retainer: €4,500 a month")
    assert "Amount: $4,000.00/month → €4,500.00/month" in shown
    assert "Currency: USD → EUR" in shown
    assert "Billing day" not in shown and "Revision rounds" not in shown
    acme.say("yes")
    active = _active(acme)
    assert (active.monthly_amount, active.currency, active.billing_day, active.revision_rounds) == (
        4500,
        "EUR",
        1,
        3,
    )


def test_more_rounds_alone_is_a_change_too(acme):
    shown = acme.say("Acme Studio signed the retainer: $4,000 a month, 5 revision rounds, bill on the 1st")
    assert "Revision rounds: 3 → 5" in shown and "Amount" not in shown
    acme.say("yep")
    assert _active(acme).revision_rounds == 5


# -- ending ----------------------------------------------------------------------------------


@phrasings(
    "said",
    [
        "cancel Acme Studio's retainer",
        "Cancel the retainer with Acme Studio.",
        "end Acme Studio's retainer",
        "Acme Studio cancelled their retainer",
        "please stop billing Acme Studio",
    ],
)
def test_cancelling_shows_the_dates_no_longer_billed_and_ends_it_on_yes(acme, said):
    shown = acme.say(said)
    assert "End Acme Studio's retainer ($4,000.00/month, 3 revision rounds, billed on day 1) today?" in shown, shown
    assert "No longer billed: 2026-12-01, 2027-01-01, 2027-02-01, …." in shown
    assert _active(acme).ends_on is None  # nothing yet
    shown = acme.say("yes")
    assert "Acme Studio's retainer has ended: nothing is billed from 2026-11-25 on." in shown
    assert _tick(acme, *MONTHS) == []
    profile = acme.say("what do we know about Acme Studio?")
    assert "Retainer: $4,000.00/month" in profile and "— ended 2026-11-25" in profile
    clients = acme.say("list my clients")
    assert "Acme Studio <jane@acme.example> — retainer $4,000.00/month (ended 2026-11-25)" in clients
    assert _events(acme, "retainer_ended") == 1
    assert "already ended" in acme.say("cancel Acme Studio's retainer")


@phrasings(
    "said",
    [
        "Acme Studio ended the retainer from January 1",
        "stop billing Acme Studio after December",
        "end the retainer with Acme Studio as of 1 January",
        "Acme Studio is ending the retainer at the end of December",
        "no more invoices for Acme Studio from January",
    ],
)
def test_an_end_date_keeps_the_months_before_it(acme, said):
    shown = acme.say(said)
    assert "End Acme Studio's retainer" in shown and "on 2027-01-01?" in shown, shown
    assert "Still billed: 2026-12-01 (the last invoice)." in shown
    assert "No longer billed: 2027-01-01, 2027-02-01, 2027-03-01, …." in shown
    shown = acme.say("yes, go ahead")
    assert "Acme Studio's retainer ends 2027-01-01: nothing is billed from 2027-01-01 on." in shown
    assert "The last invoice is 2026-12-01's." in shown
    assert "ends 2027-01-01, nothing billed from then" in acme.say("Acme Studio's profile")
    assert _tick(acme, *MONTHS) == ["2026-12-01"]
    assert _events(acme, "retainer_ended") == 1


@phrasings("answer", ["no", "nah, leave it"])
def test_no_to_an_end_keeps_billing(acme, answer):
    acme.say("stop billing Acme Studio after December")
    assert "nothing changed" in acme.say(answer)
    assert _tick(acme, *MONTHS[:2]) == ["2026-12-01", "2027-01-01"]
    assert _events(acme, "retainer_ended") == 0


def test_an_end_date_in_the_past_names_the_invoices_already_prepared(acme, clock):
    clock.advance(days=15)  # 2026-12-10
    assert _tick(acme, date(2026, 12, 1)) == ["2026-12-01"]
    shown = acme.say("Acme Studio ended the retainer from December 1")
    assert "End Acme Studio's retainer" in shown and "as of 2026-12-01, a date in the past?" in shown, shown
    assert "Already invoiced for dates from then on: INV-0001 (draft) — these stay as they are" in shown
    assert "No longer billed: 2027-01-01, 2027-02-01, 2027-03-01, …." in shown
    acme.say("yes")
    assert _tick(acme, date(2027, 1, 1)) == ["2026-12-01"]
    assert "— ended 2026-12-01" in acme.say("what do we know about Acme Studio?")


def test_a_client_without_a_retainer_is_told_so(chat):
    chat.say("new client: Globex, contact ap@globex.example")
    assert "Globex has no active retainer; nothing changed." in chat.say("cancel Globex's retainer")
    assert "Globex has no active retainer" in chat.say("pause Globex's retainer until March")


# -- pausing and resuming --------------------------------------------------------------------


@phrasings(
    "said",
    [
        "pause Acme Studio's retainer until March",
        "pause billing Acme Studio until March",
        "put Acme Studio's retainer on hold until March 1",
        "Acme Studio wants to pause their retainer until March",
    ],
)
def test_a_pause_until_a_month_skips_the_months_before_it(acme, said):
    shown = acme.say(said)
    assert "Pause Acme Studio's retainer ($4,000.00/month, 3 revision rounds, billed on day 1) from today until" in (
        shown
    ), shown
    assert "2027-03-01?" in shown
    assert "Not billed: 2026-12-01, 2027-01-01, 2027-02-01." in shown
    assert "Billing resumes: 2027-03-01." in shown
    shown = acme.say("yes")
    assert "Acme Studio's retainer is paused until 2027-03-01: 3 invoice(s) skipped. Billing resumes 2027-03-01." in (
        shown
    )
    assert "— paused until 2027-03-01" in acme.say("what do we know about Acme Studio?")
    assert "(paused until 2027-03-01)" in acme.say("show my clients")
    assert _tick(acme, *MONTHS) == ["2027-03-01"]
    assert _events(acme, "retainer_paused") == 1


@phrasings(
    "said",
    ["pause the Acme Studio retainer for two months", "pause Acme Studio's retainer for 2 months"],
)
def test_a_pause_for_two_months(acme, said):
    shown = acme.say(said)
    assert "until 2027-01-25?" in shown, shown
    assert "Not billed: 2026-12-01, 2027-01-01." in shown and "Billing resumes: 2027-02-01." in shown
    acme.say("ok")
    assert _tick(acme, *MONTHS) == ["2027-02-01", "2027-03-01"]


def test_resuming_bills_again_and_an_unpaused_retainer_is_said(acme):
    assert "is not paused (active)" in acme.say("resume Acme Studio's retainer")
    acme.say("pause Acme Studio's retainer")
    shown = acme.say("yes")
    assert "paused until you resume it: nothing is billed meanwhile" in shown
    assert "— paused until resumed" in acme.say("what do we know about Acme Studio?")
    shown = acme.say("resume Acme Studio's retainer")
    assert "Resume Acme Studio's retainer" in shown and "It is paused until resumed." in shown
    assert "Billed again: 2026-12-01, 2027-01-01, 2027-02-01." in shown
    assert "running again. Next invoice: 2026-12-01." in acme.say("yes")
    assert _tick(acme, MONTHS[0]) == ["2026-12-01"]
    assert _events(acme, "retainer_resumed") == 1
    assert check_books(acme.runtime.store.db) == []


def test_cancel_drops_the_question_but_a_request_of_its_own_is_taken(acme):
    acme.say("pause Acme Studio's retainer until March")
    assert "OK, dropped that request." in acme.say("cancel")
    acme.say("pause Acme Studio's retainer until March")
    shown = acme.say("cancel Acme Studio's retainer")
    assert "End Acme Studio's retainer" in shown
    acme.say("yes")
    assert _active_or_none(acme) is None


def _active_or_none(chat):  # type: ignore[no-untyped-def]
    retainers = chat.runtime.store.work.active_retainers()
    return retainers[0] if retainers else None


def test_an_unreadable_answer_is_asked_again(acme):
    acme.say("cancel Acme Studio's retainer")
    assert "Please answer yes or no." in acme.say("hmm, maybe")
    assert "has ended" in acme.say("yes")


# -- what the offline parser reads -----------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "kind", "fields"),
    [
        ("cancel Acme's retainer", "retainer_end", {"client_name": "Acme"}),
        ("Acme ended the retainer from January 1", "retainer_end", {"client_name": "Acme", "ends_on": "2027-01-01"}),
        ("stop billing Globex after December", "retainer_end", {"client_name": "Globex", "ends_on": "2027-01-01"}),
        ("terminate Initech's retainer as of Dec 15", "retainer_end", {"ends_on": "2026-12-15"}),
        ("no more invoices for Globex after this month", "retainer_end", {"ends_on": "2026-12-01"}),
        ("cancel their retainer", "retainer_end", {}),
        ("pause Globex's retainer until March", "retainer_pause", {"paused_until": "2027-03-01"}),
        ("pause the Bluefin retainer for two months", "retainer_pause", {"client_name": "Bluefin", "months": 2}),
        ("pause billing for Globex for 6 weeks", "retainer_pause", {"paused_until": "2027-01-06"}),
        ("put Globex's retainer on hold until March 15", "retainer_pause", {"paused_until": "2027-03-15"}),
        ("resume Globex's retainer", "retainer_resume", {"client_name": "Globex"}),
        ("unpause the Globex retainer", "retainer_resume", {"client_name": "Globex"}),
        ("restart billing Globex", "retainer_resume", {"client_name": "Globex"}),
        ("Globex is back on retainer", "retainer_resume", {"client_name": "Globex"}),
        # not these
        ("remind me to cancel Acme's retainer", "add_task", {}),
        ("cancel my gym membership", "unknown", {}),
        ("stop billing Globex after Smarch", "unknown", {}),  # an unreadable date is no guess
        ("cancel the meeting", "unknown", {}),
        ("stop", "unknown", {}),
    ],
)
def test_what_the_offline_parser_reads(said, kind, fields):
    from graphs.intents import intent_to_dict
    from graphs.offline_parser import OfflineParser

    parsed = intent_to_dict(OfflineParser().parse(said, date(2026, 11, 25)).intent)
    assert parsed["kind"] == kind, parsed
    assert {k: parsed.get(k) for k in fields} == fields
    assert not parsed.get("confirmed")  # only the operator's "yes" confirms
