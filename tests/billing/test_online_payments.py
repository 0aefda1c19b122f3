"""Online payment (docs/architecture.md §8): the YooKassa adapter against a local HTTP server
that behaves like YooKassa (pytest-httpserver), the webhook, the cabinet pages, the demo bank
and the ledger after any sequence of payments.

Debts are booked as staff adjustments (book_adjustment), so the accounts owe exactly:
    first account   1500.00 (water supply)
    second account   800.00 (sewage)
"""

import base64
import json
import logging
import random
import re
import threading
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from billing import selectors
from billing.models import LedgerEntry, OnlinePayment, Payment
from billing.payments.online import gateways
from billing.payments.online import services as online
from billing.payments.online import tasks as online_tasks
from billing.services import book_adjustment, register_payment
from tests.factories import PersonalAccountFactory, UserFactory, link, staff_user
from tests.json_strategies import SCALARS, VALUES, bodies

MOSCOW = ZoneInfo("Europe/Moscow")
SHOP_ID = "123456"
SECRET = "test_SecretKey"
BASIC = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET}".encode()).decode()
CONFIRMATION = "https://yoomoney.ru/checkout/payments/v2/contract?orderId={id}"


class FakeYooKassa:
    """Just enough of YooKassa API v3: payments created by idempotence key (the same key
    gives the same payment), fetched by id (404 for an unknown one), Basic auth checked.
    Tests move a payment on as the payer would (`pay`, `cancel`)."""

    def __init__(self, httpserver):
        self.payments: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.fetches: list[str] = []
        httpserver.expect_request("/v3/payments", method="POST").respond_with_handler(self.create)
        httpserver.expect_request(
            re.compile(r"^/v3/payments/[^/]+$"), method="GET"
        ).respond_with_handler(self.fetch)

    def create(self, request: Request) -> Response:
        if request.headers.get("Authorization") != BASIC:
            return error_response(401, "invalid_credentials")
        key = request.headers["Idempotence-Key"]
        if key not in self.by_key:
            body = request.get_json()
            payment_id = str(uuid.uuid4())
            self.by_key[key] = payment_id
            self.payments[payment_id] = payment_json(
                payment_id, "pending", body["amount"]["value"], metadata=body["metadata"]
            )
        return Response(
            json.dumps(self.payments[self.by_key[key]]), 200, mimetype="application/json"
        )

    def fetch(self, request: Request) -> Response:
        if request.headers.get("Authorization") != BASIC:
            return error_response(401, "invalid_credentials")
        payment_id = request.path.rsplit("/", 1)[1]
        self.fetches.append(payment_id)
        if payment_id not in self.payments:
            return error_response(404, "not_found")
        return Response(json.dumps(self.payments[payment_id]), 200, mimetype="application/json")

    def pay(self, payment_id: str, *, amount: str | None = None) -> None:
        payment = self.payments[payment_id]
        payment.update(status="succeeded", paid=True, captured_at="2026-11-20T06:30:00.000Z")
        if amount is not None:
            payment["amount"]["value"] = amount

    def cancel(self, payment_id: str) -> None:
        self.payments[payment_id].update(status="canceled")


def payment_json(payment_id, status, amount, *, metadata=None, captured_at=None) -> dict:
    data = {
        "id": payment_id,
        "status": status,
        "paid": status == "succeeded",
        "amount": {"value": amount, "currency": "RUB"},
        "created_at": "2026-11-20T06:00:00.000Z",
        "description": "Водоснабжение и водоотведение",
        "metadata": metadata or {},
        "recipient": {"account_id": SHOP_ID, "gateway_id": "100500"},
        "refundable": False,
        "test": True,
    }
    if status == "pending":
        data["confirmation"] = {
            "type": "redirect",
            "confirmation_url": CONFIRMATION.format(id=payment_id),
        }
    if captured_at:
        data["captured_at"] = captured_at
    return data


def error_response(status: int, code: str) -> Response:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": "..."}
    return Response(json.dumps(body), status, mimetype="application/json")


@pytest.fixture(autouse=True)
def _online_settings(settings, httpserver):
    settings.PAYMENT_GATEWAY = "yookassa"
    settings.YOOKASSA_SHOP_ID = SHOP_ID
    settings.YOOKASSA_SECRET_KEY = SECRET
    settings.YOOKASSA_API_URL = httpserver.url_for("/v3")
    settings.YOOKASSA_TIMEOUT_SECONDS = 0.5
    settings.ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS = []


@pytest.fixture
def yookassa(httpserver) -> FakeYooKassa:
    return FakeYooKassa(httpserver)


@pytest.fixture
def staff(db):
    return staff_user("accountant")


def owe(account, amount: str, staff, service: str = "water_supply") -> None:
    book_adjustment(
        account_id=account.pk,
        amount=Decimal(amount),
        reason="Доначисление по акту проверки",
        user=staff,
        service=service,
    )


@pytest.fixture
def debtor(subscriber_user, account, staff):
    owe(account, "1500.00", staff)
    return account


def return_url(row: OnlinePayment) -> str:
    return f"https://portal.example.ru/cabinet/payments/{row.idempotence_key}/"


def start(account, user, amount="1500.00", for_month=None) -> OnlinePayment:
    return online.start_online_payment(
        account=account,
        amount=Decimal(amount),
        for_month=for_month,
        user=user,
        return_url=return_url,
    )


def notify(client, payment_id, event="payment.succeeded", **extra):
    body = {
        "type": "notification",
        "event": event,
        "object": {"id": payment_id, "status": event.split(".")[1], "paid": True},
    }
    return client.post(
        reverse("online:webhook", args=["yookassa"]),
        data=json.dumps(body),
        content_type="application/json",
        **extra,
    )


def cabinet_payments(account=None):
    payments = Payment.objects.filter(source=Payment.Source.CABINET)
    return payments if account is None else payments.filter(account=account)


def ledger_payments(account) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(account=account, kind=LedgerEntry.Kind.PAYMENT)
        .order_by("pk")
        .values_list("amount", flat=True)
    )


# --- The YooKassa adapter ---


def test_yookassa_creates_a_payment_with_basic_auth_and_the_idempotence_key(httpserver):
    key = uuid.uuid4()
    expected_body = {
        "amount": {"value": "1234.50", "currency": "RUB"},
        "capture": True,
        "confirmation": {
            "type": "redirect",
            "return_url": "https://portal.example.ru/back/",
            "locale": "ru_RU",
        },
        "description": "Водоснабжение, л/с 2300000013",
        "metadata": {"account": "2300000013", "online_payment": "7"},
    }
    answer = payment_json("2ea1b3c2-000f-5000-9000-1b68e7b15f3f", "pending", "1234.50")
    httpserver.expect_oneshot_request(
        "/v3/payments",
        method="POST",
        headers={"Idempotence-Key": str(key), "Authorization": BASIC},
        json=expected_body,
    ).respond_with_json(answer)

    created = gateways.YooKassaGateway().create_payment(
        amount=Decimal("1234.50"),
        description="Водоснабжение, л/с 2300000013",
        return_url="https://portal.example.ru/back/",
        idempotence_key=key,
        metadata={"account": "2300000013", "online_payment": "7"},
    )

    httpserver.check_assertions()
    assert created == gateways.GatewayPayment(
        id="2ea1b3c2-000f-5000-9000-1b68e7b15f3f",
        status="pending",
        confirmation_url=CONFIRMATION.format(id="2ea1b3c2-000f-5000-9000-1b68e7b15f3f"),
        amount=Decimal("1234.50"),
        paid_at=None,
        metadata={},
    )


def test_yookassa_fetches_a_payment_with_its_capture_time(httpserver):
    payment_id = "2ea1b3c2-000f-5000-9000-1b68e7b15f3f"
    httpserver.expect_oneshot_request(
        f"/v3/payments/{payment_id}", method="GET", headers={"Authorization": BASIC}
    ).respond_with_json(
        payment_json(payment_id, "succeeded", "99.90", captured_at="2026-11-19T21:30:00.000Z")
    )

    fetched = gateways.YooKassaGateway().fetch_payment(payment_id)

    httpserver.check_assertions()
    assert (fetched.status, fetched.amount) == ("succeeded", Decimal("99.90"))
    assert fetched.paid_at == datetime(2026, 11, 20, 0, 30, tzinfo=MOSCOW)  # a Moscow 20th


class Slow:
    """A gateway that answers only after the adapter has given up (0.5 s). The test server
    serves one request at a time, so the answer is released as soon as the test is done."""

    def __init__(self):
        self.release = threading.Event()

    def __call__(self, request: Request) -> Response:
        self.release.wait(5)
        return Response("{}", 200, mimetype="application/json")


@pytest.fixture
def slow():
    handler = Slow()
    yield handler
    handler.release.set()


FAILURES = {
    "server error": (lambda handler: handler.respond_with_json({}, status=500), "unavailable"),
    "too many requests": (lambda handler: handler.respond_with_json({}, status=429), "unavailable"),
    "timeout": ("slow", "unavailable"),
    "not json": (lambda handler: handler.respond_with_data("<html>502</html>"), "bad_response"),
    "not a payment": (lambda handler: handler.respond_with_json({"id": 1}), "bad_response"),
    "dollars": (
        lambda handler: handler.respond_with_json(
            {
                **payment_json("a-1", "pending", "10.00"),
                "amount": {"value": "10.00", "currency": "USD"},
            }
        ),
        "bad_response",
    ),
    "no confirmation url": (
        lambda handler: handler.respond_with_json(
            {**payment_json("a-1", "pending", "10.00"), "confirmation": {}}
        ),
        "bad_response",
    ),
    "bad credentials": (
        lambda handler: handler.respond_with_response(error_response(401, "invalid_credentials")),
        "rejected",
    ),
}


@pytest.mark.parametrize(("respond", "code"), FAILURES.values(), ids=FAILURES.keys())
def test_gateway_failure_stops_the_payment_and_books_nothing(
    httpserver, slow, debtor, subscriber_user, respond, code
):
    handler = httpserver.expect_request("/v3/payments", method="POST")
    if respond == "slow":
        handler.respond_with_handler(slow)
    else:
        respond(handler)

    with pytest.raises(gateways.GatewayError) as caught:
        start(debtor, subscriber_user)

    assert caught.value.code == code
    assert str(caught.value) in (gateways.UNAVAILABLE, gateways.REJECTED)  # Russian, for the user
    row = OnlinePayment.objects.get()
    assert (row.status, row.gateway_payment_id, row.confirmation_url) == ("canceled", None, "")
    assert not Payment.objects.exists()
    assert ledger_payments(debtor) == []


def test_transient_failures_are_marked_for_retry_and_refusals_are_not(httpserver):
    httpserver.expect_oneshot_request("/v3/payments/x-1").respond_with_json({}, status=503)
    httpserver.expect_oneshot_request("/v3/payments/x-2").respond_with_response(
        error_response(404, "not_found")
    )
    gateway = gateways.YooKassaGateway()

    with pytest.raises(gateways.GatewayUnavailableError):
        gateway.fetch_payment("x-1")
    with pytest.raises(gateways.GatewayError) as caught:
        gateway.fetch_payment("x-2")

    assert caught.value.code == "not_found"
    assert not isinstance(caught.value, gateways.GatewayUnavailableError)


def test_a_payment_id_never_becomes_another_api_path(httpserver):
    with pytest.raises(gateways.GatewayError) as caught:
        gateways.YooKassaGateway().fetch_payment("../refunds")

    assert caught.value.code == "not_found"
    assert httpserver.log == []


def test_unconfigured_yookassa_refuses_without_calling_anyone(settings, httpserver):
    settings.YOOKASSA_SECRET_KEY = ""

    with pytest.raises(gateways.GatewayError) as caught:
        gateways.YooKassaGateway().fetch_payment("2ea1b3c2")

    assert caught.value.code == "not_configured"
    assert httpserver.log == []


# --- Starting a payment ---


def test_start_stores_the_gateway_payment_and_its_confirmation_url(
    yookassa, debtor, subscriber_user
):
    row = start(debtor, subscriber_user, amount="1234.5", for_month=date(2026, 10, 15))

    assert row.gateway == "yookassa"
    assert row.amount == Decimal("1234.50")
    assert row.for_month == date(2026, 10, 1)
    assert row.status == "pending"
    assert row.confirmation_url == CONFIRMATION.format(id=row.gateway_payment_id)
    sent = yookassa.payments[row.gateway_payment_id]
    assert sent["amount"] == {"value": "1234.50", "currency": "RUB"}
    assert sent["metadata"] == {"account": debtor.number, "online_payment": str(row.pk)}
    assert yookassa.by_key == {str(row.idempotence_key): row.gateway_payment_id}
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("0.00", "amount_not_positive"),
        ("-5", "amount_not_positive"),
        ("600000.01", "amount_too_large"),
    ],
)
def test_a_wrong_amount_is_refused_before_the_gateway_is_asked(
    httpserver, debtor, subscriber_user, amount, code
):
    with pytest.raises(ValidationError) as caught:
        start(debtor, subscriber_user, amount=amount)

    assert caught.value.code == code
    assert not OnlinePayment.objects.exists()
    assert httpserver.log == []


def test_a_future_month_is_refused(httpserver, debtor, subscriber_user):
    next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)

    with pytest.raises(ValidationError) as caught:
        start(debtor, subscriber_user, for_month=next_month)

    assert caught.value.code == "month_in_future"
    assert not OnlinePayment.objects.exists()


# --- The webhook ---


def test_a_valid_notification_books_the_payment_once(client, yookassa, debtor, subscriber_user):
    row = start(debtor, subscriber_user)
    yookassa.pay(row.gateway_payment_id)

    response = notify(client, row.gateway_payment_id)

    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == "succeeded"
    payment = cabinet_payments().get()
    assert row.payment == payment
    assert (payment.account, payment.amount, payment.external_id) == (
        debtor,
        Decimal("1500.00"),
        f"yookassa:{row.gateway_payment_id}",
    )
    assert payment.paid_on == date(2026, 11, 20)  # 06:30 UTC is 09:30 in Moscow
    assert ledger_payments(debtor) == [Decimal("-1500.00")]
    assert selectors.account_balance(debtor).principal == Decimal("0.00")


def test_a_replayed_notification_books_nothing_more(client, yookassa, debtor, subscriber_user):
    row = start(debtor, subscriber_user)
    yookassa.pay(row.gateway_payment_id)

    responses = [notify(client, row.gateway_payment_id) for _ in range(4)]

    assert [response.status_code for response in responses] == [200] * 4
    assert cabinet_payments().count() == 1
    assert ledger_payments(debtor) == [Decimal("-1500.00")]
    assert yookassa.fetches == [row.gateway_payment_id]  # replays of a final row ask nobody


def test_a_forged_notification_books_nothing(client, yookassa, debtor, subscriber_user):
    row = start(debtor, subscriber_user)  # the gateway still says pending

    response = notify(client, row.gateway_payment_id, event="payment.succeeded")

    assert response.status_code == 200
    assert yookassa.fetches == [row.gateway_payment_id]
    row.refresh_from_db()
    assert (row.status, row.payment) == ("pending", None)
    assert not Payment.objects.exists()
    assert ledger_payments(debtor) == []


def test_a_notification_for_an_unknown_payment_books_nothing(
    client, yookassa, debtor, subscriber_user
):
    start(debtor, subscriber_user)

    response = notify(client, "2ea1b3c2-000f-5000-9000-000000000000")

    assert response.status_code == 200
    assert response.content == b""
    assert yookassa.fetches == []
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"type": "notification", "event": "payment.succeeded"}).encode(),
        json.dumps({"event": "payment.succeeded", "object": {"id": "x-1"}}).encode(),
        json.dumps(
            {"type": "notification", "event": "payment.succeeded", "object": {"id": "../x"}}
        ).encode(),
        b'{"type": "notification", "object": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
        b"[" * 60_000,
    ],
    ids=["not json", "a list", "no object", "no type", "a path for an id", "deep", "unclosed"],
)
def test_a_malformed_notification_is_a_400_and_books_nothing(db, client, yookassa, body):
    response = client.post(
        reverse("online:webhook", args=["yookassa"]), data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert yookassa.fetches == []
    assert not Payment.objects.exists()


def test_a_paid_amount_other_than_asked_books_nothing_and_is_logged(
    client, yookassa, debtor, subscriber_user, caplog
):
    row = start(debtor, subscriber_user, amount="1500.00")
    yookassa.pay(row.gateway_payment_id, amount="15.00")

    with caplog.at_level(logging.WARNING, logger="billing.payments.online.services"):
        response = notify(client, row.gateway_payment_id)

    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.payment) == ("pending", None)
    assert not Payment.objects.exists()
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [
        f"online payment {row.pk}: the gateway says 15.00 was paid, we asked for 1500.00; "
        "not booked"
    ]


def test_a_payment_canceled_at_the_gateway_is_marked_canceled(
    client, yookassa, debtor, subscriber_user
):
    row = start(debtor, subscriber_user)
    yookassa.cancel(row.gateway_payment_id)

    assert notify(client, row.gateway_payment_id, event="payment.canceled").status_code == 200

    row.refresh_from_db()
    assert row.status == "canceled"
    assert row.finished_at is not None
    assert not Payment.objects.exists()


def test_other_events_are_taken_and_ignored(client, yookassa, debtor, subscriber_user):
    row = start(debtor, subscriber_user)
    yookassa.pay(row.gateway_payment_id)

    response = notify(client, row.gateway_payment_id, event="refund.succeeded")

    assert response.status_code == 200
    assert yookassa.fetches == []
    assert not Payment.objects.exists()


def test_when_the_gateway_cannot_be_asked_the_webhook_asks_to_repeat(
    client, httpserver, slow, yookassa, debtor, subscriber_user
):
    row = start(debtor, subscriber_user)
    yookassa.pay(row.gateway_payment_id)
    httpserver.clear_all_handlers()
    httpserver.expect_oneshot_request(re.compile("/v3/payments/.+")).respond_with_handler(slow)

    assert notify(client, row.gateway_payment_id).status_code == 503
    assert not Payment.objects.exists()
    slow.release.set()

    FakeYooKassa(httpserver).payments.update(yookassa.payments)  # the gateway is back
    assert notify(client, row.gateway_payment_id).status_code == 200
    assert cabinet_payments().count() == 1


def test_only_allowed_addresses_may_notify_when_a_list_is_set(
    settings, client, yookassa, debtor, subscriber_user
):
    settings.ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS = ["185.71.76.0/27", "77.75.156.11"]
    row = start(debtor, subscriber_user)
    yookassa.pay(row.gateway_payment_id)

    assert notify(client, row.gateway_payment_id, REMOTE_ADDR="10.0.0.7").status_code == 403
    assert yookassa.fetches == []
    assert notify(client, row.gateway_payment_id, REMOTE_ADDR="185.71.76.5").status_code == 200
    assert cabinet_payments().count() == 1


def test_the_webhook_takes_only_post_and_only_known_gateways(client):
    assert client.get(reverse("online:webhook", args=["yookassa"])).status_code == 405
    assert client.post(reverse("online:webhook", args=["paypal"])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_notifications_racing_each_other_book_once(yookassa, staff):
    user = UserFactory()
    account = PersonalAccountFactory()
    link(user, account)
    owe(account, "1500.00", staff)
    row = start(account, user)
    yookassa.pay(row.gateway_payment_id)
    barrier = threading.Barrier(4)
    errors = []

    def deliver():
        try:
            barrier.wait()
            online.confirm_online_payment(gateway_payment_id=row.gateway_payment_id)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert cabinet_payments().count() == 1
    assert ledger_payments(account) == [Decimal("-1500.00")]


# --- The ledger after any sequence of payments ---


def test_the_ledger_agrees_with_every_payment_after_a_sequence(
    client, yookassa, subscriber_user, account, staff, django_capture_on_commit_callbacks
):
    first = account
    second = PersonalAccountFactory()
    link(subscriber_user, second)
    owe(first, "1500.00", staff)
    owe(second, "800.00", staff, service="sewage")
    client.force_login(subscriber_user)

    paid_by_webhook = start(first, subscriber_user, "500.00")
    yookassa.pay(paid_by_webhook.gateway_payment_id)
    notify(client, paid_by_webhook.gateway_payment_id)
    notify(client, paid_by_webhook.gateway_payment_id)
    refused = start(first, subscriber_user, "1000.00")
    yookassa.cancel(refused.gateway_payment_id)
    notify(client, refused.gateway_payment_id, event="payment.canceled")
    notify(client, refused.gateway_payment_id)  # a forged "succeeded" after the cancel
    paid_on_return = start(second, subscriber_user, "800.00")
    yookassa.pay(paid_on_return.gateway_payment_id)
    client.get(reverse("online:status", args=[paid_on_return.idempotence_key]))
    forged = start(first, subscriber_user, "300.00")
    notify(client, forged.gateway_payment_id)
    overpaid_later = start(second, subscriber_user, "100.00")
    yookassa.pay(overpaid_later.gateway_payment_id)
    register_payment(
        account_id=first.pk,
        amount=Decimal("200.00"),
        paid_on=timezone.localdate(),
        source=Payment.Source.BANK_REGISTRY,
        external_id="SB-1",
    )
    # The beat's check finds the last one (its notification lost) and the forged one.
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later), django_capture_on_commit_callbacks() as callbacks:
        assert online.check_pending_online_payments() == 2
    assert len(callbacks) == 2
    online_tasks.confirm_online_payment(forged.gateway_payment_id)
    online_tasks.confirm_online_payment(overpaid_later.gateway_payment_id)
    notify(client, paid_by_webhook.gateway_payment_id)  # and one more replay

    statuses = dict(OnlinePayment.objects.values_list("amount", "status"))
    assert statuses == {
        Decimal("500.00"): "succeeded",
        Decimal("1000.00"): "canceled",
        Decimal("800.00"): "succeeded",
        Decimal("300.00"): "pending",
        Decimal("100.00"): "succeeded",
    }
    expected = {first: Decimal("1500.00") - 500 - 200, second: Decimal("800.00") - 800 - 100}
    for each, principal in expected.items():
        balance = selectors.account_balance(each)
        ledger = LedgerEntry.objects.filter(account=each).aggregate(total=Sum("amount"))["total"]
        assert balance.principal == principal
        assert ledger == balance.total
    for row in OnlinePayment.objects.select_related("payment__entry"):
        if row.status == "succeeded":
            assert row.payment.amount == row.amount
            assert row.payment.entry.amount == -row.amount
            assert row.payment.account_id == row.account_id
        else:
            assert row.payment is None
    assert cabinet_payments().count() == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ledger_invariant_holds_after_a_random_sequence(
    client, yookassa, subscriber_user, account, staff, seed
):
    """Random starts, payments, refusals, forged and replayed notifications, status pages and
    bank payments: every account's ledger still equals its debt minus what the gateway
    confirmed, and every confirmed payment is booked exactly once."""
    rng = random.Random(seed)
    accounts = [account, PersonalAccountFactory()]
    link(subscriber_user, accounts[1])
    for each in accounts:
        owe(each, "2000.00", staff)
    client.force_login(subscriber_user)
    rows: list[OnlinePayment] = []
    bank_paid = {each.pk: Decimal("0.00") for each in accounts}

    for step in range(60):
        action = rng.choice(["start", "pay", "cancel", "notify", "status", "bank"])
        row = rng.choice(rows) if rows else None
        if action == "start" or row is None:
            amount = Decimal(rng.randint(1, 90000)).scaleb(-2)
            rows.append(start(rng.choice(accounts), subscriber_user, str(amount)))
        elif action == "pay" and yookassa.payments[row.gateway_payment_id]["status"] == "pending":
            yookassa.pay(row.gateway_payment_id)
        elif (
            action == "cancel" and yookassa.payments[row.gateway_payment_id]["status"] == "pending"
        ):
            yookassa.cancel(row.gateway_payment_id)
        elif action == "notify":
            event = rng.choice(["payment.succeeded", "payment.canceled"])  # true or forged
            assert notify(client, row.gateway_payment_id, event=event).status_code == 200
        elif action == "status":
            client.get(reverse("online:status", args=[row.idempotence_key]))
        elif action == "bank":
            payer = rng.choice(accounts)
            register_payment(
                account_id=payer.pk,
                amount=Decimal("10.00"),
                paid_on=timezone.localdate(),
                source=Payment.Source.BANK_REGISTRY,
                external_id=f"SB-{seed}-{step}",
            )
            bank_paid[payer.pk] += Decimal("10.00")

    check_ledger(accounts, rows, yookassa, debt=Decimal("2000.00"), bank_paid=bank_paid)
    # Settle: the gateway finishes every payment, the beat's check confirms them all.
    for row in rows:
        if yookassa.payments[row.gateway_payment_id]["status"] == "pending":
            (yookassa.pay if rng.random() < 0.7 else yookassa.cancel)(row.gateway_payment_id)
        online.confirm_online_payment(gateway_payment_id=row.gateway_payment_id)
    check_ledger(accounts, rows, yookassa, debt=Decimal("2000.00"), bank_paid=bank_paid)
    assert not OnlinePayment.objects.filter(status="pending").exists()
    assert OnlinePayment.objects.filter(status="succeeded").exists()


def check_ledger(accounts, rows, yookassa, *, debt, bank_paid) -> None:
    """Each row agrees with the gateway (or still waits); each account's principal is its
    debt minus what the gateway confirmed and the bank paid; one payment per success."""
    for row in OnlinePayment.objects.select_related("payment__entry"):
        gateway_status = yookassa.payments[row.gateway_payment_id]["status"]
        assert row.status in ("pending", gateway_status)  # never ahead of the gateway
        if row.status == "succeeded":
            assert (row.payment.amount, row.payment.entry.amount) == (row.amount, -row.amount)
        else:
            assert row.payment is None
    for each in accounts:
        succeeded = OnlinePayment.objects.filter(account=each, status="succeeded")
        confirmed = succeeded.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        balance = selectors.account_balance(each)
        ledger = LedgerEntry.objects.filter(account=each).aggregate(total=Sum("amount"))["total"]
        assert balance.principal == debt - confirmed - bank_paid[each.pk]
        assert ledger == balance.total
        assert cabinet_payments(each).count() == succeeded.count()


# --- The beat's check of pending payments ---


def test_the_pending_check_books_a_payment_whose_notification_was_lost(
    yookassa, debtor, subscriber_user, django_capture_on_commit_callbacks
):
    row = start(debtor, subscriber_user)
    young = start(debtor, subscriber_user, amount="10.00")
    yookassa.pay(row.gateway_payment_id)
    OnlinePayment.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    with django_capture_on_commit_callbacks() as callbacks:
        assert online.check_pending_online_payments() == 1  # the young one waits
    assert len(callbacks) == 1
    online_tasks.confirm_online_payment(row.gateway_payment_id)  # what the worker runs
    online_tasks.confirm_online_payment(row.gateway_payment_id)  # and a redelivery

    row.refresh_from_db()
    young.refresh_from_db()
    assert (row.status, young.status) == ("succeeded", "pending")
    assert cabinet_payments().count() == 1


def test_the_pending_check_cancels_a_row_the_gateway_never_answered_for(
    httpserver, debtor, subscriber_user
):
    orphan = OnlinePayment.objects.create(
        account=debtor,
        amount=Decimal("10.00"),
        gateway="yookassa",
        idempotence_key=uuid.uuid4(),
        created_by=subscriber_user,
        created_at=timezone.now() - timedelta(hours=2),
    )

    assert online.check_pending_online_payments() == 0

    orphan.refresh_from_db()
    assert orphan.status == "canceled"
    assert httpserver.log == []


# --- The cabinet pages ---


def test_the_pay_form_offers_the_debt_with_a_decimal_comma(client, debtor, subscriber_user):
    client.force_login(subscriber_user)

    response = client.get(reverse("online:pay", args=[debtor.number]))

    assert response.status_code == 200
    assert 'value="1500,00"' in response.content.decode()
    assert response.context["form"]["amount"].label == "Сумма, ₽"


def test_the_pay_form_offers_nothing_when_nothing_is_owed_and_no_receipt_exists(
    client, account, subscriber_user
):
    client.force_login(subscriber_user)

    response = client.get(reverse("online:pay", args=[account.number]))

    assert response.context["form"]["amount"].value() is None


def test_paying_sends_the_subscriber_to_the_gateway(client, yookassa, debtor, subscriber_user):
    client.force_login(subscriber_user)

    response = client.post(reverse("online:pay", args=[debtor.number]), {"amount": "1234,50"})

    row = OnlinePayment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == CONFIRMATION.format(id=row.gateway_payment_id)
    assert (row.amount, row.created_by, row.account) == (
        Decimal("1234.50"),
        subscriber_user,
        debtor,
    )
    back = reverse("online:status", args=[row.idempotence_key])
    assert yookassa.payments[row.gateway_payment_id]["metadata"]["online_payment"] == str(row.pk)
    assert back.endswith(f"/cabinet/payments/{row.idempotence_key}/")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "больше нуля"), ("700000", "не больше"), ("сто", "числом")],
)
def test_a_wrong_amount_is_shown_on_the_form(client, debtor, subscriber_user, amount, message):
    client.force_login(subscriber_user)

    response = client.post(reverse("online:pay", args=[debtor.number]), {"amount": amount})

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["amount"])
    assert not OnlinePayment.objects.exists()


def test_a_gateway_failure_is_shown_and_nothing_is_charged(
    client, httpserver, debtor, subscriber_user
):
    httpserver.expect_request("/v3/payments").respond_with_json({}, status=500)
    client.force_login(subscriber_user)

    response = client.post(reverse("online:pay", args=[debtor.number]), {"amount": "100,00"})

    assert response.status_code == 400
    assert "Деньги не списаны" in response.content.decode()
    assert not Payment.objects.exists()


def test_another_users_account_cannot_be_paid_from_here(client, debtor, yookassa):
    stranger = UserFactory()
    client.force_login(stranger)

    assert client.get(reverse("online:pay", args=[debtor.number])).status_code == 404
    assert (
        client.post(reverse("online:pay", args=[debtor.number]), {"amount": "1"}).status_code == 404
    )
    assert not OnlinePayment.objects.exists()


def test_another_users_payment_status_is_404(client, yookassa, debtor, subscriber_user):
    row = start(debtor, subscriber_user)
    client.force_login(UserFactory())

    assert client.get(reverse("online:status", args=[row.idempotence_key])).status_code == 404
    assert yookassa.fetches == []


def test_the_status_page_asks_the_gateway_and_shows_the_payment(
    client, yookassa, debtor, subscriber_user
):
    row = start(debtor, subscriber_user)
    client.force_login(subscriber_user)
    url = reverse("online:status", args=[row.idempotence_key])

    assert "Ждём подтверждения банка" in client.get(url).content.decode()
    yookassa.pay(row.gateway_payment_id)
    page = client.get(url).content.decode()

    assert "Оплата получена" in page
    assert cabinet_payments().count() == 1


def test_pages_need_a_login(client, debtor):
    response = client.get(reverse("online:pay", args=[debtor.number]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The demo bank ---


@pytest.fixture
def demo(settings):
    settings.PAYMENT_GATEWAY = "demo"
    settings.DEMO_GATEWAY_ENABLED = True


def test_the_demo_bank_pays_end_to_end_and_books_once(client, demo, debtor, subscriber_user):
    client.force_login(subscriber_user)

    to_bank = client.post(reverse("online:pay", args=[debtor.number]), {"amount": "1000,00"})
    row = OnlinePayment.objects.get()
    bank_page = client.get(to_bank["Location"])
    back = client.post(to_bank["Location"], {"action": "pay"})
    again = client.post(to_bank["Location"], {"action": "pay"})  # a double click

    assert (row.gateway, to_bank["Location"]) == ("demo", f"/demo-bank/{row.gateway_payment_id}/")
    assert "Демонстрационный банк — деньги не списываются" in bank_page.content.decode()
    assert back["Location"] == f"http://testserver/cabinet/payments/{row.idempotence_key}/"
    assert again.status_code == 302
    assert "Оплата получена" in client.get(back["Location"]).content.decode()
    assert cabinet_payments().get().amount == Decimal("1000.00")
    assert selectors.account_balance(debtor).principal == Decimal("500.00")


def test_refusing_at_the_demo_bank_cancels_the_payment(client, demo, debtor, subscriber_user):
    client.force_login(subscriber_user)
    to_bank = client.post(reverse("online:pay", args=[debtor.number]), {"amount": "1000,00"})

    back = client.post(to_bank["Location"], {"action": "refuse"})

    assert "Оплата не прошла" in client.get(back["Location"]).content.decode()
    assert OnlinePayment.objects.get().status == "canceled"
    assert not Payment.objects.exists()


def test_the_demo_is_off_without_debug_or_the_setting(settings, client, debtor, subscriber_user):
    settings.DEBUG = False
    if hasattr(settings, "DEMO_GATEWAY_ENABLED"):
        del settings.DEMO_GATEWAY_ENABLED
    settings.PAYMENT_GATEWAY = "demo"

    assert client.get("/demo-bank/demo-1b2c/").status_code == 404
    assert client.post(reverse("online:webhook", args=["demo"]), data={}).status_code == 404
    with pytest.raises(gateways.GatewayError) as caught:
        gateways.get_gateway()
    assert caught.value.code == "disabled"
    client.force_login(subscriber_user)
    response = client.post(reverse("online:pay", args=[debtor.number]), {"amount": "100,00"})
    assert "Онлайн-оплата сейчас недоступна" in response.content.decode()
    assert not OnlinePayment.objects.exists()


def test_the_demo_is_on_in_debug_without_the_setting(settings):
    settings.DEBUG = True
    if hasattr(settings, "DEMO_GATEWAY_ENABLED"):
        del settings.DEMO_GATEWAY_ENABLED

    assert gateways.demo_enabled()


def test_an_unknown_demo_payment_is_404(client, demo):
    assert client.get("/demo-bank/demo-unknown/").status_code == 404
    assert client.post("/demo-bank/demo-unknown/", {"action": "pay"}).status_code == 404


# --- The admin ---


def test_the_admin_shows_online_payments_read_only(rf, staff):
    from django.contrib import admin

    from billing.payments.online import admin as online_admin

    model_admin = admin.site._registry[OnlinePayment]
    request = rf.get("/")
    request.user = staff

    assert isinstance(model_admin, online_admin.OnlinePaymentAdmin)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "=account__number" in model_admin.search_fields


# --- Fuzzing the webhook (docs/architecture.md §8; docs/formats.md §9) ---

NOTIFICATION_LIKE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["notification", "Notification", ""]) | SCALARS,
        "event": st.sampled_from([*online.EVENTS, "refund.succeeded"]) | SCALARS,
        "object": st.fixed_dictionaries({"id": st.uuids().map(str) | SCALARS}) | VALUES,
    }
)


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies(NOTIFICATION_LIKE))
def test_any_body_to_the_webhook_is_taken_or_refused_and_books_nothing(db, client, yookassa, body):
    response = client.post(
        reverse("online:webhook", args=["yookassa"]), data=body, content_type="application/json"
    )

    assert response.status_code in (200, 400)
    assert not Payment.objects.exists()  # no payment was started: nothing can be booked
