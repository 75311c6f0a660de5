"""Rules for the intents without side effects: help, tasks, status, facts, clients, deliverables."""

from __future__ import annotations

import re

from graphs.intents import AddDeliverable, AddTask, Help, NewClient, RememberFact, StatusQuery, StatusTopic
from graphs.offline_parsing.context import BUSINESS_RE, Ctx
from graphs.offline_parsing.dates import find_day_of_month
from graphs.offline_parsing.extract import (
    due_date,
    name_after,
    remove_dates,
    revision_count,
    strip_article,
    subject_name,
)
from graphs.offline_parsing.lazy_re import LazyPattern, lazy_re
from graphs.offline_parsing.names import BOUNDARY_WORDS, NameMatch, find_contact
from graphs.offline_parsing.text import clean_phrase

# --- help ----------------------------------------------------------------------------------
_HELP_RE = lazy_re(
    r"^(?:help(?:\s+me)?|h|\?+|menu|commands|options|"
    # "what can you do (for me)?", "what else can coo help (me) with?", "what do you help with"
    r"what\s+(?:else\s+|exactly\s+|kind\s+of\s+(?:things|stuff)\s+|things\s+|stuff\s+)?"
    r"(?:can|could|do)\s+(?:you|coo)\s+(?:really\s+|actually\s+)?(?:do|help(?:\s+(?:me|us))?(?:\s+with)?)|"
    r"how\s+(?:can|could|do)\s+(?:you|coo)\s+help(?:\s+(?:me|us))?|"
    r"what\s+can\s+i\s+(?:ask|say|do)(?:\s+(?:you|here))?|how\s+does\s+(?:this|coo|it)\s+work|"
    r"how\s+(?:do|can|should)\s+i\s+(?:use|work\s+with|talk\s+to)\s+(?:this(?:\s+(?:bot|thing|app))?|you|coo|it)|"
    r"what\s+are\s+(?:your|the)\s+(?:features|commands|options)|"
    r"what\s+are\s+you(?:\s+(?:for|good\s+for|able\s+to\s+do))?|who\s+are\s+you|usage|start|/start|/help|hello|hi|hey)"
    r"(?:\s+(?:for\s+(?:me|us)|here|exactly|again|today|now))?[\s?!.]*$",
    re.I,
)


def help_(ctx: Ctx) -> Help | None:
    """ "help", "what can you do?", "?"."""
    return Help() if _HELP_RE.match(ctx.text) or ctx.text.strip() == "?" else None


# --- remember a fact -----------------------------------------------------------------------
_FACT_LEAD_RE = lazy_re(
    r"^(?:remember|note|fyi|keep\s+in\s+mind|for\s+the\s+record|heads\s+up|memo|noted|save\s+this|"
    r"make\s+a\s+note|take\s+note|jot\s+down|store\s+this)(?:\s+that)?(?!\s+to\b)\s*(?:[:,\-]\s*|\s+)",
    re.I,
)
_FACT_ABOUT_RE = lazy_re(r"^(?:for|about|re|on)\s+", re.I)
_FACT_STATEMENT_RE = lazy_re(
    r"(?:'s)?\s*(?:(?:only\s+)?(?:allows?|prefers?|likes?|wants?|uses?|pays?|hates?|requires?|needs?\s+(?:\d|only|max))|"
    r"(?:hourly\s+)?rate\s+is|contact\s+is|billing\s+day\s+is|is\s+on\s+net|always|never|doesn't|does\s+not)\b",
    re.I,
)
_CHANNEL_RE = lazy_re(
    r"\b(?P<c>slack|e-?mail|phone|whatsapp|text(?:\s+messages?)?|sms|telegram|teams|zoom|signal|calls?)\b", re.I
)
_CHANNEL_CONTEXT_RE = lazy_re(
    r"\b(?:prefer|prefers|preferred|likes?|best|reach|contact|via|use|uses|over|only|through|on)\b", re.I
)
_CHANNELS: dict[str, str] = {
    "e-mail": "email",
    "text": "sms",
    "texts": "sms",
    "text message": "sms",
    "text messages": "sms",
    "call": "phone",
    "calls": "phone",
}


def remember_fact(ctx: Ctx) -> RememberFact | None:
    """ "remember that Acme allows only 2 revision rounds and prefers Slack", "note: …"."""
    if _FACT_LEAD_RE.match(ctx.text) is None:
        return None
    return _fact(ctx)


def client_statement(ctx: Ctx) -> RememberFact | None:
    """ "Kestrel prefers WhatsApp", "Lumen Co's hourly rate is $120" (no "remember" needed).

    Tried after every other rule: "Acme wants a proposal" is a proposal, not a fact.
    """
    if _FACT_LEAD_RE.match(ctx.text) is not None:
        return None
    return _fact(ctx)


def _fact(ctx: Ctx) -> RememberFact | None:
    lead = _FACT_LEAD_RE.match(ctx.text)
    fact_start = lead.end() if lead else 0
    body = ctx.text[fact_start:]
    about = _FACT_ABOUT_RE.match(body)
    client: NameMatch | None = None
    if about:
        client = ctx.take_name(fact_start + about.end())
        if client is not None:
            fact_start = client.end
            tail = re.match(r"\s*[:,\-]\s*", ctx.text[fact_start:])
            fact_start = fact_start + tail.end() if tail else client.start
    if client is None:
        client = ctx.take_name(fact_start)
        if lead is None and (client is None or not _FACT_STATEMENT_RE.match(ctx.text[client.end :])):
            return None
    if lead is None and ctx.is_question:
        return None
    fact = clean_phrase(ctx.text[fact_start:]) or None
    if fact is None:
        return None
    channel = None
    cm = _CHANNEL_RE.search(fact)
    if cm and _CHANNEL_CONTEXT_RE.search(fact):
        channel = _CHANNELS.get(cm.group("c").lower(), cm.group("c").lower())
    rate = next((a.value for a in ctx.amounts if a.rate_unit == "hour"), None)
    if rate is None and re.search(r"(?i)\brate\b", fact):
        rate = next((a.value for a in ctx.explicit_amounts()), None)
    day = None
    if re.search(r"(?i)\b(?:bill|billing|invoice|invoiced|pay|pays|paid)\b", fact):
        found = find_day_of_month(fact)
        day = found.days if found else None
    _, contact_email = find_contact(fact)
    return RememberFact(
        client_name=client.name if client else None,
        fact=fact,
        revision_limit=revision_count(fact),
        preferred_channel=channel,
        hourly_rate=rate,
        billing_day=day,
        contact_email=contact_email,
    )


# --- tasks ---------------------------------------------------------------------------------
_TASK_LEAD_RE = lazy_re(
    r"^(?:remind\s+me\s+(?:[^.?!]{0,30}?\s+)??(?:to|that|about)\b|reminder\s*(?:to\b|:)?|to-?dos?\s*:?|to\s+do\s*:|task\s*:|"
    r"add\s+(?:a\s+)?(?:new\s+)?(?:task|to-?do|reminder)\s*(?:to\b|:)?|new\s+(?:task|to-?do)\s*:?|"
    r"(?:don't|dont|do\s+not)\s+(?:let\s+me\s+)?forget\s+to|(?:i\s+need\s+to\s+)?remember\s+to|note\s+to\s+self\s*:?|"
    r"put\s+(?=.+\bon\s+my\s+(?:to-?do|task)\s+list)|add\s+(?=.+\bto\s+my\s+(?:to-?do|task)\s+list)|"
    r"i\s+(?:need|have|gotta|got)\s+to\s+(?=.*\b(?:today|tomorrow|tonight|by|before|next|this)\b))\s*",
    re.I,
)
_TASK_TAIL_RE = lazy_re(
    r"\s*(?:on|to)\s+my\s+(?:to-?do|task)\s+list\b.*$|\s+at\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)?\b", re.I
)


def task(ctx: Ctx) -> AddTask | None:
    """ "remind me to call the accountant tomorrow", "todo: renew domain next week"."""
    lead = _TASK_LEAD_RE.match(ctx.text)
    if lead is None:
        return None
    rest = ctx.text[lead.end() :]
    when = due_date(ctx.text, ctx.today)  # "remind me tomorrow to …" has the date in the lead
    title = clean_phrase(_TASK_TAIL_RE.sub("", remove_dates(rest, ctx.today))) or None
    return AddTask(title=title, due_date=when)


# --- status --------------------------------------------------------------------------------
_TOPICS: tuple[tuple[StatusTopic, LazyPattern], ...] = (
    (
        "approvals",
        lazy_re(
            r"\b(?:approv\w*|sign-?offs?|pending\s+(?:drafts?|emails?|actions?)|waiting\s+(?:on|for)\s+me|need(?:s)?\s+my\s+(?:ok|okay|sign|go))\b|\bdrafts?\b",
            re.I,
        ),
    ),
    (
        "overdue",
        lazy_re(
            r"\b(?:overdue|past\s+due|late\s+(?:payments?|invoices?|on\s+pay\w*)|behind\s+on|hasn't\s+paid|haven't\s+paid|late)\b",
            re.I,
        ),
    ),
    (
        "invoices",
        lazy_re(
            r"\b(?:invoices?|owes?|owing|owed|unpaid|outstanding|receivables?|billed|paid|pay|payments?|money|cash(?:flow)?|revenue|income)\b",
            re.I,
        ),
    ),
    ("deliverables", lazy_re(r"\b(?:deliverables?|deadlines?|due|ship|deliver\w*)\b", re.I)),
    ("tasks", lazy_re(r"\b(?:tasks?|to-?dos?|to\s+do|on\s+my\s+plate|agenda|work\s+on\s+(?:today|next))\b", re.I)),
    ("clients", lazy_re(r"\b(?:clients?|customers?|accounts)\b", re.I)),
    (
        "summary",
        lazy_re(
            r"\b(?:status|summary|overview|how\s+(?:are|am)\s+(?:we|i)\s+doing|how'?s\s+business|how\s+is\s+business|dashboard|catch\s+me\s+up|brief\s+me|update\s+me|rundown|where\s+(?:do\s+)?(?:we|i)\s+stand|where\s+are\s+we|what'?s\s+(?:new|going\s+on|happening)|how'?s\s+it\s+going|recap|report)\b",
            re.I,
        ),
    ),
)
_STATUS_CLIENT_RE = lazy_re(r"\b(?:with|for|from|on|about|of|by)\s+", re.I)
_HOWS_CLIENT_RE = lazy_re(
    r"^(?:how'?s|how\s+is|how\s+are\s+things\s+with|what\s+about|status\s*:?|where\s+are\s+we\s+(?:at\s+)?with|did|has|have)\s+",
    re.I,
)
_NON_CLIENT_WORDS = frozenset(
    "today tomorrow week month year now me us everything anything everyone things stuff overdue invoices "
    "deliverables tasks clients approvals money business it".split()
)
# Personal-life questions are not status queries even when they mention "due" or "paid".
_PERSONAL_Q_RE = lazy_re(
    r"\b(?:my|i)\s+(?:bill|card|credit|bank|account|rent|mortgage|car|loan|insurance|paycheck|check)\b|\bi\s+get\s+paid\b",
    re.I,
)


def status(ctx: Ctx) -> StatusQuery | None:
    """ "what's overdue?", "who owes me money?", "what's the status with Acme?"."""
    if not ctx.is_question and not re.match(
        r"(?i)^(?:overdue|invoices|deliverables|approvals|tasks|clients|summary|status)\b", ctx.text
    ):
        return None
    if _PERSONAL_Q_RE.search(ctx.text):
        return None
    topic = status_topic(ctx)
    client = _status_client(ctx)
    if topic is None:
        if client is None:
            return None
        topic = "summary"
    return StatusQuery(topic=topic, client_name=client.name if client else None)


def status_topic(ctx: Ctx) -> StatusTopic | None:
    """What a status question is about ("overdue", "invoices", …), None when it names no topic."""
    return next((name for name, pattern in _TOPICS if pattern.search(ctx.text)), None)


def _status_client(ctx: Ctx) -> NameMatch | None:
    for found in (name_after(ctx, _HOWS_CLIENT_RE), name_after(ctx, _STATUS_CLIENT_RE)):
        if (
            found is not None
            and found.name.lower() not in _NON_CLIENT_WORDS
            and (found.name[:1].isupper() or len(found.name) > 2)
        ):
            if found.name.lower().split()[0] in _NON_CLIENT_WORDS or found.name.lower() in ("doing", "going"):
                continue
            return found
    return None


# --- new client ----------------------------------------------------------------------------
_NEW_CLIENT_RE = lazy_re(
    r"\b(?:new\s+(?:client|customer)|add\s+(?:a\s+)?(?:new\s+)?(?:client|customer)|"
    r"create\s+(?:a\s+)?(?:new\s+)?(?:client|customer)|^onboard\s+(?:(?:a\s+)?(?:new\s+)?client\b)?|"
    r"(?:client|customer)\s*:)\s*(?:(?:called|named|is|for)\s+)?[:,\-]?\s*",
    re.I,
)
_AS_CLIENT_RE = lazy_re(
    r"^(?:add|save|set\s+up|create|record)\s+(?P<rest>.+?)\s+as\s+(?:a\s+)?(?:new\s+)?(?:client|customer)\b", re.I
)
_SUBJECT_NEW_RE = lazy_re(
    r"(?:is\s+(?:a\s+)?new\s+(?:client|customer)|signed\s+(?:on|up)(?:\s+as\s+a\s+client)?|came\s+on\s+board|is\s+on\s+board)\b",
    re.I,
)


def new_client(ctx: Ctx) -> NewClient | None:
    """ "new client: Northwind, contact ops@northwind.example"."""
    client: NameMatch | None = None
    as_client = _AS_CLIENT_RE.match(ctx.text)
    if as_client:
        client = ctx.take_name(as_client.start("rest"), explicit=True)
    if client is None:
        client = subject_name(ctx, _SUBJECT_NEW_RE, explicit=True)
    if client is None:
        trigger = _NEW_CLIENT_RE.search(ctx.text)
        if trigger is None:
            return None
        if ctx.is_question:
            return None
        client = ctx.take_name(trigger.end(), explicit=True)
    contact_name, contact_email = find_contact(ctx.text)
    return NewClient(
        client_name=client.name if client else None, contact_name=contact_name, contact_email=contact_email
    )


# --- deliverables --------------------------------------------------------------------------
_DELIVERABLE_LEAD_RE = lazy_re(
    r"^(?:add\s+(?:a\s+)?|new\s+|log\s+(?:a\s+)?|track\s+(?:a\s+)?)?deliverables?\s*(?:for|to)?\s*", re.I
)
_NEEDS_RE = lazy_re(
    r"(?:needs|need|wants|is\s+waiting\s+(?:on|for)|are\s+waiting\s+(?:on|for)|expects|is\s+expecting|asked\s+for|"
    r"requested|gets|should\s+get|is\s+getting)\s+",
    re.I,
)
_OWE_RE = lazy_re(
    r"^(?:i\s+)?(?:owe|promised|need\s+to\s+(?:deliver|send|get)|have\s+to\s+(?:deliver|send|get)|must\s+(?:deliver|send)|"
    r"deliver|due\s+to)\s+",
    re.I,
)
# "the logo for Acme is due Tuesday", "homepage mockups for Acme due Dec 3"
_DUE_STATEMENT_RE = lazy_re(r"^(?:the\s+)?(?P<title>.+?)\s+for\s+(?=\S)", re.I)
_MONEY_TITLE_RE = lazy_re(r"\b(?:invoices?|inv-?\d+|payments?|bills?|retainers?|rent|fees?|deposit)\b", re.I)
_IS_DUE_RE = lazy_re(r"^\s*(?:is\s+|are\s+|'s\s+)?due\b", re.I)
_TITLE_FOR_CLIENT_RE = lazy_re(r"^(?:deliver\s+|ship\s+|send\s+)?(?P<title>.+?)\s+(?:for|to)\s+(?=\S)", re.I)


def _title(text: str, ctx: Ctx) -> str | None:
    text = remove_dates(text, ctx.today)
    text = re.sub(r"(?i)^\s*(?:[:,\-]\s*)?", "", text)
    title = strip_article(clean_phrase(text))
    return title or None


def _capitalised_prefix_client(ctx: Ctx, start: int) -> NameMatch | None:
    """ "deliverable: Meridian Health social templates": a capitalised multi-word name followed by
    a lowercase title names the client. One capitalised word ("Logo v2"), a title with no real
    lowercase word after the name ("Brand Guidelines v2", "Homepage Mockups") or a name ending in
    a work noun ("Annual Report draft") stay a title.
    """
    colon = re.match(r"\s*[:\-]?\s*", ctx.text[start:])
    pos = start + (colon.end() if colon else 0)
    found = ctx.take_name(pos)
    if found is None or ctx.text[found.end : found.end + 1] in (",", ":", ";", "'"):
        return None
    words = found.name.split()
    if len(words) < 2 or not all(w[:1].isupper() or w == "&" for w in words):
        return None
    if BUSINESS_RE.fullmatch(words[-1]):
        return None  # "Annual Report draft", "Pitch Deck update": a capitalised work item, not a client
    rest = remove_dates(ctx.text[found.end :], ctx.today)
    first = re.match(r"\s*(?P<w>[a-z][a-z'-]{2,})\b", rest)
    if first is None or first.group("w") in BOUNDARY_WORDS:
        return None
    return found


def deliverable(ctx: Ctx) -> AddDeliverable | None:
    """ "Acme needs the homepage mockups by Friday", "deliverable for Bob Lee: logo v2 due Dec 3"."""
    if ctx.is_question:
        return None
    when = due_date(ctx.text, ctx.today)
    lead = _DELIVERABLE_LEAD_RE.match(ctx.text)
    if lead:
        client = ctx.take_name(lead.end())
        if client is not None:
            return AddDeliverable(client_name=client.name, title=_title(ctx.text[client.end :], ctx), due_date=when)
        # "deliverable: logo v2 for Bob Lee, due Dec 3"
        found = _TITLE_FOR_CLIENT_RE.match(ctx.text[lead.end() :])
        if found:
            client = ctx.take_name(lead.end() + found.end())
            if client is not None:
                return AddDeliverable(client_name=client.name, title=_title(found.group("title"), ctx), due_date=when)
        named = _capitalised_prefix_client(ctx, lead.end())
        if named is not None:
            return AddDeliverable(client_name=named.name, title=_title(ctx.text[named.end :], ctx), due_date=when)
        return AddDeliverable(title=_title(ctx.text[lead.end() :], ctx), due_date=when)
    client = subject_name(ctx, _NEEDS_RE)
    if client is not None:
        rest = ctx.text[client.end :]
        verb_m = _NEEDS_RE.search(rest)
        title_text = rest[verb_m.end() :] if verb_m else rest
        if when is None and not re.search(r"(?i)\b(?:by|due|before|deadline)\b", ctx.text):
            return None  # "Acme needs help" with no date is too vague to be a deliverable
        return AddDeliverable(client_name=client.name, title=_title(title_text, ctx), due_date=when)
    due = _DUE_STATEMENT_RE.match(ctx.text)
    if due and when is not None and not _MONEY_TITLE_RE.search(due.group("title")):
        client = ctx.take_name(due.end())
        if client is not None and client.name[:1].isupper() and _IS_DUE_RE.match(ctx.text[client.end :]):
            return AddDeliverable(client_name=client.name, title=_title(due.group("title"), ctx), due_date=when)
    owe = _OWE_RE.match(ctx.text)
    if owe and when is not None:
        client = ctx.take_name(owe.end())
        if client is not None:
            return AddDeliverable(client_name=client.name, title=_title(ctx.text[client.end :], ctx), due_date=when)
        found = _TITLE_FOR_CLIENT_RE.match(ctx.text[owe.end() :])
        if found:
            client = ctx.take_name(owe.end() + found.end())
            if client is not None:
                return AddDeliverable(client_name=client.name, title=_title(found.group("title"), ctx), due_date=when)
    return None
