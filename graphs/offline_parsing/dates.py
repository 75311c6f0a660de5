"""Dates in operator text, always relative to the ``today`` the caller passes in.

Conventions (documented because operators' phrasings are ambiguous):
- "Friday", "by Friday", "this Friday": the next Friday strictly after today.
- "next Monday": the first Monday strictly after today (same as "Monday").
- "next week": today + 7 days; "end of week": the coming Friday (today if Friday).
- "Dec 3" / "12/9" (US month/day): this year, or next year if that date has passed.
- "on the 15th" as a due date: the next 15th on or after today.
- What happened (money received, work done, a revision asked for) happened on or before today:
  "Tuesday", "Nov 3" and "12/9" are the latest ones (``past=True``).
- "last Friday", "yesterday", "3 days ago" point back whatever the context: never a due date
  (``due=True`` skips them).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from graphs.offline_parsing.lazy_re import lazy_re

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTHS: dict[str, int] = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "sixty": 60,
    "ninety": 90,
    "couple of": 2,
    "few": 3,
}
_NUM = r"(?P<n>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|forty-five|sixty|ninety|couple of|few)"
_FULL_WEEKDAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_SHORT_WEEKDAY = r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORD = r"(?:st|nd|rd|th)?"
# For other modules' patterns: any weekday or month name.
WEEKDAY_PATTERN = rf"{_FULL_WEEKDAY}|{_SHORT_WEEKDAY}"
MONTH_PATTERN = _MONTH

# "in 14 days", "within two weeks", "net 30", "14 days from now", "due in 3 days".
_RELATIVE_RE = lazy_re(
    rf"\b(?:(?:due\s+)?(?:in|within)\s+{_NUM}\s+(?P<u>business\s+days?|days?|weeks?|months?)"
    rf"|net[\s-]?(?P<net>\d{{1,3}})"
    rf"|{_NUM.replace('?P<n>', '?P<n2>')}\s+(?P<u2>days?|weeks?)\s+(?:from\s+(?:now|today)|out))\b",
    re.I,
)
_AGO_RE = lazy_re(rf"\b{_NUM}\s+(?P<u>days?|weeks?)\s+ago\b", re.I)
_ISO_RE = lazy_re(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_SLASH_RE = lazy_re(r"(?<![\d/$])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/])")
_MONTH_DAY_RE = lazy_re(
    rf"\b(?:(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}|(?P<d2>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon2>{_MONTH}))\b"
    rf"(?:,?\s+(?P<y>\d{{4}}))?",
    re.I,
)
_WEEKDAY_RE = lazy_re(
    rf"\b(?:(?P<q>next|this|coming|on|by|before|until|till|due|last|past)\s+)?(?:the\s+)?"
    rf"(?:(?P<full>{_FULL_WEEKDAY})|(?P<short>{_SHORT_WEEKDAY})\b\.?)(?:'s)?\b",
    re.I,
)
_SIMPLE_RE = lazy_re(
    r"\b(?P<w>day\s+after\s+tomorrow|tomorrow|yesterday|today|tonight|this\s+evening|end\s+of\s+(?:the\s+)?day|eod|"
    r"end\s+of\s+(?:the\s+|this\s+)?week|eow|end\s+of\s+next\s+month|end\s+of\s+(?:the\s+|this\s+)?month|eom|"
    r"next\s+week|next\s+month|this\s+week)\b",
    re.I,
)
# Day of month: "on the 1st", "the 15th", "every 1st", "1st of the month", "on the 1".
_DAY_OF_MONTH_RE = lazy_re(
    r"\b(?:on|every|by|the|due)\s+(?:the\s+)?(?P<d>\d{1,2})(?P<o>st|nd|rd|th)?\b(?!\s*(?:/|-|%|hours?|h\b|days?|weeks?|rounds?|revisions?))"
    r"|\b(?P<d2>\d{1,2})(?:st|nd|rd|th)\s+(?:of\s+(?:the|each|every)\s+month|each\s+month|every\s+month|monthly)\b"
    r"|\bbilling\s+day\s*(?:is\s+|:\s*|=\s*)?(?:the\s+)?(?P<d3>\d{1,2})(?:st|nd|rd|th)?\b",
    re.I,
)


@dataclass(frozen=True)
class DateMatch:
    """A date (or a number of days) found in text, with where it was."""

    start: int
    end: int
    value: date | None = None
    days: int | None = None  # for relative phrasings ("in 14 days", "net 30")
    backward: bool = False  # the words point to the past ("last Friday", "yesterday", "2 days ago")


def _number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, today: date, year: int | None = None, *, past: bool = False) -> date | None:
    """Month/day in the given year, or without one the next occurrence (this year or next), or
    with ``past`` the latest one on or before today."""
    if year is not None:
        return _safe_date(year + 2000 if year < 100 else year, month, day)
    candidate = _safe_date(today.year, month, day)
    if past:
        if candidate is None or candidate > today:
            candidate = _safe_date(today.year - 1, month, day)
        return candidate
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def end_of_month(day: date) -> date:
    """Last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_day_of_month(day_of_month: int, today: date) -> date:
    """The next date (on or after today) falling on ``day_of_month``, clamped to short months."""
    year, month = today.year, today.month
    for _ in range(3):
        last = calendar.monthrange(year, month)[1]
        candidate = date(year, month, min(day_of_month, last))
        if candidate >= today:
            return candidate
        month = 1 if month == 12 else month + 1
        year = year + 1 if month == 1 else year
    raise AssertionError("unreachable")  # pragma: no cover


def find_relative_days(text: str) -> DateMatch | None:
    """ "in 14 days", "due in 2 weeks", "net 30" -> number of days from today."""
    m = _RELATIVE_RE.search(text)
    if not m:
        return None
    if m.group("net"):
        return DateMatch(m.start(), m.end(), days=int(m.group("net")))
    n = _number(m.group("n") or m.group("n2"))
    unit = (m.group("u") or m.group("u2")).lower()
    if unit.startswith("week"):
        n *= 7
    elif unit.startswith("month"):
        n *= 30
    elif unit.startswith("business"):
        n = n // 5 * 7 + n % 5  # close enough for a due date; weekends are skipped
    return DateMatch(m.start(), m.end(), days=n)


def find_date(text: str, today: date, *, past: bool = False, due: bool = False) -> DateMatch | None:
    """The first absolute date phrase in ``text`` (weekday, "Dec 3", ISO, 12/9, "end of month").

    Dates point forward (a due date) unless ``past``: a payment received or work done happened
    already, so "Tuesday" and "Nov 3" are the latest ones on or before today. "last Tuesday"
    is always the past one, and so never a ``due`` date: with ``due`` it is skipped."""
    found = _dates(text, today, past=past)
    if due:
        found = [d for d in found if not d.backward]
    if not found:
        return None
    return min(found, key=lambda d: d.start)


def _dates(text: str, today: date, *, past: bool) -> list[DateMatch]:
    found: list[DateMatch] = []
    for m in _AGO_RE.finditer(text):
        n = _number(m.group("n")) * (7 if m.group("u").lower().startswith("week") else 1)
        found.append(DateMatch(m.start(), m.end(), value=today - timedelta(days=n), backward=True))
    for m in _SIMPLE_RE.finditer(text):
        w = " ".join(m.group("w").lower().split())
        value: date | None
        if w in ("today", "tonight", "this evening", "end of day", "end of the day", "eod"):
            value = today
        elif w == "yesterday":
            found.append(DateMatch(m.start(), m.end(), value=today - timedelta(days=1), backward=True))
            continue
        elif w == "tomorrow":
            value = today + timedelta(days=1)
        elif w == "day after tomorrow":
            value = today + timedelta(days=2)
        elif w == "next month":
            value = end_of_month(today) + timedelta(days=1)
        elif "next month" in w:
            value = end_of_month(end_of_month(today) + timedelta(days=1))
        elif "month" in w or w == "eom":
            value = end_of_month(today)
        elif w == "next week":
            value = today + timedelta(days=7)
        else:  # end of week / this week: the coming Friday
            value = today + timedelta(days=(4 - today.weekday()) % 7)
        found.append(DateMatch(m.start(), m.end(), value=value))
    for m in _ISO_RE.finditer(text):
        value = _safe_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if value:
            found.append(DateMatch(m.start(), m.end(), value=value))
    for m in _SLASH_RE.finditer(text):
        y = m.group("y")
        value = _upcoming(int(m.group("m")), int(m.group("d")), today, int(y) if y else None, past=past)
        if value:
            found.append(DateMatch(m.start(), m.end(), value=value))
    for m in _MONTH_DAY_RE.finditer(text):
        mon = (m.group("mon") or m.group("mon2")).lower()
        day = int(m.group("d") or m.group("d2"))
        if mon == "may" and m.group("mon") and not re.match(r"\s*\d", text[m.start() + 3 :]):
            continue
        y = m.group("y")
        value = _upcoming(
            _MONTHS[mon[:3] if mon[:4] != "sept" else "sep"], day, today, int(y) if y else None, past=past
        )
        if value:
            found.append(DateMatch(m.start(), m.end(), value=value))
    for m in _WEEKDAY_RE.finditer(text):
        name = (m.group("full") or m.group("short")).lower()
        # Short forms ("sat", "sun", "wed") are ordinary words too; need a preposition.
        if m.group("short") and not m.group("q"):
            continue
        qualifier = (m.group("q") or "").lower()
        if past or qualifier in ("last", "past"):
            back = (today.weekday() - _WEEKDAYS[name]) % 7
            if back == 0 and qualifier in ("last", "past"):
                back = 7  # "last Tuesday" said on a Tuesday is a week ago
            found.append(
                DateMatch(
                    m.start(), m.end(), value=today - timedelta(days=back), backward=qualifier in ("last", "past")
                )
            )
            continue
        ahead = (_WEEKDAYS[name] - today.weekday()) % 7 or 7
        found.append(DateMatch(m.start(), m.end(), value=today + timedelta(days=ahead)))
    return found


def find_day_of_month(text: str) -> DateMatch | None:
    """ "on the 1st", "bill on the 15th", "1st of each month" -> the day number (1..31)."""
    for m in _DAY_OF_MONTH_RE.finditer(text):
        raw = m.group("d") or m.group("d2") or m.group("d3")
        day = int(raw)
        # "the 15" needs an ordinal suffix unless "on the"/"billing day"; avoids "the 3 logos".
        if m.group("d") and not m.group("o") and not re.match(r"(?i)on\s+the|every", m.group(0)):
            continue
        if 1 <= day <= 31:
            return DateMatch(m.start(), m.end(), days=day)
    return None


def find_due(text: str, today: date) -> DateMatch | None:
    """Any due-date phrasing; relative ones carry ``days`` and a ``value`` of today + days."""
    rel = find_relative_days(text)
    absolute = find_date(text, today, due=True)
    dom = find_day_of_month(text)
    candidates: list[DateMatch] = []
    if rel:
        candidates.append(DateMatch(rel.start, rel.end, today + timedelta(days=rel.days or 0), rel.days))
    if absolute:
        candidates.append(absolute)
    if dom and dom.days:
        candidates.append(DateMatch(dom.start, dom.end, next_day_of_month(dom.days, today)))
    if not candidates:
        return None
    return min(candidates, key=lambda d: d.start)


def parse_date_text(text: str, today: date) -> date:
    """Read a whole answer ("Friday", "in 2 weeks", "2026-12-09") as a date; ValueError if not."""
    match = find_due(text, today)
    if match is None or match.value is None:
        raise ValueError(
            f'I can\'t read "{text.strip()}" as a date — try "Friday", "Dec 3", "in 14 days" or 2026-12-09.'
        )
    return match.value
