"""An invoice or credit note as an A4 PDF (reportlab).

reportlab was chosen over fpdf2 by measurement (README, "## Benchmarks": `python -m
bench.invoice_pdf`): the same invoice renders about ten times faster (fpdf2 re-reads and
re-subsets the font for every document), at a somewhat larger file. The text is set in DejaVu
Sans (a Latin/Greek/Cyrillic subset shipped in agents/fonts), so "€", "£" and accented names
print as written; reportlab's invariant mode makes the bytes reproducible.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from agents.errors import AgentError
from agents.invoice_document import InvoiceDocument
from store.tax import rate_text

FONTS = Path(__file__).parent / "fonts"
_FONT, _BOLD = "DejaVuSans", "DejaVuSans-Bold"
_WIDTH = A4[0] - 36 * mm - 12  # inside the margins and the frame's own 6 pt padding each side


def _fonts() -> None:
    """Registered once per process (reportlab keeps them in its font registry)."""
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(_BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def _style(name: str, size: float = 9.5, bold: bool = False, right: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=_BOLD if bold else _FONT, fontSize=size, leading=size * 1.3, alignment=TA_RIGHT if right else 0
    )


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _quantity(quantity: Decimal, unit: str | None) -> str:
    text = f"{quantity.normalize():f}"
    return f"{text} {unit}{'s' if unit and quantity != 1 else ''}" if unit else text


def _lines(lines: list[str], bold_first: bool = True, right: bool = False) -> list[Flowable]:
    return [_para(line, _style("p", bold=bold_first and i == 0, right=right)) for i, line in enumerate(lines)]


def _header(document: InvoiceDocument) -> Table:
    seller = document.seller
    left = [seller.name, *seller.address]
    if seller.tax_id:
        left.append(f"{document.label('tax_id')}: {seller.tax_id}")
    if seller.email:
        left.append(seller.email)
    facts = [f"{document.label('number')}: {document.number}", f"{document.label('issued')}: {document.issue_date}"]
    if document.due_date is not None:
        facts.append(f"{document.label('due')}: {document.due_date}")
    if document.po_number:
        facts.append(f"{document.label('po')}: {document.po_number}")
    right: list[Flowable] = [_para(document.label(document.kind), _style("title", 18, bold=True, right=True))]
    right += _lines(facts, bold_first=False, right=True)
    table = Table([[_lines(left), right]], colWidths=[_WIDTH / 2, _WIDTH / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    return table


def _items(document: InvoiceDocument) -> Table:
    taxed = document.taxes.taxed
    head: list[object] = [document.label("description"), document.label("qty"), document.label("unit_price")]
    head += [document.label("rate")] if taxed else []
    head.append(document.label("amount"))
    rows: list[list[object]] = [head]
    for line in document.lines:
        row: list[object] = [_para(line.description, _style("cell", 9)), _quantity(line.quantity, line.unit)]
        row.append(str(line.unit_price))
        if taxed:
            row.append("" if line.tax_rate is None else rate_text(line.tax_rate))
        row.append(str(line.net))
        rows.append(row)
    widths = [0.46, 0.14, 0.16, 0.08, 0.16] if taxed else [0.52, 0.16, 0.16, 0.16]
    table = Table(rows, colWidths=[w * _WIDTH for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT, 9),
                ("FONT", (0, 0), (-1, 0), _BOLD, 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _totals(document: InvoiceDocument) -> Table:
    rows = document.total_lines()
    gross_at = len(rows) - len(document.settlement) - 1
    table = Table([[name, str(amount)] for name, amount in rows], colWidths=[_WIDTH * 0.78, _WIDTH * 0.22])
    style = [
        ("FONT", (0, 0), (-1, -1), _FONT, 9.5),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("FONT", (0, gross_at), (-1, gross_at), _BOLD, 10.5),
        ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
    ]
    if document.settlement:
        style.append(("FONT", (0, len(rows) - 1), (-1, len(rows) - 1), _BOLD, 10.5))
    table.setStyle(TableStyle(style))
    return table


def render_pdf(document: InvoiceDocument) -> bytes:
    """The document as an A4 PDF (one page for a usual invoice; long ones continue, the table's
    header repeated)."""
    _fonts()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=document.title,
        author=document.seller.name,
        lang=document.language,
        invariant=1,
    )
    story: list[Flowable] = []
    if document.logo:
        try:
            logo = Image(document.logo)
            logo.drawWidth, logo.drawHeight = logo.drawWidth * 16 * mm / logo.drawHeight, 16 * mm
        except (OSError, ValueError) as exc:
            raise AgentError(
                f"the logo {document.logo} cannot be printed ({exc}); set another with /profile logo=PATH"
            ) from exc
        logo.hAlign = "LEFT"
        story += [logo, Spacer(1, 4 * mm)]
    story += [_header(document), Spacer(1, 8 * mm)]
    buyer = document.buyer
    bill_to = [document.label("bill_to"), buyer.name, *buyer.address]
    if buyer.tax_id:
        bill_to.append(f"{document.label('tax_id')}: {buyer.tax_id}")
    story += [*_lines(bill_to), Spacer(1, 6 * mm)]
    notes = list(document.notes)
    if document.kind == "credit_note" and notes:
        story += [_para(notes.pop(0), _style("cancels", 10, bold=True)), Spacer(1, 3 * mm)]
    story += [_items(document), Spacer(1, 3 * mm), _totals(document), Spacer(1, 6 * mm)]
    story += [_para(note, _style("note", 9)) for note in notes]
    if document.payment:
        story += [Spacer(1, 3 * mm), *_lines([document.label("payment"), *document.payment])]
    try:
        pdf.build(story)
    except OSError as exc:  # a logo file that vanished between the check and the build
        raise AgentError(f"the PDF of {document.number} could not be written ({exc})") from exc
    return out.getvalue()
