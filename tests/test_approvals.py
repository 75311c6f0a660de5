"""The approval card's fields: its document number is a field, not something read from the title."""

from __future__ import annotations

from graphs.approvals import Card


def test_a_numbered_card_keeps_its_number_through_the_store():
    card = Card(title="Send invoice #INV-0007 to ops@northwind.example", question="Send it?", number="INV-0007")
    assert Card.model_validate(card.model_dump()).number == "INV-0007"


def test_a_card_without_a_document_has_no_number_whatever_its_title():
    card = Card(title="Send e-mail to Studio #5", question="Send it?")
    assert card.number is None
    assert Card.model_validate(card.model_dump()).number is None


def test_a_card_stored_before_the_number_field_reads_it_from_its_title():
    stored = {"title": "Send proposal #P-0003 to jane@acme.example", "question": "Send it to jane@acme.example?"}
    assert Card.model_validate(stored).number == "P-0003"
    assert Card.model_validate({"title": "Send weekly report to jane@acme.example", "question": "?"}).number is None
