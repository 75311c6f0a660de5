"""Recall says when nothing really matches (issue #12): "I don't have anything about …", never the
five least distant memories dressed up as an answer."""

from __future__ import annotations

import pytest

from tests.conftest import phrasings
from tests.test_asking import BLUEFIN_MAIL, client_mail, forward_as_attachment, ingest

pytestmark = pytest.mark.clock


@pytest.fixture
def remembered(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Bluefin, contact Lena Park lena@bluefin.example")
    chat.say("new client: Kestrel, contact tom@kestrel.example")
    chat.say("remember that Kestrel wants the final files as PDFs")
    ingest(
        chat,
        forward_as_attachment(
            client_mail(BLUEFIN_MAIL, subject="Logo feedback", sender="Lena Park <lena@bluefin.example>")
        ),
    )
    return chat


@phrasings(
    "said",
    ["what did we decide about the podcast sponsorship?", "what was the wifi password at the venue?"],
)
def test_a_question_nothing_matches_is_said_to_match_nothing(remembered, said):
    shown = remembered.say(said)
    assert "I don't have anything about “" in shown, shown
    assert "•" not in shown and "Here's what I found" not in shown


def test_a_question_something_matches_still_finds_it(remembered):
    shown = remembered.say("which client wanted the files as PDFs?")
    assert "Here's what I found" in shown and "note about Kestrel" in shown, shown
