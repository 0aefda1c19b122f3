"""Demo debt collection (docs/architecture.md §9): cases opened from the demo ledger, this month's notices,
a claim to an organisation, a warning to a person, and the published lists.

Idempotent: once a case exists, nothing is added. Documents are queued for the worker.
"""

from datetime import date

from django.core.exceptions import ValidationError

from accounts.models import Subscriber
from billing import services as billing_services
from debtors import lists, services
from debtors.models import DebtCase


def seed_demo_debtors(*, today: date) -> int:
    """Debt cases and documents as on `today`; 0 on a rerun."""
    if DebtCase.objects.exists():
        return 0
    services.update_cases(on=today)
    period = billing_services.ensure_period(today)
    cases = list(DebtCase.objects.select_related("account__subscriber").order_by("-debt"))
    for case in cases:
        services.send_notice(case_id=case.pk, period=period, on=today)
    organisations = [c for c in cases if c.account.subscriber.kind != Subscriber.Kind.INDIVIDUAL]
    people = [c for c in cases if c.account.subscriber.kind == Subscriber.Kind.INDIVIDUAL]
    for case in organisations[:2]:
        services.send_claim(case_id=case.pk, on=today)
    for case in people[:5]:
        try:
            services.warn_restriction(case_id=case.pk, on=today)
        except ValidationError:
            continue  # not over two months at the norm: no warning is allowed
    lists.publish_lists(on=today)
    return len(cases)
