"""Penalties booked monthly by the run, payment allocation and the payment service."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import selectors, services
from billing.models import LedgerEntry, Payment
from tests.billing.conftest import bill_and_close, read
from tests.factories import LegalSubscriberFactory, MeterFactory, PersonalAccountFactory

JAN, FEB, MAR, APR, MAY, JUN = (date(2025, m, 1) for m in range(1, 7))


def penalties_by_month(account) -> dict[date, Decimal]:
    return dict(
        LedgerEntry.objects.filter(account=account, kind="penalty")
        .order_by("period__month")
        .values_list("period__month", "amount")
    )


@pytest.fixture
def debtor():
    """An individual charged 900.00 for January 2025 (10 m3 x (50 + 40)), nothing later."""
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    meter = MeterFactory(account=account, installed_on=date(2024, 1, 10))
    read(meter, "110.000", date(2025, 1, 20))
    for month in (FEB, MAR, APR, MAY, JUN):
        read(meter, "110.000", month.replace(day=20))  # no consumption
    return account


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("legal_data", "rates")
def test_penalties_are_booked_each_month_as_the_law_accrues_them(debtor):
    bill_and_close(JAN, FEB, MAR, APR, MAY)

    # Due 10.02.2025; days 1-30 free; day 31 = 13.03; day 91 = 12.05; unpaid, so the rate of
    # each calculation date: 21 % (in force 28.10.2024-08.06.2025).
    # March: 13.03-31.03, 19 days x 900 x 21 % / 300 = 11.97.
    # April: 13.03-30.04, 49 days -> 30.87 in all, 18.90 more.
    # May: 13.03-11.05 60 days = 37.80; 12.05-31.05 20 days x 900 x 21 % / 130 = 29.08;
    # 66.88 in all, 36.01 more.
    assert penalties_by_month(debtor) == {
        MAR: Decimal("11.97"),
        APR: Decimal("18.90"),
        MAY: Decimal("36.01"),
    }
    assert selectors.account_balance(debtor).penalty == Decimal("66.88")
    # What the cabinet explains is what the ledger holds.
    assert selectors.penalty_breakdown(debtor, as_of=date(2025, 5, 31)).total == Decimal("66.88")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("legal_data", "rates")
def test_payment_stops_the_penalty_on_its_day_at_that_days_rate(debtor):
    bill_and_close(JAN, FEB, MAR, APR, MAY)
    services.register_payment(
        account_id=debtor.pk, amount=Decimal("900.00"), paid_on=date(2025, 6, 5),
        source="cash_desk", external_id="chk-1",
    )  # fmt: skip

    bill_and_close(JUN)

    # Paid on 05.06.2025 (counted), rate of that day 21 %: 12.05-05.06 is 25 days at 1/130
    # = 36.35; 37.80 + 36.35 = 74.15 in all, so June adds 7.27.
    assert penalties_by_month(debtor)[JUN] == Decimal("7.27")
    balance = selectors.account_balance(debtor)
    assert (balance.principal, balance.penalty) == (Decimal("0.00"), Decimal("74.15"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("legal_data", "rates")
def test_legal_entity_owes_penalty_from_the_first_day():
    account = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(), tariff_category="other", residents=0,
        opened_on=date(2020, 1, 1),
    )  # fmt: skip
    meter = MeterFactory(account=account, installed_on=date(2024, 1, 10))
    read(meter, "200.000", date(2025, 1, 20))  # 100 m3 x (55 + 45) = 10 000.00
    read(meter, "200.000", date(2025, 2, 20))

    bill_and_close(JAN, FEB)

    # Due 10.02.2025; 11.02-28.02 = 18 days x 10 000 x 21 % / 130 = 290.77.
    assert penalties_by_month(account) == {FEB: Decimal("290.77")}


@pytest.mark.django_db
def test_payments_go_to_the_named_month_then_to_the_oldest(account):
    _charged(account, {JAN: "900.00", FEB: "450.00"})
    services.register_payment(
        account_id=account.pk, amount=Decimal("500.00"), paid_on=date(2025, 3, 1),
        source="cash_desk", external_id="a", for_month=FEB,
    )  # fmt: skip
    services.register_payment(
        account_id=account.pk, amount=Decimal("300.00"), paid_on=date(2025, 3, 5),
        source="cash_desk", external_id="b",
    )  # fmt: skip

    months = {m.month: m for m in selectors.debt_by_month(account, on=date(2025, 3, 31))}

    # 500 for February pays its 450, the 50 left and the 300 go to January.
    assert (months[FEB].paid, months[FEB].unpaid) == (Decimal("450.00"), Decimal("0.00"))
    assert (months[JAN].paid, months[JAN].unpaid) == (Decimal("350.00"), Decimal("550.00"))
    assert months[JAN].days_overdue == (date(2025, 3, 31) - date(2025, 2, 10)).days
    assert months[FEB].days_overdue == 0


@pytest.mark.django_db
def test_overpayment_stays_as_credit(account):
    _charged(account, {JAN: "100.00"})
    services.register_payment(
        account_id=account.pk, amount=Decimal("250.00"), paid_on=date(2025, 2, 1),
        source="cash_desk", external_id="c",
    )  # fmt: skip

    assert selectors.account_balance(account).principal == Decimal("-150.00")
    assert [m.unpaid for m in selectors.debt_by_month(account, on=date(2025, 2, 1))] == [
        Decimal("0.00")
    ]


@pytest.mark.django_db
def test_penalty_is_paid_only_when_the_payer_says_so(account):
    _charged(account, {JAN: "100.00"})
    services.register_payment(
        account_id=account.pk, amount=Decimal("30.00"), paid_on=date(2025, 4, 1),
        source="cash_desk", external_id="p", for_penalty=True,
    )  # fmt: skip

    balance = selectors.account_balance(account)
    assert (balance.principal, balance.penalty) == (Decimal("100.00"), Decimal("-30.00"))
    assert LedgerEntry.objects.get(payment__external_id="p").kind == "penalty_payment"


@pytest.mark.django_db
def test_the_same_payment_is_booked_once_and_a_conflict_is_refused(account):
    kwargs = {
        "account_id": account.pk, "amount": Decimal("120.00"), "paid_on": date(2025, 3, 3),
        "source": "bank_registry", "external_id": "4312345601",
    }  # fmt: skip
    first = services.register_payment(**kwargs)
    assert services.register_payment(**kwargs) == first
    with pytest.raises(ValidationError) as error:
        services.register_payment(**{**kwargs, "amount": Decimal("121.00")})
    assert error.value.code == "payment_conflict"
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    with pytest.raises(ValidationError, match="больше нуля"):
        services.register_payment(**{**kwargs, "external_id": "x", "amount": Decimal("0.00")})


@pytest.mark.django_db
def test_an_operation_twice_in_one_call_is_booked_once_and_a_conflict_refuses_all(account):
    row = services.NewPayment(
        account_id=account.pk, amount=Decimal("120.004"), paid_on=date(2025, 3, 3),
        source="bank_registry", external_id="4312345601",
    )  # fmt: skip
    other = replace(row, external_id="4312345602", amount=Decimal("5"))

    ids = services.book_payments([row, other, replace(row, amount=Decimal("120.00"))])

    assert ids[0] == ids[2] != ids[1]
    assert Payment.objects.get(pk=ids[0]).amount == Decimal("120.00")
    assert LedgerEntry.objects.filter(kind="payment").count() == 2
    with pytest.raises(ValidationError) as error:
        services.book_payments(
            [replace(row, external_id="new"), replace(row, external_id="new", amount=Decimal("1"))]
        )
    assert error.value.code == "payment_conflict"
    assert Payment.objects.count() == 2  # nothing of the refused call
    assert services.book_payments([other, row]) == [ids[1], ids[0]]  # replays: same ids


@pytest.mark.django_db
def test_payment_for_a_closed_month_lands_in_the_next_open_one(account):
    from billing.models import BillingRun, Period

    march = services.ensure_period(MAR)
    BillingRun.objects.create(period=march, status=BillingRun.Status.DONE)
    Period.objects.filter(pk=march.pk).update(status=Period.Status.CLOSED)

    services.register_payment(
        account_id=account.pk, amount=Decimal("10.00"), paid_on=date(2025, 3, 30),
        source="bank_registry", external_id="late",
    )  # fmt: skip

    entry = LedgerEntry.objects.get(payment__external_id="late")
    assert (entry.period.month, entry.booked_on) == (APR, date(2025, 3, 30))


def _charged(account, amounts: dict[date, str]) -> list[LedgerEntry]:
    """Charges written as a run would leave them (no tariffs needed for allocation)."""
    from vodokanal.common.months import month_end

    return [
        LedgerEntry.objects.create(
            account=account,
            period=services.ensure_period(month),
            kind="charge",
            service="water_supply",
            amount=Decimal(amount),
            for_month=month,
            booked_on=month_end(month),
        )
        for month, amount in amounts.items()
    ]
