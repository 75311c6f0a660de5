"""Who sends an invoice and who it is addressed to: the seller's profile and each client's billing details.

Both are stored one row per field (tables ``seller_profile`` and ``client_billing``), so a detail
is set once, changed alone, and cleared by setting it to "". Every value is checked before
anything is written: an IBAN or BIC that does not validate (``schwifty``), a tax rate that is not
a percentage or an address that is not one is refused with a message, and nothing changes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from store.clock import Clock
from store.db import Database, Tx
from store.errors import StoreError
from store.invoice_numbers import NumberFormat, NumberFormatError
from store.money import Money
from store.snapshot import TableSpec, register_table
from store.tax import TREATMENTS, TaxTreatment, parse_rate

register_table(TableSpec(name="seller_profile", serial=False, order_by="field"))
register_table(TableSpec(name="client_billing", serial=False, order_by="client_id, field"))

_EMAIL_RE = re.compile(r"^[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[^@\s<>,;\"().]+$")
# Member states of the EU (ISO 3166 alpha-2; Greece's VAT ids start with EL): their sellers'
# invoices carry Factur-X.
EU_COUNTRIES = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
LANGUAGES = ("en", "de", "fr")


class ProfileError(StoreError):
    """A detail that cannot be stored as given; the message says which and why."""


def _address(value: str | None) -> str | None:
    """Lines of an address, written on one line with ";" or "|" between them, or on several lines."""
    if value is None:
        return None
    lines = [part.strip() for part in re.split(r"[;|\n]", value) if part.strip()]
    return "\n".join(lines) or None


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"{value!r} is not a two-letter country code (DE, FR, US …)")
    return code


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    if not _EMAIL_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value.strip()


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @classmethod
    def fields(cls) -> list[str]:
        return list(cls.model_fields)

    def stored(self) -> dict[str, str]:
        """The set fields as the text they are stored as."""
        out = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            out[name] = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
        return out


_D = TypeVar("_D", bound=_Details)


class SellerProfile(_Details):
    """The operator's business as its invoices name it."""

    legal_name: str | None = None
    address: str | None = None
    country: str | None = None
    tax_id: str | None = None  # VAT id (DE123456789) or other tax number
    email: str | None = None
    iban: str | None = None
    bic: str | None = None
    account_number: str | None = None  # with routing_number: a US-style bank account
    routing_number: str | None = None
    payment_link: str | None = None
    terms_days: int | None = None  # default payment terms
    tax_rate: Decimal | None = None  # default rate of a line, in percent
    logo: str | None = None  # path of a PNG or JPEG printed on the invoice
    late_fee: Decimal | None = None  # percent per month on overdue amounts, stated on invoices; off when unset
    number_format: str | None = None  # "ACME-{year}-{seq:04}"; INV-{seq:04} when unset (store/invoice_numbers.py)

    @field_validator("number_format")
    @classmethod
    def _number_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return NumberFormat.parse(value).text
        except NumberFormatError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("address")
    @classmethod
    def _address_lines(cls, value: str | None) -> str | None:
        return _address(value)

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        return _country(value)

    @field_validator("email")
    @classmethod
    def _email_address(cls, value: str | None) -> str | None:
        return _email(value)

    @field_validator("iban", "bic")
    @classmethod
    def _bank_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Stored compact (spaces and case normalised), so printing can format it one way."""
        if value is None:
            return None
        kind = IBAN if info.field_name == "iban" else BIC
        try:
            return kind(value).compact
        except SchwiftyException as exc:
            raise ValueError(f"{value!r} is not a valid {kind.__name__} ({exc})") from exc

    @field_validator("routing_number")
    @classmethod
    def _routing(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace(" ", "")
        # ABA routing numbers: nine digits with a weighted check digit (3, 7, 1 …).
        if len(digits) != 9 or not digits.isdigit():
            raise ValueError(f"{value!r} is not a nine-digit routing number")
        if sum(int(d) * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10:
            raise ValueError(f"{value!r} is not a valid routing number (its check digit is wrong)")
        return digits

    @field_validator("payment_link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https://\S+\.\S+$", value):
            raise ValueError(f"{value!r} is not a payment link (https://…)")
        return value

    @field_validator("terms_days")
    @classmethod
    def _terms(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 365:
            raise ValueError(f"payment terms of {value} days: give 0 to 365 days")
        return value

    @field_validator("tax_rate", "late_fee", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal | None:
        return parse_rate(value)

    @property
    def eu(self) -> bool:
        """An EU seller: its invoices carry Factur-X (EN 16931) XML."""
        country = self.country or (self.tax_id or "")[:2].upper()
        return country in EU_COUNTRIES

    @property
    def payment_lines(self) -> list[str]:
        """How to pay, as printed on the invoice."""
        lines = []
        if self.iban:
            lines.append(f"IBAN {IBAN(self.iban).formatted}" + (f" · BIC {self.bic}" if self.bic else ""))
        if self.account_number:
            routing = f" · routing number {self.routing_number}" if self.routing_number else ""
            lines.append(f"Account {self.account_number}{routing}")
        if self.payment_link:
            lines.append(f"Pay online: {self.payment_link}")
        return lines

    def missing(self) -> list[str]:
        """What an invoice needs and this profile lacks, in the words the operator sets it with."""
        needed = []
        if not self.legal_name:
            needed.append("legal_name")
        if not self.address:
            needed.append("address")
        if not (self.iban or self.account_number or self.payment_link):
            needed.append("iban (or account_number and routing_number, or payment_link)")
        if self.account_number and not self.routing_number:
            needed.append("routing_number")
        if self.eu and not self.tax_id:
            needed.append("tax_id")
        return needed


class ClientBilling(_Details):
    """How a client is invoiced, when it differs from what their day-to-day record says."""

    legal_name: str | None = None
    address: str | None = None
    country: str | None = None
    tax_id: str | None = None
    po_number: str | None = None  # their purchase-order number, printed on every invoice
    billing_email: str | None = None  # "send invoices to ap@…": invoices go here, not to the contact
    currency: str | None = None
    language: str | None = None
    tax_rate: Decimal | None = None  # their default line rate, before the seller's
    tax_treatment: TaxTreatment | None = None

    @field_validator("address")
    @classmethod
    def _address_lines(cls, value: str | None) -> str | None:
        return _address(value)

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        return _country(value)

    @field_validator("billing_email")
    @classmethod
    def _email_address(cls, value: str | None) -> str | None:
        return _email(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else Money.zero(value).currency

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().lower()[:2]
        if code not in LANGUAGES:
            raise ValueError(f"invoices are written in {', '.join(LANGUAGES)}; not {value!r}")
        return code

    @field_validator("tax_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal | None:
        return parse_rate(value)

    @field_validator("tax_treatment", mode="before")
    @classmethod
    def _treatment(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        if text not in TREATMENTS:
            raise ValueError(f"tax_treatment is one of {', '.join(TREATMENTS)}; not {value!r}")
        return text


def _checked(model: type[_D], current: _D, changes: dict[str, str]) -> _D:
    unknown = sorted(set(changes) - set(model.fields()))
    if unknown:
        raise ProfileError(f"Unknown detail {', '.join(unknown)}: the details are {', '.join(model.fields())}.")
    merged: dict[str, Any] = {**current.stored(), **changes}
    merged = {k: v for k, v in merged.items() if v is not None and str(v).strip() != ""}
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise ProfileError(f"Nothing was changed: {reasons}.") from exc


class InvoiceProfiles:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def seller(self, tx: Tx | None = None) -> SellerProfile:
        rows = (tx or self.db).fetchall("SELECT field, value FROM seller_profile")
        known = set(SellerProfile.fields())
        return SellerProfile.model_validate({r["field"]: r["value"] for r in rows if r["field"] in known})

    def set_seller(self, tx: Tx, changes: dict[str, str]) -> SellerProfile:
        """Change some details (a value of "" clears one); all are checked before any is written."""
        current = self.seller(tx)
        updated = _checked(SellerProfile, current, changes)
        self._write(tx, "seller_profile", (), current.stored(), updated.stored())
        return updated

    def billing(self, client_id: int, tx: Tx | None = None) -> ClientBilling:
        rows = (tx or self.db).fetchall("SELECT field, value FROM client_billing WHERE client_id = ?", (client_id,))
        known = set(ClientBilling.fields())
        return ClientBilling.model_validate({r["field"]: r["value"] for r in rows if r["field"] in known})

    def set_billing(self, tx: Tx, client_id: int, changes: dict[str, str]) -> ClientBilling:
        current = self.billing(client_id, tx)
        updated = _checked(ClientBilling, current, changes)
        self._write(tx, "client_billing", (client_id,), current.stored(), updated.stored())
        return updated

    def _write(self, tx: Tx, table: str, key: tuple[int, ...], before: dict[str, str], after: dict[str, str]) -> None:
        now = self.clock.now()
        where = "client_id = ? AND " if key else ""
        for field in before.keys() - after.keys():
            tx.execute(f"DELETE FROM {table} WHERE {where}field = ?", (*key, field))
        for field, value in after.items():
            if before.get(field) == value:
                continue
            columns = "client_id, field" if key else "field"
            marks = "?, ?" if key else "?"
            tx.execute(
                f"INSERT INTO {table} ({columns}, value, updated_at) VALUES ({marks}, ?, ?)"
                f" ON CONFLICT ({columns}) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (*key, field, value, now),
            )
