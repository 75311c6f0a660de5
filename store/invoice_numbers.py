"""Invoice number series: the seller's format (``ACME-{year}-{seq:04}``) and the counter behind it.

A format has one ``{seq}`` (``{seq:04}``: at least four digits) and optionally ``{year}``; the rest
is literal text of letters, digits and ``- / . _``. With ``{year}`` the sequence restarts at 1 each
year (the invoice's issue date decides the year) and each year has its own counter; without it
one running sequence. The default ``INV-{seq:04}`` keeps the counter ``invoice`` that every
invoice before formats existed used, so nothing already issued changes. A number is never given
twice: a series is keyed by its whole format (and year), and numbers are unique in the books.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_FORMAT = "INV-{seq:04}"
DEFAULT_SERIES = "invoice"
_PLACEHOLDER = re.compile(r"\{(year|seq)(?::0?(\d))?\}")
_LITERAL = re.compile(r"^[A-Za-z0-9\-/._]*$")
# A token that may be an invoice number in the seller's own format ("ACME-2026-0007",
# "INV-0007", "2026/0012"): letters or digits, at least one separator, ending in digits.
NUMBER_TOKEN = re.compile(r"(?<![\w\-/.])([A-Za-z0-9]+(?:[\-/._][A-Za-z0-9]+)*[\-/._]\d{1,9})(?![\w\-/])")


class NumberFormatError(ValueError):
    """A number format that cannot number invoices; the message says why."""


@dataclass(frozen=True)
class NumberFormat:
    text: str

    @classmethod
    def parse(cls, text: str) -> NumberFormat:
        text = text.strip()
        seqs = [m for m in _PLACEHOLDER.finditer(text) if m.group(1) == "seq"]
        years = [m for m in _PLACEHOLDER.finditer(text) if m.group(1) == "year"]
        if len(seqs) != 1:
            raise NumberFormatError(f"{text!r} needs exactly one {{seq}} (e.g. ACME-{{year}}-{{seq:04}})")
        if len(years) > 1 or (years and years[0].group(2)):
            raise NumberFormatError(f"{text!r} may have {{year}} once, without a width")
        literal = _PLACEHOLDER.sub("", text)
        if "{" in literal or "}" in literal or not _LITERAL.match(literal):
            raise NumberFormatError(
                f"{text!r}: besides {{year}} and {{seq}} only letters, digits and - / . _ may appear"
            )
        if not re.search(r"[A-Za-z]", literal):
            raise NumberFormatError(f"{text!r} needs a prefix with letters (e.g. ACME-) so numbers can be recognised")
        if re.search(r"\}\{", text):
            raise NumberFormatError(f"{text!r}: put a separator between {{year}} and {{seq}}")
        fmt = cls(text)
        if not fmt.render(2026, 7).endswith(f"{7:0{fmt.width}d}"):
            raise NumberFormatError(f"{text!r} must end with {{seq}} so a reference like 'inv 7' finds it")
        return fmt

    @property
    def width(self) -> int:
        m = next(m for m in _PLACEHOLDER.finditer(self.text) if m.group(1) == "seq")
        return int(m.group(2) or 1)

    @property
    def yearly(self) -> bool:
        return "{year}" in self.text

    def render(self, year: int, seq: int) -> str:
        return _PLACEHOLDER.sub(lambda m: str(year) if m.group(1) == "year" else f"{seq:0{self.width}d}", self.text)

    def series(self, year: int) -> str:
        """The counter this format numbers from in ``year``."""
        if self.text == DEFAULT_FORMAT:
            return DEFAULT_SERIES
        return f"invoice:{self.text}:{year}" if self.yearly else f"invoice:{self.text}"


def format_of(series: str) -> tuple[NumberFormat, int | None]:
    """The format and year a series key stands for (inverse of ``NumberFormat.series``)."""
    if series == DEFAULT_SERIES:
        return NumberFormat(DEFAULT_FORMAT), None
    body = series.removeprefix("invoice:")
    text, _, year = body.rpartition(":") if "{year}" in body else (body, "", "")
    return NumberFormat(text), int(year) if year else None


def number_tokens(text: str) -> list[str]:
    """Candidate invoice numbers written in free text, upper-cased, in order, once each."""
    return list(dict.fromkeys(m.group(1).upper() for m in NUMBER_TOKEN.finditer(text)))


def file_name(number: str) -> str:
    """The PDF's file name: a number like 2026/ACME/7 may not name folders."""
    return re.sub(r"[/\\]", "-", number) + ".pdf"


def is_inv_number(number: str) -> bool:
    """INV-0007: the default series' spelling (what "inv 7" reads as)."""
    return re.fullmatch(r"(?i)\s*INV-\d+\s*", number) is not None
