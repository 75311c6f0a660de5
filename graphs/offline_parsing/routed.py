"""Fields for a kind the semantic router chose: read with the same extractors the rules use.

The rules anchor on phrasing ("invoice X for …"); a message the router classified matched none
of them, so its fields are read loosely: the client is a known client named anywhere, else the
name after a preposition or opening the message; amounts, dates and e-mails as everywhere.
Whatever cannot be read stays unset and the conversation asks for it — never guessed.
"""

from __future__ import annotations

import re

from graphs.intents import (
    INTENT_CLASSES,
    Intent,
    StatusQuery,
)
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.extract import due_date, due_spans, invoice_number, name_after, revision_count
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import PERSONAL_NAMES, NameMatch, is_known, name_key
from graphs.offline_parsing.rules_currency import currency_named
from graphs.offline_parsing.rules_work import status_topic

# Words after which a client's name comes ("invoice for Acme", "from Globex", "with Northwind").
_AFTER_RE = lazy_re(
    r"\b(?:for|from|with|about|re|w/|(?:write|reply|talk|speak|send\s+it)\s+to|bill|invoice|charge|quote|email|e-mail|mail|message|tell|ping|send|write|"
    r"drop|let|shoot|pause|unpause|resume|restart|unfreeze|freeze|suspend|halt|hold|end|cancel|stop|finish\s+up|"
    r"take|give|change|move|switch|update|raise|lower|bump|sign|onboard|add)\s+(?:the\s+)?",
    re.I,
)
# Negated, hypothetical, future or hoped-for: "Globex never paid", "if Acme pays", "will send". The
# rules read these words; an embedding does not, so the router never makes a side effect of them.
_NOT_DONE_RE = lazy_re(
    r"\b(?:never|not|no|nothing|none|\w+n'?t|cannot|if|unless|once|when|whether|might|may|maybe|perhaps|should|"
    r"would|could|will|shall|going\s+to|gonna|promised?|expect\w*|hope\w*|supposed|meant|waiting|wait|still|yet|"
    r"owes?|owed|owing|bounced|refund\w*|reversed|charged?\s*back)\b",
    re.I,
)
# "paid via PayPal", "through Stripe": the channel money or mail went through, not a client.
_CHANNEL_RE = lazy_re(r"\b(?:via|through|using|thru)\s+$", re.I)
_SUBJECT_VERB_RE = lazy_re(
    r"^(?:'s)?\s+(?:just\s+|finally\s+|has\s+|have\s+|already\s+)?(?:paid|pays|sent|signed|wants|wanted|asked|needs|is|are|"
    r"requested|came|cancell?ed|agreed|prefers|likes|hates|only|always|expects|owes|settled|transferred|cleared|"
    r"doesn't|doesnt|does|gets|got|would|will|retainer|billing|monthly)\b",
    re.I,
)
# An opening word that is a verb or a question, never a client's name.
_NOT_A_SUBJECT = frozenset(
    "what whats who whos how hows where wheres when which is are any anything show list give tell find get "
    "pull look search add put make create write draft send email mail bill charge invoice raise log mark "
    "record note remember remind set start stop end cancel pause resume new need got received can could "
    "would please do did does help hi hey ok okay thanks yes no i we they he she it my our".split()
)
MASK = "Acme"
_BILLING_DAY_RE = lazy_re(r"\b(?:on\s+the\s+)?(?P<d>[123]?\d)(?:st|nd|rd|th)\b", re.I)


def _client_match(ctx: Ctx) -> NameMatch | None:
    known = _known_client(ctx)
    if known is not None:
        found = ctx.take_name(known[0])
        if found is not None and name_key(found.name) == name_key(ctx.text[known[0] : known[1]]):
            return found
        return NameMatch(ctx.text[known[0] : known[1]], *known)
    found = name_after(ctx, _AFTER_RE)
    if found is None:
        found = ctx.take_name(0)
        # A message opens with its client only when a verb follows ("acme paid", "Vela wants …").
        if found is not None and (
            found.name.split()[0].lower() in _NOT_A_SUBJECT or not _SUBJECT_VERB_RE.match(ctx.text[found.end :])
        ):
            found = None
    return found


def _known_client(ctx: Ctx) -> tuple[int, int] | None:
    """The span of the longest of the operator's clients named in the message, any case."""
    for key in sorted(ctx.clients, key=len, reverse=True):
        m = re.search(rf"(?i)(?<!\w){re.escape(key)}(?!\w)", ctx.text)
        if m:
            return m.start(), m.end()
    return None


def _client(ctx: Ctx) -> str | None:
    found = _client_match(ctx)
    return found.name if found is not None else None


def masked(ctx: Ctx) -> str:
    """The message with its client's name replaced by one placeholder name: the router compares
    what is asked, and a name it has never seen ("Copperleaf") would only blur that. Masked: one
    of the operator's clients, or a capitalised name where a client's name stands (lower case, an
    unknown word is more often a place or a thing: masking it made everyday requests look like
    coo's)."""
    span = _known_client(ctx)
    if span is None:
        found = _client_match(ctx)
        if found is None or not found.name[:1].isupper():
            return ctx.text
        span = found.start, found.end
    return f"{ctx.text[: span[0]]}{MASK}{ctx.text[span[1] :]}"


def plainly_for_a_client(ctx: Ctx, intent: Intent) -> bool:
    """A side-effect kind the router chose stands only when the message is a plain statement or
    order (no question, negation, condition or promise) that names its client and nothing of the
    operator's private life ("my", "mum", "PayPal" that is not a client): the rules refuse those
    on purpose, and a loose reading must not undo that. Otherwise coo asks."""
    client = getattr(intent, "client_name", None)
    if client is None or ctx.is_question or _NOT_DONE_RE.search(ctx.text):
        return False
    at = ctx.text.find(client)
    if at >= 0 and _CHANNEL_RE.search(ctx.text[:at]):
        return False
    words = re.findall(r"[a-z][a-z'&-]*", ctx.low)
    return not any(w == "my" or (w in PERSONAL_NAMES and not is_known(w, ctx.clients)) for w in words)


def dates_point_back(ctx: Ctx, intent: Intent) -> bool:
    """A deliverable or task whose message names a day that is not a due date ("we spoke last
    Friday"): the rules refuse to read it, and the router does not guess one either."""
    if intent.kind not in ("add_deliverable", "add_task") or getattr(intent, "due_date", None) is not None:
        return False
    return bool(due_spans(ctx.text, ctx.today))


def build(kind: str, ctx: Ctx) -> Intent:
    """The intent of ``kind`` with every field this message states plainly; the rest left unset."""
    data: dict[str, object] = {}
    fields = INTENT_CLASSES[kind].model_fields
    if "client_name" in fields:
        data["client_name"] = _client(ctx)
    if kind == "status_query":
        client = data.get("client_name")
        return StatusQuery(
            topic=status_topic(ctx) or "summary", client_name=client if isinstance(client, str) else None
        )
    if ctx.emails:
        for name in ("contact_email", "to"):
            if name in fields:
                data[name] = ctx.emails[0]
                break
    if kind == "retainer_signup" or kind == "update_terms":
        data["monthly_amount"], currency = ctx.money("monthly_amount", prefer_unit="month")
        if kind == "retainer_signup" and currency:
            data["currency"] = currency
        data["revision_rounds"] = revision_count(ctx.text)
        day = _BILLING_DAY_RE.search(ctx.text)
        data["billing_day"] = int(day.group("d")) if day and 1 <= int(day.group("d")) <= 31 else None
    elif kind in ("record_payment", "draft_proposal"):
        data["amount"], currency = ctx.money("amount", allow_bare=kind == "record_payment")
        if currency:
            data["currency"] = currency
        if kind == "record_payment":
            data["invoice_number"] = invoice_number(ctx.text)
    elif kind in ("add_deliverable", "add_task"):
        data["due_date"] = due_date(ctx.text, ctx.today)
    elif kind == "remember_fact":
        data["fact"] = ctx.text
    elif kind == "recall":
        data["query"] = ctx.text
    elif kind == "create_invoice":
        data["due_date"] = None  # lines and dates are asked: a loose reading must not bill a wrong amount
    elif kind == "change_currency":
        # Only for one of the operator's clients, in a currency the text names: "the euro to dollar
        # exchange rate" changes no one's billing.
        client = data.get("client_name")
        if not (isinstance(client, str) and is_known(client, ctx.clients)):
            data["client_name"] = None
        data["currency"] = currency_named(ctx.text)
    cls = INTENT_CLASSES[kind]
    clean = {k: v for k, v in data.items() if v is not None and k in cls.model_fields}
    return cls.model_validate(clean)  # type: ignore[return-value]  # cls is one of the Intent union's classes
