"""Reads of accounts: ownership is part of every query (docs/architecture.md §10)."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import PersonalAccount, User


def accounts_of_user(user: User | AnonymousUser) -> QuerySet[PersonalAccount]:
    """The only way a view reaches accounts: a foreign account and a missing one both end
    as the same 404."""
    if not user.is_authenticated:
        return PersonalAccount.objects.none()
    return (
        PersonalAccount.objects.filter(links__user=user, links__confirmed_at__isnull=False)
        .select_related("subscriber")
        .order_by("number")
    )


def account_by_number(number: str) -> PersonalAccount | None:
    """For channels without a logged-in user (phone line, registries): open or closed."""
    return PersonalAccount.objects.select_related("subscriber").filter(number=number).first()
