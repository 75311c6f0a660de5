"""Small extraction helpers shared by the intent rules (names near anchors, due dates, spans)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import (
    MONTH_PATTERN,
    WEEKDAY_PATTERN,
    DateMatch,
    find_date,
    find_day_of_month,
    find_relative_days,
    next_day_of_month,
)
from graphs.offline_parsing.lazy_re import LazyPattern, lazy_re
from graphs.offline_parsing.names import NameMatch, is_known
from graphs.offline_parsing.series_numbers import formatted_number

_INVOICE_NO_RE = lazy_re(
    r"\b(?:inv[-# ]?(?P<a>\d+)|invoice\s+(?:no\.?\s*|number\s*|#\s*)(?P<b>\d+))\b|(?<!\w)#(?P<c>\d+)\b", re.I
)
_DUE_LEAD_RE = lazy_re(
    r"(?:,?\s*(?:and\s+)?(?:it's\s+|its\s+|it\s+is\s+)?\b(?:due|by|on|payable|before|for|starting|from))?\s*$", re.I
)
# "for the shoot on Monday", "the workshop on Nov 20": when the invoiced work happened.
_WORK_DATE_RE = lazy_re(
    rf"(?<!\bdue)(?<!\bpayable)(?<!\bpaid)\s+on\s+(?:(?:{WEEKDAY_PATTERN})\b|(?:{MONTH_PATTERN})\.?\s+\d|\d{{1,2}}/\d)",
    re.I,
)
_ARTICLE_RE = lazy_re(r"^(?:the|a|an|our|their|some)\s+", re.I)
_REVISIONS_RE = lazy_re(
    r"\b(?:up\s+to\s+|max(?:imum)?\s+(?:of\s+)?|only\s+)?(?P<n>\d{1,2}|one|two|three|four|five|six)\s+"
    r"(?:(?:design|revision|review|feedback|edit)\s+)?(?:rounds?(?:\s+of\s+(?:revisions?|changes|edits|feedback))?|"
    r"revisions?|iterations?)\b",
    re.I,
)
_SMALL_NUMBERS: dict[str, int] = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def invoice_number(text: str) -> str | None:
    """ "INV-0001", "inv 12", "invoice #12" -> "INV-0001" / "INV-12"; "#12" -> "12"."""
    m = _INVOICE_NO_RE.search(text)
    if not m:
        return formatted_number(text)
    if m.group("a"):
        return f"INV-{m.group('a')}"
    return m.group("b") or m.group("c")


def revision_count(text: str) -> int | None:
    """ "3 design rounds", "2 revision rounds", "up to 3 revisions" -> the number."""
    m = _REVISIONS_RE.search(text)
    if not m:
        return None
    n = m.group("n").lower()
    return int(n) if n.isdigit() else _SMALL_NUMBERS[n]


def name_after(ctx: Ctx, pattern: LazyPattern, start: int = 0, *, explicit: bool = False) -> NameMatch | None:
    """The first client-like name right after any match of ``pattern`` (from ``start``)."""
    for m in pattern.finditer(ctx.text, start):
        found = ctx.take_name(m.end(), explicit=explicit)
        if found is not None:
            return found
    return None


def subject_name(ctx: Ctx, verbs: LazyPattern, *, explicit: bool = False) -> NameMatch | None:
    """The name that opens the message when a verb from ``verbs`` follows it ("Acme paid …")."""
    found = ctx.take_name(0, explicit=explicit)
    if found is None:
        return None
    if _verb_follows(ctx.text[found.end :], verbs):
        return found
    # "fernhill agreed to …" typed in lower case reads as one name "fernhill agreed" (nothing in
    # lower case marks where a name ends): the words before the verb are the subject, when they
    # are one of the operator's clients or the whole name was typed in lower case.
    lower = found.name == found.name.lower()
    words = list(re.finditer(r"\S+", ctx.text[found.start : found.end]))
    for word in reversed(words[:-1]):
        end = found.start + word.end()
        head = ctx.text[found.start : end]
        if (lower or is_known(head, ctx.clients)) and _verb_follows(ctx.text[end:], verbs):
            return NameMatch(head, found.start, end)
    return None


def _verb_follows(rest: str, verbs: LazyPattern) -> bool:
    rest = re.sub(
        r"^(?:'s)?\s*(?:just|finally|has|have|officially|already|actually|also|now)?\s*", "", rest, flags=re.I
    )
    return bool(verbs.match(rest))


def strip_article(text: str) -> str:
    """ "the homepage mockups" -> "homepage mockups"."""
    return _ARTICLE_RE.sub("", text.strip()).strip()


def due_spans(text: str, today: date) -> list[DateMatch]:
    """Every date-like phrase in ``text`` (relative, absolute, day of month), in order."""
    spans: list[DateMatch] = []
    rest = text
    offset = 0
    # Collect repeatedly so that "in 14 days … by Friday" yields both phrases.
    for finder in (find_relative_days, lambda t: find_date(t, today), find_day_of_month):
        rest, offset = text, 0
        while True:
            m = finder(rest)
            if m is None:
                break
            spans.append(DateMatch(m.start + offset, m.end + offset, m.value, m.days))
            offset += m.end
            rest = text[offset:]
    return sorted(spans, key=lambda d: d.start)


def remove_dates(text: str, today: date) -> str:
    """``text`` without its date phrases (and the "due"/"by" leading them)."""
    for span in reversed(due_spans(text, today)):
        head = _DUE_LEAD_RE.sub("", text[: span.start])
        text = head + " " + text[span.end :]
    text = re.sub(r"(?i),?\s*\b(?:due\s+)?(?:on|upon)\s+receipt\b", "", text)
    return re.sub(r"\s+", " ", text).strip()


def due_fields(text: str, today: date, *, work_dates: bool = False) -> tuple[date | None, int | None]:
    """(due_date, due_in_days) for an invoice: relative phrasings keep the day count. A date that
    points back ("last Friday") is never a due date; with ``work_dates`` (an invoice's text) nor is
    one that says when the work happened ("for the shoot on Monday", not "due on Monday")."""
    if re.search(r"(?i)\b(?:due\s+)?(?:on|upon)\s+receipt\b|\bdue\s+(?:now|immediately)\b", text):
        return None, 0
    rel = find_relative_days(text)
    if rel is not None and rel.days is not None and rel.days <= 365:
        return None, rel.days
    if work_dates:
        text = _WORK_DATE_RE.sub(" ", text)
    absolute = find_date(text, today, due=True)
    if absolute is not None and absolute.value is not None:
        return absolute.value, None
    dom = find_day_of_month(text)
    if dom is not None and dom.days:
        return next_day_of_month(dom.days, today), None
    return None, None


def due_date(text: str, today: date) -> date | None:
    """One due date for a deliverable or task; relative phrasings become today + days."""
    when, days = due_fields(text, today)
    if days is not None:
        return today + timedelta(days=days)
    return when
