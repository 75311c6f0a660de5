"""Money is an amount and a currency: arithmetic and comparisons across currencies are refused,
and totals are kept per currency (property-based)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.money import CurrencyMismatch, Money, Totals

CURRENCIES = st.sampled_from(["USD", "EUR", "GBP", "CHF", "JPY"])
AMOUNTS = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2, allow_nan=False)
MONEY = st.builds(Money.of, AMOUNTS, CURRENCIES)


@given(MONEY, MONEY)
def test_two_currencies_never_combine_or_compare(a: Money, b: Money):
    if a.currency == b.currency:
        assert (a + b).amount == a.amount + b.amount and (a - b) + b == a
        assert (a < b) == (a.amount < b.amount)
        return
    for combine in (lambda: a + b, lambda: a - b, lambda: a < b, lambda: a >= b, lambda: a.min(b)):
        with pytest.raises(CurrencyMismatch):
            combine()


@given(st.lists(MONEY, max_size=30))
def test_totals_are_per_currency_and_add_up(amounts: list[Money]):
    totals = {m.currency: m.amount for m in Totals(amounts)}
    for currency in {m.currency for m in amounts}:
        assert totals[currency] == sum((m.amount for m in amounts if m.currency == currency), Decimal(0))
    assert set(totals) == {m.currency for m in amounts}


def test_what_the_operator_reads():
    assert str(Money.of("1250.5", "EUR")) == "€1,250.50"
    assert str(Money.of("-60", "USD")) == "-$60.00"
    assert str(Money.of("1200", "CHF")) == "1,200.00 CHF"
    assert str(Totals([Money.of(600, "USD"), Money.of(500, "EUR"), Money.of(1, "USD")])) == "€500.00 + $601.00"
    assert Money.from_cents(123456, "GBP").amount == Decimal("1234.56") and Money.of("0.005", "USD").cents in (0, 1)
    with pytest.raises(ValueError, match="not a currency code"):
        Money.of(1, "dollars")
