"""The penalty run's candidate query (selectors.principal_debtor_ids) never leaves out an
account that owes a penalty: on a small city with a year of history, made harder with
random payments (named months, the period's own month, months ahead, days on and around
the deadlines) and corrections of both signs, every account that owes principal and is
left out owes no penalty in the engine, on the last day of several months and on random
days. (An account that owes no principal is the run's only through the penalties booked
for it before, as in book_penalties since the first version.)"""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.models import PersonalAccount
from billing import penalties, selectors, services
from billing.models import BillingRun, LedgerEntry, Payment, Period
from tests.factories import staff_user
from vodokanal.bench import city as bench_city
from vodokanal.common.months import add_months, month_end

pytestmark = pytest.mark.django_db(transaction=True)

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def small_city(legal_data, payment_agents):
    built = bench_city.ensure_city(accounts=300, fresh=True, log=lambda message: None)
    yield built
    bench_city.wipe()


def skipped_with_a_penalty(as_of: date) -> tuple[list[tuple[int, Decimal]], int]:
    """Accounts owing principal that the query leaves out although their penalty in the
    engine is not zero; and how many accounts owing principal there were."""
    candidates = set(selectors.principal_debtor_ids(as_of=as_of))
    owing = selectors.accounts_owing(on=as_of)
    tables = selectors.penalty_tables()
    wrong = []
    for account_id, data in selectors.engine_inputs(owing, as_of=as_of).items():
        if account_id in candidates:
            continue
        total = selectors.calculate(data, as_of=as_of, tables=tables).total
        if total != Decimal("0.00"):
            wrong.append((account_id, total))
    return wrong, len(owing)


def random_payments_and_corrections(city, rng: random.Random) -> None:
    today = timezone.localdate()
    staff = staff_user("accountant")
    accounts = list(PersonalAccount.objects.select_related("subscriber").order_by("pk"))
    months = [add_months(city.month, -back) for back in range(12, -1, -1)]
    for number, account in enumerate(rng.sample(accounts, 150)):
        subscriber = account.subscriber
        grace = 0 if subscriber.kind == "legal" else penalties.FREE_DAYS
        for payment in range(rng.randint(1, 3)):
            month = rng.choice(months[:-1])
            deadline = penalties.default_due_on(month, day=subscriber.due_day)
            days = grace + rng.choice((-20, -1, 0, 1, 2, 40))
            paid_on = min(deadline + timedelta(days=days), today)
            named = rng.choice(
                (None, None, month, add_months(month, 1), paid_on.replace(day=1), city.month,
                 add_months(city.month, 1), add_months(months[0], -3))
            )  # fmt: skip
            services.register_payment(
                account_id=account.pk,
                amount=Decimal(rng.randint(100, 1_500_000)).scaleb(-2),
                paid_on=paid_on,
                source="cash_desk",
                external_id=f"random-{number}-{payment}",
                for_month=named,
            )
        if rng.random() < 0.3:
            day = rng.choice((city.month + timedelta(days=rng.randint(0, 27)), today))
            amount = Decimal(rng.choice((-1, 1)) * rng.randint(100, 900_000)).scaleb(-2)
            with time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=MOSCOW)):
                # A decrease is never larger than the month's charge it corrects.
                bound = services.correction_bound(
                    account, penalty=False, service="water_supply", for_month=city.month,
                    lowers=amount < 0,
                )  # fmt: skip
                amount = max(amount, -bound)
                if amount:
                    services.book_adjustment(
                        account_id=account.pk,
                        amount=amount,
                        reason="Перерасчёт для проверки",
                        user=staff,
                        service="water_supply",
                        for_month=city.month,
                    )


@pytest.mark.parametrize("seed", [20261, 8])
def test_no_account_that_owes_is_left_out_with_a_penalty(small_city, seed):
    rng = random.Random(seed)
    random_payments_and_corrections(small_city, rng)
    # A payment naming its own period's month: its ledger row alone does not say so.
    assert LedgerEntry.objects.filter(
        kind="payment", payment__for_month=small_city.month, period__month=small_city.month
    ).exists()
    # The measured month billed, as the run does before its penalties: everyone owes.
    run = BillingRun.objects.create(period=Period.objects.get(month=small_city.month))
    services.book_charges(run_id=run.pk)

    months = [add_months(small_city.month, -back) for back in range(5, -1, -1)]
    checks = [month_end(month) for month in months]
    checks += [small_city.month + timedelta(days=rng.randint(0, 27)) for _ in range(3)]
    checks.append(timezone.localdate())
    checked = 0
    for as_of in checks:
        wrong, owing = skipped_with_a_penalty(as_of)
        assert wrong == [], as_of
        checked += owing
    assert checked > 600  # the measured month's end alone has all 300


def test_ranges_find_the_same_accounts_as_the_whole_ledger(small_city):
    as_of = month_end(small_city.month)
    ranges = selectors.account_ranges(size=37)

    assert ranges[0][0] == PersonalAccount.objects.order_by("pk").first().pk
    assert ranges[-1][1] == PersonalAccount.objects.order_by("pk").last().pk
    found = [
        account_id
        for accounts in ranges
        for account_id in selectors.principal_debtor_ids(as_of=as_of, accounts=accounts)
    ]
    assert found == selectors.principal_debtor_ids(as_of=as_of)
    assert found  # the city has debtors


def test_a_payments_ledger_row_carries_the_month_it_names(account):
    """The candidate query reads a payment's named month from its ledger row."""
    services.ensure_period(date(2025, 3, 1))
    for external_id, named in (("a", date(2025, 1, 1)), ("b", None), ("c", date(2025, 3, 1))):
        services.register_payment(
            account_id=account.pk, amount=Decimal("10.00"), paid_on=date(2025, 3, 5),
            source="cash_desk", external_id=external_id, for_month=named,
        )  # fmt: skip

    rows = Payment.objects.order_by("external_id").values_list("for_month", "entry__for_month")
    march = date(2025, 3, 1)
    assert list(rows) == [(date(2025, 1, 1), date(2025, 1, 1)), (None, march), (march, march)]


JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def charged(account, *months: date) -> None:
    """900.00 a month, written as a run would leave it, on the month's last day."""
    for month in months:
        LedgerEntry.objects.create(
            account=account, period=services.ensure_period(month), kind="charge",
            service="water_supply", amount=Decimal("900.00"), for_month=month,
            booked_on=month_end(month),
        )  # fmt: skip


def paid(account, on: date, named: date | None = None, external_id: str = "p") -> None:
    services.register_payment(
        account_id=account.pk, amount=Decimal("900.00"), paid_on=on, source="cash_desk",
        external_id=external_id, for_month=named,
    )  # fmt: skip


def assert_found_with_a_penalty(account, as_of: date) -> None:
    data = selectors.engine_inputs([account.pk], as_of=as_of)[account.pk]
    assert selectors.calculate(data, as_of=as_of, tables=selectors.penalty_tables()).total > 0
    assert account.pk in selectors.principal_debtor_ids(as_of=as_of)


@pytest.mark.usefixtures("legal_data")
def test_a_payment_naming_its_own_periods_month_does_not_pay_older_months(account):
    # January is due 10.02 (free to 12.03). Paid 05.03 for March: March takes it, so
    # January is late from 13.03; as an unnamed payment it would have paid January.
    charged(account, JAN, MAR)
    paid(account, date(2025, 3, 5), named=MAR)

    assert_found_with_a_penalty(account, date(2025, 4, 30))


@pytest.mark.usefixtures("legal_data")
def test_a_payment_naming_an_earlier_month_counts_from_that_months_deadline(account):
    # 05.03 for February pays February; January waits for the payment of 01.04, 20 days
    # after its free days ended. Were the 05.03 payment unnamed (or counted from an
    # earlier deadline), January would look paid in time.
    charged(account, JAN, FEB, MAR)
    paid(account, date(2025, 3, 5), named=FEB, external_id="feb")
    paid(account, date(2025, 4, 1), external_id="any")

    assert_found_with_a_penalty(account, date(2025, 4, 30))
