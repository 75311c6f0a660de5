"""Rule for "a deliverable was delivered": "the homepage mockups for Acme are done",
"Acme's logo is finished", "delivered the brand guide to Acme", "mark the logo for Acme as done",
"finished the logo for Acme last Friday" (a date closing it is when: the past one).

Conservative on purpose: it needs a client name and a finished-verb at the end, so questions
("is the logo for Acme done?") and plans ("the logo for Acme will be done Friday") are not it.
"""

from __future__ import annotations

import re
from datetime import date

from graphs.intents import DeliverableDone
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import find_date
from graphs.offline_parsing.extract import strip_article
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import take_name

_FINISHED = r"(?:done|finished|delivered|complete|completed|shipped|sent\s+over)"
_IS = r"(?:is|are|was|were|has\s+been|have\s+been|'s|’s)"
_END = r"\s*(?:now|today|already)?\s*[.!]*\s*$"

# "the homepage mockups for Acme are done" — the title before "for <Client>"
_FOR_CLIENT_RE = lazy_re(r"^(?:mark\s+)?(?:the\s+)?(?P<title>.+?)\s+(?:for|of)\s+(?=\S)", re.I)
_TAIL_RE = lazy_re(rf"^\s*(?:{_IS}\s+(?:now\s+|all\s+)?{_FINISHED}|(?:as\s+)?{_FINISHED}){_END}", re.I)
# "delivered the brand guide to Acme", "finished the logo for Acme"
_VERB_FIRST_RE = lazy_re(
    r"^(?:i\s+(?:have\s+|just\s+)?|just\s+)?(?:delivered|finished|completed|shipped)\s+"
    r"(?:the\s+)?(?P<title>.+?)\s+(?:for|to)\s+",
    re.I,
)
# "Acme's logo is done"
_POSSESSIVE_TITLE_RE = lazy_re(rf"^\s*(?P<title>.+?)\s+{_IS}\s+(?:now\s+|all\s+)?{_FINISHED}{_END}", re.I)


# What leads a closing date: "… on Tuesday", "…, Nov 20", "… as of yesterday".
_DATE_LEAD_RE = lazy_re(r"(?:[\s,]+(?:on|as\s+of))?[\s,]*$", re.I)


def _client(ctx: Ctx, text: str, start: int) -> tuple[str, int] | None:
    found = take_name(text, start, known=ctx.clients)
    if found is None or ctx.is_personal(found.name) or not found.name[:1].isupper():
        return None
    return found.name, found.end


def _closing_date(ctx: Ctx) -> tuple[str, date | None] | None:
    """The statement without a date closing it, and that date: work done was done on or before
    today, so "Tuesday" is the last one. None when the date is a future one ("… done tomorrow")."""
    found = find_date(ctx.text, ctx.today, past=True)
    if found is None or found.value is None or not re.fullmatch(_END, ctx.text[found.end :]):
        return ctx.text, None
    if found.value > ctx.today:
        return None
    return _DATE_LEAD_RE.sub("", ctx.text[: found.start]), found.value


def deliverable_done(ctx: Ctx) -> DeliverableDone | None:
    if ctx.is_question:
        return None
    closing = _closing_date(ctx)
    if closing is None:
        return None
    text, done_on = closing
    m = _FOR_CLIENT_RE.match(text)
    if m:
        client = _client(ctx, text, m.end())
        if client and _TAIL_RE.match(text[client[1] :]):
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")), done_on=done_on)
    m = _VERB_FIRST_RE.match(text)
    if m:
        client = _client(ctx, text, m.end())
        if client and re.fullmatch(_END, text[client[1] :]):
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")), done_on=done_on)
    client = _client(ctx, text, 0)
    if client and text[client[1] : client[1] + 2] in ("'s", "’s"):
        m = _POSSESSIVE_TITLE_RE.match(text[client[1] + 2 :])
        if m:
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")), done_on=done_on)
    return None
