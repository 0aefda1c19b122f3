"""The cabinet's page of debt documents: the account's ready documents for the subscriber
(never the crew's work orders), their PDFs, the instalment agreement with its schedule and
what is paid; someone else's account or document is a 404."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from billing import services as billing_services
from debtors import batch_tasks, documents, services
from debtors.models import DebtCase, DebtDocument
from tests.debtors.conftest import charge, pay
from tests.factories import PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture(autouse=True)
def _urls_and_queues(monkeypatch):
    monkeypatch.setattr(batch_tasks.email_document, "delay_on_commit", lambda pk: None)


@pytest.fixture
def debtor():
    """A user's account with a notice and a warning rendered, a restriction ordered (the
    crew's order, rendered too), and an instalment agreement signed after it."""
    user = UserFactory()
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    link(user, account)
    charge(account, JAN, "700.00")
    charge(account, FEB, "700.00")
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=account)
    period = billing_services.ensure_period(MAR)
    notice = services.send_notice(case_id=case.pk, period=period, on=date(2025, 3, 15))
    warning = services.warn_restriction(case_id=case.pk, on=date(2025, 3, 16))
    services.record_delivery(
        document_id=warning.pk, method="hand", sent_on=date(2025, 3, 17),
        delivered_on=date(2025, 3, 17),
    )  # fmt: skip
    services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 7))
    for document in case.documents.all():
        documents.render_document(document_id=document.pk)
    services.sign_agreement(
        case_id=case.pk, number="Р-15", signed_on=date(2025, 4, 8),
        schedule=[(date(2025, 5, 1), Decimal("700.00")), (date(2025, 6, 1), Decimal("700.00"))],
    )  # fmt: skip
    pay(account, "700.00", date(2025, 4, 20), "inst-1")
    return user, account, notice, warning


@pytest.fixture
def on_may_10():
    with time_machine.travel(datetime(2025, 5, 10, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        yield


def page_url(account) -> str:
    return reverse("debtors:documents", args=[account.number])


def test_debtor_sees_documents_and_the_schedule(client, debtor, on_may_10):
    user, account, notice, warning = debtor
    client.force_login(user)

    response = client.get(page_url(account))

    assert response.status_code == 200
    listed = list(response.context["documents"])
    assert listed == [warning, notice]  # newest first; the work order is not shown
    html = response.content.decode()
    assert f"Уведомление о задолженности № {notice.number} от 15.03.2025" in html
    assert f"Предупреждение об ограничении № {warning.number} от 16.03.2025" in html
    assert "Наряд" not in html
    assert reverse("debtors:document-pdf", args=[account.number, notice.pk]) in html
    # The agreement: 700.00 paid covers the instalment due 01.05; the next is due 01.06.
    assert response.context["progress"].paid == Decimal("700.00")
    assert [(row.due_on, row.paid, row.state) for row in response.context["schedule"]] == [
        (date(2025, 5, 1), Decimal("700.00"), "paid"),
        (date(2025, 6, 1), Decimal("0.00"), "due"),
    ]
    assert response.context["left_to_pay"] == Decimal("700.00")
    assert "Соглашение о рассрочке" in html
    assert "Пока график соблюдается" in html


def test_missed_instalment_is_shown(client, debtor):
    user, account, _, _ = debtor
    client.force_login(user)
    with time_machine.travel(datetime(2025, 6, 5, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        response = client.get(page_url(account))

    assert [row.state for row in response.context["schedule"]] == ["paid", "overdue"]
    assert "Платёж по графику просрочен" in response.content.decode()


def test_debtor_downloads_the_stored_pdf(client, debtor):
    user, account, notice, _ = debtor
    client.force_login(user)

    response = client.get(reverse("debtors:document-pdf", args=[account.number, notice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert f'filename="notice-{notice.number}.pdf"' in response["Content-Disposition"]
    notice.refresh_from_db()
    with notice.pdf.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_work_orders_and_pending_documents_cannot_be_downloaded(client, debtor):
    user, account, _, _ = debtor
    client.force_login(user)
    order = DebtDocument.objects.get(kind="restrict_order", case__account=account)
    assert order.status == "ready"
    pending = DebtDocument.objects.create(
        case=order.case, kind="notice", number="x", data={}, issued_on=date(2025, 4, 9)
    )

    for document in (order, pending):
        url = reverse("debtors:document-pdf", args=[account.number, document.pk])
        assert client.get(url).status_code == 404


def test_another_users_account_and_document_are_404(client, debtor):
    _, account, notice, _ = debtor
    stranger = UserFactory()
    own = PersonalAccountFactory()
    link(stranger, own)
    client.force_login(stranger)

    assert client.get(page_url(account)).status_code == 404
    foreign = reverse("debtors:document-pdf", args=[account.number, notice.pk])
    assert client.get(foreign).status_code == 404
    # Someone else's document through one's own account number: 404 too.
    through_own = reverse("debtors:document-pdf", args=[own.number, notice.pk])
    assert client.get(through_own).status_code == 404
    assert client.get(page_url(own)).status_code == 200


def test_anonymous_is_sent_to_log_in(client, debtor):
    _, account, _, _ = debtor
    response = client.get(page_url(account))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_no_documents_and_no_agreement(client, user, account):
    link(user, account)
    client.force_login(user)

    response = client.get(page_url(account))

    assert response.status_code == 200
    assert "Документов по задолженности нет" in response.content.decode()
    assert response.context["agreement"] is None
