"""Retainer changes as operators type them, read by the rules alone (no router): pauses put "on
ice", ends said as "won't renew", new terms stated about a named retainer, a retainer by another
name ("going monthly"), and payment terms that are a fact, not a payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from graphs.intents import intent_to_dict
from graphs.offline_parser import OfflineParser

pytestmark = pytest.mark.clock  # the dates below are read against 2026-11-25

TODAY = date(2026, 11, 25)
CLIENTS = ("Halcyon", "Globex", "Oakridge", "Quill", "Meridian", "Tallow", "Riverbend", "Harbor", "Northpeak")


@pytest.fixture(scope="module")
def parser() -> OfflineParser:
    return OfflineParser()


def _read(parser: OfflineParser, text: str) -> dict[str, Any]:
    return intent_to_dict(parser.parse(text, TODAY, CLIENTS).intent)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("put halcyon's retainer on hold until march", {"client_name": "halcyon", "paused_until": "2027-03-01"}),
        ("put the retainer with Globex on ice for two months", {"client_name": "Globex", "months": 2}),
        ("could we pause the oakridge retainer for 6 weeks", {"client_name": "oakridge", "paused_until": "2027-01-06"}),
        ("take quill off retainer for a while", {"client_name": "quill", "paused_until": None}),
        ("can we pause globexs retainer for 3 months", {"client_name": "globex", "months": 3}),
    ],
)
def test_pauses(parser: OfflineParser, text: str, expected: dict[str, Any]) -> None:
    got = _read(parser, text)
    assert got["kind"] == "retainer_pause", got
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "client", "ends_on"),
    [
        ("take quill off retainer", "quill", None),
        ("let's cancel the meridian retainer from january 1", "meridian", "2027-01-01"),
        ("tallow won't renew their retainer", "tallow", None),
        ("riverbend is not renewing the retainer after december", "riverbend", "2027-01-01"),
        ("oakridge won't be renewing their retainer", "oakridge", None),
        ("stop the monthly invoices for harbor after this month", "harbor", "2026-12-01"),
        ("no more retainer invoices for Northpeak from feb", "Northpeak", "2027-02-01"),
        ("globex doesn't want to keep the retainer", "globex", None),
    ],
)
def test_ends(parser: OfflineParser, text: str, client: str, ends_on: str | None) -> None:
    got = _read(parser, text)
    assert (got["kind"], got.get("client_name"), got.get("ends_on")) == ("retainer_end", client, ends_on), got


@pytest.mark.parametrize(
    ("text", "client"),
    [
        ("un-pause tallow", "tallow"),
        ("take Globex off hold", "Globex"),
        ("start billing northpeak again", "northpeak"),
        ("resume invoicing quill again", "quill"),
        ("resume halcyon's retainer as usual", "halcyon"),
    ],
)
def test_resumes(parser: OfflineParser, text: str, client: str) -> None:
    got = _read(parser, text)
    assert (got["kind"], got.get("client_name")) == ("retainer_resume", client), got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oakridge's retainer drops to $2,000 a month", {"client_name": "oakridge", "monthly_amount": 2000}),
        ("Meridian's monthly fee is now $4,500", {"client_name": "Meridian", "monthly_amount": 4500}),
        ("change the retainer with Tallow: 3 rounds", {"client_name": "Tallow", "revision_rounds": 3}),
        ("amend quill's retainer - bill on the 20th", {"client_name": "quill", "billing_day": 20}),
        (
            "update riverbend's retainer: $2.5k a month, 4 rounds, billed on the 5th",
            {"client_name": "riverbend", "monthly_amount": 2500, "revision_rounds": 4, "billing_day": 5},
        ),
    ],
)
def test_new_terms_for_a_named_retainer(parser: OfflineParser, text: str, expected: dict[str, Any]) -> None:
    got = _read(parser, text)
    assert got["kind"] == "update_terms", got
    assert {k: got.get(k) for k in expected} == expected


def test_a_retainer_without_a_word_for_it_is_still_a_signup(parser: OfflineParser) -> None:
    got = _read(parser, "tallow is going monthly at 2k a month")
    assert (got["kind"], got["client_name"], Decimal(str(got["monthly_amount"]))) == (
        "retainer_signup",
        "tallow",
        Decimal("2000"),
    )
    got = _read(parser, "meridian wants a monthly arrangement, $1,800 per month")
    assert (got["kind"], got["client_name"]) == ("retainer_signup", "meridian")
    # said in the negative it is no signup, and a lower-case client that is not known still names it
    assert _read(parser, "Quill doesn't want to go monthly at 2k")["kind"] != "retainer_signup"
    got = intent_to_dict(parser.parse("brackenridge agreed to go monthly at 900 a month", TODAY).intent)
    assert (got["kind"], got.get("client_name")) == ("retainer_signup", "brackenridge")


@pytest.mark.parametrize("text", ["Harbor pays within 14 days", "globex pays on receipt", "Northpeak pays net-45"])
def test_payment_terms_are_a_fact_not_a_payment(parser: OfflineParser, text: str) -> None:
    assert _read(parser, text)["kind"] == "remember_fact"


@pytest.mark.parametrize(
    "text",
    ["put my phone on hold", "cancel my netflix subscription", "take the dog off the couch", "pause the music"],
)
def test_everyday_life_is_no_retainer_change(parser: OfflineParser, text: str) -> None:
    assert _read(parser, text)["kind"] not in {"retainer_pause", "retainer_end", "retainer_resume", "update_terms"}
