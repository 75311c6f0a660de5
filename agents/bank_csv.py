"""Bank and payment-provider CSV exports → typed rows, read strictly.

Real exports disagree on everything: the separator (``,`` ``;`` tab), the header names
(Date/Buchungstag/Created (UTC)), how money is written (``-1,234.56``, ``1.234,56``,
``(45.00)``, ``1'234.50 CHF``, ``1.234,56-``), whether outgoing money is a negative amount, a
Debit column or a Soll/Haben flag, and what else sits in the file (account preambles, balance
lines, refunds, failed charges, fees, payouts). This module only reads: it finds the header
row, maps columns through one alias table, infers the file's number and date conventions from
its own unambiguous values, and classifies each row. A value it cannot read for certain is
reported with its line number, never guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, Field

from agents.bank_dates import DateColumn, DateQuestion, DateSpec, HeldDate, settle, shown
from agents.bank_dates import parse as parse_date
from agents.bank_dates import question as date_question

Role = Literal[
    "date",
    "text",
    "payer",
    "email",
    "amount",
    "credit",
    "debit",
    "currency",
    "status",
    "type",
    "refunded",
    "id",
    "direction",
]

# Header aliases, normalised (lower case, umlauts folded, punctuation → space). For roles that
# take one column, an earlier alias wins: a booking date beats a value date, Gross beats Net.
ALIASES: dict[Role, tuple[str, ...]] = {
    "date": (
        "date",
        "booking date",
        "transaction date",
        "posting date",
        "posted date",
        "created utc",
        "created",
        "created date utc",
        "date utc",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "fecha",
        "date de l operation",
        "completed date",
        "value date",
        "valuta",
        "wertstellung",
        "valutadatum",
    ),
    "text": (
        "description",
        "verwendungszweck",
        "reference",
        "payment reference",
        "details",
        "memo",
        "narrative",
        "transaction description",
        "buchungstext",
        "beschreibung",
        "text",
        "subject",
        "note",
        "item title",
        "invoice number",
        "remittance information",
        "purpose",
        "libelle",
        "concepto",
    ),
    "payer": (
        "payee",
        "payer",
        "name",
        "counterparty",
        "counterparty name",
        "customer name",
        "customer description",
        "beguenstigter zahlungspflichtiger",
        "auftraggeber empfaenger",
        "zahlungspflichtiger",
        "auftraggeber",
        "empfaenger",
        "from",
        "sender",
        "merchant",
        "other party",
    ),
    "email": ("customer email", "email", "e mail", "from email address", "payer email", "sender email"),
    "amount": (
        "amount",
        "gross",
        "betrag",
        "transaction amount",
        "value",
        "umsatz",
        "montant",
        "importe",
        "amount paid",
    ),
    "credit": (
        "credit",
        "credit amount",
        "credits",
        "paid in",
        "money in",
        "deposit",
        "deposits",
        "haben",
        "eingang",
        "incoming",
    ),
    "debit": (
        "debit",
        "debit amount",
        "debits",
        "paid out",
        "money out",
        "withdrawal",
        "withdrawals",
        "soll",
        "ausgang",
        "outgoing",
    ),
    "currency": ("currency", "waehrung", "ccy", "currency code", "devise", "moneda"),
    "status": ("status", "state"),
    "type": ("type", "transaction type", "buchungsart", "reporting category"),
    "refunded": ("amount refunded", "refunded amount", "refunded"),
    "id": ("id", "transaction id", "charge id", "payment intent id", "transaktionscode", "reference number"),
    "direction": ("soll haben", "s h", "debit credit", "dr cr", "credit debit indicator", "cd"),
}
_SINGLE = {role for role in ALIASES if role != "text"}
_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_KNOWN_CODES = {
    "usd",
    "eur",
    "gbp",
    "chf",
    "cad",
    "aud",
    "nzd",
    "sek",
    "nok",
    "dkk",
    "pln",
    "czk",
    "jpy",
    "inr",
    "brl",
    "mxn",
    "sgd",
    "hkd",
    "zar",
    "huf",
    "ron",
}

# Statuses of a completed incoming payment; anything else is not money in the account (yet).
_DONE = {
    "",
    "paid",
    "succeeded",
    "success",
    "completed",
    "complete",
    "cleared",
    "posted",
    "booked",
    "settled",
    "available",
    "gebucht",
    "true",
}
_FAILED = {
    "failed",
    "declined",
    "denied",
    "canceled",
    "cancelled",
    "blocked",
    "reversed",
    "voided",
    "expired",
    "disputed",
    "uncaptured",
    "false",
}
_PENDING = {
    "pending",
    "processing",
    "in transit",
    "requires action",
    "requires payment method",
    "unverified",
    "vorgemerkt",
    "scheduled",
    "held",
    "on hold",
}
_OUT_TYPES = re.compile(
    r"\b(refund|payout|withdrawal|fee|fees|reversal|chargeback|dispute|adjustment|"
    r"auszahlung|gebuehr|entgelt)\b",
    re.I,
)
_DIRECTION_OUT = {"debit", "dr", "d", "s", "soll", "lastschrift", "belastung", "out", "outgoing", "withdrawal"}
_DIRECTION_IN = {"credit", "cr", "c", "h", "haben", "gutschrift", "in", "incoming", "deposit"}
# An invoice number in a row's text ("INV-0007", "inv 7", "Rechnung 7"): the reconciler's first rule.
INVOICE_REF = re.compile(
    r"\b(?:inv(?:oice)?|rechnung(?:snummer)?|rg|facture|factura|fattura)(?![a-z])\.?\s*"
    r"(?:no\.?|nr\.?|num(?:ber)?\.?|#)?\s*[-_#:]?\s*0*(\d{1,6})\b",
    re.I,
)
# A provider moving its collected balance to the bank is not a client paying an invoice: the
# provider's own export holds the client payments.
_PROVIDER_PAYOUT = re.compile(
    r"\b(stripe|paypal|square|gocardless|wise|mollie|adyen)\b.*\b(payouts?|transfers?|"
    r"settlements?|auszahlung)\b|\b(payouts?|transfers?)\b.*\b(stripe|paypal)\b",
    re.I,
)
_SUMMARY = re.compile(
    r"\b(opening|closing|starting|ending|available)\s+balance\b|\b(anfangs|end|kontostand|"
    r"alter|neuer)\s*saldo\b|^\s*(total|summe|saldo|balance)\b",
    re.I,
)


class BankRow(BaseModel):
    """One transaction line. ``amount`` is the magnitude; ``direction`` says which way it went."""

    line: int
    fingerprint: str = Field(description="stable across re-exports: the row's cells plus its occurrence number")
    booked_on: date
    amount: Decimal
    direction: Literal["in", "out"]
    currency: str
    payer: str = ""
    email: str | None = None
    text: str = ""
    provider_id: str | None = None
    skip: str | None = Field(default=None, description="why this row is not a client payment")
    note: str | None = None

    @property
    def who(self) -> str:
        return self.payer or self.email or (self.text[:60] if self.text else "no payer given")


class RowProblem(BaseModel):
    line: int
    reason: str
    cells: str


class ParsedExport(BaseModel):
    file_hash: str
    filename: str
    shape: str
    rows: list[BankRow]
    problems: list[RowProblem]
    assumed_currency: str | None = None  # set when the file never says its currency
    date_note: str | None = None  # how the day/month order was settled
    date_question: DateQuestion | None = None  # lines held until the operator says the order


class UnreadableExport(ValueError):
    """The file is not a CSV transaction export coo can read (no header with a date and an amount)."""


def _fold(text: str) -> str:
    text = text.strip().lstrip("\ufeff").lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("é", "e"), ("è", "e")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _role(header: str) -> tuple[Role, int, str | None] | None:
    """(role, alias rank, currency named in the header) for one header cell, or None."""
    key = _fold(header)
    currency = None
    words = key.split()
    if len(words) > 1 and words[-1] in _KNOWN_CODES:  # "Amount EUR", "Betrag (EUR)"
        currency, key = words[-1].upper(), " ".join(words[:-1])
    for role, aliases in ALIASES.items():
        if key in aliases:
            return role, aliases.index(key), currency
    return None


class _Columns(BaseModel):
    index: dict[str, int]  # single-valued role → column
    text: list[int]
    names: list[str]
    header_currency: str | None = None
    dates: list[int] = Field(default_factory=list)  # every date column (a value date too)


def _map_header(cells: list[str]) -> _Columns | None:
    best: dict[str, tuple[int, int]] = {}
    text: list[int] = []
    dates: list[int] = []
    currency = None
    for position, cell in enumerate(cells):
        found = _role(cell)
        if found is None:
            continue
        role, rank, named = found
        if role == "date":
            dates.append(position)
        if role == "text":
            text.append(position)
            continue
        if role in ("amount", "credit", "debit") and named:
            currency = currency or named
        if role not in best or rank < best[role][0]:
            best[role] = (rank, position)
    index = {role: position for role, (_, position) in best.items()}
    if "date" not in index or not ("amount" in index or "credit" in index or "debit" in index):
        return None
    names = [c.strip().lstrip("\ufeff") for c in cells]
    return _Columns(index=index, text=text, names=names, header_currency=currency, dates=dates)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _sniff(text: str) -> tuple[str, int, _Columns]:
    """The delimiter and the header row: the first line (of the first 30; banks put account details
    above the table) that, split by one of ``,`` ``;`` tab, names a date and an amount column."""
    lines = text.splitlines()[:30]
    for number, line in enumerate(lines):
        scored = []
        for delimiter in (";", "\t", ","):
            cells = next(csv.reader([line], delimiter=delimiter), [])
            columns = _map_header(cells) if len(cells) > 1 else None
            if columns is not None:
                scored.append((len(columns.index) + len(columns.text), delimiter, columns))
        if scored:
            _, delimiter, columns = max(scored, key=lambda s: s[0])
            return delimiter, number, columns
    raise UnreadableExport(
        "I couldn't find a header row with a date and an amount column in the first 30 lines "
        "(expected names like Date/Buchungstag/Created (UTC) and Amount/Betrag/Gross/Credit)."
    )


# -- amounts -------------------------------------------------------------------------------

_GROUPED = {
    ".": re.compile(r"^\d{1,3}(?:[,\s'\u00a0\u202f]\d{3})+(?:\.\d{1,2})?$|^\d+(?:\.\d{1,2})?$"),
    ",": re.compile(r"^\d{1,3}(?:[.\s'\u00a0\u202f]\d{3})+(?:,\d{1,2})?$|^\d+(?:,\d{1,2})?$"),
}


def _strip_money(cell: str) -> tuple[str, bool, str | None]:
    """(digits and separators, negative?, currency) from a money cell: signs (leading or
    trailing), parentheses, CR/DR markers and currency symbols or codes peeled off in any order."""
    s = cell.strip().replace("\u2212", "-")  # a typographic minus
    negative = False
    currency = None
    while True:
        before = s
        if s.startswith("(") and s.endswith(")"):
            negative, s = True, s[1:-1].strip()
        if s[:1] in ("-", "+"):
            negative, s = negative or s[0] == "-", s[1:].strip()
        if s.endswith("-"):
            negative, s = True, s[:-1].strip()
        marker = re.match(r"^(.*\d)\s*(CR|DR)$", s, re.I)
        if marker:
            negative, s = negative or marker.group(2).upper() == "DR", marker.group(1).strip()
        found = None
        for symbol in ("US$", "$", "€", "£", "¥"):
            if s.startswith(symbol) or s.endswith(symbol):
                found = _CURRENCY_SYMBOLS[symbol]
                s = s.removeprefix(symbol).removesuffix(symbol).strip()
                break
        code = re.match(r"^([A-Za-z]{3})\s*(.*)$", s) or re.match(r"^(.*?)\s*([A-Za-z]{3})$", s)
        if found is None and code:
            letters, rest = code.groups() if code.group(1).isalpha() else code.groups()[::-1]
            if letters.lower() in _KNOWN_CODES:
                found, s = letters.upper(), rest.strip()
        if found is not None:
            if currency is not None and found != currency:
                raise ValueError(f"{cell.strip()!r} names two currencies")
            currency = found
        if s == before:
            return s, negative, currency


def parse_amount(cell: str, decimal: str) -> tuple[Decimal, str | None] | None:
    """A signed amount and the currency written in the cell; None for an empty cell. Raises
    ValueError for anything that is not exactly one amount in the file's convention."""
    if not cell.strip():
        return None
    body, negative, currency = _strip_money(cell)
    if not _GROUPED[decimal].match(body):
        raise ValueError(f"can't read {cell.strip()!r} as an amount (decimal {'comma' if decimal == ',' else 'point'})")
    digits = re.sub(r"[^\d" + re.escape(decimal) + "]", "", body).replace(decimal, ".")
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only digits
        raise ValueError(f"can't read {cell.strip()!r} as an amount") from exc
    return (-value if negative else value), currency


def _decimal_convention(values: list[str], delimiter: str) -> str:
    """The file's decimal separator, from values only one convention can read: "1.234,56" and
    "12,50" say comma, "1,234.56" and "12.50" say point; a ``;`` file with only whole or
    three-digit-grouped amounts is continental (Excel writes ``;`` where ``,`` is the decimal)."""
    votes: Counter[str] = Counter()
    for value in values:
        try:
            body, _, _ = _strip_money(value)
        except ValueError:
            continue  # reported with its line when the row is read
        if re.search(r"\d,\d{1,2}$", body):
            votes[","] += 1
        elif re.search(r"\d\.\d{1,2}$", body):
            votes["."] += 1
    if votes:
        return votes.most_common(1)[0][0]
    return "," if delimiter == ";" else "."


# -- rows ----------------------------------------------------------------------------------


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _shape(columns: _Columns, delimiter: str, decimal: str, dates: DateColumn) -> str:
    names = {_fold(n) for n in columns.names}
    if {"amount refunded", "created utc"} & names or any(n.startswith("customer ") for n in names):
        kind = "Stripe export"
    elif "gross" in names and "net" in names:
        kind = "PayPal-style export"
    elif "credit" in columns.index or "debit" in columns.index:
        kind = "bank export with Debit/Credit columns"
    else:
        kind = "bank export with signed amounts"
    sep = {";": "';'", ",": "','", "\t": "tab"}[delimiter]
    example = "1.234,56" if decimal == "," else "1,234.56"
    if dates.fmt:
        written = shown(dates.fmt)
    elif dates.pair:
        written = f"{shown(dates.pair[0])} or {shown(dates.pair[1])}, not settled"
    else:
        written = "unreadable"
    return f"{kind} ({sep}-separated, amounts like {example}, dates {written})"


def _fingerprint(columns: _Columns, cells: list[str], seen: Counter[str]) -> str:
    """Same transaction, same fingerprint, in this file or a later export that overlaps it: the
    cells by header name (column order may change) plus which occurrence of identical cells this
    is, so two genuine identical payments on one day stay two."""
    content = json.dumps(sorted((_fold(n), _cell(cells, i)) for i, n in enumerate(columns.names)), ensure_ascii=False)
    seen[content] += 1
    return hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest()[:32]


def _classify(
    status: str, kind: str, provider_id: str, text: str, refunded: Decimal | None, amount: Decimal
) -> str | None:
    """Why a row with money coming in is still not a client payment, or None."""
    if status not in _DONE:
        if status in _FAILED:
            return f"failed or cancelled charge (status {status})"
        if status == "refunded" or "refund" in status:
            return "refunded"
        if status in _PENDING:
            return f"not completed yet (status {status})"
        return f"status {status!r} is not a completed payment"
    if kind and _OUT_TYPES.search(kind):
        return f"{kind.lower()}, not a client payment"
    if provider_id.startswith(("po_", "re_", "txr_", "tr_")):
        return "a provider payout or refund, not a client payment"
    if _PROVIDER_PAYOUT.search(text) and not INVOICE_REF.search(text):
        # A transfer through a payment service that quotes an invoice is a client paying it.
        return "a payout from a payment provider (import the provider's own export to match the payments in it)"
    if refunded is not None and refunded >= amount > 0:
        return "refunded in full"
    return None


def parse_export(
    data: bytes,
    filename: str = "payments.csv",
    default_currency: str | None = None,
    *,
    date_format: DateSpec | None = None,
    today: date | None = None,
) -> ParsedExport:
    """Read one export. Raises UnreadableExport when the file has no usable header.
    ``date_format``: the operator's ``--date-format``; ``today``: rows dated later are errors."""
    text = _decode(data)
    delimiter, header_line, columns = _sniff(text)
    # Universal newlines: old-Mac exports end lines with a bare CR, which csv refuses otherwise.
    body = list(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))[header_line + 1 :]
    col = columns.index
    money_cols = [col[r] for r in ("amount", "credit", "debit", "refunded") if r in col]
    decimal = _decimal_convention([_cell(c, i) for c in body for i in money_cols if _cell(c, i)], delimiter)
    first_line = header_line + 2
    others = [i for i in columns.dates if i != col["date"]]
    dates = settle(
        [(first_line + n, _cell(c, col["date"])) for n, c in enumerate(body)],
        date_format,
        also=[(first_line + n, _cell(c, i)) for n, c in enumerate(body) for i in others],
    )
    rows: list[BankRow] = []
    problems: list[RowProblem] = []
    held: list[tuple[int, str]] = []
    seen: Counter[str] = Counter()
    assumed = None
    file_line = header_line + 1
    for cells in body:
        file_line += 1
        if not any(c.strip() for c in cells):
            continue
        raw = delimiter.join(cells)
        words = " ".join(_cell(cells, i) for i in columns.text)
        when = _cell(cells, col["date"])
        if not when and _SUMMARY.search(raw):
            continue  # "Closing balance" / "Endsaldo" lines are not transactions
        fingerprint = _fingerprint(columns, cells, seen)
        try:
            booked_on = parse_date(when, dates)
            row = _row(cells, columns, decimal)
            if today is not None and booked_on > today:
                raise ValueError(f"dated {booked_on.isoformat()}, after today ({today.isoformat()})")
        except HeldDate:
            held.append((file_line, when))
            continue
        except ValueError as exc:
            problems.append(RowProblem(line=file_line, reason=str(exc), cells=raw[:200]))
            continue
        if row is None:
            continue
        amount, direction, currency, refunded = row
        if currency is None:  # the file never says: coo's default currency, and the report says so
            currency = assumed = default_currency or "USD"
        provider_id = _cell(cells, col.get("id"))
        payer = _cell(cells, col.get("payer"))
        skip = None
        note = None
        if direction == "out":
            skip = "outgoing (a debit or payment you made)"
        else:
            skip = _classify(
                _fold(_cell(cells, col.get("status"))),
                _cell(cells, col.get("type")),
                provider_id,
                f"{payer} {words}",
                refunded,
                amount,
            )
            if skip is None and refunded:
                note = f"partly refunded ({refunded}); the rest counts"
                amount -= refunded
        email = _cell(cells, col.get("email")) or None
        rows.append(
            BankRow(
                line=file_line,
                fingerprint=fingerprint,
                booked_on=booked_on,
                amount=amount,
                direction=direction,
                currency=currency,
                payer=payer,
                email=email,
                text=words,
                provider_id=provider_id or None,
                skip=skip,
                note=note,
            )
        )
    return ParsedExport(
        file_hash=hashlib.sha256(data).hexdigest(),
        filename=filename,
        shape=_shape(columns, delimiter, decimal, dates),
        rows=rows,
        problems=problems,
        assumed_currency=assumed,
        date_note=dates.note,
        date_question=date_question(dates, held),
    )


def _row(
    cells: list[str], columns: _Columns, decimal: str
) -> tuple[Decimal, Literal["in", "out"], str | None, Decimal | None] | None:
    """(magnitude, direction, currency, refunded) of one row; None for a row with no amount at all."""
    col = columns.index
    currency = _cell(cells, col.get("currency")).upper() or columns.header_currency
    flag = _fold(_cell(cells, col.get("direction"))) or _fold(_cell(cells, col.get("type")))
    direction: Literal["in", "out"]
    if "amount" in col:
        parsed = parse_amount(_cell(cells, col["amount"]), decimal)
        if parsed is None:
            raise ValueError("no amount")
        value, written = parsed
        direction = "out" if value < 0 or flag in _DIRECTION_OUT else "in"
        magnitude = abs(value)
    else:
        credit = parse_amount(_cell(cells, col.get("credit")), decimal) if "credit" in col else None
        debit = parse_amount(_cell(cells, col.get("debit")), decimal) if "debit" in col else None
        credit_value = abs(credit[0]) if credit else Decimal(0)
        debit_value = abs(debit[0]) if debit else Decimal(0)
        if credit_value and debit_value:
            raise ValueError("both a debit and a credit amount")
        if not credit_value and not debit_value:
            if credit is None and debit is None:
                raise ValueError("no amount")
            return None  # a zero line (e.g. a fee waiver) moves no money
        direction = "in" if credit_value else "out"
        magnitude = credit_value or debit_value
        written = (credit or debit or (Decimal(0), None))[1]
    if written and currency and written != currency:
        raise ValueError(f"the amount is written in {written} but the currency column says {currency}")
    refunded = None
    if "refunded" in col:
        parsed_refund = parse_amount(_cell(cells, col["refunded"]), decimal)
        refunded = abs(parsed_refund[0]) if parsed_refund and parsed_refund[0] else None
    if magnitude == 0:
        return None
    return magnitude, direction, currency or written, refunded
