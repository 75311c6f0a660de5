"""A retainer bills only while it is going ahead: rejecting its proposal cancels it (and brings
back the terms it replaced); signing again says which terms it replaces."""

from __future__ import annotations

from datetime import date

import pytest

from bot.ticks import run_tick

pytestmark = pytest.mark.clock

SIGNED = [
    "Acme Studio signed the retainer: $4,000 a month, bill on the 1st, contact jane@acme.example",
    "Acme Studio signed the retainer at $4k/month, billed on the 1st, contact jane@acme.example",
    "new retainer: Acme Studio, $4,000 a month, bill on the 1st, contact jane@acme.example",
]


@pytest.mark.parametrize("signed", SIGNED)
def test_a_rejected_proposal_cancels_its_retainer_and_nothing_is_billed(chat, smtp, signed):
    shown = chat.say(signed)
    assert "New retainer for Acme Studio" in shown and "[/approve 1]" in shown
    shown = chat.say("/reject 1")
    assert "its retainer is cancelled: it will not be billed" in shown
    assert chat.runtime.store.work.active_retainers() == []
    report = run_tick(chat.runtime, date(2026, 12, 1))
    chat.runtime.queue.wait_idle()
    assert report.invoices == [] and chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 0
    assert smtp.messages == []


def test_signing_again_says_what_it_replaces_and_rejecting_keeps_the_old_terms(chat):
    chat.say(SIGNED[0])
    chat.say("/approve 1")
    shown = chat.say("Acme Studio signed the retainer: $5,000 a month, bill on the 15th")
    assert "Change it to the new terms?" in shown and "[/approve" not in shown
    shown = chat.say("yes")
    assert "It replaces the earlier retainer ($4,000.00/month, billed on day 1), as you confirmed" in shown
    shown = chat.say("/reject 2")
    assert "the earlier retainer ($4,000.00/month) applies again" in shown
    [active] = chat.runtime.store.work.active_retainers()
    assert active.monthly_amount == 4000 and active.billing_day == 1
