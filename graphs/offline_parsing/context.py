"""What every intent rule needs about one message, computed once per parse."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from graphs.offline_parsing.amounts import Amount, MalformedAmount, scan_amounts
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import NameMatch, client_keys, find_emails, is_personal, take_name
from graphs.offline_parsing.text import normalise, strip_polite_prefix
from graphs.parsing import FieldProblem

# Back-office vocabulary: its presence is what makes a money or e-mail request coo's business
# rather than the operator's private life (bills, transfers, texts to family).
BUSINESS_RE = lazy_re(
    r"\b(?:invoices?|inv-?\d+|retainers?|proposals?|clients?|customers?|quotes?|estimates?|deliverables?|"
    r"mock-?ups?|logos?|websites?|site|designs?|project|contract|brief|deck|drafts?|files?|assets|copy|"
    r"milestones?|scope|revisions?|feedback|kick-?off|deposit|sow|campaign|branding|brand|rebrand|"
    r"photos?|shoot|audit|landing\s+page|home\s?page|wireframes?|prototype|report|specs?|sketch(?:es)?|"
    r"samples?|presentation|slides|timeline|budget|launch|onboarding|proofs?|layouts?|edits?|invoice|"
    r"payment|paid|receipt|statement|signed|signature|approved|approval|v\d+|pdf|figma|workshop|"
    r"deadline|uploaded|revised|kickoff|stakeholders?|artwork|renders?|banners?|newsletter|copywriting)\b",
    re.I,
)
# A message phrased as a question (status queries, not commands).
QUESTION_START_RE = lazy_re(
    r"^(?:what|what's|whats|who|who's|whos|which|when|where|how|how's|hows|any|anything|is|are|has|"
    r"have|did|do|does|show|list|give\s+me|tell\s+me|status|summary|overview|catch\s+me\s+up|brief\s+me|"
    r"update\s+me|where's|wheres)\b",
    re.I,
)


# "… for 3,000" / "… for 12,500.00" closing a proposal or invoice: a grouped number is a price.
_TRAILING_PRICE_RE = lazy_re(r"\bfor\s+(?:about\s+|around\s+|roughly\s+)?$", re.I)
_END_RE = lazy_re(r"^[\s.!]*$")


@dataclass
class Ctx:
    """One message, normalised, with its amounts and e-mails already scanned."""

    original: str
    text: str  # normalised, polite prefix removed; capitalisation kept
    low: str
    today: date
    amounts: list[Amount]
    malformed: list[MalformedAmount]
    emails: list[str]
    problems: list[FieldProblem] = field(default_factory=list)
    # The operator's clients (name keys): an everyday company among them ("Google") is a client.
    clients: frozenset[str] = frozenset()

    @classmethod
    def build(cls, original: str, today: date, clients: Iterable[str] = ()) -> Ctx:
        """Normalise ``original`` and scan it once for amounts and e-mails; ``clients`` are the
        operator's client names."""
        text = strip_polite_prefix(normalise(original))
        amounts, malformed = scan_amounts(text)
        return cls(
            original, text, text.lower(), today, amounts, malformed, find_emails(text), clients=client_keys(clients)
        )

    def take_name(self, start: int, *, explicit: bool = False) -> NameMatch | None:
        """The client-like name at ``start`` of the text (``names.take_name``, knowing the clients)."""
        return take_name(self.text, start, explicit=explicit, known=self.clients)

    def is_personal(self, name: str, *, explicit: bool = False) -> bool:
        """Whether ``name`` is the operator's private life, not a client (``names.is_personal``)."""
        return is_personal(name, explicit=explicit, known=self.clients)

    @property
    def is_question(self) -> bool:
        return self.text.endswith("?") or bool(QUESTION_START_RE.match(self.text))

    @property
    def has_business_words(self) -> bool:
        return bool(BUSINESS_RE.search(self.text))

    def explicit_amounts(self) -> list[Amount]:
        return [a for a in self.amounts if a.explicit]

    def trailing_price(self) -> Amount | None:
        """A bare number after "for" that ends the message and has thousands separators ("for 3,000").

        Without a currency marker, "3000" could be a count; "3,000" written with a separator, as
        the last thing after "for", is how people state a price ("4k" is already explicit money).
        """
        if not self.amounts:
            return None
        last = self.amounts[-1]
        if last.explicit or last.rate_unit or "," not in last.raw or not _END_RE.match(self.text[last.end :]):
            return None
        return last if _TRAILING_PRICE_RE.search(self.text[: last.start]) else None

    def money(
        self, field_name: str, *, prefer_unit: str | None = None, allow_bare: bool = False
    ) -> tuple[Decimal | None, str | None]:
        """The message's amount for ``field_name``, or (None, None) plus a FieldProblem if malformed.

        ``prefer_unit`` picks "$4,000 a month" over other amounts; ``allow_bare`` accepts a number
        without a currency marker ("Acme paid 4000") when nothing better is there.
        """
        candidates = self.explicit_amounts()
        if prefer_unit:
            # "3500 a month" is money even without a "$": the rate unit says so.
            preferred = [a for a in self.amounts if a.rate_unit == prefer_unit and (a.explicit or a.value >= 10)]
            candidates = preferred or candidates
        if not candidates and allow_bare:
            candidates = [a for a in self.amounts if not a.explicit and a.value >= 10]
        if candidates:
            return candidates[0].value, candidates[0].currency
        if self.malformed:
            bad = self.malformed[0]
            self.problems.append(FieldProblem(field=field_name, text=bad.raw, message=bad.message))
        return None, None
