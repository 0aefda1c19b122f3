"""Debt cases through every stage with the legal terms (docs/penalties.md §8, §9)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from debtors import selectors, services
from debtors.court_fees import court_order_fee, state_fee
from debtors.models import CaseEvent, CourtCase, DebtCase, DebtDocument, Restriction, Stage
from tests.debtors.conftest import charge, pay
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def period(month: date):
    from billing import services as billing_services

    return billing_services.ensure_period(month)


def stages(case: DebtCase) -> list[str]:
    return list(case.events.order_by("at", "pk").values_list("to_stage", flat=True))


@pytest.fixture
def person():
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(account, JAN, "700.00")  # due 10.02.2025
    charge(account, FEB, "700.00")  # due 10.03.2025
    return account


@pytest.fixture
def company():
    account = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(), tariff_category="other", residents=0,
        opened_on=date(2020, 1, 1),
    )  # fmt: skip
    for month in (JAN, FEB, MAR):
        charge(account, month, "50000.00")
    return account


def test_individual_through_every_stage_to_closing_by_payment(person):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get(account=person)
    assert (case.stage, case.debt, case.months_overdue) == (Stage.OVERDUE, Decimal("1400.00"), 2)
    assert case.overdue_since == date(2025, 2, 11)

    notice = services.send_notice(case_id=case.pk, period=period(MAR), on=date(2025, 3, 15))
    again = services.send_notice(case_id=case.pk, period=period(MAR), on=date(2025, 3, 16))
    assert again == notice  # one notice a month, however often the step runs
    # 1 400.00 > 2 x 630.00 at the norm: a warning is allowed.
    warning = services.warn_restriction(case_id=case.pk, on=date(2025, 3, 16))
    assert warning.data["warning_days"] == 20

    with pytest.raises(ValidationError) as error:
        services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 30))
    assert error.value.code == "not_delivered"
    services.record_delivery(
        document_id=warning.pk,
        method="hand",
        sent_on=date(2025, 3, 17),
        delivered_on=date(2025, 3, 18),
    )
    with pytest.raises(ValidationError, match=r"не ранее 07\.04\.2025"):
        services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 6))
    restriction = services.restrict(case_id=case.pk, method="reduce", on=date(2025, 4, 7))
    services.record_restricted(restriction_id=restriction.pk, restricted_on=date(2025, 4, 8))

    court = services.go_to_court(
        case_id=case.pk, court="Мировой судья судебного участка № 1", on=date(2025, 4, 10)
    )
    figures = selectors.case_figures(DebtCase.objects.get(pk=case.pk), on=date(2025, 4, 10))
    assert court.kind == CourtCase.Kind.COURT_ORDER
    assert court.debt_claimed == Decimal("1400.00")
    assert court.penalty_claimed == figures.penalty > 0
    # A court order costs half the claim's fee: half of 4 000 ₽ for claims up to 100 000 ₽.
    assert court.state_fee == Decimal("2000.00")
    assert court.state_fee == court_order_fee(figures.total, selectors.fee_scale("general"))

    services.record_decision(
        court_case_id=court.pk,
        decision="granted",
        decided_on=date(2025, 5, 5),
        awarded=figures.total,
    )
    services.start_enforcement(
        court_case_id=court.pk, writ_number="2-100/2025", enforcement_number="12345/25/23039-ИП",
        started_on=date(2025, 5, 20),
    )  # fmt: skip

    pay(person, "1400.00", date(2025, 6, 1), "chk-1")
    counts = services.update_cases(on=date(2025, 6, 2))

    case.refresh_from_db()
    assert counts["closed"] == 1
    assert (case.stage, case.closed_on) == (Stage.CLOSED, date(2025, 6, 2))
    assert stages(case) == [
        Stage.OVERDUE, Stage.NOTIFIED, Stage.RESTRICTION_WARNED, Stage.RESTRICTED,
        Stage.IN_COURT, Stage.IN_COURT, Stage.ENFORCEMENT, Stage.CLOSED,
    ]  # fmt: skip
    # Paid in full while restricted: the crew gets the order to restore service.
    assert Restriction.objects.get(pk=restriction.pk).restore_ordered_on == date(2025, 6, 2)
    assert case.documents.filter(kind=DebtDocument.Kind.RESTORE_ORDER).count() == 1
    kinds = list(case.documents.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["notice", "warning", "restrict_order", "court_order", "restore_order"]


def test_legal_entity_claim_then_court_after_thirty_days(company):
    services.update_cases(on=date(2025, 4, 15))
    case = DebtCase.objects.get(account=company)
    assert (case.debt, case.months_overdue) == (Decimal("150000.00"), 3)

    claim = services.send_claim(case_id=case.pk, on=date(2025, 4, 15))
    assert claim.deadline == date(2025, 4, 25)
    assert Decimal(claim.data["debt"]) == Decimal("150000.00")
    assert [row[1] for row in claim.data["months"]] == ["50000.00"] * 3
    with pytest.raises(ValidationError) as error:
        services.go_to_court(
            case_id=case.pk, court="Арбитражный суд Краснодарского края", on=date(2025, 6, 1)
        )
    assert error.value.code == "no_claim"  # the claim was never sent

    services.record_delivery(
        document_id=claim.pk, method="registered_mail", sent_on=date(2025, 4, 16)
    )
    with pytest.raises(ValidationError, match=r"не ранее 16\.05\.2025"):
        services.go_to_court(
            case_id=case.pk, court="Арбитражный суд Краснодарского края", on=date(2025, 5, 15)
        )
    court = services.go_to_court(
        case_id=case.pk, court="Арбитражный суд Краснодарского края", on=date(2025, 5, 16)
    )

    document = case.documents.get(kind=DebtDocument.Kind.STATEMENT_OF_CLAIM)
    claimed = court.debt_claimed + court.penalty_claimed
    # Arbitrazh: 10 000 ₽ + 5 % of the part over 100 000 ₽, in whole roubles.
    expected_fee = (Decimal("10000") + (claimed - Decimal("100000")) * 5 / 100).quantize(
        Decimal("1")
    )
    assert court.state_fee == expected_fee == state_fee(claimed, selectors.fee_scale("arbitrazh"))
    assert Decimal(document.data["state_fee"]) == court.state_fee
    assert stages(DebtCase.objects.get(pk=case.pk)) == [
        Stage.OVERDUE,
        Stage.CLAIM_SENT,
        Stage.IN_COURT,
    ]


def test_claim_goes_to_organisations_only(person):
    services.update_cases(on=date(2025, 3, 15))
    with pytest.raises(ValidationError) as error:
        services.send_claim(case_id=DebtCase.objects.get().pk, on=date(2025, 3, 15))
    assert error.value.code == "not_legal"


def test_no_warning_when_debt_is_not_over_two_months_at_the_norm():
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(account, JAN, "630.00")
    charge(account, FEB, "630.00")  # 1 260.00 = exactly 2 x 630.00: not over
    services.update_cases(on=date(2025, 3, 15))

    with pytest.raises(ValidationError, match="не превышает двух месячных начислений"):
        services.warn_restriction(case_id=DebtCase.objects.get().pk, on=date(2025, 3, 15))


def test_socially_important_organisation_is_not_restricted(company):
    company.subscriber.socially_important = True
    company.subscriber.save(update_fields=["socially_important"])
    services.update_cases(on=date(2025, 4, 15))

    with pytest.raises(ValidationError, match="социально значимый"):
        services.warn_restriction(case_id=DebtCase.objects.get().pk, on=date(2025, 4, 15))


def test_organisation_restricted_only_after_more_than_two_periods(company):
    services.update_cases(on=date(2025, 3, 15))  # January and February overdue: two periods
    case = DebtCase.objects.get()
    with pytest.raises(ValidationError, match="не более двух"):
        services.warn_restriction(case_id=case.pk, on=date(2025, 3, 15))

    services.update_cases(on=date(2025, 4, 15))  # March too
    warning = services.warn_restriction(case_id=case.pk, on=date(2025, 4, 15))
    assert warning.data["warning_days"] == 30  # the notice term for organisations (setting)


def test_payment_below_the_threshold_moves_a_warned_case_back(person):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get()
    services.warn_restriction(case_id=case.pk, on=date(2025, 3, 15))

    pay(person, "300.00", date(2025, 3, 20), "part-1")  # 1 100.00 left, under 1 260.00
    services.update_cases(on=date(2025, 3, 21))

    case.refresh_from_db()
    assert (case.stage, case.debt) == (Stage.NOTIFIED, Decimal("1100.00"))
    event = case.events.order_by("-pk").first()
    assert event.from_stage == Stage.RESTRICTION_WARNED
    assert "не превышает двух месячных начислений" in event.reason


def test_instalment_agreement_pauses_and_a_missed_payment_resumes(person):
    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get()
    services.sign_agreement(
        case_id=case.pk, number="Р-7", signed_on=date(2025, 3, 15),
        schedule=[(date(2025, 4, 1), Decimal("700.00")), (date(2025, 5, 1), Decimal("700.00"))],
    )  # fmt: skip
    pay(person, "700.00", date(2025, 3, 30), "inst-1")

    with pytest.raises(ValidationError) as error:
        services.send_notice(case_id=case.pk, period=period(MAR), on=date(2025, 4, 2))
    assert error.value.code == "paused"

    services.update_cases(on=date(2025, 5, 5))  # nothing paid for the 01.05 instalment
    agreement = case.agreements.get()
    assert agreement.status == "broken"
    assert "нарушено" in CaseEvent.objects.filter(case=case).order_by("-pk").first().reason
    services.send_notice(case_id=case.pk, period=period(MAR), on=date(2025, 5, 5))  # resumed


def test_rerun_of_the_monthly_update_changes_nothing(person, company):
    services.update_cases(on=date(2025, 4, 15))
    first = sorted(DebtCase.objects.values_list("account_id", "stage", "debt", "months_overdue"))
    events = CaseEvent.objects.count()

    counts = services.update_cases(on=date(2025, 4, 15))

    assert counts["opened"] == 0
    assert (
        sorted(DebtCase.objects.values_list("account_id", "stage", "debt", "months_overdue"))
        == first
    )
    assert CaseEvent.objects.count() == events


def test_write_off_needs_a_reason_and_closes(person):
    from tests.factories import UserFactory

    services.update_cases(on=date(2025, 3, 15))
    case = DebtCase.objects.get()
    lawyer = UserFactory()
    with pytest.raises(ValidationError):
        services.write_off(case_id=case.pk, reason=" ", on=date(2025, 3, 20), by=lawyer)

    services.write_off(
        case_id=case.pk, reason="Истёк срок исковой давности", on=date(2025, 3, 20), by=lawyer
    )

    case.refresh_from_db()
    assert (case.stage, case.closed_on) == (Stage.WRITTEN_OFF, date(2025, 3, 20))
    with pytest.raises(ValidationError, match="закрыто"):
        services.send_notice(case_id=case.pk, period=period(MAR), on=date(2025, 3, 21))
