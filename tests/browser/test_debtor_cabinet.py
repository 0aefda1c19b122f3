"""A debtor organisation's accountant, on a phone, finds the notice and the claim in the
cabinet and downloads both PDFs; the page has no serious accessibility violations."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from billing import services as billing_services
from debtors import batch_tasks, documents, services, tasks
from debtors.models import DebtCase
from tests.billing.conftest import make_norms, make_tariffs
from tests.debtors.conftest import charge
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
JAN, FEB, MAR, APR = (date(2025, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    # Documents are rendered below by calling the render directly: nothing goes to Redis.
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", lambda pk: None)
    monkeypatch.setattr(batch_tasks.email_document, "delay_on_commit", lambda pk: None)
    with time_machine.travel(datetime(2025, 4, 20, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        yield


@pytest.fixture
def debtor(legal_data):
    make_tariffs()
    make_norms()
    user = UserFactory(full_name="Смирнова Ольга")
    account = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(contract_number="ХВС-0457"),
        tariff_category="other", residents=0, opened_on=date(2020, 1, 1),
    )  # fmt: skip
    link(user, account)
    for month in (JAN, FEB, MAR):
        charge(account, month, "50000.00")
    services.update_cases(on=date(2025, 4, 15))
    case = DebtCase.objects.get(account=account)
    notice = services.send_notice(
        case_id=case.pk, period=billing_services.ensure_period(APR), on=date(2025, 4, 15)
    )
    claim = services.send_claim(case_id=case.pk, on=date(2025, 4, 16))
    for document in (notice, claim):
        documents.render_document(document_id=document.pk)
        document.refresh_from_db()
    return user, account, notice, claim


def test_debtor_sees_and_downloads_notice_and_claim_on_a_phone(
    page, log_in, axe_violations, debtor
):
    user, account, notice, claim = debtor
    page.set_viewport_size(PHONE)
    log_in(user)

    page.goto(f"/cabinet/accounts/{account.number}/documents/")

    expect(page.get_by_role("heading", name="Документы по задолженности", level=1)).to_be_visible()
    items = page.get_by_role("region", name="Уведомления, претензии и другие документы")
    expect(page.get_by_role("heading", level=3)).to_have_count(2)
    expect(page.get_by_role("heading", level=3).nth(0)).to_have_text(
        f"Претензия № {claim.number} от 16.04.2025"
    )
    expect(page.get_by_role("heading", level=3).nth(1)).to_have_text(
        f"Уведомление о задолженности № {notice.number} от 15.04.2025"
    )
    expect(page.get_by_text("оплатить до 26.04.2025")).to_be_visible()
    assert items.count() == 1
    assert axe_violations() == []
    # Nothing sticks out of a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for document, name in (
        (claim, f"Скачать PDF — претензия № {claim.number}"),
        (notice, f"Скачать PDF — уведомление о задолженности № {notice.number}"),
    ):
        with page.expect_download() as download_info:
            page.get_by_role("link", name=name).click()
        download = download_info.value
        assert download.suggested_filename == f"{document.kind}-{document.number}.pdf"
        with open(download.path(), "rb") as downloaded, document.pdf.open("rb") as stored:
            assert downloaded.read() == stored.read()
