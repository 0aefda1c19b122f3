"""HTML templates to PDF with WeasyPrint: one document, or many joined into one print file.

A batch writes each document as soon as it is laid out (a laid-out page holds megabytes of
boxes: keeping a batch of 200 for one merged write cost 700 MiB) and joins the finished
files with pypdf, which copies their objects instead of writing the pages a second time.
A batch of one template lays out each form once and draws the fields over it
(vodokanal/common/printing/pdf_forms.py)."""

import io
from collections.abc import Sequence

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfWriter
from weasyprint import HTML

from vodokanal.common.printing import pdf_forms


def render_pdf(template_name: str, context: dict) -> bytes:
    """One document as PDF bytes."""
    return html_pdf(render_to_string(template_name, context))


def render_pdfs(template_name: str, contexts: Sequence[dict]) -> tuple[list[bytes], bytes]:
    """Documents of one template as PDF files, in order, and their print file: a batch."""
    htmls = [render_to_string(template_name, context) for context in contexts]
    return pdf_forms.render_many(htmls, html_pdf)


def html_pdf(html: str) -> bytes:
    """A document's HTML laid out whole by WeasyPrint, as PDF bytes."""
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def merge_pdf(files: Sequence[bytes]) -> bytes:
    """PDF files as one (the mail house's print file), pages in order."""
    writer = PdfWriter()
    for data in files:
        writer.append(io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
