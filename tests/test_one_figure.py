"""One figure everywhere: on the same day, for the same account, a figure under the same label
(billing.selectors.FIGURE_LABELS) carries the same number on every page and in every document:
the cabinet's account, finance, penalty, pay and documents pages, the lawyer's case page, and
the notice and claim PDFs. The debtors: a person, an organisation and a managing organisation
who pay nothing, a person who pays half, one with an instalment agreement, and one who pays
on time.

The month cycle runs as in life: November billed on its billing day (26.11, penalties booked
to it), December's not yet, and the day is 5 December."""

import html
import io
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
from django.urls import reverse

from accounts.models import Subscriber
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.payments.reconciliation import reconciliation_act, render_reconciliation_act
from billing.selectors import FIGURE_LABELS
from debtors import documents, lists, services, tasks
from debtors.models import DebtCase
from tests.billing.conftest import bill, close, make_norms, make_tariffs
from tests.debtors.test_public_lists import account_of, organisation
from tests.factories import PersonalAccountFactory, UserFactory, link, staff_user
from vodokanal.common.amount_words import rub
from vodokanal.common.money import to_kopecks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("legal_data", "staff_groups"),
]

MOSCOW = ZoneInfo("Europe/Moscow")
ON = date(2026, 12, 5)
MONTHS = [date(2026, month, 1) for month in range(7, 12)]  # July to November, billed

_DATE = r"\d\d\.\d\d\.\d{4}"
_LABEL = "|".join(
    re.escape(label).replace(re.escape("{on}"), _DATE) for label in FIGURE_LABELS.values()
)
FIGURE = re.compile(rf"({_LABEL})\s*:?\s*(−?\d[\d ]*,\d\d ₽|\d+\b|нет)")


def at(day: date, hour: int = 10):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW), tick=False
    )


def value(text: str) -> Decimal:
    if text == "нет":
        return Decimal("0")
    return Decimal(text.replace("−", "-").replace(" ", "").replace("₽", "").replace(",", "."))


def page_text(content: bytes) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", " ", content.decode()))
    return re.sub(r"\s+", " ", plain.replace("\xa0", " "))


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def figures_in(text: str) -> list[tuple[str, Decimal]]:
    return [(label, value(number)) for label, number in FIGURE.findall(text)]


@pytest.fixture
def city(monkeypatch, settings):
    """Six accounts billed by the norm from July to November 2026, each month on its billing
    day and closed the next, and paid as their holders pay."""
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", lambda pk: None)
    settings.DEBTOR_LIST_THRESHOLD = "100.00"
    make_tariffs()
    make_norms()

    def person(residents: int = 2):
        return PersonalAccountFactory(residents=residents, opened_on=date(2020, 1, 1))

    accounts = {
        "person": person(),
        "organisation": account_of(organisation("ООО «Лавка»"), residents=12),
        "managing_org": account_of(
            organisation("ООО УК «Северная»", kind=Subscriber.Kind.MANAGING_ORG), residents=30
        ),
        "half": person(3),
        "instalment": person(4),
        "on_time": person(1),
    }
    for number, month in enumerate(MONTHS):
        with at(month.replace(day=26)):
            bill(month)
        with at(month.replace(day=27)):
            close(month)
        paid_on = date(2026, month.month + 1, 5)
        with at(paid_on):
            charges = {
                name: billing_selectors.account_balance(account).principal
                for name, account in accounts.items()
            }
            for name, share in (("on_time", 1), ("half", Decimal("0.5"))):
                amount = (
                    charges[name]
                    if share == 1
                    else to_kopecks(_last_charge(accounts[name], month) * share)
                )
                billing_services.register_payment(
                    account_id=accounts[name].pk, amount=amount, paid_on=paid_on,
                    source="cash_desk", external_id=f"{name}-{number}",
                )  # fmt: skip
    with at(ON):
        services.update_cases(on=ON)
        case = DebtCase.objects.get(account=accounts["instalment"])
        services.sign_agreement(
            case_id=case.pk,
            number="Р-1",
            signed_on=ON,
            schedule=[(date(2027, 1, 10), case.debt / 2), (date(2027, 2, 10), case.debt / 2)],
        )
    return accounts


def _last_charge(account, month: date) -> Decimal:
    return sum(
        (entry.amount for entry in account.ledger.filter(kind="charge", period__month=month)),
        Decimal("0"),
    )


def rendered(client, accounts) -> dict[str, list[tuple[str, str, Decimal]]]:
    """Every figure shown for each account on ON: (where, label, number)."""
    shown: dict[str, list[tuple[str, str, Decimal]]] = {name: [] for name in accounts}
    subscriber = UserFactory()
    lawyer = staff_user("lawyer")
    period = billing_services.ensure_period(ON)
    for name, account in accounts.items():
        link(subscriber, account)
        case = DebtCase.objects.filter(account=account).first()
        artefacts: list[tuple[str, str]] = []
        if case and not case.agreements.exists():
            notice = services.send_notice(case_id=case.pk, period=period, on=ON)
            artefacts.append(("notice PDF", pdf_text(documents.document_pdf(notice))))
            if account.subscriber.is_legal_entity:
                claim = services.send_claim(case_id=case.pk, on=ON)
                artefacts.append(("claim PDF", pdf_text(documents.document_pdf(claim))))
            elif name == "person":  # owes over two months at the norm (ПП 354 п. 114)
                warning = services.warn_restriction(case_id=case.pk, on=ON)
                artefacts.append(("warning PDF", pdf_text(documents.document_pdf(warning))))
            for document in case.documents.all():
                documents.store_pdf(document, documents.document_pdf(document))
        client.force_login(subscriber)
        for page in (
            "accounts:account-detail",
            "billing:finance",
            "billing:penalty",
            "online:pay",
            "debtors:documents",
        ):
            response = client.get(reverse(page, args=[account.number]))
            assert response.status_code == 200, page
            artefacts.append((page, page_text(response.content)))
        if case:
            client.force_login(lawyer)
            response = client.get(reverse("admin:debtors_debtcase_change", args=[case.pk]))
            artefacts.append(("case page", page_text(response.content)))
        for where, text in artefacts:
            shown[name] += [(where, label, number) for label, number in figures_in(text)]
    return shown


def test_every_label_carries_one_number_on_every_page_and_document(client, city):
    with at(ON):
        shown = rendered(client, city)
        expected = {
            name: billing_selectors.account_figures(account, on=ON)
            for name, account in city.items()
        }

    day = f"{ON:%d.%m.%Y}"
    for name, figures in expected.items():
        by_label: dict[str, set[Decimal]] = {}
        where: dict[str, set[str]] = {}
        for place, label, number in shown[name]:
            by_label.setdefault(label, set()).add(number)
            where.setdefault(label, set()).add(place)
        assert {label: len(numbers) for label, numbers in by_label.items()} == dict.fromkeys(
            by_label, 1
        ), (name, by_label, where)
        # And each is the selector's figure.
        numbers = {label: numbers.pop() for label, numbers in by_label.items()}
        principal = figures.balance.principal
        assert numbers[figures.label("principal")] == abs(principal), name
        assert numbers.get(f"Просроченный долг на {day}", Decimal(0)) == figures.overdue_debt
        assert numbers[f"Пени на {day}"] == figures.penalty.due, name
        assert numbers[figures.label("penalties_booked")] == figures.balance.penalty, name
        if figures.overdue:
            assert numbers[f"Дней просрочки на {day}"] == figures.days_overdue, name

    # Not vacuous: the debtors owe, and their figures stand on pages and in documents alike.
    for name in ("person", "organisation", "managing_org", "half"):
        places = {(place, label) for place, label, _ in shown[name]}
        assert expected[name].overdue_debt > 0, name
        assert expected[name].penalty.due > 0 or name == "half", name
        for page in ("billing:finance", "notice PDF", "case page"):
            assert (page, f"Просроченный долг на {day}") in places, (name, page)
        for page in ("billing:finance", "billing:penalty", "notice PDF", "debtors:documents"):
            assert (page, f"Пени на {day}") in places, (name, page)
        for page in ("accounts:account-detail", "billing:finance", "online:pay", "case page"):
            assert (page, f"Задолженность на {day}") in places, (name, page)
    assert ("claim PDF", f"Просроченный долг на {day}") in {
        (place, label) for place, label, _ in shown["organisation"]
    }
    assert ("warning PDF", f"Пени на {day}") in {
        (place, label) for place, label, _ in shown["person"]
    }
    assert expected["on_time"].overdue is None
    assert expected["on_time"].penalty.due == 0


def test_the_reconciliation_act_closes_on_the_cabinets_figures(city):
    for name in ("organisation", "managing_org"):
        account = city[name]
        with at(ON):
            act = reconciliation_act(account.subscriber, date_from=MONTHS[0], date_to=ON)
            figures = billing_selectors.account_figures(account, on=ON)
            text = pdf_text(render_reconciliation_act(act))
        assert (act.closing.principal, act.closing.penalty) == (
            figures.balance.principal,
            figures.balance.penalty,
        )
        assert f"основной долг {rub(figures.balance.principal)}".replace("\xa0", " ") in text


def test_days_overdue_and_debt_agree_in_the_staff_list_and_the_public_list(client, city):
    with at(ON):
        lists.publish_lists(on=ON)
        figures = billing_selectors.account_figures(city["organisation"], on=ON)
        client.force_login(staff_user("lawyer"))
        staff_list = page_text(client.get(reverse("admin:debtors_debtcase_changelist")).content)
        public = page_text(client.get(reverse("public:debtors")).content)

    number = city["organisation"].number
    row = re.search(rf"{number} .*? {figures.days_overdue} ", staff_list)
    assert row is not None, staff_list
    assert "ООО «Лавка»" in public
    public_row = re.search(r"ООО «Лавка».*? (\d{1,3}(?: \d{3})*,\d\d ₽)\s+(\d+)", public)
    assert (value(public_row[1]), int(public_row[2])) == (
        figures.overdue_debt,
        figures.days_overdue,
    )
