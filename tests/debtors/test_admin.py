"""The lawyer's workplace in the admin (docs/architecture.md §9): the case list and its filters, the
case page with its full history, documents, court cases and the payments after the
decision, restrictions and agreements; bulk actions and their progress page; the form pages
that call the services; and who may do what. The clock is frozen at 20.06.2025 12:00 Moscow."""

import html
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from debtors import bulk, bulk_tasks, services
from debtors.models import (
    BulkJob,
    CourtCase,
    DebtCase,
    DebtDocument,
    InstallmentAgreement,
    Restriction,
    StateFeeBand,
)
from tests.debtors.conftest import charge, pay
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = date(2025, 6, 20)
CASES = reverse("admin:debtors_debtcase_changelist")


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 6, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture(autouse=True)
def _staff_groups(staff_groups):
    """The staff groups as the migrations made them."""


@pytest.fixture
def queued(monkeypatch):
    """Job ids handed to the worker (the broker is the process edge: nothing is sent)."""
    calls: list[int] = []
    monkeypatch.setattr(bulk_tasks.run_bulk, "delay_on_commit", calls.append)
    return calls


@pytest.fixture
def lawyer(client):
    user = staff_user("lawyer")
    client.force_login(user)
    return user


def log_in(client, group: str):
    user = staff_user(group)
    client.force_login(user)
    return user


def organisation(kind: str = "legal", **fields):
    return PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(kind=kind, **fields), tariff_category="other",
        residents=0, opened_on=date(2020, 1, 1),
    )  # fmt: skip


@pytest.fixture
def cases():
    """Four cases on 20.06.2025, one in each debt range and each age range:

    citizen   8 000.00, overdue since 11.06.2025 (9 days), individual
    shop     40 000.00, since 11.04.2025 (70 days), legal entity, instalment agreement
    housing 100 000.00, since 11.01.2025 (160 days), managing organisation
    plant   400 000.00, since 11.10.2024 (252 days), legal entity, claim sent
    """
    citizen = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(citizen, date(2025, 5, 1), "8000.00")
    shop = organisation(name="ООО «Лавка»", inn="7728168971")
    charge(shop, date(2025, 3, 1), "30000.00")
    charge(shop, date(2025, 4, 1), "10000.00")
    housing = organisation("housing_coop", name="ТСЖ «Северное»", inn="7736050003")
    charge(housing, date(2024, 12, 1), "100000.00")
    plant = organisation(name="АО «Завод»", inn="7707083893")
    charge(plant, date(2024, 9, 1), "400000.00")
    services.update_cases(on=TODAY)
    by_name = {
        name: DebtCase.objects.get(account=account)
        for name, account in
        (("citizen", citizen), ("shop", shop), ("housing", housing), ("plant", plant))
    }  # fmt: skip
    services.sign_agreement(
        case_id=by_name["shop"].pk, number="Р-5", signed_on=TODAY,
        schedule=[(date(2025, 7, 10), Decimal("20000.00")), (date(2025, 8, 10), Decimal("20000.00"))],
    )  # fmt: skip
    services.send_claim(case_id=by_name["plant"].pk, on=TODAY)
    return by_name


@pytest.fixture
def court_case():
    """A citizen through warning, restriction and court; decided on 05.05.2025; paid 500.00
    before the decision and 300.00 + 200.00 after it."""
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(account, date(2025, 1, 1), "700.00")
    charge(account, date(2025, 2, 1), "700.00")
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=account)
    warning = services.warn_restriction(case_id=case.pk, on=date(2025, 3, 16))
    services.record_delivery(
        document_id=warning.pk, method="hand", sent_on=date(2025, 3, 18),
        delivered_on=date(2025, 3, 18),
    )  # fmt: skip
    restriction = services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 7))
    services.record_restricted(restriction_id=restriction.pk, restricted_on=date(2025, 4, 8))
    court = services.go_to_court(case_id=case.pk, court="Мировой судья участка № 1", on=date(2025, 4, 10))  # fmt: skip
    pay(account, "500.00", date(2025, 5, 1), "cc-1")
    services.record_decision(
        court_case_id=court.pk, decision="granted", decided_on=date(2025, 5, 5),
        awarded=Decimal("1500.00"),
    )  # fmt: skip
    pay(account, "300.00", date(2025, 5, 20), "cc-2")
    pay(account, "200.00", date(2025, 6, 1), "cc-3")
    return court


def listed(response) -> set[str]:
    return {case.account.number for case in response.context["cl"].result_list}


def numbers(cases, *names) -> set[str]:
    return {cases[name].account.number for name in names}


def text(response) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).replace("\xa0", " ")
    return re.sub(r"\s+", " ", plain)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The list of cases ---


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("debt_range=10k", ["citizen"]),
        ("debt_range=50k", ["shop"]),
        ("debt_range=300k", ["housing"]),
        ("debt_range=more", ["plant"]),
        ("age=30", ["citizen"]),
        ("age=90", ["shop"]),
        ("age=180", ["housing"]),
        ("age=more", ["plant"]),
        ("account__subscriber__kind__exact=individual", ["citizen"]),
        ("account__subscriber__kind__exact=housing_coop", ["housing"]),
        ("account__subscriber__kind__exact=legal", ["shop", "plant"]),
        ("stage__exact=claim_sent", ["plant"]),
        ("paused=yes", ["shop"]),
        ("paused=no", ["citizen", "housing", "plant"]),
        ("", ["citizen", "shop", "housing", "plant"]),
    ],
)
def test_case_list_filters(client, lawyer, cases, query, expected):
    response = client.get(f"{CASES}?{query}")
    assert response.status_code == 200
    assert listed(response) == numbers(cases, *expected)


@pytest.mark.parametrize(
    ("moment", "bucket"),
    [
        # Overdue from 11.06, its day 1 (billing.selectors.days_of_delay).
        (datetime(2025, 7, 10, 12, tzinfo=MOSCOW), "30"),  # day 30: up to 30
        (datetime(2025, 7, 11, 0, 5, tzinfo=MOSCOW), "90"),  # day 31; still the 10th in UTC
    ],
)
def test_age_follows_the_moscow_calendar_at_the_bounds(client, cases, moment, bucket):
    with time_machine.travel(moment, tick=False):
        log_in(client, "lawyer")
        response = client.get(f"{CASES}?age={bucket}")
    assert numbers(cases, "citizen") <= listed(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("7736050003", "housing"), ("Лавка", "shop"), ("", None)],
)
def test_cases_are_found_by_inn_name_and_account_number(client, lawyer, cases, query, expected):
    query = query or cases["citizen"].account.number
    response = client.get(CASES, {"q": query})
    assert listed(response) == numbers(cases, expected or "citizen")


def test_case_list_shows_category_age_and_figures_in_few_queries(
    client, lawyer, cases, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = client.get(f"{CASES}?o=1")
    page = text(response)
    assert "ТСЖ, ЖСК, жилищный кооператив" in page
    assert "ТСЖ «Северное»" in page
    row = re.search(rf"{cases['housing'].account.number} .*? 2025 г\.", page).group(0)
    assert (
        "Просрочка ТСЖ «Северное» ТСЖ, ЖСК, жилищный кооператив 100 000,00 ₽ 0,00 ₽ 1 161 " in row
    )
    # 161: the days overdue on 20.06.2025, from 11.01.2025 (day 1) as everywhere else


# --- The case page ---


def test_case_page_shows_the_full_history_and_everything_of_the_case(client, lawyer, court_case):
    case = court_case.case
    response = client.get(reverse("admin:debtors_debtcase_change", args=[case.pk]))

    assert response.status_code == 200
    page = text(response)
    for event in case.events.all():
        assert event.reason in page
    for document in case.documents.all():
        assert document.number in page
        assert reverse("admin:debtors_debtdocument_delivery", args=[document.pk]) in response.text
    assert "Мировой судья участка № 1" in page
    assert "Удовлетворено" in page
    assert "8 апреля 2025 г." in page  # the restriction done
    # The payments booked after the decision of 05.05.2025, not the one before it.
    assert "500,00 ₽ после 05.05.2025: 20.05.2025 — 300,00 ₽ 01.06.2025 — 200,00 ₽" in page
    assert "01.05.2025" not in page
    assert "Сохранить" not in page  # figures are read-only


def test_case_page_shows_the_agreement_with_its_schedule(client, lawyer, cases):
    response = client.get(reverse("admin:debtors_debtcase_change", args=[cases["shop"].pk]))
    page = text(response)
    assert "Р-5" in page
    assert "10.07.2025 — 20 000,00 ₽ 10.08.2025 — 20 000,00 ₽" in page


def test_accountant_sees_the_case_and_its_history_but_no_tools(client, court_case):
    log_in(client, "accountant")
    response = client.get(reverse("admin:debtors_debtcase_change", args=[court_case.case_id]))
    assert response.status_code == 200
    assert court_case.case.events.first().reason in text(response)
    assert "Ограничить подачу" not in text(response)
    assert "Списать" not in text(response)
    assert "Записать доставку" not in text(response)


# --- Bulk actions ---


def test_operator_cannot_run_bulk_actions(client, cases, queued):
    log_in(client, "operator")
    page = client.get(CASES)
    response = client.post(
        CASES, {"action": "send_claims", "_selected_action": [cases["plant"].pk]}
    )

    assert page.status_code == 200
    assert "Направить претензии" not in page.text
    assert response.status_code == 200  # the list again: the operator has no actions
    assert not BulkJob.objects.exists()
    assert queued == []


def test_lawyer_sends_claims_in_bulk_and_watches_the_progress(client, lawyer, cases, queued):
    page = client.get(CASES)
    for label in ("Направить претензии", "Сформировать предупреждения", "Передать в суд"):
        assert label in page.text

    response = client.post(
        CASES, {"action": "send_claims", "_selected_action": [case.pk for case in cases.values()]}
    )

    job = BulkJob.objects.get()
    assert (job.action, job.total, job.created_by, job.params) == (
        "send_claim", 4, lawyer, {"on": "2025-06-20"},
    )  # fmt: skip
    assert queued == [job.pk]
    assert response.url == reverse("admin:debtors_bulkjob_change", args=[job.pk])
    assert messages_of(response) == ["«Направить претензии»: дел в очереди — 4."]
    assert (
        not DebtDocument.objects.filter(issued_on=TODAY, kind="claim")
        .exclude(case=cases["plant"])
        .exists()
    )  # the worker sends them, not the request

    progress = client.get(response.url)
    assert '<meta http-equiv="refresh" content="3">' in progress.text
    assert '<progress max="4" value="0"' in progress.text
    still = client.get(response.url, {"norefresh": "1"})  # for those who read slowly
    assert '<meta http-equiv="refresh"' not in still.text

    bulk.run_bulk(job_id=job.pk)  # what the worker runs

    done = client.get(response.url)
    assert '<meta http-equiv="refresh"' not in done.text
    assert '<progress max="4" value="4"' in done.text
    page = text(done)
    assert "Претензия направляется организациям; гражданину — уведомление и предупреждение." in page
    assert "Действует соглашение о рассрочке № Р-5: работа по делу приостановлена." in page
    assert cases["citizen"].account.number in page


def test_court_action_asks_for_the_court_first(client, lawyer, cases, queued):
    selected = [cases["housing"].pk, cases["plant"].pk]

    form = client.post(CASES, {"action": "hand_to_court", "_selected_action": selected})
    empty = client.post(
        CASES, {"action": "hand_to_court", "_selected_action": selected, "apply": "1", "court": ""}
    )
    response = client.post(
        CASES,
        {
            "action": "hand_to_court", "_selected_action": selected, "apply": "1",
            "court": "Арбитражный суд Краснодарского края",
        },
    )  # fmt: skip

    assert form.status_code == 200
    assert "Выбрано дел: 2." in text(form)
    assert '<label for="id_court">Суд:</label>' in form.text
    assert "Обязательное поле." in text(empty)
    job = BulkJob.objects.get()
    assert (job.action, job.case_ids) == ("go_to_court", sorted(selected))
    assert job.params == {"on": "2025-06-20", "court": "Арбитражный суд Краснодарского края"}
    assert response.url == reverse("admin:debtors_bulkjob_change", args=[job.pk])
    assert queued == [job.pk]


def test_bulk_jobs_are_the_lawyers(client, cases):
    job = bulk.start_bulk(action="send_claim", case_ids=[cases["plant"].pk], params={}, user=None)
    log_in(client, "accountant")
    assert client.get(reverse("admin:debtors_bulkjob_change", args=[job.pk])).status_code == 403


# --- Documents and their delivery ---


def test_operator_records_a_hand_delivery(client, cases):
    log_in(client, "operator")
    claim = cases["plant"].documents.get(kind="claim")
    url = reverse("admin:debtors_debtdocument_delivery", args=[claim.pk])

    form = client.get(url)
    response = client.post(
        url, {"method": "hand", "sent_on": "2025-06-20", "delivered_on": "2025-06-20"}
    )

    assert form.status_code == 200
    assert "Способ доставки" in form.text
    claim.refresh_from_db()
    assert (claim.delivery, claim.sent_on, claim.delivered_on) == (
        "hand", TODAY, TODAY,
    )  # fmt: skip
    assert response.url == reverse("admin:debtors_debtcase_change", args=[cases["plant"].pk])
    assert messages_of(response) == [f"Доставка записана: {claim}."]


def test_delivery_before_sending_is_refused_with_the_reason(client, cases):
    log_in(client, "operator")
    claim = cases["plant"].documents.get(kind="claim")

    response = client.post(
        reverse("admin:debtors_debtdocument_delivery", args=[claim.pk]),
        {"method": "registered_mail", "sent_on": "20.06.2025", "delivered_on": "19.06.2025"},
    )

    assert response.status_code == 200
    assert "Дата вручения раньше даты отправки." in text(response)
    claim.refresh_from_db()
    assert (claim.delivery, claim.sent_on) == ("", None)


def test_document_list_links_the_pdf_and_the_delivery_form(client, lawyer, cases):
    response = client.get(reverse("admin:debtors_debtdocument_changelist"), {"delivered": "no"})
    claim = cases["plant"].documents.get(kind="claim")
    assert claim.number in response.text
    assert reverse("admin:debtors_debtdocument_delivery", args=[claim.pk]) in response.text
    assert "формируется" in response.text  # no PDF yet: the worker renders it


# --- Court cases ---


def test_court_case_list_and_page_show_the_payments_after_the_decision(client, lawyer, court_case):
    listing = text(client.get(reverse("admin:debtors_courtcase_changelist")))
    page = text(client.get(reverse("admin:debtors_courtcase_change", args=[court_case.pk])))

    assert "500,00 ₽" in listing
    assert "500,00 ₽ после 05.05.2025: 20.05.2025 — 300,00 ₽ 01.06.2025 — 200,00 ₽" in page


def test_lawyer_records_the_decision_and_the_enforcement(client, lawyer, cases):
    claim = cases["plant"].documents.get(kind="claim")
    services.record_delivery(
        document_id=claim.pk, method="registered_mail", sent_on=date(2025, 5, 1)
    )
    court = services.go_to_court(case_id=cases["plant"].pk, court="АС КК", on=TODAY)
    enforcement = reverse("admin:debtors_courtcase_enforcement", args=[court.pk])
    too_early = client.post(
        enforcement,
        {"writ_number": "ФС 1", "enforcement_number": "1/25/23039-ИП", "started_on": "2025-06-20"},
    )

    decided = client.post(
        reverse("admin:debtors_courtcase_decision", args=[court.pk]),
        {"decision": "partial", "decided_on": "2025-06-20", "awarded": "350000,50"},
    )
    started = client.post(
        enforcement,
        {"writ_number": "ФС 1", "enforcement_number": "1/25/23039-ИП", "started_on": "2025-06-20"},
    )

    assert "Исполнение возможно только по решению в пользу Водоканала." in text(too_early)
    assert decided.url == started.url == reverse("admin:debtors_courtcase_change", args=[court.pk])
    court.refresh_from_db()
    assert (court.decision, court.decided_on, court.awarded) == (
        "partial", TODAY, Decimal("350000.50"),
    )  # fmt: skip
    assert court.enforcement_number == "1/25/23039-ИП"
    assert DebtCase.objects.get(pk=cases["plant"].pk).stage == "enforcement"


# --- Restrictions, write-off, agreements, the fee scale ---


def test_operator_records_the_restriction_done(client, court_case):
    restriction = Restriction.objects.get()
    Restriction.objects.filter(pk=restriction.pk).update(restricted_on=None)
    log_in(client, "operator")

    page = client.get(reverse("admin:debtors_restriction_change", args=[restriction.pk]))
    response = client.post(
        reverse("admin:debtors_restriction_restricted", args=[restriction.pk]),
        {"restricted_on": "2025-04-09"},
    )
    refused = client.post(
        reverse("admin:debtors_restriction_restored", args=[restriction.pk]),
        {"restored_on": "2025-06-20"},
    )

    assert "Ограничение выполнено" in page.text
    assert response.status_code == 302
    restriction.refresh_from_db()
    assert (restriction.restricted_on, restriction.restored_on) == (date(2025, 4, 9), None)
    assert "Наряд на возобновление не выдавался." in text(refused)


def test_lawyer_restricts_from_the_case_page_only_after_the_warning(client, lawyer, cases):
    url = reverse("admin:debtors_debtcase_restrict", args=[cases["citizen"].pk])
    assert (
        url in client.get(reverse("admin:debtors_debtcase_change", args=[cases["citizen"].pk])).text
    )

    response = client.post(url, {"method": "reduce", "on": "2025-06-20"})

    assert "Сначала нужно предупредить должника." in text(response)
    assert not Restriction.objects.exists()


def test_lawyer_writes_a_debt_off_with_a_reason(client, lawyer, cases):
    url = reverse("admin:debtors_debtcase_write_off", args=[cases["citizen"].pk])
    response = client.post(url, {"reason": "Истёк срок исковой давности", "on": "2025-06-20"})
    assert response.status_code == 302
    case = DebtCase.objects.get(pk=cases["citizen"].pk)
    assert (case.stage, case.closed_on) == ("written_off", TODAY)


def test_lawyer_signs_an_agreement_with_a_schedule_typed_as_lines(client, lawyer, cases):
    url = reverse("admin:debtors_installmentagreement_add")
    form = client.get(url, {"case": cases["housing"].pk})
    bad = client.post(
        url,
        {
            "account": cases["housing"].account.number, "number": "Р-9",
            "signed_on": "2025-06-20", "schedule": "10.07.2025;50000,00\n10 августа;50000",
        },
    )  # fmt: skip
    response = client.post(
        url,
        {
            "account": cases["housing"].account.number, "number": "Р-9",
            "signed_on": "2025-06-20", "schedule": "10.07.2025; 50 000,00\n\n2025-08-10;50000.00\n",
        },
    )  # fmt: skip

    assert f'value="{cases["housing"].account.number}"' in form.text
    assert "Строка 2: нужно «дд.мм.гггг;сумма», а не «10 августа;50000»." in text(bad)
    agreement = InstallmentAgreement.objects.get(number="Р-9")
    assert agreement.total == Decimal("100000.00")
    assert list(agreement.instalments.values_list("due_on", "amount")) == [
        (date(2025, 7, 10), Decimal("50000.00")),
        (date(2025, 8, 10), Decimal("50000.00")),
    ]
    assert response.url == reverse("admin:debtors_debtcase_change", args=[cases["housing"].pk])


def test_lawyer_edits_the_state_fee_scale(client, lawyer):
    band = StateFeeBand.objects.filter(scale="general").first()
    response = client.post(
        reverse("admin:debtors_statefeeband_change", args=[band.pk]),
        {
            "scale": band.scale, "up_to": "" if band.up_to is None else str(band.up_to).replace(".", ","),
            "base": "4100,00", "percent": "0,00", "over": "0,00", "min_fee": "", "max_fee": "",
        },
    )  # fmt: skip
    assert response.status_code == 302
    band.refresh_from_db()
    assert band.base == Decimal("4100.00")


@pytest.mark.parametrize(
    ("group", "name", "kind"),
    [
        ("accountant", "admin:debtors_debtdocument_delivery", "document"),
        ("accountant", "admin:debtors_courtcase_decision", "court"),
        ("operator", "admin:debtors_courtcase_enforcement", "court"),
        ("operator", "admin:debtors_debtcase_restrict", "case"),
        ("accountant", "admin:debtors_debtcase_write_off", "case"),
        ("accountant", "admin:debtors_restriction_restricted", "restriction"),
        ("operator", "admin:debtors_installmentagreement_add", None),
        ("operator", "admin:debtors_debtcase_dashboard", None),
    ],
)
def test_form_pages_refuse_staff_without_the_permission(client, court_case, group, name, kind):
    objects = {
        "document": court_case.case.documents.first(),
        "court": court_case,
        "case": court_case.case,
        "restriction": Restriction.objects.get(),
    }
    args = [objects[kind].pk] if kind else []
    log_in(client, group)
    url = reverse(name, args=args)
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


def test_court_case_is_not_added_or_deleted_by_hand(client, lawyer, court_case):
    assert client.get(reverse("admin:debtors_courtcase_add")).status_code == 403
    assert (
        client.post(reverse("admin:debtors_courtcase_delete", args=[court_case.pk])).status_code
        == 403
    )
    assert CourtCase.objects.count() == 1


@pytest.mark.parametrize(
    "model", ["debtcase", "debtdocument", "courtcase", "restriction", "installmentagreement",
              "statefeeband", "bulkjob"],
)  # fmt: skip
def test_every_list_and_page_of_the_lawyer_opens(client, lawyer, cases, court_case, model):
    bulk.start_bulk(action="send_claim", case_ids=[cases["plant"].pk], params={}, user=lawyer)
    changelist = client.get(reverse(f"admin:debtors_{model}_changelist"))
    assert changelist.status_code == 200
    for obj in changelist.context["cl"].result_list:
        assert (
            client.get(reverse(f"admin:debtors_{model}_change", args=[obj.pk])).status_code == 200
        )
