"""How a written number reads as money: "1,250.00", "1.250,00", "1'250.50", "1 250,00", "2.5k".

The separators decide, with the currency only breaking a tie; a number that needs a guess has
no value, only its plausible readings, and the conversation asks. The rules:

- An apostrophe (Swiss "1'250.50") or a space ("1 250,00 €") only ever groups thousands.
- With both "." and ",", the last one is the decimal mark and the other groups thousands:
  "1.250,00" and "1,250.00" are both 1250.
- A lone "," before exactly three digits groups thousands ("1,250"). Before one or two digits it
  is a decimal comma ("12,50 €") in a currency written that way (the euro, the franc, the
  Nordic and central European currencies); in dollars or pounds, or with no currency, "4,50"
  is a question: 4.50 or 450?
- A lone "." before one or two digits is a decimal point ("2.5", "€99.90"). Before exactly three
  digits ("1.250") it groups thousands in a currency whose convention groups with "." (EUR,
  DKK); anywhere else it is a question: 1.25 or 1,250? Before a "k" it is a decimal ("1.25k").
- Groups after the first have exactly three digits; a decimal part has one or two (three before
  a "k"). Anything else is malformed, and its plausible readings are offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from graphs.offline_parsing.lazy_re import lazy_re

# Currencies written with a decimal comma ("12,50"): "x,yy" is a decimal there, a question elsewhere.
COMMA_DECIMAL: frozenset[str] = frozenset({"EUR", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK"})
# Currencies written with spaces between thousands ("1 250,00 €"); "2 500 dollars" is a question.
SPACE_GROUPING: frozenset[str] = frozenset({"EUR", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK"})
# Currencies whose convention groups thousands with "." ("1.250" is 1250 there).
DOT_GROUPING: frozenset[str] = frozenset({"EUR", "DKK"})

_GROUP_MARKS = "' \u00a0\u202f"
_DIGITS_RE = lazy_re(r"\d+")


@dataclass(frozen=True)
class NumberReading:
    """What a number token means: one ``value``, or none and the ``readings`` it could have."""

    value: Decimal | None
    readings: tuple[Decimal, ...] = ()
    # A bare token such as "3.14159" or "1.2.3" is not money at all; "4,0000" looks like money.
    money_like: bool = True


def _grouped(integer: str, mark: str) -> Decimal | None:
    """ "1,250,000" with ``mark`` "," -> 1250000; None when the groups are not 1-3 then 3s."""
    groups = integer.split(mark)
    if not groups[0].isdigit() or len(groups[0]) > 3 or any(len(g) != 3 or not g.isdigit() for g in groups[1:]):
        return None
    return Decimal("".join(groups))


def _integer(integer: str, marks: str) -> Decimal | None:
    """The integer part, grouped by at most one kind of mark from ``marks`` (or not grouped)."""
    used = {ch for ch in integer if not ch.isdigit()}
    if not used:
        return Decimal(integer) if integer.isdigit() else None
    if len(used) > 1 or not used <= set(marks):
        return None
    return _grouped(integer, used.pop())


def _typo_readings(num: str) -> tuple[Decimal, ...]:
    """Readings of a badly grouped number ("4,0000"): its digits, and its first group in thousands."""
    integer = num.split(".")[0] if "," in num else num
    digits = "".join(ch for ch in integer if ch.isdigit())
    candidates = {Decimal(digits)} if digits else set()
    first = _DIGITS_RE.match(integer)
    if first and first.end() < len(integer):
        candidates.add(Decimal(first.group(0)) * 1000)
    return tuple(sorted(candidates))


def _with_decimals(integer: Decimal, fraction: str) -> Decimal:
    return integer + Decimal(fraction) / (10 ** len(fraction))


def read_number(num: str, currency: str | None, *, k: bool = False) -> NumberReading:
    """Read the number token ``num`` (digits and separators) said in ``currency``; ``k`` for "4.5k"."""
    num = num.replace("\u2019", "'")
    try:
        value = _read(num, currency, k)
    except InvalidOperation:  # pragma: no cover - the token is digits and marks only
        return NumberReading(None, money_like=False)
    if isinstance(value, NumberReading):
        return NumberReading(None, tuple(_thousands(r) for r in value.readings), value.money_like) if k else value
    return NumberReading(_thousands(value) if k else value)


def _thousands(value: Decimal) -> Decimal:
    """ "4.5k" is 4500 exactly: an integer-looking Decimal, not 4500.0."""
    value *= 1000
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _read(num: str, currency: str | None, k: bool) -> Decimal | NumberReading:
    malformed = NumberReading(None, _typo_readings(num))
    last_dot, last_comma = num.rfind("."), num.rfind(",")
    has_marks = any(ch in num for ch in _GROUP_MARKS)
    # Which of "." and "," is the decimal mark, if any.
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        decimal_mark = "." if last_dot >= 0 else ","
    else:
        integer = _integer(num, _GROUP_MARKS)
        return integer if integer is not None else NumberReading(None, _typo_readings(num), money_like=False)
    head, _, fraction = num.rpartition(decimal_mark)
    other = "," if decimal_mark == "." else "."
    if decimal_mark in head:
        # "1.250.000" / "1,250,000": the mark repeats, so it groups thousands (and nothing is a decimal).
        if other in num or has_marks:
            return malformed
        integer = _grouped(num, decimal_mark)
        return integer if integer is not None else malformed
    if not fraction.isdigit():
        return NumberReading(None, money_like=False)
    max_fraction = 3 if k else 2
    if other in head or has_marks:
        # "1.250,00", "1,250.00", "1'250.50", "1 250,00": the other marks group, this one is decimal.
        integer = _integer(head, other + _GROUP_MARKS)
        if integer is None or len(fraction) > max_fraction:
            return malformed
        return _with_decimals(integer, fraction)
    # One lone mark: "2.5", "12,50", "1,250", "1.250".
    if not head.isdigit():
        return malformed
    as_decimal = _with_decimals(Decimal(head), fraction)
    as_thousands = Decimal(head + fraction)
    if len(fraction) <= max_fraction and not (len(fraction) == 3 and not k):
        if decimal_mark == "." or currency in COMMA_DECIMAL:
            return as_decimal
        # "$4,50": a decimal comma in dollars is a question.
        return NumberReading(None, (as_decimal, as_thousands) if len(fraction) == 2 else (as_decimal,))
    if len(fraction) == 3 and len(head) <= 3:
        if decimal_mark == ",":
            return as_thousands  # "1,250": the comma groups thousands in every convention here
        if currency in DOT_GROUPING:
            return as_thousands  # "€1.250": the euro groups with "."
        return NumberReading(None, (as_decimal, as_thousands), money_like=currency is not None)
    if decimal_mark == "." and currency is None:
        return NumberReading(None, money_like=False)  # "3.14159", "2026.11"
    return malformed
