"""The payment receipt as a PDF (fpdf2; its built-in Helvetica covers Spanish)."""
from __future__ import annotations

import unicodedata

from fpdf import FPDF

from banking_core.money import format_mxn


def receipt_rows(receipt) -> list[tuple[str, str]]:
    """The receipt's facts, in the order the page, the PDF and the e-mail give them."""
    local = receipt.local_posted_at
    rows = [("Folio", receipt.folio), ("Importe", format_mxn(receipt.amount_centavos)),
            ("Fecha", local.strftime("%d/%m/%Y")), ("Hora", local.strftime("%H:%M:%S")),
            ("Servicio", f"{receipt.service_name} ({receipt.service_key})")]
    rows += [(f"Referencia {n}", value) for n, value in enumerate(receipt.references, 1)]
    rows.append(("Cuenta de retiro", f"terminación {receipt.account_last4}"))
    rows.append(("Canal", {"phone": "Línea Directa", "web": "Conexión Personal",
                           "agent": "Ejecutivo telefónico",
                           "domiciliacion": "Domiciliación"}.get(receipt.channel,
                                                               receipt.channel)))
    return rows


def printable(text: str) -> str:
    """The text in the characters Helvetica has (Latin-1), so a receipt always
    renders: fpdf2 raises on anything else, and a payment stored with "１２３"
    in a reference (or a name with "ễ" or "’") would otherwise fail its PDF
    forever. A letter with accents Latin-1 lacks keeps its base letter (by its
    canonical decomposition, which never turns "１" into "1"); anything else
    shows as "?", never as a different digit."""
    out = []
    for char in str(text):
        for candidate in (char, unicodedata.normalize("NFD", char)[0], "?"):
            try:
                candidate.encode("latin-1")
            except UnicodeEncodeError:
                continue
            out.append(candidate)
            break
    return "".join(out)


def render(receipt, *, customer_name: str) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(f"Comprobante de pago {receipt.folio}")
    pdf.set_author("Conexión Personal")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Conexión Personal", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 8, "Comprobante de pago de servicio", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, printable(f"Cliente: {customer_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in receipt_rows(receipt):
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(55, 8, label)
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(0, 8, printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, "Conserve este comprobante. El mismo aviso se envió a su correo "
                         "electrónico registrado.")
    return bytes(pdf.output())
