"""Properties of the registry parser and import on generated files (hypothesis): any bytes are
parsed or refused with a ValidationError, never another exception, and never more than a
hundred messages; a refused import leaves every table as it was; an accepted one accounts for
each payment line once (booked + skipped + unidentified = lines). The clock is frozen at
20.11.2025 12:00 Moscow time; examples are bounded (max_examples=100)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import PersonalAccount
from accounts.services import account_number_for
from billing.models import (
    LedgerEntry,
    Payment,
    PaymentAgent,
    Period,
    RegistryImport,
    UnidentifiedPayment,
)
from billing.payments.registries.services import import_registry, parse_registry
from meters.models import MeterReading
from tests.factories import MeterFactory, PersonalAccountFactory

MOSCOW = ZoneInfo("Europe/Moscow")
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PAYER = account_number_for(424242)
CLOSED = account_number_for(434343)
UNKNOWN = account_number_for(999999)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


def text_of(alphabet: str, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, max_size=max_size)


# Each field: what an agent sends, and what a hostile or broken file holds instead.
VALID = {
    "day": st.dates(date(2025, 11, 1), date(2025, 11, 18)).map(lambda d: f"{d:%d-%m-%Y}"),
    "time": st.just("10-00-00"),
    "operation": st.integers(1, 10**9).map(str),
    "account": st.sampled_from([PAYER, CLOSED, UNKNOWN, PAYER[:-1] + "0", ""]),
    "text": st.text(alphabet=st.characters(codec="cp1251", exclude_characters="\r\n;\x00"), max_size=20),
    "period": st.sampled_from(["", "102025", "112025", "112022"]),
    "amount": st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2).map(str),
    "commission": st.just("0.00"),
    "readings": st.lists(st.decimals(Decimal(0), Decimal(99999), places=3).map(lambda v: f"A1:{v}"), max_size=2),
}  # fmt: skip
HOSTILE = {
    "day": st.one_of(
        st.dates(date(1, 1, 1), date(9999, 12, 31)).map(lambda d: f"{d.day:02d}-{d.month:02d}-{d.year:04d}"),
        st.sampled_from(["31-12-9999", "01-12-2099", "19-11-2025", "21-11-2025", "15-10-2025", "31-02-2025", "", "١٧-١١-٢٠٢٥"]),
        text_of("0123456789-²①", 10),
    ),
    "time": st.sampled_from(["25-61-00", "", "x"]),
    "operation": st.one_of(st.sampled_from(["1", "2", ""]), text_of("0123456789", 70)),
    "account": st.sampled_from(["абв", "=HYPERLINK(1)", "1" * 40]),
    "text": st.text(alphabet=st.characters(codec="cp1251", exclude_characters="\r\n"), max_size=20),
    "period": st.one_of(st.sampled_from(["122025", "102022", "012999", "13-2025", "١٠٢٠٢٥"]), text_of("0123456789", 8)),
    "amount": st.one_of(
        st.sampled_from(["999999999999.99", "1000000000000.00", "9" * 27, "1" * 4000, "0.00", "-5", "1,50", "1 520,40", "١٠٠.٠٠", "1e3", "NaN", ""]),
        text_of("0123456789.,- ", 30),
    ),
    "commission": st.sampled_from(["0", "", "x", "1" * 30]),
    "readings": st.lists(
        st.one_of(
            st.sampled_from(["A1:1" + "0" * 25, "A1:1e30", "A1:", ":5", "A1:٥", "B9:1", "A1:999999999.9999"]),
            st.decimals(Decimal(0), Decimal("1e12"), places=3).map(lambda v: f"A1:{v}"),
            text_of("A1:0123456789.,", 20),
        ),
        max_size=3,
    ),
}  # fmt: skip


@st.composite
def payment_lines(draw, hostile: bool) -> str:
    def field(name: str):
        broken = hostile and draw(st.integers(0, 4)) == 0
        return draw(HOSTILE[name] if broken else VALID[name])

    amount = field("amount")
    fields = [
        field("day"),
        field("time"),
        "8619",
        "8619/0123",
        field("operation"),
        field("account"),
        field("text"),
        field("text"),
        field("period"),
        amount,
        amount if not hostile or draw(st.booleans()) else field("amount"),
        field("commission"),
        *field("readings"),
    ]
    if hostile and draw(st.integers(0, 9)) == 0:  # a field too few or too many
        fields = fields[: draw(st.integers(1, len(fields)))]
    return ";".join(fields)


@st.composite
def registries(draw) -> bytes:
    """A registry in the Sberbank layout: lines and a summary that agrees, or (hostile) one
    where any field, the summary or the line breaks may be broken."""
    hostile = draw(st.booleans())
    lines = draw(st.lists(payment_lines(hostile), max_size=6))
    total = Decimal("0.00")
    for row in lines:
        try:
            total += Decimal(row.split(";")[9].replace(",", ".").replace(" ", ""))
        except Exception:  # noqa: S112 - a junk amount: the summary will disagree
            continue
    count, total, order = str(len(lines)), f"{total:.2f}", "18-11-2025"
    if hostile and draw(st.booleans()):
        count = draw(st.one_of(st.just(count), text_of("0123456789²①", 6)))
        total = draw(st.one_of(st.just(total), HOSTILE["amount"]))
        order = draw(st.sampled_from(["20-11-2025", "01-01-2100", "", "x"]))
    rows = [*lines, f"={count};{total};{total};0.00;771;{order}"]
    if hostile and draw(st.booleans()):
        rows = draw(st.permutations(rows))
    if hostile and draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), draw(HOSTILE["text"]))
    if hostile and draw(st.booleans()):
        rows = rows[: draw(st.integers(0, len(rows)))]  # cut short
    return ("\r\n".join(rows) + "\r\n").encode("cp1251", errors="replace")


def row_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            RegistryImport, Payment, LedgerEntry, Period, UnidentifiedPayment, MeterReading
        )
    )  # fmt: skip


def outcome(call):
    """What `call` returns, or the ValidationError it raises (any other exception fails)."""
    try:
        return call(), None
    except ValidationError as error:
        return None, error


def payment_line_count(data: bytes) -> int:
    rows = data.decode("cp1251").splitlines()
    return sum(1 for row in rows if row.strip() and not row.startswith("="))


@BOUNDED
@given(data=st.one_of(st.binary(max_size=2000), registries()))
def test_the_parser_reads_or_refuses_any_bytes(data):
    agent = PaymentAgent(code="sberbank", name="ПАО Сбербанк")  # the default layout

    parsed, error = outcome(lambda: parse_registry(data, agent))

    if error is not None:
        event("refused")
        assert 1 <= len(error.messages) <= 101
        assert all(message.strip() for message in error.messages)
    else:
        event("parsed")
        assert len(parsed.lines) == payment_line_count(data)
        assert all(line.paid_on <= date(2025, 11, 20) for line in parsed.lines)
        assert all(
            Decimal("0.01") <= line.amount <= Decimal("999999999999.99") for line in parsed.lines
        )


@pytest.mark.django_db
@BOUNDED
@given(data=registries())
def test_an_import_is_all_or_nothing_and_accounts_for_every_line(payment_agents, data):
    agent = PaymentAgent.objects.get(code="sberbank")
    if not PersonalAccount.objects.filter(number=PAYER).exists():  # once for all examples
        payer = PersonalAccountFactory(number=PAYER, opened_on=date(2020, 1, 1))
        PersonalAccountFactory(
            number=CLOSED, opened_on=date(2020, 1, 1), closed_on=date(2025, 11, 1)
        )
        MeterFactory(account=payer, serial="A1")
    before = row_counts()

    registry, error = outcome(
        lambda: import_registry(agent=agent, data=data, file_name="generated.txt")
    )

    if error is not None:
        event("refused")
        assert row_counts() == before
        assert 1 <= len(error.messages) <= 101
        return
    event("imported")
    lines = payment_line_count(data)
    assert registry.lines == lines
    assert registry.booked + registry.skipped + registry.unidentified == lines
    imports, payments, entries, _, unidentified, _ = row_counts()
    assert imports == before[0] + 1
    assert payments == before[1] + registry.booked
    assert entries == before[2] + registry.booked
    assert unidentified == before[4] + registry.unidentified
    # No period but the current month's, which any payment of today would open.
    assert not Period.objects.exclude(month=date(2025, 11, 1)).exists()
