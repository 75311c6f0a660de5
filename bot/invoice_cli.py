"""`coo profile` and `coo invoice pdf`: the seller's details, a client's billing details, and an
invoice or credit note written to a PDF file."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from store.invoice_numbers import file_name

if TYPE_CHECKING:  # imported when a command runs: `coo --help` stays fast
    from bot.settings import Settings
    from store.facade import Store

log = logging.getLogger(__name__)


def cmd_profile(
    args: argparse.Namespace, store_for: Callable[[argparse.Namespace, Settings], Store], settings: Settings
) -> int:
    from graphs.profile_commands import billing_command, profile_command

    store = store_for(args, settings)
    try:
        words = list(args.pairs)
        if words and words[0] == "client":
            reply = billing_command(store, " ".join(words[1:]))
        else:
            reply = profile_command(store, " ".join(words))
    finally:
        store.close()
    print(reply.text)
    return 0 if reply.ok else 1


def cmd_invoice_pdf(
    args: argparse.Namespace, store_for: Callable[[argparse.Namespace, Settings], Store], settings: Settings
) -> int:
    from agents.errors import AgentError
    from agents.invoice_document import with_conversion
    from agents.invoice_files import document_by_number, pdf_of

    conversion = (args.to_currency, args.rate, args.rate_date)
    if any(conversion) and not all(conversion):
        print("coo: a conversion needs all of --in CUR --rate R --rate-date YYYY-MM-DD", file=sys.stderr)
        return 2
    store = store_for(args, settings)
    try:
        try:
            document = document_by_number(store, args.number, settings.sender_name)
            if args.to_currency:
                document = with_conversion(document, args.to_currency, args.rate, args.rate_date)
            data = pdf_of(document)
        except (AgentError, ValueError) as exc:
            log.warning("no PDF for %s: %s", args.number, exc)
            print(f"coo: {exc}", file=sys.stderr)
            return 1
    finally:
        store.close()
    path = Path(args.output or file_name(document.number))
    path.write_bytes(data)
    extra = " with Factur-X (EN 16931) XML" if document.eu_seller else ""
    print(f"{document.title}: {document.taxes.gross} → {path}{extra}")
    return 0


def _rate(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate (e.g. 1.0842)") from exc


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def add_parsers(
    sub: argparse._SubParsersAction,
    store_for: Callable[[argparse.Namespace, Settings], Store],
    load_settings: Callable[[], Settings],
) -> None:
    """`coo profile …` and `coo invoice pdf …` (called by bot.cli.build_parser)."""
    profile = sub.add_parser(
        "profile",
        help="show or set your details on invoices (legal_name=… address=… tax_id=… iban=…); "
        "`coo profile client NAME field=value…` a client's billing details",
    )
    profile.add_argument("pairs", nargs="*", metavar="field=value")
    profile.set_defaults(func=lambda args: cmd_profile(args, store_for, load_settings()))
    invoice = sub.add_parser("invoice", help="pdf INV-N|CN-N [-o FILE]: write an invoice or credit note as a PDF")
    invoice.add_argument("action", choices=["pdf"])
    invoice.add_argument("number", metavar="INV-N")
    invoice.add_argument("-o", "--output", help="file to write (default: INV-N.pdf here)")
    invoice.add_argument(
        "--in", dest="to_currency", metavar="CUR", help="also state the total in CUR (information only)"
    )
    invoice.add_argument("--rate", type=_rate, help="1 unit of the invoice's currency in CUR, the rate you supply")
    invoice.add_argument("--rate-date", type=_day, help="the date of that rate (YYYY-MM-DD)")
    invoice.set_defaults(func=lambda args: cmd_invoice_pdf(args, store_for, load_settings()))
