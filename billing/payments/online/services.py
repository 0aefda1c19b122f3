"""Online payment from the cabinet (docs/architecture.md §8): start a payment at the
gateway, and book it once the gateway itself says it succeeded.

The flow: the subscriber names an amount (and perhaps a month); `start_online_payment`
stores an OnlinePayment with a fresh idempotence key, asks the gateway for a payment and
returns the row whose `confirmation_url` the browser is sent to. The gateway then notifies
our webhook (`handle_notification`), sends the payer back to the status page, and a beat job
looks at payments still pending (`check_pending_online_payments`). All three end in
`confirm_online_payment`, which never trusts what it was told: it fetches the payment from
the gateway's API and books only a "succeeded" payment of exactly the stored amount.

Booking happens once. The OnlinePayment row is locked and re-read before booking, so two
notifications racing book one payment; `register_payment` is idempotent per (source,
external_id) as a second guard. No row is locked while we talk to the gateway.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import PersonalAccount, User
from billing import selectors, services
from billing.models import OnlinePayment, Payment
from billing.payments.online import gateways
from billing.payments.online import tasks as online_tasks
from vodokanal.common import clock, json_safe
from vodokanal.common.amount_words import format_rub
from vodokanal.common.money import ZERO, to_kopecks
from vodokanal.common.months import month_start

logger = logging.getLogger(__name__)

# Larger sums go by bank transfer; a typo of three extra zeros should not reach the bank.
DEFAULT_MAX_AMOUNT = "600000.00"
# The beat job looks at pending payments this old at least (the webhook usually comes
# first) and at most (YooKassa cancels a payment nobody confirmed long before).
CHECK_AFTER = timedelta(minutes=5)
CHECK_WITHIN = timedelta(days=3)
# A row the gateway never answered for (the process died mid-request): nobody got a
# confirmation URL for it, so nobody can have paid it.
ORPHAN_AFTER = timedelta(hours=1)
EVENTS = ("payment.succeeded", "payment.canceled", "payment.waiting_for_capture")


def max_amount() -> Decimal:
    return Decimal(str(getattr(settings, "ONLINE_PAYMENT_MAX_AMOUNT", DEFAULT_MAX_AMOUNT)))


def suggested_amount(account: PersonalAccount) -> Decimal | None:
    """What the pay form offers: the debt on today («Задолженность на …», the figure the page
    shows above the form); None when nothing is owed."""
    principal = selectors.account_balance(account, on=clock.today()).principal
    return principal if principal > ZERO else None


def start_online_payment(
    *,
    account: PersonalAccount,
    amount: Decimal,
    for_month: date | None,
    user: User,
    return_url: Callable[[OnlinePayment], str],
) -> OnlinePayment:
    """Create a payment at the gateway; the caller sends the payer to its confirmation_url.

    `return_url(online_payment)` is the absolute URL the gateway sends the payer back to.
    The row is committed before the gateway is called and updated after it answers: the
    HTTP call runs outside any transaction and holds no lock (call this from a view, never
    inside transaction.atomic). A gateway error marks the row canceled (no confirmation URL
    ever left us, so nothing can be paid) and is raised as GatewayError with its Russian
    message. A wrong amount or month raises ValidationError; nothing is written then.
    """
    amount = to_kopecks(amount)
    if amount <= ZERO:
        raise ValidationError("Сумма платежа должна быть больше нуля.", code="amount_not_positive")
    if amount > max_amount():
        raise ValidationError(
            "Онлайн можно оплатить не больше %(max)s за раз. Большую сумму оплатите "
            "по реквизитам в банке.",
            code="amount_too_large",
            params={"max": format_rub(max_amount())},
        )
    if for_month is not None:
        for_month = month_start(for_month)
        if for_month > month_start(clock.today()):
            raise ValidationError(
                "Нельзя оплатить месяц, который ещё не наступил.", code="month_in_future"
            )
    gateway = gateways.get_gateway()
    online = OnlinePayment.objects.create(
        account=account,
        amount=amount,
        for_month=for_month,
        gateway=gateway.name,
        idempotence_key=uuid.uuid4(),
        created_by=user,
    )
    description = f"Водоснабжение и водоотведение, л/с {account.number}"
    if for_month is not None:
        description += f", за {for_month:%m.%Y}"
    try:
        created = gateway.create_payment(
            amount=amount,
            description=description,
            return_url=return_url(online),
            idempotence_key=online.idempotence_key,
            metadata={"account": account.number, "online_payment": str(online.pk)},
        )
    except gateways.GatewayError as error:
        logger.warning(
            "online payment %s not created at %s: %s", online.pk, gateway.name, error.code
        )
        online.status = OnlinePayment.Status.CANCELED
        online.finished_at = clock.now()
        online.save(update_fields=["status", "finished_at"])
        raise
    online.gateway_payment_id = created.id
    online.confirmation_url = created.confirmation_url
    online.save(update_fields=["gateway_payment_id", "confirmation_url"])
    logger.info("online payment %s created at %s as %s", online.pk, gateway.name, created.id)
    return online


def confirm_online_payment(
    *, gateway_payment_id: str, gateway: str | None = None
) -> OnlinePayment | None:
    """Find out from the gateway what became of a payment, and book it if it succeeded.

    Returns the row, or None for an id we never created (through `gateway`, when named):
    nothing is fetched or written then. A final row is returned as it is, without asking
    the gateway again, so replays cost nothing. "succeeded" with the stored amount books
    the payment (register_payment, dated the day it was captured, Moscow) in one
    transaction that locks the row first; another amount books nothing and is logged as an
    error for staff. "canceled" marks the row canceled. Raises GatewayError when the
    gateway cannot be asked (the caller retries later).
    """
    rows = OnlinePayment.objects.filter(gateway_payment_id=gateway_payment_id)
    if gateway is not None:
        rows = rows.filter(gateway=gateway)
    online = rows.first()
    if online is None:
        logger.warning("online payment confirmation for an unknown id at %s", gateway)
        return None
    if online.status != OnlinePayment.Status.PENDING:
        return online
    fetched = gateways.gateway_named(online.gateway).fetch_payment(gateway_payment_id)
    if fetched.succeeded:
        if fetched.amount != online.amount:
            logger.error(
                "online payment %s: the gateway says %s was paid, we asked for %s; not booked",
                online.pk,
                fetched.amount,
                online.amount,
            )
            return online
        return _book(online_id=online.pk, fetched=fetched)
    if fetched.canceled:
        return _cancel(online_id=online.pk)
    return online


@transaction.atomic
def _book(*, online_id: int, fetched: gateways.GatewayPayment) -> OnlinePayment:
    online = OnlinePayment.objects.select_for_update().get(pk=online_id)
    if online.status != OnlinePayment.Status.PENDING:  # another notification won the race
        return online
    paid_at = fetched.paid_at or clock.now()
    online.payment = services.register_payment(
        account_id=online.account_id,
        amount=online.amount,
        paid_on=timezone.localdate(paid_at),
        source=Payment.Source.CABINET,
        external_id=f"{online.gateway}:{online.gateway_payment_id}",
        for_month=online.for_month,
        user=online.created_by,
    )
    online.status = OnlinePayment.Status.SUCCEEDED
    online.finished_at = clock.now()
    online.save(update_fields=["payment", "status", "finished_at"])
    logger.info("online payment %s booked as payment %s", online.pk, online.payment.pk)
    return online


@transaction.atomic
def _cancel(*, online_id: int) -> OnlinePayment:
    online = OnlinePayment.objects.select_for_update().get(pk=online_id)
    if online.status == OnlinePayment.Status.PENDING:
        online.status = OnlinePayment.Status.CANCELED
        online.finished_at = clock.now()
        online.save(update_fields=["status", "finished_at"])
        logger.info("online payment %s canceled at the gateway", online.pk)
    return online


def handle_notification(*, gateway: str, body: bytes) -> OnlinePayment | None:
    """A gateway's notification (YooKassa: {"type": "notification", "event":
    "payment.succeeded", "object": {"id": ...}}): only the id is taken from it, then
    confirm_online_payment asks the gateway. Events other than a payment's are ignored.

    Raises ValidationError (code "bad_notification") for a body that is not a notification;
    GatewayError when the gateway cannot be asked.
    """
    try:
        data = json_safe.loads(body)
    except json_safe.RefusedJSONError:  # not UTF-8, nested too deep (a RecursionError), not JSON
        data = None
    event = data.get("event") if isinstance(data, dict) else None
    payment = data.get("object") if isinstance(data, dict) else None
    payment_id = payment.get("id") if isinstance(payment, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "notification"
        or not isinstance(event, str)
        or not isinstance(payment_id, str)
        or not gateways.PAYMENT_ID.fullmatch(payment_id)
    ):
        raise ValidationError("Это не уведомление платёжного сервиса.", code="bad_notification")
    if event not in EVENTS:
        return None
    return confirm_online_payment(gateway_payment_id=payment_id, gateway=gateway)


def check_pending_online_payments() -> int:
    """The beat's look at payments still pending (a lost notification, a payer who closed
    the tab): one confirmation task per payment created between CHECK_WITHIN and CHECK_AFTER
    ago. Rows the gateway never answered for are canceled. Returns the number queued.
    Safe to run twice: confirmation is idempotent."""
    now = clock.now()
    pending = OnlinePayment.objects.filter(status=OnlinePayment.Status.PENDING)
    orphans = pending.filter(gateway_payment_id__isnull=True, created_at__lt=now - ORPHAN_AFTER)
    for online_id in orphans.values_list("pk", flat=True):
        _cancel(online_id=online_id)
    ids = list(
        pending.filter(
            gateway_payment_id__isnull=False,
            created_at__gte=now - CHECK_WITHIN,
            created_at__lte=now - CHECK_AFTER,
        )
        .order_by("created_at")
        .values_list("gateway_payment_id", flat=True)
    )
    for gateway_payment_id in ids:
        online_tasks.confirm_online_payment.delay_on_commit(gateway_payment_id)
    if ids:
        logger.info("queued %s pending online payment checks", len(ids))
    return len(ids)
