"""The public lists in Chromium, without logging in: search, sort, the CSV download, a phone,
and no serious accessibility violations (axe-core).

Snapshot of 12.04.2025: January 2025 is due 10.02.2025 (61 days overdue), December 2024 is
due 10.01.2025 (92 days). A good payer paid June 2024 ... February 2025 each by the 5th.
"""

import csv
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from debtors import lists
from tests.debtors.conftest import charge
from tests.debtors.test_public_lists import account_of, months, on_time, organisation
from tests.factories import SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
ON = date(2025, 4, 12)
DEBTORS = (  # name, month charged, debt
    ("ООО «Ромашка»", date(2025, 1, 1), "75000.00"),
    ("ООО «Ромашка-Юг»", date(2024, 12, 1), "52000.50"),
    ("АО «Водосток»", date(2025, 1, 1), "180000.00"),
    ("ТСЖ «Берёзка»", date(2024, 12, 1), "64000.00"),
)


@pytest.fixture
def snapshot():
    inns = {}
    for name, month, debt in DEBTORS:
        account = account_of(organisation(name))
        charge(account, month, debt)
        inns[name] = account.subscriber.inn
    good = account_of(organisation("ООО «Чистая вода»"))
    on_time(good, months(date(2024, 6, 1), 9))
    inns["ООО «Чистая вода»"] = good.subscriber.inn
    person = account_of(SubscriberFactory(name="Должникова Ирина Петровна"))
    charge(person, date(2024, 12, 1), "99000.00")
    lists.publish_lists(on=ON)
    return inns


def shown(locator) -> list[str]:
    """Each row's text with non-breaking spaces as plain ones."""
    return [" ".join(text.replace("\xa0", " ").split()) for text in locator.all_inner_texts()]


def test_search_sort_and_download_the_debtor_list(page, axe_violations, snapshot):
    page.goto("/debtors/")

    expect(page.get_by_role("heading", name="Должники — юридические лица", level=1)).to_be_visible()
    expect(page.get_by_test_id("snapshot")).to_have_text("По состоянию на 12.04.2025")
    rows = page.get_by_role("region", name="Должники — юридические лица на 12.04.2025").locator(
        "tbody tr"
    )
    assert shown(rows) == [
        f"1 АО «Водосток» {snapshot['АО «Водосток»']} 180 000,00 ₽ 61",
        f"2 ООО «Ромашка» {snapshot['ООО «Ромашка»']} 75 000,00 ₽ 61",
        f"3 ТСЖ «Берёзка» {snapshot['ТСЖ «Берёзка»']} 64 000,00 ₽ 92",
        f"4 ООО «Ромашка-Юг» {snapshot['ООО «Ромашка-Юг»']} 52 000,50 ₽ 92",
    ]
    expect(page.get_by_text("Должникова")).to_have_count(0)
    assert axe_violations() == []

    page.get_by_label("Наименование или ИНН").fill("ромашка")
    page.get_by_role("button", name="Найти").click()

    expect(page.get_by_test_id("found")).to_have_text("Найдено по запросу «ромашка»: 2")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Дней просрочки").click()  # the longest delay first

    expect(page.get_by_role("columnheader", name="Дней просрочки")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert rows.locator("td:nth-child(2)").all_inner_texts() == [
        "ООО «Ромашка-Юг»",
        "ООО «Ромашка»",
    ]
    expect(page.get_by_label("Наименование или ИНН")).to_have_value("ромашка")
    assert axe_violations() == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Скачать список (CSV)").click()
    download = download_info.value

    assert download.suggested_filename == "dolzhniki-2025-04-12.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(text[1:].splitlines(), delimiter=";")) == [
        ["Наименование", "ИНН", "Просроченная задолженность, руб.", "Дней просрочки", "По состоянию на"],
        ["ООО «Ромашка-Юг»", snapshot["ООО «Ромашка-Юг»"], "52000,50", "92", "12.04.2025"],
        ["ООО «Ромашка»", snapshot["ООО «Ромашка»"], "75000,00", "61", "12.04.2025"],
    ]  # fmt: skip


def test_sort_by_name_and_find_a_good_payer_by_inn_on_a_phone(page, axe_violations, snapshot):
    page.set_viewport_size(PHONE)
    page.goto("/debtors/")
    page.get_by_label("Порядок").select_option(label="по наименованию, от А до Я")
    page.get_by_role("button", name="Найти").click()

    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("АО «Водосток»")
    expect(rows.last).to_contain_text("ТСЖ «Берёзка»")
    expect(page.get_by_role("columnheader", name="Наименование")).to_have_attribute(
        "aria-sort", "ascending"
    )

    page.goto("/good-payers/")
    expect(page.get_by_role("heading", name="Добросовестные плательщики", level=1)).to_be_visible()
    assert axe_violations() == []
    page.get_by_label("Наименование или ИНН").fill(snapshot["ООО «Чистая вода»"])
    page.get_by_role("button", name="Найти").click()

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ООО «Чистая вода»")
    expect(page.get_by_role("link", name="Скачать список (CSV)")).to_be_visible()
    assert axe_violations() == []
