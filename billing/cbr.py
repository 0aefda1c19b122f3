"""The Bank of Russia's key-rate service (docs/penalties.md §3): DailyInfo SOAP, KeyRateXML.

The service answers with the key rate of every working day of a date range, newest first:

    <soap:Envelope ...><soap:Body><KeyRateXMLResponse xmlns="http://web.cbr.ru/">
      <KeyRateXMLResult><KeyRate xmlns="">
        <KR><DT>2025-10-27T00:00:00+03:00</DT><Rate>16.50</Rate></KR> ...
      </KeyRate></KeyRateXMLResult></KeyRateXMLResponse></soap:Body></soap:Envelope>

A decision is the first day on which a new rate appears. This module only fetches and
parses; `manage.py fetch_key_rates` stores the new decisions.
"""

import http.client
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings

from billing.penalties import KeyRate

DEFAULT_URL = "https://www.cbr.ru/DailyInfoWebServ/DailyInfo.asmx"
SOAP_ACTION = '"http://web.cbr.ru/KeyRateXML"'
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TIMEOUT_SECONDS = 30.0
FIRST_DAY = date(2013, 9, 13)  # the Bank of Russia set its first key rate on 13.09.2013

_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <KeyRateXML xmlns="http://web.cbr.ru/">
      <fromDate>{date_from:%Y-%m-%d}T00:00:00</fromDate>
      <ToDate>{date_to:%Y-%m-%d}T00:00:00</ToDate>
    </KeyRateXML>
  </soap:Body>
</soap:Envelope>
"""


class CbrError(Exception):
    """The service could not be reached or its answer was not understood (Russian text)."""


def service_url() -> str:
    """The DailyInfo endpoint; the CBR_DAILY_INFO_URL setting points tests elsewhere."""
    return settings.CBR_DAILY_INFO_URL


def fetch_daily_rates(
    date_from: date, date_to: date, *, timeout: float = TIMEOUT_SECONDS
) -> list[KeyRate]:
    """The key rate of each working day from `date_from` to `date_to`, oldest first.

    Raises CbrError on a network error, an HTTP error, a SOAP fault or an answer that
    cannot be parsed.
    """
    url = service_url()
    if not url.startswith(("https://", "http://")):
        raise CbrError(
            f"Адрес сервиса Банка России должен начинаться с http:// или https://: {url}."
        )
    body = _REQUEST.format(date_from=date_from, date_to=date_to).encode()
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            content: bytes = response.read()
    except urllib.error.HTTPError as error:
        detail = _fault_text(error)  # a SOAP fault comes with HTTP 500
        raise CbrError(
            f"Сервис Банка России ответил ошибкой HTTP {error.code} ({url})"
            + (f": {detail}." if detail else ".")
        ) from error
    except urllib.error.URLError as error:
        raise CbrError(f"Сервис Банка России недоступен ({url}): {error.reason}.") from error
    except (OSError, http.client.HTTPException) as error:
        raise CbrError(f"Сервис Банка России недоступен ({url}): {error}.") from error
    return parse_key_rate_xml(content)


def _fault_text(error: urllib.error.HTTPError) -> str:
    """The faultstring of the SOAP fault in an HTTP error's body, or ""."""
    try:
        root = ET.fromstring(error.read())  # noqa: S314 (see parse_key_rate_xml)
    except (ET.ParseError, OSError, http.client.HTTPException):
        return ""
    return (root.findtext(f".//{{{SOAP_NS}}}Fault/faultstring") or "").strip()


def parse_key_rate_xml(content: bytes) -> list[KeyRate]:
    """The (day, rate) rows of a KeyRateXML answer, oldest first. Raises CbrError."""
    try:
        # The answer comes from the Bank of Russia over HTTPS; Python's expat (>= 2.4.1)
        # limits entity expansion and ElementTree never loads external entities.
        root = ET.fromstring(content)  # noqa: S314
    except ET.ParseError as error:
        raise CbrError(f"Ответ сервиса Банка России — не XML: {error}.") from error
    fault = root.find(f".//{{{SOAP_NS}}}Fault")
    if fault is not None:
        text = (fault.findtext("faultstring") or "").strip()
        raise CbrError(f"Сервис Банка России вернул ошибку: {text or 'без описания'}.")
    table = next(root.iter("KeyRate"), None)  # the root itself in a bare answer
    if table is None:
        raise CbrError("В ответе сервиса Банка России нет таблицы ключевых ставок (KeyRate).")
    rates: dict[date, Decimal] = {}
    for number, row in enumerate(table.iter("KR"), start=1):
        day_text = (row.findtext("DT") or "").strip()
        rate_text = (row.findtext("Rate") or "").strip()
        try:
            day = datetime.fromisoformat(day_text).date()  # the Moscow date as written
            rate = Decimal(rate_text)
        except (ValueError, InvalidOperation):
            raise CbrError(
                f"Строка {number} ответа Банка России не разобрана: "
                f"DT={day_text!r}, Rate={rate_text!r}."
            ) from None
        if not rate.is_finite() or not Decimal(0) < rate < Decimal(100):
            raise CbrError(f"Ключевая ставка на {day:%d.%m.%Y} вне диапазона: {rate_text}.")
        if rates.setdefault(day, rate) != rate:
            raise CbrError(f"В ответе Банка России две разные ставки на {day:%d.%m.%Y}.")
    return [KeyRate(day, rate) for day, rate in sorted(rates.items())]


def rate_changes(daily: Iterable[KeyRate], *, rate_before: Decimal | None = None) -> list[KeyRate]:
    """The decisions in a daily series: each day whose rate differs from the day before.

    `rate_before` is the rate in force before the first day (the last one we know); with
    None the first day is a change too.
    """
    changes = []
    current = rate_before
    for row in sorted(daily):
        if row.rate != current:
            changes.append(row)
            current = row.rate
    return changes
