"""The debt-collection dashboard (docs/architecture.md §9): figures worked out by hand for a small
data set, the collection rate included, and the page with its chart and data table."""

import html
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from billing import services as billing_services
from billing.models import LedgerEntry
from debtors import dashboard, services
from debtors.models import DebtCase, Stage
from tests.debtors.conftest import charge, pay
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, UserFactory, staff_user

MOSCOW = ZoneInfo("Europe/Moscow")

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

JAN, FEB, MAR, APR, MAY = (date(2025, month, 1) for month in range(1, 6))
ON = date(2025, 6, 20)


@pytest.fixture(autouse=True)
def _staff_groups(staff_groups):
    """The staff groups as the migrations made them."""


@pytest.fixture
def history():
    """Four debtors, their payments and cases from March to June 2025.

    citizen: charges Jan, Feb, Mar 700.00; pays 700.00 on 05.04 and 1 400.00 on 02.06.
    company: charges Jan, Feb, Mar 50 000.00; pays 60 000.00 on 20.04 and 40 000.00 on
             10.05; penalty of 1 234.56 booked on 31.05; claim sent on 15.04.
    written: charges Jan, Feb 500.00; written off on 10.06.
    late:    charge Apr 800.00 (due 10.05).
    """
    citizen = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    company = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(), tariff_category="other", residents=0,
        opened_on=date(2020, 1, 1),
    )  # fmt: skip
    written = PersonalAccountFactory(residents=1, opened_on=date(2020, 1, 1))
    late = PersonalAccountFactory(residents=1, opened_on=date(2020, 1, 1))
    for month in (JAN, FEB, MAR):
        charge(citizen, month, "700.00")
        charge(company, month, "50000.00")
    for month in (JAN, FEB):
        charge(written, month, "500.00")
    charge(late, APR, "800.00")

    # 15.03: Jan and Feb overdue -> three cases: 1 400.00 + 100 000.00 + 1 000.00.
    services.update_cases(on=date(2025, 3, 15))
    services.send_claim(case_id=DebtCase.objects.get(account=company).pk, on=date(2025, 4, 15))
    pay(citizen, "700.00", date(2025, 4, 5), "d-1")
    pay(company, "60000.00", date(2025, 4, 20), "d-2")
    services.update_cases(on=date(2025, 4, 15))
    pay(company, "40000.00", date(2025, 5, 10), "d-3")
    services.update_cases(on=date(2025, 5, 15))  # the late account's April is overdue: opened
    LedgerEntry.objects.create(
        account=company, period=billing_services.ensure_period(MAY), kind="penalty",
        amount=Decimal("1234.56"), for_month=MAY, booked_on=date(2025, 5, 31),
    )  # fmt: skip
    pay(citizen, "1400.00", date(2025, 6, 2), "d-4")
    services.update_cases(on=date(2025, 6, 3))  # the citizen has paid everything: closed
    services.write_off(
        case_id=DebtCase.objects.get(account=written).pk, reason="Смерть должника",
        on=date(2025, 6, 10), by=UserFactory(),
    )  # fmt: skip
    return {"citizen": citizen, "company": company, "written": written, "late": late}


def test_open_cases_are_counted_and_summed_by_stage(history):
    data = dashboard.dashboard(on=ON)

    rows = {row.stage: (row.count, row.debt, row.penalty) for row in data.stages}
    assert rows[Stage.CLAIM_SENT] == (1, Decimal("50000.00"), Decimal("1234.56"))
    assert rows[Stage.OVERDUE] == (1, Decimal("800.00"), Decimal("0.00"))
    assert rows[Stage.IN_COURT] == (0, Decimal("0.00"), Decimal("0.00"))
    assert set(rows).isdisjoint({Stage.CLOSED, Stage.WRITTEN_OFF})
    assert (data.open_count, data.open_debt, data.open_penalty) == (
        2, Decimal("50800.00"), Decimal("1234.56"),
    )  # fmt: skip


def test_cases_and_collection_by_month_worked_out_by_hand(history):
    data = dashboard.dashboard(on=ON)

    assert [row.month for row in data.months] == [
        date(2024, 7, 1), date(2024, 8, 1), date(2024, 9, 1), date(2024, 10, 1),
        date(2024, 11, 1), date(2024, 12, 1), JAN, FEB, MAR, APR, MAY, date(2025, 6, 1),
    ]  # fmt: skip
    table = {
        row.month: (
            row.opened, row.opened_debt, row.closed, row.written_off, row.written_off_debt,
            row.debtors, row.overdue, row.paid, row.rate,
        )
        for row in data.months
    }  # fmt: skip
    zero = Decimal("0.00")
    assert table[FEB] == (0, zero, 0, 0, zero, 0, zero, zero, None)
    # March: three cases opened on 15.03; nobody had a case at the start of the month.
    assert table[MAR] == (3, Decimal("102400.00"), 0, 0, zero, 0, zero, zero, None)
    # April 1st: Jan + Feb overdue (March is billed, not yet due): 1 400 + 100 000 + 1 000.
    # Paid in April: 700 + 60 000 = 60 700; 60 700 / 102 400 = 59.277... %.
    assert table[APR] == (
        0, zero, 0, 0, zero, 3, Decimal("102400.00"), Decimal("60700.00"), Decimal("59.3"),
    )  # fmt: skip
    # May 1st: the citizen 2 100 - 700 = 1 400, the company 150 000 - 60 000 = 90 000, and
    # 1 000; the late account's case opens on 15.05 (its April debt when opened: 800).
    # Paid in May: 40 000; 40 000 / 92 400 = 43.290... %.
    assert table[MAY] == (
        1, Decimal("800.00"), 0, 0, zero, 3, Decimal("92400.00"), Decimal("40000.00"),
        Decimal("43.3"),
    )  # fmt: skip
    # June 1st: 1 400 + 50 000 + 1 000 + 800 (four open cases); the citizen pays 1 400 and
    # is closed on 03.06; 1 000 is written off on 10.06. 1 400 / 53 200 = 2.631... %.
    assert table[date(2025, 6, 1)] == (
        0, zero, 1, 1, Decimal("1000.00"), 4, Decimal("53200.00"), Decimal("1400.00"),
        Decimal("2.6"),
    )  # fmt: skip


def test_chart_bars_are_the_rates_on_a_hundred_per_cent_scale(history):
    chart = dashboard.dashboard(on=ON).chart

    assert chart.scale == Decimal(100)
    heights = {bar.month: bar.height for bar in chart.bars}
    # 160 px for 100 %: 59.3 % -> 94 px, 43.3 % -> 69 px, 2.6 % -> 4 px; no rate -> none.
    assert (heights[MAR], heights[APR], heights[MAY], heights[date(2025, 6, 1)]) == (0, 94, 69, 4)
    assert all(bar.y + bar.height == chart.base for bar in chart.bars)


def test_dashboard_page_shows_the_figures_the_chart_and_the_data_table(client, history):
    client.force_login(staff_user("accountant"))

    with time_machine.travel(datetime(2025, 6, 20, 0, 30, tzinfo=MOSCOW), tick=False):
        response = client.get(reverse("admin:debtors_debtcase_dashboard"))  # 19.06 in UTC

    assert response.status_code == 200
    page = response.content.decode()
    assert "По состоянию на 20.06.2025." in page
    assert '<svg role="img" aria-labelledby="rate-chart-title rate-chart-desc"' in page
    assert (
        '<title id="rate-chart-title">Собираемость просроченного долга по месяцам, %</title>'
        in page
    )
    assert "<title>апрель 2025: 59,3&nbsp;%</title>" in page
    months = _table(page, "months")
    assert months[-3:] == [
        ["апрель 2025", "0", "0,00 ₽", "0", "0", "0,00 ₽", "3", "102 400,00 ₽", "60 700,00 ₽", "59,3 %"],
        ["май 2025", "1", "800,00 ₽", "0", "0", "0,00 ₽", "3", "92 400,00 ₽", "40 000,00 ₽", "43,3 %"],
        ["июнь 2025", "0", "0,00 ₽", "1", "1", "1 000,00 ₽", "4", "53 200,00 ₽", "1 400,00 ₽", "2,6 %"],
    ]  # fmt: skip
    assert months[8] == ["март 2025", "3", "102 400,00 ₽", "0", "0", "0,00 ₽", "0", "0,00 ₽", "0,00 ₽", "—"]  # fmt: skip
    stages = _table(page, "stages")
    assert ["Направлена претензия", "1", "50 000,00 ₽", "1 234,56 ₽"] in stages


@pytest.mark.parametrize("group", ["operator"])
def test_dashboard_is_for_lawyers_and_accountants_only(client, group):
    client.force_login(staff_user(group))
    assert client.get(reverse("admin:debtors_debtcase_dashboard")).status_code == 403
    page = client.get(reverse("admin:debtors_debtcase_changelist"))
    assert reverse("admin:debtors_debtcase_dashboard") not in page.content.decode()


def test_lawyer_reaches_the_dashboard_from_the_case_list(client):
    client.force_login(staff_user("lawyer"))
    page = client.get(reverse("admin:debtors_debtcase_changelist"))
    assert reverse("admin:debtors_debtcase_dashboard") in page.content.decode()
    assert client.get(reverse("admin:debtors_debtcase_dashboard")).status_code == 200


def _table(page: str, table_id: str) -> list[list[str]]:
    """The rows of a table's body and footer, as plain text cells."""
    table = re.search(rf'<table id="{table_id}".*?</table>', page, re.S).group(0)
    body = "".join(re.findall(r"<t(?:body|foot)>(.*?)</t(?:body|foot)>", table, re.S))
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def _text(fragment: str) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", plain).strip()
