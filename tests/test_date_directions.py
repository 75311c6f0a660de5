"""Relative dates point the right way: what happened (work delivered, a revision asked for,
money received) happened on or before today; what is due is due on or after today. A date
whose words point back ("last Friday") is never a due date, and an invoice's "for the shoot on
Monday" says when the work was, not when it is due."""

from __future__ import annotations

from datetime import date

import pytest

from graphs.offline_parser import OfflineParser

pytestmark = pytest.mark.clock

TODAY = date(2026, 11, 25)  # a Wednesday


def _intent(text: str):  # type: ignore[no-untyped-def]
    return OfflineParser().parse(text, TODAY).intent


@pytest.mark.parametrize(
    ("text", "title", "done_on"),
    [
        ("finished the logo for Acme last Friday", "logo", date(2026, 11, 20)),
        ("finished the logo for Acme on Tuesday", "logo", date(2026, 11, 24)),
        ("finished the logo for Acme Friday", "logo", date(2026, 11, 20)),
        ("delivered the brand guide to Acme on Monday", "brand guide", date(2026, 11, 23)),
        ("delivered the logo to Acme Tuesday", "logo", date(2026, 11, 24)),
        ("completed the audit for Acme on Wednesday", "audit", date(2026, 11, 25)),
        ("shipped the brochure to Acme on 11/23", "brochure", date(2026, 11, 23)),
        ("the logo for Acme was done last Friday", "logo", date(2026, 11, 20)),
        ("the homepage mockups for Acme were delivered yesterday", "homepage mockups", date(2026, 11, 24)),
        ("the banner for Acme was delivered 2 days ago", "banner", date(2026, 11, 23)),
        ("the landing page for Acme was finished on Sunday", "landing page", date(2026, 11, 22)),
        ("the logo for Acme is done today", "logo", date(2026, 11, 25)),
        ("Acme's logo was finished on Nov 20", "logo", date(2026, 11, 20)),
        ("Acme's poster was delivered on Dec 3", "poster", date(2025, 12, 3)),
        ("the logo for Acme is done", "logo", None),
    ],
)
def test_work_reported_done_was_done_in_the_past(text: str, title: str, done_on: date | None) -> None:
    intent = _intent(text)
    assert (intent.kind, intent.client_name, intent.title, intent.done_on) == (  # type: ignore[union-attr]
        "deliverable_done",
        "Acme",
        title,
        done_on,
    )


@pytest.mark.parametrize(
    "text",
    ["the logo for Acme will be done Friday", "the logo for Acme is done tomorrow", "is the logo for Acme done?"],
)
def test_work_not_yet_done_is_not_reported_done(text: str) -> None:
    assert _intent(text).kind != "deliverable_done"


@pytest.mark.parametrize(
    ("text", "deliverable", "requested_on"),
    [
        ("Acme asked for changes to the logo on Monday", "logo", date(2026, 11, 23)),
        ("Acme requested changes to the brochure last Friday: darker blue", "brochure", date(2026, 11, 20)),
        ("Acme asked for another revision of the logo yesterday", "logo", date(2026, 11, 24)),
        ("Acme wants a third round on the homepage", "homepage", None),
        # "by Friday" is when the changes are due, not when they were asked for.
        ("Acme asked for changes to the logo by Friday", "logo by Friday", None),
    ],
)
def test_a_revision_request_was_made_in_the_past(text: str, deliverable: str, requested_on: date | None) -> None:
    intent = _intent(text)
    assert intent.kind == "revision_request"
    assert (intent.deliverable, intent.requested_on) == (deliverable, requested_on)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Acme needs the banner due Tuesday", date(2026, 12, 1)),
        ("deliverable for Acme: banner due Tuesday", date(2026, 12, 1)),
        ("Acme needs the brochure by Wednesday", date(2026, 12, 2)),
        ("Acme needs the logo by this Tuesday", date(2026, 12, 1)),
        ("Acme needs the logo by Friday", date(2026, 11, 27)),
        ("remind me to send Acme the files Tuesday", date(2026, 12, 1)),
        ("remind me to call Acme on Monday", date(2026, 11, 30)),
        ("invoice Acme $500 due Tuesday", date(2026, 12, 1)),
        ("invoice Acme $500 for the logo due Wednesday", date(2026, 12, 2)),
        ("invoice Acme $500 for the logo, due Dec 3", date(2026, 12, 3)),
        ("invoice Acme $800 for the workshop on Nov 20, due Friday", date(2026, 11, 27)),
        ("the logo for Acme is due Tuesday", date(2026, 12, 1)),
        ("homepage mockups for Acme due Wednesday", date(2026, 12, 2)),
    ],
)
def test_a_due_date_points_forward(text: str, due: date) -> None:
    assert _intent(text).due_date == due  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "invoice Acme $800 for the shoot on Monday",
        "invoice Acme $800 for the shoot last Friday",
        "invoice Acme $800 for last Friday's workshop",
        "invoice Acme $800 for the shoot 3 days ago",
        "remind me to call Acme last Friday",
    ],
)
def test_a_date_pointing_back_or_at_the_work_is_no_due_date(text: str) -> None:
    intent = _intent(text)
    assert intent.kind in ("create_invoice", "add_task") and intent.due_date is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "Acme needs the logo, we spoke last Friday",
        "the logo for Acme was due last Friday",
        "the invoice for Acme is due Friday",  # an invoice is not a deliverable
    ],
)
def test_no_deliverable_due_in_the_past_or_made_of_money(text: str) -> None:
    assert _intent(text).kind != "add_deliverable"


def test_work_done_last_friday_marks_the_deliverable_in_chat(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("Northwind needs the logo due Tuesday")
    assert "• 1 logo (Northwind) — due 2026-12-01" in chat.say("/done"), shown
    shown = chat.say("finished the logo for Northwind last Friday")
    assert "Marked “logo” (Northwind) delivered" in shown, shown
    assert "logo" not in chat.say("/done")
    assert "delivered on 2026-11-20" in shown  # last Friday, not the moment it was said
    deliverables = chat.runtime.store.work.open_deliverables()
    assert deliverables == []
    done = chat.runtime.store.db.fetchall("SELECT title, status, done_at FROM deliverables")
    assert [(d["title"], d["status"]) for d in done] == [("logo", "done")]
    assert str(done[0]["done_at"]).startswith("2026-11-20")
