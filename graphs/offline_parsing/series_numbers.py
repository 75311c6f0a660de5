"""Invoice numbers in the seller's own format ("ACME-2026-0007", "2026/ACME/12") said in chat.

The parser does not know the seller's format, so it recognises the shape every format has
(store/invoice_numbers.py): an upper-case prefix with letters, separators, ending in digits.
Proposals (P-0003) and credit notes (CN-0001) have their own words and are left alone; INV-…
is read by each rule's own pattern ("inv 7" too).
"""

from __future__ import annotations

import re

from graphs.offline_parsing.lazy_re import lazy_re

_FORMATTED_RE = lazy_re(
    r"(?<![\w\-/.])(?P<n>(?=[A-Z0-9\-/._]*[A-Z]{2})[A-Z0-9]+(?:[\-/._][A-Z0-9]+)*[\-/._]\d{1,9})(?![\w\-/])"
)
_OTHER_SERIES = re.compile(r"^(?:P|CN|INV)[\-/._]\d+$")


def formatted_numbers(text: str) -> list[str]:
    """Every invoice number in a seller's format written in ``text``, in order, once each."""
    found = (m.group("n") for m in _FORMATTED_RE.finditer(text))
    return list(dict.fromkeys(n for n in found if not _OTHER_SERIES.match(n)))


def formatted_number(text: str) -> str | None:
    """The one such number in ``text``; None when there is none or several (which one is unclear)."""
    found = formatted_numbers(text)
    return found[0] if len(found) == 1 else None
