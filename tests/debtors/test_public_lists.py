"""The published lists (docs/architecture.md §9; CSV: docs/formats.md §8): who is published, the public pages, the CSV, the
lawyer's removal, and the proof that nothing of a person ever reaches a public page.

Debts are written as a billing run leaves them (tests/debtors/conftest.py). A month's
charge is due on the 10th of the next month; January 2025 is due 10.02.2025, so on
11.04.2025 it is 60 days overdue and on 12.04.2025 it is 61 (the list needs more than 60).
"""

import csv
import io
import logging
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Subscriber
from debtors import lists, lists_tasks
from debtors.models import PublishedEntry, PublishedList
from tests.debtors.conftest import charge, pay
from tests.factories import (
    LegalSubscriberFactory,
    PersonalAccountFactory,
    SubscriberFactory,
    UserFactory,
    staff_user,
)

pytestmark = pytest.mark.django_db

DEBTORS, GOOD_PAYERS = PublishedList.Kind.DEBTORS, PublishedList.Kind.GOOD_PAYERS
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
DAY_60, DAY_61 = date(2025, 4, 11), date(2025, 4, 12)  # days overdue of January's charge

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
_serial = iter(range(1, 10_000))


def _check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def inn10(n: int) -> str:
    """A valid organisation INN (docs/formats.md §6), distinct for each n."""
    payload = f"23{n:07d}"
    return payload + _check(payload, _INN10_WEIGHTS)


def inn12(n: int) -> str:
    """A valid INN of a person (an individual or an ИП)."""
    payload = f"23{n:08d}"
    payload += _check(payload, _INN12_WEIGHTS[0])
    return payload + _check(payload, _INN12_WEIGHTS[1])


def organisation(name: str, *, kind: str = Subscriber.Kind.LEGAL, **fields) -> Subscriber:
    n = next(_serial)
    ogrn = f"1022300{n:05d}"
    fields.setdefault("inn", inn10(n))
    fields.setdefault("ogrn", ogrn + str(int(ogrn) % 11 % 10))
    return LegalSubscriberFactory(kind=kind, name=name, **fields)


def account_of(subscriber: Subscriber, **fields):
    fields.setdefault("tariff_category", "other" if subscriber.is_legal_entity else "population")
    return PersonalAccountFactory(subscriber=subscriber, opened_on=date(2020, 1, 1), **fields)


def debtor(name: str, amount: str, month: date = JAN, **fields):
    account = account_of(organisation(name, **fields))
    charge(account, month, amount)
    return account


def published(kind: str, on: date) -> dict[str, tuple[Decimal, int]]:
    return {
        entry.name: (entry.debt, entry.days_overdue)
        for entry in PublishedEntry.objects.filter(
            published_list__kind=kind, published_list__snapshot_on=on
        )
    }


# --- Who is on the debtor list ---


def test_debt_just_over_the_threshold_is_published_and_equal_is_not():
    debtor("ООО «Над порогом»", "50000.01")
    debtor("ООО «Ровно порог»", "50000.00")
    two = account_of(organisation("ООО «Два счёта»"))
    charge(two, JAN, "25000.00")
    charge(account_of(two.subscriber), JAN, "25000.01")  # summed over the accounts

    debtors, _ = lists.publish_lists(on=DAY_61)

    assert (debtors.threshold, debtors.min_days) == (Decimal("50000.00"), 60)
    assert published(DEBTORS, DAY_61) == {
        "ООО «Над порогом»": (Decimal("50000.01"), 61),
        "ООО «Два счёта»": (Decimal("50000.01"), 61),
    }


def test_debt_overdue_61_days_is_published_and_60_days_is_not():
    debtor("ООО «Долгая просрочка»", "60000.00")

    lists.publish_lists(on=DAY_60)
    lists.publish_lists(on=DAY_61)

    assert published(DEBTORS, DAY_60) == {}
    assert published(DEBTORS, DAY_61) == {"ООО «Долгая просрочка»": (Decimal("60000.00"), 61)}


def test_only_debt_older_than_the_days_counts_towards_the_threshold():
    account = debtor("ООО «Свежий долг»", "40000.00")
    charge(account, MAR, "20000.00")  # due 10.04.2025

    lists.publish_lists(on=DAY_61)  # 60 000.00 overdue, but only 40 000.00 for over 60 days
    lists.publish_lists(on=date(2025, 6, 9))  # March: 60 days
    lists.publish_lists(on=date(2025, 6, 10))  # March: 61 days

    assert published(DEBTORS, DAY_61) == {}
    assert published(DEBTORS, date(2025, 6, 9)) == {}
    assert published(DEBTORS, date(2025, 6, 10)) == {
        "ООО «Свежий долг»": (Decimal("60000.00"), 120)
    }


def test_thresholds_are_settings(settings):
    settings.DEBTOR_LIST_THRESHOLD = "1000.00"
    settings.DEBTOR_LIST_MIN_DAYS = 30
    debtor("ООО «Малый долг»", "1000.01")

    debtors, _ = lists.publish_lists(on=date(2025, 3, 13))  # January: 31 days

    assert (debtors.threshold, debtors.min_days) == (Decimal("1000.00"), 30)
    assert published(DEBTORS, date(2025, 3, 13)) == {"ООО «Малый долг»": (Decimal("1000.01"), 31)}


def test_a_managing_organisation_is_published_under_its_short_name():
    debtor(
        "Общество с ограниченной ответственностью «Управляющая компания „Северная“»",
        "70000.00",
        kind=Subscriber.Kind.MANAGING_ORG,
        short_name="ООО «УК „Северная“»",
    )

    lists.publish_lists(on=DAY_61)

    entry = PublishedEntry.objects.get()
    assert (entry.name, entry.inn) == ("ООО «УК „Северная“»", entry.subscriber.inn)


def test_an_organisation_that_pays_leaves_at_the_next_snapshot(client):
    account = debtor("ООО «Заплатит»", "60000.00")
    lists.publish_lists(on=DAY_61)
    pay(account, "60000.00", date(2025, 4, 20), "КАССА-1")

    lists.publish_lists(on=date(2025, 5, 15))

    assert published(DEBTORS, DAY_61) == {"ООО «Заплатит»": (Decimal("60000.00"), 61)}  # as was
    assert published(DEBTORS, date(2025, 5, 15)) == {}
    page = client.get(reverse("public:debtors"))
    assert page.context["snapshot"].snapshot_on == date(2025, 5, 15)
    assert "ООО «Заплатит»" not in page.text


def test_paying_down_to_the_threshold_is_enough_to_leave():
    account = debtor("ООО «Частично»", "60000.00")
    lists.publish_lists(on=DAY_61)
    pay(account, "10000.00", date(2025, 4, 20), "КАССА-2")

    lists.publish_lists(on=date(2025, 5, 15))

    assert published(DEBTORS, date(2025, 5, 15)) == {}


def test_a_rerun_on_the_same_day_changes_nothing():
    account = debtor("ООО «Повтор»", "60000.00")
    first = lists.publish_lists(on=DAY_61)
    entries = list(PublishedEntry.objects.values_list("pk", "name", "debt"))
    pay(account, "60000.00", DAY_61, "КАССА-3")  # the ledger moves; the snapshot does not

    again = lists.publish_lists(on=DAY_61)

    assert [item.pk for item in again] == [item.pk for item in first]
    assert list(PublishedEntry.objects.values_list("pk", "name", "debt")) == entries
    assert PublishedList.objects.count() == 2


def test_the_beat_task_publishes_todays_snapshot_once():
    debtor("ООО «По расписанию»", "60000.00")

    with time_machine.travel(datetime(2025, 4, 15, 6, tzinfo=ZoneInfo("Europe/Moscow"))):
        lists_tasks.publish_monthly_lists()
        lists_tasks.publish_monthly_lists()

    assert list(PublishedList.objects.values_list("snapshot_on", flat=True).distinct()) == [
        date(2025, 4, 15)
    ]
    assert published(DEBTORS, date(2025, 4, 15)) == {
        "ООО «По расписанию»": (Decimal("60000.00"), 64)
    }


# --- The lawyer takes an entry off at once ---


def test_lawyer_removal_hides_the_entry_at_once_and_a_rerun_keeps_it_off(client, staff_groups):
    debtor("ООО «Спорный долг»", "60000.00")
    debtor("ООО «Бесспорный долг»", "70000.00")
    lists.publish_lists(on=DAY_61)
    lawyer = staff_user("lawyer")
    entry = PublishedEntry.objects.get(name="ООО «Спорный долг»")

    removed = lists.remove_entry(entry_id=entry.pk, by=lawyer)
    lists.remove_entry(entry_id=entry.pk, by=staff_user("lawyer"))  # twice: the first stays
    lists.publish_lists(on=DAY_61)

    removed.refresh_from_db()
    assert removed.removed_by == lawyer
    assert removed.removed_at is not None
    page = client.get(reverse("public:debtors")).text
    assert "ООО «Спорный долг»" not in page
    assert "ООО «Бесспорный долг»" in page
    assert "ООО «Спорный долг»" not in client.get(reverse("public:debtors") + "?format=csv").text


def test_lawyer_removes_an_entry_in_the_admin(client, staff_groups):
    debtor("ООО «Через админку»", "60000.00")
    lists.publish_lists(on=DAY_61)
    entry = PublishedEntry.objects.get()
    lawyer = staff_user("lawyer")
    client.force_login(lawyer)

    listing = client.get("/staff/debtors/publishedentry/")
    response = client.post(
        "/staff/debtors/publishedentry/",
        {"action": "unpublish", "_selected_action": [entry.pk]},
        follow=True,
    )

    assert "Снять с публикации" in listing.text
    assert "Снято с публикации: 1." in response.text
    entry.refresh_from_db()
    assert entry.removed_by == lawyer
    snapshot = client.get(f"/staff/debtors/publishedlist/{entry.published_list_id}/change/")
    assert snapshot.status_code == 200
    assert "ООО «Через админку»" in snapshot.text


def test_staff_without_the_permission_cannot_remove(client, staff_groups):
    debtor("ООО «Не трогать»", "60000.00")
    lists.publish_lists(on=DAY_61)
    entry = PublishedEntry.objects.get()
    client.force_login(staff_user("operator"))

    response = client.post(
        "/staff/debtors/publishedentry/",
        {"action": "unpublish", "_selected_action": [entry.pk]},
    )

    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.removed_at is None


# --- Good payers ---


def on_time(account, months: list[date], amount: str = "1000.00") -> None:
    """Charge each month and pay it on the 5th of the next (due the 10th)."""
    for month in months:
        charge(account, month, amount)
        paid_on = date(month.year + month.month // 12, month.month % 12 + 1, 5)
        pay(account, amount, paid_on, f"ОП-{account.pk}-{month:%Y%m}")


def months(first: date, count: int) -> list[date]:
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(count)]  # fmt: skip


def test_good_payers_paid_every_month_by_its_due_date_for_12_months():
    on = date(2025, 3, 15)  # the window: 16.03.2024-15.03.2025
    year = months(date(2024, 2, 1), 13)  # February 2024 (due 10.03.2024) ... February 2025

    on_time(account_of(organisation("ООО «Всегда вовремя»")), year)
    two = account_of(organisation("ООО «Два счёта вовремя»"))
    on_time(two, year)
    on_time(account_of(two.subscriber), year)

    late_before = account_of(organisation("ООО «Опоздало до окна»"))
    charge(late_before, date(2024, 1, 1), "1000.00")  # due 10.02.2024
    pay(late_before, "1000.00", date(2024, 3, 1), "ОП-до-окна")  # late, but before the window
    on_time(late_before, year)

    late_into = account_of(organisation("ООО «Опоздало в окне»"))
    charge(late_into, date(2024, 1, 1), "1000.00")
    pay(late_into, "1000.00", date(2024, 3, 20), "ОП-в-окне")  # still overdue on 16.03.2024
    on_time(late_into, year)

    late_once = account_of(organisation("ООО «Один раз на день»"))
    on_time(late_once, [m for m in year if m != date(2024, 8, 1)])
    charge(late_once, date(2024, 8, 1), "1000.00")  # due 10.09.2024
    pay(late_once, "1000.00", date(2024, 9, 11), "ОП-на-день")

    owes_now = account_of(organisation("ООО «Должно сейчас»"))
    on_time(owes_now, year[:-1])
    charge(owes_now, FEB, "1000.00")  # due 10.03.2025, unpaid on 15.03.2025

    one_bad_account = account_of(organisation("ООО «Один счёт с долгом»"))
    on_time(one_bad_account, year)
    charge(account_of(one_bad_account.subscriber), FEB, "1000.00")

    not_billed = account_of(organisation("ООО «Без начислений в году»"))
    on_time(not_billed, [date(2023, 1, 1)])
    on_time(account_of(organisation("ИП Пунктуальный", inn=inn12(1), kpp="")), year)
    on_time(account_of(SubscriberFactory(name="Пунктуальная Анна Ивановна")), year)

    _, good = lists.publish_lists(on=on)

    assert sorted(good.entries.values_list("name", flat=True)) == [
        "ООО «Всегда вовремя»",
        "ООО «Два счёта вовремя»",
        "ООО «Опоздало до окна»",
    ]
    assert set(good.entries.values_list("debt", "days_overdue")) == {(Decimal("0.00"), 0)}


def test_a_late_payer_with_a_debt_case_in_the_window_is_not_a_good_payer():
    from debtors import services

    account = account_of(organisation("ООО «Было дело»"))
    on_time(account, months(date(2024, 4, 1), 11))
    charge(account, date(2024, 3, 1), "1000.00")  # due 10.04.2024
    services.update_cases(on=date(2024, 4, 20))  # a case opens
    pay(account, "1000.00", date(2024, 4, 25), "ОП-дело")
    services.update_cases(on=date(2024, 4, 26))  # and closes

    _, good = lists.publish_lists(on=date(2025, 3, 15))

    assert not good.entries.exists()


# --- The public pages ---


@pytest.fixture
def thirty():
    """30 debtors: «Должник 01» owes 50 001.00 since January ... «Должник 30» 50 030.00;
    the even ones since December 2024 (92 days on 12.04.2025), the odd since January."""
    for n in range(1, 31):
        account = account_of(organisation(f"ООО «Должник {n:02d}»"))
        charge(account, date(2024, 12, 1) if n % 2 == 0 else JAN, f"{50000 + n}.00")
    lists.publish_lists(on=DAY_61)
    return {entry.name: entry for entry in PublishedEntry.objects.all()}


def names(response) -> list[str]:
    return [entry.name for entry in response.context["entries"]]


def test_the_page_shows_the_snapshot_date_and_25_a_page(
    client, thirty, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        first = client.get(reverse("public:debtors"))
    second = client.get(reverse("public:debtors"), {"page": 2})

    assert first.status_code == 200
    assert 'По состоянию на <time datetime="2025-04-12">12.04.2025</time>' in first.text
    assert "более 60 дней" in first.text
    assert names(first)[:2] == ["ООО «Должник 30»", "ООО «Должник 29»"]  # largest debt first
    assert len(names(first)) == 25
    assert names(second) == [f"ООО «Должник {n:02d}»" for n in range(5, 0, -1)]
    assert "50\u00a0030,00\u00a0₽" in first.text
    assert "?page=2" in first.text
    assert 'aria-sort="descending"' in first.text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["ООО «Должник 01»", "ООО «Должник 02»"]),
        ("-name", ["ООО «Должник 30»", "ООО «Должник 29»"]),
        ("debt", ["ООО «Должник 01»", "ООО «Должник 02»"]),
        ("-days", ["ООО «Должник 02»", "ООО «Должник 04»"]),  # 92 days, then by name
        ("days", ["ООО «Должник 01»", "ООО «Должник 03»"]),
        ("inn; DROP TABLE", ["ООО «Должник 30»", "ООО «Должник 29»"]),  # not whitelisted
    ],
)
def test_sort(client, thirty, sort, expected):
    response = client.get(reverse("public:debtors"), {"sort": sort})

    assert response.status_code == 200
    assert names(response)[:2] == expected


def test_search_by_name_or_inn_keeps_the_sort_across_pages(client, thirty):
    by_name = client.get(reverse("public:debtors"), {"q": "  должник 1 ", "sort": "name"})
    inn = thirty["ООО «Должник 07»"].inn
    by_inn = client.get(reverse("public:debtors"), {"q": inn})
    by_inn_prefix = client.get(reverse("public:debtors"), {"q": inn[:9]})
    nothing = client.get(reverse("public:debtors"), {"q": "Ромашка"})

    assert names(by_name) == [f"ООО «Должник {n}»" for n in range(10, 20)]
    assert "Найдено по запросу «должник 1»: 10" in by_name.text
    assert names(by_inn) == ["ООО «Должник 07»"]
    assert "ООО «Должник 07»" in names(by_inn_prefix)
    assert names(nothing) == []
    assert "По запросу ничего не найдено." in nothing.text
    page_two = client.get(reverse("public:debtors"), {"q": "Должник", "sort": "name"})
    assert "?q=%D0%94%D0%BE%D0%BB%D0%B6%D0%BD%D0%B8%D0%BA&amp;sort=name&amp;page=2" in page_two.text


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_csv_is_the_whole_filtered_list_for_excel(client, thirty):
    response = client.get(reverse("public:debtors"), {"format": "csv", "sort": "name", "page": 2})
    searched = client.get(reverse("public:debtors"), {"format": "csv", "q": "Должник 0"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dolzhniki-2025-04-12.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "Наименование",
        "ИНН",
        "Просроченная задолженность, руб.",
        "Дней просрочки",
        "По состоянию на",
    ]
    assert len(rows) == 31  # every row, not a page
    first = thirty["ООО «Должник 01»"]
    assert rows[1] == ["ООО «Должник 01»", first.inn, "50001,00", "61", "12.04.2025"]
    assert rows[2][2:4] == ["50002,00", "92"]
    assert [row[0] for row in read_csv(searched)[1:]] == [
        f"ООО «Должник {n:02d}»" for n in range(9, 0, -1)
    ]


def test_csv_neutralises_a_name_excel_would_run_as_a_formula(client):
    debtor('=HYPERLINK("http://evil")', "60000.00")
    lists.publish_lists(on=DAY_61)

    rows = read_csv(client.get(reverse("public:debtors"), {"format": "csv"}))

    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_good_payers_page_and_csv(client):
    on_time(account_of(organisation("ООО «Пример»")), months(date(2024, 6, 1), 9))
    lists.publish_lists(on=date(2025, 3, 15))

    page = client.get(reverse("public:good-payers"), {"sort": "-debt"})  # not a sort here
    rows = read_csv(client.get(reverse("public:good-payers"), {"format": "csv"}))

    assert page.status_code == 200
    assert names(page) == ["ООО «Пример»"]
    assert 'По состоянию на <time datetime="2025-03-15">15.03.2025</time>' in page.text
    assert rows[0] == ["Наименование", "ИНН", "По состоянию на"]
    assert rows[1][0::2] == ["ООО «Пример»", "15.03.2025"]


def test_before_the_first_publication(client):
    page = client.get(reverse("public:debtors"))

    assert page.status_code == 200
    assert "Список ещё не опубликован." in page.text
    assert client.get(reverse("public:debtors"), {"format": "csv"}).status_code == 404


def test_pages_are_public_and_cacheable_for_anonymous_visitors(client, staff_groups):
    debtor("ООО «Кэш»", "60000.00")
    lists.publish_lists(on=DAY_61)
    url = reverse("public:debtors")

    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    lists.remove_entry(entry_id=PublishedEntry.objects.get().pk, by=staff_user("lawyer"))
    after_removal = client.get(url, headers={"If-None-Match": first["ETag"]})
    client.force_login(UserFactory())
    logged_in = client.get(url)

    assert first.status_code == 200
    assert "public" in first["Cache-Control"]
    assert "max-age=60" in first["Cache-Control"]
    assert again.status_code == 304
    assert after_removal.status_code == 200
    assert "ООО «Кэш»" not in after_removal.text
    assert "private" in logged_in["Cache-Control"]
    assert logged_in["ETag"] != after_removal["ETag"]


def test_pages_take_only_get(client):
    assert client.post(reverse("public:debtors")).status_code == 405


# --- No personal data of individuals, ever ---

PERSON_NAME = "Заподлицов Аристарх Евлампиевич"
PERSON_ADDRESS = "ул. Неприкосновенная, д. 13, кв. 77"
ENTREPRENEUR_NAME = "Секретова Виолетта Поликарповна"
ENTREPRENEUR_ADDRESS = "пер. Тайный, д. 5"
MASKED_NAME = "Маскировкин Модест Львович"
MASKED_ADDRESS = "ул. Потаённая, д. 9, кв. 1"


@pytest.fixture
def people():
    """Individuals with large, old debts and distinctive names and addresses, some dressed
    up as organisations: data a careless import could leave behind."""
    person = account_of(SubscriberFactory(name=PERSON_NAME, inn=inn12(2)), address=PERSON_ADDRESS)
    # An individual with an organisation's look: a 10-digit INN, a company-like short name.
    masked = account_of(
        SubscriberFactory(name=MASKED_NAME, short_name="ООО «Ширма»", inn=inn10(9001)),
        address=MASKED_ADDRESS,
    )
    # An individual entrepreneur: kind "legal", but a natural person with a 12-digit INN.
    entrepreneur = account_of(
        organisation(
            f"ИП {ENTREPRENEUR_NAME}",
            inn=inn12(3),
            kpp="",
            ogrn="304230000000012",
            legal_address=ENTREPRENEUR_ADDRESS,
        ),
        address=ENTREPRENEUR_ADDRESS,
    )
    for account in (person, masked, entrepreneur):
        charge(account, date(2024, 10, 1), "900000.00")
        charge(account, JAN, "900000.00")
    # ... and the same people paying on time, for the good-payer list.
    punctual_person = account_of(SubscriberFactory(name=PERSON_NAME + " (второй)"))
    punctual_entrepreneur = account_of(
        organisation(f"ИП {ENTREPRENEUR_NAME}", inn=inn12(4), kpp="")
    )
    for account in (punctual_person, punctual_entrepreneur):
        on_time(account, months(date(2024, 6, 1), 9))
    # Real organisations, so that neither list is empty.
    debtor("ООО «Настоящий должник»", "60000.00", legal_address="ул. Красная, д. 1")
    on_time(account_of(organisation("ООО «Настоящий плательщик»")), months(date(2024, 6, 1), 9))
    return [person, masked, entrepreneur, punctual_person, punctual_entrepreneur]


def test_no_individuals_name_or_address_can_appear_on_public_pages(client, people):
    lists.publish_lists(on=date(2025, 3, 15))
    lists.publish_lists(on=DAY_61)
    secrets = [PERSON_NAME, MASKED_NAME, ENTREPRENEUR_NAME, PERSON_ADDRESS, MASKED_ADDRESS]
    secrets += [ENTREPRENEUR_ADDRESS, "Ширма", "Заподлицов", "Секретова", "Маскировкин"]
    secrets += [account.subscriber.inn for account in people if account.subscriber.inn]
    secrets += [account.address for account in people] + [account.number for account in people]

    responses = []
    for name in ("public:debtors", "public:good-payers"):
        url = reverse(name)
        variants = ({}, {"format": "csv"}, {"sort": "-days"}, {"sort": "name", "page": 2})
        responses += [client.get(url, params) for params in variants]
        # A search for a person finds nothing; the page only echoes what was typed.
        for typed, full in (("Заподлицов", PERSON_NAME), ("ширм", "ООО «Ширма»")):
            found = client.get(url, {"q": typed})
            assert names(found) == []
            assert full not in found.text
            assert client.get(url, {"q": typed, "format": "csv"}).text.count("\n") == 1
        found = client.get(url, {"q": people[1].subscriber.inn[:6]})
        assert names(found) == []

    assert all(response.status_code == 200 for response in responses)
    debtors_page = responses[0].text
    assert "ООО «Настоящий должник»" in debtors_page
    assert "ООО «Настоящий плательщик»" in responses[4].text
    for response in responses:
        for secret in secrets:
            assert secret not in response.content.decode("utf-8"), secret


def test_publish_lists_never_writes_an_entry_for_a_person(people, caplog):
    # Crafted: an "organisation" whose 10-digit INN fails its check digit, named as a person.
    # It passes the query's kind and INN-length filter; the second check keeps it out.
    crafted = account_of(organisation("Подделкин Фома Фомич"))
    Subscriber.objects.filter(pk=crafted.subscriber_id).update(inn="2300000000")
    charge(crafted, JAN, "900000.00")

    with caplog.at_level(logging.ERROR, logger="debtors.lists"):
        lists.publish_lists(on=date(2025, 3, 15))
        lists.publish_lists(on=DAY_61)

    on_lists = set(PublishedEntry.objects.values_list("subscriber__kind", "subscriber__inn"))
    assert {kind for kind, _ in on_lists} <= {"legal", "managing_org", "housing_coop"}
    assert all(len(inn) == 10 for _, inn in on_lists)
    people_ids = [account.subscriber_id for account in [*people, crafted]]
    assert not PublishedEntry.objects.filter(subscriber_id__in=people_ids).exists()
    assert set(PublishedEntry.objects.values_list("name", flat=True)) == {
        "ООО «Настоящий должник»",
        "ООО «Настоящий плательщик»",
    }
    assert f"subscriber {crafted.subscriber_id} is not an organisation" in caplog.text


def test_only_an_organisation_is_publishable():
    assert lists.is_publishable(Subscriber(kind="legal", name="ООО «А»", inn=inn10(1)))
    assert lists.is_publishable(Subscriber(kind="housing_coop", name="ТСЖ «Б»", inn=inn10(2)))
    assert lists.is_publishable(Subscriber(kind="managing_org", name="ООО «УК Б»", inn=inn10(4)))
    assert not lists.is_publishable(Subscriber(kind="individual", name="ООО «В»", inn=inn10(3)))
    assert not lists.is_publishable(Subscriber(kind="legal", name="ИП Г", inn=inn12(5)))
    assert not lists.is_publishable(Subscriber(kind="legal", name="ООО «Д»", inn="2300000000"))
    assert not lists.is_publishable(Subscriber(kind="legal", name="ООО «Е»", inn=""))
