"""HTML templates to PDF with WeasyPrint: one document, or many merged into one print file."""

from collections.abc import Sequence

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.document import Document


def render_document(template_name: str, context: dict) -> Document:
    """Lay out one document (not yet written), so that batches can merge pages."""
    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def render_pdf(template_name: str, context: dict) -> bytes:
    """One document as PDF bytes."""
    return render_document(template_name, context).write_pdf()


def merge_pdf(documents: Sequence[Document]) -> bytes:
    """Rendered documents as one PDF (the mail house's print file), pages in order."""
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()
