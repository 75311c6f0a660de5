"""Rules for what coo remembers about a client: the profile question ("what do we know about
Acme?") and follow-ups that change a retainer's terms ("bill them on the 15th instead").

A follow-up may name the client or say "them"; the conversation fills "them" in from the
thread's working memory. Neither intent sends anything anywhere.
"""

from __future__ import annotations

import re
from datetime import date

from graphs.intents import ClientProfile, RevisionRequest, UpdateTerms
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import find_date, find_day_of_month
from graphs.offline_parsing.extract import revision_count, subject_name
from graphs.offline_parsing.lazy_re import lazy_re

PRONOUNS = frozenset("them they their theirs him her his it its this that".split())

_PROFILE_RE = lazy_re(
    r"^(?:what\s+do\s+(?:we|i|you)\s+know\s+about|what\s+(?:do|did)\s+(?:we|i)\s+have\s+on|"
    r"tell\s+me\s+(?:everything\s+|all\s+)?about|who\s+is|who's|whos|remind\s+me\s+(?:who|about)|"
    r"(?:show\s+(?:me\s+)?)?(?:the\s+)?(?:client\s+)?profile\s+(?:for|of)|brief\s+me\s+on|fill\s+me\s+in\s+on)\s+"
    r"(?:the\s+client\s+)?",
    re.I,
)
_PROFILE_POSSESSIVE_RE = lazy_re(r"^(?:show\s+(?:me\s+)?)?(?P<name>.+?)['’]s\s+(?:client\s+)?profile\b", re.I)

# "bill them on the 15th instead", "invoice Acme on the 20th from now on"
_BILL_ON_RE = lazy_re(
    r"^(?:actually,?\s+|ok,?\s+|and\s+)?(?:please\s+)?(?:bill|invoice|charge)\s+(?P<who>.+?)\s+"
    r"(?:on|every)\s+the\s+\d",
    re.I,
)
# "change/move/switch/set their billing day to the 15th", "move Acme's billing date to the 20th"
_BILLING_DAY_RE = lazy_re(
    r"^(?:actually,?\s+|ok,?\s+)?(?:please\s+)?(?:change|move|switch|set|make)\s+"
    r"(?P<who>.+?)(?:['’]s)?\s+billing(?:\s+(?:day|date))?\s+to\b",
    re.I,
)
# "make it $4,500 a month instead", "raise Acme's retainer to $5k", "bump their retainer to 4.5k"
_AMOUNT_RE = lazy_re(
    r"^(?:actually,?\s+|ok,?\s+)?(?:please\s+)?(?:make\s+it|change\s+it\s+to|"
    r"(?:raise|lower|bump|increase|reduce|drop|change|set)\s+(?P<who>.+?)(?:['’]s)?\s+"
    r"(?:retainer|monthly\s+fee|fee|rate)\s+to)\b",
    re.I,
)
# "actually 2 revision rounds", "make it 4 rounds", "only 2 revisions for them"
_ROUNDS_RE = lazy_re(
    r"^(?:actually,?\s+|make\s+it\s+|change\s+it\s+to\s+|only\s+)\d+\s+(?:design\s+|revision\s+)?"
    r"(?:rounds?|revisions?)\b",
    re.I,
)
# "update Pinecrest's retainer: 2 rounds, billed on the 10th", "change the retainer with Acme to $5k"
_UPDATE_RETAINER_RE = lazy_re(
    r"^(?:actually,?\s+|ok,?\s+)?(?:please\s+)?(?:update|change|adjust|amend|revise|edit|modify|tweak)\s+"
    r"(?:the\s+retainer\s+(?:with|for|of)\s+(?P<who2>[^:,.;]+?)|(?P<who>[^:,.;]+?)(?:['’]s)?\s+retainer)"
    r"(?:\s+terms)?\s*(?:[:,\-]|\bto\b|\bwith\b|\bso\b)",
    re.I,
)
# "Vela's retainer goes up to $3,500 a month", "Acme's monthly fee is now $5k", "Globex's retainer drops to 2 rounds"
_RETAINER_MOVES_RE = lazy_re(
    r"^(?P<who>[^:,.;]+?)(?:['’]s)?\s+(?:monthly\s+)?(?:retainer(?:\s+fee)?|monthly\s+fee)\s+"
    r"(?:(?:goes|is\s+going|went|will\s+go|has\s+gone)\s+(?:up|down)\s+to|is\s+now|becomes|will\s+be|"
    r"(?:increases|rises|drops|falls|changes|moves|is\s+changing|is\s+moving|is\s+increasing|is\s+dropping)\s+to)\b",
    re.I,
)
_MONTHLY_RE = lazy_re(r"\b(?:a|per|/)\s*(?:month|mo)\b|\bmonthly\b|\bretainer\b", re.I)
_INSTEAD_RE = lazy_re(r"\b(?:instead|from\s+now\s+on|going\s+forward|actually)\b", re.I)


def _client(ctx: Ctx, who: str | None, start: int) -> tuple[str | None, bool]:
    """(client name or None, the operator pointed at the thread's client with a pronoun)."""
    if who is None:
        return None, True
    word = who.strip().lower()
    if word in PRONOUNS:
        return None, True
    found = ctx.take_name(start)
    if found is None or ctx.is_personal(found.name) or found.name.lower() in PRONOUNS:
        return None, False
    return found.name.removesuffix("'s").removesuffix("’s"), False


# Only these phrasings are unambiguous enough to accept a lowercase name ("what do we know
# about acme"); "who is …" / "tell me about …" need a capitalised one, or they catch small talk.
_ANY_CASE_RE = lazy_re(
    r"^(?:what\s+do\s+(?:we|i)\s+know|what\s+(?:do|did)\s+(?:we|i)\s+have|"
    r"(?:show\s+(?:me\s+)?)?(?:the\s+)?(?:client\s+)?profile)",
    re.I,
)


def profile(ctx: Ctx) -> ClientProfile | None:
    m = _PROFILE_RE.match(ctx.text)
    if m:
        found = ctx.take_name(m.end())
        if found and not (found.name[:1].isupper() or _ANY_CASE_RE.match(ctx.text)):
            found = None
        if found and not ctx.is_personal(found.name) and found.name.lower() not in PRONOUNS:
            return ClientProfile(client_name=found.name.removesuffix("'s").removesuffix("’s"))
        rest = ctx.text[m.end() :].strip(" ?.!").lower()
        if rest in PRONOUNS or rest in ("this client", "that client"):
            return ClientProfile()
        return None
    m = _PROFILE_POSSESSIVE_RE.match(ctx.text)
    if m:
        found = ctx.take_name(m.start("name"))
        if found and not ctx.is_personal(found.name):
            return ClientProfile(client_name=found.name.removesuffix("'s").removesuffix("’s"))
    return None


def update_terms(ctx: Ctx) -> UpdateTerms | None:
    text = ctx.text
    for pattern in (_BILL_ON_RE, _BILLING_DAY_RE):
        m = pattern.match(text)
        if m:
            day = find_day_of_month(text[m.start("who") :] if pattern is _BILL_ON_RE else "on " + text[m.end() :])
            if day is None or not day.days:
                return None
            name, pronoun = _client(ctx, m.group("who"), m.start("who"))
            if name is None and not pronoun:
                return None
            if pattern is _BILL_ON_RE and not (pronoun or _INSTEAD_RE.search(text)):
                return None  # "bill Acme on the 1st" with no follow-up sense is an invoice request
            return UpdateTerms(client_name=name, billing_day=day.days)
    m = _AMOUNT_RE.match(text)
    if m and ctx.amounts and (_MONTHLY_RE.search(text) or m.group("who")):
        name, pronoun = _client(ctx, m.group("who"), m.start("who")) if m.group("who") else (None, True)
        if name is None and not pronoun:
            return None
        return UpdateTerms(client_name=name, monthly_amount=ctx.amounts[0].value)
    if _ROUNDS_RE.match(text):
        rounds = revision_count(text)
        if rounds is not None:
            return UpdateTerms(revision_rounds=rounds)
    return _named_retainer_terms(ctx)


def _named_retainer_terms(ctx: Ctx) -> UpdateTerms | None:
    """New terms for a retainer the message names ("update X's retainer: …", "X's retainer goes
    up to …"): every term it states (fee, rounds, billing day); None when it states none."""
    for pattern in (_UPDATE_RETAINER_RE, _RETAINER_MOVES_RE):
        m = pattern.match(ctx.text)
        if m is None:
            continue
        who = "who" if m.group("who") else "who2"
        name, pronoun = _client(ctx, m.group(who), m.start(who))
        if name is None and not pronoun:
            return None
        rest = ctx.text[m.end() :]
        amounts = [a for a in ctx.amounts if a.start >= m.end() and (a.explicit or a.rate_unit == "month")]
        day = find_day_of_month(rest)
        rounds = revision_count(rest)
        if not amounts and rounds is None and (day is None or not day.days):
            return None
        return UpdateTerms(
            client_name=name,
            monthly_amount=amounts[0].value if amounts else None,
            revision_rounds=rounds,
            billing_day=day.days if day and day.days else None,
        )
    return None


# "Acme asked for another revision of the logo", "Acme wants a third round on the homepage",
# "Acme requested changes to the brochure: darker blue", "revision request from Acme: bigger type"
_REVISION_VERBS_RE = lazy_re(
    r"(?:asked\s+for|asks\s+for|wants|requested|requests|needs|sent)\s+(?:an?\s+|another\s+|one\s+more\s+|"
    r"a\s+(?:new|second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+|more\s+)?(?:round\s+of\s+)?"
    r"(?:revisions?|changes|edits|rounds?(?:\s+of\s+(?:revisions?|changes|edits))?)\b",
    re.I,
)
_REVISION_FROM_RE = lazy_re(r"^(?:new\s+)?(?:revision|change)\s+request\s+from\s+", re.I)
_ABOUT_RE = lazy_re(r"^\s*(?:of|on|to|for)\s+(?:the\s+|our\s+|their\s+)?(?P<what>[^:,.;]+?)\s*(?:[:,.;]|$)", re.I)


def _without_date(ctx: Ctx, text: str, offset: int) -> tuple[str, date | None]:
    """``text`` (found at ``offset`` of the message) without its date phrase, and that date: a
    request reported was made on or before today ("on Monday" is the last Monday)."""
    found = find_date(ctx.text, ctx.today, past=True)
    if found is None or found.value is None or found.start < offset or found.value > ctx.today:
        return text, None
    before, said = ctx.text[: found.start], ctx.text[found.start : found.end]
    if re.search(r"(?i)\b(?:by|before|until|till|due)\s*$", before) or re.match(r"(?i)(?:by|until|till|due)\b", said):
        return text, None  # "changes to the logo by Friday": a deadline, not when it was asked
    start, end = found.start - offset, found.end - offset
    head = re.sub(r"(?i)(?:\s+(?:on|as\s+of))?\s*$", "", text[:start])
    return head + text[end:], found.value


def revision_request(ctx: Ctx) -> RevisionRequest | None:
    text = ctx.text
    m = _REVISION_FROM_RE.match(text)
    if m:
        found = ctx.take_name(m.end())
        if found is None or ctx.is_personal(found.name):
            return None
        rest, when = _without_date(ctx, text[found.end :], found.end)
        note = rest.lstrip(" :,-").strip() or None
        return RevisionRequest(client_name=found.name, note=note, requested_on=when)
    found = subject_name(ctx, _REVISION_VERBS_RE)
    if found is None or ctx.is_personal(found.name) or found.name.lower() in PRONOUNS:
        return None
    verb = _REVISION_VERBS_RE.search(text, found.end)
    assert verb is not None
    rest, when = _without_date(ctx, text[verb.end() :], verb.end())
    about = _ABOUT_RE.match(rest)
    note = rest[about.end() :].strip() if about else rest.lstrip(" :,-").strip()
    return RevisionRequest(
        client_name=found.name,
        deliverable=about.group("what").strip() if about else None,
        note=note or None,
        requested_on=when,
    )
