"""`manage.py import_registry --agent sberbank PATH ...`: each file in its own transaction, a
summary per file, a refused file reported in Russian on stderr while the others are imported,
and exit status 1 when any file was refused."""

from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from billing.models import Payment, RegistryImport
from tests.billing.test_registries import DATA, SAMPLE_ACCOUNTS, line, registry_file
from tests.factories import PersonalAccountFactory

MOSCOW = ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture
def accounts(payment_agents):
    return [
        PersonalAccountFactory(number=number, opened_on=date(2020, 1, 1))
        for number in SAMPLE_ACCOUNTS
    ]


def command(*paths, agent: str = "sberbank") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_registry", "--agent", agent, *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_every_file_and_prints_its_summary(accounts, tmp_path):
    second = tmp_path / "sb_20251117.txt"
    second.write_bytes(registry_file(line("77", SAMPLE_ACCOUNTS[0], "10.50")))

    out, err = command(DATA, second)

    assert out.replace("\xa0", " ").splitlines() == [
        "sberbank_registry.txt: строк 6 на 51 426,27 ₽; учтено 6 на 51 426,27 ₽; пропущено 0; "
        "невыясненных 0 на 0,00 ₽; показаний принято 0.",
        "sb_20251117.txt: строк 1 на 10,50 ₽; учтено 1 на 10,50 ₽; пропущено 0; "
        "невыясненных 0 на 0,00 ₽; показаний принято 0.",
    ]
    assert err == ""
    assert Payment.objects.count() == 7


def test_a_refused_file_is_reported_and_the_others_are_imported(accounts, tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_bytes(registry_file(line("1", SAMPLE_ACCOUNTS[0], "10.00"), total="11.00"))
    missing = tmp_path / "missing.txt"
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as caught:
        call_command(
            "import_registry", "--agent", "sberbank", str(broken), str(missing), str(DATA),
            stdout=out, stderr=err,
        )  # fmt: skip

    assert str(caught.value) == "Не загружено файлов: 2 из 3."
    assert err.getvalue().replace("\xa0", " ").splitlines() == [
        "broken.txt: файл не загружен.",
        "  Сумма платежей в итоговой строке 11,00 ₽, а по строкам 10,00 ₽.",
        "  Сумма к перечислению в итоговой строке 11,00 ₽, а по строкам 10,00 ₽.",
        "missing.txt: файл не прочитан (No such file or directory).",
    ]
    assert out.getvalue().startswith("sberbank_registry.txt: строк 6")
    assert RegistryImport.objects.get().file_name == "sberbank_registry.txt"
    assert sum(Payment.objects.values_list("amount", flat=True)) == Decimal("51426.27")


def test_an_unknown_agent_is_refused(payment_agents):
    with pytest.raises(CommandError) as caught:
        command(DATA, agent="nobank")

    assert str(caught.value) == "Агент с кодом «nobank» не найден."


def test_a_file_the_import_cannot_hold_is_refused_and_the_next_imported(accounts, tmp_path):
    huge = tmp_path / "huge.txt"  # crashed the command before (a database overflow)
    huge.write_bytes(registry_file(line("1", SAMPLE_ACCOUNTS[0], "1000000000000.00")))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as caught:
        call_command(
            "import_registry", "--agent", "sberbank", str(huge), str(DATA), stdout=out, stderr=err
        )

    assert str(caught.value) == "Не загружено файлов: 1 из 2."
    assert err.getvalue().replace("\xa0", " ").splitlines()[:2] == [
        "huge.txt: файл не загружен.",
        "  Строка 1: сумма платежа «1000000000000.00» больше допустимой (999 999 999 999,99 ₽).",
    ]
    assert out.getvalue().startswith("sberbank_registry.txt: строк 6")
    assert Payment.objects.count() == 6


def test_a_file_that_fails_unexpectedly_does_not_stop_the_others(accounts, tmp_path, monkeypatch):
    from billing.management.commands import import_registry as command_module

    real = command_module.import_registry

    def failing_on_one_file(*, agent, data, file_name, user=None):
        if file_name == "crash.txt":
            raise RuntimeError("boom")
        return real(agent=agent, data=data, file_name=file_name, user=user)

    monkeypatch.setattr(command_module, "import_registry", failing_on_one_file)
    crash = tmp_path / "crash.txt"
    crash.write_bytes(registry_file(line("1", SAMPLE_ACCOUNTS[0], "10.00")))
    second = tmp_path / "sb_20251117.txt"
    second.write_bytes(registry_file(line("77", SAMPLE_ACCOUNTS[0], "10.50")))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as caught:
        call_command(
            "import_registry", "--agent", "sberbank", str(crash), str(DATA), str(second),
            stdout=out, stderr=err,
        )  # fmt: skip

    assert str(caught.value) == "Не загружено файлов: 1 из 3."
    assert err.getvalue().splitlines() == [
        "crash.txt: файл не загружен из-за непредвиденной ошибки (RuntimeError); ничего из "
        "него не учтено, подробности в журнале."
    ]
    assert [row.split(":")[0] for row in out.getvalue().splitlines()] == [
        "sberbank_registry.txt",
        "sb_20251117.txt",
    ]
    assert RegistryImport.objects.count() == 2
    assert Payment.objects.count() == 7


def test_a_file_over_the_size_limit_is_refused_by_the_command(accounts, tmp_path, settings):
    settings.REGISTRY_MAX_BYTES = 900  # the sample is 958 bytes
    small = tmp_path / "small.txt"
    small.write_bytes(registry_file(line("77", SAMPLE_ACCOUNTS[0], "10.50")))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_registry", "--agent", "sberbank", str(DATA), str(small), stdout=out, stderr=err
        )

    assert err.getvalue().splitlines()[:2] == [
        "sberbank_registry.txt: файл не загружен.",
        "  Файл больше 900 байт: реестр такого размера не загружается. Проверьте, тот ли это "
        "файл, или попросите агента разделить реестр.",
    ]
    assert out.getvalue().startswith("small.txt: строк 1")
    assert Payment.objects.count() == 1
