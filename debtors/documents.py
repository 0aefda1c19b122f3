"""Debt documents to PDF (formats.md section 4): the context each template needs, and the
render that a worker runs. A second render of a ready document does nothing."""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing.pdf import render_pdf
from debtors.models import DebtDocument

logger = logging.getLogger(__name__)


def document_context(document: DebtDocument) -> dict:
    """Everything a document template prints."""
    return {
        "document": document,
        "case": document.case,
        "account": document.case.account,
        "subscriber": document.case.account.subscriber,
        "utility": settings.UTILITY,
        "data": document.data,
    }


def render_document(*, document_id: int) -> None:
    document = DebtDocument.objects.select_related("case__account__subscriber").get(pk=document_id)
    if document.status == DebtDocument.Status.READY:
        return
    pdf = render_pdf(f"debtors/pdf/{document.kind}.html", document_context(document))
    with transaction.atomic():
        document = DebtDocument.objects.select_for_update().get(pk=document_id)
        if document.status == DebtDocument.Status.READY:  # another worker won the race
            return
        document.pdf.save(f"{document.kind}-{document.number}.pdf", ContentFile(pdf), save=False)
        document.status = DebtDocument.Status.READY
        document.rendered_at = timezone.now()
        document.save(update_fields=["pdf", "status", "rendered_at"])
    logger.info("debt document %s rendered", document_id)
