"""Tax on invoice lines (store/tax.py): property-based — net + tax = gross to the cent, the tax
per rate is rounded once (half up) on the rate's net sum, and nothing crosses currencies."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.money import CurrencyMismatch, Money
from store.tax import parse_rate, summarize, tax_of

RATES = st.sampled_from(
    [None, Decimal(0), Decimal(5), Decimal("5.5"), Decimal(7), Decimal(10), Decimal(19), Decimal(21)]
)
NETS = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("100000"), places=2, allow_nan=False)
LINES = st.lists(st.tuples(NETS, RATES), min_size=1, max_size=12)
TREATMENTS = st.sampled_from(["standard", "reverse_charge", "exempt"])


@given(LINES, TREATMENTS)
def test_net_plus_tax_is_gross_and_every_band_adds_up(lines, treatment):
    summary = summarize([(Money.of(net, "EUR"), rate) for net, rate in lines], "EUR", treatment)
    assert summary.net + summary.tax == summary.gross
    assert summary.net == Money.of(sum((net for net, _ in lines), Decimal(0)), "EUR")  # each line kept to the cent
    if summary.bands:
        assert sum((b.base.amount for b in summary.bands), Decimal(0)) == summary.net.amount
        assert sum((b.tax.amount for b in summary.bands), Decimal(0)) == summary.tax.amount
    for band in summary.bands:
        exact = band.base.amount * band.rate / 100
        assert abs(band.tax.amount - exact) <= Decimal("0.005")  # rounded once per rate
        assert band.tax.amount == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert len({b.rate for b in summary.bands}) == len(summary.bands)  # one band per rate
    if treatment != "standard":
        assert summary.tax == Money.zero("EUR") and summary.note


@given(LINES)
def test_untaxed_lines_on_a_taxed_invoice_are_shown_at_zero(lines):
    summary = summarize([(Money.of(net, "USD"), rate) for net, rate in lines], "USD")
    rated = any(rate is not None for _, rate in lines)
    assert bool(summary.bands) == rated
    assert summary.taxed == rated


def test_half_cents_round_up_as_accountants_expect():
    # 0.5 cent of tax is a cent (banker's rounding would give 0.12 for 0.125).
    assert tax_of(Money.of("1.25", "EUR"), Decimal(10)).amount == Decimal("0.13")
    assert tax_of(Money.of("79.80", "EUR"), Decimal(7)).amount == Decimal("5.59")  # 5.586
    # Per rate, not per line: three lines of 0.10 at 19% are 0.06 of tax, not 3 × 0.02.
    summary = summarize([(Money.of("0.10", "EUR"), Decimal(19))] * 3, "EUR")
    assert summary.tax.amount == Decimal("0.06") and summary.gross.amount == Decimal("0.36")


def test_lines_in_two_currencies_are_refused():
    with pytest.raises(CurrencyMismatch):
        summarize([(Money.of(10, "EUR"), Decimal(19)), (Money.of(10, "USD"), Decimal(19))], "EUR")


@pytest.mark.parametrize(
    ("text", "rate"),
    [("19", Decimal(19)), ("7.5%", Decimal("7.5")), (" 0 ", Decimal(0)), ("5,5", Decimal("5.5")), ("", None)],
)
def test_rates_are_read_as_percentages(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["abc", "-1", "101", "NaN"])
def test_a_rate_that_is_not_a_percentage_is_refused(text):
    with pytest.raises(ValueError, match="tax rate"):
        parse_rate(text)
