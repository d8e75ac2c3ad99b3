"""Print views and PDFs shared by the blueprints: the PDF font and the xhtml2pdf response."""

from __future__ import annotations

import io
import os

from flask import Response
from xhtml2pdf import pisa

# A font with the rupee sign (U+20B9) for PDFs; xhtml2pdf's built-in Helvetica has none.
PDF_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf")


def pdf_font() -> str | None:
    """The first PDF font found on this machine (None: amounts print without the rupee sign's glyph)."""
    return next((path for path in PDF_FONTS if os.path.exists(path)), None)


def pdf_response(filename: str, html: str) -> Response:
    """The print view rendered to PDF with xhtml2pdf."""
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:  # pragma: no cover - xhtml2pdf reports layout failures here
        return Response("The PDF could not be produced.", status=500, mimetype="text/plain")
    response = Response(out.getvalue(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
