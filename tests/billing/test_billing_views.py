"""The cabinet's billing pages: balance, debt by month and history; the penalty line by line;
receipts and their PDF; the reconciliation act; who may see them; queries per page.

The account of `debtor` is billed through the real run (readings by an operator, then
`run_billing`), on a clock frozen at 20.11.2026 12:00 Moscow time. A cold-water meter,
2 residents, population tariffs 50.00 (water supply) and 40.00 (sewage) ₽/m³, due the 10th:

    month   reading      m³   water    sewage   charged   paid
    07.2026 110 on 20.07  10   500.00   400.00    900.00    —
    08.2026 118 on 20.08   8   400.00   320.00    720.00    720.00 on 05.09 ("за 08.2026")
    09.2026 130 on 20.09  12   600.00   480.00   1080.00    —
    10.2026 139 on 20.10   9   450.00   360.00    810.00    —

Principal: 900 + 720 + 1080 + 810 - 720 = 2790.00.
Penalties booked by the runs (key rate 16.5 %, individuals: 1/300 from day 31, 1/130 from
day 91), July's debt due 10.08:
    run 09.2026, to 30.09: 900 x 21 days (10.09-30.09) x 16.5 / 100 / 300 = 10.395 -> 10.40
    run 10.2026, to 31.10: 900 x 52 days (10.09-31.10) x 16.5 / 100 / 300 = 25.74, adds 15.34
Ledger penalty: 10.40 + 15.34 = 25.74.
Penalty to 20.11.2026 (the penalty page):
    07.2026 10.09-08.11 60 days 900 x 60 x 16.5 / 100 / 300 = 29.70
    07.2026 09.11-20.11 12 days 900 x 12 x 16.5 / 100 / 130 = 13.7077 -> 13.71
    09.2026 10.11-20.11 11 days 1080 x 11 x 16.5 / 100 / 300 = 6.534 -> 6.53
    total 49.94
Days overdue on 20.11: July 102 (from 10.08), September 41 (from 10.10), October 10.
"""

import html
import io
import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from billing import receipts as billing_receipts
from billing import selectors
from billing.models import LedgerEntry, Payment, Period, Receipt, Service
from billing.services import book_adjustment, register_payment
from tests.billing.conftest import bill, bill_and_close, read
from tests.factories import (
    LegalSubscriberFactory,
    MeterFactory,
    PersonalAccountFactory,
    UserFactory,
    link,
    staff_user,
)

MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 11, 20)
JULY, AUGUST, SEPTEMBER, OCTOBER = (date(2026, m, 1) for m in (7, 8, 9, 10))
billing_db = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


def pay(account, amount: str, paid_on: date, external_id: str, for_month=None) -> Payment:
    return register_payment(
        account_id=account.pk,
        amount=Decimal(amount),
        paid_on=paid_on,
        source=Payment.Source.BANK_REGISTRY,
        external_id=external_id,
        for_month=for_month,
    )


def billed_account(subscriber=None, readings=(("110", date(2026, 7, 20)),)):
    account = PersonalAccountFactory(
        opened_on=date(2024, 1, 1), **({"subscriber": subscriber} if subscriber else {})
    )
    meter = MeterFactory(account=account)
    for value, taken_on in readings:
        read(meter, value, taken_on)
    return account


@pytest.fixture
def debtor(legal_data, rates, client):
    """The account of the module docstring, its owner logged in."""
    account = billed_account(
        readings=[
            ("110", date(2026, 7, 20)),
            ("118", date(2026, 8, 20)),
            ("130", date(2026, 9, 20)),
            ("139", date(2026, 10, 20)),
        ]
    )
    bill_and_close(JULY, AUGUST)
    pay(account, "720.00", date(2026, 9, 5), "SB-0905", for_month=AUGUST)
    bill_and_close(SEPTEMBER)
    bill(OCTOBER)
    user = UserFactory()
    link(user, account)
    client.force_login(user)
    return account


def text(fragment: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities and spaces normalised."""
    plain = html.unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", plain).strip()


def table(page: str, heading_id: str, part: str = "tbody") -> list[list[str]]:
    """The rows of the table in the region labelled by `heading_id`, as cell texts."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    body = page[page.index(f"<{part}>", start) : page.index(f"</{part}>", start)]
    return [
        [text(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def by_testid(page: str, name: str) -> str:
    return text(re.search(rf'data-testid="{name}"[^>]*>(.*?)</(?:dd|td|p)>', page, re.S)[1])


def ledger_sum(account, kinds) -> Decimal:
    entries = LedgerEntry.objects.filter(account=account, kind__in=kinds)
    return entries.aggregate(total=Sum("amount"))["total"]


MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


def money(amount: Decimal) -> str:
    """1234.5 -> "1 234,50 ₽", minus as U+2212 (written out here, not the app's filter)."""
    sign = "−" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    return f"{sign}{int(whole):,}".replace(",", " ") + f",{cents} ₽"


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


# --- Finance page ---


@billing_db
def test_finance_page_shows_the_balance_from_the_ledger(client, debtor):
    page = client.get(reverse("billing:finance", args=[debtor.number])).text

    principal = ledger_sum(debtor, ["charge", "adjustment", "payment"])
    penalty = ledger_sum(debtor, ["penalty", "penalty_payment"])
    assert (principal, penalty) == (Decimal("2790.00"), Decimal("25.74"))
    assert selectors.account_balance(debtor) == selectors.Balance(principal, penalty)
    assert by_testid(page, "principal") == "2 790,00 ₽"
    assert by_testid(page, "penalty") == "25,74 ₽"
    assert "Состояние расчётов на 20.11.2026" in page
    # Each figure under its label: the ledger's, the overdue part, the penalty to this day.
    figures = selectors.account_figures(debtor, on=TODAY)
    shown = dict(re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S))
    assert {text(label): text(value) for label, value in shown.items()} == {
        "Задолженность на 20.11.2026": "2 790,00 ₽",
        "Просроченный долг на 20.11.2026": "2 790,00 ₽",  # October's fell due on 10.11
        "Дней просрочки на 20.11.2026": "102",  # July's, from 11.08
        "Пени, начисленные по 31.10.2026": "25,74 ₽",
        "Пени на 20.11.2026": "49,94 ₽ — как рассчитаны пени",
    }
    assert (figures.overdue_debt, figures.days_overdue, figures.penalty.due) == (
        Decimal("2790.00"),
        102,
        Decimal("49.94"),
    )


@billing_db
def test_finance_page_lists_the_unpaid_months_with_days_overdue(client, debtor):
    page = client.get(reverse("billing:finance", args=[debtor.number])).text

    # August is paid in full by the payment that names it: it is not a debt any more.
    assert table(page, "debts-heading") == [
        ["июль 2026", "900,00 ₽", "0,00 ₽", "900,00 ₽", "10.08.2026", "102"],
        ["сентябрь 2026", "1 080,00 ₽", "0,00 ₽", "1 080,00 ₽", "10.10.2026", "41"],
        ["октябрь 2026", "810,00 ₽", "0,00 ₽", "810,00 ₽", "10.11.2026", "10"],
    ]
    # The amounts charged, straight from the ledger.
    charged = {
        month: LedgerEntry.objects.filter(
            account=debtor, kind="charge", period__month=month
        ).aggregate(s=Sum("amount"))["s"]
        for month in (JULY, AUGUST, SEPTEMBER, OCTOBER)
    }
    assert charged == {
        JULY: Decimal("900.00"),
        AUGUST: Decimal("720.00"),
        SEPTEMBER: Decimal("1080.00"),
        OCTOBER: Decimal("810.00"),
    }
    assert [
        (debt.month, debt.unpaid, debt.days_overdue)
        for debt in selectors.debt_by_month(debtor, on=TODAY)
        if debt.unpaid
    ] == [
        (JULY, Decimal("900.00"), 102),
        (SEPTEMBER, Decimal("1080.00"), 41),
        (OCTOBER, Decimal("810.00"), 10),
    ]


@billing_db
def test_finance_page_history_is_the_ledger_newest_first(client, debtor):
    page = client.get(reverse("billing:finance", args=[debtor.number])).text

    rows = table(page, "history-heading")
    entries = sorted(
        LedgerEntry.objects.filter(account=debtor).select_related("period"),
        key=lambda e: (e.period.month, e.booked_on, e.pk),
        reverse=True,
    )
    assert len(rows) == len(entries) == 11  # 8 charges, 1 payment, 2 penalties
    assert [(row[0], row[1], row[4]) for row in rows] == [
        (
            f"{MONTHS[e.period.month.month - 1]} {e.period.month.year}",
            f"{e.booked_on:%d.%m.%Y}",
            money(e.amount),
        )
        for e in entries
    ]
    assert [
        "сентябрь 2026",
        "05.09.2026",
        "Оплата",
        "Оплата от 05.09.2026, Реестр банка",
        "−720,00 ₽",
    ] in rows
    assert [
        "октябрь 2026",
        "31.10.2026",
        "Начисление: холодное водоснабжение",
        "9,000 м³ по показаниям, тариф 50,00 ₽",
        "450,00 ₽",
    ] in rows
    assert [
        "сентябрь 2026",
        "30.09.2026",
        "Пени",
        "Пени по 30.09.2026 (ЖК РФ ч. 14 ст. 155)",
        "10,40 ₽",
    ] in rows


# --- Penalty page ---


@billing_db
def test_penalty_page_shows_every_line_of_the_breakdown_and_the_total(client, debtor):
    page = client.get(reverse("billing:penalty", args=[debtor.number])).text

    assert table(page, "calc-heading") == [
        ["июль 2026", "10.09.2026", "08.11.2026", "60", "900,00 ₽", "16,5 %", "1/300",
         "900,00 × 60 × 16,50 / 100 / 300", "29,70 ₽"],
        ["июль 2026", "09.11.2026", "20.11.2026", "12", "900,00 ₽", "16,5 %", "1/130",
         "900,00 × 12 × 16,50 / 100 / 130", "13,71 ₽"],
        ["сентябрь 2026", "10.11.2026", "20.11.2026", "11", "1 080,00 ₽", "16,5 %", "1/300",
         "1080,00 × 11 × 16,50 / 100 / 300", "6,53 ₽"],
    ]  # fmt: skip
    assert by_testid(page, "penalty-total") == "49,94 ₽"
    result = selectors.penalty_breakdown(debtor, as_of=TODAY)
    assert result.total == Decimal("49.94")
    assert [(line.month, line.days, line.amount) for line in result.lines] == [
        (JULY, 60, Decimal("29.70")),
        (JULY, 12, Decimal("13.71")),
        (SEPTEMBER, 11, Decimal("6.53")),
    ]
    # What the ledger holds now (booked to 31.10) is printed beside the calculation.
    assert by_testid(page, "penalty-to-date") == "49,94 ₽"
    assert by_testid(page, "penalty") == "25,74 ₽"
    assert "Пени, начисленные по 31.10.2026" in page
    assert "Пени на 20.11.2026" in page


@billing_db
def test_penalty_page_says_there_is_none_without_overdue_debt(client, legal_data, rates):
    account = billed_account()
    bill(JULY)
    pay(account, "900.00", date(2026, 8, 10), "SB-0810")
    user = UserFactory()
    link(user, account)
    client.force_login(user)

    page = client.get(reverse("billing:penalty", args=[account.number])).text

    assert by_testid(page, "penalty-total") == ("Дней просрочки, за которые начисляются пени, нет.")
    assert by_testid(page, "penalty-to-date") == "нет"
    assert "<table" not in page


# --- Receipts ---


@billing_db
def test_receipts_page_lists_the_billed_months_newest_first(client, debtor):
    # November has a payment but no charges yet: it has no receipt.
    pay(debtor, "100.00", date(2026, 11, 18), "SB-1118")
    assert LedgerEntry.objects.filter(account=debtor, period__month=date(2026, 11, 1)).exists()

    page = client.get(reverse("billing:receipts", args=[debtor.number])).text

    items = re.findall(r'<li class="list-group-item[^"]*">(.*?)</li>', page, re.S)
    assert [text(item) for item in items] == [
        "Октябрь 2026 Скачать PDF за октябрь 2026",
        "Сентябрь 2026 Скачать PDF за сентябрь 2026",
        "Август 2026 Скачать PDF за август 2026",
        "Июль 2026 Скачать PDF за июль 2026",
    ]
    hrefs = re.findall(r'href="([^"]+\.pdf)"', page)
    charged = LedgerEntry.objects.filter(account=debtor, kind="charge")
    months = sorted(set(charged.values_list("period__month", flat=True)), reverse=True)
    assert hrefs == [
        f"/cabinet/accounts/{debtor.number}/receipts/{month:%Y-%m}.pdf" for month in months
    ]


@billing_db
def test_receipt_pdf_is_rendered_on_demand_stored_and_served_again(
    client, debtor, settings, monkeypatch
):
    # A pass-through counter (the real renderer runs): how many receipts were laid out.
    rendered = []
    real_render = billing_receipts.receipt_pdf

    def counting_render(data):
        rendered.append(data.month)
        return real_render(data)

    monkeypatch.setattr(billing_receipts, "receipt_pdf", counting_render)
    url = reverse("billing:receipt-pdf", args=[debtor.number, 2026, 10])
    assert not Receipt.objects.exists()

    first = client.get(url)
    body = b"".join(first.streaming_content)

    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert f'filename="kvitanciya-{debtor.number}-2026-10.pdf"' in first["Content-Disposition"]
    assert body[:5] == b"%PDF-"
    assert first["Cache-Control"] == "private, no-store"  # never kept by a shared cache
    receipt = Receipt.objects.get()
    assert (receipt.account, receipt.period.month, receipt.batch) == (debtor, OCTOBER, None)
    principal_to_october = LedgerEntry.objects.filter(
        account=debtor, kind__in=LedgerEntry.PRINCIPAL_KINDS, period__month__lte=OCTOBER
    ).aggregate(s=Sum("amount"))["s"]
    assert receipt.total_due == principal_to_october == Decimal("2790.00")
    assert receipt.pdf.name == f"receipts/2026/11/receipt-{debtor.number}-2026-10.pdf"
    stored = receipt.pdf.read()
    receipt.pdf.close()
    assert stored == body
    assert debtor.number in pdf_text(body)

    with time_machine.travel(datetime(2026, 11, 21, 9, tzinfo=MOSCOW), tick=False):
        second = client.get(url)

    assert second.status_code == 200
    assert b"".join(second.streaming_content) == body
    assert rendered == [OCTOBER]  # laid out once, for the first download only
    again = Receipt.objects.get()
    assert (again.pk, again.pdf.name, again.rendered_at) == (
        receipt.pk,
        receipt.pdf.name,
        receipt.rendered_at,
    )
    files = list((settings.MEDIA_ROOT / "receipts").rglob("*.pdf"))
    assert len(files) == 1


@billing_db
@pytest.mark.parametrize("month", ["2026-11", "2026-13", "2025-10"])
def test_receipt_pdf_of_a_month_without_charges_is_404(client, debtor, month):
    year, number = month.split("-")
    url = f"/cabinet/accounts/{debtor.number}/receipts/{year}-{number}.pdf"
    assert client.get(url).status_code == 404
    assert not Receipt.objects.exists()


# --- Who may see the pages ---

VIEWS = ["finance", "penalty", "receipts", "receipt-pdf", "reconciliation"]


def url_of(name: str, account) -> str:
    if name == "receipt-pdf":
        return reverse("billing:receipt-pdf", args=[account.number, 2026, 7])
    return reverse(f"billing:{name}", args=[account.number])


@pytest.fixture
def organisation(legal_data, rates):
    """A legal entity's account billed for July: every one of the five pages exists for it."""
    account = billed_account(subscriber=LegalSubscriberFactory())
    bill(JULY)
    return account


@billing_db
@pytest.mark.parametrize("name", VIEWS)
def test_another_users_account_is_404(client, organisation, name):
    owner, stranger = UserFactory(), UserFactory()
    link(owner, organisation)
    link(stranger, PersonalAccountFactory())
    url = url_of(name, organisation)

    client.force_login(owner)
    assert client.get(url).status_code == 200  # the page exists for its owner
    client.force_login(stranger)
    assert client.get(url).status_code == 404


@billing_db
@pytest.mark.parametrize("name", VIEWS)
def test_anonymous_user_is_sent_to_log_in(client, organisation, name):
    url = url_of(name, organisation)

    response = client.get(url)

    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("login")
    assert parse_qs(target.query) == {"next": [url]}


@pytest.mark.django_db
def test_unconfirmed_link_does_not_open_the_pages(client):
    from accounts.models import AccountLink

    user = UserFactory()
    account = PersonalAccountFactory()
    AccountLink.objects.create(user=user, account=account)  # code not confirmed yet
    client.force_login(user)
    for name in ("finance", "penalty", "receipts"):
        assert client.get(url_of(name, account)).status_code == 404


# --- Reconciliation act ---


@pytest.mark.django_db
def test_reconciliation_is_404_for_an_individuals_own_account(client, subscriber_user, account):
    client.force_login(subscriber_user)
    url = reverse("billing:reconciliation", args=[account.number])
    assert client.get(url).status_code == 404
    assert client.get(url, {"date_from": "2026-01-01", "date_to": "2026-10-31"}).status_code == 404


@pytest.fixture
def legal_owner(client):
    account = PersonalAccountFactory(subscriber=LegalSubscriberFactory())
    Period.objects.create(month=date(2026, 9, 1))
    pay(account, "1500.00", date(2026, 9, 15), "ПП-4471")
    user = UserFactory()
    link(user, account)
    client.force_login(user)
    return account


@pytest.mark.django_db
def test_reconciliation_form_page_for_an_organisation(client, legal_owner):
    response = client.get(reverse("billing:reconciliation", args=[legal_owner.number]))
    assert response.status_code == 200
    assert 'name="date_from"' in response.text
    assert 'name="date_to"' in response.text


@pytest.mark.django_db
def test_reconciliation_act_is_a_pdf_for_valid_dates(client, legal_owner):
    response = client.get(
        reverse("billing:reconciliation", args=[legal_owner.number]),
        {"date_from": "2026-09-01", "date_to": "2026-10-31"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="akt-sverki-20260901-20261031.pdf"'
    )
    assert response.content[:5] == b"%PDF-"
    assert response["Cache-Control"] == "private, no-store"
    content = pdf_text(response.content)
    assert "Ромашка" in content
    assert "1 500,00" in content.replace("\xa0", " ")


@pytest.mark.django_db
def test_reconciliation_with_reversed_dates_is_a_400_page_in_russian(client, legal_owner):
    response = client.get(
        reverse("billing:reconciliation", args=[legal_owner.number]),
        {"date_from": "2026-10-31", "date_to": "2026-09-01"},
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Дата начала периода позже даты окончания." in response.text


@pytest.mark.django_db
def test_reconciliation_with_a_malformed_date_is_a_400_page(client, legal_owner):
    response = client.get(
        reverse("billing:reconciliation", args=[legal_owner.number]),
        {"date_from": "31.10.2026", "date_to": "вчера"},
    )
    assert response.status_code == 400
    assert "Введите правильную дату." in response.text


# --- Queries per page ---


def finance_queries(client, account, page=None) -> tuple[int, str]:
    url = reverse("billing:finance", args=[account.number])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page": page} if page else {})
    assert response.status_code == 200
    return len(queries), response.text


@billing_db
def test_finance_page_queries_do_not_grow_with_the_ledger(
    client, legal_data, rates, django_assert_max_num_queries
):
    user = UserFactory()
    small = PersonalAccountFactory()
    pay(small, "10.00", date(2026, 11, 2), "SB-SMALL")
    big = billed_account(readings=[("110", date(2026, 9, 20)), ("118", date(2026, 10, 20))])
    bill_and_close(SEPTEMBER)
    bill(OCTOBER)
    clerk = staff_user("accountant")
    book_adjustment(
        account_id=big.pk,
        amount=Decimal("-50.00"),
        reason="акт проверки № 12",
        user=clerk,
        service=Service.WATER_SUPPLY,
        for_month=SEPTEMBER,
    )
    book_adjustment(
        account_id=big.pk,
        amount=Decimal("1.00"),
        reason="доначисление пени",
        user=clerk,
        penalty=True,
    )
    for n in range(24):
        pay(big, "10.00", date(2026, 11, 1 + n % 19), f"SB-{n:03d}")
    assert (LedgerEntry.objects.filter(account=small).count(), big.ledger.count()) == (1, 30)
    link(user, small)
    link(user, big)
    client.force_login(user)

    # Session, user, account, engine reads (subscriber, ledger, payments' named months),
    # balance, penalty tables (key rates,
    # moratoria, caps), penalties paid or corrected, the latest run, page count, page rows,
    # channels.
    with django_assert_max_num_queries(15):
        one, _ = finance_queries(client, small)
    with django_assert_max_num_queries(15):
        thirty, first_page = finance_queries(client, big)
    second, second_page = finance_queries(client, big, page=2)

    assert one == thirty == second
    shown = table(first_page, "history-heading") + table(second_page, "history-heading")
    assert (len(table(first_page, "history-heading")), len(shown)) == (25, 30)
    assert sorted(row[4] for row in shown) == sorted(
        money(amount) for amount in big.ledger.values_list("amount", flat=True)
    )
    assert "1 из 2" in first_page
    assert "2 из 2" in second_page
