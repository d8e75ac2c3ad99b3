"""Print views and PDFs shared by the blueprints: the PDF font, the xhtml2pdf response and
``printed``, which wraps a screen's partial in ``reports/print.html`` (``?print=1``) or renders
the same page to PDF."""

from __future__ import annotations

import io
import os
import secrets
from typing import Any

from flask import Response, current_app, g, render_template
from xhtml2pdf import pisa

from app.security import build_csp

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


def printed(partial: str, title: str, fmt: str, filename: str, **context: Any) -> Response:
    """The print view (``?print=1``) of a screen's partial, or the same rendered to PDF (``fmt="pdf"``).

    The print view's own ``<style>`` and ``window.print()`` are inline, so this response's CSP
    allows them by a one-time nonce (``csp_nonce`` in the template); nothing else inline runs."""
    nonce = secrets.token_urlsafe(16)
    html = render_template(
        "reports/print.html",
        partial=partial,
        title=title,
        pdf=fmt == "pdf",
        pdf_font=pdf_font(),
        csp_nonce=nonce,
        **context,
    )
    if fmt == "pdf":
        return pdf_response(filename, html)
    g.csp = build_csp(current_app, extra_script=f"'nonce-{nonce}'", extra_style=f"'nonce-{nonce}'")
    return Response(html, mimetype="text/html")
