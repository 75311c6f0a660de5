"""Money: an amount and its currency, together, everywhere a sum or a comparison is made.

Adding, subtracting or comparing two amounts in different currencies raises ``CurrencyMismatch``
instead of producing a number: a dollar payment can never settle a euro invoice by arithmetic,
and totals are kept per currency (``Totals``), never summed across. The database keeps integer
cents beside a currency column; ``Money`` is what the code computes with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
_CENT = Decimal("0.01")


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined or compared."""


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str  # ISO 4217 code: "USD", "EUR", "CHF"

    @field_validator("amount")
    @classmethod
    def _to_cents(cls, value: Decimal) -> Decimal:
        return Decimal(value).quantize(_CENT)

    @field_validator("currency")
    @classmethod
    def _code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"{value!r} is not a currency code (e.g. USD, EUR, CHF)")
        return code

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount=Decimal(amount), currency=currency)

    @classmethod
    def from_cents(cls, cents: int | None, currency: str) -> Money:
        return cls(amount=Decimal(cents or 0) / 100, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    @property
    def cents(self) -> int:
        return int((self.amount * 100).quantize(Decimal("1")))

    def _same(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self} and {other} are in different currencies")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(amount=self.amount + self._same(other).amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(amount=self.amount - self._same(other).amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def __str__(self) -> str:
        symbol = _SYMBOLS.get(self.currency)
        text = f"{self.amount:,.2f}"
        if symbol:
            return f"-{symbol}{text[1:]}" if self.amount < 0 else f"{symbol}{text}"
        return f"{text} {self.currency}"


class Totals:
    """Sums kept per currency: "$1,200.00 + €500.00", never one number across currencies."""

    def __init__(self, amounts: Iterable[Money] = ()) -> None:
        self._by_currency: dict[str, Money] = {}
        for money in amounts:
            self.add(money)

    def add(self, money: Money) -> None:
        current = self._by_currency.get(money.currency)
        self._by_currency[money.currency] = money if current is None else current + money

    def __iter__(self) -> Iterator[Money]:
        return iter(self._by_currency[c] for c in sorted(self._by_currency))

    def __bool__(self) -> bool:
        return any(bool(m) for m in self._by_currency.values())

    def __str__(self) -> str:
        return " + ".join(str(m) for m in self) or str(Money.zero("USD"))
