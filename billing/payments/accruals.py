"""The accrual registry out (реестр начислений, docs/formats.md §1): after the billing run,
each agent gets a file of what every open account owes, so that its cashier or app shows the
amount and asks for readings of the listed meters when the payer types the account number."""

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import PersonalAccount
from billing import selectors
from billing import services as billing_services
from billing.models import AccrualRegistry, BillingRun, PaymentAgent, Period
from meters.models import Meter, MeterReading
from meters.selectors import LATEST_FIRST
from vodokanal.common import clock
from vodokanal.common.money import ZERO

logger = logging.getLogger(__name__)

LINE_END = "\r\n"


def _field(text: str, separator: str) -> str:
    """A text field cannot carry the separator or a line break."""
    return " ".join(text.replace(separator, ",").split())


def _meters_by_account() -> dict[int, list[str]]:
    """`serial:last reading` of every working meter of open accounts, in one query; a meter
    without readings shows its initial reading."""
    last = (
        MeterReading.objects.filter(meter=OuterRef("pk"), status=MeterReading.Status.ACCEPTED)
        .order_by(*LATEST_FIRST)
        .values("value")[:1]
    )
    meters = (
        Meter.objects.filter(
            account__closed_on__isnull=True,
            state=Meter.State.WORKING,
            verification_due__gte=clock.today(),
        )
        .annotate(last_value=Coalesce(Subquery(last), F("initial_reading")))
        .order_by("account_id", "serial")
        .values_list("account_id", "serial", "digits", "last_value")
    )
    result: dict[int, list[str]] = {}
    for account_id, serial, digits, value in meters:
        # Padded to the meter's digits, as the agents print it: 00345.120
        result.setdefault(account_id, []).append(f"{serial}:{value:0{digits + 4}.3f}")
    return result


@transaction.atomic
def build_accrual_registry(*, agent: PaymentAgent, period: Period) -> AccrualRegistry:
    """Write the agent's accrual registry of a billed period, replacing the earlier file of
    the same agent and period (the old file is removed after commit).

    One line per open account: account; full name; address; period; amount due (never
    negative: 0.00 for a credit); then one `serial:last reading` field per meter. Three
    queries whatever the number of accounts. Locks the agent row: two builds for one agent
    are serialised.
    """
    if not period.runs.filter(status=BillingRun.Status.DONE).exists():
        raise ValidationError(
            "Реестр начислений за %(period)s формируется после завершённого расчёта "
            "начислений за этот период.",
            code="not_billed",
            params={"period": period},
        )
    PaymentAgent.objects.select_for_update().filter(pk=agent.pk).first()
    due = selectors.amounts_due(period=period)
    meters = _meters_by_account()
    accounts = (
        PersonalAccount.objects.filter(closed_on__isnull=True)
        .order_by("number")
        .values_list("pk", "number", "subscriber__name", "address")
    )
    separator = agent.separator
    month = period.month.strftime(agent.period_format)
    rows = []
    total = ZERO
    for pk, number, name, address in accounts:
        amount = max(due.get(pk, ZERO), ZERO)
        total += amount
        fields = [
            number,
            _field(name, separator),
            _field(address, separator),
            month,
            f"{amount:.2f}",
            *meters.get(pk, []),
        ]
        rows.append(separator.join(fields))
    content = "".join(row + LINE_END for row in rows).encode(agent.encoding, errors="replace")

    registry = AccrualRegistry.objects.filter(agent=agent, period=period).first()
    if registry is None:
        registry = AccrualRegistry(agent=agent, period=period)
    old_name = registry.file.name if registry.file else ""
    registry.file.save(f"{agent.code}-{period.month:%Y-%m}.txt", ContentFile(content), save=False)
    registry.lines = len(rows)
    registry.total = total
    registry.created_at = clock.now()
    registry.save()
    if old_name and old_name != registry.file.name:
        storage = registry.file.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return registry


def build_scheduled_accrual_registries() -> int:
    """The beat's accrual registries of the current month for every active agent, once its
    run is done (the banks' apps then show the new amounts due), after the receipts. Returns
    how many were written; none before the run."""
    period = billing_services.ensure_period(clock.today())
    if not period.runs.filter(status=BillingRun.Status.DONE).exists():
        logger.warning("scheduled accrual registries for period %s skipped: not billed", period.pk)
        return 0
    agents = PaymentAgent.objects.filter(is_active=True)
    for agent in agents:
        build_accrual_registry(agent=agent, period=period)
    return len(agents)
