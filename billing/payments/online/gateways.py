"""Online payment gateways (acquirers): one small interface, YooKassa over HTTP, the demo bank.

A gateway creates a payment and tells us where to send the payer (`confirmation_url`); later
we ask it what became of the payment. Nothing a payer's browser or a notification says is
trusted: billing.payments.online.services books a payment only after `fetch_payment` has said "succeeded".

YooKassa API v3 (https://yookassa.ru/developers/using-api/basics): HTTP Basic auth with the
shop id and the secret key; `POST /payments` with an `Idempotence-Key` header creates a
payment (the same key returns the same payment for 24 hours, so a retry cannot create two);
`GET /payments/{id}` returns it. Statuses: pending, waiting_for_capture (two-stage payments,
which we never ask for: capture is true), succeeded, canceled. Amounts travel as strings,
"100.00", and are parsed straight to Decimal.

The demo gateway plays the bank for `make run`: its payments live in the cache and its
confirmation page (billing.payments.online.views.demo_bank) pays or refuses them. It is refused
unless DEBUG is on or DEMO_GATEWAY_ENABLED says so.

Settings (read with defaults here; see docs/architecture.md §8):
    PAYMENT_GATEWAY             "yookassa" | "demo" (default: "demo" when the demo is on)
    YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY
    YOOKASSA_API_URL            default https://api.yookassa.ru/v3
    YOOKASSA_TIMEOUT_SECONDS    default 10 (per connect and per read)
    DEMO_GATEWAY_ENABLED        default DEBUG
    ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS   networks notifications may come from; empty: any
"""

import base64
import http.client
import ipaddress
import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from vodokanal.common import clock
from vodokanal.common.money import to_kopecks

logger = logging.getLogger(__name__)

DEFAULT_YOOKASSA_API_URL = "https://api.yookassa.ru/v3"
DEFAULT_TIMEOUT_SECONDS = 10.0
CURRENCY = "RUB"
STATUSES = ("pending", "waiting_for_capture", "succeeded", "canceled")
# Gateways' payment ids are UUID-like; anything else (a slash, "..") never reaches a URL path.
PAYMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DESCRIPTION_MAX = 128  # YooKassa's limit

UNAVAILABLE = "Платёжный сервис сейчас недоступен. Попробуйте позже."
REJECTED = "Платёжный сервис отклонил запрос. Попробуйте позже или выберите другой способ оплаты."
NOT_FOUND = "Платёж не найден в платёжном сервисе."
DISABLED = "Онлайн-оплата сейчас недоступна. Воспользуйтесь другим способом оплаты."


class GatewayError(Exception):
    """The gateway refused or did not answer. str() is a Russian message for the user;
    `code` (English) is what logs and tests look at. Nothing has been booked."""

    def __init__(self, code: str, message: str = UNAVAILABLE) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GatewayUnavailableError(GatewayError):
    """A transient failure (network, timeout, 429/5xx, an answer we cannot read): worth
    asking again later with the same idempotence key or payment id."""


@dataclass(frozen=True)
class GatewayPayment:
    """A payment as the gateway itself reports it."""

    id: str
    status: str  # one of STATUSES
    confirmation_url: str  # where to send the payer; "" once the payment is final
    amount: Decimal
    paid_at: datetime | None = None  # aware; set when succeeded
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def canceled(self) -> bool:
        return self.status == "canceled"


class PaymentGateway(Protocol):
    name: str

    def create_payment(
        self,
        *,
        amount: Decimal,
        description: str,
        return_url: str,
        idempotence_key: uuid.UUID,
        metadata: Mapping[str, str],
    ) -> GatewayPayment:
        """Create a payment the payer confirms at `confirmation_url`. The same key gives
        the same payment back. Raises GatewayError."""
        ...

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        """The payment's current state from the gateway. Raises GatewayError (code
        "not_found" for an id it does not know)."""
        ...


# --- YooKassa ---


class YooKassaGateway:
    """YooKassa API v3 over urllib (no extra dependency): Basic auth, JSON, timeouts."""

    name = "yookassa"

    def __init__(
        self,
        *,
        shop_id: str | None = None,
        secret_key: str | None = None,
        api_url: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.shop_id = str(shop_id or getattr(settings, "YOOKASSA_SHOP_ID", "") or "")
        self.secret_key = secret_key or getattr(settings, "YOOKASSA_SECRET_KEY", "") or ""
        self.api_url = (
            api_url or getattr(settings, "YOOKASSA_API_URL", "") or DEFAULT_YOOKASSA_API_URL
        ).rstrip("/")
        self.timeout = float(
            timeout or getattr(settings, "YOOKASSA_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        )

    def create_payment(
        self,
        *,
        amount: Decimal,
        description: str,
        return_url: str,
        idempotence_key: uuid.UUID,
        metadata: Mapping[str, str],
    ) -> GatewayPayment:
        body = {
            "amount": {"value": str(to_kopecks(amount)), "currency": CURRENCY},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url, "locale": "ru_RU"},
            "description": description[:DESCRIPTION_MAX],
            "metadata": {key: str(value) for key, value in metadata.items()},
        }
        payment = _parse_payment(
            self._request("POST", "/payments", body=body, idempotence_key=str(idempotence_key))
        )
        if payment.status == "pending" and not payment.confirmation_url.startswith("https://"):
            logger.error("yookassa payment %s came without a confirmation url", payment.id)
            raise GatewayUnavailableError("bad_response")
        return payment

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        if not PAYMENT_ID.fullmatch(payment_id):
            raise GatewayError("not_found", NOT_FOUND)
        payment = _parse_payment(self._request("GET", f"/payments/{payment_id}"))
        if payment.id != payment_id:
            logger.error("yookassa answered payment %s for %s", payment.id, payment_id)
            raise GatewayUnavailableError("bad_response")
        return payment

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        idempotence_key: str | None = None,
    ) -> Any:
        """One API call: the parsed JSON answer, or GatewayError. Never logs the key."""
        if not (self.shop_id and self.secret_key):
            logger.error("yookassa: YOOKASSA_SHOP_ID / YOOKASSA_SECRET_KEY are not set")
            raise GatewayError("not_configured", DISABLED)
        url = self.api_url + path
        if not url.startswith(("https://", "http://")):
            logger.error("yookassa: YOOKASSA_API_URL must be an http(s) URL")
            raise GatewayError("not_configured", DISABLED)
        credentials = base64.b64encode(f"{self.shop_id}:{self.secret_key}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if idempotence_key is not None:
            headers["Idempotence-Key"] = idempotence_key
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                content: bytes = response.read()
        except urllib.error.HTTPError as error:
            raise _http_error(error, method=method, path=path) from error
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
            logger.warning("yookassa %s %s failed: %s", method, path, type(error).__name__)
            raise GatewayUnavailableError("unavailable") from error
        try:
            return json.loads(content, parse_float=Decimal)  # no float on the money path
        except (ValueError, UnicodeDecodeError) as error:
            logger.warning("yookassa %s %s: the answer is not JSON", method, path)
            raise GatewayUnavailableError("bad_response") from error


def _http_error(error: urllib.error.HTTPError, *, method: str, path: str) -> GatewayError:
    """YooKassa's error object {"type": "error", "code": ..., "description": ...} as ours:
    404 is an unknown payment, 429 and 5xx are worth retrying, the rest are refusals."""
    try:
        detail = json.loads(error.read()).get("code", "")
    except (ValueError, AttributeError, OSError, http.client.HTTPException):
        detail = ""
    logger.warning("yookassa %s %s: HTTP %s %s", method, path, error.code, detail)
    if error.code == 404:
        return GatewayError("not_found", NOT_FOUND)
    if error.code == 429 or error.code >= 500:
        return GatewayUnavailableError("unavailable")
    return GatewayError("rejected", REJECTED)


def _parse_payment(data: Any) -> GatewayPayment:
    """A YooKassa payment object, checked: a known status, roubles, a positive amount."""
    try:
        payment_id = data["id"]
        status = data["status"]
        currency = data["amount"]["currency"]
        amount = Decimal(str(data["amount"]["value"]))
        confirmation = data.get("confirmation") or {}
        confirmation_url = confirmation.get("confirmation_url", "") or ""
        captured_at = data.get("captured_at") or None
        metadata = data.get("metadata") or {}
    except (KeyError, TypeError, AttributeError, InvalidOperation):
        logger.warning("yookassa: a payment object without id, status or amount")
        raise GatewayUnavailableError("bad_response") from None
    if not (
        isinstance(payment_id, str)
        and PAYMENT_ID.fullmatch(payment_id)
        and status in STATUSES
        and currency == CURRENCY
        and amount.is_finite()
        and amount > 0
        and isinstance(confirmation_url, str)
        and isinstance(metadata, dict)
    ):
        logger.warning("yookassa: a payment object that does not make sense")
        raise GatewayUnavailableError("bad_response")
    return GatewayPayment(
        id=payment_id,
        status=status,
        confirmation_url=confirmation_url,
        amount=amount,
        paid_at=_parse_time(captured_at) if status == "succeeded" else None,
        metadata={str(key): str(value) for key, value in metadata.items()},
    )


def _parse_time(value: Any) -> datetime:
    """ISO 8601 with a zone ("2026-11-20T09:00:00.123Z"); now when missing or unreadable
    (the day of payment is then the day we learnt of it)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if timezone.is_aware(moment):
                return moment
    return clock.now()


# --- The demo bank ---


def demo_enabled() -> bool:
    """The demo bank exists only in development or where a setting explicitly allows it."""
    return bool(getattr(settings, "DEMO_GATEWAY_ENABLED", settings.DEBUG))


class DemoGateway:
    """A bank that takes no money, for `make run`. Payments live in the cache (shared by the
    web server and the worker) for a week; the demo bank page pays or refuses them."""

    name = "demo"
    TTL_SECONDS: ClassVar[int] = 7 * 24 * 3600

    def __init__(self) -> None:
        if not demo_enabled():
            raise GatewayError("disabled", DISABLED)

    def create_payment(
        self,
        *,
        amount: Decimal,
        description: str,
        return_url: str,
        idempotence_key: uuid.UUID,
        metadata: Mapping[str, str],
    ) -> GatewayPayment:
        key = f"demo-bank:key:{idempotence_key}"
        payment_id = f"demo-{uuid.uuid4()}"
        if not cache.add(key, payment_id, self.TTL_SECONDS):  # the same key: the same payment
            return self.fetch_payment(cache.get(key))
        record = {
            "id": payment_id,
            "status": "pending",
            "amount": str(to_kopecks(amount)),
            "description": description[:DESCRIPTION_MAX],
            "return_url": return_url,
            "metadata": {key: str(value) for key, value in metadata.items()},
            "paid_at": None,
        }
        cache.set(self._key(payment_id), record, self.TTL_SECONDS)
        return self._payment(record)

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        record = self.record(payment_id)
        if record is None:
            raise GatewayError("not_found", NOT_FOUND)
        return self._payment(record)

    # The bank's side: only the demo bank page calls these.

    def record(self, payment_id: str) -> dict[str, Any] | None:
        if not isinstance(payment_id, str) or not PAYMENT_ID.fullmatch(payment_id):
            return None
        return cache.get(self._key(payment_id))

    def finish(self, payment_id: str, *, paid: bool) -> dict[str, Any]:
        """The payer pressed "Оплатить" or "Отказаться": a pending payment becomes final;
        a final one stays as it is."""
        record = self.record(payment_id)
        if record is None:
            raise GatewayError("not_found", NOT_FOUND)
        if record["status"] == "pending":
            record["status"] = "succeeded" if paid else "canceled"
            record["paid_at"] = clock.now().isoformat() if paid else None
            cache.set(self._key(payment_id), record, self.TTL_SECONDS)
        return record

    @staticmethod
    def _key(payment_id: str) -> str:
        return f"demo-bank:payment:{payment_id}"

    @staticmethod
    def _payment(record: dict[str, Any]) -> GatewayPayment:
        pending = record["status"] == "pending"
        return GatewayPayment(
            id=record["id"],
            status=record["status"],
            confirmation_url=reverse("online:demo-bank", args=[record["id"]]) if pending else "",
            amount=Decimal(record["amount"]),
            paid_at=datetime.fromisoformat(record["paid_at"]) if record["paid_at"] else None,
            metadata=record["metadata"],
        )


# --- Choosing one ---

GATEWAYS: dict[str, type[YooKassaGateway] | type[DemoGateway]] = {
    YooKassaGateway.name: YooKassaGateway,
    DemoGateway.name: DemoGateway,
}


def gateway_named(name: str) -> PaymentGateway:
    """The gateway a payment was made through (payments keep the name they started with).
    Raises GatewayError for an unknown name or the demo where it is off."""
    gateway_class = GATEWAYS.get(name)
    if gateway_class is None:
        raise GatewayError("unknown_gateway", DISABLED)
    return gateway_class()


def get_gateway() -> PaymentGateway:
    """The gateway new payments go through: PAYMENT_GATEWAY, else the demo where it is on
    and YooKassa elsewhere."""
    name = getattr(settings, "PAYMENT_GATEWAY", "") or (
        DemoGateway.name if demo_enabled() else YooKassaGateway.name
    )
    return gateway_named(name)


def gateway_is_available(name: str) -> bool:
    """Whether notifications for `name` are taken at all (the webhook's 404 otherwise)."""
    return name in GATEWAYS and (name != DemoGateway.name or demo_enabled())


def webhook_ip_allowed(address: str) -> bool:
    """ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS: addresses or networks notifications may come
    from (YooKassa publishes its list); unset or empty: any. A defence in depth only: the
    status is always fetched from the API before anything is booked."""
    allowed = getattr(settings, "ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS", None) or []
    if not allowed:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in allowed)
