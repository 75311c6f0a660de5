"""Rules for ending, pausing and resuming a client's retainer.

"cancel Acme's retainer", "Acme ended the retainer from January 1", "stop billing Globex after
December", "pause Globex's retainer until March", "pause the Bluefin retainer for two months",
"resume Globex's retainer". Each becomes an intent whose run shows what changes and asks first;
an unreadable date is a question, never a guess.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from graphs.intents import RetainerEnd, RetainerPause, RetainerResume
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import find_date
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import is_known, is_personal

_PRONOUNS = frozenset("them they their theirs him her his it its this that".split())
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}


def _who(n: int = 1) -> str:
    return rf"(?P<who{n}>[^,.;:!?]+?)"


# What may follow the client: a date phrase, or nothing.
_REST = (
    r"(?P<rest>\s+(?:after|from|as\s+of|starting|effective|at\s+the\s+end\s+of|end\s+of|by|on|in|until|"
    r"till|through|thru|for|next|this)\b.*|\s*[.!]*)$"
)
# "can we pause …", "let's end …", "I want to cancel …": a request however it is softened.
_OPT = (
    r"(?:please\s+)?(?:(?:can|could|shall|should)\s+(?:you|we|i)\s+|let'?s\s+|"
    r"(?:i|we)\s+(?:want|need|'d\s+like|would\s+like|have)\s+to\s+|(?:i|we)\s+should\s+)?(?:please\s+)?"
)
# "cancel Acme's retainer", "end the Acme retainer", "cancel the retainer with Acme", "terminate their retainer"
_END_RE = lazy_re(
    rf"^{_OPT}(?:cancel|end|stop|terminate|close(?:\s+out)?|wind\s+down)\s+"
    rf"(?:the\s+retainer\s+(?:with|for|of)\s+{_who(1)}|{_who(2)}(?:['’]s)?\s+retainer){_REST}",
    re.I,
)
# "Acme ended the retainer from January 1", "Acme cancelled their retainer", "Acme is ending the retainer"
_ENDED_RE = lazy_re(
    rf"^{_who(1)}\s+(?:has\s+|have\s+|is\s+|are\s+|just\s+)*(?:ended|cancell?ed|terminated|ending|cancell?ing|"
    r"terminating|stopped|stopping|wants\s+to\s+(?:end|cancel|stop)|"
    r"(?:does|do|did|will|would)(?:\s+not|n'?t)\s+(?:want\s+to\s+)?(?:continue|renew|keep|extend)|"
    r"(?:(?:is|are)(?:\s+not|n'?t)|won'?t\s+be|will\s+not\s+be)\s+(?:renewing|continuing|extending)|"
    r"won'?t\s+(?:renew|continue|extend)|"
    r"(?:wants|want|asked)\s+to\s+(?:drop|leave|get\s+out\s+of|exit)|dropped|dropping|left)\s+"
    r"(?:the|their|its|his|her|our)\s+"
    r"retainer\b(?P<rest>.*)$",
    re.I,
)
# "stop billing Globex after December", "no more invoices for Globex from January"
_STOP_BILLING_RE = lazy_re(
    rf"^{_OPT}(?:stop\s+(?:billing|invoicing|charging)|no\s+more\s+(?:monthly\s+|retainer\s+)?(?:invoices|billing|bills)\s+"
    r"(?:for|to)|stop\s+(?:the\s+)?(?:monthly|retainer)\s+(?:invoices|billing|bills)\s+(?:for|to))\s+"
    rf"{_who(1)}{_REST}",
    re.I,
)
# "pause Globex's retainer until March", "pause the Bluefin retainer for two months",
# "put Globex's retainer on hold until March", "pause billing Globex until March"
_PAUSE_RE = lazy_re(
    rf"^{_OPT}(?:pause|suspend|freeze)\s+(?:(?:billing|invoicing)\s+(?:for\s+)?{_who(1)}|"
    rf"the\s+retainer\s+(?:with|for|of)\s+{_who(2)}|{_who(3)}(?:['’]s)?\s+retainer){_REST}",
    re.I,
)
# "put the umbrella retainer on ice for a month", "put the retainer with Acme on hold",
# "take Pinecrest off retainer temporarily" (without "for a while"/"until"/"temporarily": an end)
_HOLD_RE = lazy_re(
    rf"^{_OPT}put\s+(?:the\s+retainer\s+(?:with|for|of)\s+{_who(2)}|{_who(1)}(?:['’]s)?\s+retainer)\s+on\s+"
    r"(?:hold|ice|pause)\b(?P<rest>.*)$",
    re.I,
)
_TAKE_OFF_RE = lazy_re(
    rf"^{_OPT}take\s+{_who(1)}\s+off\s+(?:the\s+|their\s+|its\s+)?retainer\b(?P<rest>.*)$",
    re.I,
)
_TEMPORARILY_RE = lazy_re(
    r"\b(?:temporarily|for\s+(?:now|a\s+(?:while|bit)|the\s+time\s+being)|until|till|for\s+(?:the\s+next\s+)?"
    r"(?:\d{1,2}|a|an|one|two|three|four|five|six|twelve)\s+(?:months?|weeks?))\b",
    re.I,
)
# "Globex paused their retainer until March", "Globex wants to pause the retainer for 2 months"
_PAUSED_RE = lazy_re(
    rf"^{_who(1)}\s+(?:has\s+|is\s+|just\s+)*(?:paused|pausing|wants\s+to\s+pause|asked\s+to\s+pause)\s+"
    r"(?:the|their|its|his|her|our)\s+retainer\b(?P<rest>.*)$",
    re.I,
)
# "resume Globex's retainer", "unpause the Globex retainer", "restart billing Globex"
_RESUME_RE = lazy_re(
    rf"^{_OPT}(?:resume|unpause|un-pause|restart|reactivate)\s+(?:(?:billing|invoicing)\s+(?:for\s+)?{_who(1)}|"
    rf"the\s+retainer\s+(?:with|for|of)\s+{_who(2)}|{_who(3)}(?:['’]s)?\s+retainer)"
    r"(?:\s+(?:again|monthly|now|today|as\s+(?:before|usual|normal)|from\s+now\s+on))*\s*[.!]*$|"
    # "unpause Orchid", "take Acme off hold", "start billing Acme again": nothing else reads that way
    rf"^{_OPT}(?:unpause|un-pause)\s+{_who(4)}(?:\s+(?:again|now|today))?\s*[.!]*$|"
    rf"^{_OPT}take\s+{_who(5)}(?:['’]s\s+retainer)?\s+off\s+(?:hold|ice|pause)\s*[.!]*$|"
    rf"^{_OPT}(?:start|turn\s+on)\s+(?:billing|invoicing)\s+{_who(6)}\s+again\s*[.!]*$",
    re.I,
)
_RESUMED_RE = lazy_re(
    rf"^{_who(1)}(?:['’]s)?\s+(?:retainer\s+)?is\s+back\s+on(?:\s+retainer)?\s*[.!]*$|"
    rf"^{_who(2)}\s+(?:resumed|restarted)\s+(?:the|their|its)\s+retainer\s*[.!]*$",
    re.I,
)

_FOR_RE = lazy_re(r"\bfor\s+(?:the\s+next\s+)?(?P<n>\d{1,2}|[a-z]+)\s+(?P<unit>months?|weeks?)\b", re.I)
_MONTH_RE = lazy_re(
    r"\b(?P<prep>after|until|till|til|through|thru|from|starting(?:\s+in)?|as\s+of|in|end\s+of|effective)\s+"
    r"(?:the\s+end\s+of\s+)?(?P<month>[a-z]+)\b(?!\s+\d)",
    re.I,
)
_AFTER_RE = lazy_re(r"\b(?:after|at\s+the\s+end\s+of|end\s+of|through|thru)\s+", re.I)
_NEXT_MONTH_RE = lazy_re(r"\b(?P<prep>after|until|from|at\s+the\s+end\s+of|end\s+of)\s+(?:this|next)\s+month\b", re.I)


def _matched_who(m: re.Match[str]) -> str | None:
    """The client part of a match (patterns have one "who" group per phrasing)."""
    return next((v for k, v in m.groupdict().items() if k.startswith("who") and v), None)


def _name(raw: str | None, ctx: Ctx | None = None) -> tuple[str | None, bool]:
    """(client name, the operator said "them"/"their"); (None, False) when it is no client.
    A possessive typed without its apostrophe ("brightsides retainer") is the client's name when
    the name without the "s" is one of the operator's clients and the name with it is not."""
    if raw is None:
        return None, False
    name = re.sub(r"^(?:the|our)\s+", "", raw.strip(), flags=re.I)
    name = re.sub(r"['’]s$", "", name).strip(" '’")
    name = re.sub(r"\s+(?:retainer|account)$", "", name, flags=re.I).strip()
    if not name:
        return None, False
    if name.lower() in _PRONOUNS:
        return None, True
    if is_personal(name) or len(name.split()) > 5:
        return None, False
    if ctx is not None and name.lower().endswith("s") and not is_known(name, ctx.clients):
        if is_known(name[:-1], ctx.clients):
            name = name[:-1]
    return name, False


def _nearest(day: date, today: date) -> date:
    """A date said without a year, in whichever year puts it nearest today: "from January 1" is
    next January in November and this January on the 10th of January."""
    candidates = []
    for year in (day.year - 1, day.year, day.year + 1):
        try:
            candidates.append(day.replace(year=year))
        except ValueError:  # 29 February
            continue
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))


def _first_of_month(month: int, today: date) -> date:
    """The 1st of the month named, in the year that puts it nearest today."""
    return _nearest(date(today.year, month, 1), today)


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _boundary(rest: str, today: date) -> tuple[date | None, bool]:
    """The date a phrase like "after December", "from January 1", "until March" names, as the
    first day that is no longer billed (or the first day billed again); (None, said) where
    ``said`` tells whether the text tried to name one."""
    if not rest.strip():
        return None, False
    m = _NEXT_MONTH_RE.search(rest)
    if m:
        this = "this" in m.group(0).lower()
        start = today.replace(day=1) if this else _month_after(today)
        return (_month_after(start) if m.group("prep").lower() in ("after", "at the end of", "end of") else start), True
    found = find_date(rest, today)
    if found is not None and found.value is not None:
        value = found.value
        if not re.search(r"\d{4}", rest[found.start : found.end]):
            value = _nearest(value, today)
        after = _AFTER_RE.search(rest[: found.start])
        return (value + timedelta(days=1) if after else value), True
    m = _MONTH_RE.search(rest)
    if m and m.group("month").lower() in _MONTHS:
        first = _first_of_month(_MONTHS[m.group("month").lower()], today)
        prep = m.group("prep").lower()
        ends_with_month = prep in ("after", "through", "thru", "end of") or "end of" in m.group(0).lower()
        return (_month_after(first) if ends_with_month else first), True
    said = bool(re.search(r"\b(?:after|until|till|from|as\s+of|starting|effective|on|by)\b", rest, re.I))
    return None, said


def _span(rest: str, today: date) -> tuple[date | None, int | None, bool]:
    """(until, months, said) of a pause: "until March", "for two months", "for 6 weeks"."""
    m = _FOR_RE.search(rest)
    if m:
        raw = m.group("n").lower()
        n = int(raw) if raw.isdigit() else _NUMBERS.get(raw)
        if n is None or n <= 0:
            return None, None, True
        if m.group("unit").lower().startswith("week"):
            return today + timedelta(weeks=n), None, True
        return None, n, True
    until, said = _boundary(rest, today)
    return until, None, said


def retainer_end(ctx: Ctx) -> RetainerEnd | None:
    for pattern in (_END_RE, _ENDED_RE, _STOP_BILLING_RE, _TAKE_OFF_RE):
        m = pattern.match(ctx.text)
        if not m:
            continue
        if pattern is _TAKE_OFF_RE and _TEMPORARILY_RE.search(m.group("rest")):
            return None  # "take Acme off retainer for two months" is a pause
        who = _matched_who(m)
        name, pronoun = _name(who, ctx)
        if name is None and not pronoun:
            return None
        ends_on, said = _boundary(m.group("rest"), ctx.today)
        if said and ends_on is None:
            return None  # a date we cannot read: not a guess
        return RetainerEnd(client_name=name, ends_on=ends_on)
    return None


def retainer_pause(ctx: Ctx) -> RetainerPause | None:
    for pattern in (_PAUSE_RE, _HOLD_RE, _PAUSED_RE, _TAKE_OFF_RE):
        m = pattern.match(ctx.text)
        if not m:
            continue
        if pattern is _TAKE_OFF_RE and not _TEMPORARILY_RE.search(m.group("rest")):
            return None  # "take Acme off retainer" for good is an end
        who = _matched_who(m)
        name, pronoun = _name(who, ctx)
        if name is None and not pronoun:
            return None
        until, months, said = _span(m.group("rest"), ctx.today)
        if said and until is None and months is None:
            return None
        if until is None and months is not None:
            until = _add_months(ctx.today, months)
        return RetainerPause(client_name=name, paused_until=until, months=months)
    return None


def retainer_resume(ctx: Ctx) -> RetainerResume | None:
    for pattern in (_RESUME_RE, _RESUMED_RE):
        m = pattern.match(ctx.text)
        if not m:
            continue
        who = _matched_who(m)
        name, pronoun = _name(who, ctx)
        if name is None and not pronoun:
            return None
        return RetainerResume(client_name=name)
    return None


RULES = (retainer_end, retainer_pause, retainer_resume)


_YES_RE = lazy_re(
    r"^(?:yes|yep|yeah|yup|y|sure|ok|okay|confirm(?:ed)?|correct|go\s+ahead|do\s+it|please\s+do|"
    r"that'?s\s+right|approved?)\b",
    re.I,
)
_NO_RE = lazy_re(r"^(?:no|nope|nah|n|don'?t|do\s+not|keep\s+(?:it|them|the\s+current)|leave\s+it)\b", re.I)


def read_yes_no(text: str, today: date) -> bool:
    """The answer to "change it?": yes → True, no → False; anything else is asked again."""
    said = text.strip().strip(".!")
    if _NO_RE.match(said):
        return False
    if _YES_RE.match(said):
        return True
    raise ValueError("Please answer yes or no.")
