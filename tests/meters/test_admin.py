"""Staff: search, operator entry of a phoned-in reading, meter replacement, import upload."""

import csv
import html
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from meters.models import ImportBatch, Meter, MeterReading
from tests.factories import MeterFactory, UserFactory, staff_group

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _early_in_the_month():
    # Outside the subscribers' window: staff may still enter readings.
    with time_machine.travel(
        datetime(2026, 11, 5, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        yield


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True)
    user.groups.add(staff_group("operator"))
    client.force_login(user)
    return user


@pytest.mark.parametrize("field", ["serial", "account", "address"])
def test_meters_are_found_by_serial_account_and_address(client, operator, field):
    meter = MeterFactory(serial="ЗИП-555", account__address="г. Краснодар, ул. Зиповская, д. 9")
    other = MeterFactory(serial="КРС-111", account__address="г. Краснодар, ул. Красная, д. 1")
    term = {"serial": "ЗИП-555", "account": meter.account.number, "address": "Зиповская"}[field]
    text = client.get(reverse("admin:meters_meter_changelist"), {"q": term}).text
    assert "ЗИП-555" in text
    assert other.serial not in text


def test_operator_enters_a_reading_taken_by_phone(client, operator):
    meter = MeterFactory(serial="ТЕЛ-1")
    url = reverse("admin:meters_meterreading_operator_entry")
    response = client.post(url, {"serial": "ТЕЛ-1", "value": "104,5", "taken_on": "05.11.2026"})
    assert response.status_code == 302
    reading = MeterReading.objects.get(meter=meter)
    assert (reading.channel, reading.value, reading.submitted_by) == (
        "operator",
        Decimal("104.500"),
        operator,
    )


def test_operator_entry_explains_a_refusal(client, operator):
    MeterFactory(serial="ТЕЛ-2")
    url = reverse("admin:meters_meterreading_operator_entry")
    response = client.post(url, {"serial": "ТЕЛ-2", "value": "50", "taken_on": "05.11.2026"})
    assert response.status_code == 200
    assert "меньше предыдущего" in response.text
    assert not MeterReading.objects.exists()


def test_readings_cannot_be_edited_or_deleted_in_the_admin(client, operator):
    meter = MeterFactory()
    client.post(
        reverse("admin:meters_meterreading_operator_entry"),
        {"serial": meter.serial, "value": "101", "taken_on": "05.11.2026"},
    )
    reading = MeterReading.objects.get()
    assert (
        client.get(reverse("admin:meters_meterreading_delete", args=[reading.pk])).status_code
        == 403
    )
    client.post(reverse("admin:meters_meterreading_change", args=[reading.pk]), {"value": "999"})
    reading.refresh_from_db()
    assert reading.value == Decimal("101.000")


def test_meter_replacement_takes_the_final_and_the_initial_reading(client, operator):
    old = MeterFactory(serial="OLD-9", verification_due=date(2026, 10, 1))  # expired: replaced
    response = client.post(
        reverse("admin:meters_meter_replace", args=[old.pk]),
        {
            "final_value": "140,2",
            "replaced_on": "05.11.2026",
            "new_serial": "NEW-9",
            "new_initial_reading": "0,005",
            "new_digits": 5,
            "new_verification_due": "05.11.2032",
        },
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = Meter.objects.get(serial="NEW-9")
    assert (old.state, old.removed_on) == (Meter.State.REMOVED, date(2026, 11, 5))
    final = MeterReading.objects.get(meter=old)
    assert (final.value, final.channel) == (Decimal("140.200"), "meter_replacement")
    assert (new.account, new.initial_reading, new.installed_on) == (
        old.account,
        Decimal("0.005"),
        date(2026, 11, 5),
    )


def test_a_failed_replacement_changes_nothing(client, operator):
    old = MeterFactory(serial="OLD-8")
    MeterFactory(serial="TAKEN-1")
    response = client.post(
        reverse("admin:meters_meter_replace", args=[old.pk]),
        {
            "final_value": "140",
            "replaced_on": "05.11.2026",
            "new_serial": "TAKEN-1",
            "new_initial_reading": "0",
            "new_digits": 5,
            "new_verification_due": "05.11.2032",
        },
    )
    assert response.status_code == 200
    assert "уже установлен" in response.text
    old.refresh_from_db()
    assert old.state == Meter.State.WORKING
    assert not MeterReading.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_import_upload_and_the_report_of_rejected_rows(client, operator):
    meter = MeterFactory(serial="K-1")
    content = (
        "Лицевой счёт;Счётчик;Показание;Дата\n"
        f"{meter.account.number};K-1;110;04.11.2026\n"
        f"{meter.account.number};K-404;110;04.11.2026\n"
    ).encode("cp1251")
    response = client.post(
        reverse("admin:meters_importbatch_add"), {"file": SimpleUploadedFile("k.csv", content)}
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert (batch.rows_accepted, batch.rows_rejected) == (1, 1)
    report = client.get(reverse("admin:meters_importbatch_report", args=[batch.pk]))
    assert report["Content-Type"].startswith("text/csv")
    assert "K-404" in report.content.decode("utf-8-sig")
    again = client.post(
        reverse("admin:meters_importbatch_add"), {"file": SimpleUploadedFile("k2.csv", content)}
    )
    assert again.status_code == 200
    assert "уже загружен" in again.text
    assert ImportBatch.objects.count() == 1


def test_accountant_cannot_enter_readings(client):
    accountant = UserFactory(is_staff=True)
    accountant.groups.add(staff_group("accountant"))
    client.force_login(accountant)
    response = client.get(reverse("admin:meters_meterreading_operator_entry"))
    assert response.status_code == 403


# --- Hostile uploads (security review) ---


def test_an_import_over_the_size_limit_is_refused_on_the_page(client, operator, settings):
    settings.READINGS_IMPORT_MAX_BYTES = 1024
    content = ("Лицевой счёт;Счётчик;Показание;Дата\n" + "1;K-1;110;04.11.2026\n" * 100).encode()

    response = client.post(
        reverse("admin:meters_importbatch_add"), {"file": SimpleUploadedFile("k.csv", content)}
    )

    assert response.status_code == 200
    assert "Файл больше 1 КБ: разделите его на части и загрузите по очереди." in response.text
    assert not ImportBatch.objects.exists()


def test_a_reading_of_1e30_is_refused_on_the_page_not_a_server_error(client, operator):
    meter = MeterFactory(serial="K-1")
    content = (
        f"Лицевой счёт;Счётчик;Показание;Дата\n{meter.account.number};K-1;1e30;04.11.2026\n"
    ).encode("cp1251")

    response = client.post(
        reverse("admin:meters_importbatch_add"), {"file": SimpleUploadedFile("k.csv", content)}
    )

    assert response.status_code == 200
    assert "строка 2: показание «1e30» больше 999999999,999" in html.unescape(response.text)
    assert not ImportBatch.objects.exists()
    assert not MeterReading.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_downloaded_report_neutralises_formulas(client, operator):
    MeterFactory(serial="K-1")
    content = (
        "Лицевой счёт;Счётчик;Показание;Дата\n"
        '"=HYPERLINK(""http://evil.example"",""Подробнее"")";@K-404;110;04.11.2026\n'
    ).encode()
    client.post(
        reverse("admin:meters_importbatch_add"), {"file": SimpleUploadedFile("k.csv", content)}
    )
    batch = ImportBatch.objects.get()

    report = client.get(reverse("admin:meters_importbatch_report", args=[batch.pk]))

    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][1:3] == ['\'=HYPERLINK("http://evil.example","Подробнее")', "'@K-404"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("memory", [2_621_440, 100])  # in memory, or in a temporary file
def test_an_xlsx_upload_is_read_from_the_uploaded_file(client, operator, settings, memory):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = memory
    meter = MeterFactory(serial="K-1")
    book = Workbook()
    book.active.append(["Лицевой счёт", "Счётчик", "Показание", "Дата"])
    book.active.append([meter.account.number, "K-1", 110.5, datetime(2026, 11, 4)])  # noqa: DTZ001
    buffer = io.BytesIO()
    book.save(buffer)

    response = client.post(
        reverse("admin:meters_importbatch_add"),
        {"file": SimpleUploadedFile("k.xlsx", buffer.getvalue())},
    )

    assert response.status_code == 302
    assert MeterReading.objects.get().value == Decimal("110.500")
