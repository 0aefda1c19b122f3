"""The monthly notices rendered in batches by a real Celery worker (Redis broker, a private
queue): every document ready, one print file per batch with all their pages, e-mail once,
and a rerun of the step queues nothing."""

import io
import time
import uuid
from datetime import date
from decimal import Decimal

import pypdf
import pytest
import zxingcpp
from django.core import mail
from PIL import Image

from billing import services as billing_services
from debtors import batch_tasks, batches, services, tasks
from debtors.models import DebtCase, DebtDocument, DocumentBatch
from tests.debtors.conftest import charge, pay
from tests.factories import PersonalAccountFactory, SubscriberFactory
from tests.pdfs import assert_same_places

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("legal_data", "rates"),
]

JAN, FEB, APR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 4, 1)
ON = date(2025, 4, 2)


@pytest.fixture(autouse=True)
def _no_render():
    """Overrides the package's list-queue: here the documents' own tasks go to the worker
    too (a batched document's task leaves it to its batch)."""
    return []


def pages(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.2)


@pytest.fixture
def debtors_and_a_paused_one():
    accounts = []
    for number in range(4):
        subscriber = SubscriberFactory(email=f"debtor{number}@example.ru" if number == 0 else "")
        account = PersonalAccountFactory(
            subscriber=subscriber, residents=2, opened_on=date(2020, 1, 1)
        )
        charge(account, JAN, "700.00")
        charge(account, FEB, "700.00")
        accounts.append(account)
    services.update_cases(on=date(2025, 3, 15))
    paused = DebtCase.objects.get(account=accounts[3])
    services.sign_agreement(
        case_id=paused.pk, number="Р-1", signed_on=date(2025, 3, 15),
        schedule=[(date(2025, 4, 1), Decimal("700.00")), (date(2025, 5, 1), Decimal("700.00"))],
    )  # fmt: skip
    pay(accounts[3], "700.00", date(2025, 3, 30), "inst-1")  # the agreement is kept
    return accounts, paused


def test_worker_renders_a_batch_of_notices(debtors_and_a_paused_one, settings, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from vodokanal.celery import app

    _, paused = debtors_and_a_paused_one
    period = billing_services.ensure_period(APR)
    settings.DEBT_DOCUMENT_BATCH_SIZE = 2  # three notices -> batches of 2 and 1
    queue = f"test-notices-{uuid.uuid4().hex}"  # no other worker takes these tasks
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            created = batches.issue_notices(period_id=period.pk, on=ON)
            assert created == 3
            wait_for(
                lambda: (
                    DocumentBatch.objects.filter(status="ready").count() == 2
                    and DebtDocument.objects.filter(emailed_at__isnull=False).count() == 1
                )
            )
    finally:
        app.conf.task_default_queue = "celery"

    notices = DebtDocument.objects.filter(kind="notice", period=period)
    assert notices.count() == 3
    assert not notices.filter(case=paused).exists()  # paused by a kept agreement
    assert sorted(DocumentBatch.objects.values_list("kind", flat=True)) == ["notice", "notice"]
    for batch in DocumentBatch.objects.all():
        members = list(batch.documents.all())
        assert len(members) in (1, 2)
        assert all(d.status == "ready" and d.rendered_at for d in members)
        document_pages = 0
        for document in members:
            with document.pdf.open("rb") as stored:
                data = stored.read()
            assert data[:5] == b"%PDF-"
            document_pages += pages(data)
        with batch.print_file.open("rb") as stored:
            assert pages(stored.read()) == document_pages
        assert batch.rendered_at is not None
    # The one debtor with an e-mail got the notice once, the PDF attached.
    assert [m.to for m in mail.outbox] == [["debtor0@example.ru"]]
    assert mail.outbox[0].attachments[0][2] == "application/pdf"

    # A rerun of the monthly step: nothing new, nothing queued.
    queued: list[int] = []
    monkeypatch.setattr(batch_tasks.render_document_batch, "delay_on_commit", queued.append)
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", queued.append)
    assert batches.issue_notices(period_id=period.pk, on=date(2025, 4, 3)) == 0
    assert queued == []
    assert DebtDocument.objects.count() == 3
    assert DocumentBatch.objects.count() == 2


@pytest.fixture
def queued_batches(monkeypatch) -> list[int]:
    """Batches queued for rendering, kept here instead: the test renders them itself,
    and sends no e-mail."""
    queued: list[int] = []
    monkeypatch.setattr(batch_tasks.render_document_batch, "delay_on_commit", queued.append)
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", lambda pk: None)
    monkeypatch.setattr(batch_tasks.email_document, "delay_on_commit", lambda pk: None)
    return queued


def test_a_batch_left_pending_is_queued_again(debtors_and_a_paused_one, queued_batches):
    """A crash between issuing and rendering: the rerun queues the pending batch, and
    renders nothing twice."""
    period = billing_services.ensure_period(APR)
    queued = queued_batches

    assert batches.issue_notices(period_id=period.pk, on=ON) == 3
    [batch_id] = queued
    assert batches.issue_notices(period_id=period.pk, on=ON) == 0
    assert queued == [batch_id, batch_id]  # queued again: it is still pending

    batches.render_batch(batch_id=batch_id)
    first = DocumentBatch.objects.get(pk=batch_id)
    batches.render_batch(batch_id=batch_id)  # a second run changes nothing
    again = DocumentBatch.objects.get(pk=batch_id)
    assert (again.status, again.rendered_at, again.print_file.name) == (
        "ready",
        first.rendered_at,
        first.print_file.name,
    )
    assert batches.issue_notices(period_id=period.pk, on=ON) == 0
    assert queued == [batch_id, batch_id]


def test_the_beat_job_issues_this_months_notices(debtors_and_a_paused_one, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(batch_tasks.render_document_batch, "delay_on_commit", queued.append)
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", lambda pk: None)

    assert batches.issue_scheduled_notices(on=ON) == 3

    notices = DebtDocument.objects.filter(kind="notice")
    assert {(d.period.month, d.issued_on) for d in notices} == {(APR, ON)}
    assert len(queued) == 1
    assert batches.issue_scheduled_notices(on=date(2025, 4, 28)) == 0  # same month: none


def test_a_batchs_notices_read_as_the_single_notices(
    debtors_and_a_paused_one, queued_batches, monkeypatch
):
    """The batch lays out the notices' shared form once and draws each one's fields over
    it: every page must read as the notice rendered alone, footer and QR codes included."""
    from debtors import documents
    from vodokanal.common.printing import pdf as billing_pdf

    period = billing_services.ensure_period(APR)
    queued = queued_batches
    assert batches.issue_notices(period_id=period.pk, on=ON) == 3
    laid_out_whole: list[str] = []
    write = billing_pdf.html_pdf
    monkeypatch.setattr(
        billing_pdf, "html_pdf", lambda html: laid_out_whole.append(html) or write(html)
    )

    batches.render_batch(batch_id=queued[0])

    assert laid_out_whole == []  # one form for the three, each drawn over it
    notices = DebtDocument.objects.filter(batch_id=queued[0]).select_related("case__account")
    assert notices.count() == 3
    for notice in notices:
        drawn = notice.pdf.read()
        single = documents.document_pdf(notice)
        assert_same_places(drawn, single)
        text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(drawn)).pages)
        assert f"Уведомление о задолженности № {notice.number}" in text
        assert notice.case.account.number in text
        decoded = sorted(
            zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))[0].text
            for page in pypdf.PdfReader(io.BytesIO(drawn)).pages
            for image in page.images
        )
        assert decoded == sorted(qr.payload for qr in documents.document_context(notice)["qrs"])
