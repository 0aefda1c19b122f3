"""Payment registries (docs/formats.md §1): the parser on the synthetic Sberbank example and
on broken files, the import with its report (booked, skipped, unidentified, readings), the
refusals that book nothing, concurrent imports of one file, unidentified payments resolved by
staff, and the reconciliation with the agents. The clock is frozen at 20.11.2025 12:00 Moscow
time (inside the readings window)."""

import io
import threading
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import account_number_for
from billing import selectors
from billing.models import (
    LedgerEntry,
    Payment,
    PaymentAgent,
    Period,
    RegistryImport,
    UnidentifiedPayment,
)
from billing.payments.registries.services import (
    import_registry,
    parse_registry,
    reconciliation_report,
    resolve_unidentified,
)
from billing.services import ensure_period
from meters.models import MeterReading
from tests.factories import MeterFactory, PersonalAccountFactory, staff_user

MOSCOW = ZoneInfo("Europe/Moscow")
DATA = Path(__file__).parent / "data" / "sberbank_registry.txt"
# The accounts of the sample file (docs/formats.md §1.1 with valid check digits).
SAMPLE_ACCOUNTS = [account_number_for(serial) for serial in (1234, 2345, 3456, 4567, 5678, 6789)]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture
def agent(payment_agents):
    return PaymentAgent.objects.get(code="sberbank")


@pytest.fixture
def sample_accounts(db):
    """The six accounts of the sample file, open since 2020."""
    return [
        PersonalAccountFactory(number=number, opened_on=date(2020, 1, 1))
        for number in SAMPLE_ACCOUNTS
    ]


def account(**fields):
    return PersonalAccountFactory(opened_on=date(2020, 1, 1), **fields)


def line(
    operation: str,
    number: str,
    amount: str = "100.00",
    *,
    day: str = "17-11-2025",
    period: str = "102025",
    readings: tuple[str, ...] = (),
) -> str:
    """One payment line in the Sberbank-kind layout."""
    fields = [
        day, "10-00-00", "8619", "8619/0123", operation, number, "ИВАНОВ ИВАН ИВАНОВИЧ",
        "КРАСНОДАР, УЛ. СЕВЕРНАЯ, Д. 12, КВ. 5", period, amount, amount, "0.00", *readings,
    ]  # fmt: skip
    return ";".join(fields)


def registry_file(
    *lines: str, count: int | None = None, total: str | None = None, encoding: str = "cp1251"
) -> bytes:
    """A registry with its summary line (count and totals from the lines unless given)."""
    if total is None:
        total = str(sum((Decimal(row.split(";")[9]) for row in lines), Decimal("0.00")))
    paid = total
    summary = f"={len(lines) if count is None else count};{paid};{paid};0.00;771;18-11-2025"
    return "\r\n".join([*lines, summary, ""]).encode(encoding)


def run(agent, data: bytes, name: str = "reestr.txt", user=None) -> RegistryImport:
    return import_registry(agent=agent, data=data, file_name=name, user=user)


def refusal(agent, data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        run(agent, data)
    return caught.value


def codes(error: ValidationError) -> list[str]:
    return [item.code for item in error.error_list]


def statuses(registry: RegistryImport) -> list[tuple[int, str]]:
    return [(entry["line"], entry["status"]) for entry in registry.report]


def assert_nothing_written() -> None:
    assert not RegistryImport.objects.exists()
    assert not Payment.objects.exists()
    assert not UnidentifiedPayment.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not MeterReading.objects.exists()


# --- The parser ---


def test_the_sample_file_is_parsed_field_by_field(agent):
    parsed = parse_registry(DATA.read_bytes(), agent)

    assert len(parsed.lines) == 6
    first, _, third, fourth = parsed.lines[:4]
    assert (first.line, first.paid_on, first.operation, first.account) == (
        1,
        date(2025, 11, 14),
        "4312345601",
        SAMPLE_ACCOUNTS[0],
    )
    assert (first.payer, first.address) == (
        "ИВАНОВ ИВАН ИВАНОВИЧ",
        "КРАСНОДАР, УЛ. СЕВЕРНАЯ, Д. 12, КВ. 5",
    )
    assert (first.amount, first.transferred, first.commission) == (
        Decimal("1520.40"),
        Decimal("1520.40"),
        Decimal("0.00"),
    )
    assert first.for_month == date(2025, 10, 1)
    assert [(r.serial, r.value) for r in first.readings] == [
        ("A123456", Decimal("345.120")),
        ("B654321", Decimal("122.004")),
    ]
    assert (third.period, third.for_month, third.payer) == ("", None, "СИДОРОВ ПЁТР ИЛЬИЧ")
    assert fourth.payer == "ООО «РОМАШКА»"
    assert (parsed.total, parsed.order_number, parsed.order_date) == (
        Decimal("51426.27"),
        "771",
        date(2025, 11, 15),
    )


def test_an_amount_with_a_decimal_comma_is_read():
    agent = PaymentAgent(code="x", name="Банк")
    data = registry_file(line("1", "2300012347", "1520,40"), total="1520,40")

    parsed = parse_registry(data, agent)

    assert parsed.lines[0].amount == Decimal("1520.40")
    assert parsed.total == Decimal("1520.40")


def test_every_bad_line_is_listed_with_its_number_and_nothing_is_booked(agent):
    data = registry_file(
        line("1", "2300012347", "100.00"),
        line("2", "2300012347", "100.00", day="31-02-2025"),
        line("3", "2300012347", "сто"),
        line("4", "2300012347", "0.00"),
        "17-11-2025;10-00-00;8619;8619/0123;5",
        line("6", "2300012347", "100.00", period="13-2025"),
        total="300.00",
    )

    error = refusal(agent, data)

    assert codes(error) == [
        "bad_date",
        "bad_amount",
        "bad_amount",  # the transferred amount repeats the payer's
        "amount_not_positive",
        "missing_fields",
        "bad_period",
    ]
    assert error.messages[0] == "Строка 2: дата оплаты «31-02-2025» не в формате ДД-ММ-ГГГГ."
    assert error.messages[1] == "Строка 3: сумма платежа «сто» не число в рублях с копейками."
    assert error.messages[3] == "Строка 4: сумма платежа должна быть больше нуля."
    assert error.messages[4] == ("Строка 5: полей 5, а нужно не меньше 12 (разделитель «;»).")
    assert error.messages[5] == "Строка 6: период «13-2025» не в формате ММГГГГ."
    assert_nothing_written()


def test_a_wrong_total_refuses_the_file(agent, sample_accounts):
    data = registry_file(
        line("1", SAMPLE_ACCOUNTS[0], "100.00"),
        line("2", SAMPLE_ACCOUNTS[1], "200.00"),
        total="301.00",
    )

    error = refusal(agent, data)

    assert codes(error) == ["total_mismatch", "total_mismatch"]  # paid and transferred
    assert error.messages[0].replace("\xa0", " ") == (
        "Сумма платежей в итоговой строке 301,00 ₽, а по строкам 300,00 ₽."
    )
    assert_nothing_written()


def test_a_wrong_count_refuses_the_file(agent, sample_accounts):
    data = registry_file(line("1", SAMPLE_ACCOUNTS[0]), line("2", SAMPLE_ACCOUNTS[1]), count=3)

    error = refusal(agent, data)

    assert codes(error) == ["count_mismatch"]
    assert error.messages == [
        "В итоговой строке указано платежей: 3, а в файле строк с платежами: 2. "
        "Файл неполный или испорчен."
    ]
    assert_nothing_written()


def test_a_utf8_file_declared_cp1251_is_refused(agent, sample_accounts):
    data = DATA.read_bytes().decode("cp1251").encode("utf-8")

    error = refusal(agent, data)

    assert codes(error) == ["wrong_encoding"]
    assert error.messages[0].startswith(
        "Файл не в кодировке cp1251, указанной в формате агента «ПАО Сбербанк» (файл в UTF-8)."
    )
    assert_nothing_written()


def test_a_utf8_file_with_a_broken_byte_is_still_recognised(agent):
    data = DATA.read_bytes().decode("cp1251").encode("utf-8") + b"\xff\r\n"

    with pytest.raises(ValidationError) as caught:
        parse_registry(data, agent)

    assert codes(caught.value) == ["wrong_encoding"]
    assert "(похоже на UTF-8)" in caught.value.messages[0]


def test_a_cp1251_file_declared_utf8_is_refused(agent):
    agent.encoding = "utf-8"

    with pytest.raises(ValidationError) as caught:
        parse_registry(DATA.read_bytes(), agent)

    assert codes(caught.value) == ["wrong_encoding"]
    assert caught.value.messages[0].startswith("Файл не в кодировке utf-8")


def test_a_file_without_the_summary_line_is_truncated(agent, sample_accounts):
    data = b"\r\n".join(DATA.read_bytes().splitlines()[:4])

    error = refusal(agent, data)

    assert codes(error) == ["truncated"]
    assert error.messages == [
        "Файл обрезан: нет итоговой строки, начинающейся с «=». Запросите у агента полный файл."
    ]
    assert_nothing_written()


def test_a_repeated_operation_with_other_data_refuses_the_file(agent, sample_accounts):
    data = registry_file(
        line("1", SAMPLE_ACCOUNTS[0], "100.00"), line("1", SAMPLE_ACCOUNTS[0], "150.00")
    )

    error = refusal(agent, data)

    assert codes(error) == ["duplicate_conflict"]
    assert error.messages == [
        "Строка 2: операция 1 уже есть в строке 1 с другими данными.",
    ]
    assert_nothing_written()


# --- The import ---


def test_the_sample_file_books_every_payment_in_one_import(agent, sample_accounts):
    user = staff_user("accountant")
    MeterFactory(account=sample_accounts[0], serial="A123456")

    registry = run(agent, DATA.read_bytes(), "sb_20251114.txt", user=user)

    assert (registry.lines, registry.total, registry.booked, registry.booked_total) == (
        6,
        Decimal("51426.27"),
        6,
        Decimal("51426.27"),
    )
    assert (registry.order_number, registry.order_date) == ("771", date(2025, 11, 15))
    assert (registry.skipped, registry.unidentified, registry.readings) == (0, 0, 0)
    payment = Payment.objects.get(account=sample_accounts[0])
    assert (
        payment.amount,
        payment.paid_on,
        payment.source,
        payment.external_id,
        payment.for_month,
        payment.agent,
        payment.registry,
        payment.created_by,
    ) == (
        Decimal("1520.40"),
        date(2025, 11, 14),
        "bank_registry",
        "sberbank:4312345601",
        date(2025, 10, 1),
        agent,
        registry,
        user,
    )
    assert Payment.objects.get(account=sample_accounts[2]).for_month is None
    assert payment.entry.amount == Decimal("-1520.40")
    # The readings of 14.11 came before the window (15-25): refused, the payments stand.
    assert statuses(registry) == [
        (1, "booked"),
        (1, "reading_refused"),
        (1, "reading_refused"),
        (2, "booked"),
        (3, "booked"),
        (3, "reading_refused"),
        (4, "booked"),
        (5, "booked"),
        (6, "booked"),
    ]
    assert registry.report[0] == {
        "line": 1,
        "status": "booked",
        "date": "2025-11-14",
        "operation": "4312345601",
        "account": SAMPLE_ACCOUNTS[0],
        "amount": "1520.40",
        "message": f"Учтён на лицевой счёт {SAMPLE_ACCOUNTS[0]}.",
    }
    assert registry.report[1]["message"].startswith(
        "Счётчик № A123456: Показания принимаются с 15 по 25 число месяца."
    )
    assert registry.report[2]["message"] == (
        f"Счётчик № B654321 не найден на лицевом счёте {SAMPLE_ACCOUNTS[0]}."
    )
    assert not MeterReading.objects.exists()


def test_readings_in_a_line_are_accepted_and_a_refused_one_keeps_the_payment(agent):
    payer = account()
    cold = MeterFactory(account=payer, serial="A123456")  # initial reading 100.000
    hot = MeterFactory(account=payer, serial="B654321", kind="hot")
    data = registry_file(
        line("10", payer.number, "500.00", readings=("A123456:00345.120", "B654321:00050,000"))
    )

    registry = run(agent, data)

    reading = MeterReading.objects.get()
    assert (reading.meter, reading.value, reading.channel, reading.taken_on) == (
        cold,
        Decimal("345.120"),
        "bank_registry",
        date(2025, 11, 17),
    )
    assert not hot.readings.exists()
    assert statuses(registry) == [(1, "booked"), (1, "reading_accepted"), (1, "reading_refused")]
    assert registry.report[1]["message"] == (
        "Показание 345,120 м³ по счётчику № A123456 принято, расход 245,120 м³."
    )
    assert registry.report[2]["message"] == (
        "Счётчик № B654321: Показание 50,000 меньше предыдущего принятого 100,000. "
        "Проверьте цифры до запятой."
    )
    assert registry.report[2]["amount"] == ""
    assert registry.readings == 1
    assert Payment.objects.get().amount == Decimal("500.00")


def test_a_reading_goes_to_the_installed_meter_not_to_a_removed_one_of_that_serial(agent):
    payer = account()
    MeterFactory(account=payer, serial="A1", state="removed", removed_on=date(2025, 1, 10))
    installed = MeterFactory(account=payer, serial="A1", installed_on=date(2025, 1, 10))

    registry = run(agent, registry_file(line("1", payer.number, readings=("A1:00120.000",))))

    assert MeterReading.objects.get().meter == installed
    assert registry.readings == 1


def test_readings_of_one_meter_on_several_lines_count_in_file_order(agent):
    payer = account()
    MeterFactory(account=payer, serial="A1")  # initial reading 100.000
    data = registry_file(
        line("1", payer.number, readings=("A1:00120.000",)),
        line("2", payer.number, readings=("A1:00120,000",)),
        line("3", payer.number, readings=("A1:00130.000", "A1:00090.000")),
    )

    registry = run(agent, data)

    assert [entry["message"] for entry in registry.report if entry["line"] > 0][1::2][:2] == [
        "Показание 120,000 м³ по счётчику № A1 принято, расход 20,000 м³.",
        "Это показание уже принято 17.11.2025.",
    ]
    assert registry.report[5:] == [
        {
            "line": 3,
            "status": "reading_accepted",
            "date": "2025-11-17",
            "operation": "3",
            "account": payer.number,
            "amount": "",
            "message": "Показание 130,000 м³ по счётчику № A1 принято, расход 30,000 м³. "
            "Предыдущее показание этого месяца заменено.",
        },
        {
            "line": 3,
            "status": "reading_refused",
            "date": "2025-11-17",
            "operation": "3",
            "account": payer.number,
            "amount": "",
            "message": "Счётчик № A1: Показание 90,000 меньше предыдущего принятого 100,000. "
            "Проверьте цифры до запятой.",
        },
    ]
    assert registry.readings == 3
    statuses = dict(MeterReading.objects.values_list("value", "status"))
    assert statuses == {Decimal("120.000"): "superseded", Decimal("130.000"): "accepted"}


def test_the_readings_of_a_file_take_the_same_queries_for_two_lines_as_for_twenty(agent):
    def queries(count: int, prefix: str) -> int:
        payers = [account() for _ in range(count)]
        for number, payer in enumerate(payers):
            MeterFactory(account=payer, serial=f"{prefix}{number}")
        data = registry_file(
            *(
                line(f"{prefix}{number}", payer.number, readings=(f"{prefix}{number}:00120.000",))
                for number, payer in enumerate(payers)
            )
        )
        with CaptureQueriesContext(connection) as captured:
            registry = run(agent, data, name=f"{prefix}.txt")
        assert registry.readings == count
        return len(captured)

    queries(1, "W")  # the first import of the test opens the period
    assert queries(2, "F") == queries(20, "M")


def test_a_repeated_line_inside_the_file_is_booked_once(agent):
    payer = account()
    data = registry_file(line("7", payer.number, "300.00"), line("7", payer.number, "300.00"))

    registry = run(agent, data)

    assert Payment.objects.get().amount == Decimal("300.00")
    assert (registry.booked, registry.skipped, registry.booked_total) == (1, 1, Decimal("300.00"))
    assert registry.report[1]["status"] == "skipped"
    assert registry.report[1]["message"] == "Операция повторяется в файле (строка 1)."


def test_an_operation_booked_by_an_earlier_file_is_skipped(agent):
    payer = account()
    run(agent, registry_file(line("1", payer.number, "300.00")), "first.txt")

    second = run(
        agent,
        registry_file(line("1", payer.number, "300.00"), line("2", payer.number, "50.00")),
        "second.txt",
    )

    assert sorted(Payment.objects.values_list("external_id", "amount")) == [
        ("sberbank:1", Decimal("300.00")),
        ("sberbank:2", Decimal("50.00")),
    ]
    assert statuses(second) == [(1, "skipped"), (2, "booked")]
    assert second.report[0]["message"] == (
        f"Операция уже учтена: платёж от 17.11.2025 на лицевой счёт {payer.number}."
    )


def test_the_same_operation_number_of_two_agents_are_two_payments(agent):
    payer = account()
    other = PaymentAgent.objects.get(code="kubankredit")

    data = registry_file(line("1", payer.number, "300.00"))
    run(agent, data, "sber.txt")
    run(other, data + b"\r\n", "kk.txt")  # one more byte: another file

    assert sorted(Payment.objects.values_list("external_id", flat=True)) == [
        "kubankredit:1",
        "sberbank:1",
    ]


def test_an_earlier_operation_with_other_data_refuses_the_file(agent):
    payer = account()
    run(agent, registry_file(line("1", payer.number, "300.00")), "first.txt")

    error = refusal(agent, registry_file(line("1", payer.number, "310.00")))

    assert codes(error) == ["payment_conflict"]
    assert error.messages[0].startswith("Строка 1: операция 1 уже учтена с другими данными")
    assert RegistryImport.objects.count() == 1
    assert Payment.objects.count() == 1


def test_unknown_closed_and_mistyped_accounts_wait_as_unidentified(agent):
    payer = account()
    closed = account(closed_on=date(2025, 10, 31))
    unknown = account_number_for(9999)  # a valid number nobody has
    mistyped = payer.number[:-1] + str((int(payer.number[-1]) + 1) % 10)
    data = registry_file(
        line("1", payer.number, "100.00"),
        line("2", unknown, "200.00", readings=("A1:00001.000",)),
        line("3", closed.number, "300.00"),
        line("4", mistyped, "400.00"),
    )

    registry = run(agent, data)

    assert Payment.objects.get().account == payer
    assert (registry.booked, registry.unidentified, registry.unidentified_total) == (
        1,
        3,
        Decimal("900.00"),
    )
    rows = UnidentifiedPayment.objects.order_by("line_number")
    assert [(u.line_number, u.external_id, u.account_number, u.amount, u.status) for u in rows] == [
        (2, "2", unknown, Decimal("200.00"), "open"),
        (3, "3", closed.number, Decimal("300.00"), "open"),
        (4, "4", mistyped, Decimal("400.00"), "open"),
    ]
    assert [u.reason for u in rows] == [
        f"Лицевой счёт {unknown} не найден.",
        f"Лицевой счёт {closed.number} закрыт 31.10.2025, платёж от 17.11.2025.",
        f"Номер лицевого счёта «{mistyped}» неверен: нужно 10 цифр, последняя — контрольная.",
    ]
    first = rows[0]
    assert (first.payer, first.period, first.paid_on, first.registry) == (
        "ИВАНОВ ИВАН ИВАНОВИЧ",
        "102025",
        date(2025, 11, 17),
        registry,
    )
    assert statuses(registry) == [
        (1, "booked"),
        (2, "unidentified"),
        (2, "reading_refused"),
        (3, "unidentified"),
        (4, "unidentified"),
    ]
    assert registry.report[2]["message"] == (
        f"Показание «A1:00001.000» не принято: лицевой счёт {unknown} не найден."
    )


def test_the_same_file_twice_is_refused_and_changes_nothing(agent, sample_accounts):
    first = run(agent, DATA.read_bytes(), "sb.txt")
    ledger = list(LedgerEntry.objects.values_list("pk", flat=True))

    error = refusal(agent, DATA.read_bytes())

    assert codes(error) == ["duplicate_file"]
    assert error.messages == [
        "Этот файл уже загружен 20.11.2025 12:00 (sb.txt, ПАО Сбербанк): повторно платежи не "
        "учитываются."
    ]
    assert list(RegistryImport.objects.all()) == [first]
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == ledger


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_book_it_once(payment_agents, sample_accounts):
    agent = PaymentAgent.objects.get(code="sberbank")
    data = DATA.read_bytes()
    barrier = threading.Barrier(2)
    outcomes = []

    def upload() -> None:
        try:
            barrier.wait()
            run(agent, data)
            outcomes.append("imported")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["duplicate_file", "imported"]
    assert RegistryImport.objects.count() == 1
    assert Payment.objects.count() == 6
    assert LedgerEntry.objects.filter(kind="payment").count() == 6


def test_after_imports_every_ledger_matches_its_balance(agent, sample_accounts):
    payer = sample_accounts[0]
    run(agent, DATA.read_bytes(), "one.txt")
    run(agent, registry_file(line("1", payer.number, "99.99"), line("2", payer.number, "0.01")))

    for each in sample_accounts:
        ledger = sum(each.ledger.values_list("amount", flat=True), Decimal("0.00"))
        payments = sum(each.payments.values_list("amount", flat=True), Decimal("0.00"))
        assert ledger == selectors.account_balance(each).total == -payments
    assert selectors.account_balance(payer).principal == Decimal("-1620.40")


# --- Unidentified payments ---


def test_staff_resolve_an_unidentified_payment_to_the_right_account(agent):
    payer = account()
    accountant = staff_user("accountant")
    registry = run(agent, registry_file(line("5", account_number_for(9999), "250.00")))
    item = UnidentifiedPayment.objects.get()

    payment = resolve_unidentified(unidentified_id=item.pk, account_id=payer.pk, user=accountant)

    assert (
        payment.account,
        payment.amount,
        payment.paid_on,
        payment.external_id,
        payment.for_month,
        payment.agent,
        payment.registry,
        payment.created_by,
    ) == (
        payer,
        Decimal("250.00"),
        date(2025, 11, 17),
        "sberbank:5",
        date(2025, 10, 1),
        agent,
        registry,
        accountant,
    )
    item.refresh_from_db()
    assert (item.status, item.payment, item.resolved_by) == ("resolved", payment, accountant)
    assert selectors.account_balance(payer).principal == Decimal("-250.00")


def test_a_resolved_payment_cannot_be_resolved_again(agent):
    payer, other = account(), account()
    run(agent, registry_file(line("5", account_number_for(9999), "250.00")))
    item = UnidentifiedPayment.objects.get()
    staff = staff_user("accountant")
    resolve_unidentified(unidentified_id=item.pk, account_id=payer.pk, user=staff)

    with pytest.raises(ValidationError) as caught:
        resolve_unidentified(unidentified_id=item.pk, account_id=other.pk, user=staff)

    assert caught.value.code == "already_resolved"
    assert Payment.objects.get().account == payer


def test_an_unidentified_payment_is_not_resolved_to_a_closed_account(agent):
    closed = account(closed_on=date(2025, 11, 1))
    run(agent, registry_file(line("5", account_number_for(9999), "250.00")))
    item = UnidentifiedPayment.objects.get()

    with pytest.raises(ValidationError) as caught:
        resolve_unidentified(
            unidentified_id=item.pk, account_id=closed.pk, user=staff_user("accountant")
        )

    assert caught.value.code == "account_closed"
    assert caught.value.messages == [
        f"Лицевой счёт {closed.number} не был открыт на дату платежа 17.11.2025."
    ]
    assert not Payment.objects.exists()
    item.refresh_from_db()
    assert item.status == "open"


def test_a_resolved_operation_sent_again_is_skipped(agent):
    payer = account()
    run(agent, registry_file(line("5", account_number_for(9999), "250.00")), "a.txt")
    item = UnidentifiedPayment.objects.get()
    resolve_unidentified(
        unidentified_id=item.pk, account_id=payer.pk, user=staff_user("accountant")
    )

    again = run(
        agent,
        registry_file(line("5", account_number_for(9999), "250.00"), line("6", payer.number)),
        "b.txt",
    )

    assert statuses(again) == [(1, "skipped"), (2, "booked")]
    assert again.report[0]["message"] == (
        "Операция уже загружена раньше; невыясненный платёж зачислен сотрудником."
    )
    assert Payment.objects.count() == 2


# --- Reconciliation ---


def test_reconciliation_flags_the_days_where_registries_and_payments_differ(agent):
    payer = account()
    other = PaymentAgent.objects.get(code="pochta")
    run(
        agent,
        registry_file(
            line("1", payer.number, "100.00", day="16-11-2025"),
            line("2", account_number_for(9999), "40.00", day="16-11-2025"),
            line("3", payer.number, "70.00", day="17-11-2025"),
        ),
        "a.txt",
    )
    # The bank sends operation 3 again in the next file: money the order counts twice.
    run(agent, registry_file(line("3", payer.number, "70.00", day="17-11-2025")), "b.txt")
    run(other, registry_file(line("1", payer.number, "55.00", day="17-11-2025")), "c.txt")

    rows = reconciliation_report(date_from=date(2025, 11, 16), date_to=date(2025, 11, 17))

    assert [
        (
            row.day,
            row.agent,
            row.registry_total,
            row.booked_total,
            row.unidentified_total,
            row.difference,
            row.differs,
        )
        for row in rows
    ] == [
        (date(2025, 11, 16), "ПАО Сбербанк", Decimal("140.00"), Decimal("100.00"),
         Decimal("40.00"), Decimal("0.00"), False),
        (date(2025, 11, 17), "АО «Почта России»", Decimal("55.00"), Decimal("55.00"),
         Decimal("0.00"), Decimal("0.00"), False),
        (date(2025, 11, 17), "ПАО Сбербанк", Decimal("140.00"), Decimal("70.00"),
         Decimal("0.00"), Decimal("70.00"), True),
    ]  # fmt: skip
    assert reconciliation_report(date_from=date(2025, 11, 18), date_to=date(2025, 11, 30)) == []


# --- Hostile files (security review): each refused in Russian, nothing written ---


class ChunksOnly(io.BytesIO):
    """A file that fails if read whole: the import must read it in chunks."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None, "the whole file was read at once"
        assert 0 < size <= 1024 * 1024, "the whole file was read at once"
        return super().read(size)


def raw_file(*rows: str, encoding: str = "cp1251") -> bytes:
    return "\r\n".join([*rows, ""]).encode(encoding)


def row_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            RegistryImport, Payment, LedgerEntry, Period, UnidentifiedPayment, MeterReading
        )
    )  # fmt: skip


def test_a_file_is_read_in_chunks_never_whole(agent, sample_accounts):
    parsed = parse_registry(ChunksOnly(DATA.read_bytes()), agent)
    registry = run(agent, ChunksOnly(DATA.read_bytes()))

    assert len(parsed.lines) == 6
    assert (registry.lines, registry.booked) == (6, 6)


def test_a_file_over_the_size_limit_is_refused_before_anything_is_read(
    agent, sample_accounts, settings
):
    settings.REGISTRY_MAX_BYTES = 900  # the sample is 958 bytes

    error = refusal(agent, DATA.read_bytes())

    assert codes(error) == ["too_large"]
    assert error.messages == [
        "Файл больше 900 байт: реестр такого размера не загружается. Проверьте, тот ли это "
        "файл, или попросите агента разделить реестр."
    ]
    assert_nothing_written()


def test_a_line_without_line_breaks_is_refused_at_its_limit(agent):
    error = refusal(agent, b"x" * 3_000_000)

    assert codes(error) == ["line_too_long"]
    assert error.messages == [
        "Строка 1: длиннее 10\xa0000 знаков: это не строка реестра. Проверьте, тот ли это файл."
    ]
    assert_nothing_written()


def test_junk_lines_make_at_most_a_hundred_messages_and_the_count_of_the_rest(agent):
    data = registry_file(*(line(str(n), "2300012347", day="32-11-2025") for n in range(250)))

    error = refusal(agent, data)

    assert len(error.messages) == 101
    assert error.messages[0] == "Строка 1: дата оплаты «32-11-2025» не в формате ДД-ММ-ГГГГ."
    assert error.messages[99].startswith("Строка 100: ")
    assert error.messages[100] == "Ещё ошибок в файле: 150 (показаны первые 100)."
    assert_nothing_written()


def test_a_large_junk_file_is_refused_in_little_memory(agent):
    data = b"junk;line\r\n" * 200_000  # 2.2 MB, 200 000 refusals

    tracemalloc.start()
    try:
        error = refusal(agent, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(error.messages) == 101
    assert error.messages[-1] == "Ещё ошибок в файле: 199901 (показаны первые 100)."
    assert peak < 20 * 1024 * 1024
    assert_nothing_written()


@pytest.mark.parametrize(
    ("day", "shown"),
    [("31-12-9999", "31.12.9999"), ("01-12-2099", "01.12.2099"), ("21-11-2025", "21.11.2025")],
)
def test_a_payment_dated_after_today_is_refused_and_opens_no_period(agent, day, shown):
    payer = account()

    error = refusal(agent, registry_file(line("1", payer.number, day=day)))

    assert codes(error) == ["future_date"]
    assert error.messages == [f"Строка 1: дата оплаты {shown} позже сегодняшнего дня (20.11.2025)."]
    assert not Period.objects.exists()
    assert_nothing_written()


def test_a_payment_dated_after_its_payment_order_is_refused(agent):
    payer = account()  # the order of registry_file is dated 18.11.2025

    error = refusal(agent, registry_file(line("1", payer.number, day="19-11-2025")))

    assert codes(error) == ["after_order_date"]
    assert error.messages == [
        "Строка 1: дата оплаты 19.11.2025 позже даты платёжного поручения 18.11.2025."
    ]
    assert_nothing_written()


def test_a_payment_order_dated_after_today_is_refused(agent):
    payer = account()
    data = raw_file(line("1", payer.number), "=1;100.00;100.00;0.00;771;01-01-2100")

    error = refusal(agent, data)

    assert codes(error) == ["future_date"]
    assert error.messages == [
        "Строка 2: дата платёжного поручения 01.01.2100 позже сегодняшнего дня (20.11.2025)."
    ]
    assert_nothing_written()


@pytest.mark.parametrize("period", ["012999", "122099", "122025", "102022"])
def test_a_payment_for_a_month_not_open_nor_recent_is_refused(agent, period):
    payer = account()

    error = refusal(agent, registry_file(line("1", payer.number, period=period)))

    assert codes(error) == ["bad_period"]
    assert error.messages == [
        f"Строка 1: период «{period}» ({period[:2]}.{period[2:]}) не принимается: оплатить "
        "можно открытый расчётный период или месяц не раньше 11.2022 и не позже 11.2025."
    ]
    assert not Period.objects.exists()
    assert_nothing_written()


def test_a_payment_may_name_an_open_period_or_a_recent_month(agent):
    payer = account()
    ensure_period(date(2025, 12, 1))  # opened early: it may be paid in advance

    registry = run(
        agent,
        registry_file(
            line("1", payer.number, period="122025"), line("2", payer.number, period="112022")
        ),
    )

    assert registry.booked == 2
    assert sorted(Payment.objects.values_list("for_month", flat=True)) == [
        date(2022, 11, 1),
        date(2025, 12, 1),
    ]


def test_a_payment_of_a_month_without_a_period_is_refused_not_given_one(agent):
    payer = account()
    Period.objects.create(month=date(2025, 10, 1), status=Period.Status.CLOSED)
    data = registry_file(
        line("1", payer.number, day="15-09-2025"), line("2", payer.number, day="15-10-2025")
    )
    before = row_counts()

    error = refusal(agent, data)

    assert codes(error) == ["no_period"]
    assert error.messages == [
        "Строка 1: дата оплаты 15.09.2025: нет расчётного периода 09.2025, в котором учесть "
        "платёж, а из реестра периоды не создаются. Проверьте дату у агента."
    ]
    assert row_counts() == before
    assert list(Period.objects.values_list("month", flat=True)) == [date(2025, 10, 1)]


def test_a_late_payment_of_a_closed_month_lands_in_the_current_period(agent):
    payer = account()
    Period.objects.create(month=date(2025, 10, 1), status=Period.Status.CLOSED)

    run(agent, registry_file(line("1", payer.number, day="15-10-2025")))

    assert Payment.objects.get().entry.period.month == date(2025, 11, 1)


@pytest.mark.parametrize(
    "amount", ["1000000000000.00", "9" * 27, "1" + "0" * 30 + ".00", "1" * 4000]
)
def test_an_amount_no_money_field_holds_is_refused_not_a_crash(agent, amount):
    payer = account()
    data = raw_file(line("1", payer.number, amount), "=1;100.00;100.00;0.00;771;18-11-2025")
    before = row_counts()

    error = refusal(agent, data)

    assert codes(error) == ["amount_too_large", "amount_too_large"]  # paid and transferred
    shown = amount if len(amount) <= 40 else amount[:39] + "…"
    assert error.messages[0] == (
        f"Строка 1: сумма платежа «{shown}» больше допустимой (999\xa0999\xa0999\xa0999,99\xa0₽)."
    )
    assert row_counts() == before


def test_the_largest_amount_a_money_field_holds_is_booked(agent):
    payer = account()

    registry = run(agent, registry_file(line("1", payer.number, "999999999999.99")))

    assert registry.booked_total == Decimal("999999999999.99")


def test_a_summary_total_no_money_field_holds_is_refused(agent):
    payer = account()
    data = registry_file(
        line("1", payer.number, "600000000000.00"), line("2", payer.number, "600000000000.00")
    )

    error = refusal(agent, data)

    assert codes(error) == ["bad_summary", "bad_summary", "amount_too_large"]
    assert error.messages[0] == (
        "Строка 3: в итоговой строке сумма «1200000000000.00» больше допустимой "
        "(999\xa0999\xa0999\xa0999,99\xa0₽)."
    )
    assert error.messages[2] == (
        "Сумма платежей файла 1\xa0200\xa0000\xa0000\xa0000,00\xa0₽ больше допустимой "
        "(999\xa0999\xa0999\xa0999,99\xa0₽)."
    )
    assert_nothing_written()


@pytest.mark.parametrize("count", ["²", "①", "١", "9" * 5000, "-1", "1e3"])
def test_a_summary_count_that_is_not_ascii_digits_is_refused(agent, count):
    payer = account()
    agent.encoding = "utf-8"  # where "²" and "①" can be written
    data = raw_file(
        line("1", payer.number), f"={count};100.00;100.00;0.00;771;18-11-2025", encoding="utf-8"
    )

    error = refusal(agent, data)

    assert codes(error) == ["bad_summary"]
    shown = count if len(count) <= 40 else count[:39] + "…"
    assert error.messages == [
        f"Строка 2: в итоговой строке количество платежей «{shown}» не число."
    ]
    assert_nothing_written()


@pytest.mark.parametrize("field", ["amount", "date", "period"])
def test_digits_of_other_scripts_are_not_numbers(agent, field):
    payer = account()
    fields = {
        "amount": {"amount": "١٠٠.٠٠"},
        "date": {"day": "١٧-١١-٢٠٢٥"},
        "period": {"period": "١٠٢٠٢٥"},
    }[field]

    agent.encoding = "utf-8"
    data = raw_file(line("1", payer.number, **fields), "=1;100.00;100.00", encoding="utf-8")

    error = refusal(agent, data)

    assert {"amount": "bad_amount", "date": "bad_date", "period": "bad_period"}[field] in codes(
        error
    )
    assert_nothing_written()


def test_a_reading_no_meter_shows_is_refused_and_the_payment_stands(agent):
    payer = account()
    MeterFactory(account=payer, serial="A1")
    huge = "1" + "0" * 25

    registry = run(agent, registry_file(line("1", payer.number, readings=(f"A1:{huge}",))))

    assert statuses(registry) == [(1, "booked"), (1, "reading_refused")]
    assert registry.report[1]["message"] == (
        f"Показание «A1:{huge}» не принято: больше 999999999,999, такого счётчики не показывают."
    )
    assert not MeterReading.objects.exists()
    assert Payment.objects.get().amount == Decimal("100.00")


def test_a_null_byte_refuses_the_file(agent):
    payer = account()
    data = registry_file(line("1", payer.number).replace("ИВАНОВ", "ИВА\x00НОВ"))

    error = refusal(agent, data)

    assert codes(error) == ["bad_char"]
    assert error.messages == ["Строка 1: нулевой байт: это не текстовый реестр."]
    assert_nothing_written()
