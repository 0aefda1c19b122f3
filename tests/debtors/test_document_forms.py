"""Documents a lawyer would sign, for every kind of subscriber: the addressee in the right
form and case, «ОГРНИП» and «Адрес регистрации» for entrepreneurs, «Юридический адрес» only
for organisations, the utility named so that the grammar holds, quotes within quotes, and the
penalty's law for the debtor's category. Each is checked in the text of the rendered PDF."""

import io
import re
from datetime import date

import pypdf
import pytest

from accounts.models import Subscriber
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import BillingRun
from debtors import documents, services
from debtors.models import DebtCase
from tests.debtors.conftest import charge
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data")]

ON = date(2025, 4, 20)
MONTHS = (date(2025, 1, 1), date(2025, 2, 1))


def text_of(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).replace("\xa0", " ").split())


def debtor(subscriber: Subscriber):
    account = PersonalAccountFactory(subscriber=subscriber, opened_on=date(2020, 1, 1))
    for month in MONTHS:
        charge(account, month, "30000.00")
    services.update_cases(on=ON)
    return DebtCase.objects.get(account=account)


def notice_and_claim(case: DebtCase) -> tuple[str, str]:
    period = billing_services.ensure_period(ON)
    notice = services.send_notice(case_id=case.pk, period=period, on=ON)
    claim = services.send_claim(case_id=case.pk, on=ON)
    return text_of(documents.document_pdf(notice)), text_of(documents.document_pdf(claim))


def test_an_entrepreneur_is_addressed_as_one():
    case = debtor(
        LegalSubscriberFactory(
            name="ИП Захаров Олег Николаевич",
            inn="500100732259",
            kpp="",
            ogrn="304500116000157",
            legal_address="г. Краснодар, ул. Ленина, д. 1, кв. 2",
        )
    )
    for text in notice_and_claim(case):
        assert "Индивидуальному предпринимателю Захарову О. Н." in text
        assert "ИНН 500100732259, ОГРНИП 304500116000157" in text
        assert "Адрес регистрации: г. Краснодар, ул. Ленина, д. 1, кв. 2" in text
        assert "Юридический адрес" not in text
        assert "Руководителю" not in text
        assert "ч. 6.2 ст. 13, ч. 6.2 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ" in text


def test_an_organisation_is_addressed_to_its_head_when_known():
    case = debtor(
        LegalSubscriberFactory(
            kind=Subscriber.Kind.MANAGING_ORG,
            name="ООО «УК Юг»",
            head_position="Генеральный директор",
            head_name="Иванова Мария Петровна",
        )
    )
    notice, claim = notice_and_claim(case)
    for text in (notice, claim):
        assert "Генеральному директору ООО «УК Юг» Ивановой М. П." in text
        assert "ИНН 7707083893, КПП 770701001, ОГРН 1027700132195" in text
        assert "Юридический адрес: г. Краснодар, ул. Одесская, д. 8" in text
        assert "ОГРНИП" not in text
        # A managing organisation's penalty: part 6.4, the 1/170 band.
        assert "ч. 6.4 ст. 13, ч. 6.4 ст. 14" in text
    assert "с 61-го по 90-й день — 1/170" in claim


def test_an_organisation_without_a_head_is_addressed_itself():
    case = debtor(LegalSubscriberFactory(kind=Subscriber.Kind.HOUSING_COOP, name="ТСЖ «Север»"))
    notice, claim = notice_and_claim(case)
    assert "Исх. №" in claim
    assert "ТСЖ «Север» ИНН 7707083893" in claim
    assert "ч. 6.3 ст. 13, ч. 6.3 ст. 14" in notice


def test_a_person_is_addressed_in_the_dative_and_the_utility_declines():
    case = debtor(SubscriberFactory(name="Петров Пётр Петрович"))
    period = billing_services.ensure_period(ON)
    notice = services.send_notice(case_id=case.pk, period=period, on=ON)
    text = text_of(documents.document_pdf(notice))
    assert "Петрову Петру Петровичу" in text
    assert "в кассе ООО «Краснодар Водоканал»" in text
    assert "в кассе Водоканал" not in text
    assert "ч. 14 ст. 155 Жилищного кодекса РФ" in text
    assert "Адрес регистрации" not in text  # a home address, not a registration


def test_party_forms():
    from vodokanal.common.russian import dative_name, dative_position, quoted

    assert dative_name("Захаров Олег Николаевич", short=True) == "Захарову О. Н."
    assert dative_name("Иванова Мария Петровна") == "Ивановой Марии Петровне"
    assert dative_position("Председатель правления") == "Председателю правления"
    assert quoted("ООО «Ромашка»") == "«ООО „Ромашка“»"


def _variant(name: str) -> Subscriber:
    from tests.debtors.test_public_lists import organisation
    from tests.factories import SubscriberFactory

    if name == "individual":
        return SubscriberFactory(name="Сидорова Анна Павловна")
    if name == "entrepreneur":
        return LegalSubscriberFactory(
            name="ИП Захаров Олег Николаевич", inn="500100732259", kpp="",
            ogrn="304500116000157", legal_address="г. Краснодар, ул. Ленина, д. 1",
        )  # fmt: skip
    return organisation(
        "ООО «Лавка»" if name == "legal" else f"ООО «{name}»",
        kind=name,
        head_position="Директор",
        head_name="Кузьмин Сергей Александрович",
    )


NESTED_QUOTES = re.compile(r"«[^»„“]*«")


@pytest.mark.parametrize(
    "variant", ["individual", "entrepreneur", "housing_coop", "managing_org", "legal"]
)
def test_every_document_reads_right_for_every_kind_of_subscriber(variant, settings):
    """Notice, claim, warning, the crew's orders, the court paper and the reconciliation
    act, for each kind of subscriber: the forms of a document a lawyer would sign."""
    from datetime import timedelta

    from billing.payments.reconciliation import reconciliation_act, render_reconciliation_act
    from debtors.models import Restriction

    subscriber = _variant(variant)
    case = debtor(subscriber)
    charge(case.account, date(2025, 3, 1), "30000.00")  # three months unpaid
    services.update_cases(on=ON)
    case.refresh_from_db()
    legal = subscriber.is_legal_entity
    period = billing_services.ensure_period(ON)
    issued = [services.send_notice(case_id=case.pk, period=period, on=ON)]
    if legal:
        claim = services.send_claim(case_id=case.pk, on=ON)
        services.record_delivery(document_id=claim.pk, method="registered_mail", sent_on=ON)
        issued.append(claim)
    warning = services.warn_restriction(case_id=case.pk, on=ON)
    services.record_delivery(document_id=warning.pk, method="hand", sent_on=ON, delivered_on=ON)
    issued.append(warning)
    later = ON + timedelta(days=31)
    restriction = services.restrict(case_id=case.pk, method=Restriction.Method.REDUCE, on=later)
    court = services.go_to_court(case_id=case.pk, court="Арбитражный суд", on=later)
    services.record_restricted(restriction_id=restriction.pk, restricted_on=later)
    owed = billing_selectors.account_balance(case.account).principal
    billing_services.register_payment(
        account_id=case.account.pk, amount=owed, paid_on=later, source="cash_desk",
        external_id=f"paid-{variant}",
    )  # fmt: skip
    services.update_cases(on=later + timedelta(days=1))  # paid: service is restored
    issued += list(case.documents.exclude(pk__in=[d.pk for d in issued]))
    assert restriction.pk
    assert court.pk
    texts = {document.kind: text_of(documents.document_pdf(document)) for document in issued}
    if legal:
        act = reconciliation_act(subscriber, date_from=date(2025, 1, 1), date_to=later)
        texts["act"] = text_of(render_reconciliation_act(act))
    march = billing_services.ensure_period(date(2025, 3, 1))
    BillingRun.objects.create(period=march, status=BillingRun.Status.DONE)  # billed
    receipt = billing_services.receipt_for(account=case.account, period=march)
    texts["receipt"] = text_of(receipt.pdf.read())

    expected_kinds = {"notice", "warning", "restrict_order", "restore_order", "receipt"}
    expected_kinds |= {"claim", "statement_of_claim", "act"} if legal else {"court_order"}
    assert expected_kinds <= set(texts)
    for kind, text in texts.items():
        assert "Руководителю" not in text, kind
        assert "в кассе Водоканал" not in text, kind
        assert not NESTED_QUOTES.search(text), (kind, NESTED_QUOTES.search(text))
        assert "None" not in text, kind
    addressed = [texts["notice"], texts["warning"]] + ([texts["claim"]] if legal else [])
    for text in addressed:
        if variant == "entrepreneur":
            assert "Индивидуальному предпринимателю Захарову О. Н." in text
            assert "ОГРНИП 304500116000157" in text
            assert "Адрес регистрации:" in text
        elif legal:
            assert "Директору ООО «" in text
            assert "Кузьмину С. А." in text
            assert "Юридический адрес:" in text
            assert "ОГРНИП" not in text
        else:
            assert "Сидоровой Анне Павловне" in text
            assert "Юридический адрес" not in text
            assert "ОГРН" not in text
    if legal:
        court_paper = texts["statement_of_claim"]
        assert ("Индивидуальный предприниматель Захаров Олег Николаевич" in court_paper) is (
            variant == "entrepreneur"
        )
        assert ("Юридический адрес:" in court_paper) is (variant != "entrepreneur")
    basis = {
        "individual": "ч. 14 ст. 155 Жилищного кодекса РФ",
        "entrepreneur": "ч. 6.2 ст. 13, ч. 6.2 ст. 14",
        "legal": "ч. 6.2 ст. 13, ч. 6.2 ст. 14",
        "housing_coop": "ч. 6.3 ст. 13, ч. 6.3 ст. 14",
        "managing_org": "ч. 6.4 ст. 13, ч. 6.4 ст. 14",
    }[variant]
    assert basis in texts["notice"]
    assert basis in texts["receipt"]
