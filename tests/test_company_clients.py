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
