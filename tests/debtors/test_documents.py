"""Debt documents as real PDFs (docs/formats.md §4): the figures the text holds, the amount
in words, the terms, the payment QR code read back from the PDF, and the e-mail sent once.

An individual: January and February 2025 charged 700.00 each, unpaid (due 10.02 and 10.03),
walked through notice, warning, restriction, court order and, after paying, restoration.
An organisation: January to March 50 000.00 each, walked through notice, claim, warning,
restriction, statement of claim and restoration.
"""

import io
from datetime import date
from decimal import Decimal

import pypdf
import pytest
import zxingcpp
from django.core import mail
from PIL import Image

from billing import selectors as billing_selectors
from billing.receipts import payee
from debtors import batch_tasks, documents, services
from debtors.models import DebtCase, DebtDocument
from tests.debtors.conftest import charge, pay
from tests.factories import (
    LegalSubscriberFactory,
    MeterFactory,
    PersonalAccountFactory,
    SubscriberFactory,
    UserFactory,
    link,
)
from vodokanal.common.amount_words import amount_with_words, format_rub
from vodokanal.common.printing.payment_qr import parse_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

JAN, FEB, MAR, APR = (date(2025, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture(autouse=True)
def emails_queued(monkeypatch):
    """The e-mail task's queue as a list: the tests below send through the service."""
    queued: list[int] = []
    monkeypatch.setattr(batch_tasks.email_document, "delay_on_commit", queued.append)
    return queued


def period(month: date):
    from billing import services as billing_services

    return billing_services.ensure_period(month)


def pdf_text(data: bytes) -> str:
    """The PDF's text on one line, non-breaking spaces as plain ones."""
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").split())


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def render(document: DebtDocument) -> tuple[bytes, str]:
    documents.render_document(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == DebtDocument.Status.READY
    with document.pdf.open("rb") as stored:
        data = stored.read()
    assert data[:5] == b"%PDF-"
    return data, pdf_text(data)


def qr_codes(data: bytes) -> list[str]:
    """Every QR code drawn in the PDF, decoded from the images taken out of it."""
    found = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for image in page.images:
            image_codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
            found += [code.text for code in image_codes]
    return list(dict.fromkeys(found))  # pages share WeasyPrint's image resources


def assert_in(text: str, *expected: str) -> None:
    for item in expected:
        assert flat(item) in text, item


@pytest.fixture
def person():
    subscriber = SubscriberFactory(name="Петров Пётр Петрович", email="petrov@example.ru")
    account = PersonalAccountFactory(
        subscriber=subscriber, residents=2, opened_on=date(2020, 1, 1),
        address="г. Краснодар, ул. Северная, д. 5, кв. 12",
    )  # fmt: skip
    MeterFactory(account=account, serial="СВ-120001", installed_on=date(2024, 1, 10))
    charge(account, JAN, "700.00")
    charge(account, FEB, "700.00")
    return account


@pytest.fixture
def company():
    subscriber = LegalSubscriberFactory(
        email="buh@romashka.example.ru", contract_number="ХВС-0457", contract_date=date(2019, 3, 1)
    )
    account = PersonalAccountFactory(
        subscriber=subscriber, tariff_category="other", residents=0, opened_on=date(2020, 1, 1)
    )
    for month in (JAN, FEB, MAR):
        charge(account, month, "50000.00")
    return account


def test_individual_documents_hold_the_exact_figures(person, emails_queued):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=person)
    on = date(2025, 4, 20)
    notice = services.send_notice(case_id=case.pk, period=period(APR), on=on)
    warning = services.warn_restriction(case_id=case.pk, on=on)
    services.record_delivery(
        document_id=warning.pk, method="hand", sent_on=date(2025, 4, 21),
        delivered_on=date(2025, 4, 21),
    )  # fmt: skip
    restriction = services.restrict(case_id=case.pk, method="reduce", on=date(2025, 5, 11))
    services.record_restricted(restriction_id=restriction.pk, restricted_on=date(2025, 5, 12))
    court = services.go_to_court(
        case_id=case.pk, court="Мировой судья судебного участка № 7 Западного округа г. Краснодара",
        on=date(2025, 5, 13),
    )  # fmt: skip
    pay(person, "1400.00", date(2025, 5, 20), "chk-77")
    services.update_cases(on=date(2025, 5, 21))
    kinds = {d.kind: d for d in case.documents.all()}
    assert set(kinds) == {"notice", "warning", "restrict_order", "court_order", "restore_order"}

    # The notice: debt by month, the penalty to date equal to the engine's, the total.
    penalty = billing_selectors.penalty_breakdown(person, as_of=on).total
    assert penalty > 0
    assert Decimal(notice.data["penalty"]) == penalty
    total = Decimal("1400.00") + penalty
    data, text = render(notice)
    assert_in(
        text,
        f"УВЕДОМЛЕНИЕ О ЗАДОЛЖЕННОСТИ № {notice.number} от 20.04.2025",
        person.number,
        "ул. Северная, д. 5, кв. 12",
        "январь 2025 700,00 ₽",
        "февраль 2025 700,00 ₽",
        "Итого основной долг 1 400,00 ₽",
        "Просроченный долг на 20.04.2025 1 400,00 ₽",
        f"Пени на 20.04.2025 {format_rub(penalty)}",
        f"Итого {format_rub(total)}",
        f"Сумма прописью: {amount_with_words(total)}",
        f"Итого пени по расчёту на 20.04.2025 {format_rub(penalty)}",  # the appendix
        "ограничено или приостановлено",
        "+7 (861) 200-00-00",
    )
    # One code for the debt, one for the penalty (paid apart, docs/penalties.md §6).
    debt_code, penalty_code = (parse_payload(code) for code in qr_codes(data))
    assert penalty_code["Sum"] == str(int(penalty * 100))
    assert penalty_code["Purpose"].startswith(f"Пени по уведомлению № {notice.number}")
    fields = debt_code
    assert fields["Sum"] == "140000"
    assert (fields["LastName"], fields["FirstName"]) == ("Петров", "Пётр")
    assert fields["PersAcc"] == person.number

    # The warning: the debt and its months, 20 days from delivery, what and how.
    _, text = render(warning)
    assert_in(
        text,
        f"ПРЕДУПРЕЖДЕНИЕ об ограничении (приостановлении) предоставления коммунальной услуги "
        f"№ {warning.number} от 20.04.2025",
        "январь 2025 700,00 ₽",
        "в течение 20 календарных дней со дня доставки",
        amount_with_words(Decimal("1400.00")),
        "холодное водоснабжение — ограничение",
        "водоотведение — ограничение путём установки заглушки",
        "возмещаются за счёт должника",
        "доставлено 21.04.2025",
    )

    # The crew's order: address, account, meter, method, dates; no QR code.
    order = kinds["restrict_order"]
    data, text = render(order)
    assert_in(
        text,
        f"НАРЯД-ЗАДАНИЕ НА ОГРАНИЧЕНИЕ (приостановление) подачи холодной воды и (или) "
        f"водоотведения № {order.number} от 11.05.2025",
        person.number,
        "СВ-120001",
        "☒ Ограничение (снижение подачи) холодной воды",
        f"Предупреждение № {warning.number} от 20.04.2025, доставлено 21.04.2025",
        "Ограничение введено (дата, время) 12.05.2025",
    )
    assert qr_codes(data) == []

    # The court order: the magistrate, the figures, the state fee, the attachments.
    application = kinds["court_order"]
    figures = documents.parse_figures(application)
    court_penalty = billing_selectors.penalty_breakdown(person, as_of=date(2025, 5, 13)).total
    assert figures.penalty == court_penalty
    assert figures.state_fee == court.state_fee == Decimal("2000.00")
    _, text = render(application)
    assert_in(
        text,
        "Мировой судья судебного участка № 7 Западного округа г. Краснодара",
        "Петров Пётр Петрович",
        "январь 2025 700,00 ₽",
        f"пени на 13.05.2025 {format_rub(court_penalty)}",
        "расходы по уплате государственной пошлины 2 000,00 ₽",
        f"Всего {format_rub(Decimal('3400.00') + court_penalty)}",
        f"Всего: {amount_with_words(Decimal('3400.00') + court_penalty)}",
        "Государственная пошлина: 2 000,00 ₽",
        f"Итого пени по расчёту на 13.05.2025 {format_rub(court_penalty)}",
        "Приложения",
        "Платёжное поручение об уплате государственной пошлины на сумму 2 000,00 ₽",
    )

    restore = kinds["restore_order"]
    _, text = render(restore)
    assert_in(
        text,
        f"НАРЯД-ЗАДАНИЕ НА ВОЗОБНОВЛЕНИЕ подачи холодной воды и (или) водоотведения "
        f"№ {restore.number} от 21.05.2025",
        "Выполнить не позднее 23.05.2025",
        "Ограничено 12.05.2025",
    )
    # E-mails are queued for the subscriber's documents only, never for the crew's.
    assert sorted(emails_queued) == sorted([notice.pk, warning.pk, application.pk])


def test_legal_entity_claim_and_statement_of_claim(company):
    services.update_cases(on=date(2025, 4, 15))
    case = DebtCase.objects.get(account=company)
    on = date(2025, 4, 15)
    notice = services.send_notice(case_id=case.pk, period=period(APR), on=on)
    claim = services.send_claim(case_id=case.pk, on=on)
    services.record_delivery(
        document_id=claim.pk, method="registered_mail", sent_on=date(2025, 4, 16)
    )
    warning = services.warn_restriction(case_id=case.pk, on=on)
    services.record_delivery(
        document_id=warning.pk, method="hand", sent_on=date(2025, 4, 16),
        delivered_on=date(2025, 4, 16),
    )  # fmt: skip
    services.restrict(case_id=case.pk, method="plug", on=date(2025, 5, 16))
    court = services.go_to_court(
        case_id=case.pk, court="Арбитражный суд Краснодарского края", on=date(2025, 5, 16)
    )
    kinds = {d.kind: d for d in case.documents.all()}

    # The claim: parties, contract, debt by month, penalty line by line as the appendix,
    # total in figures and words, the deadline, the payment details and QR codes.
    penalty = billing_selectors.penalty_breakdown(company, as_of=on).total
    assert penalty > 0
    total = Decimal("150000.00") + penalty
    data, text = render(claim)
    assert_in(
        text,
        f"ПРЕТЕНЗИЯ об оплате задолженности за холодное водоснабжение и водоотведение "
        f"№ {claim.number} от 15.04.2025",
        "ООО «Ромашка»",
        "ИНН 7707083893, КПП 770701001",
        "№ ХВС-0457 от 01.03.2019",
        "январь 2025 счёт и акт об оказании услуг за январь 2025",
        "март 2025 счёт и акт об оказании услуг за март 2025, л/с",
        "Итого основной долг 150 000,00 ₽",
        "Просроченный долг на 15.04.2025 150 000,00 ₽",
        f"Пени на 15.04.2025 {format_rub(penalty)}",
        f"Итого: {amount_with_words(total)}",
        "до 25.04.2025",
        "30 календарных дней со дня направления настоящей претензии",
        "ограничение или прекращение подачи холодной воды",
        payee().personal_acc,
        f"Приложение № 1 к претензии № {claim.number}",
        f"Итого пени по расчёту на 15.04.2025 {format_rub(penalty)}",
        "1/130",
        "Уполномоченный представитель",
    )
    lines = claim.data["penalty_lines"]
    for line in lines:
        assert flat(f"{format_rub(Decimal(line['amount']))}") in text
    codes = {parse_payload(code)["Sum"]: parse_payload(code) for code in qr_codes(data)}
    debt_kopecks = "15000000"
    penalty_kopecks = str(int(penalty * 100))
    assert set(codes) == {debt_kopecks, penalty_kopecks}
    assert codes[debt_kopecks]["Purpose"].startswith(
        f"Оплата задолженности за водоснабжение и водоотведение по претензии № {claim.number}"
    )
    assert codes[debt_kopecks]["PayerINN"] == "7707083893"
    assert codes[debt_kopecks]["PersonalAcc"] == payee().personal_acc
    assert codes[penalty_kopecks]["Purpose"].startswith("Пени по претензии")

    # The organisation's warning: its own term (a setting, 30 days).
    _, text = render(warning)
    assert_in(text, "в течение 30 календарных дней со дня доставки", "ст. 21 Федерального закона")

    # The statement of claim: arbitrazh court, claim sent, fee by art. 333.21.
    statement = kinds["statement_of_claim"]
    figures = documents.parse_figures(statement)
    assert (
        figures.penalty
        == billing_selectors.penalty_breakdown(company, as_of=date(2025, 5, 16)).total
    )
    assert figures.state_fee == court.state_fee
    _, text = render(statement)
    assert_in(
        text,
        "Арбитражный суд Краснодарского края",
        "ИСКОВОЕ ЗАЯВЛЕНИЕ о взыскании задолженности и неустойки (пени) по договору холодного "
        "водоснабжения и водоотведения № ХВС-0457 от 01.03.2019",
        f"Цена иска: {format_rub(figures.total)}",
        f"Государственная пошлина: {format_rub(court.state_fee)}",
        f"Цена иска: {amount_with_words(figures.total)}",
        f"претензия № {claim.number} от 15.04.2025 направлена ответчику 16.04.2025 "
        "(заказным письмом)",
        "февраль 2025 счёт и акт",
        f"Итого пени по расчёту на 16.05.2025 {format_rub(figures.penalty)}",
        "пп. 1 п. 1 ст. 333.21",
    )
    _, text = render(kinds["restrict_order"])
    assert_in(text, "☒ Заглушка на выпуске водоотведения")
    _, text = render(notice)
    assert_in(text, "150 000,00 ₽", "арбитражный суд")


def test_document_is_emailed_once_with_the_pdf(person, emails_queued):
    user = UserFactory(email="son@example.ru")
    link(user, person)
    unconfirmed = UserFactory(email="stranger@example.ru")
    from accounts.models import AccountLink

    AccountLink.objects.create(user=unconfirmed, account=person)  # not confirmed: no e-mail
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=person)
    notice = services.send_notice(case_id=case.pk, period=period(APR), on=date(2025, 4, 20))
    assert documents.email_document(document_id=notice.pk) == 0  # not rendered yet
    data, _ = render(notice)
    assert emails_queued == [notice.pk]

    assert documents.email_document(document_id=notice.pk) == 2
    assert documents.email_document(document_id=notice.pk) == 0  # a rerun sends nothing

    assert sorted(m.to for m in mail.outbox) == [["petrov@example.ru"], ["son@example.ru"]]
    message = mail.outbox[0]
    assert (
        message.subject
        == f"Уведомление о задолженности № {notice.number} от 20.04.2025 — Водоканал"
    )
    assert person.number in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (f"notice-{notice.number}.pdf", "application/pdf")
    assert content == data
    notice.refresh_from_db()
    assert notice.emailed_at is not None


def test_failed_send_releases_the_claim_for_a_retry(person, monkeypatch):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=person)
    notice = services.send_notice(case_id=case.pk, period=period(APR), on=date(2025, 4, 20))
    render(notice)

    def refuse(self, messages):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(OSError, match="SMTP down"):
        documents.email_document(document_id=notice.pk)
    notice.refresh_from_db()
    assert notice.emailed_at is None
    monkeypatch.undo()
    assert documents.email_document(document_id=notice.pk) == 1


def test_work_orders_are_never_emailed(person):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=person)
    warning = services.warn_restriction(case_id=case.pk, on=date(2025, 3, 16))
    services.record_delivery(
        document_id=warning.pk, method="hand", sent_on=date(2025, 3, 17),
        delivered_on=date(2025, 3, 17),
    )  # fmt: skip
    services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 7))
    order = case.documents.get(kind="restrict_order")
    render(order)

    assert documents.email_document(document_id=order.pk) == 0
    assert mail.outbox == []


def test_costs_of_restriction_and_the_signatory_come_from_settings(person, settings):
    settings.RESTRICTION_COSTS = "1500.00"
    settings.DEBT_DOCUMENT_SIGNATORY = "Начальник абонентского отдела Сидорова А. В."
    services.update_cases(on=date(2025, 3, 15))
    warning = services.warn_restriction(
        case_id=DebtCase.objects.get(account=person).pk, on=date(2025, 3, 16)
    )

    _, text = render(warning)

    assert_in(
        text,
        "возмещаются за счёт должника (п. 121(1) Правил № 354) и составляют 1 500,00 ₽",
        "Начальник абонентского отдела Сидорова А. В.",
    )
