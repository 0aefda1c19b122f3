"""The Bank of Russia key-rate client (billing.cbr) on a recorded answer, and
`manage.py fetch_key_rates` against a local HTTP server that plays the service.

data/cbr_key_rate_response.xml is a KeyRateXML answer for 02.06.2025–20.02.2026 in the
service's format (one <KR> per working day, newest first). Its rates up to 27.10.2025 are
those of docs/penalties.md §3; 16.0 % from 16.02.2026 is invented, so that the seeded table
(last decision 27.10.2025) has exactly one decision to add.
"""

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.cbr import CbrError, parse_key_rate_xml, rate_changes
from billing.models import KeyRate
from billing.penalties import KeyRate as Rate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data")]

RESPONSE = (Path(__file__).parent / "data" / "cbr_key_rate_response.xml").read_bytes()
SERVICE_PATH = "/DailyInfoWebServ/DailyInfo.asmx"


@pytest.fixture(autouse=True)
def _february_2026():
    with time_machine.travel(
        datetime(2026, 2, 20, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        yield


@pytest.fixture
def service(httpserver, settings):
    """The local server as CBR_DAILY_INFO_URL; returns the httpserver to set answers on."""
    settings.CBR_DAILY_INFO_URL = httpserver.url_for(SERVICE_PATH)
    return httpserver


def answer(server, body: bytes, status: int = 200) -> None:
    server.expect_request(
        SERVICE_PATH,
        method="POST",
        headers={"SOAPAction": '"http://web.cbr.ru/KeyRateXML"'},
    ).respond_with_data(body, status=status, content_type="text/xml; charset=utf-8")


def fetch(err: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("fetch_key_rates", stdout=out, stderr=err or io.StringIO())
    return out.getvalue()


def table() -> list[tuple[date, Decimal, str]]:
    return list(KeyRate.objects.order_by("valid_from").values_list("valid_from", "rate", "source"))


# --- The parser on the recorded answer.


def test_parser_reads_every_working_day_oldest_first():
    daily = parse_key_rate_xml(RESPONSE)
    assert len(daily) == 179
    assert daily[0] == Rate(date(2025, 6, 2), Decimal("21.00"))
    assert daily[-1] == Rate(date(2026, 2, 20), Decimal("16.00"))
    assert [row.valid_from for row in daily] == sorted({row.valid_from for row in daily})


def test_decisions_are_the_days_the_rate_changes():
    assert rate_changes(parse_key_rate_xml(RESPONSE)) == [
        Rate(date(2025, 6, 2), Decimal("21")),  # the first day: the rate in force then
        Rate(date(2025, 6, 9), Decimal("20")),
        Rate(date(2025, 7, 28), Decimal("18")),
        Rate(date(2025, 9, 15), Decimal("17")),
        Rate(date(2025, 10, 27), Decimal("16.5")),
        Rate(date(2026, 2, 16), Decimal("16")),
    ]


def test_decisions_after_a_known_rate():
    daily = parse_key_rate_xml(RESPONSE)
    after = [row for row in daily if row.valid_from > date(2025, 10, 27)]
    assert rate_changes(after, rate_before=Decimal("16.50")) == [
        Rate(date(2026, 2, 16), Decimal("16.00"))
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<soap:Envelope><soap:Body>", "не XML", id="not-xml"),
        pytest.param(
            b"<html><body>Service Unavailable</body></html>", "нет таблицы", id="no-table"
        ),
        pytest.param(
            b'<KeyRate xmlns=""><KR><DT>16.02.2026</DT><Rate>16.00</Rate></KR></KeyRate>',
            "Строка 1 ответа Банка России не разобрана",
            id="bad-date",
        ),
        pytest.param(
            b'<KeyRate xmlns=""><KR><DT>2026-02-16T00:00:00+03:00</DT><Rate>16,00</Rate></KR></KeyRate>',
            "не разобрана",
            id="bad-rate",
        ),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Bad date</faultstring>"
            b"</soap:Fault></soap:Body></soap:Envelope>",
            "вернул ошибку: Bad date",
            id="soap-fault",
        ),
    ],
)
def test_parser_refuses_what_it_cannot_read(body, message):
    with pytest.raises(CbrError, match=message):
        parse_key_rate_xml(body)


# --- The command against the local server.


def test_command_adds_exactly_the_new_decisions(service):
    before = table()
    answer(service, RESPONSE)
    output = fetch()
    assert table() == [*before, (date(2026, 2, 16), Decimal("16.00"), "cbr")]
    assert "Добавлены решения по ключевой ставке: 1." in output
    assert "16.00 % с 16.02.2026" in output
    # Asked from the last known decision (27.10.2025) to today.
    ((request, _response),) = service.log
    body = request.get_data(as_text=True)
    assert "<fromDate>2025-10-27T00:00:00</fromDate>" in body
    assert "<ToDate>2026-02-20T00:00:00</ToDate>" in body


def test_second_run_adds_nothing(service):
    answer(service, RESPONSE)
    fetch()
    after_first = table()
    output = fetch()
    assert table() == after_first
    assert output.strip() == "Новых решений по ключевой ставке нет (проверено по 20.02.2026)."
    assert "<fromDate>2026-02-16T00:00:00</fromDate>" in service.log[-1][0].get_data(as_text=True)


def test_existing_rows_are_never_changed(service):
    # Staff typed 15.75 % for 16.02.2026; the service says 16.00 % on that day and after.
    # The row stays, nothing is added (the rate does not change after that day), and a
    # warning names the disagreement.
    KeyRate.objects.create(valid_from=date(2026, 2, 16), rate=Decimal("15.75"), source="staff")
    before = table()
    answer(service, RESPONSE)
    err = io.StringIO()
    output = fetch(err)
    assert table() == before
    assert "нет" in output
    assert "ставка на 16.02.2026 — 16.00 %, в таблице — 15.75 %" in err.getvalue()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(
            b"Internal Server Error", 500, "ответил ошибкой HTTP 500 (http://", id="server-error"
        ),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server was unable to "
            b"process request.</faultstring></soap:Fault></soap:Body></soap:Envelope>",
            500,
            "/DailyInfo.asmx): Server was unable to process request.",
            id="soap-fault",
        ),
        pytest.param(RESPONSE[: len(RESPONSE) // 2], 200, "не XML", id="malformed-xml"),
    ],
)
def test_failure_writes_nothing_and_exits_non_zero(service, body, status, message):
    before = table()
    answer(service, body, status)
    with pytest.raises(CommandError) as caught:
        fetch()
    assert caught.value.returncode != 0
    assert str(caught.value).startswith("Ключевые ставки не обновлены. ")
    assert message in str(caught.value)
    assert table() == before
    assert not KeyRate.objects.filter(source="cbr").exists()


def test_unreachable_service_writes_nothing(settings):
    settings.CBR_DAILY_INFO_URL = "http://127.0.0.1:9/DailyInfoWebServ/DailyInfo.asmx"
    before = table()
    with pytest.raises(CommandError, match="Сервис Банка России недоступен"):
        fetch()
    assert table() == before
