"""Rules for asking: small talk, reports over the books, and questions nothing else answers.

- small talk ("hi", "thanks!", "ok great") is answered at once, without a run;
- earnings ("how much did I make last month?", "earnings by client this year");
- a client's paid and owed ("how much has Globex paid me?", "what does Acme owe?");
- invoices by state ("show overdue invoices", "which invoices are paid", "list void invoices");
- one invoice by number ("show INV-0007", "what's the status of inv 7");
- any other question (a wh-word or a trailing "?") goes to recall over memory and records
  (``question``, tried after every other rule), never to the help text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from graphs.intents import (
    ClientBalance,
    Earnings,
    InvoiceList,
    InvoiceLookup,
    InvoiceState,
    Recall,
    SmallTalk,
    Unknown,
)
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import end_of_month
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.series_numbers import formatted_number

# --- small talk ------------------------------------------------------------------------------
_SMALL_TALK_WORDS = frozenset(
    """
    hi hello hey hiya howdy yo heya hallo greetings good morning afternoon evening day gm there coo again all
    thanks thank thnks thanx thnx thx thankyou ty tysm tx u cheers ta many much so very lot a you loads appreciated appreciate it
    ok okay k kk cool nice great perfect awesome excellent brilliant lovely wonderful fantastic amazing super
    sweet got sounds noted understood alright right fine wow oh ah and
    how are doing today going
    """.split()
)
# Words that make a message small talk on their own; "good", "right", "fine" need company.
_SMALL_TALK_CORE = frozenset(
    "hi hello hey hiya howdy yo heya hallo greetings morning afternoon evening gm thanks thank thnks thanx thnx thx thankyou ty "
    "tysm tx cheers ta appreciated appreciate ok okay k kk cool nice great perfect awesome excellent brilliant "
    "lovely wonderful fantastic amazing super sweet noted understood alright".split()
)

_HOW_ARE_YOU_RE = lazy_re(
    r"^(?:(?:hi|hello|hey)\s+(?:coo\s+)?)?how\s+(?:are|r)\s+(?:you|u|things)(?:\s+doing)?(?:\s+today)?[\s?!.]*$"
)


def small_talk(ctx: Ctx) -> SmallTalk | None:
    """ "hi", "hello coo", "good morning", "thanks!", "thank you so much", "cheers", "ok great"."""
    # The original text: "hi" and "hello coo" are polite prefixes the normalised text drops.
    low = ctx.original.lower().replace("'", "").replace("’", "")
    words = re.findall(r"[a-z]+", low)
    if not words or len(words) > 8 or re.search(r"\d|@|/", low):
        return None
    if _HOW_ARE_YOU_RE.match(low):
        return SmallTalk(text=ctx.original.strip())
    if all(w in _SMALL_TALK_WORDS for w in words) and any(w in _SMALL_TALK_CORE for w in words):
        return SmallTalk(text=ctx.original.strip())
    return None


# --- periods ---------------------------------------------------------------------------------
_MONTH_NUMBERS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = lazy_re(
    r"\b(?:in|for|during|of|since)?\s*(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    r"aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?:\s+(?P<year>20\d\d))?",
    re.I,
)
_QUARTER_RE = lazy_re(
    r"\b(?:q(?P<q>[1-4])|(?P<word>first|second|third|fourth)\s+quarter)(?:\s+(?:of\s+)?(?P<year>20\d\d))?\b", re.I
)
_YEAR_RE = lazy_re(r"\b(?:in|for|during|of)\s+(?P<year>20\d\d)\b|^(?P<alone>20\d\d)\b", re.I)
_LAST_N_RE = lazy_re(r"\b(?:last|past|previous)\s+(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?|months?)\b", re.I)


def _quarter(year: int, q: int) -> tuple[date, date]:
    start = date(year, 3 * (q - 1) + 1, 1)
    return start, end_of_month(date(year, 3 * q, 1))


def period(text: str, today: date) -> tuple[date, date] | None:
    """The period a question names, as (first day, last day), both inclusive; a month or quarter
    without a year is the latest one that has begun ("in December", asked in November, is last
    December). None when no period is named."""
    low = text.lower()
    month_start = today.replace(day=1)
    if re.search(r"\b(?:this|current)\s+month\b|\bmonth\s+to\s+date\b|\bmtd\b|\bso\s+far\s+this\s+month\b", low):
        return month_start, end_of_month(today)
    if re.search(r"\b(?:last|previous|past)\s+month\b", low):
        last = month_start - timedelta(days=1)
        return last.replace(day=1), last
    q_now = (today.month - 1) // 3 + 1
    if re.search(r"\b(?:this|current)\s+quarter\b|\bquarter\s+to\s+date\b|\bqtd\b", low):
        return _quarter(today.year, q_now)
    if re.search(r"\b(?:last|previous|past)\s+quarter\b", low):
        return _quarter(today.year, q_now - 1) if q_now > 1 else _quarter(today.year - 1, 4)
    if re.search(r"\b(?:this|current)\s+year\b|\byear\s+to\s+date\b|\bytd\b|\bso\s+far\s+this\s+year\b", low):
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if re.search(r"\b(?:last|previous|past)\s+year\b", low):
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if re.search(r"\b(?:this|current)\s+week\b", low):
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    if re.search(r"\b(?:last|previous|past)\s+week\b", low):
        start = today - timedelta(days=today.weekday() + 7)
        return start, start + timedelta(days=6)
    if re.search(r"\btoday\b", low):
        return today, today
    if re.search(r"\byesterday\b", low):
        return today - timedelta(days=1), today - timedelta(days=1)
    last_n = _LAST_N_RE.search(low)
    if last_n:
        n, unit = int(last_n.group("n")), last_n.group("unit")
        days = n * (7 if unit.startswith("week") else 30 if unit.startswith("month") else 1)
        return today - timedelta(days=days - 1), today
    quarter = _QUARTER_RE.search(low)
    if quarter:
        q = int(quarter.group("q") or ("first", "second", "third", "fourth").index(quarter.group("word")) + 1)
        year = int(quarter.group("year") or (today.year if q <= q_now else today.year - 1))
        return _quarter(year, q)
    month = _MONTH_RE.search(low)
    if month and not (month.group("month") == "may" and not re.search(r"\b(?:in|for|during|of|since)\s+may\b", low)):
        number = _MONTH_NUMBERS[month.group("month")]
        year = int(month.group("year") or (today.year if number <= today.month else today.year - 1))
        start = date(year, number, 1)
        return start, end_of_month(start)
    year_m = _YEAR_RE.search(low)
    if year_m:
        year = int(year_m.group("year") or year_m.group("alone"))
        return date(year, 1, 1), date(year, 12, 31)
    return None


# --- names -----------------------------------------------------------------------------------
_NOT_A_CLIENT = frozenset(
    """
    i we you they he she it us me them who anyone anybody someone somebody everyone everybody people clients
    client customers customer the a my our this that all each every which what
    """.split()
)


def _as_client(ctx: Ctx, raw: str) -> str | None:
    """A client name as written in a question ("Globex", "acme's"), or None for a pronoun."""
    name = re.sub(r"(?:'s|s')$", "", raw.strip(" ?!.,")).strip()
    name = re.sub(r"^(?:the\s+client\s+|client\s+)", "", name, flags=re.I)
    if not name or name.lower() in _NOT_A_CLIENT or name.lower().split()[0] in _NOT_A_CLIENT:
        return None
    if len(name.split()) > 4 or ctx.is_personal(name):
        return None
    return name


_FOR_CLIENT_RE = lazy_re(r"\b(?:for|from|by|of|to|with)\s+(?P<name>[\w&.'-]+(?:\s+[\w&.'-]+){0,3})", re.I)
_NAME_STOP_RE = lazy_re(
    r"\s+(?:this|last|in|for|during|since|so|since|per|by|so\s+far|altogether|in\s+total|total|overall|"
    r"today|yesterday|yet|ever|q[1-4]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|20\d\d)\b.*$",
    re.I,
)


def _client_after_preposition(ctx: Ctx, text: str) -> str | None:
    for m in _FOR_CLIENT_RE.finditer(text):
        raw = _NAME_STOP_RE.sub("", m.group("name"))
        name = _as_client(ctx, raw)
        if (
            name is not None
            and period(f"in {name}", ctx.today) is None
            and not re.fullmatch(
                r"(?i)(?:me|us|client|clients|each\s+client|customer|customers|month|year|quarter|week|"
                r"(?:this|last|the)\b.*|now|date|today|everything|all)",
                name,
            )
        ):
            return name
    return None


# --- a bare yes or no ---------------------------------------------------------------------------
_BARE_ANSWER_RE = lazy_re(r"^(?:yes|yeah|yea|yep|yup|y|no|nope|nah|n)[\s.!]*$", re.I)


def bare_answer(ctx: Ctx) -> Unknown | None:
    """ "yes" / "no" alone answers a question; with none waiting (the conversation reads the
    answers to its own questions first) it asks for nothing, and is not small talk either."""
    if _BARE_ANSWER_RE.match(ctx.text) is None:
        return None
    return Unknown(text=ctx.text, reason="a yes or no, but no question of mine is waiting")


# --- reports ask for a figure; a statement that gives one reports something -------------------
# The kinds that answer a question about the books with figures.
FIGURE_KINDS = frozenset({"earnings", "client_balance"})
# The kinds that answer the operator about the books.
REPORT_KINDS = FIGURE_KINDS | {"status_query", "invoice_list", "invoice_lookup"}
_TELL_SOMEONE_RE = lazy_re(r"^(?:tell|let)\s+(?!me\b|us\b)[\w&.'-]+\s+(?:know\s+)?(?:that\s+)?\w", re.I)


def asks_nothing(ctx: Ctx, kind: str) -> bool:
    """Whether a report of ``kind`` would answer a message that asks coo nothing: a figure stated
    ("I paid Netflix $15"), or words for someone else ("tell carl he owes me lunch")."""
    if kind in FIGURE_KINDS and states_an_amount(ctx):
        return True
    return kind in REPORT_KINDS and _TELL_SOMEONE_RE.match(ctx.text) is not None


def states_an_amount(ctx: Ctx) -> bool:
    """A statement, not a question, with an amount in it ("I paid Netflix $15", "umbrella corp
    cleared their balance 900", "Lumen Co's hourly rate is $120"): it tells, it does not ask.
    A year ("Globex balance 2025") is a period, not an amount."""
    if ctx.is_question:
        return False
    return any(a.explicit or not re.fullmatch(r"(?:19|20)\d\d", a.raw) for a in ctx.amounts)


# --- earnings --------------------------------------------------------------------------------
_EARN_RE = lazy_re(
    r"\b(?:how\s+much\s+(?:money\s+)?(?:did|have|has|had|do)\s+(?:i|we)\s+(?:make|mkae|maek|made|earn|earned|bring\s+in|"
    r"brought\s+in|take\s+in|taken\s+in|took\s+in|receive|received|get|got|gotten|get\s+paid|got\s+paid|been\s+paid|"
    r"collect|collected|bank|banked)|"
    r"how\s+much\s+(?:money\s+)?(?:came|has\s+come|come|was\s+paid|got\s+paid)\s+in|"
    r"how\s+much\s+(?:was|were)\s+(?:i|we)\s+paid|"
    r"what\s+(?:did|have)\s+(?:i|we)\s+(?:earn|earned|make|made|bring\s+in|brought\s+in|take\s+in|taken\s+in)|"
    r"earnings?|earnigns|earnins|income|revenue|revenu|takings|turnover|money\s+(?:in|received|came\s+in|coming\s+in)|"
    r"payments?\s+(?:received|in)|received\s+payments|total\s+received|"
    r"who\s+paid\s+(?:me|us)\s+(?:the\s+)?most|top\s+(?:paying\s+)?clients)\b",
    re.I,
)
_BY_CLIENT_RE = lazy_re(
    r"\b(?:by|per|for\s+each|each|every)\s+(?:client|customer)s?\b|\bclient\s+by\s+client\b|\bbreak(?:\s|-)?down\b|"
    r"\bsplit\s+by\b|\bwho\s+paid\s+(?:me|us)\s+(?:the\s+)?most\b|\btop\s+(?:paying\s+)?clients\b",
    re.I,
)
_EARN_START_RE = lazy_re(
    r"^(?:my\s+|total\s+|show(?:\s+me)?\s+(?:my\s+)?|list\s+|(?:a\s+)?(?:break\s*-?\s*down|split)\s+(?:of\s+)?(?:my\s+)?)?"
    r"(?:earnings|earnigns|income|revenue|takings|turnover|payments|money)\b",
    re.I,
)
_EARN_PERSONAL_RE = lazy_re(r"\b(?:salary|paycheck|pension|interest|dividends?|tax\s+refund|rent)\b", re.I)


def earnings(ctx: Ctx) -> Earnings | None:
    """ "how much did I make this month?", "earnings by client this year", "revenue in October"."""
    if not _EARN_RE.search(ctx.text) or _EARN_PERSONAL_RE.search(ctx.text):
        return None
    if states_an_amount(ctx):
        return None  # "money in from meridian 1.2k" states a payment; a report asks for the figure
    if not (ctx.is_question or _EARN_START_RE.match(ctx.text)):
        return None
    found = period(ctx.text, ctx.today)
    by_client = bool(_BY_CLIENT_RE.search(ctx.text))
    client = None if by_client else _client_after_preposition(ctx, ctx.text)
    return Earnings(
        start=found[0] if found else None, end=found[1] if found else None, by_client=by_client, client_name=client
    )


# --- a client's paid and owed ------------------------------------------------------------------
_NAME = r"(?P<name>[\w&.'-]+(?:\s+[\w&.'-]+){0,3}?)"
_BALANCE_RES = (
    # "how much has Globex paid me (so far)?", "what did acme pay us", "what does Acme owe?"
    lazy_re(
        rf"^(?:so\s+)?(?:how\s+much|what)\s+(?:money\s+)?(?:has|have|did|does|do)\s+{_NAME}\s+"
        r"(?P<verb>paid|pay|owe|owes|owed)\b(?P<rest>.*)$",
        re.I,
    ),
    # "does Acme owe me anything?", "is Globex still owing me money?"
    lazy_re(rf"^(?:does|do|is|are)\s+{_NAME}\s+(?:still\s+)?(?P<verb>owe|owing)\b(?P<rest>.*)$", re.I),
    # "how much is Acme owing", "how much do I have from globex"
    lazy_re(rf"^how\s+much\s+(?:is|are)\s+{_NAME}\s+(?:still\s+)?(?P<verb>owing)\b(?P<rest>.*)$", re.I),
    # "what's Acme's balance", "Globex balance", "show me Acme's account"
    lazy_re(
        rf"^(?:what'?s|whats|what\s+is|show(?:\s+me)?|check)?\s*{_NAME}(?:'s|s')?\s+(?P<verb>balance|account\s+balance|"
        r"tab|total\s+paid|payments\s+so\s+far)\b(?P<rest>.*)$",
        re.I,
    ),
    # "how much have I received from Globex", "how much did I get from acme in total"
    lazy_re(
        r"^how\s+much\s+(?:money\s+)?(?:have|has|did)\s+(?:i|we)\s+(?P<verb>received|receive|got|get|gotten|been\s+paid)\s+"
        rf"(?:in\s+total\s+)?(?:from|by)\s+{_NAME}(?P<rest>(?:\s+(?:so\s+far|in\s+total|altogether|overall|all\s+time|ever|to\s+date).*)?[?!.]*)$",
        re.I,
    ),
    # "total paid by Globex", "what's owed by Acme", "what's outstanding for acme"
    lazy_re(
        rf"^(?:what'?s\s+|whats\s+|what\s+is\s+)?(?:the\s+)?(?:total\s+)?(?P<verb>paid|owed|outstanding)\s+"
        rf"(?:by|from|for|on)\s+{_NAME}(?P<rest>[?!.\s]*)$",
        re.I,
    ),
    # "has globex paid everything", "have Acme paid in full?"
    lazy_re(
        rf"^(?:has|have)\s+{_NAME}\s+(?P<verb>paid)\s+(?:(?:me|us)\s+)?(?:everything|it\s+all|all|in\s+full|up|"
        r"(?:their|its|the)\s+(?:balance|bill|invoices))\b(?P<rest>.*)$",
        re.I,
    ),
    # "how much money has acme sent me"
    lazy_re(
        rf"^how\s+much\s+(?:money\s+)?(?:has|have|did)\s+{_NAME}\s+(?P<verb>sent|send|transferred|transfer|wired|wire)\s+"
        r"(?:me|us)\b(?P<rest>.*)$",
        re.I,
    ),
)


def client_balance(ctx: Ctx) -> ClientBalance | Earnings | None:
    """ "how much has Globex paid me?", "what does Acme owe?"; with a period ("how much did
    Globex pay me this year?") it is that client's earnings for the period. A statement with an
    amount ("umbrella corp cleared their balance 900") reports a payment, not a question."""
    if states_an_amount(ctx):
        return None
    for pattern in _BALANCE_RES:
        m = pattern.match(ctx.text)
        if m is None:
            continue
        name = _as_client(ctx, _NAME_STOP_RE.sub("", m.group("name")))
        if name is None:
            continue
        verb = m.group("verb").lower()
        when = period(m.group("rest") or "", ctx.today)
        if when is not None and not verb.startswith("ow"):
            return Earnings(start=when[0], end=when[1], client_name=name)
        return ClientBalance(client_name=name)
    return None


# --- invoices by state -------------------------------------------------------------------------
_STATES: tuple[tuple[InvoiceState, str], ...] = (
    ("partially_paid", r"\b(?:partially|partly|part)[\s-]*paid\b|\bpart[\s-]payments?\b"),
    ("overdue", r"\b(?:overdue|past[\s-]+due|late)\b"),
    ("void", r"\b(?:void|voided|cancell?ed|canceled)\b"),
    ("draft", r"\b(?:drafts?|unsent|not\s+(?:yet\s+)?sent)\b"),
    ("paid", r"\b(?:(?<!un)paid(?:\s+(?:up|off|in\s+full))?|settled|fully\s+paid)\b"),
    ("open", r"\bopen\b"),
    ("all", r"\b(?:all|every|each)\b"),
)
_INVOICES_RE = lazy_re(
    r"\b(?:invoices|invoces|invoics|invioces|invocies|inovices)\b|\binvoice\s+list\b|\b(?:every|each)\s+invoice\b", re.I
)
_LIST_START_RE = lazy_re(
    r"^(?:(?:show|list|display|view|see|get|find|pull\s+up|give\s+me|tell\s+me)\b|"
    r"(?:all|my|open|paid|void|voided|draft|overdue|late|cancell?ed|canceled|partially|partly|settled)\b)",
    re.I,
)
_NOT_A_LIST_RE = lazy_re(r"\b(?:unpaid|outstanding|not\s+(?:yet\s+)?paid|still\s+owed|owe|owes|owing)\b", re.I)
_INVOICE_ACTION_RE = lazy_re(
    r"\b(?:re-?send|send|void\s+(?:inv|the|invoice)|remind|chase|delete|remove|mark|e-?mail|undo|edit|change|move|"
    r"credit\s+note|cancel\s+(?:inv|the|invoice)|create|make|draft\s+an?)\b",
    re.I,
)


def invoice_list(ctx: Ctx) -> InvoiceList | None:
    """ "show overdue invoices", "which invoices are paid", "list void invoices", "open invoices".
    Unpaid / outstanding stays the status answer ("who owes me money?"), with credits and drafts."""
    if not _INVOICES_RE.search(ctx.text) or _NOT_A_LIST_RE.search(ctx.text):
        return None
    if not (ctx.is_question or _LIST_START_RE.match(ctx.text)):
        return None
    if _INVOICE_ACTION_RE.search(ctx.text) and not ctx.is_question:
        return None
    state = next((name for name, pattern in _STATES if re.search(pattern, ctx.text, re.I)), None)
    if state is None:
        return None
    return InvoiceList(state=state, client_name=_client_after_preposition(ctx, ctx.text))


# --- one invoice by number ---------------------------------------------------------------------
_NUMBER_RE = lazy_re(
    r"\b(?:inv(?:oice)?)\s*(?:-|#|no\.?|nr\.?|number)?\s*#?\s*(?P<n>\d{1,6})\b(?!\s*(?:%|\$|€|£|hours?|h\b|days?))",
    re.I,
)
_LOOKUP_START_RE = lazy_re(
    r"^(?:show(?:\s+me)?|find|look\s*up|pull\s+up|open|get|fetch|display|view|see|check|details?\s+(?:of|for|on)|"
    r"(?:give|tell)\s+me\s+(?:about|the\s+details\s+of)?|what\s+about|status\s+(?:of|for|on)|where'?s)\b",
    re.I,
)
_LOOKUP_ACTION_RE = lazy_re(
    r"\b(?:re-?send|send|void|remind|chase|delete|remove|mark|e-?mail|undo|edit|change|move|cancel|credit\s+note|"
    r"paid\s+\$|got\s+\$|received\s+\$)\b",
    re.I,
)


def invoice_lookup(ctx: Ctx) -> InvoiceLookup | None:
    """ "show INV-0007", "find INV-0007", "what's the status of inv 7", "is INV-0003 paid?"."""
    m = _NUMBER_RE.search(ctx.text)
    formatted = formatted_number(ctx.text) if m is None else None
    if (m is None and formatted is None) or ctx.explicit_amounts() or _LOOKUP_ACTION_RE.search(ctx.text):
        return None
    if len(_NUMBER_RE.findall(ctx.text)) > 1:
        return None
    said = m.group(0) if m is not None else str(formatted)
    bare = re.fullmatch(r"\s*" + re.escape(said) + r"[\s?!.]*", ctx.text) is not None
    if not (bare or ctx.is_question or _LOOKUP_START_RE.match(ctx.text)):
        return None
    return InvoiceLookup(number=f"INV-{int(m.group('n')):04d}" if m is not None else said)


# --- "which client wanted …": who said or asked something is recall, not the client list ----------
_WHICH_CLIENT_RE = lazy_re(r"^(?:which|what)\s+(?:client|customer|contact|person|one)s?\s+(?P<verb>[a-z']+)\b", re.I)
_LISTING_VERBS = frozenset(
    "is are was were do does did have has had owe owes owed paid pay pays haven't hasn't didn't still hasnt havent "
    "didnt should can could will would".split()
)


_WHO_SAID_RE = lazy_re(
    r"^who\s+(?:(?:was\s+it\s+that|else)\s+)?(?:asked|wanted|said|mentioned|requested|suggested|preferred|"
    r"liked|complained|agreed|decided|needed|sent|wrote|told|promised|approved)\b",
    re.I,
)


def which_client(ctx: Ctx) -> Recall | None:
    """ "which client wanted the files as PDFs?", "who asked for the invoices in euros?"."""
    m = _WHICH_CLIENT_RE.match(ctx.text)
    if (m is None or m.group("verb").lower() in _LISTING_VERBS) and not _WHO_SAID_RE.match(ctx.text):
        return None
    return Recall(query=ctx.text.rstrip("?!. "))


# --- any other question: recall ------------------------------------------------------------------
_WH_RE = lazy_re(r"^(?:what|what's|whats|who|who's|whos|whom|whose|which|when|where|where's|wheres|why|how)\b", re.I)
# Questions that are not about the business: how-to, the weather, the time, jokes, the operator's own accounts.
_NOT_RECALL_RE = lazy_re(
    r"^how\s+(?:do|can|should|would|could)\s+(?:i|you|we)\b|^how\s+to\b|\bweather\b|\bwhat\s+time\s+is\s+it\b|"
    r"\bjokes?\b|\bin\s+(?:french|spanish|german|italian|english)\b|\bmy\s+(?:bill|card|credit|bank|account|rent|"
    r"mortgage|car|loan|insurance|paycheck|check|salary|balance)\b|\bi\s+get\s+paid\b",
    re.I,
)


def question(ctx: Ctx) -> Recall | None:
    """A question no rule answers ("what did the Bluefin board think of the logo?", "which client
    wanted the files as PDFs?") is looked up in memory and the records, not met with help."""
    if not (ctx.text.rstrip().endswith("?") or _WH_RE.match(ctx.text)):
        return None
    if _NOT_RECALL_RE.search(ctx.text):
        return None
    query = ctx.text.rstrip("?!. ")
    if len(re.findall(r"\w+", query)) < 2:
        return None
    # A client the question names (the clients are known by their name keys) filters the search.
    named = (re.search(rf"\b{re.escape(key)}\b", ctx.low) for key in sorted(ctx.clients, key=len, reverse=True))
    found = next((m for m in named if m is not None), None)
    return Recall(query=query, client_name=ctx.text[found.start() : found.end()] if found else None)


# Tried before recall and status (classify.py); ``question`` is the last rule of all.
RULES = (invoice_lookup, client_balance, earnings, invoice_list, which_client)
