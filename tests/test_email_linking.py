"""Senders are linked to clients by evidence, strongest first (issue #13): the contact's exact
address, the thread, the company's own domain (never a shared provider's); a display name alone
is only a question, and no client's context goes into a guess."""

from __future__ import annotations

import pytest

from tests.test_email_intake import FEEDBACK, client_mail, ingest


@pytest.mark.parametrize(
    ("client", "sender", "could_be"),
    [
        ("new client: Bob Lee, contact Bob Lee bob@lee.example", "Bob <bob@gmail.com>", "Bob Lee"),
        ("new client: Maria Lopez, contact maria@lopez.example", "Maria <maria.l@outlook.com>", "Maria Lopez"),
        ("new client: Acme Studio, contact Jane Doe jane@acme.example", "Jane Doe <jane.doe@gmail.com>", "Acme Studio"),
        ("new client: Acme Studio, contact Jane Doe jane@acme.example", "Jane <jd@yahoo.com>", "Acme Studio"),
    ],
)
def test_a_display_name_alone_is_a_question_never_a_link(chat, smtp, client: str, sender: str, could_be: str):
    chat.say(client)
    chat.say(f"invoice {could_be} $500 for design work")
    chat.say("/approve 1")
    result, shown = ingest(chat, bytes(client_mail(FEEDBACK, sender=sender)))
    assert result.client_id is None, shown
    assert f"It could be from {could_be}; I linked it to none of them." in shown
    assert "open invoice" not in shown and "$500.00" not in shown  # no client context in a guess


@pytest.mark.parametrize(
    ("client", "sender", "linked_by"),
    [
        ("new client: Acme Studio, contact Jane Doe jane@acme.example", "Jane Doe <jane@acme.example>", "address"),
        ("new client: Acme Studio, contact Jane Doe jane@acme.example", "Bob Smith <bob@acme.example>", "domain"),
        ("new client: Lopez Design, contact maria@gmail.com", "Maria <hola@lopez-design.com>", "domain"),
    ],
)
def test_an_address_or_the_companys_own_domain_links(chat, smtp, client: str, sender: str, linked_by: str):
    chat.say(client)
    result, shown = ingest(chat, bytes(client_mail(FEEDBACK, sender=sender)))
    assert result.linked_by == linked_by and result.client_id is not None, shown
    if linked_by == "domain":  # a link, but a guess: said so, and no client's details pulled in
        assert "(matched by domain; not the contact address on file)" in shown
        assert "Linked by the company's domain only, so I left" in shown and "no constraints" not in shown


def test_a_shared_providers_domain_links_nobody(chat, smtp):
    chat.say("new client: Gmail Fans, contact fan@gmail.com")
    result, shown = ingest(chat, bytes(client_mail(FEEDBACK, sender="Someone Else <other@gmail.com>")))
    assert result.client_id is None, shown
