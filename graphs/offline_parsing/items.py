"""Invoice line items: "12 hours of logo work at $95/h", "$2,500 for the website",
"10h design at $90/h and 2h calls at $60/h"."""

from __future__ import annotations

import re
from decimal import Decimal

from graphs.intents import LineItem
from graphs.offline_parsing.amounts import Amount, scan_amounts
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.text import clean_phrase

# Items are separated by "and", "plus", "+", ";" or commas; a piece without an amount is
# glued to its neighbour ("12 hours of logo work, $95/h").
_SPLIT_RE = lazy_re(r"\s*(?:;|,(?!\d)|\+|\band\b|\bplus\b|\balso\b)\s*", re.I)
_QTY_RE = lazy_re(
    r"(?<![\w$.])(?P<q>\d+(?:\.\d+)?)\s*(?P<u>hours?|hrs?|h|days?|d|weeks?|wks?|months?|pages?|sessions?|calls?|x)\b"
    r"(?:\s+of\b)?",
    re.I,
)
_UNIT: dict[str, str] = {
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "hour": "hour",
    "hours": "hour",
    "d": "day",
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "month": "month",
    "months": "month",
    "page": "page",
    "pages": "page",
    "session": "session",
    "sessions": "session",
    "call": "call",
    "calls": "call",
}
# Connectors that sit between quantity, description and price, never part of a description.
_EDGE_WORDS = {
    "at",
    "@",
    "of",
    "for",
    "on",
    "x",
    "times",
    "each",
    "per",
    "with",
    "and",
    "plus",
    "the",
    "a",
    "an",
    "is",
    "=",
    "total",
    "totaling",
    "totalling",
    "worth",
    "to",
    "-",
    "for:",
    "invoice",
    "rate",
    "hourly",
}
_UNIT_PRICE_CONNECTOR_RE = lazy_re(r"(?:\bat|@|\bx|\beach|\bper)\s*$", re.I)
# A rate said for one line: "at 7% VAT", "(19% tax)", "VAT 7%", "tax-free"/"no VAT" (0%).
_TAX_RE = lazy_re(
    r"[(,]?\s*(?:(?:at|with|plus|\+)\s+)?(?:(?P<r1>\d{1,2}(?:[.,]\d{1,2})?)\s*%\s*(?:vat|tax|gst|mwst|ust|sales\s+tax)"
    r"|(?:vat|tax|gst|mwst|ust)\s*(?:of\s+|at\s+)?(?P<r2>\d{1,2}(?:[.,]\d{1,2})?)\s*%"
    r"|(?P<zero>tax[- ]free|vat[- ]free|no\s+(?:vat|tax)|zero[- ]rated))\s*\)?",
    re.I,
)


def _tax_rate(segment: str) -> tuple[str, Decimal | None]:
    """The segment without its tax phrase, and the rate it names (None: none named)."""
    found = _TAX_RE.search(segment)
    if found is None:
        return segment, None
    raw = found.group("r1") or found.group("r2")
    rate = Decimal(raw.replace(",", ".")) if raw else Decimal(0)
    return (segment[: found.start()] + " " + segment[found.end() :]).strip(), rate


def _strip_edges(words: list[str]) -> list[str]:
    while words and words[0].lower() in _EDGE_WORDS:
        words = words[1:]
    while words and words[-1].lower() in _EDGE_WORDS:
        words = words[:-1]
    return words


def _segments(region: str) -> list[str]:
    """Split into pieces that each hold one explicit amount."""
    pieces = [p for p in _SPLIT_RE.split(region) if p and p.strip()]
    merged: list[str] = []
    pending = ""
    for piece in pieces:
        has_amount = any(a.explicit or a.rate_unit for a in scan_amounts(piece)[0])
        if has_amount:
            merged.append((pending + " " + piece).strip())
            pending = ""
        else:
            pending = (pending + " " + piece).strip()
    if pending and merged:
        merged[-1] = merged[-1] + " " + pending
    return merged


def _item_from_segment(segment: str, default_description: str) -> LineItem | None:
    segment, tax_rate = _tax_rate(segment)
    amounts = [a for a in scan_amounts(segment)[0] if a.explicit or a.rate_unit]
    if not amounts:
        return None
    amount: Amount = amounts[0]
    before = segment[: amount.start]
    rest = segment[: amount.start] + " " + segment[amount.rate_end or amount.end :]
    quantity = Decimal("1")
    unit = amount.rate_unit if amount.rate_unit in ("hour", "day", "week", "month", "page") else None
    qty = _QTY_RE.search(rest)
    per_unit = bool(amount.rate_unit) or bool(_UNIT_PRICE_CONNECTOR_RE.search(before))
    if qty and per_unit:
        quantity = Decimal(qty.group("q"))
        qunit = _UNIT.get(qty.group("u").lower())
        unit = qunit or unit
        rest = rest[: qty.start()] + " " + rest[qty.end() :]
    description = " ".join(_strip_edges(clean_phrase(rest).split()))
    description = clean_phrase(description) or default_description
    return LineItem(description=description, quantity=quantity, unit_price=amount.value, unit=unit, tax_rate=tax_rate)


def parse_items(region: str, default_description: str = "Services") -> list[LineItem]:
    """Line items found in ``region`` (the part of the message after the client's name)."""
    items: list[LineItem] = []
    for segment in _segments(region):
        item = _item_from_segment(segment, default_description)
        if item is not None:
            items.append(item)
    return items
