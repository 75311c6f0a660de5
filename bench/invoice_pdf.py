"""Which PDF library renders coo's invoices: reportlab against fpdf2, same document, same font.

`python -m bench.invoice_pdf [--runs N] [--lines N]` renders one invoice (two lines at two tax
rates, repeated to N lines) with coo's renderer (agents/invoice_pdf.py, reportlab) and with the
same layout in fpdf2 (bench/invoice_pdf_fpdf2.py; DejaVu Sans embedded in both), N times each
after one untimed warm-up, and prints the median render time and the PDF size of each; the last
line is JSON. fpdf2 is a dev dependency for this bench only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from agents.invoice_document import DocumentLine, InvoiceDocument, Party
from agents.invoice_pdf import render_pdf
from bench.invoice_pdf_fpdf2 import render_fpdf2
from store.money import Money
from store.tax import summarize


def sample_document(lines: int) -> InvoiceDocument:
    items = [
        DocumentLine(
            description="Design work" if i % 2 == 0 else "Book: Design Systems",
            quantity=Decimal(10 if i % 2 == 0 else 2),
            unit="hour" if i % 2 == 0 else None,
            unit_price=Money.of(100 if i % 2 == 0 else "39.90", "EUR"),
            net=Money.of(1000 if i % 2 == 0 else "79.80", "EUR"),
            tax_rate=Decimal(19 if i % 2 == 0 else 7),
        )
        for i in range(lines)
    ]
    return InvoiceDocument(
        number="INV-0001",
        issue_date=date(2026, 11, 30),
        due_date=date(2026, 12, 30),
        currency="EUR",
        seller=Party(name="Müller Design GmbH", address=["Hauptstr. 1", "10115 Berlin"], tax_id="DE123456789"),
        buyer=Party(name="Acme SAS", address=["1 rue de Rivoli", "75001 Paris"], tax_id="FR12345678901"),
        lines=items,
        taxes=summarize([(line.net, line.tax_rate) for line in items], "EUR"),
        payment=["IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX"],
        notes=["Please pay by 2026-12-30, quoting INV-0001."],
    )


def _measure(render: Callable[[InvoiceDocument], bytes], document: InvoiceDocument, runs: int) -> dict[str, float]:
    render(document)  # warm-up: imports and font parsing that a long-running worker does once
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(render(document))
        times.append(time.perf_counter() - start)
    return {"median_ms": round(statistics.median(times) * 1000, 1), "bytes": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--lines", type=int, default=2)
    args = parser.parse_args(argv)
    document = sample_document(args.lines)
    results = {
        "reportlab": _measure(render_pdf, document, args.runs),
        "fpdf2": _measure(render_fpdf2, document, args.runs),
    }
    for name, result in results.items():
        print(f"{name:10} {result['median_ms']:8.1f} ms   {result['bytes']:8,} bytes  ({args.lines} lines)")
    print(json.dumps({"lines": args.lines, "runs": args.runs, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
