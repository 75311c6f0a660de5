"""The invoice layout of agents/invoice_pdf.py written with fpdf2: what reportlab was measured
against (bench/invoice_pdf.py). Same document, same fonts, same blocks; fpdf2 parses and subsets
the TTF again for every document, which is where its time goes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from agents.errors import AgentError
from agents.invoice_document import InvoiceDocument
from agents.invoice_pdf import FONTS
from store.tax import rate_text

_FONT = "DejaVu"


def _quantity(quantity: Decimal, unit: str | None) -> str:
    text = f"{quantity.normalize():f}"
    return f"{text} {unit}{'s' if unit and quantity != 1 else ''}" if unit else text


class _Page(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.add_font(_FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(_FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(18, 18, 18)


def _block(pdf: FPDF, lines: list[str], x: float, width: float, bold_first: bool = True) -> float:
    """Lines of text at x from the current y; returns the y under them."""
    for i, line in enumerate(lines):
        pdf.set_x(x)
        pdf.set_font(_FONT, "B" if bold_first and i == 0 else "", 9.5)
        pdf.cell(width, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y()


def render_fpdf2(document: InvoiceDocument) -> bytes:
    """The document as an A4 PDF, with fpdf2."""
    pdf = _Page()
    # Reproducible bytes: the same document always renders to the same PDF.
    pdf.set_creation_date(datetime.combine(document.issue_date, time(), tzinfo=UTC))
    pdf.set_title(document.title)
    pdf.set_author(document.seller.name)
    pdf.set_lang(document.language)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    top = pdf.get_y()
    if document.logo:
        try:
            pdf.image(document.logo, x=pdf.l_margin, y=top, h=16)
        except (OSError, RuntimeError, ValueError) as exc:
            raise AgentError(
                f"the logo {document.logo} cannot be printed ({exc}); set another with `coo profile`"
            ) from exc
        pdf.set_y(top + 20)
    seller = document.seller
    seller_lines = [seller.name, *seller.address]
    if seller.tax_id:
        seller_lines.append(f"{document.label('tax_id')}: {seller.tax_id}")
    if seller.email:
        seller_lines.append(seller.email)
    start = pdf.get_y()
    left_end = _block(pdf, seller_lines, pdf.l_margin, width / 2)
    pdf.set_y(start)
    pdf.set_font(_FONT, "B", 18)
    pdf.set_x(pdf.l_margin + width / 2)
    pdf.cell(width / 2, 9, document.label(document.kind), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    facts = [(document.label("number"), document.number), (document.label("issued"), document.issue_date.isoformat())]
    if document.due_date is not None:
        facts.append((document.label("due"), document.due_date.isoformat()))
    if document.po_number:
        facts.append((document.label("po"), document.po_number))
    for name, value in facts:
        pdf.set_x(pdf.l_margin + width / 2)
        pdf.set_font(_FONT, "", 9.5)
        pdf.cell(width / 2, 5, f"{name}: {value}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_end, pdf.get_y()) + 8)
    buyer = document.buyer
    buyer_lines = [document.label("bill_to"), buyer.name, *buyer.address]
    if buyer.tax_id:
        buyer_lines.append(f"{document.label('tax_id')}: {buyer.tax_id}")
    _block(pdf, buyer_lines, pdf.l_margin, width)
    pdf.ln(6)
    for note in document.notes[:1] if document.kind == "credit_note" else []:
        pdf.set_font(_FONT, "B", 10)
        pdf.multi_cell(width, 5, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    _lines_table(pdf, document, width)
    pdf.ln(3)
    _totals(pdf, document, width)
    pdf.ln(6)
    pdf.set_font(_FONT, "", 9)
    notes = document.notes[1:] if document.kind == "credit_note" else document.notes
    for note in notes:
        pdf.multi_cell(width, 4.8, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.payment:
        pdf.ln(3)
        pdf.set_font(_FONT, "B", 9.5)
        pdf.cell(width, 5, document.label("payment"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(_FONT, "", 9)
        for line in document.payment:
            pdf.multi_cell(width, 4.8, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _lines_table(pdf: FPDF, document: InvoiceDocument, width: float) -> None:
    taxed = document.taxes.taxed
    columns = [0.46, 0.14, 0.16, 0.08, 0.16] if taxed else [0.52, 0.16, 0.16, 0.16]
    headers = [document.label("description"), document.label("qty"), document.label("unit_price")]
    headers += [document.label("rate")] if taxed else []
    headers.append(document.label("amount"))
    with pdf.table(
        col_widths=columns,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT") if taxed else ("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5.5,
        width=width,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        pdf.set_font(_FONT, "B", 9)
        table.row(headers)
        pdf.set_font(_FONT, "", 9)
        for line in document.lines:
            cells = [line.description, _quantity(line.quantity, line.unit), str(line.unit_price)]
            if taxed:
                cells.append("" if line.tax_rate is None else rate_text(line.tax_rate))
            cells.append(str(line.net))
            table.row(cells)


def _totals(pdf: FPDF, document: InvoiceDocument, width: float) -> None:
    rows = document.total_lines()
    gross_at = len(rows) - len(document.settlement) - 1
    for i, (name, amount) in enumerate(rows):
        strong = i == gross_at or (document.settlement and i == len(rows) - 1)
        pdf.set_font(_FONT, "B" if strong else "", 10 if strong else 9.5)
        pdf.set_x(pdf.l_margin + width * 0.35)
        pdf.cell(width * 0.45, 6, name, align="R")
        pdf.cell(width * 0.20, 6, str(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
