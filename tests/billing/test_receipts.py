"""Receipts (ЕПД): the figures printed, the payment QR code read back from the PDF, and the
batches rendered by a real Celery worker into stored files and one print file."""

import io
import uuid
from datetime import date
from decimal import Decimal

import pypdf
import pytest
import zxingcpp
from PIL import Image

from billing import services
from billing.models import Period, Receipt, ReceiptBatch
from billing.receipts import payee, receipt_data
from tests.billing.conftest import bill, bill_and_close, read
from tests.factories import MeterFactory, PersonalAccountFactory, SubscriberFactory
from vodokanal.common.printing.payment_qr import parse_payload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("legal_data", "rates"),
]

FEB, MAR = date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture
def billed():
    """February 5 m3 (450.00, unpaid), March 3 m3 (270.00) with 100.00 paid on 05.03."""
    subscriber = SubscriberFactory(name="Петрова Анна Сергеевна")
    account = PersonalAccountFactory(
        subscriber=subscriber,
        residents=2,
        opened_on=date(2020, 1, 1),
        address="г. Краснодар, ул. Красная, д. 3, кв. 17",
    )
    meter = MeterFactory(account=account, serial="СВ-555123", installed_on=date(2024, 1, 10))
    read(meter, "105.000", date(2025, 2, 20))
    bill_and_close(FEB)
    services.register_payment(
        account_id=account.pk, amount=Decimal("100.00"), paid_on=date(2025, 3, 5),
        source="cash_desk", external_id="rcpt-1",
    )  # fmt: skip
    read(meter, "108.000", date(2025, 3, 18))
    bill(MAR)
    return account


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_receipt_pdf_has_the_right_figures_and_qr(billed, settings):
    march = Period.objects.get(month=MAR)

    receipt = services.receipt_for(account=billed, period=march)
    data = receipt.pdf.read()

    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = pdf_text(data).replace("\u00a0", " ")
    for expected in (
        "Платёжный документ (ЕПД) за март 2025",
        "Петрова Анна Сергеевна",
        "ул. Красная, д. 3, кв. 17",
        billed.number,
        "Холодное водоснабжение 3,000 м³ по показаниям 50,00 150,00 ₽",
        "Водоотведение 3,000 м³ по показаниям 40,00 120,00 ₽",
        "СВ-555123 108,000 м³ 18.03.2025 3,000 м³",
        "на начало месяца 450,00 ₽",  # February unpaid
        "Оплачено в месяце: 05.03.2025 — 100,00 ₽ 100,00 ₽",
        "Итого к оплате за водоснабжение и водоотведение 620,00 ₽",  # 450 + 270 - 100
        "Оплатить до 10.04.2025",
        "начисляются пени (ч. 14 ст. 155 Жилищного кодекса РФ)",  # an individual's law
        f"автоматической линии {settings.UTILITY['readings_phone']}",  # as on /pay/
        f"Тел. {settings.UTILITY['phone']}",
        billed.link_code,
    ):
        assert expected in " ".join(text.split()), expected

    # The QR image is taken out of the PDF itself and decoded.
    image = Image.open(io.BytesIO(reader.pages[0].images[0].data))
    decoded = zxingcpp.read_barcodes(image)[0].text
    fields = parse_payload(decoded)
    assert decoded.startswith("ST00012|Name=")
    assert fields["Sum"] == "62000"
    assert fields["PersAcc"] == billed.number
    assert fields["PaymPeriod"] == "032025"
    assert fields["LastName"] == "Петрова"
    assert fields["PersonalAcc"] == payee().personal_acc
    assert decoded == receipt_data(billed, march).payload


def test_receipt_shows_penalty_apart_and_totals_match_the_ledger(billed):
    from billing import selectors

    data = receipt_data(billed, Period.objects.get(month=MAR))
    balance = selectors.account_balance(billed)

    assert (data.principal_due, data.penalty_due) == (balance.principal, balance.penalty)
    assert data.to_pay == Decimal("620.00")
    assert data.paid == Decimal("100.00")
    assert [line.total for line in data.lines] == [Decimal("150.00"), Decimal("120.00")]


def test_receipt_batches_are_rendered_by_a_celery_worker(billed, settings):
    from celery.contrib.testing.worker import start_worker

    from vodokanal.celery import app

    second = PersonalAccountFactory(residents=1, opened_on=date(2020, 1, 1))  # billed by the norm
    bill(MAR)
    settings.RECEIPT_BATCH_SIZE = 1  # two accounts -> two batches, two tasks
    queue = f"test-receipts-{uuid.uuid4().hex}"  # no other worker takes these tasks
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            created = services.issue_receipts(period_id=Period.objects.get(month=MAR).pk)
            assert created == 2
            _wait_for(lambda: ReceiptBatch.objects.filter(status="ready").count() == 2)
    finally:
        app.conf.task_default_queue = "celery"

    receipts = Receipt.objects.filter(period__month=MAR).order_by("account__number")
    assert [r.account for r in receipts] == sorted([billed, second], key=lambda a: a.number)
    for receipt in receipts:
        assert receipt.rendered_at is not None
        assert receipt.account.number in pdf_text(receipt.pdf.read())
    for batch in ReceiptBatch.objects.all():
        pages = pypdf.PdfReader(io.BytesIO(batch.print_file.read())).pages
        assert len(pages) == batch.receipts.count() == 1
    # A rerun finds every account served: nothing new, nothing rendered twice.
    assert services.issue_receipts(period_id=Period.objects.get(month=MAR).pk) == 0


def _wait_for(condition, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.2)
