"""The reconciliation act: balances, rows, turnovers and the PDF (billing.payments.reconciliation).

The ledger below is hand-built (amounts chosen so the sums are easy to check by hand):

    account A: Jan charges 1000 + 500, Jan penalty 12.34       (before the range)
               Feb charges 1100 + 550, payment 1700 on 10.02
               adjustment -120 on 15.03, Mar charges 900 + 450, penalty 45.67 on 31.03
               Apr charge 2000, payment 500 on 05.04           (after the range)
    account B: Jan charge 200                                  (before the range)
               Feb charge 300, Mar charges 250 + 125, payment 300 on 31.03

Range 01.02.2025-31.03.2025. Opening: principal 1700.00, penalty 12.34.
Debit 1650 + 300 + 1350 + 375 + 45.67 = 3720.67; credit 1700 + 120 + 300 = 2120.00.
Closing: 1712.34 + 3720.67 - 2120.00 = 3313.01 (principal 3255.00, penalty 58.01).
"""

import io
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from accounts.models import Subscriber
from billing.models import LedgerEntry, Payment, Service
from billing.payments.reconciliation import reconciliation_act, render_reconciliation_act
from billing.selectors import account_balance
from billing.services import book_adjustment, ensure_period, register_payment
from tests.factories import (
    LegalSubscriberFactory,
    PersonalAccountFactory,
    SubscriberFactory,
    staff_user,
)
from vodokanal.common.months import month_end

pytestmark = pytest.mark.django_db

DATE_FROM = date(2025, 2, 1)
DATE_TO = date(2025, 3, 31)
MOSCOW = ZoneInfo("Europe/Moscow")


def charge(account, month: date, service: str, amount: str) -> LedgerEntry:
    """A charge as the billing run books it: in the month's period, on its last day."""
    period = ensure_period(month)
    return LedgerEntry.objects.create(
        account=account,
        period=period,
        kind=LedgerEntry.Kind.CHARGE,
        service=service,
        amount=Decimal(amount),
        for_month=period.month,
        booked_on=month_end(month),
        run=None,
    )


def penalty(account, month: date, amount: str) -> LedgerEntry:
    """A penalty as the billing run books it: to the last day of the month."""
    period = ensure_period(month)
    as_of = month_end(month)
    return LedgerEntry.objects.create(
        account=account,
        period=period,
        kind=LedgerEntry.Kind.PENALTY,
        amount=Decimal(amount),
        for_month=period.month,
        booked_on=as_of,
        reason=f"Пени по {as_of:%d.%m.%Y} (416-ФЗ ст. 13 ч. 6.2, ст. 14 ч. 6.2)",
        run=None,
    )


def pay(account, amount: str, paid_on: date, external_id: str) -> Payment:
    return register_payment(
        account_id=account.pk,
        amount=Decimal(amount),
        paid_on=paid_on,
        source=Payment.Source.BANK_REGISTRY,
        external_id=external_id,
    )


def pdf_text(pdf: bytes) -> str:
    """All the text of a PDF, whitespace (incl. non-breaking spaces) collapsed to one space."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def ledger():
    subscriber = LegalSubscriberFactory(contract_date=date(2024, 12, 20))
    a = PersonalAccountFactory(subscriber=subscriber)
    b = PersonalAccountFactory(subscriber=subscriber)
    for month in (date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)):
        ensure_period(month)

    charge(a, date(2025, 1, 1), Service.WATER_SUPPLY, "1000.00")
    charge(a, date(2025, 1, 1), Service.SEWAGE, "500.00")
    charge(b, date(2025, 1, 1), Service.WATER_SUPPLY, "200.00")
    penalty(a, date(2025, 1, 1), "12.34")

    pay(a, "1700.00", date(2025, 2, 10), "SB-1001")
    charge(a, date(2025, 2, 1), Service.WATER_SUPPLY, "1100.00")
    charge(a, date(2025, 2, 1), Service.SEWAGE, "550.00")
    charge(b, date(2025, 2, 1), Service.WATER_SUPPLY, "300.00")

    with time_machine.travel(datetime(2025, 3, 15, 11, tzinfo=MOSCOW), tick=False):
        book_adjustment(
            account_id=a.pk,
            amount=Decimal("-120.00"),
            reason="акт обследования № 7 от 14.03.2025",
            user=staff_user("accountant"),
            service=Service.WATER_SUPPLY,
            for_month=date(2025, 2, 1),
        )
    charge(a, date(2025, 3, 1), Service.WATER_SUPPLY, "900.00")
    charge(a, date(2025, 3, 1), Service.SEWAGE, "450.00")
    charge(b, date(2025, 3, 1), Service.WATER_SUPPLY, "250.00")
    charge(b, date(2025, 3, 1), Service.SEWAGE, "125.00")
    penalty(a, date(2025, 3, 1), "45.67")
    pay(b, "300.00", date(2025, 3, 31), "SB-1002")

    # After the range: must not show anywhere.
    pay(a, "500.00", date(2025, 4, 5), "SB-1003")
    charge(a, date(2025, 4, 1), Service.WATER_SUPPLY, "2000.00")

    # Another subscriber's account in the range: must not show either.
    other = PersonalAccountFactory(subscriber=LegalSubscriberFactory(name="ООО «Лютик»"))
    charge(other, date(2025, 2, 1), Service.WATER_SUPPLY, "999.99")

    assert a.number < b.number  # rows of one day are ordered by account number
    return subscriber, a, b


def test_opening_balance_is_everything_booked_before_the_range(ledger):
    subscriber, _, _ = ledger

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert act.opening_on == date(2025, 1, 31)
    assert act.opening.principal == Decimal("1700.00")
    assert act.opening.penalty == Decimal("12.34")
    assert act.opening_debit == Decimal("1712.34")
    assert act.opening_credit == Decimal("0.00")


def test_rows_are_the_documents_of_the_range_in_date_order(ledger):
    subscriber, a, b = ledger

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert [(row.on, row.document, row.debit, row.credit) for row in act.rows] == [
        (
            date(2025, 2, 10),
            f"Оплата, п/п № SB-1001 от 10.02.2025, л/с {a.number}",
            Decimal("0.00"),
            Decimal("1700.00"),
        ),
        (
            date(2025, 2, 28),
            f"Реализация (начисление) за февраль 2025 по л/с {a.number}",
            Decimal("1650.00"),
            Decimal("0.00"),
        ),
        (
            date(2025, 2, 28),
            f"Реализация (начисление) за февраль 2025 по л/с {b.number}",
            Decimal("300.00"),
            Decimal("0.00"),
        ),
        (
            date(2025, 3, 15),
            f"Перерасчёт (холодное водоснабжение) за февраль 2025 по л/с {a.number}: "
            "акт обследования № 7 от 14.03.2025",
            Decimal("0.00"),
            Decimal("120.00"),
        ),
        (
            date(2025, 3, 31),
            f"Реализация (начисление) за март 2025 по л/с {a.number}",
            Decimal("1350.00"),
            Decimal("0.00"),
        ),
        (
            date(2025, 3, 31),
            f"Реализация (начисление) за март 2025 по л/с {b.number}",
            Decimal("375.00"),
            Decimal("0.00"),
        ),
        (
            date(2025, 3, 31),
            f"Пени по 31.03.2025 (416-ФЗ ст. 13 ч. 6.2, ст. 14 ч. 6.2), л/с {a.number}",
            Decimal("45.67"),
            Decimal("0.00"),
        ),
        (
            date(2025, 3, 31),
            f"Оплата, п/п № SB-1002 от 31.03.2025, л/с {b.number}",
            Decimal("0.00"),
            Decimal("300.00"),
        ),
    ]


def test_turnovers_and_closing_balance(ledger):
    subscriber, _, _ = ledger

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert act.debit_turnover == Decimal("3720.67")
    assert act.credit_turnover == Decimal("2120.00")
    assert act.closing.principal == Decimal("3255.00")
    assert act.closing.penalty == Decimal("58.01")
    assert act.closing_debit == Decimal("3313.01")
    assert act.closing_credit == Decimal("0.00")
    assert act.result == (
        "Задолженность ООО «Ромашка» перед ООО «Краснодар Водоканал» на 31.03.2025 "
        "составляет 3\u00a0313,01\u00a0₽ (три тысячи триста тринадцать рублей 01 копейка)."
    )


def test_closing_balance_equals_the_accounts_balances(ledger):
    subscriber, a, b = ledger

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    balances = [account_balance(account, on=DATE_TO) for account in (a, b)]
    assert act.closing.principal == sum(balance.principal for balance in balances)
    assert act.closing.penalty == sum(balance.penalty for balance in balances)
    opening = [account_balance(account, on=act.opening_on) for account in (a, b)]
    assert act.opening.total == sum(balance.total for balance in opening)


def test_entries_outside_the_range_only_move_the_opening_balance(ledger):
    subscriber, _, _ = ledger

    act = reconciliation_act(subscriber, date_from=date(2025, 3, 1), date_to=DATE_TO)

    # February is now before the range: principal 1700 + 1650 + 300 - 1700.
    assert act.opening.principal == Decimal("1950.00")
    assert act.opening.penalty == Decimal("12.34")
    assert all(row.on >= date(2025, 3, 1) for row in act.rows)
    assert len(act.rows) == 5
    # The closing balance does not depend on where the range starts.
    assert act.closing.total == Decimal("3313.01")
    # April (after the range) appears nowhere.
    assert not any("апрель" in row.document or "SB-1003" in row.document for row in act.rows)
    assert not any("999" in row.document for row in act.rows)


def test_queries_do_not_grow_with_rows(ledger, django_assert_num_queries):
    subscriber, _, _ = ledger

    with django_assert_num_queries(4):  # accounts, opening, charges, other entries
        reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)


def test_overpayment_sentence():
    subscriber = LegalSubscriberFactory(kind=Subscriber.Kind.MANAGING_ORG, name="ООО «УК Дом»")
    account = PersonalAccountFactory(subscriber=subscriber)
    ensure_period(date(2025, 2, 1))
    pay(account, "1001.50", date(2025, 2, 3), "SB-2001")

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert act.closing_credit == Decimal("1001.50")
    assert act.closing_debit == Decimal("0.00")
    assert act.result == (
        "Задолженность ООО «Краснодар Водоканал» перед ООО «УК Дом» (переплата абонента) "
        "на 31.03.2025 составляет 1\u00a0001,50\u00a0₽ "
        "(одна тысяча один рубль 50 копеек)."
    )


def test_no_debt_sentence():
    subscriber = LegalSubscriberFactory()
    PersonalAccountFactory(subscriber=subscriber)

    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert act.rows == ()
    assert act.closing.total == Decimal("0.00")
    assert act.result == "Задолженность отсутствует по состоянию на 31.03.2025."


def test_reversed_range_is_refused():
    subscriber = LegalSubscriberFactory()

    with pytest.raises(ValidationError) as caught:
        reconciliation_act(subscriber, date_from=DATE_TO, date_to=DATE_FROM)

    assert caught.value.code == "range_reversed"
    assert "позже даты окончания" in caught.value.messages[0]


def test_individual_is_refused():
    subscriber = SubscriberFactory()

    with pytest.raises(ValidationError) as caught:
        reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    assert caught.value.code == "not_legal_entity"
    assert "юридических лиц" in caught.value.messages[0]


def test_a_single_day_range_is_allowed(ledger):
    subscriber, _, _ = ledger

    act = reconciliation_act(subscriber, date_from=DATE_TO, date_to=DATE_TO)

    assert len(act.rows) == 4
    assert act.closing.total == Decimal("3313.01")


def test_pdf_shows_the_figures_and_the_words(ledger):
    subscriber, a, b = ledger
    act = reconciliation_act(subscriber, date_from=DATE_FROM, date_to=DATE_TO)

    pdf = render_reconciliation_act(act)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    utility = settings.UTILITY["name"]
    for expected in (
        "Акт сверки взаимных расчётов",
        "за период с 01.02.2025 по 31.03.2025",
        f"между {utility} и ООО «Ромашка»",
        "по договору № ЮЛ-0042 от 20.12.2024",
        f"По данным {utility}",
        "По данным ООО «Ромашка»",
        "Сальдо начальное на 31.01.2025",
        "1 712,34 ₽",
        "Обороты за период",
        "3 720,67 ₽",
        "2 120,00 ₽",
        "Сальдо конечное на 31.03.2025",
        "3 313,01 ₽",
        f"Реализация (начисление) за февраль 2025 по л/с {a.number}",
        f"Оплата, п/п № SB-1002 от 31.03.2025, л/с {b.number}",
        "1 650,00 ₽",
        "45,67 ₽",
        "основной долг 3 255,00 ₽, пени 58,01 ₽",
        "Задолженность ООО «Ромашка» перед",
        "(три тысячи триста тринадцать рублей 01 копейка)",
        "М.П.",
    ):
        assert expected in text, expected
    assert "999,99" not in text
    assert "SB-1003" not in text
