"""Tax on an invoice: a rate per line, the tax per rate, and net / tax / gross totals.

Rounded the way accountants and EN 16931 expect: each line's net amount is rounded to the cent
(quantity × unit price), the lines are grouped by rate, and the tax of each rate is computed on
that group's net sum and rounded once, half up. The invoice's tax is the sum of the per-rate
taxes and its gross is net + tax, so every figure printed on the invoice adds up to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from store.money import Money

# How tax applies to the whole invoice: standard (the lines' rates), reverse charge (the buyer
# accounts for the VAT: EU business-to-business across borders), or exempt.
TaxTreatment = Literal["standard", "reverse_charge", "exempt"]
TREATMENTS: tuple[TaxTreatment, ...] = ("standard", "reverse_charge", "exempt")

REVERSE_CHARGE_NOTE = "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."
EXEMPT_NOTE = "Exempt from VAT."

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def parse_rate(text: str | Decimal | int | None) -> Decimal | None:
    """A tax rate in percent ("19", "7.5%", "0"); None for no rate. Refuses what is not a percentage."""
    if text is None:
        return None
    raw = str(text).strip().rstrip("%").strip().replace(",", ".")
    if raw == "" or raw.lower() in ("none", "no", "-"):
        return None
    try:
        rate = Decimal(raw)
    except ArithmeticError as exc:
        raise ValueError(f"{text!r} is not a tax rate (write a percentage such as 19 or 7.5)") from exc
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise ValueError(f"{text!r} is not a tax rate between 0 and 100 percent")
    return rate.normalize() if rate != rate.to_integral() else rate.quantize(Decimal(1))


def rate_text(rate: Decimal) -> str:
    """ "19%", "7.5%"."""
    return f"{rate.normalize():f}%"


def tax_of(base: Money, rate: Decimal) -> Money:
    """The tax of one rate's net sum, rounded once, half up (not banker's rounding)."""
    exact = base.amount * rate / _HUNDRED
    return Money(amount=exact.quantize(_CENT, rounding=ROUND_HALF_UP), currency=base.currency)


class TaxBand(BaseModel):
    """The lines taxed at one rate: their net sum and its tax."""

    model_config = ConfigDict(frozen=True)

    rate: Decimal
    base: Money
    tax: Money


class TaxSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    net: Money
    tax: Money
    gross: Money
    bands: tuple[TaxBand, ...] = ()
    treatment: TaxTreatment = "standard"

    @property
    def taxed(self) -> bool:
        """Whether the invoice shows tax at all (a rate on any line, or a reverse-charge/exempt note)."""
        return bool(self.bands) or self.treatment != "standard"

    @property
    def note(self) -> str | None:
        return {"reverse_charge": REVERSE_CHARGE_NOTE, "exempt": EXEMPT_NOTE}.get(self.treatment)


def summarize(
    lines: Iterable[tuple[Money, Decimal | None]], currency: str, treatment: TaxTreatment = "standard"
) -> TaxSummary:
    """Net / tax / gross of lines given as (net amount, rate or None). Lines without a rate on an
    invoice without any rate: no tax shown at all (a seller not registered for VAT). Under reverse
    charge or an exemption every line is taxed at 0 (the band still shows the base, as EN 16931
    requires)."""
    bases: dict[Decimal, Money] = {}
    unrated = Money.zero(currency)
    net = Money.zero(currency)
    for amount, rate in lines:
        net = net + amount  # raises CurrencyMismatch for a line in another currency
        if treatment != "standard":
            rate = Decimal(0)
        if rate is None:
            unrated = unrated + amount
            continue
        bases[rate] = bases.get(rate, Money.zero(currency)) + amount
    if bases and unrated:
        # On a taxed invoice a line without a rate is taxed at 0, shown as such, never left out.
        bases[Decimal(0)] = bases.get(Decimal(0), Money.zero(currency)) + unrated
    bands = tuple(TaxBand(rate=r, base=b, tax=tax_of(b, r)) for r, b in sorted(bases.items(), reverse=True))
    tax = Money.zero(currency)
    for band in bands:
        tax = tax + band.tax
    return TaxSummary(currency=currency, net=net, tax=tax, gross=net + tax, bands=bands, treatment=treatment)
