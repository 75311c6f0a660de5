"""Real companies can be clients: an explicit "new client: Google" or a retainer signup naming
one creates it; in free text ("paid via PayPal") such names still don't become clients."""

from __future__ import annotations

from datetime import date

import pytest

from graphs.offline_parser import OfflineParser


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("new client: Google, contact jane@google.example", "Google"),
        ("new client: PayPal, contact Tom <tom@paypal.example>", "PayPal"),
        ("add Netflix as a client, contact ops@netflix.example", "Netflix"),
        ("Spotify is a new client, contact music@spotify.example", "Spotify"),
        ("create client Wells Fargo, contact a@wf.example", "Wells Fargo"),
        ("new client: Verizon", "Verizon"),
    ],
)
def test_an_explicit_new_client_that_is_a_real_company_is_created(chat, text: str, name: str) -> None:
    shown = chat.say(text)
    assert name in shown
    assert [c.name for c in chat.runtime.store.clients.find(name, None)] == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Netflix signed the retainer: $4,000 a month, contact ops@netflix.example", "Netflix"),
        ("new retainer: Google, $3,000 a month, contact jane@google.example", "Google"),
        ("retainer with Verizon at $2,500 a month, contact b@verizon.example", "Verizon"),
    ],
)
def test_a_retainer_signup_naming_a_real_company_creates_the_client(chat, text: str, name: str) -> None:
    chat.say(text)
    assert [c.name for c in chat.runtime.store.clients.find(name, None)] == [name]


@pytest.mark.parametrize(
    "text",
    ["paid via PayPal 500", "got $500 via PayPal", "new client: mom", "new client: my bank", "mom signed the retainer"],
)
def test_free_text_and_private_life_still_make_no_client(text: str) -> None:
    intent = OfflineParser().parse(text, date(2026, 11, 20)).intent
    assert getattr(intent, "client_name", None) is None


# --- once a real company is a client, every request may name it ---------------------------

KNOWN = ["Google", "PayPal", "Netflix", "Spotify Studios"]


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("Google paid $500", "record_payment", "Google"),
        ("got $500 from Google", "record_payment", "Google"),
        ("payment from PayPal came in, $1,200", "record_payment", "PayPal"),
        ("Netflix paid INV-0003", "record_payment", "Netflix"),
        ("invoice Google for 3 hours at $100", "create_invoice", "Google"),
        ("send PayPal an invoice for $2,000 for the audit", "create_invoice", "PayPal"),
        ("bill Netflix $800 for the storyboard", "create_invoice", "Netflix"),
        ("what do we know about Netflix?", "client_profile", "Netflix"),
        ("tell me about Google", "client_profile", "Google"),
        ("e-mail PayPal that the files are ready", "send_email", "PayPal"),
        ("tell Netflix the logo is done", "send_email", "Netflix"),
        ("Google needs the banner by Friday", "add_deliverable", "Google"),
        ("draft a proposal for Netflix for a brand refresh, $6k", "draft_proposal", "Netflix"),
        ("the logo for Google is done", "deliverable_done", "Google"),
        ("Google asked for changes to the logo", "revision_request", "Google"),
        ("how's Google doing?", "status_query", "Google"),
        ("remember that Google pays net 45", "remember_fact", "Google"),
        ("Spotify paid $300", "record_payment", "Spotify"),
    ],
)
def test_a_real_company_that_is_a_client_can_be_named_in_any_request(text: str, kind: str, name: str) -> None:
    intent = OfflineParser().parse(text, date(2026, 11, 20), KNOWN).intent
    assert (intent.kind, getattr(intent, "client_name", None)) == (kind, name)


@pytest.mark.parametrize(
    "text",
    [
        "Google paid $500",
        "invoice Google for 3 hours at $100",
        "what do we know about Netflix?",
        "e-mail PayPal that the files are ready",
        "got $500 from Netflix",
    ],
)
def test_a_real_company_that_is_not_a_client_is_still_not_one(text: str) -> None:
    for clients in ([], ["Acme"], ["Googleplex Media"]):
        intent = OfflineParser().parse(text, date(2026, 11, 20), clients).intent
        assert getattr(intent, "client_name", None) is None, (clients, intent)


@pytest.mark.parametrize(
    "text", ["paid via PayPal 500", "got $500 via PayPal", "I paid Netflix $15", "Netflix charged me $15"]
)
def test_paying_a_company_that_is_also_a_client_is_no_payment_from_it(text: str) -> None:
    assert OfflineParser().parse(text, date(2026, 11, 20), KNOWN).intent.kind != "record_payment"


def test_which_client_may_be_answered_with_a_company_that_is_one() -> None:
    parser = OfflineParser()
    assert parser.parse_field("client_name", "Google", date(2026, 11, 20), KNOWN) == "Google"
    with pytest.raises(ValueError):
        parser.parse_field("client_name", "Google", date(2026, 11, 20), ["Acme"])


def test_a_company_client_is_invoiced_paid_and_asked_about_in_chat(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: Google, contact ana@google.example")
    shown = chat.say("invoice Google for 3 hours at $100")
    assert "Google" in shown and "$300.00" in shown, shown
    chat.say("/approve 1")
    shown = chat.say("Google paid $300")
    assert "INV-0001 (now paid in full)" in shown, shown
    shown = chat.say("what do we know about Google?")
    assert "ana@google.example" in shown, shown


def test_a_company_client_is_e_mailed_in_chat(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: PayPal, contact Tom <tom@paypal.example>")
    shown = chat.say("e-mail PayPal that the files are ready")
    assert "tom@paypal.example" in shown, shown


def test_a_company_that_is_not_a_client_is_not_booked_in_chat(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: Acme, contact a@acme.example")
    shown = chat.say("Google paid $500")
    assert "not sure what you'd like me to do" in shown, shown
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0


def test_a_company_made_a_client_by_another_process_is_known_to_the_next_message(  # type: ignore[no-untyped-def]
    make_runtime, db_url: str, smtp
) -> None:
    # Each process keeps the client names it read; a client another worker adds must still be
    # one here at the very next message, and a rename there must be seen here too.
    from tests.conftest import ChatDriver

    here, there = (
        ChatDriver(make_runtime(database_url=db_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>"))
        for _ in range(2)
    )
    shown = here.say("what do we know about Google?")
    assert "ana@google.example" not in shown, shown
    there.say("new client: Google, contact ana@google.example")
    shown = here.say("what do we know about Google?")
    assert "ana@google.example" in shown, shown
    google = there.runtime.store.clients.find("Google", None)[0]
    with there.runtime.store.db.transaction() as tx:
        there.runtime.store.clients.rename(tx, google.id, "Netflix")
    shown = here.say("what do we know about Netflix?")
    assert "ana@google.example" in shown, shown
