"""The currency a client is billed in from now on.

"Globex is billed in EUR from now on", "bill Acme in euros going forward", "switch Globex to GBP",
"change Acme's currency to CHF", "Globex's currency is now EUR", "invoice Globex in pounds from
now on". A currency named by its code or its word (euros, pounds, dollars, francs); a money
amount ("bill Acme €500") is an invoice, never this.
"""

from __future__ import annotations

import re

from graphs.intents import ChangeCurrency
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.lazy_re import lazy_re

_CURRENCIES = {
    "usd": "USD", "dollar": "USD", "dollars": "USD", "us dollars": "USD",
    "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "pounds sterling": "GBP",
    "chf": "CHF", "franc": "CHF", "francs": "CHF", "swiss francs": "CHF",
    "cad": "CAD", "canadian dollars": "CAD", "aud": "AUD", "australian dollars": "AUD",
    "nzd": "NZD", "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN", "czk": "CZK", "jpy": "JPY", "inr": "INR",
}  # fmt: skip
_CUR = (
    r"(?P<cur>us\s+dollars|canadian\s+dollars|australian\s+dollars|swiss\s+francs|pounds\s+sterling|"
    r"dollars?|euros?|pounds?|sterling|francs?|usd|eur|gbp|chf|cad|aud|nzd|sek|nok|dkk|pln|czk|jpy|inr)"
)
_WHO = r"(?P<who>[^,.;:!?]+?)"
_FORWARD = r"(?:\s+(?:from\s+now\s+on|going\s+forward|from\s+here\s+on(?:\s+out)?|now|instead|for\s+new\s+invoices|"
_FORWARD += r"from\s+today|on\s+new\s+invoices|in\s+future|in\s+the\s+future))*\s*[.!]*$"
_PATTERNS = (
    # "Globex is billed in EUR from now on", "Globex pays in euros now", "Globex gets invoiced in GBP"
    lazy_re(
        rf"^{_WHO}\s+(?:is|are|will\s+be|gets?|should\s+be)\s+(?:billed|invoiced|charged)\s+in\s+{_CUR}{_FORWARD}",
        re.I,
    ),
    lazy_re(rf"^{_WHO}\s+(?:pays?|wants?\s+to\s+pay|will\s+pay)\s+in\s+{_CUR}(?:\s+now)?{_FORWARD}", re.I),
    # "bill Acme in euros going forward", "invoice Globex in GBP from now on"
    lazy_re(rf"^(?:please\s+)?(?:bill|invoice|charge)\s+{_WHO}\s+in\s+{_CUR}{_FORWARD}", re.I),
    # "switch Globex to GBP", "move Acme over to euros", "change Acme's currency to CHF"
    lazy_re(
        rf"^(?:please\s+)?(?:switch|move|change|set|put)\s+{_WHO}(?:['’]s)?\s+(?:(?:billing\s+|invoice\s+)?currency\s+)?"
        rf"(?:over\s+)?(?:to|into|as)\s+{_CUR}{_FORWARD}",
        re.I,
    ),
    # "Globex's currency is now EUR", "Acme's billing currency is GBP from now on"
    lazy_re(
        rf"^{_WHO}['’]s\s+(?:billing\s+|invoice\s+|invoicing\s+)?currency\s+(?:is|will\s+be|becomes|should\s+be)\s+"
        rf"(?:now\s+)?{_CUR}{_FORWARD}",
        re.I,
    ),
)


_ANY_CUR = lazy_re(rf"\b{_CUR}\b", re.I)


def currency_named(text: str) -> str | None:
    """The one currency a text names by code or word ("euros" → "EUR"); None for none or several."""
    found = {_CURRENCIES.get(re.sub(r"\s+", " ", m.group("cur").lower())) for m in _ANY_CUR.finditer(text)}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def change_currency(ctx: Ctx) -> ChangeCurrency | None:
    if ctx.amounts and any(a.value for a in ctx.explicit_amounts()):
        return None  # "bill Acme €500 in euros": an amount is an invoice
    for pattern in _PATTERNS:
        m = pattern.match(ctx.text)
        if m is None:
            continue
        currency = _CURRENCIES.get(re.sub(r"\s+", " ", m.group("cur").lower()))
        if currency is None:
            return None
        found = ctx.take_name(m.start("who"))
        name = found.name.removesuffix("'s").removesuffix("’s") if found else None
        raw = m.group("who").strip()
        if name is None or ctx.is_personal(name) or raw.lower().split()[0] in ("my", "me", "i", "we", "our", "us"):
            return None
        return ChangeCurrency(client_name=name, currency=currency)
    return None
