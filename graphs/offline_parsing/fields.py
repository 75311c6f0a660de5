"""Read the answer to a clarifying question about one field ("parse_field")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from graphs.intents import LineItem
from graphs.offline_parsing.amounts import parse_amount_text
from graphs.offline_parsing.dates import find_day_of_month, parse_date_text
from graphs.offline_parsing.extract import revision_count
from graphs.offline_parsing.items import parse_items
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import EMAIL_RE, clean_client_name, client_keys
from graphs.offline_parsing.rules_currency import currency_named
from graphs.offline_parsing.rules_invoices import invoice_number
from graphs.offline_parsing.rules_retainer import read_yes_no
from graphs.offline_parsing.text import clean_phrase, normalise

_INT_RE = lazy_re(r"^\s*(?P<n>\d{1,3})\s*(?:st|nd|rd|th)?\s*$", re.I)
_WORDS_TO_INT: dict[str, int] = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "unlimited": 0}


def _client_name(text: str, today: date, clients: Iterable[str] = ()) -> str:
    name = clean_client_name(text, client_keys(clients))
    if name is None:
        raise ValueError(f"\"{text.strip()}\" doesn't look like a client name — what's the client called?")
    return name


def _email(text: str, today: date) -> str:
    m = EMAIL_RE.search(text)
    if not m:
        raise ValueError(f'I can\'t find an e-mail address in "{text.strip()}" — something like jane@acme.com.')
    return m.group(0)


def _amount(text: str, today: date) -> Decimal:
    return parse_amount_text(text)[0]


def _items(text: str, today: date) -> list[LineItem]:
    items = parse_items(normalise(text))
    if not items:
        raise ValueError(
            f'I can\'t read "{text.strip()}" as invoice lines — try "12 hours of logo work at $95/h" or "$2,500 for the website".'
        )
    return items


def _text(field: str) -> Callable[[str, date], str]:
    def read(text: str, today: date) -> str:
        value = clean_phrase(normalise(text))
        if not value:
            raise ValueError(f"I didn't get a {field} — could you type it again?")
        return value

    return read


def _currency(text: str, today: date) -> str:
    """ "euros", "EUR", "in pounds" → the ISO code."""
    code = currency_named(text)
    if code is None:
        raise ValueError(f'I can\'t read "{text.strip()}" as one currency — e.g. EUR, GBP, USD or "euros".')
    return code


def _billing_day(text: str, today: date) -> int:
    m = _INT_RE.match(text)
    day = int(m.group("n")) if m else None
    if day is None:
        found = find_day_of_month(text) or find_day_of_month("on the " + text.strip())
        day = found.days if found else None
    if day is None or not 1 <= day <= 31:
        raise ValueError(f'I can\'t read "{text.strip()}" as a day of the month — e.g. "the 1st" or 15.')
    return day


def _revisions(text: str, today: date) -> int:
    stripped = text.strip().lower().rstrip(".")
    if stripped.isdigit():
        return int(stripped)
    if stripped in _WORDS_TO_INT:
        return _WORDS_TO_INT[stripped]
    found = revision_count(text)
    if found is None:
        raise ValueError(f'I can\'t read "{text.strip()}" as a number of revision rounds — e.g. 2.')
    return found


def _invoice_number(text: str, today: date) -> str:
    found = invoice_number(text if not text.strip().isdigit() else f"INV-{text.strip()}")
    if found is None:
        raise ValueError(f'I can\'t read "{text.strip()}" as an invoice number — e.g. INV-0007.')
    return found


READERS: dict[str, Callable[[str, date], Any]] = {
    "invoice_number": _invoice_number,
    "client_name": _client_name,
    "confirmed": read_yes_no,  # graphs/confirm.py: "change Acme's retainer?" yes / no
    "contact_email": _email,
    "to": _email,
    "monthly_amount": _amount,
    "amount": _amount,
    "hourly_rate": _amount,
    "items": _items,
    "due_date": parse_date_text,
    "title": _text("title"),
    "fact": _text("fact"),
    "body": _text("message"),
    "scope": _text("scope"),
    "subject": _text("subject"),
    "contact_name": _text("contact name"),
    "new_name": _text("new name"),
    "billing_day": _billing_day,
    "currency": _currency,
    "revision_rounds": _revisions,
    "revision_limit": _revisions,
}


def parse_field(field: str, text: str, today: date, clients: Iterable[str] = ()) -> Any:
    """Typed value for ``field`` read from an answer; ValueError with an operator-facing message.
    ``clients``: the operator's client names ("Google" answers "which client?" once it is one)."""
    reader = READERS.get(field)
    if reader is None:
        raise ValueError(f"I don't know how to read an answer for {field!r}.")
    if not text or not text.strip():
        raise ValueError("That answer was empty — could you type it again?")
    if field == "client_name":
        return _client_name(text, today, clients)
    return reader(text, today)
