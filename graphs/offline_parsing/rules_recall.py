"""Rules for recall: questions about what was said, sent or filed ("what did Jane say about the
logo colours?", "find the proposal for Acme", "find INV-0042"). Recall is read-only."""

from __future__ import annotations

import re

from graphs.intents import Recall
from graphs.offline_parsing.context import BUSINESS_RE, Ctx
from graphs.offline_parsing.lazy_re import lazy_re

_VERBS = (
    r"say|said|write|wrote|mention|mentioned|tell\s+(?:me|us)|ask(?:\s+for)?|asked(?:\s+for)?|"
    r"send\s+(?:me|us)|sent\s+(?:me|us)|think|reply|respond|answer|decide|agree|complain|suggest|request"
)
# "what did Jane (from Acme) say about the logo colours?", "when did Acme mention the launch?"
_SAID_RE = lazy_re(
    rf"^(?:what|when|how)\s+(?:did|does|has|had)\s+(?P<who>[\w'’&.@-]+(?:\s+[\w'’&.@-]+){{0,4}}?)\s+(?:{_VERBS})\b"
    r"(?P<rest>.*)$",
    re.I,
)
# "did Jane say anything about the budget?", "has Acme mentioned the deadline?"
_DID_SAY_RE = lazy_re(
    rf"^(?:did|has|have)\s+(?P<who>[\w'’&.@-]+(?:\s+[\w'’&.@-]+){{0,4}}?)\s+(?:{_VERBS})\s+(?:anything\s+|something\s+)?"
    r"(?:(?:about|on|regarding|re)\s+)?(?P<rest>.+)$",
    re.I,
)
# "what was said about the retainer?", "what did we agree with Acme about revisions?"
_WAS_SAID_RE = lazy_re(
    r"^what\s+(?:was|were|have\s+we|did\s+we|had\s+we)\s+(?:said|discussed|agreed|decided|"
    r"agree|decide|discuss|promise|promised|quote|quoted)\b(?P<rest>.*)$",
    re.I,
)
_DOCS = (
    r"e-?mails?|mails?|messages?|notes?|proposals?|quotes?|invoice|contracts?|briefs?|threads?|"
    r"conversations?|feedback|reports?|letters?|memos?"
)
# "find the proposal for Acme", "pull up Jane's e-mail about the launch", "where's the brief from Bob?"
_FIND_DOC_RE = lazy_re(
    r"^(?:find|search(?:\s+for)?|look\s+up|look\s+for|pull\s+up|dig\s+up|dig\s+out|fetch|locate|retrieve|"
    r"show\s+me|get\s+me|bring\s+up|where(?:'s|’s|\s+is|\s+was)|which\s+(?:e-?mail|message|note)|remind\s+me\s+what)\s+"
    r"(?:me\s+)?(?:the|that|our|my|an?|any|those|his|her|their)?\s*(?:[\w'’&.-]+(?:'s|’s)\s+)?"
    r"(?:(?:last|latest|recent|first|old|original|signed)\s+)?"
    rf"(?P<doc>{_DOCS})\b(?P<rest>.*)$",
    re.I,
)
# "find INV-0042", "search for jane@acme.example", "search memory for logo colours", "recall: budget"
_FIND_ANY_RE = lazy_re(
    r"^(?:find|search(?:\s+(?:memory|my\s+notes|the\s+archive|everything))?(?:\s+for)?|look\s+up|pull\s+up|recall)"
    r"\s*:?\s+(?P<rest>.+)$",
    re.I,
)
_CODE_RE = lazy_re(r"\b(?:INV|P)-?\d{2,}\b", re.I)
_MEMORY_WORD_RE = lazy_re(r"\b(?:memory|notes|archive|everything)\b", re.I)
_CLIENT_ANCHOR_RE = lazy_re(r"\b(?:for|from|to|with|by|at)\s+", re.I)
_NOT_CLIENT = frozenset("we i you they he she it us me them the client clients anyone someone him her".split())


def _client(ctx: Ctx, text: str, offset: int) -> str | None:
    for m in _CLIENT_ANCHOR_RE.finditer(text):
        found = ctx.take_name(offset + m.end())
        if (
            found is not None
            and found.name.lower() not in _NOT_CLIENT
            and found.name[:1].isupper()
            and not ctx.is_personal(found.name)
        ):
            return found.name
    return None


def _who(ctx: Ctx, who: str) -> str | None:
    """The speaker named in "what did X say": a client or contact name (the step decides which)."""
    parts = re.split(r"\s+(?:from|at|of)\s+", who, maxsplit=1)
    name = parts[-1].strip()
    if name.lower() in _NOT_CLIENT or not name[:1].isupper() or ctx.is_personal(name):
        return None
    return name.removesuffix("'s").removesuffix("’s")


def recall(ctx: Ctx) -> Recall | None:
    text = ctx.text
    query = text.rstrip("?!. ")
    for pattern in (_SAID_RE, _DID_SAY_RE):
        m = pattern.match(text)
        if m:
            who = _who(ctx, m.group("who")) or _client(ctx, m.group("rest"), m.start("rest"))
            return Recall(query=query, client_name=who)
    m = _WAS_SAID_RE.match(text)
    if m and (re.search(r"\b(?:about|on|regarding|with)\b", m.group("rest"), re.I)):
        return Recall(query=query, client_name=_client(ctx, m.group("rest"), m.start("rest")))
    m = _FIND_DOC_RE.match(text)
    if m:
        return Recall(query=query, client_name=_client(ctx, m.group("rest"), m.start("rest")))
    m = _FIND_ANY_RE.match(text)
    if m and (
        ctx.emails
        or _CODE_RE.search(text)
        or _MEMORY_WORD_RE.search(text[: m.start("rest")])
        or text.lower().startswith("recall")
        or BUSINESS_RE.search(m.group("rest"))
    ):
        return Recall(query=query, client_name=_client(ctx, m.group("rest"), m.start("rest")))
    return None
