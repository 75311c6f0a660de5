"""Rule for "a deliverable was delivered": "the homepage mockups for Acme are done",
"Acme's logo is finished", "delivered the brand guide to Acme", "mark the logo for Acme as done".

Conservative on purpose: it needs a client name and a finished-verb at the end, so questions
("is the logo for Acme done?") and plans ("the logo for Acme will be done Friday") are not it.
"""

from __future__ import annotations

import re

from graphs.intents import DeliverableDone
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.extract import strip_article
from graphs.offline_parsing.lazy_re import lazy_re

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


def _client(ctx: Ctx, start: int) -> tuple[str, int] | None:
    found = ctx.take_name(start)
    if found is None or ctx.is_personal(found.name) or not found.name[:1].isupper():
        return None
    return found.name, found.end


def deliverable_done(ctx: Ctx) -> DeliverableDone | None:
    if ctx.is_question:
        return None
    text = ctx.text
    m = _FOR_CLIENT_RE.match(text)
    if m:
        client = _client(ctx, m.end())
        if client and _TAIL_RE.match(text[client[1] :]):
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")).strip())
    m = _VERB_FIRST_RE.match(text)
    if m:
        client = _client(ctx, m.end())
        if client and re.fullmatch(_END, text[client[1] :]):
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")).strip())
    client = _client(ctx, 0)
    if client and text[client[1] : client[1] + 2] in ("'s", "’s"):
        m = _POSSESSIVE_TITLE_RE.match(text[client[1] + 2 :])
        if m:
            return DeliverableDone(client_name=client[0], title=strip_article(m.group("title")).strip())
    return None
