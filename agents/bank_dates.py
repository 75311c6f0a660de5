"""The date column of a bank export: which format it is in, and who settled that.

03/04/2026 is 3 April in most of the world and March 4 in the US. A file settles the order for
itself when one of its dates can only be read one way (13/04/2026, 04/14/2026); otherwise the
operator does, with ``--date-format`` (``DMY``, ``MDY``, ``YMD`` or a strftime pattern such as
``%d/%m/%Y``); otherwise coo asks and reads none of the dates that depend on the answer. The
currency or the decimal comma is never taken as the answer: it is a guess.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

Order = Literal["DMY", "MDY", "YMD"]
_ORDERS: dict[str, Order] = {"dmy": "DMY", "mdy": "MDY", "ymd": "YMD"}

FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d %Y",
    "%Y%m%d",
    "%Y.%m.%d",
)
# Formats that read the same text with day and month swapped.
_TWINS = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%y": "%m/%d/%y", "%d-%m-%Y": "%m-%d-%Y"}
_TWINS.update({b: a for a, b in list(_TWINS.items())})
_TIME = re.compile(r"^(.+?)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?)$")
_FRIENDLY = {"yyyy": "%Y", "yy": "%y", "mm": "%m", "dd": "%d", "month": "%B", "mon": "%b"}
_OPTION = re.compile(r"(?:--date-format|\bdate[ -]format)\s*[:=]?\s*(\S+)", re.I)


class DateSpec(BaseModel):
    """What the operator said the dates are: an order (any separator) or one exact format."""

    given: str
    order: Order | None = None
    fmt: str | None = None


class DateQuestion(BaseModel):
    """Dates coo could not read without knowing the order; nothing on these lines was read."""

    lines: list[int]
    example: str
    day_first: date | None = None  # the example read day first
    month_first: date | None = None  # ... and month first
    conflict: str | None = None  # "line 3 (13/04/2026) only day first, line 4 (04/14/2026) only month first"


class DateColumn(BaseModel):
    """The settled format of one export's date column (``fmt`` None: not settled)."""

    fmt: str | None
    note: str | None = None  # how the order was settled, for the report
    forced: str | None = None  # the operator's --date-format, when given
    pair: tuple[str, str] | None = None  # unsettled: the two orders' formats
    conflict: str | None = None


class DateFormatError(ValueError):
    """A ``--date-format`` coo cannot use; the message says what it accepts."""


class HeldDate(ValueError):
    """A date whose reading depends on the unsettled day/month order."""


def parse_date_format(text: str) -> DateSpec:
    """``DMY``/``MDY``/``YMD``, ``dd/mm/yyyy`` or a strftime pattern (``%d/%m/%Y``) → a spec."""
    given = text.strip()
    key = re.sub(r"[^a-z]", "", given.lower())
    if key in _ORDERS and "%" not in given:
        return DateSpec(given=given, order=_ORDERS[key])
    fmt = given
    if "%" not in fmt:
        fmt = re.sub(r"(?i)yyyy|yy|mm|dd|month|mon", lambda m: _FRIENDLY[m.group(0).lower()], fmt)
    directives = set(re.findall(r"%(.)", fmt))
    if not ({"d"} <= directives and directives & {"m", "b", "B"} and directives & {"Y", "y"}) or (
        directives - {"d", "m", "b", "B", "Y", "y"}
    ):
        raise DateFormatError(
            f"--date-format {given!r} isn't a date format I can use: give DMY (day first, 20/11/2026), "
            "MDY (month first, 11/20/2026), YMD (2026-11-20) or a pattern such as %d/%m/%Y"
        )
    return DateSpec(given=given, fmt=fmt)


def date_format_in(text: str) -> str | None:
    """The date format named in a chat message sent with a file ("--date-format DMY", "date format:
    %d/%m/%Y", or just "MDY")."""
    found = _OPTION.search(text or "")
    if found:
        return found.group(1).strip("`'\"“”.,;")
    words = re.findall(r"[A-Za-z]+", text or "")
    orders = [w for w in words if w.upper() in ("DMY", "MDY", "YMD")]
    return orders[0] if len(orders) == 1 else None


def shown(fmt: str) -> str:
    """``%d/%m/%Y`` → ``dd/mm/yyyy``."""
    for directive, word in (("%Y", "yyyy"), ("%y", "yy"), ("%m", "mm"), ("%d", "dd"), ("%b", "Mon"), ("%B", "Month")):
        fmt = fmt.replace(directive, word)
    return fmt


def _order(fmt: str) -> Order | None:
    """The day/month/year order of a numeric format; None when the month is a word (order-free)."""
    if "%b" in fmt or "%B" in fmt:
        return None
    positions = sorted((fmt.index(d), d[1].lower()) for d in ("%d", "%m", "%Y", "%y") if d in fmt)
    return _ORDERS.get("".join(letter for _, letter in positions))


def date_text(cell: str) -> str:
    """The date part of a date-time cell ("2026-11-20 14:03:22 UTC" → "2026-11-20")."""
    text = cell.strip()
    match = _TIME.match(text)
    return match.group(1).strip() if match else text


def read(text: str, fmt: str) -> date | None:
    """The date ``text`` is in ``fmt``, or None. A four-digit-year format does not read "26"."""
    try:
        parsed = datetime.strptime(text, fmt).date()
    except ValueError:
        return None
    return None if "%Y" in fmt and parsed.year < 1900 else parsed


def settle(
    values: list[tuple[int, str]], spec: DateSpec | None = None, also: list[tuple[int, str]] | None = None
) -> DateColumn:
    """The format of a date column from its (line, cell) values, or the operator's spec.
    ``also``: the file's other date columns (a value date), which may settle the order when the
    column itself can't."""
    texts = [(line, date_text(v)) for line, v in values if v.strip()]
    if spec is not None:
        return _forced(texts, spec)
    reads = {f: {i for i, (_, t) in enumerate(texts) if read(t, f)} for f in FORMATS}
    best = max(FORMATS, key=lambda f: len(reads[f]))  # the first of equals: the list is ordered by likelihood
    if not reads[best]:
        return DateColumn(fmt=None)
    twin = _TWINS.get(best)
    if twin is None:
        return DateColumn(fmt=best)
    only_best = sorted(reads[best] - reads[twin])
    only_twin = sorted(reads[twin] - reads[best])
    both = reads[best] & reads[twin]
    differ = [i for i in sorted(both) if read(texts[i][1], best) != read(texts[i][1], twin)]
    if only_best and only_twin:
        a, b = texts[only_best[0]], texts[only_twin[0]]
        conflict = f"line {a[0]} ({a[1]}) can only be {_which(best)}, line {b[0]} ({b[1]}) only {_which(twin)}"
        return DateColumn(fmt=None, pair=(best, twin), conflict=conflict)
    if only_best:
        line, text = texts[only_best[0]]
        return DateColumn(
            fmt=best, note=f"Dates read {_which(best)} ({shown(best)}): line {line} ({text}) can only be read that way."
        )
    if differ:
        return _by_other_dates(best, twin, also or [])
    return DateColumn(fmt=best)


def _by_other_dates(first: str, second: str, also: list[tuple[int, str]]) -> DateColumn:
    """An ambiguous column settled by another date column of the file written the same way
    (Buchungstag 03/04/2026, Valuta 13/04/2026), when that column says only one order."""
    says: dict[str, tuple[int, str]] = {}
    for line, cell in also:
        text = date_text(cell)
        a, b = read(text, first), read(text, second)
        if (a is None) != (b is None):
            says.setdefault(first if a else second, (line, text))
    if len(says) != 1:
        return DateColumn(fmt=None, pair=(first, second))
    fmt, (line, text) = next(iter(says.items()))
    return DateColumn(
        fmt=fmt,
        note=f"Dates read {_which(fmt)} ({shown(fmt)}): another date on line {line} ({text}) can only be "
        "read that way.",
    )


def _which(fmt: str) -> str:
    return {"DMY": "day first", "MDY": "month first"}.get(_order(fmt) or "", "year first")


def _said(fmt: str, given: str) -> str:
    how = f"{_which(fmt)} ({shown(fmt)})" if _order(fmt) else f"as {shown(fmt)}"
    return f"Dates read {how}, as --date-format {given} says."


def _forced(texts: list[tuple[int, str]], spec: DateSpec) -> DateColumn:
    if spec.fmt is not None:
        return DateColumn(fmt=spec.fmt, forced=spec.given, note=_said(spec.fmt, spec.given))
    # A four-digit year first (2026-11-20) has no day-first twin: it fits whatever order was said.
    allowed = [f for f in FORMATS if _order(f) in (spec.order, None) or f.startswith("%Y")]

    def fit(fmt: str) -> tuple[int, bool, int]:
        """(dates it reads, in the order said, dates written with its separators): the last two
        name the format in the error rows of a file that doesn't fit the order at all."""
        skeleton = re.sub(r"%\w|\w", "", fmt)
        return (
            sum(1 for _, t in texts if read(t, fmt)),
            _order(fmt) == spec.order,
            sum(1 for _, t in texts if re.sub(r"\w", "", t) == skeleton),
        )

    best = max(allowed, key=fit)
    return DateColumn(
        fmt=best,
        forced=spec.given,
        note=_said(best, spec.given),
    )


def parse(cell: str, column: DateColumn) -> date:
    """One cell's date in the column's format. Raises HeldDate when it depends on the unsettled
    order, ValueError when it is no date of this file."""
    if not cell:
        raise ValueError("no date")
    text = date_text(cell)
    if column.fmt is None:
        if column.pair is None:
            raise ValueError(f"can't read the date {cell!r}")
        first, second = (read(text, f) for f in column.pair)
        if first is not None and first == second:
            return first  # 03/03/2026 reads the same either way
        if first is None and second is None:
            raise ValueError(f"can't read the date {cell!r}")
        raise HeldDate(cell)
    parsed = read(text, column.fmt)
    if parsed is None:
        if column.forced:
            raise ValueError(f"the date {cell!r} doesn't fit --date-format {column.forced} ({shown(column.fmt)})")
        raise ValueError(f"can't read the date {cell!r} (the file's dates look like {shown(column.fmt)})")
    return parsed


def question(column: DateColumn, held: list[tuple[int, str]]) -> DateQuestion | None:
    """The question to ask about the held lines (line, cell), if any."""
    if not held or column.pair is None:
        return None
    day_fmt, month_fmt = sorted(column.pair, key=lambda f: _order(f) != "DMY")
    texts = [date_text(cell) for _, cell in held]
    example = next((t for t in texts if read(t, day_fmt) and read(t, month_fmt)), texts[0])
    return DateQuestion(
        lines=[line for line, _ in held],
        example=example,
        day_first=read(example, day_fmt),
        month_first=read(example, month_fmt),
        conflict=column.conflict,
    )
