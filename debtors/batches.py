"""The monthly notices of debt in batches, and the rendering of a batch with its print file
for the mail house (docs/architecture.md §9; docs/architecture.md §2: a producer plus one small task per batch).

issue_notices is safe to rerun: a case that has the month's notice is skipped (and the
database's unique (case, kind, period) constraint backs that), and batches left pending by
a crashed run are queued again. A document of a batch is rendered by the batch's task
only, so its pages and the print file's are the same layout.
"""

import logging
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from billing import services as billing_services
from billing.models import Period
from debtors import batch_tasks, documents, services
from debtors.models import FINAL_STAGES, DebtCase, DebtDocument, DocumentBatch
from vodokanal.common import clock

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200


def batch_size() -> int:
    return int(getattr(settings, "DEBT_DOCUMENT_BATCH_SIZE", DEFAULT_BATCH_SIZE))


def issue_notices(*, period_id: int, on: date) -> int:
    """The month's notice of debt (уведомление) to every open case, in batches.

    Each case goes through services.send_notice (one notice per case and month); cases
    paused by a kept instalment agreement are refused there (code "paused") and skipped.
    The new notices are grouped into DocumentBatch rows of DEBT_DOCUMENT_BATCH_SIZE, one
    transaction per batch, and one render task per pending batch is queued after commit.
    Returns the number of new notices; a rerun returns 0 and queues nothing.
    """
    period = Period.objects.get(pk=period_id)
    served = DebtDocument.objects.filter(kind=DebtDocument.Kind.NOTICE, period=period).values(
        "case_id"
    )
    case_ids = iter(
        DebtCase.objects.filter(closed_on__isnull=True)
        .exclude(stage__in=FINAL_STAGES)
        .exclude(pk__in=served)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    size = batch_size()
    created = 0
    while True:
        with transaction.atomic():
            new = _notices(case_ids, period=period, on=on, limit=size)
            if not new:
                break
            batch = DocumentBatch.objects.create(kind=DebtDocument.Kind.NOTICE, period=period)
            DebtDocument.objects.filter(pk__in=new).update(batch=batch)
        created += len(new)
    pending = DocumentBatch.objects.filter(
        kind=DebtDocument.Kind.NOTICE, period=period, status=DocumentBatch.Status.PENDING
    ).values_list("pk", flat=True)
    for batch_id in pending:
        batch_tasks.render_document_batch.delay_on_commit(batch_id)
    logger.info("%s notices issued for period %s", created, period_id)
    return created


def _notices(case_ids: Iterator[int], *, period: Period, on: date, limit: int) -> list[int]:
    """Send notices from `case_ids` until `limit` new ones are made or the cases run out."""
    new: list[int] = []
    for case_id in case_ids:
        try:
            document = services.send_notice(case_id=case_id, period=period, on=on)
        except ValidationError as error:
            if error.code != "paused":
                logger.warning("no notice for case %s: %s", case_id, error.code)
            continue
        if document.batch_id is None and document.status == DebtDocument.Status.PENDING:
            new.append(document.pk)
        if len(new) >= limit:
            break
    return new


def batch_documents(*, document_ids: list[int], kind: str) -> DocumentBatch | None:
    """Group documents not yet in a batch into one, and queue its render (print file)."""
    with transaction.atomic():
        free = list(
            DebtDocument.objects.select_for_update()
            .filter(pk__in=document_ids, batch__isnull=True)
            .values_list("pk", flat=True)
        )
        if not free:
            return None
        batch = DocumentBatch.objects.create(kind=kind)
        DebtDocument.objects.filter(pk__in=free).update(batch=batch)
        batch_tasks.render_document_batch.delay_on_commit(batch.pk)
    return batch


def issue_scheduled_notices(*, on: date | None = None) -> int:
    """The beat job: this month's notices, dated today (Moscow)."""
    on = on or clock.today()
    period = billing_services.ensure_period(on)
    return issue_notices(period_id=period.pk, on=on)


def render_batch(*, batch_id: int) -> None:
    """Render each pending document of a batch and the batch's merged print file.

    A second run finds the batch ready and does nothing. Layout happens outside any
    transaction; the files are stored together under the batch's row lock, so a batch is
    either wholly pending or wholly ready. E-mails are queued after commit.
    """
    batch = DocumentBatch.objects.select_related("period").get(pk=batch_id)
    if batch.status == DocumentBatch.Status.READY:
        return
    members = list(
        batch.documents.select_related("case__account__subscriber").order_by(
            "case__account__number", "pk"
        )
    )
    if not members:
        logger.warning("document batch %s is empty", batch_id)
        return
    rendered, print_file = documents.document_pdfs(members)
    files = dict(zip([d.pk for d in members], rendered, strict=True))
    with transaction.atomic():
        batch = (
            DocumentBatch.objects.select_for_update(of=("self",))
            .select_related("period")
            .get(pk=batch_id)
        )
        if batch.status == DocumentBatch.Status.READY:  # another worker won the race
            return
        for document in DebtDocument.objects.select_for_update().filter(pk__in=files):
            if document.status != DebtDocument.Status.READY:
                documents.store_pdf(document, files[document.pk])
        month = f"-{batch.period.month:%Y-%m}" if batch.period else ""
        batch.print_file.save(
            f"{batch.kind}{month}-{batch.pk:06d}.pdf", ContentFile(print_file), save=False
        )
        batch.status = DocumentBatch.Status.READY
        batch.rendered_at = clock.now()
        batch.save(update_fields=["print_file", "status", "rendered_at"])
    logger.info("document batch %s rendered: %s documents", batch_id, len(members))
